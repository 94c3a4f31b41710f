"""Survey exports in: each accepted format is built as a real file with its writer library, imported
into a copy of the small demo database, and the figures computed from the stored rows are compared
with what the test put in. Every bad input is refused with a message naming file, row and column,
and leaves the database content hash unchanged."""
from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl.utils import get_column_letter
from support.ingest import refused
from support.surveys import (
    BY_RSPO,
    EDITION,
    EMAILS,
    NAMED_PLACES,
    NAMES,
    answers,
    cell,
    expected_counts,
    free_target,
    ingest,
    observed_counts,
    question_header,
    stored,
    write_excel_csv,
    write_google_csv,
    write_msforms_xlsx,
)

from zpb_lib import store
from zpb_lib.cli import main
from zpb_lib.core.text import header_keys, norm
from zpb_lib.ingest.forms import form_html
from zpb_lib.ingest.survey import plan_columns

pytestmark = pytest.mark.both_backends


# --------------------------------------------------------------------------- building real files


# --------------------------------------------------------------------------- helpers

# --------------------------------------------------------------------------- accepted formats

def test_google_forms_csv(con, ref, tmp_path):
    rows = answers(ref, "students", 120, seed=3)
    path = write_google_csv(tmp_path / "Ankieta uczniów (odpowiedzi).csv", ref, "students", rows)
    inst = free_target(con)
    res = ingest(con, path, inst)
    assert res.file.format.startswith("Google Forms CSV")
    assert res.file.personal == ["Adres e-mail"] and res.file.metadata == ["Sygnatura czasowa"]
    assert observed_counts(con, res.import_id) == expected_counts(rows)
    imp = con.execute("SELECT kind, file_name, rows FROM imports WHERE id = ?", (res.import_id,)).fetchone()
    assert imp == ("survey", path.name, 120)
    assert con.execute("SELECT DISTINCT i.rspo, edition, grp, wave FROM survey_responses r JOIN institutions i "
                       "ON i.id = r.institution_id WHERE r.import_id = ?",
                       (res.import_id,)).fetchall() == [(inst, EDITION, "students", "baseline")]
    # Items of other groups' questionnaires only stay empty.
    assert "ignored as personal data (never stored): „Adres e-mail”" in "\n".join(res.lines())


def test_microsoft_forms_xlsx_in_english(con, ref, tmp_path):
    rows = answers(ref, "parents", 80, seed=4)
    path = write_msforms_xlsx(tmp_path / "Parents survey.xlsx", ref, "parents", rows, lang="en")
    res = ingest(con, path, free_target(con), group="parents", wave="follow-up")
    assert res.file.format.startswith("Microsoft Forms XLSX")
    assert sorted(res.file.personal) == ["Email", "Name"]
    assert sorted(res.file.metadata) == ["Completion time", "ID", "Start time"]
    assert observed_counts(con, res.import_id) == expected_counts(rows)
    # Parents have no items of their own beyond the questionnaire: teacher-only columns stay NULL.
    assert stored(con, res.import_id, "COUNT(victim_physical)") == sum(1 for r in rows if r["victim_physical"] is not None)


def test_microsoft_forms_xlsx_in_polish(con, ref, tmp_path):
    rows = answers(ref, "teachers", 30, seed=5)
    path = write_msforms_xlsx(tmp_path / "nauczyciele.xlsx", ref, "teachers", rows, lang="pl")
    res = ingest(con, path, free_target(con), group="teachers")
    assert sorted(res.file.personal) == ["Adres e-mail", "Nazwa"]
    assert stored(con, res.import_id, "SUM(CASE WHEN safe_school IN (4, 5) THEN 1 ELSE 0 END)") == sum(r["safe_school"] in (4, 5) for r in rows)
    assert stored(con, res.import_id, "COUNT(victim_physical)") == 0  # not a teachers' question


def test_polish_excel_csv_windows_1250(con, ref, tmp_path):
    rows = answers(ref, "students", 60, seed=6)
    path = write_excel_csv(tmp_path / "ankieta.csv", ref, "students", rows)
    raw = path.read_bytes()
    assert "ę".encode("cp1250") in raw and b";" in raw  # really Windows-1250 with semicolons
    res = ingest(con, path, free_target(con))
    assert res.file.format == "CSV saved by Excel (Windows-1250, semicolon-separated)"
    assert observed_counts(con, res.import_id) == expected_counts(rows)
    often = sum(1 for r in rows if r["victim_verbal"] == 3)  # „Często”: a label with a Polish letter
    assert stored(con, res.import_id, "SUM(CASE WHEN victim_verbal = 3 THEN 1 ELSE 0 END)") == often


def write_inline_string_xlsx(path: Path, ref, group: str, rows: list[dict]) -> Path:
    """A workbook as some other writers make it: inline strings, an ``x:`` namespace prefix, no
    shared-string table, a sheet not called Sheet1 (zipfile and xml.sax.saxutils: no openpyxl)."""
    import zipfile
    from xml.sax.saxutils import escape, quoteattr

    items = ref.questionnaires[group].items
    table = [["Sygnatura czasowa"] + question_header(ref, group, "pl")]
    table += [["2026-03-12 10:00"] + [cell(ref, it, r[it.id], "pl", ";") for it in items] for r in rows]
    xml_rows = []
    for n, values in enumerate(table, start=1):
        cells = "".join(f'<x:c r="{get_column_letter(i + 1)}{n}" t="inlineStr"><x:is><x:t>'
                        f"{escape(v)}</x:t></x:is></x:c>" for i, v in enumerate(values) if v)
        xml_rows.append(f'<x:row r="{n}">{cells}</x:row>')
    ns = 'xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                   'package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/>'
                   '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
                   'spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType='
                   '"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')
        z.writestr("_rels/.rels", f'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
                   f'package/2006/relationships"><Relationship Id="r1" Type="{rel}/officeDocument" '
                   'Target="xl/workbook.xml"/></Relationships>')
        z.writestr("xl/workbook.xml", f'<?xml version="1.0"?><x:workbook {ns} xmlns:r="{rel}"><x:sheets>'
                   f'<x:sheet name={quoteattr("Odpowiedzi")} sheetId="1" r:id="rId7"/></x:sheets></x:workbook>')
        z.writestr("xl/_rels/workbook.xml.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.'
                   f'openxmlformats.org/package/2006/relationships"><Relationship Id="rId7" Type="{rel}/worksheet" '
                   'Target="/xl/worksheets/sheet1.xml"/></Relationships>')
        z.writestr("xl/worksheets/sheet1.xml", f'<?xml version="1.0"?><x:worksheet {ns}><x:sheetData>'
                   f'{"".join(xml_rows)}</x:sheetData></x:worksheet>')
    return path


def test_xlsx_with_inline_strings_and_prefixed_namespace(con, ref, tmp_path):
    rows = answers(ref, "students", 35, seed=15)
    path = write_inline_string_xlsx(tmp_path / "inne.xlsx", ref, "students", rows)
    res = ingest(con, path, free_target(con))
    assert res.file.format == "XLSX workbook, sheet „Odpowiedzi”"
    assert observed_counts(con, res.import_id) == expected_counts(rows)


def test_format_is_recognised_from_content_not_extension(con, ref, tmp_path):
    rows = answers(ref, "students", 10, seed=7)
    xlsx_named_csv = write_msforms_xlsx(tmp_path / "export.csv", ref, "students", rows, lang="pl")
    csv_named_xlsx = write_google_csv(tmp_path / "export.xlsx", ref, "students", rows)
    a = ingest(con, xlsx_named_csv, free_target(con, offset=0))
    b = ingest(con, csv_named_xlsx, free_target(con, offset=0))
    assert a.file.format.startswith("Microsoft Forms XLSX") and b.file.format.startswith("Google Forms CSV")


def test_headers_and_labels_match_tolerantly(con, ref, tmp_path):
    items = ref.questionnaires["students"].items
    headers = []
    for n, it in enumerate(items, start=1):
        h = it.text_pl
        if n % 4 == 0:
            h = h.upper()
        if n % 4 == 1:
            h = f"{n}. {h}"                       # numbered question
        if n % 4 == 2:
            h = "  " + h.replace(" ", "   ").replace(".", "") + " "  # spacing and punctuation
        if n % 4 == 3:
            h = f"„{h}”".replace("—", "-")        # typographic quotes, a dash for the em dash
        headers.append(h)
    places = [it.id for it in items].index("dangerous_places")
    headers[places] = "Gdzie w szkole i wokół niej czujesz się najmniej bezpiecznie?"  # note in () left out
    labels = {1: " zdecydowanie SIĘ nie zgadzam ", 2: "Disagree", 3: "trudno powiedzieć.", 4: "„Raczej się zgadzam”",
              5: "Strongly agree"}
    values = [1, 2, 3, 4, 5, 5, 4, None]
    rows = []
    for v in values:
        r = [labels[v] if v else ""] + ["" for _ in items[1:]]
        r[places] = "toalety,Korytarze ;  Bus stop"
        rows.append(r)
    path = tmp_path / "tolerant.csv"
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["Timestamp"] + headers)
        w.writerows([["2026-03-12 10:00"] + r for r in rows])
    res = ingest(con, path, free_target(con))
    got = [r[0] for r in con.execute("SELECT safe_school FROM survey_responses WHERE import_id = ? ORDER BY id",
                                     (res.import_id,))]
    assert got == values
    assert stored(con, res.import_id, "SUM(place_toilets + place_corridors + place_bus_stop)") == 3 * len(values)
    assert stored(con, res.import_id, "SUM(place_way)") == 0


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_header_variants_find_their_item(ref, data):
    """Case, spacing, punctuation, quotes and a leading number never change which item a header is."""
    items = ref.questionnaires["students"].items
    item = data.draw(st.sampled_from(items))
    text = data.draw(st.sampled_from([item.text_pl, item.text_en]))
    flips = data.draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)))
    text = "".join(c.upper() if f else c.lower() for c, f in zip(text, flips))
    text = text.replace(" ", data.draw(st.sampled_from([" ", "  ", "\u00a0", " \t"])))
    text = data.draw(st.sampled_from(["", "„", '"', "«"])) + text + data.draw(st.sampled_from(["", "”", '"', "»", "?!"]))
    text = data.draw(st.sampled_from(["", "7. ", "12) ", "3 "])) + text
    header = ["Timestamp"] + [it.text_pl for it in items if it.id != item.id] + [text]
    cols = plan_columns(Path("x.csv"), header, ref, "students")
    assert cols[-1].item == item


def test_norm_ignores_case_space_punctuation_and_quotes():
    assert norm("  „Ufam   POLICJI.” ") == norm('"ufam policji"') == "ufam policji"
    assert norm("widziałem/-am") == "widziałem am"
    assert header_keys("3. Ufam policji.")[-1] == "ufam policji"


# --------------------------------------------------------------------------- dry run, duplicates, targets

def test_dry_run_stores_nothing_and_shows_answers(con, ref, tmp_path):
    rows = answers(ref, "students", 25, seed=8)
    path = write_google_csv(tmp_path / "a.csv", ref, "students", rows)
    before = store.content_hash(con)
    res = ingest(con, path, free_target(con), dry_run=True)
    assert store.content_hash(con) == before
    assert res.import_id is None
    text = "\n".join(res.lines())
    assert "dry run: nothing was stored" in text
    n4 = sum(1 for r in rows if r["safe_school"] == 4)
    assert any(line.split()[0] == "safe_school" and f"4: {n4}" in line for line in res.lines()[1:] if line.strip())


def test_same_file_twice_refused_and_replace_swaps_it(con, ref, tmp_path):
    rows = answers(ref, "students", 40, seed=9)
    path = write_google_csv(tmp_path / "dup.csv", ref, "students", rows)
    inst = free_target(con)
    first = ingest(con, path, inst)
    err = refused(con, lambda: ingest(con, path, inst), "dup.csv", "already imported", f"import #{first.import_id}")
    assert "--replace" in str(err)
    # Even aimed at another institution, the same bytes are recognised.
    refused(con, lambda: ingest(con, path, free_target(con, offset=3)), "already imported")
    again = ingest(con, path, inst, replace=True)
    assert again.replaced and f"import #{first.import_id}" in again.replaced[0]
    assert con.execute("SELECT COUNT(*) FROM imports WHERE content_hash = ?",
                       (again.file.content_hash,)).fetchone()[0] == 1
    assert "replaced" in con.execute("SELECT details FROM imports WHERE id = ?", (again.import_id,)).fetchone()[0]
    assert con.execute(f"SELECT COUNT(*) FROM survey_responses WHERE institution_id = {BY_RSPO} AND edition = ?",
                       (inst, EDITION)).fetchone()[0] == 40


def test_new_export_for_a_filled_target_needs_replace_or_append(con, ref, tmp_path):
    inst = free_target(con)
    first = write_google_csv(tmp_path / "v1.csv", ref, "students", answers(ref, "students", 30, seed=10))
    second_rows = answers(ref, "students", 45, seed=11)
    second = write_google_csv(tmp_path / "v2.csv", ref, "students", second_rows)
    ingest(con, first, inst)
    refused(con, lambda: ingest(con, second, inst), "v2.csv", "already has 30 students baseline responses",
            "--replace", "--append")
    res = ingest(con, second, inst, replace=True)
    assert con.execute(f"SELECT COUNT(*) FROM survey_responses WHERE institution_id = {BY_RSPO} AND edition = ? "
                       "AND grp = 'students'", (inst, EDITION)).fetchone()[0] == 45
    assert observed_counts(con, res.import_id) == expected_counts(second_rows)
    third = write_google_csv(tmp_path / "v3.csv", ref, "students", answers(ref, "students", 5, seed=12))
    ingest(con, third, inst, append=True)
    assert con.execute(f"SELECT COUNT(*) FROM survey_responses WHERE institution_id = {BY_RSPO} AND edition = ?",
                       (inst, EDITION)).fetchone()[0] == 50
    # Another wave of the same institution is another target.
    ingest(con, first, inst, wave="follow-up", replace=True)


def test_no_email_or_name_ever_reaches_the_database(small_copy, ref, tmp_path):
    con = store.connect(small_copy)
    rows = answers(ref, "students", 40, seed=13)
    ingest(con, write_msforms_xlsx(tmp_path / "ms.xlsx", ref, "students", rows, lang="pl"), free_target(con))
    ingest(con, write_google_csv(tmp_path / "g.csv", ref, "students", rows), free_target(con, offset=1))
    con.close()
    con = store.connect(small_copy, readonly=True)
    dump = "\n".join(repr(row) for t in store.table_counts(con) for row in con.execute(f"SELECT * FROM {t}"))
    con.close()
    for secret in EMAILS + NAMES + ["example.com", "Kowalski"]:
        assert secret not in dump


# --------------------------------------------------------------------------- refused inputs

def test_utf16_file_refused(con, ref, tmp_path):
    path = write_google_csv(tmp_path / "utf16.csv", ref, "students", answers(ref, "students", 3), encoding="utf-16")
    refused(con, lambda: ingest(con, path, free_target(con)), "utf16.csv", "wrong encoding", "UTF-16")


def test_windows_1250_with_commas_refused_as_wrong_encoding(con, ref, tmp_path):
    """Google exports are UTF-8; Windows-1250 bytes in a comma-separated file mean a wrong save."""
    path = write_google_csv(tmp_path / "cp.csv", ref, "students", answers(ref, "students", 3), encoding="cp1250")
    err = refused(con, lambda: ingest(con, path, free_target(con)), "cp.csv", "wrong encoding", "row 1",
                  "not valid UTF-8")
    assert err.row == 1


def _image(path: Path, fmt: str) -> Path:
    """A real picture file, as a phone or a screenshot tool saves it (matplotlib + Pillow)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 1.5))
    ax.bar(["Toalety", "Korytarze"], [0.4, 0.3])
    fig.savefig(path, format=fmt)
    plt.close(fig)
    return path


def _zipped_export(path: Path, ref) -> Path:
    """Google Forms' „Pobierz odpowiedzi (.csv)” gives a zip holding the CSV: imported unpacked."""
    import zipfile

    inner = write_google_csv(path.with_suffix(".inner.csv"), ref, "students", answers(ref, "students", 12))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(inner, "Ankieta uczniów.csv")
    return path


def _zip_of(path: Path, member: Path) -> Path:
    import zipfile

    with zipfile.ZipFile(path, "w") as z:
        z.write(member, member.name)
    return path


def _word_document(path: Path) -> Path:
    import zipfile

    with zipfile.ZipFile(path, "w") as z:  # the parts every .docx has
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        z.writestr("word/document.xml", '<?xml version="1.0"?><w:document/>')
    return path


NOT_EXPORTS = {
    # name: (how to make it, the kind the message must name)
    "zdjecie.png": (lambda p, ref: _image(p, "png"), "a PNG image"),
    "zdjecie.jpg": (lambda p, ref: _image(p, "jpg"), "a JPEG image"),
    "animacja.gif": (lambda p, ref: _image(p, "gif"), "a GIF image"),
    "wyniki.pdf": (lambda p, ref: _image(p, "pdf"), "a PDF document"),
    "ankieta.pdf.csv": (lambda p, ref: _image(p, "pdf"), "a PDF document"),  # the extension does not decide
    "odpowiedzi.zip": (lambda p, ref: _zipped_export(p, ref), "a zip archive that is not an Excel workbook "
                       "(unpack it and import the file inside: „Ankieta uczniów.csv”)"),
    "odpowiedzi.xlsx": (lambda p, ref: _zipped_export(p, ref), "a zip archive that is not an Excel workbook "
                        "(unpack it"),
    "archiwum.zip": (lambda p, ref: _word_document(p.with_suffix(".docx")) and _zip_of(p, p.with_suffix(".docx")),
                     "a zip archive that is not an Excel workbook"),
    "raport.docx": (lambda p, ref: _word_document(p), "a Word document (.docx)"),
    "ankieta.html": (lambda p, ref: p.write_text(form_html(ref, "students", "pl"), encoding="utf-8") and p,
                     "a web page (HTML)"),
    "photo.csv": (lambda p, ref: p.write_bytes(bytes(range(256)) * 4) and p, "a binary (non-text) file"),
}


@pytest.mark.parametrize("name", list(NOT_EXPORTS))
def test_file_that_is_not_an_export_is_refused_as_such(con, ref, tmp_path, name):
    """Pictures, documents, archives and web pages are named for what they are, before any column is
    matched (no „missing question column” list), and nothing is stored."""
    make, kind = NOT_EXPORTS[name]
    path = tmp_path / name
    make(path, ref)
    err = refused(con, lambda: ingest(con, path, free_target(con)), f"{name}: the file is {kind}",
                  "not a survey export: import the answers as the form exports them", "Google Forms",
                  "Microsoft Forms")
    assert "question" not in str(err) and "column" not in str(err) and "encoding" not in str(err)


def test_utf16_export_is_still_a_wrong_encoding_not_a_binary_file(con, ref, tmp_path):
    """UTF-16 text has zero bytes too: it is an export saved wrong, and the message says how to save it."""
    for encoding in ("utf-16-le", "utf-16-be"):  # without a byte-order mark
        path = write_google_csv(tmp_path / f"{encoding}.csv", ref, "students", answers(ref, "students", 3),
                                encoding=encoding)
        refused(con, lambda: ingest(con, path, free_target(con)), "wrong encoding", "UTF-16")


def test_cli_refuses_a_picture_in_one_line(small_copy, ref, tmp_path, capsys):
    con = store.connect(small_copy)
    inst = free_target(con)
    before = store.content_hash(con)
    con.close()
    path = _image(tmp_path / "ankieta.png", "png")
    assert main(["ingest", "survey", str(path), "--institution", str(inst), "--edition", EDITION,
                 "--group", "uczniowie", "--wave", "diagnoza", "--db", str(small_copy)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("zpb: refused: ankieta.png: the file is a PNG image, not a survey export")
    assert err.count("\n") == 1 and "Traceback" not in err
    con = store.connect(small_copy, readonly=True)
    assert store.content_hash(con) == before
    con.close()


def test_truncated_csv_refused(con, ref, tmp_path):
    path = write_google_csv(tmp_path / "cut.csv", ref, "students", answers(ref, "students", 20, empty_share=0))
    data = path.read_bytes()
    path.write_bytes(data[: data.rstrip().rfind(b",") - 1])  # cut inside the last row (row 21)
    err = refused(con, lambda: ingest(con, path, free_target(con)), "cut.csv", "row 21", "truncated")
    assert err.row == 21


def test_truncated_csv_inside_quotes_refused(con, ref, tmp_path):
    path = write_google_csv(tmp_path / "cutq.csv", ref, "students", answers(ref, "students", 20, empty_share=0))
    data = path.read_bytes()
    cut = data.rfind(b',"') + 2  # just after the last opening quote (a multiple-choice cell)
    path.write_bytes(data[:cut] + "Toalety, Korytarze, Szat".encode())
    row = data[:cut].count(b"\n") + 1
    assert row > 15
    refused(con, lambda: ingest(con, path, free_target(con)), "cutq.csv", f"row {row}", "truncated")


def test_truncated_xlsx_refused(con, ref, tmp_path):
    path = write_msforms_xlsx(tmp_path / "cut.xlsx", ref, "students", answers(ref, "students", 50))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    refused(con, lambda: ingest(con, path, free_target(con)), "cut.xlsx", "damaged or truncated")


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf", b"\r\n\r\n"])
def test_empty_file_refused(con, tmp_path, content):
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    refused(con, lambda: ingest(con, path, free_target(con)), "empty.csv", "empty")


@pytest.mark.parametrize("maker", ["google", "ms"])
def test_header_only_refused(con, ref, tmp_path, maker):
    if maker == "google":
        path = write_google_csv(tmp_path / "header.csv", ref, "students", [])
    else:
        path = write_msforms_xlsx(tmp_path / "header.xlsx", ref, "students", [])
    refused(con, lambda: ingest(con, path, free_target(con)), path.name, "row 2", "header row but no answers")


def test_missing_question_column_refused(con, ref, tmp_path):
    path = write_google_csv(tmp_path / "missing.csv", ref, "students", answers(ref, "students", 5))
    with open(path, encoding="utf-8-sig", newline="") as fh:
        table = [r[:5] + r[6:] for r in csv.reader(fh)]  # drop column F: question 4 (victim_verbal)
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(table)
    text = ref.questionnaires["students"].items[3].text_pl
    refused(con, lambda: ingest(con, path, free_target(con)), "missing.csv", "row 1", "missing question column",
            f"question 4 „{text}”")


def test_value_in_column_without_header_refused(con, ref, tmp_path):
    path = write_google_csv(tmp_path / "more.csv", ref, "students", answers(ref, "students", 5))
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    lines[3] += ",kot"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    refused(con, lambda: ingest(con, path, free_target(con)), "more.csv", "row 4", "'kot'", "without a header")


def test_answer_label_not_on_scale_refused(con, ref, tmp_path):
    rows = answers(ref, "students", 12, empty_share=0)
    path = write_msforms_xlsx(tmp_path / "labels.xlsx", ref, "students", rows, lang="pl")
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    ws["F8"] = "Raczej tak"            # F = first question (after ID, times, e-mail, name); row 8 = 7th response
    ws["N10"] = "Toalety;Piwnica;"     # N = dangerous_places: one good, one unknown choice
    wb.save(path)
    q1 = ref.questionnaires["students"].items[0].text_pl
    err = refused(con, lambda: ingest(con, path, free_target(con)), "labels.xlsx",
                  f"row 8, column F „{q1}”: 'Raczej tak' is not an answer", "„Raczej się zgadzam”",
                  "row 10, column N", "'Piwnica'")
    assert (err.row, err.letter, err.column) == (8, "F", q1)
    assert len(err.problems) == 2


def test_nowhere_is_an_answer_that_names_no_place(con, ref, tmp_path):
    """„Nigdzie — nie ma takich miejsc” stores place_nowhere = 1 and every place 0 (an answer); an
    empty cell stores every place column NULL (skipped); a place stores place_nowhere = 0."""
    pattern = [{"nowhere"}, set(), {"toilets"}, {"toilets", "way"}, {"nowhere"}, None, {"corridors"}]
    rows = answers(ref, "students", 28, seed=23, empty_share=0)
    for i, r in enumerate(rows):
        r["dangerous_places"] = pattern[i % len(pattern)]
    path = write_msforms_xlsx(tmp_path / "nigdzie.xlsx", ref, "students", rows, lang="pl")
    res = ingest(con, path, free_target(con))
    got = con.execute(f"SELECT {', '.join('place_' + c for c in (*NAMED_PLACES, 'nowhere'))} FROM survey_responses "
                      "WHERE import_id = ? ORDER BY id", (res.import_id,)).fetchall()
    for r, stored_row in zip(rows, got):
        chosen = r["dangerous_places"]
        if not chosen:
            assert stored_row == (None,) * 10
        else:
            assert stored_row == tuple(int(c in chosen) for c in (*NAMED_PLACES, "nowhere"))
    assert observed_counts(con, res.import_id) == expected_counts(rows)


def test_place_shares_are_of_those_who_answered(con, ref, tmp_path):
    """The ranking's n counts who answered the places question, „Nowhere” included; a skipped
    question counts nowhere. Figures from the rows the test wrote."""
    from zpb_lib.domain.indicators import place_ranking

    rows = answers(ref, "students", 60, seed=24, empty_share=0.1)
    inst = free_target(con)
    ingest(con, write_google_csv(tmp_path / "shares.csv", ref, "students", rows), inst)
    answered = [r["dangerous_places"] for r in rows if r["dangerous_places"]]
    assert any(a == {"nowhere"} for a in answered) and len(answered) < len(rows)
    iid = con.execute("SELECT id FROM institutions WHERE rspo = ?", (inst,)).fetchone()[0]
    places = place_ranking(con, ref, editions=[EDITION])
    mine = places[(places["level"] == "institution") & (places["key"] == str(iid)) & (places["group"] == "students")]
    assert set(mine["place"]) == set(NAMED_PLACES)  # „nowhere” is no place to rank
    for row in mine.itertuples():
        k = sum(1 for a in answered if row.place in a)
        assert (row.n, row.k) == (len(answered), k), row.place
        assert row.p == pytest.approx(k / len(answered))


def test_wrong_group_gets_a_hint(con, ref, tmp_path):
    path = write_google_csv(tmp_path / "parents.csv", ref, "parents", answers(ref, "parents", 5))
    refused(con, lambda: ingest(con, path, free_target(con), group="students"), "parents.csv",
            "parents' questionnaire", "--group parents")


@pytest.mark.parametrize("target, message", [
    (dict(institution=9999999), "no institution with RSPO 9999999"),
    (dict(institution="SP 2 Bochnia"), "neither an RSPO number"),
    (dict(edition="2031/2032"), "unknown edition '2031/2032'"),
    (dict(edition="2025"), "unknown edition '2025'"),
    (dict(edition="2020/2021"), "suspended"),
])
def test_unknown_institution_or_edition_refused(con, ref, tmp_path, target, message):
    path = write_google_csv(tmp_path / "target.csv", ref, "students", answers(ref, "students", 5))
    kw = dict(institution=free_target(con))
    kw.update(target)
    inst = kw.pop("institution")
    refused(con, lambda: ingest(con, path, inst, **kw), "target.csv", message)


def test_institution_of_a_kind_that_ended_refused(con, ref, tmp_path):
    gim = con.execute("SELECT rspo FROM institutions WHERE kind = 'gimnazjum' LIMIT 1").fetchone()[0]
    path = write_google_csv(tmp_path / "gim.csv", ref, "students", answers(ref, "students", 5))
    refused(con, lambda: ingest(con, path, gim), "gim.csv", f"RSPO {gim}", "Gimnazjum", "2019")


def test_survey_outside_participation_refused(con, ref, tmp_path):
    """A survey belongs to an edition the school takes part in: not before it joined, not after it
    left, not for a school with no participation recorded."""
    path = write_google_csv(tmp_path / "when.csv", ref, "students", answers(ref, "students", 5))
    joined = con.execute("SELECT i.rspo, p.joined_edition FROM participation p JOIN institutions i ON "
                         "i.id = p.institution_id WHERE p.joined_edition > '2010/2011' AND i.kind = 'primary' "
                         "ORDER BY p.id LIMIT 1").fetchone()
    refused(con, lambda: ingest(con, path, joined[0], edition="2010/2011"), f"RSPO {joined[0]}",
            f"in {joined[1]}", "before it joined")
    left = con.execute("SELECT i.rspo, p.left_edition FROM participation p JOIN institutions i ON "
                       "i.id = p.institution_id WHERE p.left_edition < '2024/2025' AND i.kind = 'primary' AND NOT "
                       "EXISTS (SELECT 1 FROM participation q WHERE q.institution_id = p.institution_id AND "
                       "q.id <> p.id) ORDER BY p.id LIMIT 1").fetchone()
    refused(con, lambda: ingest(con, path, left[0], edition="2024/2025"), f"RSPO {left[0]}", "after it left")
    never = con.execute("SELECT rspo FROM institutions i WHERE kind = 'primary' AND NOT EXISTS "
                        "(SELECT 1 FROM participation p WHERE p.institution_id = i.id) LIMIT 1").fetchone()[0]
    refused(con, lambda: ingest(con, path, never), f"RSPO {never}", "no participation", "zpb ingest register")


def test_edition_spelled_as_people_write_it(con, ref, tmp_path):
    rows = answers(ref, "students", 12, seed=21)
    inst = free_target(con)
    res = ingest(con, write_google_csv(tmp_path / "xix.csv", ref, "students", rows), inst, edition="XIX")
    assert res.edition == EDITION
    assert con.execute("SELECT DISTINCT edition FROM survey_responses WHERE import_id = ?",
                       (res.import_id,)).fetchall() == [(EDITION,)]


def test_microsoft_forms_metadata_columns_are_never_stored(con, ref, tmp_path):
    """Newer Microsoft Forms exports carry „Czas ostatniej modyfikacji” beside the other form
    columns; it is recognised as form metadata and not stored."""
    rows = answers(ref, "students", 20, seed=22)
    path = write_msforms_xlsx(tmp_path / "ms-new.xlsx", ref, "students", rows, lang="pl",
                              extra={"Czas ostatniej modyfikacji": "2026-03-02 10:00:00"})
    res = ingest(con, path, free_target(con))
    assert "Czas ostatniej modyfikacji" in res.file.metadata
    assert observed_counts(con, res.import_id) == expected_counts(rows)


# --------------------------------------------------------------------------- command line

def test_cli_ingest_survey(small_copy, ref, tmp_path, capsys):
    con = store.connect(small_copy)
    inst = free_target(con)
    con.close()
    rows = answers(ref, "students", 15, seed=14)
    path = write_google_csv(tmp_path / "cli.csv", ref, "students", rows)
    argv = ["ingest", "survey", str(path), "--institution", str(inst), "--edition", EDITION, "--group", "students",
            "--wave", "baseline", "--db", str(small_copy)]
    assert main(argv + ["--dry-run"]) == 0
    assert "dry run: nothing was stored" in capsys.readouterr().out
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "stored 15 responses" in out and "„Adres e-mail”" in out
    assert main(argv) == 2
    assert "already imported" in capsys.readouterr().err


def _import_rows(db: Path, import_id: int) -> list[tuple]:
    """Everything stored for one import but the row ids: target, group, wave, answers."""
    from zpb_lib.store.frames import columns

    con = store.connect(db, readonly=True)
    cols = [c for c in columns(con, "survey_responses") if c != "id"]
    rows = con.execute(f"SELECT {', '.join(cols)} FROM survey_responses WHERE import_id = ? ORDER BY id",
                       (import_id,)).fetchall()
    details = con.execute("SELECT kind, file_name, content_hash, rows, details FROM imports WHERE id = ?",
                          (import_id,)).fetchone()
    con.close()
    return rows + [details]


def test_cli_group_and_wave_in_polish_equal_english(small_copy, copy_small, ref, tmp_path, capsys):
    """`--group uczniowie --wave diagnoza` stores exactly what `--group students --wave baseline` does."""
    other = copy_small()
    con = store.connect(small_copy)
    inst = free_target(con)
    next_id = con.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM imports").fetchone()[0]
    con.close()
    path = write_google_csv(tmp_path / "pl.csv", ref, "students", answers(ref, "students", 15, seed=26))
    common = ["ingest", "survey", str(path), "--institution", str(inst), "--edition", EDITION]
    assert main(common + ["--group", "uczniowie", "--wave", "diagnoza", "--db", str(small_copy)]) == 0
    assert "students, baseline" in capsys.readouterr().out
    assert main(common + ["--group", "students", "--wave", "baseline", "--db", str(other)]) == 0
    capsys.readouterr()
    polish, english = _import_rows(small_copy, next_id), _import_rows(other, next_id)
    assert len(polish) == 16 and polish == english
    # Follow-up spelled in Polish and with any case lands in the follow-up wave.
    assert main(common + ["--group", "Uczniowie", "--wave", "ewaluacja", "--replace", "--db", str(small_copy)]) == 0
    assert "students, follow-up" in capsys.readouterr().out


GROUPS_ACCEPTED = "students (uczniowie), parents (rodzice), teachers (nauczyciele)"


@pytest.mark.parametrize("option, value, accepted", [
    ("--group", "uczen", GROUPS_ACCEPTED),
    ("--wave", "jesień", "baseline (diagnoza), follow-up (ewaluacja)"),
])
def test_cli_unknown_group_or_wave_is_one_line(small_copy, tmp_path, capsys, option, value, accepted):
    """One line naming the accepted values (English and Polish), status 2: no usage block, no traceback."""
    argv = ["ingest", "survey", str(tmp_path / "x.csv"), "--institution", "1", "--edition", EDITION,
            "--group", "students", "--wave", "baseline", "--db", str(small_copy)]
    argv[argv.index(option) + 1] = value
    assert main(argv) == 2
    assert capsys.readouterr().err == f"zpb ingest survey: unknown {option[2:]} {value!r} (accepted: {accepted})\n"


def test_cli_survey_form_unknown_group_is_one_line(capsys):
    assert main(["survey", "form", "--group", "uczen"]) == 2
    assert capsys.readouterr().err == f"zpb survey form: unknown group 'uczen' (accepted: {GROUPS_ACCEPTED})\n"
