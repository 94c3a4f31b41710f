"""„Mój powiat — what is due”: the coordinator's desk (zpb_lib.services.due) on a small database written
by hand (tests/support/due_db.py), in which every kind of due item occurs once in powiat bocheński (KPP Bochnia) and once
more in Tarnów (KMP Tarnów). Every expected date, year and count is worked out by hand from the rows
and data/rules/school.yaml (certificate 2 years, extension 5, Lider: an extension, 7 years in the
programme and a positive control audit since the latest award), never taken from the code under test.
The desk's key figures are compared with the county report's, built by the report's own code. On
PostgreSQL the desk runs under a unit's role through the web app's login (store.acting_as)."""
from __future__ import annotations

import datetime as dt

import openpyxl
import pytest
from bs4 import BeautifulSoup

from conftest import pg_database
from support.due_db import (AUDITED, BOCHNIA, CERTIFIED, CERTIFIED_STUDENTS, EDITION, LEADER, MONTHS, OUTSIDE, PUPILS,
                           STAGE1, TARNOW, TARNOW_STAGE1, TODAY, WRONG, build)
from zpb_lib import store
from zpb_lib.domain import cube as cube_mod
from zpb_lib.report.county import CountyReport
from zpb_lib.services import due
from zpb_lib.services.due import DeskError

pytestmark = pytest.mark.both_backends


@pytest.fixture(scope="module")
def hand_db(request, db_backend, tmp_path_factory, ref):
    """The database of the module's text: a file, or a PostgreSQL database in the second pass."""
    if db_backend == "postgresql":
        target = pg_database(request.getfixturevalue("pg"))
    else:
        target = tmp_path_factory.mktemp("due") / "due.sqlite"
    con = store.create(target)
    try:
        build(con, ref)
    finally:
        con.close()
    return target


@pytest.fixture(scope="module")
def bochnia(hand_db):
    return due.desk(hand_db, unit="KPP-BOCHNIA", edition=EDITION, months=MONTHS, today=TODAY)


def _by(desk, kind: str) -> list:
    return [i for i in desk.items if i.kind == kind]


def test_each_kind_of_item_follows_the_rules(bochnia, ref):
    assert bochnia.counties == (BOCHNIA,) and bochnia.units == frozenset({"KPP-BOCHNIA"})
    assert bochnia.counts() == {"certification_audit": 1, "reaudit": 1, "leader_candidate": 1, "expiring": 1,
                                "survey_missing": 1, "award_unconfirmed": 1, "contradiction": 2}
    assert [i.ident for i in _by(bochnia, "certification_audit")] == [str(STAGE1)]
    assert _by(bochnia, "certification_audit")[0].detail("en") == (
        "no valid award when the audit window opens (1 May 2025): a certification audit gives the certificate")
    # 15.10.2025 is after the window opening 1.05.2025 and before the next one, 1.05.2026.
    [reaudit] = _by(bochnia, "reaudit")
    assert reaudit.ident == str(CERTIFIED)
    assert reaudit.detail("pl") == ("certyfikat — ważność do 15.10.2025: ostatnie okno audytów przed jej "
                                    "końcem; reaudyt daje: przedłużenie certyfikatu")
    # 1.09.2014 to 1.05.2025: 10 full years (7 needed); the control of 15.05.2024 follows the extension of 15.10.2023.
    [leader] = _by(bochnia, "leader_candidate")
    assert leader.ident == str(LEADER)
    assert leader.detail("en") == "10 years in the programme, 1 positive control audit(s): audit for the leader title"
    [expiring] = _by(bochnia, "expiring")
    days = (dt.date(2025, 10, 15) - TODAY).days
    assert days == 228
    assert (expiring.ident, expiring.detail("en")) == (str(CERTIFIED),
                                                       "certificate valid until 15 Oct 2025 (228 days left)")
    [survey] = _by(bochnia, "survey_missing")
    assert (survey.ident, survey.detail("pl")) == (str(STAGE1), "rodzice, ewaluacja: brak odpowiedzi")
    [award] = _by(bochnia, "award_unconfirmed")
    max_total = ref.catalogue_for("school", EDITION).max_total
    assert (award.ident, award.detail("en")) == (
        str(AUDITED), f"the rules grant the certificate ({max_total} of {max_total} points, certification audit of "
                      "20 May 2025); not recorded")
    contradictions = {i.ident: i.detail("en") for i in _by(bochnia, "contradiction")}
    assert set(contradictions) == {str(AUDITED), str(WRONG)}
    assert "valid until 2027-10-15, the rules give 2026-10-15" in contradictions[str(WRONG)]
    assert "no award is recorded" in contradictions[str(AUDITED)]
    # Nothing of Tarnów's school.
    assert all(i.county == BOCHNIA for i in bochnia.items)


def test_rows_show_stage_valid_to_and_last_audit(bochnia, ref):
    rows = {r.ident: r for r in bochnia.rows}
    assert set(rows) == {str(r) for r in (STAGE1, CERTIFIED, LEADER, AUDITED, WRONG, OUTSIDE)}
    stages = {r: (rows[str(r)].stage, rows[str(r)].valid_until, rows[str(r)].joined_edition, rows[str(r)].taking_part)
              for r in (STAGE1, CERTIFIED, LEADER, AUDITED, WRONG, OUTSIDE)}
    assert stages == {STAGE1: ("stage1", None, "2023/2024", True),
                      CERTIFIED: ("certified", dt.date(2025, 10, 15), "2022/2023", True),
                      LEADER: ("extended", dt.date(2028, 10, 15), "2014/2015", True),
                      AUDITED: ("stage1", None, "2023/2024", True),
                      # counted as the rules give it: 2 years from 15.10.2024
                      WRONG: ("certified", dt.date(2026, 10, 15), "2023/2024", True),
                      OUTSIDE: ("not_participating", None, None, False)}
    max_total = ref.catalogue_for("school", EDITION).max_total
    last = rows[str(LEADER)].last_audit
    assert (last.edition, last.kind, last.date, last.total) == ("2023/2024", "control", dt.date(2024, 5, 15),
                                                                 ref.catalogue_for("school", "2023/2024").max_total)
    assert rows[str(AUDITED)].last_audit.date == dt.date(2025, 5, 20)
    assert rows[str(AUDITED)].last_audit.total == rows[str(AUDITED)].last_audit.max_total == max_total
    assert rows[str(STAGE1)].last_audit is None
    assert [i.kind for i in rows[str(CERTIFIED)].due] == ["reaudit", "expiring"]
    assert rows[str(OUTSIDE)].due == ()


def test_surveys_count_respondents_and_the_rate_where_the_size_is_known(bochnia):
    # 5 schools of Bochnia take part, 3 groups × 2 waves each.
    assert len(bochnia.surveys) == 30
    by = {(s.ident, s.group, s.wave): s for s in bochnia.surveys}
    s = by[(str(CERTIFIED), "students", "baseline")]
    assert (s.respondents, s.pupils, s.rate) == (CERTIFIED_STUDENTS, PUPILS, CERTIFIED_STUDENTS / PUPILS)
    teachers = by[(str(CERTIFIED), "teachers", "baseline")]
    assert (teachers.respondents, teachers.pupils, teachers.rate) == (1, None, None)
    missing = by[(str(STAGE1), "parents", "follow-up")]
    assert (missing.respondents, missing.missing, missing.rate) == (0, True, None)
    assert [k for k, v in by.items() if v.missing] == [(str(STAGE1), "parents", "follow-up")]


def test_figures_are_the_county_reports(hand_db, bochnia, tmp_path):
    """The county report of the same data, built by the report's own code from a cube of the
    edition, shows the desk's numbers; and these are the ones counted by hand on the report's day
    (15.10.2025): of 6 schools 5 take part; CERTIFIED's certificate ends that day; LEADER extended and
    WRONG certified (by the rules to 15.10.2026); one audit in the edition, positive."""
    assert bochnia.as_of == dt.date(2025, 10, 15)
    f = bochnia.figures[BOCHNIA]
    assert (f.institutions, f.participating, f.certified, f.extended, f.leaders, f.valid_awards, f.audits,
            f.granted) == (6, 5, 1, 1, 0, 2, 1, 1)
    assert bochnia.totals() == f
    con = store.connect(hand_db, readonly=True)
    try:
        path = cube_mod.build(con, EDITION, tmp_path / "cube.sqlite")
    finally:
        con.close()
    with cube_mod.Cube(path) as cube:
        report = CountyReport(cube, BOCHNIA, lang="en")
        soup = BeautifulSoup(str(report.key_figures()), "html.parser")
        shown = {t.find("dt").get_text(): t.find("dd").get_text() for t in soup.select(".zpb-tile")}
        summary = cube.table("county_summary", county=[BOCHNIA]).iloc[0]
    assert shown["Institutions"] == str(f.institutions)
    assert shown["Taking part"] == str(f.participating)
    assert shown["Valid certificates"] == str(f.valid_awards)
    assert shown["Project Leaders"] == str(f.leaders)
    assert shown["Audits in this edition"] == str(f.audits)
    assert shown["Awards granted"] == str(f.granted)
    assert (int(summary["certified"]), int(summary["extended"])) == (f.certified, f.extended)


def test_every_county_or_another_unit(hand_db):
    everything = due.desk(hand_db, edition=EDITION, months=MONTHS, today=TODAY)
    assert everything.units is None and len(everything.counties) == 22
    tarnow = [i for i in everything.items if i.county == TARNOW]
    assert sorted((i.kind, i.ident) for i in tarnow) == [("certification_audit", str(TARNOW_STAGE1)),
                                                          ("survey_missing", str(TARNOW_STAGE1))]
    assert everything.counts()["certification_audit"] == 2
    unit = due.desk(hand_db, unit="kmp-tarnow", edition=EDITION, months=MONTHS, today=TODAY)
    assert unit.counties == ("1216", "1263") and [r.ident for r in unit.rows] == [str(TARNOW_STAGE1)]
    # A shorter window leaves the certificate of 15.10.2025 out (1.03.2025 + 6 months = 1.09.2025).
    short = due.desk(hand_db, unit="KPP-BOCHNIA", edition=EDITION, months=6, today=TODAY)
    assert short.counts()["expiring"] == 0
    with pytest.raises(DeskError, match="unknown police unit 'KPP-NOWHERE'"):
        due.desk(hand_db, unit="KPP-NOWHERE")
    with pytest.raises(DeskError, match="was not held"):
        due.desk(hand_db, edition="2020/2021")


@pytest.mark.parametrize("lang", ["pl", "en"])
def test_workbook_has_a_sheet_per_table(bochnia, tmp_path, lang):
    path = due.to_xlsx(bochnia, tmp_path / f"desk-{lang}.xlsx", lang)
    wb = openpyxl.load_workbook(path)
    names = {"pl": ["Placówki", "Do zrobienia", "Ankiety", "Liczby", "Informacje"],
             "en": ["Institutions", "Due", "Surveys", "Figures", "About"]}[lang]
    assert wb.sheetnames == names
    items = wb[names[1]]
    header = [c.value for c in items[4]]
    assert header[:3] == {"pl": ["Co", "Placówka", "RSPO / POL-on"],
                          "en": ["What", "Institution", "RSPO / POL-on"]}[lang]
    rows = [[c.value for c in r] for r in items.iter_rows(min_row=5)]
    assert len(rows) == 8
    reaudit = {"pl": "reaudyt przed wygaśnięciem certyfikatu", "en": "re-audit before the certificate runs out"}[lang]
    assert [r[2] for r in rows if r[0] == reaudit] == [CERTIFIED]  # an RSPO number is a number cell
    schools = wb[names[0]]
    assert schools.max_row == 4 + 6
    surveys = wb[names[2]]
    rate = [r for r in surveys.iter_rows(min_row=5, values_only=True)
            if r[1] == CERTIFIED and r[5] == CERTIFIED_STUDENTS]
    assert len(rate) == 1 and rate[0][6] == PUPILS and rate[0][7] == pytest.approx(CERTIFIED_STUDENTS / PUPILS)
    figures = [r for r in wb[names[3]].iter_rows(min_row=5, values_only=True)]
    assert figures == [(("powiat bocheński" if lang == "pl" else "Bochnia County"), BOCHNIA, 6, 5, 1, 1, 0, 2, 1, 1)]


# --------------------------------------------------------------------------- PostgreSQL: under a unit's role

BOCHNIA_ROLE, ANALYST = "zpb_unit_kpp_bochnia", "zpb_analyst"


@pytest.mark.postgresql_only
def test_a_units_role_sees_its_counties_only(team_db, db_backend):
    owner, web = team_db
    with store.acting_as(BOCHNIA_ROLE, "anna"):
        mine = due.desk(web, today=TODAY, edition=EDITION)
        with pytest.raises(DeskError, match="anna .*own unit's counties only, not of KMP-TARNOW"):
            due.desk(web, unit="KMP-TARNOW")
    assert mine.units == frozenset({"KPP-BOCHNIA"}) and mine.counties == (BOCHNIA,)
    assert mine.rows and {r.county for r in mine.rows} == {BOCHNIA}
    assert {i.county for i in mine.items} <= {BOCHNIA}
    # The same as the owner asking for that unit.
    theirs = due.desk(owner, unit="KPP-BOCHNIA", today=TODAY, edition=EDITION)
    assert (mine.rows, mine.items, mine.figures) == (theirs.rows, theirs.items, theirs.figures)
    with store.acting_as(ANALYST, "olek"):
        tarnow = due.desk(web, unit="KMP-TARNOW", today=TODAY, edition=EDITION)
        everything = due.desk(web, today=TODAY, edition=EDITION)
    assert {r.county for r in tarnow.rows} <= {"1216", "1263"} and tarnow.rows
    assert everything.units is None and {r.county for r in everything.rows} > {BOCHNIA, "1216"}


def test_copies_of_one_database_changed_apart_keep_their_own_desks(copy_small):
    """The desk is kept per data version, which copies of one database share as they diverge (the
    same identity, the same count of changes): each copy's desk shows its own change."""
    copies = {"A": copy_small(), "B": copy_small()}
    first = due.desk(copies["A"], unit="KPP-BOCHNIA")
    school = first.rows[0]
    for tag, db in copies.items():
        with store.connect(db) as con, store.transaction(con):
            column, value = ("rspo", int(school.ident)) if school.ident.isdigit() else ("polon", school.ident)
            con.execute(f"UPDATE institutions SET name = :name WHERE {column} = :value",
                        {"name": f"Szkoła {tag}", "value": value})
    assert store.data_version(copies["A"]) == store.data_version(copies["B"])
    names = {tag: {r.name for r in due.desk(db, unit="KPP-BOCHNIA").rows} for tag, db in copies.items()}
    assert "Szkoła A" in names["A"] and "Szkoła B" not in names["A"]
    assert "Szkoła B" in names["B"] and "Szkoła A" not in names["B"]
