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


def test_places_question_offers_nowhere_as_its_last_answer(ref):
    """All three questionnaires: „Nigdzie — nie ma takich miejsc” after the places, with the note
    that it excludes them, in the form text, the CSV and the printed page."""
    for group in ("students", "parents", "teachers"):
        rows = form_rows(ref, group, "pl")
        places = next(r for r in rows[1:] if r[1] == "dangerous_places")
        assert [c for c in places[4:] if c][-1] == "Nigdzie — nie ma takich miejsc"
        md = form_markdown(ref, group, "pl")
        assert "- Nigdzie — nie ma takich miejsc\n\nOdpowiedź „Nigdzie — nie ma takich miejsc” wyklucza pozostałe." in md
        assert "albo tylko „Nigdzie — nie ma takich miejsc”" in form_html(ref, group, "pl")
        en = form_rows(ref, group, "en")
        assert [c for c in next(r for r in en[1:] if r[1] == "dangerous_places")[4:] if c][-1] == \
            "Nowhere — there are no such places"


def test_nowhere_round_trip_form_export_import_shares(ref, small_copy, students_pl, tmp_path):
    """A school builds the form from the CSV; some respondents answer „Nigdzie”, some name places,
    some skip the question. Imported, the shares of each place are of those who answered (n), with
    „Nigdzie” counted as an answer naming no place."""
    from zpb_lib.domain.indicators import place_ranking

    with open(students_pl[1], encoding="utf-8-sig", newline="") as fh:
        spec = list(csv.reader(fh, delimiter=";"))[1:]
    places_q = next(i for i, row in enumerate(spec) if row[1] == "dangerous_places")
    options = [c for c in spec[places_q][4:] if c]
    nowhere = next(o for o in options if o.startswith("Nigdzie"))
    toilets, way = options[0], options[7]  # „Toalety”, „Droga do szkoły”
    picks = [[nowhere]] * 5 + [[toilets]] * 3 + [[toilets, way]] * 2 + [[way]] + [[]] * 4  # 15 respondents
    export = tmp_path / "export-nigdzie.csv"
    with open(export, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["Sygnatura czasowa"] + [f"{row[0]}. {row[3]}" for row in spec])
        for k, pick in enumerate(picks):
            cells = []
            for i, row in enumerate(spec):
                opts = [c for c in row[4:] if c]
                cells.append(", ".join(pick) if i == places_q else opts[k % len(opts)])
            w.writerow(["2026/03/12 10:00:00"] + cells)
    con = store.connect(small_copy)
    inst = con.execute("SELECT i.id, i.rspo FROM institutions i WHERE i.kind = 'primary' AND NOT EXISTS "
                       "(SELECT 1 FROM survey_responses r WHERE r.institution_id = i.id AND r.edition = '2025/2026') "
                       "AND EXISTS (SELECT 1 FROM participation p WHERE p.institution_id = i.id AND "
                       "p.joined_edition <= '2025/2026' AND (p.left_edition IS NULL OR p.left_edition >= '2025/2026')) "
                       "ORDER BY i.id LIMIT 1").fetchone()
    ingest_survey(con, export, institution=inst[1], edition="2025/2026", group="students", wave="baseline")
    ranking = place_ranking(con, ref, editions=["2025/2026"])
    con.close()
    mine = ranking[(ranking["level"] == "institution") & (ranking["key"] == str(inst[0]))
                   & (ranking["group"] == "students")].set_index("place")
    answered = [p for p in picks if p]  # 11: the 5 „Nigdzie” answers count, the 4 skipped do not
    assert set(mine["n"]) == {len(answered)} == {11}
    assert mine.loc["toilets", "k"] == 5 and mine.loc["toilets", "p"] == pytest.approx(5 / 11)
    assert mine.loc["way", "k"] == 3 and mine.loc["way", "p"] == pytest.approx(3 / 11)
    assert mine.loc["corridors", "k"] == 0 and mine.loc["toilets", "rank"] == 1
    assert "nowhere" not in mine.index


def test_cli_survey_form_group_in_polish(ref, students_pl, tmp_path, capsys):
    """`--group uczniowie` writes the students' questionnaire, the same files `--group students` writes."""
    assert main(["survey", "form", "--group", "uczniowie", "--out", str(tmp_path)]) == 0
    printed = [Path(p) for p in capsys.readouterr().out.split()]
    assert [p.name for p in printed] == [p.name for p in students_pl]
    for mine, theirs in zip(printed[:3], students_pl[:3]):  # .md, .csv, .html; the PDF carries a timestamp
        assert mine.read_bytes() == theirs.read_bytes()
