"""Every import is listed and can be taken back: `zpb imports undo` removes exactly what one import
stored and restores what it changed, in one transaction, and refuses with the reason while later
data depends on it."""
from __future__ import annotations

import datetime as dt

import pytest

from zpb_lib import store
from zpb_lib.cli import main
from zpb_lib.ingest.register import ingest_register
from zpb_lib.store.history import UndoRefused, list_imports, undo
from zpb_lib.store.write import insert_one, record_import, transaction, update_logged
from support.register import fill_register
from support.surveys import answers, free_target, ingest, write_google_csv

pytestmark = pytest.mark.both_backends

EDITION = "2025/2026"


def _school(con, rspo: int, import_id: int, name: str = "Szkoła Podstawowa nr 5 w Bochni") -> int:
    return insert_one(con, "institutions", {"rspo": rspo, "name": name, "kind": "primary", "county": "1201",
                                            "municipality": "Bochnia", "locality": "Bochnia", "opened_year": 1990,
                                            "import_id": import_id})


def test_undo_takes_back_exactly_one_import(con, ref, tmp_path, content_hash, small_copy):
    before = content_hash(small_copy)
    first = ingest(con, write_google_csv(tmp_path / "a.csv", ref, "students", answers(ref, "students", 25)),
                   free_target(con))
    after_first = content_hash(small_copy)
    second = ingest(con, write_google_csv(tmp_path / "b.csv", ref, "students", answers(ref, "students", 30, seed=4)),
                    free_target(con))
    records = list_imports(con)
    assert [(r.id, r.kind, r.file_name, r.rows) for r in records[-2:]] == \
        [(first.import_id, "survey", "a.csv", 25), (second.import_id, "survey", "b.csv", 30)]
    result = undo(con, second.import_id)
    assert result.deleted == {"survey_responses": 30}
    assert content_hash(small_copy) == after_first
    undo(con, first.import_id)
    assert content_hash(small_copy) == before
    with pytest.raises(UndoRefused, match="there is no import"):
        undo(con, first.import_id)


def test_dry_run_changes_nothing(con, ref, tmp_path, content_hash, small_copy):
    res = ingest(con, write_google_csv(tmp_path / "a.csv", ref, "students", answers(ref, "students", 12)),
                 free_target(con))
    before = content_hash(small_copy)
    result = undo(con, res.import_id, dry_run=True)
    assert result.deleted == {"survey_responses": 12} and "would delete" in "\n".join(result.lines())
    assert content_hash(small_copy) == before


def test_undo_restores_changed_rows(con, content_hash, small_copy):
    """An import that renamed a school and marked another as gone from the register: undo puts the
    earlier values back."""
    a, b = (r[0] for r in con.execute("SELECT id FROM institutions WHERE kind = 'primary' ORDER BY id LIMIT 2"))
    before = content_hash(small_copy)
    with transaction(con):
        x = record_import(con, "institutions", "rspo.csv", "h1", 2)
        update_logged(con, "institutions", a, {"name": "Nowa nazwa", "locality": "Nowe Miasto"}, x)
        update_logged(con, "institutions", b, {"in_register": 0}, x)
        new = _school(con, 990001, x)
    assert con.execute("SELECT name FROM institutions WHERE id = ?", (a,)).fetchone() == ("Nowa nazwa",)
    result = undo(con, x)
    assert result.deleted == {"institutions": 1} and result.restored == {"institutions": 2}
    assert con.execute("SELECT COUNT(*) FROM institutions WHERE id = ?", (new,)).fetchone() == (0,)
    assert content_hash(small_copy) == before


def test_undo_refused_while_later_data_depends_on_it(con, ref, tmp_path, content_hash, small_copy):
    with transaction(con):
        x = record_import(con, "institutions", "rspo.csv", "h1", 1)
        iid = _school(con, 990002, x)
    with transaction(con):
        y = record_import(con, "register", "rejestr.xlsx", "h2", 1)
        insert_one(con, "participation", {"institution_id": iid, "joined_edition": "2024/2025", "import_id": y})
    survey = ingest(con, write_google_csv(tmp_path / "s.csv", ref, "students", answers(ref, "students", 11)), 990002)
    with transaction(con):
        z = record_import(con, "institutions", "rspo-2.csv", "h3", 1)
        update_logged(con, "institutions", iid, {"name": "Szkoła Podstawowa nr 5 im. Kopernika w Bochni"}, z)
    before = content_hash(small_copy)
    with pytest.raises(UndoRefused) as info:
        undo(con, x)
    text = str(info.value)
    assert f"#{y} (register, „rejestr.xlsx”)" in text and f"#{survey.import_id} (survey" in text
    assert f"later change(s) to institutions rows this import added are stored by #{z}" in text
    with pytest.raises(UndoRefused, match="only this import's participation rows cover"):
        undo(con, y)
    assert content_hash(small_copy) == before
    # In the order the message asks for, everything goes.
    for i in (z, survey.import_id, y, x):
        undo(con, i)
    assert con.execute("SELECT COUNT(*) FROM institutions WHERE rspo = 990002").fetchone() == (0,)


def test_later_change_to_a_changed_row_blocks_undo(con):
    a = con.execute("SELECT id FROM institutions ORDER BY id LIMIT 1").fetchone()[0]
    with transaction(con):
        x = record_import(con, "institutions", "old.csv", "h1", 1)
        update_logged(con, "institutions", a, {"name": "Pierwsza zmiana"}, x)
    with transaction(con):
        y = record_import(con, "institutions", "new.csv", "h2", 1)
        update_logged(con, "institutions", a, {"name": "Druga zmiana"}, y)
    with pytest.raises(UndoRefused, match=f"later change.*#{y}"):
        undo(con, x)
    undo(con, y)
    undo(con, x)
    assert con.execute("SELECT name FROM institutions WHERE id = ?", (a,)).fetchone()[0] not in \
        ("Pierwsza zmiana", "Druga zmiana")


def test_cli_list_and_undo(small_copy, ref, tmp_path, capsys):
    con = store.connect(small_copy)
    res = ingest(con, write_google_csv(tmp_path / "ankieta.csv", ref, "students", answers(ref, "students", 14)),
                 free_target(con))
    con.close()
    assert main(["imports", "list", "--db", str(small_copy)]) == 0
    out = capsys.readouterr().out
    line = next(l for l in out.splitlines() if l.strip().startswith(str(res.import_id)))
    assert "survey" in line and "ankieta.csv" in line and " 14 " in line and res.file.content_hash[:12] in line
    assert main(["imports", "undo", str(res.import_id), "--db", str(small_copy)]) == 0
    assert "deleted: 14 survey_responses" in capsys.readouterr().out
    assert main(["imports", "undo", str(res.import_id), "--db", str(small_copy)]) == 2
    assert "there is no import" in capsys.readouterr().err


def test_a_refusal_names_the_whole_chain_and_undoes_it_in_one_step(con, tmp_path, content_hash, small_copy, capsys):
    """The finding: undoing an import was blocked by a later one, whose undo was blocked by the next,
    and the first refusal named only the first. Import x adds a partner, y an action naming it, z
    marks that action done: z depends on x only through y. The refusal of x names y and z, and
    `--with-later` undoes all three (z, y, x) in one transaction; `--dry-run` first says what each
    would delete and restore, changing nothing."""
    db = str(small_copy)
    rspo = con.execute("SELECT rspo FROM institutions WHERE county = '1201' AND kind = 'primary' "
                       "ORDER BY id LIMIT 1").fetchone()[0]
    before = content_hash(small_copy)
    action = (str(rspo), None, EDITION, "inne", "profilaktyczne", "Festyn rodzinny", "Rada Rodziców SP",
              dt.date(2026, 5, 30))
    x = ingest_register(con, fill_register(tmp_path / "x.xlsx", partners=[("Rada Rodziców SP", "rodzice",
                                                                            "bocheński")])).import_id
    y = ingest_register(con, fill_register(tmp_path / "y.xlsx", actions=[action + ("planowane",)])).import_id
    z = ingest_register(con, fill_register(tmp_path / "z.xlsx", actions=[action + ("wykonane",)])).import_id
    after = content_hash(small_copy)

    assert main(["imports", "undo", str(x), "--db", db]) == 2
    err = capsys.readouterr().err
    assert f"1 action(s) naming partners this import added are stored by #{y} (register, „y.xlsx”)" in err
    assert (f"the imports in the way, directly or through others: #{y} (register, „y.xlsx”), #{z} (register, "
            "„z.xlsx”)") in err
    assert f"zpb imports undo {x} --with-later" in err

    assert main(["imports", "undo", str(x), "--with-later", "--dry-run", "--db", db]) == 0
    out = capsys.readouterr().out
    assert f"would undo import #{x} with the 2 import(s) that depend on it (#{z}, #{y})" in out
    order = [line.split()[1] for line in out.splitlines() if line.startswith("import #")]
    assert order == [f"#{z}", f"#{y}", f"#{x}"]
    assert "would restore the earlier values of: 1 action_items" in out
    assert "would delete: 1 action_items" in out and "would delete: 1 partners" in out
    assert out.rstrip().endswith("dry run: nothing was changed")
    assert content_hash(small_copy) == after

    assert main(["imports", "undo", str(x), "--with-later", "--db", db]) == 0
    assert f"imports #{z}, #{y}, #{x} are undone" in capsys.readouterr().out
    assert content_hash(small_copy) == before
    assert main(["imports", "undo", str(x), "--with-later", "--db", db]) == 2
    assert "there is no import" in capsys.readouterr().err


def test_a_chain_that_data_from_no_import_depends_on_is_refused(con, tmp_path, content_hash, small_copy, capsys):
    """Demo data (stored by no import) in an edition only an import's participation covers: nothing
    takes it away, so neither the undo nor the undo with the later imports is possible."""
    iid, rspo = con.execute("SELECT i.id, i.rspo FROM institutions i WHERE EXISTS (SELECT 1 FROM audits a WHERE "
                            "a.institution_id = i.id) AND i.rspo IS NOT NULL ORDER BY i.id LIMIT 1").fetchone()
    joined = con.execute("SELECT MIN(joined_edition) FROM participation WHERE institution_id = ?", (iid,)).fetchone()[0]
    with transaction(con):
        con.execute("DELETE FROM participation WHERE institution_id = ?", (iid,))
    x = ingest_register(con, fill_register(tmp_path / "x.xlsx", participation=[(str(rspo), None, joined, None)]))
    before = content_hash(small_copy)
    assert main(["imports", "undo", str(x.import_id), "--with-later", "--db", str(small_copy)]) == 2
    err = capsys.readouterr().err
    assert "data no import stored (demo data) depends on it" in err and "nothing was changed" in err
    assert content_hash(small_copy) == before
