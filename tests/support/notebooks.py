"""A notebook shaped like a report, with the hostile title, the long table and the chart the export
tests need."""
from __future__ import annotations

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

TITLE = "<script>alert(1)</script> & „Szkoła”"
TITLE_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt; &amp; „Szkoła”"
DIACRITICS = "ąćęłńóśźż"
ROWS = 300
HEADER_CELL = "Nazwa placówki"
SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="160" viewBox="0 0 400 160">'
    '<rect width="400" height="160" fill="#e8edf3"/><rect x="20" y="30" width="120" height="120" '
    'fill="#17426b"/></svg>'
)


SVG_ALT = "Liczba placówek: 42 w powiecie, 31 uczestniczy"
SECRETS = ("SECRET_PARAM", "SECRET_CODE", "SECRET_WARNING", "SECRET_STDOUT", "SECRET_TEXT_REPR")


def _row(i: int) -> str:
    return (f'<tr><th scope="row">Szkoła nr {i} w Łącku</th><td>gimnazjum</td>'
            f'<td class="zpb-num">{i % 35},{i % 10}</td></tr>')


def _table(rows: int) -> str:
    body = "".join(_row(i) for i in range(1, rows + 1))
    return (f'<table class="zpb-table"><caption>Placówki w powiecie</caption><thead><tr>'
            f'<th scope="col">{HEADER_CELL}</th><th scope="col">Typ</th>'
            f'<th scope="col" class="zpb-num">Punkty</th></tr></thead><tbody>{body}</tbody></table>')


def make_notebook(title: str = TITLE, lang: str = "pl", rows: int = ROWS) -> nbformat.NotebookNode:
    """A report-shaped executed notebook: every kind of output the template must show or hide."""
    nb = new_notebook()
    nb.metadata["zpb"] = {"title": title, "lang": lang}
    params = new_code_cell("SECRET_PARAM = '2017/2018'  # edition",
                           metadata={"tags": ["parameters"]})
    text = new_markdown_cell(f"# Raport powiatu bocheńskiego\n\nZażółć gęślą jaźń — {DIACRITICS}.")
    banner = new_code_cell("banner()", outputs=[new_output("display_data", data={
        "text/html": '<div class="zpb-banner" data-short="Dane syntetyczne">Dane syntetyczne '
                     '(demonstracyjne)</div>'})])
    chart = new_code_cell("SECRET_CODE_chart()", outputs=[
        new_output("stream", name="stderr", text="lib.py:3: UserWarning: SECRET_WARNING\n"),
        new_output("display_data", metadata={"alt": SVG_ALT},
                   data={"image/svg+xml": SVG, "text/plain": "<Figure SECRET_TEXT_REPR>"}),
    ])
    table = new_code_cell("SECRET_CODE_table()", execution_count=4, outputs=[
        new_output("execute_result", execution_count=4,
                   data={"text/html": _table(rows), "text/plain": "SECRET_TEXT_REPR"})])
    printed = new_code_cell("print('SECRET_STDOUT')", outputs=[
        new_output("stream", name="stdout", text="SECRET_STDOUT\n")])
    method = new_code_cell("SECRET_CODE_md()", outputs=[new_output("display_data", data={
        "text/markdown": "**Metodologia.** Przedziały Wilsona 95%.", "text/plain": "SECRET_TEXT_REPR"})])
    nb.cells = [params, text, banner, chart, table, printed, method]
    nbformat.validate(nb)
    return nb
