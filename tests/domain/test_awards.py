"""From audit decision to recorded award: an imported audit says what the rules grant and what comes
next; `zpb awards confirm` records exactly the awards the rules grant and nothing else, as one
import that `zpb imports undo` takes back; a register award recorded before its audit is linked to it."""
from __future__ import annotations

import datetime as dt

import openpyxl
import pytest

from zpb_lib import store
from zpb_lib.domain.awards import AwardsError, confirm, pending
from zpb_lib.cli import main
from zpb_lib.ingest.audit import ingest_audit, write_template
from zpb_lib.store.write import insert_one, transaction
from support.audits import BY_RSPO, fill, find_row, full_points, school

pytestmark = pytest.mark.both_backends

EDITION = "2025/2026"


def newcomer(con, offset=0) -> int:
    """The RSPO number of a school taking part in 2025/2026 that has no audit then and no award ever."""
    return con.execute(
        "SELECT i.rspo FROM institutions i JOIN participation p ON p.institution_id = i.id "
        "WHERE i.kind IN ('primary', 'general_secondary', 'technical', 'vocational') AND p.joined_edition <= :e AND (p.left_edition IS NULL OR p.left_edition >= :e) "
        "AND NOT EXISTS (SELECT 1 FROM audits a WHERE a.institution_id = i.id AND a.edition = :e) "
        "AND NOT EXISTS (SELECT 1 FROM awards w WHERE w.institution_id = i.id) ORDER BY i.id LIMIT 1 OFFSET :o",
        {"e": EDITION, "o": offset}).fetchone()[0]


def certification(con, ref, tmp_path, points=None, offset=0):
    """A certification audit of a school taking part in 2025/2026, imported; its RSPO number and result."""
    inst = newcomer(con, offset)
    cat = ref.catalogue_for("school", EDITION)
    path = write_template(con, inst, EDITION, tmp_path / f"t{inst}.xlsx", kind="certification")
    filled = fill(path, tmp_path / f"cert{inst}.xlsx", points or {c.id: c.max_points for c in cat.criteria}, kind=None,
                  date=dt.date(2026, 5, 20))
    return inst, ingest_audit(con, filled)


def test_audit_import_says_what_the_rules_grant_and_what_comes_next(con, ref, tmp_path):
    inst, res = certification(con, ref, tmp_path)
    text = "\n".join(res.lines())
    cat = ref.catalogue_for("school", EDITION)
    assert f"grant a certificate" in text and f"{cat.max_total} of {cat.max_total} points" in text
    assert f"zpb awards confirm --edition {EDITION}" in text
    # Nothing is recorded until confirmed.
    assert con.execute(f"SELECT COUNT(*) FROM awards WHERE institution_id = {BY_RSPO} AND edition = ?",
                       (inst, EDITION)).fetchone()[0] == 0


def test_failed_audit_says_why(con, ref, tmp_path):
    cat = ref.catalogue_for("school", EDITION)
    low = {c.id: (1 if c.mandatory else 0) for c in cat.criteria}
    inst, res = certification(con, ref, tmp_path, points=low)
    text = "\n".join(res.lines())
    threshold = 24  # data/rules/school.yaml: certificate min_points
    assert f"no award ({sum(low.values())} of {cat.max_total} points)" in text
    assert f"{threshold - sum(low.values())} points short" in text
    assert "awards confirm" not in text


def test_confirm_records_exactly_the_granted_awards(con, ref, tmp_path, capsys, small_copy):
    granted, _ = certification(con, ref, tmp_path, offset=0)
    cat = ref.catalogue_for("school", EDITION)
    failing, _ = certification(con, ref, tmp_path, points={c.id: 0 for c in cat.criteria})  # the next newcomer
    before = store.content_hash(con)
    due = pending(con, EDITION, ref)
    assert [p.institution.rspo for p in due] == [granted]
    dry = confirm(con, EDITION, dry_run=True)
    assert store.content_hash(con) == before and "dry run" in "\n".join(dry.lines())
    result = confirm(con, EDITION)
    rows = con.execute("SELECT i.rspo, w.kind, w.awarded_on, w.valid_until, w.import_id FROM awards w "
                       "JOIN institutions i ON i.id = w.institution_id WHERE w.edition = ? AND w.import_id IS NOT NULL",
                       (EDITION,)).fetchall()
    ceremony = ref.editions[EDITION].ceremony
    assert rows == [(granted, "certificate", ceremony.isoformat(), ceremony.replace(year=ceremony.year + 2).isoformat(),
                     result.import_id)]
    assert confirm(con, EDITION).awards == []  # nothing left to record
    # The recorded award moves the school's status and the database check has nothing to say about it.
    assert main(["db", "check", "--db", str(small_copy)]) == 0
    capsys.readouterr()
    # One import, undone as a whole.
    assert main(["imports", "undo", str(result.import_id), "--db", str(small_copy)]) == 0
    assert "deleted: 1 awards" in capsys.readouterr().out
    assert [p.institution.rspo for p in pending(con, EDITION, ref)] == [granted]


def test_confirm_with_a_date_and_bad_dates(con, ref, tmp_path, capsys, small_copy):
    certification(con, ref, tmp_path)
    with pytest.raises(AwardsError, match="is not a date"):
        confirm(con, EDITION, date="jutro")
    with pytest.raises(AwardsError, match="outside"):
        confirm(con, EDITION, date="2031-01-01")
    with pytest.raises(AwardsError, match="before the audit"):
        confirm(con, EDITION, date="2026-05-02")
    with pytest.raises(AwardsError, match="unknown edition"):
        confirm(con, "2031/2032")
    assert main(["awards", "confirm", "--edition", "XIX", "--date", "20.11.2026", "--db", str(small_copy)]) == 0
    assert "recorded 1 award(s)" in capsys.readouterr().out
    assert con.execute("SELECT awarded_on, valid_until FROM awards WHERE import_id IS NOT NULL").fetchall() == \
        [("2026-11-20", "2028-11-20")]


def test_register_award_recorded_before_its_audit_is_linked_to_it(con, ref, tmp_path):
    inst = newcomer(con)
    with transaction(con):
        iid = con.execute("SELECT id FROM institutions WHERE rspo = ?", (inst,)).fetchone()[0]
        award = insert_one(con, "awards", {"institution_id": iid, "kind": "certificate", "edition": EDITION,
                                           "awarded_on": "2026-10-15", "valid_until": "2028-10-15"})
    cat = ref.catalogue_for("school", EDITION)
    path = write_template(con, inst, EDITION, tmp_path / "t.xlsx", kind="certification")
    res = ingest_audit(con, fill(path, tmp_path / "c.xlsx", {c.id: c.max_points for c in cat.criteria}, kind=None))
    assert con.execute("SELECT audit_id FROM awards WHERE id = ?", (award,)).fetchone()[0] is not None
    assert "already recorded" in "\n".join(res.lines())
    assert pending(con, EDITION, ref) == []
    # Undoing the audit import unlinks the award again and keeps it.
    from zpb_lib.store.history import undo

    undo(con, res.import_id)
    assert con.execute("SELECT audit_id FROM awards WHERE id = ?", (award,)).fetchone() == (None,)


def test_protocol_from_an_older_zpb_names_the_internal_id(con, ref, tmp_path):
    """Protocols made before institutions had identifiers in zpb carry the internal id under
    „ID placówki”: they are still read, for the institution they were made for."""
    inst = school(con)
    iid = con.execute("SELECT id FROM institutions WHERE rspo = ?", (inst,)).fetchone()[0]
    path = write_template(con, inst, EDITION, tmp_path / "t.xlsx")

    def older(ws):
        r = find_row(ws, 1, "Placówka (RSPO / POL-on)")
        ws.cell(r, 1).value = "ID placówki"
        ws.cell(r, 4).value = iid

    filled = fill(path, tmp_path / "stary.xlsx", full_points(ref.catalogue_for("school", EDITION)), edit=older)
    res = ingest_audit(con, filled)
    assert con.execute("SELECT institution_id FROM audits a WHERE a.import_id = ?", (res.import_id,)).fetchone() == (iid,)
    wb = openpyxl.load_workbook(filled)
    assert find_row(wb["Protokół audytu"], 1, "ID placówki")
