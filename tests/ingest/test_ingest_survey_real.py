"""Survey exports as real forms make them: a checkbox answer ticking „Nigdzie — nie ma takich miejsc”
together with a place (no form can forbid it), columns a teacher added to the form, a question whose
header was mistyped or edited, rows that cannot be read. Files are written as Google Forms and
Microsoft Forms write them (tests/ingest/test_ingest_survey.py's writers, then edited as a teacher would),
and what the database must hold is computed here from the rows the test wrote, under the rules the
user guide states — never from the importer's output."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

from zpb_lib import store
from zpb_lib.cli import main
from zpb_lib.ingest.survey import ingest_survey
from zpb_lib.store.backend import IntegrityError
from zpb_lib.store.write import transaction
from support.ingest import refused
from support.surveys import (EDITION, NAMED_PLACES, answers, expected_counts, free_target, observed_counts,
                                write_google_csv, write_msforms_xlsx)

pytestmark = pytest.mark.both_backends

PLACE_COLUMNS = (*NAMED_PLACES, "nowhere")
NOWHERE = "„Nigdzie — nie ma takich miejsc”"


def ingest(con, path, inst, **kw):
    args = dict(institution=inst, edition=EDITION, group="students", wave="baseline")
    args.update(kw)
    return ingest_survey(con, path, **args)


def details(con, import_id: int) -> dict:
    return json.loads(con.execute("SELECT details FROM imports WHERE id = ?", (import_id,)).fetchone()[0])


def stored_places(con, import_id: int) -> list[tuple]:
    return con.execute(f"SELECT {', '.join('place_' + c for c in PLACE_COLUMNS)} FROM survey_responses "
                       "WHERE import_id = ? ORDER BY id", (import_id,)).fetchall()


def places_as_the_guide_says(chosen: set[str] | None) -> tuple:
    """The documented rule: an empty answer is every column empty; „Nigdzie” with a place is the
    places; „Nigdzie” alone is an answer naming no place."""
    if not chosen:
        return (None,) * len(PLACE_COLUMNS)
    if "nowhere" in chosen and len(chosen) > 1:
        chosen = chosen - {"nowhere"}
    return tuple(int(c in chosen) for c in PLACE_COLUMNS)


def item_letter(ref, item_id: str, before: int) -> str:
    """The column letter of a question in a file with ``before`` columns ahead of the questions."""
    return get_column_letter(before + 1 + [i.id for i in ref.questionnaires["students"].items].index(item_id))


def edit_csv(path: Path, edit) -> Path:
    """Rewrite a CSV export's table (a list of rows, header first) as a teacher's spreadsheet would."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        table = list(csv.reader(fh))
    table = edit(table)
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh, quoting=csv.QUOTE_ALL).writerows(table)  # Google quotes every field
    return path


def with_contradictions(rows: list[dict], every: int = 4) -> list[int]:
    """Add „Nigdzie” to every ``every``-th answer that names places; the indexes changed."""
    changed = []
    naming = [i for i, r in enumerate(rows) if r["dangerous_places"] and "nowhere" not in r["dangerous_places"]]
    for i in naming[::every]:
        rows[i]["dangerous_places"] = rows[i]["dangerous_places"] | {"nowhere"}
        changed.append(i)
    return changed


# --------------------------------------------------------------------------- „Nigdzie” with a place

@pytest.mark.parametrize("maker, lang", [("google", "pl"), ("google", "en"), ("ms", "pl")])
def test_nowhere_with_a_place_is_stored_as_the_places(con, ref, tmp_path, maker, lang):
    rows = answers(ref, "students", 90, seed=41, empty_share=0.05)
    changed = with_contradictions(rows)
    assert len(changed) > 10  # more than the summary names
    if maker == "google":
        path = write_google_csv(tmp_path / "miejsca.csv", ref, "students", rows, lang=lang)
    else:
        path = write_msforms_xlsx(tmp_path / "miejsca.xlsx", ref, "students", rows, lang=lang)
    if maker == "google":  # one cell holds a place and „Nigdzie”, joined as Google joins them
        nowhere = "Nigdzie — nie ma takich miejsc" if lang == "pl" else "Nowhere — there are no such places"
        assert f', {nowhere}"' in path.read_text(encoding="utf-8-sig")
    res = ingest(con, path, free_target(con))
    assert stored_places(con, res.import_id) == [places_as_the_guide_says(r["dangerous_places"]) for r in rows]
    # Nothing stored names no place and a place at once (expected_counts says 0), the rest is as written.
    assert observed_counts(con, res.import_id) == expected_counts(rows)
    file_rows = [i + 2 for i in changed]  # the header is row 1
    d = details(con, res.import_id)
    assert (d["nowhere_with_a_place"], d["nowhere_with_a_place_rows"]) == (len(changed), file_rows)
    text = "\n".join(res.lines())
    assert f"{len(changed)} answers ticked {NOWHERE} together with a place: stored as the places" in text
    assert f"stored as the places (column {item_letter(ref, 'dangerous_places', 2 if maker == 'google' else 5)}, " \
        f"rows {', '.join(map(str, file_rows[:10]))}, …)" in text


def test_database_still_refuses_nowhere_with_a_place(con, ref, tmp_path):
    """The import resolves the contradiction; the database's own rule against it stays."""
    rows = answers(ref, "students", 20, seed=42, empty_share=0)
    for r in rows:
        r["dangerous_places"] = {"toilets"}
    res = ingest(con, write_google_csv(tmp_path / "check.csv", ref, "students", rows), free_target(con))
    before = store.content_hash(con)
    with pytest.raises(IntegrityError):
        with transaction(con):
            con.execute("UPDATE survey_responses SET place_nowhere = 1 WHERE import_id = ?", (res.import_id,))
    assert store.content_hash(con) == before


# --------------------------------------------------------------------------- columns a teacher adds

EXTRA = {  # header: (the values of the respondents, cyclically)
    "Klasa": ["klasa 7c", "klasa 8a", "klasa 6b"],
    "Imię i nazwisko ucznia": ["Zofia Testowa-Uczennica", "Adam Próbny-Uczeń", ""],
    "Uwagi": ["kot w szatni straszy", "", "nic do dodania, dziękuję"],
    "Szkoła": ["SP Testowa nr 99 w Bochni"],
    "Czy czujesz się bezpiecznie na przerwach?": ["Tak", "Nie"],  # a question of the teacher's own
}
PERSONAL_EXTRA = ["Imię i nazwisko ucznia"]
OTHER_EXTRA = ["Klasa", "Uwagi", "Szkoła", "Czy czujesz się bezpiecznie na przerwach?"]
SECRETS = [v for values in EXTRA.values() for v in values if len(v) > 4]


def add_columns_csv(path: Path, extra: dict[str, list[str]], at: int) -> Path:
    def edit(table):
        out = []
        for n, r in enumerate(table):
            cells = list(extra) if n == 0 else [v[(n - 1) % len(v)] for v in extra.values()]
            out.append(r[:at] + cells + r[at:])
        return out
    return edit_csv(path, edit)


def add_columns_xlsx(path: Path, extra: dict[str, list[str]], at: int) -> Path:
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    ws.insert_cols(at + 1, len(extra))
    for k, (header, values) in enumerate(extra.items()):
        ws.cell(1, at + 1 + k).value = header
        for r in range(2, ws.max_row + 1):
            ws.cell(r, at + 1 + k).value = values[(r - 2) % len(values)] or None
    wb.save(path)
    return path


@pytest.mark.parametrize("maker", ["google", "ms"])
def test_columns_that_are_no_question_are_listed_and_ignored(con, ref, tmp_path, maker):
    rows = answers(ref, "students", 45, seed=43)
    if maker == "google":
        path = add_columns_csv(write_google_csv(tmp_path / "klasa.csv", ref, "students", rows), EXTRA, at=2)
    else:
        path = add_columns_xlsx(write_msforms_xlsx(tmp_path / "klasa.xlsx", ref, "students", rows, lang="pl"),
                                EXTRA, at=5)
    res = ingest(con, path, free_target(con))
    assert res.file.other == OTHER_EXTRA
    assert set(PERSONAL_EXTRA) <= set(res.file.personal)
    assert observed_counts(con, res.import_id) == expected_counts(rows)
    text = "\n".join(res.lines())
    assert ("ignored, not questions of the questionnaire (not stored): „Klasa”, „Uwagi”, „Szkoła”, "
            "„Czy czujesz się bezpiecznie na przerwach?”") in text
    assert "ignored as personal data (never stored): " in text and "„Imię i nazwisko ucznia”" in text
    d = details(con, res.import_id)
    assert d["ignored_other"] == OTHER_EXTRA and "Imię i nazwisko ucznia" in d["ignored_personal"]
    # What the respondents wrote in those columns is nowhere in the database.
    dump = "\n".join(repr(row) for t in store.table_counts(con) for row in con.execute(f"SELECT * FROM {t}"))
    for secret in SECRETS:
        assert secret not in dump, secret


@pytest.mark.parametrize("header", ["Imię i nazwisko ucznia", "Nazwisko", "Numer w dzienniku", "Adres e-mail rodzica",
                                    "Telefon do rodzica", "Student name"])
def test_personal_columns_are_recognised_by_their_words(con, ref, tmp_path, header):
    rows = answers(ref, "students", 8, seed=44)
    path = add_columns_csv(write_google_csv(tmp_path / "osobowe.csv", ref, "students", rows),
                           {header: ["Zofia Testowa-Uczennica"]}, at=1)
    res = ingest(con, path, free_target(con))
    assert header in res.file.personal and header not in res.file.other


# --------------------------------------------------------------------------- columns that look like questions

def header_edit(path: Path, column: int, header: str) -> Path:
    def edit(table):
        table[0][column] = header
        return table
    return edit_csv(path, edit)


def test_question_with_its_number_changed_is_still_the_question(con, ref, tmp_path):
    """Forms number questions as their authors like: „7. Ufam policji.” is question 12 all the same."""
    rows = answers(ref, "students", 15, seed=45)
    items = ref.questionnaires["students"].items
    path = write_google_csv(tmp_path / "numery.csv", ref, "students", rows)
    for k, item in enumerate(items):
        header_edit(path, 2 + k, f"{(k + 5) % len(items) + 1}. {item.text_pl}")
    res = ingest(con, path, free_target(con))
    assert observed_counts(con, res.import_id) == expected_counts(rows)
    assert res.file.other == []


def test_mistyped_question_is_refused_naming_the_question(con, ref, tmp_path):
    rows = answers(ref, "students", 10, seed=46)
    path = header_edit(write_google_csv(tmp_path / "literowka.csv", ref, "students", rows), 2,
                       "Czuję się bezpieczie w mojej szkole.")  # question 1, a letter missing
    err = refused(con, lambda: ingest(con, path, free_target(con)), "literowka.csv",
                  "row 1, column C „Czuję się bezpieczie w mojej szkole.”",
                  "resembles question 1 „Czuję się bezpiecznie w mojej szkole.”", "correct the header")
    assert "missing question column" not in str(err)  # said once, by the column that is the question
    assert len(err.problems) == 1


def test_question_with_a_number_in_its_text_changed_is_refused(con, ref, tmp_path):
    """„6 months” is not the questionnaire's „3 months”: neither stored as it nor dropped."""
    rows = answers(ref, "students", 10, seed=47)
    q3 = ref.questionnaires["students"].items[2].text_pl
    assert "3 miesiącach" in q3
    path = header_edit(write_google_csv(tmp_path / "miesiace.csv", ref, "students", rows), 4,
                       q3.replace("3 miesiącach", "6 miesiącach"))
    refused(con, lambda: ingest(con, path, free_target(con)), "miesiace.csv", "row 1, column E",
            f"resembles question 3 „{q3}”")


def test_second_copy_of_a_question_is_refused(con, ref, tmp_path):
    """A question deleted and made again in the form leaves two columns: both hold answers."""
    rows = answers(ref, "students", 10, seed=48)
    q12 = ref.questionnaires["students"].items[11].text_pl
    path = add_columns_csv(write_google_csv(tmp_path / "kopia.csv", ref, "students", rows),
                           {q12.replace("policji", "polcji"): ["Raczej się zgadzam", ""]}, at=2)
    refused(con, lambda: ingest(con, path, free_target(con)), "kopia.csv", "row 1, column C",
            f"resembles question 12 „{q12}”", f"which column {item_letter(ref, 'trust_police', 3)}")


def test_mistyped_question_of_another_group_gets_the_group_hint(con, ref, tmp_path):
    rows = answers(ref, "students", 10, seed=49)
    parents_q1 = ref.questionnaires["parents"].items[0].text_pl
    path = add_columns_csv(write_google_csv(tmp_path / "rodzice.csv", ref, "students", rows),
                           {parents_q1.replace("bezpieczne", "bezpieczene"): ["Tak"]}, at=2)
    refused(con, lambda: ingest(con, path, free_target(con)), "rodzice.csv", "row 1, column C",
            f"resembles question 1 „{parents_q1}” of the parents' questionnaire", "check --group")


def test_missing_question_names_the_columns_set_aside(con, ref, tmp_path):
    """A question reworded beyond recognition is missing; the message names the columns zpb took for
    no question, so that the user finds it."""
    rows = answers(ref, "students", 10, seed=50)
    path = add_columns_csv(write_google_csv(tmp_path / "inaczej.csv", ref, "students", rows),
                           {"Klasa": ["klasa 7c"]}, at=2)
    header_edit(path, 3 + 3, "Wyzwiska w szkole")  # question 4, after the added column
    q4 = ref.questionnaires["students"].items[3].text_pl
    refused(con, lambda: ingest(con, path, free_target(con)), "inaczej.csv", f"question 4 „{q4}”",
            "columns taken for no question (ignored): C „Klasa”, G „Wyzwiska w szkole”")


# --------------------------------------------------------------------------- rows that cannot be read

def spoil(rows: list[dict], ref) -> tuple[list[dict], dict[int, list[str]]]:
    """Answers a form cannot have given: a label of another scale in question 1 (every 11th row) and
    an unknown place (every 17th); the indexes spoiled, with the item of each problem."""
    bad: dict[int, list[str]] = {}
    for i in range(3, len(rows), 11):
        rows[i]["safe_school"] = "Raczej tak"
        bad.setdefault(i, []).append("safe_school")
    for i in range(5, len(rows), 17):
        rows[i]["dangerous_places"] = "Toalety, Piwnica"
        bad.setdefault(i, []).append("dangerous_places")
    return rows, bad


def write_spoiled(maker: str, path: Path, ref, rows: list[dict]) -> tuple[Path, int]:
    """The export with the spoiled cells as written (the writers take values, not labels); the number
    of columns before the questions."""
    clean = [dict(r, safe_school=None if isinstance(r["safe_school"], str) else r["safe_school"],
                  dangerous_places=None if isinstance(r["dangerous_places"], str) else r["dangerous_places"])
             for r in rows]
    before = 2 if maker == "google" else 5
    if maker == "google":
        write_google_csv(path, ref, "students", clean)

        def edit(table):
            for i, r in enumerate(rows):
                for item in ("safe_school", "dangerous_places"):
                    if isinstance(r[item], str):
                        table[i + 1][before + [x.id for x in ref.questionnaires["students"].items].index(item)] = r[item]
            return table
        edit_csv(path, edit)
    else:
        write_msforms_xlsx(path, ref, "students", clean, lang="pl")
        wb = openpyxl.load_workbook(path)
        ws = wb.active
        for i, r in enumerate(rows):
            for item in ("safe_school", "dangerous_places"):
                if isinstance(r[item], str):
                    ws[f"{item_letter(ref, item, before)}{i + 2}"] = r[item].replace(", ", ";") + \
                        (";" if item == "dangerous_places" else "")
        wb.save(path)
    return path, before


@pytest.mark.parametrize("maker", ["google", "ms"])
def test_unreadable_rows_refuse_the_file_naming_row_and_column(con, ref, tmp_path, maker):
    rows, bad = spoil(answers(ref, "students", 60, seed=51), ref)
    path, before = write_spoiled(maker, tmp_path / f"zle.{'csv' if maker == 'google' else 'xlsx'}", ref, rows)
    err = refused(con, lambda: ingest(con, path, free_target(con)), path.name)
    expected = sorted((i + 2, item_letter(ref, item, before)) for i, items in bad.items() for item in items)
    assert sorted((p.row, p.letter) for p in err.problems) == expected
    text = str(err)
    listed = ", ".join(str(i + 2) for i in sorted(bad)[:10])
    assert f"{len(bad)} rows cannot be read ({listed}" in text
    assert f"to store the other {len(rows) - len(bad)} and leave these out" in text
    assert "--skip-bad-rows" in text and "'Raczej tak' is not an answer" in text and "'Piwnica'" in text


@pytest.mark.parametrize("maker", ["google", "ms"])
def test_skip_bad_rows_stores_the_others_and_says_which(con, ref, tmp_path, maker):
    rows = answers(ref, "students", 60, seed=52)
    changed = with_contradictions(rows, every=3)
    rows, bad = spoil(rows, ref)
    assert set(changed) - set(bad) and set(changed) & set(bad)  # a contradiction in a skipped row too
    path, before = write_spoiled(maker, tmp_path / f"zle.{'csv' if maker == 'google' else 'xlsx'}", ref, rows)
    res = ingest(con, path, free_target(con), skip_bad_rows=True)
    good = [r for i, r in enumerate(rows) if i not in bad]
    assert res.rows == len(good) == len(rows) - len(bad)
    assert stored_places(con, res.import_id) == [places_as_the_guide_says(r["dangerous_places"]) for r in good]
    assert observed_counts(con, res.import_id) == expected_counts(good)
    skipped_rows = sorted(i + 2 for i in bad)
    resolved_rows = [i + 2 for i in changed if i not in bad]  # a skipped row resolves nothing
    d = details(con, res.import_id)
    assert d["rows_skipped"] == len(bad) and d["skipped_rows"] == skipped_rows
    assert sorted((p["row"], p["column"]) for p in d["skipped_problems"]) == \
        sorted((i + 2, item_letter(ref, item, before)) for i, items in bad.items() for item in items)
    assert {p["problem"] for p in d["skipped_problems"]} == {"answer not on the scale"}
    assert "Raczej tak" not in json.dumps(d, ensure_ascii=False)  # where and what kind, not the text
    assert (d["nowhere_with_a_place"], d["nowhere_with_a_place_rows"]) == (len(resolved_rows), resolved_rows)
    text = "\n".join(res.lines())
    assert f"skipped {len(bad)} rows that cannot be read (--skip-bad-rows): " \
        f"{', '.join(map(str, skipped_rows[:10]))}" in text
    first = skipped_rows[0]
    assert f"    row {first}, column " in text and "is not an answer of this question's scale" in text
    assert f"stored {len(good)} responses" in text


def test_skip_bad_rows_in_a_dry_run_stores_nothing_and_says_what_it_would_skip(con, ref, tmp_path):
    rows, bad = spoil(answers(ref, "students", 30, seed=53), ref)
    path, _ = write_spoiled("google", tmp_path / "proba.csv", ref, rows)
    before = store.content_hash(con)
    res = ingest(con, path, free_target(con), skip_bad_rows=True, dry_run=True)
    assert store.content_hash(con) == before
    text = "\n".join(res.lines())
    assert f"would skip {len(bad)} rows" in text and "dry run: nothing was stored" in text
    assert res.rows == len(rows) - len(bad)


def test_row_cut_short_is_a_row_that_cannot_be_read(con, ref, tmp_path):
    rows = answers(ref, "students", 20, seed=54, empty_share=0)
    path = write_google_csv(tmp_path / "uciete.csv", ref, "students", rows)
    n_fields = 2 + len(ref.questionnaires["students"].items)
    edit_csv(path, lambda table: table[:8] + [table[8][:n_fields - 3]] + table[9:])  # row 9 lost 3 fields
    refused(con, lambda: ingest(con, path, free_target(con)), "uciete.csv", "row 9", "truncated or a row was cut",
            "1 row cannot be read (9)")
    res = ingest(con, path, free_target(con), skip_bad_rows=True)
    assert res.rows == 19 and details(con, res.import_id)["skipped_problems"] == [
        {"row": 9, "column": get_column_letter(n_fields - 2), "header": ref.questionnaires["students"].items[-3].text_pl,
         "problem": "row cut short"}]


def test_more_bad_rows_than_listed_are_all_counted(con, ref, tmp_path):
    """Twenty problems are spelled out; the rest are counted, in the refusal, the summary and the
    import's record alike."""
    rows = answers(ref, "students", 80, seed=57, empty_share=0)
    bad = list(range(0, 80, 2))  # 40 rows, one problem each
    for i in bad:
        rows[i]["safe_school"] = "Raczej tak"
    path, before = write_spoiled("google", tmp_path / "duzo.csv", ref, rows)
    err = refused(con, lambda: ingest(con, path, free_target(con)), "duzo.csv: 40 problems, nothing was stored",
                  "… and 20 more", "40 rows cannot be read (2, 4, 6, 8, 10, 12, 14, 16, 18, 20, …)",
                  "to store the other 40 and leave these out")
    assert [p.row for p in err.problems] == [i + 2 for i in bad[:20]]
    res = ingest(con, path, free_target(con), skip_bad_rows=True)
    assert res.rows == 40 and "    … and 20 more" in res.lines()
    d = details(con, res.import_id)
    assert d["rows_skipped"] == 40 and [p["row"] for p in d["skipped_problems"]] == [i + 2 for i in bad]
    assert {p["column"] for p in d["skipped_problems"]} == {item_letter(ref, "safe_school", before)}


def test_no_readable_row_is_refused_even_with_skip_bad_rows(con, ref, tmp_path):
    rows = answers(ref, "students", 6, seed=55, empty_share=0)
    for r in rows:
        r["safe_school"] = "Raczej tak"
    path, _ = write_spoiled("google", tmp_path / "nic.csv", ref, rows)
    refused(con, lambda: ingest(con, path, free_target(con), skip_bad_rows=True), "nic.csv",
            "no row of the file can be read (6 rows: 2, 3, 4, 5, 6, 7)")


def test_cli_skip_bad_rows(small_copy, ref, tmp_path, capsys):
    con = store.connect(small_copy)
    inst = free_target(con)
    con.close()
    rows, bad = spoil(answers(ref, "students", 40, seed=56), ref)
    path, _ = write_spoiled("google", tmp_path / "cli.csv", ref, rows)
    argv = ["ingest", "survey", str(path), "--institution", str(inst), "--edition", EDITION, "--group", "uczniowie",
            "--wave", "diagnoza", "--db", str(small_copy)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("zpb: refused: cli.csv: ") and "import the file again with --skip-bad-rows" in err
    assert main(argv + ["--skip-bad-rows", "--dry-run"]) == 0
    assert f"would skip {len(bad)} rows" in capsys.readouterr().out
    assert main(argv + ["--skip-bad-rows"]) == 0
    out = capsys.readouterr().out
    assert f"skipped {len(bad)} rows" in out and f"stored {len(rows) - len(bad)} responses" in out


# --------------------------------------------------------------------------- an institution not in the database

@pytest.fixture
def registered(empty_db, tmp_path):
    """An empty database with the sample RSPO export imported (its preschools are not stored)."""
    from support.rspo import malopolska_rows, write_rspo_export
    from zpb_lib.ingest.institutions import ingest_institutions

    rows = malopolska_rows()
    res = ingest_institutions(empty_db, write_rspo_export(tmp_path / "wyniki-rspo.csv", rows))
    return empty_db, rows, res.import_id


def test_survey_for_a_preschool_says_it_is_out_of_scope(registered, ref, tmp_path):
    con, rows, import_id = registered
    preschools = [int(r["Numer RSPO"]) for r in rows if r["Typ"] == "Przedszkole"
                  and r["Kod terytorialny powiat"].startswith("12")]
    assert preschools
    path = write_google_csv(tmp_path / "przedszkole.csv", ref, "students", answers(ref, "students", 5))
    for rspo in preschools:
        err = refused(con, lambda: ingest(con, path, rspo), "przedszkole.csv",
                      f"RSPO {rspo} is not in the database: the RSPO export „wyniki-rspo.csv” (import #{import_id}",
                      "lists it as „Przedszkole”, a type of institution the programme does not cover")
        assert "zpb ingest institutions" not in str(err)


def test_a_type_zpb_does_not_know_is_named_as_such(registered, ref, tmp_path):
    con, rows, import_id = registered
    known = {"Szkoła podstawowa", "Gimnazjum", "Liceum ogólnokształcące", "Technikum", "Branżowa szkoła I stopnia",
             "Branżowa szkoła II stopnia", "Szkoła policealna", "Szkoła specjalna przysposabiająca do pracy",
             "Szkoła muzyczna I stopnia", "Liceum sztuk plastycznych", "Zespół szkół i placówek oświatowych",
             "Przedszkole", "Młodzieżowy ośrodek wychowawczy"}
    unknown = next(r for r in rows if r["Typ"] not in known and r["Kod terytorialny powiat"].startswith("12"))
    path = write_google_csv(tmp_path / "bursa.csv", ref, "students", answers(ref, "students", 5))
    refused(con, lambda: ingest(con, path, int(unknown["Numer RSPO"])),
            f"lists it as „{unknown['Typ']}”, a type zpb does not know", "rspo_types.yaml")


def test_a_number_no_export_listed_keeps_the_plain_message(registered, ref, tmp_path, capsys):
    con, rows, import_id = registered
    other_voivodeship = next(int(r["Numer RSPO"]) for r in rows if not r["Kod terytorialny powiat"].startswith("12"))
    path = write_google_csv(tmp_path / "inne.csv", ref, "students", answers(ref, "students", 5))
    for rspo in (other_voivodeship, 9999999):
        refused(con, lambda: ingest(con, path, rspo), f"no institution with RSPO {rspo} in the database",
                "zpb institutions find")
    # Once the export is undone, the database no longer knows of the preschool either.
    from zpb_lib.store.history import undo

    preschool = next(int(r["Numer RSPO"]) for r in rows if r["Typ"] == "Przedszkole")
    undo(con, import_id)
    refused(con, lambda: ingest(con, path, preschool), f"no institution with RSPO {preschool} in the database")
