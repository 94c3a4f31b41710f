"""The imports service called as a program would call it, without the command line: a dry run
stores nothing, a commit stores exactly the file's rows, a refused file comes back as located
problems rather than an exception, the list shows the import and undo takes it back. Counts come
from the test's own SQL on the database, before and after."""
from __future__ import annotations

import csv
import datetime as dt

import pytest

from zpb_lib import store
from zpb_lib.cli import main
from zpb_lib.services import imports
from support.register import fill_register
from support.surveys import answers, free_target, write_google_csv

pytestmark = pytest.mark.both_backends

EDITION = "2025/2026"


def count(db, sql: str, *params) -> int:
    con = store.connect(db, readonly=True)
    try:
        return con.execute(sql, params).fetchone()[0]
    finally:
        con.close()


def target(db) -> int:
    con = store.connect(db, readonly=True)
    try:
        return free_target(con)
    finally:
        con.close()


def survey(db, path, **kw) -> imports.SurveyImport:
    return imports.SurveyImport(path, target(db), EDITION, "students", "baseline", **kw)


def test_preview_stores_nothing(small_copy, ref, tmp_path, content_hash):
    path = write_google_csv(tmp_path / "ankieta.csv", ref, "students", answers(ref, "students", 17))
    before = content_hash(small_copy)
    responses = count(small_copy, "SELECT COUNT(*) FROM survey_responses")
    outcome = imports.preview(small_copy, survey(small_copy, path))
    assert not outcome.refused and outcome.problems == []
    assert (outcome.kind, outcome.file_name, outcome.dry_run, outcome.import_id) == ("survey", "ankieta.csv", True, None)
    assert outcome.lines[0].startswith("ankieta.csv: Google Forms CSV") and outcome.lines[0].endswith(", 17 responses")
    assert outcome.lines[-1] == "dry run: nothing was stored"
    assert count(small_copy, "SELECT COUNT(*) FROM survey_responses") == responses
    assert count(small_copy, "SELECT COUNT(*) FROM imports WHERE file_name = ?", "ankieta.csv") == 0
    assert content_hash(small_copy) == before


def test_commit_stores_exactly_the_file_rows(small_copy, ref, tmp_path):
    rows = answers(ref, "students", 23, seed=5)
    path = write_google_csv(tmp_path / "ankieta.csv", ref, "students", rows)
    request = survey(small_copy, path)
    responses = count(small_copy, "SELECT COUNT(*) FROM survey_responses")
    outcome = imports.commit(small_copy, request)
    assert not outcome.refused and not outcome.dry_run and outcome.import_id is not None
    n = outcome.import_id
    assert count(small_copy, "SELECT COUNT(*) FROM survey_responses") == responses + 23
    assert count(small_copy, "SELECT COUNT(*) FROM survey_responses WHERE import_id = ?", n) == 23
    assert count(small_copy, "SELECT COUNT(*) FROM survey_responses r JOIN institutions i ON i.id = r.institution_id "
                             "WHERE r.import_id = ? AND i.rspo = ? AND r.edition = ? AND r.grp = 'students' "
                             "AND r.wave = 'baseline'", n, request.institution, EDITION) == 23
    answered = sum(1 for r in rows if r["safe_school"] in (4, 5))
    assert count(small_copy, "SELECT COUNT(*) FROM survey_responses WHERE import_id = ? AND safe_school IN (4, 5)",
                 n) == answered
    assert count(small_copy, "SELECT rows FROM imports WHERE id = ? AND kind = 'survey' AND file_name = ?", n,
                 "ankieta.csv") == 23
    assert outcome.lines[-1] == f"stored 23 responses as import #{n} (to take it back: `zpb imports undo {n}`)"
    # The same file again is refused, as problems: nothing more is stored.
    again = imports.commit(small_copy, request)
    assert again.refused and again.import_id is None and again.lines == ()
    assert f"already imported: import #{n} of „ankieta.csv”" in again.problems[0].message
    assert count(small_copy, "SELECT COUNT(*) FROM survey_responses") == responses + 23


def _spoil(path, cells: dict[tuple[int, int], str]) -> None:
    """Overwrite cells of a CSV: (spreadsheet row, 0-based column) → text."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        table = list(csv.reader(fh))
    for (row, col), text in cells.items():
        table[row - 1][col] = text
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(table)


def test_a_refused_file_returns_its_problems_located(small_copy, ref, tmp_path, capsys, content_hash):
    path = write_google_csv(tmp_path / "zla.csv", ref, "students", answers(ref, "students", 10))
    items = ref.questionnaires["students"].items
    first = next(i for i, it in enumerate(items) if ref.scales[it.scale].kind != "multiple")
    column = 2 + first  # after the timestamp (A) and the e-mail (B)
    letter = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[column]
    _spoil(path, {(4, column): "zupełnie nie wiem", (9, column): "zupełnie nie wiem"})
    request = survey(small_copy, path)
    before = content_hash(small_copy)
    for run in (imports.preview, imports.commit):
        outcome = run(small_copy, request)
        assert outcome.refused and outcome.import_id is None and outcome.result is None
        assert outcome.file_name == "zla.csv"
        assert [(p.row, p.letter, p.column) for p in outcome.problems] == \
            [(4, letter, items[first].text_pl), (9, letter, items[first].text_pl)]
        assert all("'zupełnie nie wiem' is not an answer of this question's scale" in p.message
                   for p in outcome.problems)
        assert "--skip-bad-rows" in outcome.message
    assert content_hash(small_copy) == before
    # The command prints the same refusal, with its status.
    assert main(["ingest", "survey", str(path), "--institution", str(request.institution), "--edition", EDITION,
                 "--group", "students", "--wave", "baseline", "--db", str(small_copy)]) == 2
    assert capsys.readouterr().err == f"zpb: refused: {outcome.message}\n"


def test_list_and_undo(small_copy, ref, tmp_path, content_hash):
    before = content_hash(small_copy)
    path = write_google_csv(tmp_path / "cofnij.csv", ref, "students", answers(ref, "students", 8))
    n = imports.commit(small_copy, survey(small_copy, path)).import_id
    listed = imports.list_imports(small_copy)
    assert listed.unit is None and listed.others == 0
    last = listed.records[-1]
    assert (last.id, last.kind, last.file_name, last.rows) == (n, "survey", "cofnij.csv", 8)
    assert [r.id for r in listed.records] == sorted(r.id for r in listed.records)
    assert len(listed.records) == count(small_copy, "SELECT COUNT(*) FROM imports")

    dry = imports.undo(small_copy, n, dry_run=True)
    assert not dry.refused and dry.undone == (n,) and dry.lines[-1] == "dry run: nothing was changed"
    assert count(small_copy, "SELECT COUNT(*) FROM survey_responses WHERE import_id = ?", n) == 8
    done = imports.undo(small_copy, n)
    assert not done.refused and done.undone == (n,) and "  deleted: 8 survey_responses" in done.lines
    assert done.lines[-1] == f"import #{n} is undone"
    assert count(small_copy, "SELECT COUNT(*) FROM survey_responses WHERE import_id = ?", n) == 0
    assert content_hash(small_copy) == before
    gone = imports.undo(small_copy, n)
    assert gone.refused and gone.undone == () and gone.lines == () and "there is no import" in gone.refusal


def _newcomer(db) -> int:
    """The RSPO number of an open primary school with no participation stored."""
    return count(db, "SELECT i.rspo FROM institutions i JOIN institution_kinds k ON k.code = i.kind "
                     "WHERE i.kind = 'primary' AND k.exists_to IS NULL AND i.closed_year IS NULL AND i.rspo IS NOT NULL "
                     "AND NOT EXISTS (SELECT 1 FROM participation p WHERE p.institution_id = i.id) ORDER BY i.id")


def test_register_preview_commit_and_located_problems(small_copy, tmp_path, content_hash):
    rspo = _newcomer(small_copy)
    path = fill_register(tmp_path / "rejestr.xlsx", participation=[(str(rspo), None, EDITION, None)])
    periods = count(small_copy, "SELECT COUNT(*) FROM participation")
    before = content_hash(small_copy)
    dry = imports.preview(small_copy, imports.RegisterImport(path))
    assert not dry.refused and dry.import_id is None and dry.lines[0] == "rejestr.xlsx: programme register"
    assert content_hash(small_copy) == before
    done = imports.commit(small_copy, imports.RegisterImport(path))
    assert done.kind == "register" and done.import_id is not None
    assert count(small_copy, "SELECT COUNT(*) FROM participation") == periods + 1
    assert count(small_copy, "SELECT COUNT(*) FROM participation p JOIN institutions i ON i.id = p.institution_id "
                             "WHERE p.import_id = ? AND i.rspo = ? AND p.joined_edition = ? AND p.left_edition IS NULL",
                 done.import_id, rspo, EDITION) == 1

    bad = fill_register(tmp_path / "zly.xlsx", awards=[(str(rspo), None, EDITION, "złoty medal", dt.date(2026, 6, 1))])
    after = content_hash(small_copy)
    refused = imports.commit(small_copy, imports.RegisterImport(bad))
    assert refused.refused and refused.file_name == "zly.xlsx"
    assert [(p.sheet, p.row, p.letter, p.column) for p in refused.problems] == [("Nagrody", 2, "D", "Rodzaj nagrody")]
    assert "unknown award kind 'złoty medal'" in refused.problems[0].message
    assert content_hash(small_copy) == after
