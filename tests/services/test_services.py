"""The services called directly, as a shell other than the command line calls them: their typed
results against what the database holds, read here with SQL of the test's own."""
from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from support.complexes import in_edition
from zpb_lib.services import admin, awards, builds, exports, lookups

EDITION = "2025/2026"


@pytest.fixture(scope="module")
def db(small_sqlite, tmp_path_factory) -> Path:
    """A private copy of the small demo database (the awards test writes to it)."""
    path = tmp_path_factory.mktemp("services") / "zpb.sqlite"
    shutil.copy(small_sqlite, path)
    return path


def sql(db: Path, query: str, params: tuple = ()) -> list[tuple]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return con.execute(query, params).fetchall()
    finally:
        con.close()


# --------------------------------------------------------------------------- lookups

def test_find_institutions_by_rspo_number(db):
    rspo, name, locality, county_name, kind_pl, in_register = sql(
        db, "SELECT i.rspo, i.name, i.locality, c.name, k.name_pl, COALESCE(i.in_register, 1) FROM institutions i "
            "JOIN counties c ON c.teryt = i.county JOIN institution_kinds k ON k.code = i.kind "
            "WHERE i.rspo IS NOT NULL ORDER BY i.id LIMIT 1")[0]
    hits = lookups.find_institutions(db, str(rspo))
    assert hits[0].ident == str(rspo)
    assert (hits[0].name, hits[0].locality, hits[0].county_name, hits[0].kind_name, hits[0].in_register) == \
        (name, locality, county_name, kind_pl, bool(in_register))
    assert lookups.find_institutions(db, "zzzqqq-no-such-school") == []


def test_find_institutions_limit(db):
    assert len(lookups.find_institutions(db, "szkoła", limit=3)) == 3


def test_counties_are_the_reference_tables(db):
    expected = sql(db, "SELECT c.teryt, c.name, c.police_unit, p.name FROM counties c "
                       "JOIN police_units p ON p.code = c.police_unit ORDER BY c.teryt")
    assert [(c.code, c.name, c.police_unit, c.police_unit_name) for c in lookups.counties()] == expected


def test_county_as_people_write_it(db):
    (bochnia,), = sql(db, "SELECT teryt FROM counties WHERE name = 'bocheński'")
    (city,), = sql(db, "SELECT teryt FROM counties WHERE kind = 'city' AND seat = 'Tarnów'")
    (land,), = sql(db, "SELECT teryt FROM counties WHERE kind = 'land' AND seat = 'Tarnów'")
    assert lookups.county("bochenski").code == bochnia
    assert lookups.county(bochnia).title_pl == "powiat bocheński"
    assert lookups.county("m. Tarnów").code == city
    assert lookups.county("powiat Tarnów").code == land
    with pytest.raises(lookups.AmbiguousCountyName) as info:
        lookups.county("Tarnów")
    assert city in str(info.value) and land in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(lookups.LookupRefused, match="unknown county 'Atlantyda'"):
        lookups.county("Atlantyda")


def test_editions(db):
    every = sql(db, "SELECT edition FROM editions ORDER BY start_year")
    held = sql(db, "SELECT edition FROM editions WHERE held = 1 ORDER BY start_year")
    assert [(e.edition,) for e in lookups.editions()] == every
    assert [(e.edition,) for e in lookups.editions(held_only=True)] == held
    assert lookups.current_edition().edition == held[-1][0]
    for spelling in ("2025/2026", "2025-26", "XIX"):
        assert lookups.edition(spelling).edition == EDITION
    assert not lookups.edition("2020-21").held  # parsed; what may be done with it is the caller's to say
    with pytest.raises(lookups.LookupRefused, match="unknown edition 'bogus'"):
        lookups.edition("bogus")


# --------------------------------------------------------------------------- builds

def test_build_plan_counts(db):
    (counties,), = sql(db, "SELECT COUNT(*) FROM counties")
    (schools,), = sql(db, f"SELECT COUNT(*) FROM institutions i WHERE {in_edition('i', EDITION, 2025)}")
    p = builds.plan(db, "XIX")
    assert p.edition == EDITION and p.lang == "pl"
    assert p.counts() == {"voivodeship": 1, "county": counties, "school": schools}
    assert len({r.stem for r in p.reports}) == len(p.reports)


def test_build_plan_of_one_county(db):
    (bochnia,), = sql(db, "SELECT teryt FROM counties WHERE name = 'bocheński'")
    (schools,), = sql(db, f"SELECT COUNT(*) FROM institutions i WHERE i.county = ? AND "
                          f"{in_edition('i', EDITION, 2025)}", (bochnia,))
    p = builds.plan(db, EDITION, counties=("bocheński",), lang="en")
    assert p.counts() == {"voivodeship": 0, "county": 1, "school": schools}
    assert {r.county for r in p.reports} == {bochnia}
    assert [r.title for r in p.reports if r.kind == "county"] == ["Bochnia County"]


def test_build_plan_of_one_institution(db):
    (rspo,), = sql(db, f"SELECT i.rspo FROM institutions i WHERE i.rspo IS NOT NULL AND "
                       f"{in_edition('i', EDITION, 2025)} ORDER BY i.id LIMIT 1")
    p = builds.plan(db, EDITION, only=("school",), institutions=(str(rspo),))
    assert [(r.kind, r.key) for r in p.reports] == [("school", str(rspo))]


def test_build_plan_refusals(db):
    with pytest.raises(ValueError, match="not held"):
        builds.plan(db, "2020/2021")
    with pytest.raises(ValueError, match="unknown county"):
        builds.plan(db, EDITION, counties=("Atlantyda",))


def test_build_with_progress_and_status(db, tmp_path):
    out = tmp_path / "reports"
    assert builds.status(out, EDITION) == builds.EditionStatus(out / "2025-2026", EDITION, "pl", None, {}, False)
    seen: list[builds.ReportDone] = []
    summary = builds.run(builds.BuildOptions(db=str(db), edition="XIX", out=str(out), formats=("html",), jobs=1,
                                             only=("voivodeship",), progress=False), on_report=seen.append)
    assert (summary.total, summary.built, summary.ok) == (1, 1, True)
    assert [(r.stem, r.status, r.done, r.total, r.failed) for r in seen] == [("wojewodztwo", "ok", 1, 1, 0)]
    st = builds.status(out, "XIX")
    assert st.reports == {"wojewodztwo": "ok"} and st.counts() == {"ok": 1}
    assert st.generated_at and not st.unfinished
    assert (out / "2025-2026" / "wojewodztwo.html").is_file()


# --------------------------------------------------------------------------- exports

def test_export_scope_and_workbook(db, tmp_path):
    (bochnia,), = sql(db, "SELECT teryt FROM counties WHERE name = 'bocheński'")
    scope = exports.scope("XIX", "Bochnia")
    assert scope == exports.ExportScope(EDITION, bochnia, "powiat bocheński")
    assert scope.default_out("en").name == f"zpb-results-2025-2026-{bochnia}.xlsx"
    with pytest.raises(exports.ExportError, match="ambiguous"):
        exports.scope(EDITION, "Tarnów")
    with pytest.raises(exports.ExportError, match="not held"):
        exports.scope("2020/2021")
    result = exports.write(exports.scope(EDITION), tmp_path / "x.xlsx", db=db, lang="en")
    (audits,), = sql(db, "SELECT COUNT(*) FROM audits WHERE edition = ?", (EDITION,))
    assert result.path == tmp_path / "x.xlsx" and result.path.is_file()
    assert result.rows["Decisions"] == audits


# --------------------------------------------------------------------------- awards

def test_awards_pending_then_recorded(db):
    assert awards.pending(db, EDITION) == []  # the demo records every award its rules grant
    con = sqlite3.connect(db)  # one granted award taken out again: the rules grant it once more
    with con:
        award_id, audit_id, kind = con.execute("SELECT id, audit_id, kind FROM awards WHERE edition = ? AND "
                                               "audit_id IS NOT NULL ORDER BY id LIMIT 1", (EDITION,)).fetchone()
        con.execute("DELETE FROM awards WHERE id = ?", (award_id,))
    con.close()
    before = awards.pending(db, EDITION)
    assert [(p.audit_id, p.award_kind) for p in before] == [(audit_id, kind)]
    listed = awards.confirm(db, EDITION, dry_run=True)
    assert [(p.audit_id, p.award_kind) for p in listed.awards] == [(p.audit_id, p.award_kind) for p in before]
    (n0,), = sql(db, "SELECT COUNT(*) FROM awards WHERE edition = ?", (EDITION,))
    done = awards.confirm(db, EDITION)
    (n1,), = sql(db, "SELECT COUNT(*) FROM awards WHERE edition = ?", (EDITION,))
    assert n1 - n0 == len(before) and done.import_id is not None
    assert awards.pending(db, EDITION) == []
    with pytest.raises(awards.AwardsError, match="not held"):
        awards.confirm(db, "2020/2021", dry_run=True)


# --------------------------------------------------------------------------- admin

def test_info_counts_rows(db):
    tables = [t for (t,) in sql(db, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
    info = admin.info(db)
    assert info.location == db and info.synthetic
    assert info.counts == {t: sql(db, f"SELECT COUNT(*) FROM {t}")[0][0] for t in info.counts}
    assert set(info.counts) == set(tables)


def test_check(db):
    report = admin.check(db)
    assert report.location == db and report.ok and report.problems == []


def test_init_never_touches_an_existing_database(db, tmp_path):
    made = admin.init(tmp_path / "new.sqlite")
    assert made.location == tmp_path / "new.sqlite"
    (version,), = sql(made.location, "SELECT value FROM meta WHERE key = 'schema_version'")
    assert int(version) == made.schema_version
    (counties,), = sql(made.location, "SELECT COUNT(*) FROM counties")
    assert admin.info(made.location).counts["counties"] == counties > 0
    assert admin.info(made.location).counts["institutions"] == 0 and not admin.info(made.location).synthetic
    for make in (admin.init, admin.demo):
        with pytest.raises(admin.DatabaseExists) as refused:
            make(db)
        assert str(refused.value) == str(db)


def test_copy_and_upgrade(db, tmp_path):
    target = tmp_path / "copy.sqlite"
    copied = admin.copy(db, target)
    assert admin.info(target).counts == admin.info(db).counts
    assert copied.rows == {t: n for t, n in admin.info(db).counts.items() if t != "data_version"}  # not data
    upgraded = admin.upgrade(target)
    assert upgraded.from_version == upgraded.to_version and upgraded.backup is None
