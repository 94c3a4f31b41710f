"""The store refuses rows that break its constraints and leaves the database unchanged, on both
engines."""
from __future__ import annotations

import sqlite3

import pandas as pd
import pytest

from zpb_lib import store
from zpb_lib.store.schema import SCHEMA_VERSION
from zpb_lib.store.write import insert_one, insert_rows, transaction

pytestmark = pytest.mark.both_backends


def _institution(con, **over):
    row = {"name": "Szkoła Podstawowa nr 1 w Bochni", "kind": "primary", "county": "1201", "rspo": 987654,
           "municipality": "Bochnia", "locality": "Bochnia", "pupils": 300, "opened_year": 1960}
    row.update(over)
    return insert_one(con, "institutions", row)


def test_created_database_settings(empty_db):
    if empty_db.backend == store.SQLITE:
        assert empty_db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert empty_db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert int(empty_db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0]) == SCHEMA_VERSION
    assert empty_db.execute("SELECT COUNT(*) FROM counties").fetchone()[0] == 22


@pytest.mark.parametrize("bad", [
    {"county": "1299"},                 # unknown county (foreign key)
    {"kind": "kindergarten"},           # unknown kind (foreign key)
    {"pupils": -5},                     # CHECK
    {"name": "   "},                    # CHECK
    {"opened_year": 2000, "closed_year": 1990},
    {"rspo": None},                     # a school without its RSPO number
    {"rspo": 0},                        # RSPO numbers are positive
    {"polon": "8c4e0a2e-5b1d-4e7f-9a3c-2d6b1f0e9a77"},                # both identifiers
    {"rspo": None, "polon": "8c4e0a2e-5b1d-4e7f-9a3c-2d6b1f0e9a77"},  # a school with a university's id
    {"rspo": None, "polon": "not-a-uuid", "kind": "university"},     # a malformed POL-on id
    {"rspo": None, "polon": "8C4E0A2E-5B1D-4E7F-9A3C-2D6B1F0E9A77", "kind": "university"},  # upper case
    {"kind": "university"},             # a university with an RSPO number
    {"in_register": 2},
    {"municipality_code": "1201"},      # TERC gmina codes have 7 digits
])
def test_bad_institution_refused_and_database_unchanged(small_copy, bad):
    con = store.connect(small_copy)
    before = store.content_hash(con)
    with pytest.raises(store.IntegrityError):
        with transaction(con):
            _institution(con)                      # a good row first: it must be rolled back too
            _institution(con, **bad)
    assert store.content_hash(con) == before
    con.close()


def test_identifiers_are_unique_and_fit_the_family(empty_db):
    con = empty_db
    with transaction(con):
        _institution(con)
        uni = _institution(con, rspo=None, polon="8c4e0a2e-5b1d-4e7f-9a3c-2d6b1f0e9a77", kind="university",
                           name="Uczelnia")
    for dup in ({}, {"rspo": None, "polon": "8c4e0a2e-5b1d-4e7f-9a3c-2d6b1f0e9a77", "kind": "university"}):
        with pytest.raises(store.IntegrityError, match="(?i)unique"):
            with transaction(con):
                _institution(con, **dup)
    with pytest.raises(store.IntegrityError, match="POL-on"):  # the family follows the identifier on update
        with transaction(con):
            con.execute("UPDATE institutions SET kind = 'primary' WHERE id = ?", (uni,))
    assert con.execute("SELECT COUNT(*) FROM institutions").fetchone()[0] == 2


def test_import_ids_are_never_reused(empty_db):
    from zpb_lib.store.write import record_import

    con = empty_db
    with transaction(con):
        first = record_import(con, "survey", "a.csv", "h1", 1)
    with transaction(con):
        con.execute("DELETE FROM imports WHERE id = ?", (first,))
    with transaction(con):
        second = record_import(con, "survey", "b.csv", "h2", 1)
    assert second > first


def test_audit_points_over_maximum_refused(small_copy):
    con = store.connect(small_copy)
    before = store.content_hash(con)
    with pytest.raises(store.IntegrityError, match="above the criterion's maximum"):
        with transaction(con):
            aid = insert_one(con, "audits", {"institution_id": 1, "edition": "2025/2026", "kind": "control",
                                             "audit_date": "2026-05-20", "catalogue": "school@2"})
            insert_rows(con, "audit_items", ("audit_id", "criterion", "points"), [(aid, "A1", 2), (aid, "A2", 4)])
    with pytest.raises(store.IntegrityError, match="not in the audit's catalogue"):
        with transaction(con):
            aid = insert_one(con, "audits", {"institution_id": 1, "edition": "2025/2026", "kind": "control",
                                             "audit_date": "2026-05-20", "catalogue": "school@2"})
            insert_rows(con, "audit_items", ("audit_id", "criterion", "points"), [(aid, "U1", 1)])
    assert store.content_hash(con) == before
    con.close()


@pytest.mark.parametrize("column, value", [("wave", "midterm"), ("grp", "pupils"), ("safe_school", 6),
                                           ("victim_physical", 4), ("place_toilets", 2)])
def test_survey_answer_out_of_scale_refused(small_copy, column, value):
    con = store.connect(small_copy)
    before = store.content_hash(con)
    row = {"institution_id": 1, "edition": "2025/2026", "wave": "baseline", "grp": "students", "safe_school": 4}
    row[column] = value
    with pytest.raises(store.IntegrityError):
        with transaction(con):
            insert_one(con, "survey_responses", row)
    assert store.content_hash(con) == before
    con.close()


def test_award_validity_constraints(empty_db):
    con = empty_db
    with transaction(con):
        iid = _institution(con)
    for bad in ({"kind": "leader", "valid_until": "2030-01-01"},          # leader title is indefinite
                {"kind": "certificate", "valid_until": None},             # a certificate expires
                {"kind": "certificate", "valid_until": "2014-01-01"}):    # before it was awarded
        row = {"institution_id": iid, "edition": "2013/2014", "awarded_on": "2014-09-24", **bad}
        with pytest.raises(store.IntegrityError):
            with transaction(con):
                insert_one(con, "awards", row)
    assert con.execute("SELECT COUNT(*) FROM awards").fetchone()[0] == 0


def test_writes_need_a_transaction(empty_db):
    with pytest.raises(RuntimeError):
        insert_one(empty_db, "partners", {"name": "x", "kind": "ngo"})


def test_connect_refuses_missing_or_foreign_database(tmp_path):
    with pytest.raises(store.StoreError, match="does not exist"):
        store.connect(tmp_path / "none.sqlite")
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute("CREATE TABLE x(a)").connection.commit()
    with pytest.raises(store.StoreError, match="not a zpb database"):
        store.connect(other)


def test_loaders_give_proper_dtypes(small_db):
    con = store.connect(small_db, readonly=True)
    inst = store.load(con, "institutions")
    assert isinstance(inst["county"].dtype, pd.CategoricalDtype)
    assert str(inst["closed_year"].dtype) == "Int64" and inst["closed_year"].isna().any()
    awards = store.load(con, "awards")
    assert pd.api.types.is_datetime64_any_dtype(awards["awarded_on"])
    assert awards["edition"].cat.ordered and list(awards["edition"].cat.categories)[0] == "2004/2005"
    resp = store.load(con, "survey_responses", "grp = ?", ("teachers",))
    assert str(resp["safe_school"].dtype) == "Int8"
    assert resp["victim_physical"].isna().all()        # teachers are not asked about themselves
    assert list(resp["grp"].cat.categories) == ["students", "parents", "teachers"]
    con.close()


def test_data_version_changes_with_the_data_only(small_copy, data_version):
    """Compacting the database or checkpointing its log changes no data, so no version; any change,
    by zpb or another tool, does, once it commits."""
    before = data_version(small_copy)
    con = store.connect(small_copy)
    if con.backend == store.SQLITE:
        con.script("VACUUM")
        con.script("PRAGMA wal_checkpoint(TRUNCATE)")
    else:
        con.script("VACUUM ANALYZE")
    assert data_version(small_copy) == before
    con.begin("write")
    con.execute("UPDATE institutions SET pupils = pupils + 1 WHERE id = (SELECT MIN(id) FROM institutions)")
    assert data_version(small_copy) == before  # not committed: others still see the old data
    con.commit()
    after = data_version(small_copy)
    assert after != before and after.split("-")[0] == before.split("-")[0]
    assert int(after.split("-")[1]) > int(before.split("-")[1])
    con.close()
