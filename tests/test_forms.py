"""The questionnaire for online forms and for print: every question and answer label in order, Polish
letters intact in the PDF, and a form built from the output imports back."""
from __future__ import annotations

import csv
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from zpb_lib import store
from zpb_lib.cli import main
from zpb_lib.ingest.forms import form_html, form_markdown, form_rows, write_form
from zpb_lib.ingest.survey import ingest_survey

POLISH = set("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ")


def labels(ref, item, lang):
    return [o.label_pl if lang == "pl" else o.label_en for o in ref.scales[item.scale].options]


def text(item, lang):
    return item.text_pl if lang == "pl" else item.text_en


@pytest.fixture(scope="module")
def students_pl(tmp_path_factory, ref):
    out = tmp_path_factory.mktemp("form")
    return write_form("students", "pl", out, ref)


@pytest.mark.parametrize("group", ["students", "parents", "teachers"])
@pytest.mark.parametrize("lang", ["pl", "en"])
def test_markdown_lists_questions_and_labels_in_order(ref, group, lang):
    md = form_markdown(ref, group, lang)
    pos = 0
    for n, item in enumerate(ref.questionnaires[group].items, start=1):
        heading = f"## {n}. {text(item, lang)}"
        assert heading in md[pos:], heading
        pos = md.index(heading, pos)
        for label in labels(ref, item, lang):
            pos = md.index(f"- {label}\n", pos)  # raises if missing or out of order
    assert ("e-mail" in md) and (("anonimowa" in md) if lang == "pl" else ("anonymous" in md))


@pytest.mark.parametrize("lang", ["pl", "en"])
def test_csv_has_one_row_per_question_with_its_labels(ref, lang):
    rows = form_rows(ref, "parents", lang)
    items = ref.questionnaires["parents"].items
    assert len(rows) == len(items) + 1
    for row, item in zip(rows[1:], items):
        assert row[1] == item.id and row[3] == text(item, lang)
        assert [c for c in row[4:] if c] == labels(ref, item, lang)


def test_files_written(ref, students_pl):
    assert [p.suffix for p in students_pl] == [".md", ".csv", ".html", ".pdf"]
    assert all(p.exists() and p.stat().st_size > 0 for p in students_pl)
    assert students_pl[1].read_bytes().startswith(b"\xef\xbb\xbf")  # Excel opens it with Polish letters
    assert students_pl[3].read_bytes().startswith(b"%PDF-")
    with open(students_pl[1], encoding="utf-8-sig", newline="") as fh:
        assert list(csv.reader(fh, delimiter=";")) == form_rows(ref, "students", "pl")


def test_html_is_self_contained(ref):
    page = form_html(ref, "teachers", "pl")
    assert not re.search(r"(src|href)\s*=|@import|url\(", page)
    assert "size: A4" in page and 'lang="pl"' in page


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) not installed")
def test_pdf_text_has_every_question_with_polish_letters(ref, students_pl):
    pdf = students_pl[3]
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, check=True).stdout
    words = " ".join(out.decode("utf-8").split())
    for item in ref.questionnaires["students"].items:
        assert " ".join(item.text_pl.split()) in words, item.text_pl
        for label in labels(ref, item, "pl"):
            assert label in words
    assert POLISH & set(words) >= set("ąćęłńóśż")
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, check=True, text=True).stdout
    assert re.search(r"Page size:\s+595\.\d+ x 841\.\d+ pts \(A4\)", info)


def test_form_built_from_the_output_imports_back(ref, small_copy, students_pl, tmp_path):
    """A school copies questions and labels from the CSV into Google Forms; its export imports."""
    with open(students_pl[1], encoding="utf-8-sig", newline="") as fh:
        spec = list(csv.reader(fh, delimiter=";"))[1:]
    export = tmp_path / "export.csv"
    with open(export, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["Sygnatura czasowa"] + [f"{row[0]}. {row[3]}" for row in spec])
        for k in range(9):  # response k picks answer k (cyclically) in every question
            answers = []
            for row in spec:
                options = [c for c in row[4:] if c]
                answers.append(options[k % len(options)])
            w.writerow(["2026/03/12 10:00:00"] + answers)
    con = store.connect(small_copy)
    inst = con.execute("SELECT MIN(i.rspo) FROM institutions i JOIN participation p ON p.institution_id = i.id "
                       "WHERE i.kind = 'primary' AND p.joined_edition <= '2025/2026' AND "
                       "(p.left_edition IS NULL OR p.left_edition >= '2025/2026')").fetchone()[0]
    res = ingest_survey(con, export, institution=inst, edition="2025/2026", group="students", wave="follow-up",
                        replace=True)
    got = [r[0] for r in con.execute("SELECT safe_school FROM survey_responses WHERE import_id = ? ORDER BY id",
                                     (res.import_id,))]
    assert got == [1, 2, 3, 4, 5, 1, 2, 3, 4]
    place = [r[0] for r in con.execute("SELECT place_way FROM survey_responses WHERE import_id = ? ORDER BY id",
                                       (res.import_id,))]
    assert place == [1 if k == 7 else 0 for k in range(9)]  # „Droga do szkoły” is the 8th option
    con.close()


def test_cli_survey_form(tmp_path, capsys):
    assert main(["survey", "form", "--group", "teachers", "--lang", "en", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out.split()
    assert [Path(p).name for p in printed] == [f"questionnaire-teachers-en{ext}" for ext in (".md", ".csv", ".html", ".pdf")]
