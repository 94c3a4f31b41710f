"""`zpb db check` reports planted inconsistencies precisely, one line each."""
from __future__ import annotations

import pytest

from zpb_lib import store
from zpb_lib.cli import main
from zpb_lib.store.write import insert_one, insert_rows, transaction

pytestmark = pytest.mark.both_backends


def _audit(con, ref, inst, edition, kind, date, points=None, catalogue="school@1"):
    aid = insert_one(con, "audits", {"institution_id": inst, "edition": edition, "kind": kind,
                                     "audit_date": date, "catalogue": catalogue})
    cat = ref.catalogues[catalogue]
    pts = {c.id: c.max_points for c in cat.criteria}
    pts.update(points or {})
    insert_rows(con, "audit_items", ("audit_id", "criterion", "points"), list((aid, k, v) for k, v in pts.items()))
    return aid


@pytest.fixture
def planted(small_copy, ref):
    """A copy of the small demo database with one institution carrying known inconsistencies."""
    con = store.connect(small_copy)
    with transaction(con):
        iid = insert_one(con, "institutions", {"name": "Szkoła Testowa", "kind": "primary", "county": "1201",
                                               "rspo": 999001, "municipality": "Bochnia", "locality": "Bochnia",
                                               "opened_year": 1960})
        other = insert_one(con, "institutions", {"name": "Szkoła Druga", "kind": "primary", "county": "1201",
                                                 "rspo": 999002, "municipality": "Bochnia", "locality": "Bochnia",
                                                 "opened_year": 1960})
        insert_one(con, "participation", {"institution_id": iid, "joined_edition": "2010/2011"})
        # Certification audit 2010/2011 with full points; certificate recorded valid 3 years instead of 2.
        a1 = _audit(con, ref, iid, "2010/2011", "certification", "2011-05-20")
        w1 = insert_one(con, "awards", {"institution_id": iid, "kind": "certificate", "edition": "2010/2011",
                                        "audit_id": a1, "awarded_on": "2011-10-15", "valid_until": "2014-10-15"})
        # Re-audit 2012/2013: C1 (mandatory, 3), D1 (mandatory, 4), E1 (3), E2 (2), A3 (2) at zero: 35 - 14 = 21 points,
        # 5 short of the extension's 26, and a failed mandatory criterion; extension recorded anyway.
        a2 = _audit(con, ref, iid, "2012/2013", "reaudit", "2013-05-21", {"C1": 0, "D1": 0, "E1": 0, "E2": 0, "A3": 0})
        w2 = insert_one(con, "awards", {"institution_id": iid, "kind": "extension", "edition": "2012/2013",
                                        "audit_id": a2, "awarded_on": "2013-10-15", "valid_until": "2018-10-15"})
        # Leader title in 2015/2016: full points, but 1 Sep 2010 -> 1 Jun 2016 is 5 full years (rules: 7),
        # and no control audit.
        a3 = _audit(con, ref, iid, "2015/2016", "leader", "2016-06-01")
        w3 = insert_one(con, "awards", {"institution_id": iid, "kind": "leader", "edition": "2015/2016",
                                        "audit_id": a3, "awarded_on": "2016-10-15", "valid_until": None})
        # A certificate from the register with no audit: consistent with the rules, so not a problem.
        insert_one(con, "awards", {"institution_id": iid, "kind": "certificate", "edition": "2016/2017",
                                   "audit_id": None, "awarded_on": "2017-10-15", "valid_until": "2019-10-15"})
        # An extension from the register with no audit, for a school that takes part in no edition and
        # holds no certificate, valid 4 years instead of 5.
        w4 = insert_one(con, "awards", {"institution_id": other, "kind": "extension", "edition": "2016/2017",
                                        "audit_id": None, "awarded_on": "2017-10-15", "valid_until": "2021-10-15"})
    # Rows that bypass the schema's guards, as another tool might have written them.
    if con.backend == store.SQLITE:
        con.execute("PRAGMA foreign_keys = OFF")
        con.execute("DROP TRIGGER audit_items_check")
        con.execute("DROP TRIGGER audit_items_check_update")
    else:  # triggers and foreign-key checks off, as a restore without them would leave things
        con.execute("SET session_replication_role = replica")
    with transaction(con):
        insert_one(con, "audit_items", {"audit_id": a1, "criterion": "Z9", "points": 1})
        con.execute("UPDATE audit_items SET points = 9 WHERE audit_id = ? AND criterion = 'A1'", (a1,))
        insert_one(con, "participation", {"institution_id": 999999, "joined_edition": "2010/2011"})
    con.close()
    return small_copy, dict(a1=a1, w1=w1, w2=w2, w3=w3, w4=w4)


def test_check_reports_each_planted_problem(planted, capsys):
    path, ids = planted
    assert main(["db", "check", "--db", str(path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    expected = [
        "audit_items RSPO 999001 certification audit 2010/2011 criterion A1: 9 points, outside 0–2",
        "audit_items RSPO 999001 certification audit 2010/2011 criterion Z9: criterion not in the audit's catalogue",
        "awards RSPO 999001 certificate 2010/2011: valid until 2014-10-15, the rules give 2013-10-15 "
        "(2 years from 2011-10-15)",
        "awards RSPO 999001 extension 2012/2013: extension without a positive audit: mandatory criteria not met: "
        "C1, D1; 5 points short of the threshold",
        "awards RSPO 999001 leader 2015/2016: leader without a positive audit: 2 year(s) short of the years in the "
        "programme required; 1 positive control audit(s) missing",
        "awards RSPO 999002 extension 2016/2017: extension in 2016/2017, an edition the institution does not take "
        "part in",
        "awards RSPO 999002 extension 2016/2017: extension requires a valid certificate or extension",
        "awards RSPO 999002 extension 2016/2017: valid until 2021-10-15, the rules give 2022-10-15",
    ]
    for e in expected:
        assert any(line.startswith(e) for line in lines), (e, "\n".join(lines))
    assert any(line.startswith(("participation rowid", "participation id")) and "institutions" in line
               for line in lines), lines
    # The two awards recorded without an audit follow as notes (one of them also has problems above).
    notes = [line for line in lines if line.startswith("note: ")]
    without_audit = "recorded without an audit in the database"
    assert [n.split(":")[1].strip() for n in notes] == ["awards RSPO 999001 certificate 2016/2017",
                                                        "awards RSPO 999002 extension 2016/2017"]
    assert all(without_audit in n for n in notes)
    assert lines[-len(notes):] == notes  # after every problem
    assert len(lines) == len(expected) + 1 + len(notes), lines


def test_notes_alone_leave_the_exit_status_zero(small_copy, capsys):
    """An award the register records without an audit, consistent with the rules (a certificate of a
    school taking part, valid the two years the rules give): a note, not a problem."""
    con = store.connect(small_copy)
    with transaction(con):
        iid = insert_one(con, "institutions", {"name": "Szkoła z rejestru", "kind": "primary", "county": "1201",
                                               "rspo": 999004, "municipality": "Bochnia", "locality": "Bochnia",
                                               "opened_year": 1960})
        insert_one(con, "participation", {"institution_id": iid, "joined_edition": "2016/2017"})
        insert_one(con, "awards", {"institution_id": iid, "kind": "certificate", "edition": "2016/2017",
                                   "audit_id": None, "awarded_on": "2017-10-15", "valid_until": "2019-10-15"})
    con.close()
    assert main(["db", "check", "--db", str(small_copy)]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines() == ["note: awards RSPO 999004 certificate 2016/2017: recorded without an audit "
                                         "in the database (the register's record; checked against the rules without "
                                         "points)"]
    assert "0 problem(s); 1 note(s)" in captured.err


def test_check_clean_database_exit_zero(small_db, capsys):
    assert main(["db", "check", "--db", str(small_db)]) == 0
    assert capsys.readouterr().out == ""


def test_info_prints_counts(small_db, capsys):
    assert main(["db", "info", "--db", str(small_db)]) == 0
    out = capsys.readouterr().out
    assert "synthetic demo data" in out and "institutions" in out and "survey_responses" in out


def test_gimnazjum_historical_edition_ok_but_not_after_2019(small_copy, ref, capsys):
    """A gimnazjum audited in 2010/2011 earns a certificate like any school; one audited after the
    2017 reform phased gimnazja out (2019) is reported."""
    from zpb_lib.domain.scoring.lifecycle import Frames, replay

    con = store.connect(small_copy)
    with transaction(con):
        iid = insert_one(con, "institutions", {"name": "Gimnazjum nr 1", "kind": "gimnazjum", "county": "1203",
                                               "rspo": 999003,
                                               "municipality": "Chrzanów", "locality": "Chrzanów",
                                               "opened_year": 1999, "closed_year": 2019})
        insert_one(con, "participation", {"institution_id": iid, "joined_edition": "2009/2010",
                                          "left_edition": "2018/2019"})
        a_old = _audit(con, ref, iid, "2010/2011", "certification", "2011-05-20")
        insert_one(con, "awards", {"institution_id": iid, "kind": "certificate", "edition": "2010/2011",
                                   "audit_id": a_old, "awarded_on": "2011-10-15", "valid_until": "2013-10-15"})
        a_new = _audit(con, ref, iid, "2022/2023", "control", "2023-05-20", catalogue="school@2")
    scored = replay(Frames.load(con)).set_index("audit_id")
    con.close()
    assert scored.loc[a_old, "granted"] and scored.loc[a_old, "award_kind"] == "certificate"
    assert main(["db", "check", "--db", str(small_copy)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "audits RSPO 999003 control audit 2022/2023: RSPO 999003 is a gimnazjum, a kind that ended in 2019, "
        "audited in 2022/2023",
        "audits RSPO 999003 control audit 2022/2023: the institution does not take part in the programme in this "
        "edition (no participation in the register covers it)"]
