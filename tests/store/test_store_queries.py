"""The store's named queries answer what their names say, on SQLite and PostgreSQL: each test puts
its own rows into a new database (reference tables only) and states the answer it expects from
those rows. The cube file's format is checked against SQL written here."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from zpb_lib import store
from zpb_lib.store import cubefile
from zpb_lib.store.queries import audits, checks, imports, institutions, participation, plans, register, surveys
from zpb_lib.store.write import insert_one, insert_rows, record_import, set_meta, transaction

pytestmark = pytest.mark.both_backends

UUID = "8c4e0a2e-5b1d-4e7f-9a3c-2d6b1f0e9a77"


def _school(con, rspo: int, name: str = "Szkoła Podstawowa nr 1", **over) -> int:
    row = {"name": name, "kind": "primary", "county": "1201", "rspo": rspo, "municipality": "Bochnia",
           "locality": "Bochnia"}
    row.update(over)
    return insert_one(con, "institutions", row)


def _university(con, polon: str = UUID) -> int:
    return insert_one(con, "institutions", {"name": "Uczelnia Testowa", "kind": "university", "county": "1261",
                                            "rspo": None, "polon": polon, "municipality": "Kraków",
                                            "locality": "Kraków"})


def _audit(con, inst: int, edition: str, kind: str, date: str, catalogue: str = "school@1") -> int:
    return insert_one(con, "audits", {"institution_id": inst, "edition": edition, "kind": kind, "audit_date": date,
                                      "catalogue": catalogue})


# --------------------------------------------------------------------------- meta

def test_meta_and_the_synthetic_flag(empty_db):
    con = empty_db
    assert store.is_synthetic(con) is False  # store.create records synthetic = "0"
    assert store.meta(con)["schema_version"] == str(store.SCHEMA_VERSION)
    assert store.meta_value(con, "no such key") is None
    with transaction(con):
        set_meta(con, "synthetic", "1")
        set_meta(con, "demo_seed", "7")
    assert store.is_synthetic(con) is True
    assert store.meta_value(con, "demo_seed") == "7"
    with transaction(con):
        set_meta(con, "synthetic", "yes")  # only "1" means synthetic
    assert store.is_synthetic(con) is False


# --------------------------------------------------------------------------- institutions

def test_institutions_by_identifier_and_by_id(empty_db):
    con = empty_db
    with transaction(con):
        a = _school(con, 111111, "Szkoła A", closed_year=2020, opened_year=1950)
        b = _school(con, 222222, "Szkoła B", in_register=0)
        u = _university(con)
    assert institutions.institution_by(con, "rspo", 111111) == (
        a, 111111, None, "Szkoła A", "primary", "school", "1201", "Bochnia", 2020, None, 1)
    row = institutions.institution_by(con, "polon", UUID)
    assert (row[0], row[1], row[2], row[5], row[6]) == (u, None, UUID, "university", "1261")
    assert institutions.institution_by(con, "rspo", 333333) is None
    with pytest.raises(ValueError):
        institutions.institution_by(con, "name", "Szkoła A")
    found = {r[0]: r for r in institutions.institutions_by_ids(con, [a, b, 99999])}
    assert sorted(found) == sorted([a, b]) and found[b][3] == "Szkoła B" and found[b][10] == 0
    assert institutions.institutions_by_ids(con, []) == []
    assert len(institutions.INSTITUTION_COLUMNS) == len(found[a])


def test_institutions_by_ids_in_chunks(empty_db):
    con = empty_db
    with transaction(con):
        ids = [_school(con, 100000 + n, f"Szkoła {n}") for n in range(510)]  # more than one chunk of ids
    assert sorted(r[0] for r in institutions.institutions_by_ids(con, ids)) == sorted(ids)


def test_institutions_with_county_name_and_match_candidates(empty_db):
    con = empty_db
    with transaction(con):
        a = _school(con, 111111, "Szkoła A")
        u = _university(con)
    county_name = dict(con.execute("SELECT teryt, name FROM counties WHERE teryt IN ('1201', '1261')").fetchall())
    rows = {r[1]: r for r in institutions.institutions_with_county_name(con)}
    assert rows[a][0] == county_name["1201"] and rows[a][4] == "Szkoła A"
    assert rows[u][0] == county_name["1261"]
    every = institutions.match_candidates(con)
    assert [r[0] for r in every] == sorted([a, u])
    assert every[0][:9] == (a, 111111, None, "Szkoła A", "Bochnia", "1201", county_name["1201"], "primary", "school")
    assert [r[0] for r in institutions.match_candidates(con, "university")] == [u]
    assert institutions.match_candidates(con, "school")[0][0] == a


def test_imports_mentioning_a_number_and_the_institution_of_an_audit(empty_db):
    con = empty_db
    with transaction(con):
        first = record_import(con, "institutions", "rspo-1.csv", "h1", 0, json.dumps({"out_of_scope_rspo":
                                                                                       {"Przedszkole": [555555]}}))
        record_import(con, "survey", "survey.csv", "h2", 0, json.dumps({"note": 555555}))  # not an RSPO import
        record_import(con, "institutions", "rspo-2.csv", "h3", 0, json.dumps({"other": [1]}))
        latest = record_import(con, "institutions", "rspo-3.csv", "h4", 0, json.dumps({"unknown_type_rspo":
                                                                                        {"Nowy typ": [555555]}}))
        school = _school(con, 111111)
        audit = _audit(con, school, "2010/2011", "certification", "2011-05-20")
    rows = institutions.institution_imports_mentioning(con, "555555")
    assert [(r[0], r[1]) for r in rows] == [(latest, "rspo-3.csv"), (first, "rspo-1.csv")]
    assert json.loads(rows[1][3]) == {"out_of_scope_rspo": {"Przedszkole": [555555]}}
    assert institutions.institution_of_audit(con, audit) == school
    assert institutions.institution_of_audit(con, audit + 1000) is None


# --------------------------------------------------------------------------- plans and surveys

def test_action_item_counts(empty_db):
    con = empty_db
    with transaction(con):
        s = _school(con, 111111)
        police = insert_one(con, "partners", {"name": "KPP Bochnia", "kind": "police", "county": "1201"})
        item = {"institution_id": s, "area": "violence", "kind": "prevention", "title": "t", "deadline": "2026-05-01",
                "status": "planned"}
        for edition, partner, status in [("2025/2026", police, "planned"), ("2025/2026", police, "planned"),
                                         ("2025/2026", None, "done"), ("2024/2025", None, "done")]:
            insert_one(con, "action_items", {**item, "edition": edition, "partner_id": partner, "status": status})
    got = plans.action_item_counts(con, "2025/2026")
    assert list(got.columns) == ["institution_id", "area", "kind", "partner_kind", "status", "items"]
    rows = sorted(tuple(r) for r in got.itertuples(index=False))
    assert rows == [(s, "violence", "prevention", "none", "done", 1), (s, "violence", "prevention", "police", "planned", 2)]
    assert plans.action_item_counts(con, "2013/2014").empty


@pytest.fixture
def answers(empty_db):
    """Two schools' survey answers: school a, 2025/2026 baseline students: safe_school 5, 4, 2 and
    one skipped; places: toilets+corridors, nowhere, skipped. School b, 2024/2025: safe_school 1."""
    con = empty_db
    with transaction(con):
        a = _school(con, 111111)
        b = _school(con, 222222, county="1261", municipality="Kraków", locality="Kraków")
        base = {"institution_id": a, "edition": "2025/2026", "wave": "baseline", "grp": "students"}
        for safe, toilets, corridors, nowhere in [(5, 1, 1, 0), (4, 0, 0, 1), (2, None, None, None),
                                                  (None, None, None, None)]:
            insert_one(con, "survey_responses", {**base, "safe_school": safe, "place_toilets": toilets,
                                                 "place_corridors": corridors, "place_nowhere": nowhere})
        insert_one(con, "survey_responses", {"institution_id": b, "edition": "2024/2025", "wave": "follow-up",
                                             "grp": "parents", "safe_school": 1})
    return con, a, b


def test_answer_counts(answers):
    con, a, b = answers
    got = surveys.answer_counts(con, [("safe_school", (4, 5)), ("safe_school", (1,))])
    rows = {(r["edition"], int(r["institution_id"]), r["wave"], r["grp"]): r for _, r in got.iterrows()}
    first = rows[("2025/2026", a, "baseline", "students")]
    assert (first["county"], first["n0"], first["k0"], first["n1"], first["k1"]) == ("1201", 3, 2, 3, 0)
    second = rows[("2024/2025", b, "follow-up", "parents")]
    assert (second["county"], second["n0"], second["k0"], second["k1"]) == ("1261", 1, 0, 1)
    only = surveys.answer_counts(con, [("safe_school", (4, 5))], ["2024/2025"])
    assert list(only["institution_id"]) == [b]
    assert surveys.answer_counts(con, [("safe_school", (4, 5))], []).empty


def test_choice_counts(answers):
    con, a, _ = answers
    got = surveys.choice_counts(con, ["place_toilets", "place_corridors", "place_nowhere"],
                                ["place_toilets", "place_corridors"], ["2025/2026"])
    assert len(got) == 1
    r = got.iloc[0]
    # Four respondents: two answered the question (one named nowhere), two skipped it.
    assert (int(r["institution_id"]), r["n"], r["k0"], r["k1"]) == (a, 2, 1, 1)


def test_institutions_identified_by(empty_db):
    con = empty_db
    with transaction(con):
        a = _school(con, 111111, "Szkoła A")
        u = _university(con)
    assert institutions.institutions_identified_by(con, "rspo", ("name", "county")) == [
        (a, 111111, "Szkoła A", "1201")]
    assert institutions.institutions_identified_by(con, "polon", ("locality",)) == [(u, UUID, "Kraków")]
    with pytest.raises(ValueError):
        institutions.institutions_identified_by(con, "name", ("county",))


def test_responses_per_import_and_per_edition(answers):
    con, a, b = answers
    with transaction(con):
        imp = record_import(con, "survey", "ankieta.csv", "h1", 2)
        for _ in range(2):
            insert_one(con, "survey_responses", {"institution_id": a, "edition": "2025/2026", "wave": "baseline",
                                                 "grp": "students", "safe_school": 3, "import_id": imp})
    # The fixture's four responses of school a came from no import.
    got = surveys.responses_per_import(con, a, "2025/2026", "students", "baseline")
    assert sorted(got, key=lambda r: r[0] is None) == [(imp, 2, "ankieta.csv"), (None, 4, None)]
    assert surveys.responses_per_import(con, a, "2025/2026", "parents", "baseline") == []
    assert sorted(surveys.responses_per_edition(con, [a, b])) == sorted([(a, "2025/2026", 6), (b, "2024/2025", 1)])
    assert surveys.responses_per_edition(con, [b]) == [(b, "2024/2025", 1)]
    assert surveys.responses_per_edition(con, []) == []


# --------------------------------------------------------------------------- imports, participation, audits

def test_import_of_content(empty_db):
    con = empty_db
    with transaction(con):
        first = record_import(con, "survey", "a.csv", "same", 3)
        record_import(con, "survey", "b.csv", "same", 5)
    row = imports.import_of_content(con, "same")
    assert (row[0], row[1], row[2], row[4]) == (first, "survey", "a.csv", 3)
    assert imports.import_of_content(con, "other") is None


def test_participation_periods_and_the_complex_taking_part(empty_db):
    con = empty_db
    with transaction(con):
        cx = _school(con, 500000, "Zespół Szkół", kind="complex")
        member = _school(con, 500001, "Szkoła w zespole", parent_rspo=500000)
        insert_one(con, "participation", {"institution_id": cx, "joined_edition": "2022/2023",
                                          "left_edition": "2023/2024"})
        insert_one(con, "participation", {"institution_id": member, "joined_edition": "2016/2017"})
        insert_one(con, "participation", {"institution_id": member, "joined_edition": "2010/2011",
                                          "left_edition": "2012/2013"})
    assert participation.participation_periods(con, member) == [("2010/2011", "2012/2013"), ("2016/2017", None)]
    assert participation.participation_periods(con, member + 100) == []
    assert participation.complex_taking_part(con, member, "2023/2024") == (500000, "Zespół Szkół")
    assert participation.complex_taking_part(con, member, "2024/2025") is None  # the complex had left
    assert participation.complex_taking_part(con, member, "2021/2022") is None  # not yet joined
    assert participation.complex_taking_part(con, cx, "2023/2024") is None  # a complex is no complex's school


def test_audits_and_the_awards_linked_to_them(empty_db, ref):
    con = empty_db
    a1 = ref.catalogues["school@1"].criteria[0]
    with transaction(con):
        s = _school(con, 111111)
        other = _school(con, 222222, "Szkoła B")
        imp = record_import(con, "audit", "protokol.xlsx", "h1", 1)
        cert = insert_one(con, "audits", {"institution_id": s, "edition": "2010/2011", "kind": "certification",
                                          "audit_date": "2011-05-20", "catalogue": "school@1", "import_id": imp})
        insert_rows(con, "audit_items", ("audit_id", "criterion", "points"), [(cert, a1.id, 1)])
        control = _audit(con, s, "2010/2011", "control", "2011-06-10")
        same_day = _audit(con, s, "2010/2011", "reaudit", "2011-06-10")
        _audit(con, other, "2010/2011", "certification", "2011-05-21")
        given = {"institution_id": s, "edition": "2010/2011", "awarded_on": "2011-10-15", "valid_until": "2013-10-15"}
        decided = insert_one(con, "awards", {**given, "kind": "certificate", "audit_id": control})
        waiting = insert_one(con, "awards", {**given, "kind": "extension", "audit_id": None})
    assert audits.audit_ids_of_import(con, imp) == [cert]
    assert audits.audit_ids_of_import(con, imp + 1) == []
    assert audits.audit_of(con, s, "2010/2011", "certification") == (cert, imp, "protokol.xlsx")
    assert audits.audit_of(con, s, "2010/2011", "control") == (control, None, None)
    assert audits.audit_of(con, s, "2011/2012", "control") is None
    # Latest first; of two the same day, the later id first.
    assert audits.audits_of(con, s, "2010/2011") == [(same_day, "reaudit"), (control, "control"),
                                                     (cert, "certification")]
    assert audits.audit_header(con, cert) == ("certification", "2011-05-20", "school@1")
    assert audits.audit_header(con, same_day + 100) is None
    assert audits.audit_kind(con, control) == "control" and audits.audit_kind(con, same_day + 100) is None
    assert audits.audit_points(con, cert) == {a1.id: 1}  # the second criterion not scored: no key
    assert audits.audit_points(con, control) == {}
    assert audits.awards_awaiting_audit(con, s, "2010/2011", ["certificate", "extension"]) == [(waiting, "extension")]
    assert audits.awards_awaiting_audit(con, s, "2010/2011", ["certificate"]) == []
    assert audits.award_decided_from_audit(con, control) == ("certificate", "2010/2011", None)
    assert audits.award_decided_from_audit(con, cert) is None
    assert audits.award_decided_from_import(con, imp) is None
    assert audits.audit_of_award(con, decided) == ("control", "2010/2011", "2011-06-10", None)
    assert audits.audit_of_award(con, waiting) is None


def test_award_decided_from_an_imported_audit(empty_db):
    con = empty_db
    with transaction(con):
        s = _school(con, 111111)
        imp = record_import(con, "audit", "protokol.xlsx", "h1", 0)
        audit = insert_one(con, "audits", {"institution_id": s, "edition": "2010/2011", "kind": "certification",
                                           "audit_date": "2011-05-20", "catalogue": "school@1", "import_id": imp})
        reg = record_import(con, "register", "rejestr.xlsx", "h2", 1)
        insert_one(con, "awards", {"institution_id": s, "edition": "2010/2011", "kind": "certificate",
                                   "audit_id": audit, "awarded_on": "2011-10-15", "valid_until": "2013-10-15",
                                   "import_id": reg})
    assert audits.award_decided_from_import(con, imp) == ("certificate", "2010/2011", reg)
    assert audits.award_decided_from_audit(con, audit) == ("certificate", "2010/2011", reg)


# --------------------------------------------------------------------------- the register's tables

@pytest.fixture
def register_rows(empty_db):
    """Two schools of two counties, a university, partners (one without a county), participation,
    awards and action items, stored out of the orders the queries return."""
    con = empty_db
    with transaction(con):
        b = _school(con, 222222, "Szkoła B", county="1261", municipality="Kraków", locality="Kraków")
        a = _school(con, 111111, "Szkoła A")
        u = _university(con)
        ngo = insert_one(con, "partners", {"name": "Fundacja", "kind": "ngo", "county": None})
        police = insert_one(con, "partners", {"name": "KPP Bochnia", "kind": "police", "county": "1201"})
        p_b = insert_one(con, "participation", {"institution_id": b, "joined_edition": "2010/2011"})
        p_a = insert_one(con, "participation", {"institution_id": a, "joined_edition": "2010/2011",
                                                "left_edition": "2012/2013"})
        p_u = insert_one(con, "participation", {"institution_id": u, "joined_edition": "2009/2010"})
        w_leader = insert_one(con, "awards", {"institution_id": a, "kind": "leader", "edition": "2012/2013",
                                              "awarded_on": "2013-10-15"})
        w_cert = insert_one(con, "awards", {"institution_id": b, "kind": "certificate", "edition": "2012/2013",
                                            "awarded_on": "2013-10-15", "valid_until": "2015-10-15"})
        item = {"area": "violence", "kind": "prevention", "deadline": "2013-05-01", "status": "planned"}
        x_b = insert_one(con, "action_items", {**item, "institution_id": b, "edition": "2012/2013",
                                               "title": "Monitoring", "partner_id": police})
        x_a = insert_one(con, "action_items", {**item, "institution_id": a, "edition": "2012/2013",
                                               "title": "Dyżury", "partner_id": police, "status": "done"})
        x_old = insert_one(con, "action_items", {**item, "institution_id": b, "edition": "2011/2012",
                                                 "title": "Warsztaty", "partner_id": None})
    return con, {"a": a, "b": b, "u": u, "ngo": ngo, "police": police, "p_a": p_a, "p_b": p_b, "p_u": p_u,
                 "w_leader": w_leader, "w_cert": w_cert, "x_a": x_a, "x_b": x_b, "x_old": x_old}


def test_register_rows_as_an_import_compares_them(register_rows):
    con, r = register_rows
    assert register.partners(con) == [(r["ngo"], "Fundacja", "ngo", None),
                                      (r["police"], "KPP Bochnia", "police", "1201")]
    assert register.participation_rows(con) == [(r["p_b"], r["b"], "2010/2011", None),
                                                (r["p_a"], r["a"], "2010/2011", "2012/2013"),
                                                (r["p_u"], r["u"], "2009/2010", None)]
    assert register.award_rows(con) == [(r["w_leader"], r["a"], "2012/2013", "leader", "2013-10-15", None, None),
                                        (r["w_cert"], r["b"], "2012/2013", "certificate", "2013-10-15", "2015-10-15",
                                         None)]
    assert [row[0] for row in register.action_rows(con)] == [r["x_b"], r["x_a"], r["x_old"]]
    assert register.action_rows(con)[1] == (r["x_a"], r["a"], "2012/2013", "Dyżury", "violence", "prevention",
                                            r["police"], "2013-05-01", "done")
    assert register.actions_naming_partner(con, r["police"]) == [
        (r["x_b"], "2012/2013", "Monitoring", None, 222222, None),
        (r["x_a"], "2012/2013", "Dyżury", None, 111111, None)]
    assert register.actions_naming_partner(con, r["ngo"]) == []


def test_register_rows_as_the_template_lists_them(register_rows):
    con, r = register_rows
    assert register.participation_listing(con) == [(None, UUID, "Uczelnia Testowa", "2009/2010", None),
                                                    (111111, None, "Szkoła A", "2010/2011", "2012/2013"),
                                                    (222222, None, "Szkoła B", "2010/2011", None)]
    assert register.award_listing(con) == [(222222, None, "Szkoła B", "2012/2013", "certificate", "2013-10-15"),
                                           (111111, None, "Szkoła A", "2012/2013", "leader", "2013-10-15")]
    assert register.action_listing(con) == [
        (222222, None, "Szkoła B", "2011/2012", "violence", "prevention", "Warsztaty", None, "2013-05-01", "planned"),
        (111111, None, "Szkoła A", "2012/2013", "violence", "prevention", "Dyżury", "KPP Bochnia", "2013-05-01",
         "done"),
        (222222, None, "Szkoła B", "2012/2013", "violence", "prevention", "Monitoring", "KPP Bochnia", "2013-05-01",
         "planned")]
    assert register.partner_listing(con) == [("KPP Bochnia", "police", "1201"), ("Fundacja", "ngo", None)]
    assert register.institution_listing(con) == [(111111, None, "Szkoła A", "Bochnia", "1201", "primary"),
                                                 (222222, None, "Szkoła B", "Kraków", "1261", "primary"),
                                                 (None, UUID, "Uczelnia Testowa", "Kraków", "1261", "university")]


# --------------------------------------------------------------------------- checks

def test_row_keys_and_a_sound_database(empty_db):
    con = empty_db
    with transaction(con):
        s = _school(con, 111111)
        u = _university(con)
        audit = _audit(con, s, "2010/2011", "certification", "2011-05-20")
        award = insert_one(con, "awards", {"institution_id": s, "kind": "certificate", "edition": "2010/2011",
                                           "audit_id": audit, "awarded_on": "2011-10-15", "valid_until": "2013-10-15"})
    assert sorted(checks.institution_identifiers(con)) == sorted([(s, 111111, None), (u, None, UUID)])
    assert checks.audit_keys(con) == [(audit, s, "certification", "2010/2011")]
    assert checks.award_keys(con) == [(award, s, "certificate", "2010/2011")]
    assert checks.integrity_errors(con) == []
    assert checks.missing_references(con) == []


def test_missing_references(empty_db):
    con = empty_db
    with transaction(con):
        s = _school(con, 111111)
    if con.backend == store.SQLITE:
        con.execute("PRAGMA foreign_keys = OFF")
    else:  # foreign-key checks off, as a restore without them would leave things
        con.execute("SET session_replication_role = replica")
    with transaction(con):
        orphan = insert_one(con, "participation", {"institution_id": s + 100, "joined_edition": "2010/2011"})
    (table, row, parent), = checks.missing_references(con)
    assert (table, parent) == ("participation", "institutions")
    # SQLite names the row by its rowid, PostgreSQL by its id: the same number here.
    assert row == (f"rowid {orphan}" if con.backend == store.SQLITE else f"id {orphan}")


def test_awards_without_audit_and_held_by_complex(empty_db):
    con = empty_db
    with transaction(con):
        cx = _school(con, 500000, "Zespół Szkół", kind="complex")
        member = _school(con, 500001, "Szkoła w zespole", parent_rspo=500000)
        audit = _audit(con, member, "2010/2011", "certification", "2011-05-20")
        cert = {"kind": "certificate", "edition": "2010/2011", "awarded_on": "2011-10-15", "valid_until": "2013-10-15"}
        by_audit = insert_one(con, "awards", {**cert, "institution_id": member, "audit_id": audit})
        complex_award = insert_one(con, "awards", {**cert, "institution_id": cx, "audit_id": None})
        later = insert_one(con, "awards", {"institution_id": member, "kind": "certificate", "edition": "2012/2013",
                                           "audit_id": None, "awarded_on": "2013-10-15", "valid_until": "2015-10-15"})
    assert checks.awards_without_audit(con) == [complex_award, later]  # by edition, kind, id
    assert checks.awards_also_held_by_complex(con) == [(by_audit, complex_award, 500000, "Zespół Szkół")]


def test_audits_outside_their_window_and_of_ended_kinds(empty_db):
    con = empty_db
    with transaction(con):
        s = _school(con, 111111)
        g = _school(con, 222222, "Gimnazjum nr 1", kind="gimnazjum")
        inside = _audit(con, s, "2010/2011", "certification", "2011-05-20")  # window 2011-05-01 to 2011-06-30
        late = _audit(con, s, "2012/2013", "reaudit", "2013-09-02")
        suspended = _audit(con, s, "2019/2020", "control", "2020-05-20")
        g_ok = _audit(con, g, "2018/2019", "certification", "2019-05-20")  # gimnazjum existed until 2019
        g_late = _audit(con, g, "2022/2023", "certification", "2023-05-20")
    window = dict(con.execute("SELECT edition, audit_from || ' ' || audit_to FROM editions "
                              "WHERE edition IN ('2012/2013', '2019/2020')").fetchall())
    got = {r[0]: r for r in checks.audits_outside_window(con)}
    assert set(got) == {late, suspended}
    assert f"{got[late][3]} {got[late][4]}" == window["2012/2013"] and got[late][2] == "2013-09-02"
    assert got[suspended][1] == "2019/2020"
    assert inside not in got and g_ok not in got
    assert checks.audits_of_ended_kinds(con) == [(g_late, g, "2022/2023", "gimnazjum", 2019)]


def test_participation_of_audits_and_surveys(empty_db):
    con = empty_db
    with transaction(con):
        cx = _school(con, 500000, "Zespół Szkół", kind="complex")
        member = _school(con, 500001, "Szkoła w zespole", parent_rspo=500000)
        alone = _school(con, 600000, "Szkoła sama")
        insert_one(con, "participation", {"institution_id": cx, "joined_edition": "2022/2023"})
        insert_one(con, "participation", {"institution_id": alone, "joined_edition": "2010/2011",
                                          "left_edition": "2012/2013"})
        member_audit = _audit(con, member, "2023/2024", "certification", "2024-05-20")  # through its complex
        covered = _audit(con, alone, "2011/2012", "certification", "2012-05-20")
        after = _audit(con, alone, "2013/2014", "reaudit", "2014-05-20")
        row = {"wave": "baseline", "grp": "students", "safe_school": 4}
        insert_one(con, "survey_responses", {**row, "institution_id": member, "edition": "2023/2024"})  # complex's
        for _ in range(2):
            insert_one(con, "survey_responses", {**row, "institution_id": alone, "edition": "2013/2014"})
        insert_one(con, "survey_responses", {**row, "institution_id": alone, "edition": "2012/2013"})
    got = {aid: bool(with_complex) for aid, with_complex in checks.audits_outside_participation(con)}
    assert got == {member_audit: True, after: False} and covered not in got
    assert checks.surveys_outside_participation(con) == [(alone, "2013/2014", "students", "baseline", 2)]
    assert checks.participation_left_before_joining(con) == []


def test_points_and_answers_and_validity_out_of_range(empty_db, ref):
    con = empty_db
    with transaction(con):
        s = _school(con, 111111)
        audit = _audit(con, s, "2010/2011", "certification", "2011-05-20")
        first = ref.catalogues["school@1"].criteria[0]
        insert_rows(con, "audit_items", ("audit_id", "criterion", "points"), [(audit, first.id, first.max_points)])
        insert_one(con, "survey_responses", {"institution_id": s, "edition": "2010/2011", "wave": "baseline",
                                             "grp": "students", "safe_school": 3})
        insert_one(con, "awards", {"institution_id": s, "kind": "certificate", "edition": "2010/2011",
                                   "audit_id": audit, "awarded_on": "2011-10-15", "valid_until": "2013-10-15"})
    assert checks.points_out_of_range(con) == []
    # The schema refuses such rows; another tool may not have: the queries find them when they are there.
    assert checks.answers_outside(con, "safe_school", (1, 2, 3, 4, 5)) == []
    assert checks.answers_outside(con, "safe_school", (4, 5)) == [(s, "2010/2011", "students", "baseline", 3, 1)]
    assert checks.awards_expiring_before_given(con) == []


# --------------------------------------------------------------------------- engine differences

def test_folder_of_and_optimize(empty_db):
    con = empty_db
    if con.backend == store.SQLITE:
        assert store.folder_of(con.db) == Path(con.db).parent
    else:
        assert store.folder_of(con.db) is None
    store.optimize(con)  # statistics only: the data stay
    assert con.execute("SELECT COUNT(*) FROM counties").fetchone()[0] == 22


# --------------------------------------------------------------------------- the cube file

def _frames() -> dict[str, pd.DataFrame]:
    return {"institutions": pd.DataFrame({"id": pd.array([1, 2], dtype="Int64"), "county": ["1201", None],
                                          "member": [True, False], "share": [0.5, float("nan")],
                                          "since": pd.to_datetime(["2020-09-01", None])}),
            "trends": pd.DataFrame({"county": ["1201"], "n": [3]})}


def test_cube_file_format(tmp_path):
    path = cubefile.write(tmp_path / "cube.sqlite", _frames(), {"cube_version": 3, "edition": "2025/2026"},
                          {"institutions": ("county", "id", "absent")})
    con = sqlite3.connect(path)
    assert con.execute("SELECT tbl, col, dtype FROM _columns").fetchall() == [
        ("institutions", "id", "Int64"), ("institutions", "county", "str"), ("institutions", "member", "bool"),
        ("institutions", "share", "float"), ("institutions", "since", "datetime"), ("trends", "county", "str"),
        ("trends", "n", "Int64")]
    assert dict(con.execute("SELECT key, value FROM _meta")) == {"cube_version": "3", "edition": '"2025/2026"'}
    assert con.execute("SELECT id, county, member, since FROM institutions ORDER BY id").fetchall() == [
        (1, "1201", 1, "2020-09-01"), (2, None, 0, None)]
    indexes = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")}
    assert indexes == {"institutions_county", "institutions_id"}
    con.close()


def test_cube_file_reads_a_file_written_by_hand(tmp_path):
    """A cube file as earlier versions wrote it, made here with plain SQL, reads with its dtypes."""
    path = tmp_path / "old.sqlite"
    con = sqlite3.connect(path)
    con.executescript("""
        CREATE TABLE audits (audit_id INTEGER, county TEXT, granted INTEGER, share REAL, audit_date TEXT);
        INSERT INTO audits VALUES (7, '1201', 1, 0.75, '2026-05-20'), (8, '1261', 0, NULL, '2026-06-01');
        CREATE TABLE _columns (tbl TEXT, col TEXT, dtype TEXT);
        INSERT INTO _columns VALUES ('audits', 'audit_id', 'Int64'), ('audits', 'county', 'str'),
            ('audits', 'granted', 'bool'), ('audits', 'share', 'float'), ('audits', 'audit_date', 'datetime');
        CREATE TABLE _meta (key TEXT PRIMARY KEY, value TEXT);
        INSERT INTO _meta VALUES ('cube_version', '3'), ('synthetic', 'true');""")
    con.close()
    with cubefile.CubeFile(path) as f:
        assert f.meta() == {"cube_version": 3, "synthetic": True}
        assert list(f.dtypes()) == ["audits"]
        one = f.read("audits", county="1261")
        assert list(one["audit_id"]) == [8] and one["granted"].dtype == bool and not one["granted"][0]
        both = f.read("audits", audit_id=[7, 8], granted=True)
        assert list(both["audit_id"]) == [7] and both["audit_date"][0] == pd.Timestamp("2026-05-20")
        assert str(both["audit_id"].dtype) == "Int64" and both["share"][0] == 0.75
        with pytest.raises(KeyError, match="no table 'nosuch'"):
            f.read("nosuch")
        with pytest.raises(KeyError, match="no column 'nosuch'"):
            f.read("audits", nosuch=1)


def test_a_file_that_is_not_a_cube(tmp_path):
    path = tmp_path / "not-a-cube.sqlite"
    path.write_bytes(b"this is text, not a database" * 100)
    with pytest.raises(cubefile.CubeFileError):
        with cubefile.CubeFile(path) as f:
            f.meta()
