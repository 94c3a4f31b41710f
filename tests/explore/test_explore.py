"""The explorer driven in Python: set widget values, press buttons, read the views back and compare
them with figures computed here from SQL (or from the library's lower-level functions), never by
calling the explorer's own code for the expected value."""
from __future__ import annotations

import hashlib
import math
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import nbformat
import openpyxl
import pytest
from bs4 import BeautifulSoup

from support.complexes import complex_row, counted, represented
from support.identity import renumber, shows_number
from zpb_lib.domain import indicators as ind
from zpb_lib import store
from zpb_lib.domain.cube import as_of_date
from zpb_lib.explore import Explorer
from zpb_lib.domain.edition_data import IN_EDITION
from zpb_lib.reference import reference
from zpb_lib.core import fmt
from zpb_lib.domain.labels import county_name
from zpb_lib.domain.scoring.rules import rules as load_rules

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "explore.ipynb"
REF = reference()
EDITION = REF.current_edition().edition
START = REF.edition(EDITION).start_year
AS_OF = as_of_date(REF, EDITION).isoformat()


# --------------------------------------------------------------------------- helpers

def sql(db: Path, query: str, params: tuple = ()) -> list[tuple]:
    con = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return con.execute(query, params).fetchall()
    finally:
        con.close()


def tables(markup: str) -> list[dict]:
    """Every <table> of the markup: caption, header texts and rows of cell texts."""
    out = []
    for t in BeautifulSoup(markup, "html.parser").find_all("table"):
        cap = t.find("caption")
        head = [th.get_text(" ", strip=True) for th in t.find("thead").find_all("th")]
        rows = [[c.get_text(" ", strip=True) for c in tr.find_all(["th", "td"])] for tr in t.find("tbody").find_all("tr")]
        out.append({"caption": cap.get_text(" ", strip=True) if cap else "", "head": head, "rows": rows})
    return out


def table_dicts(t: dict) -> list[dict[str, str]]:
    return [dict(zip(t["head"], r)) for r in t["rows"]]


def tiles(markup: str) -> dict[str, tuple[str, str]]:
    out = {}
    for tile in BeautifulSoup(markup, "html.parser").select(".zpb-tile"):
        note = tile.select_one(".zpb-tile-note")
        out[tile.select_one(".zpb-tile-label").get_text(strip=True)] = (
            tile.select_one(".zpb-tile-value").get_text(strip=True), note.get_text(strip=True) if note else "")
    return out


def file_digest(db: Path) -> str:
    h = hashlib.sha256()
    for suffix in ("", "-wal"):
        p = Path(str(db) + suffix)
        if p.exists():
            h.update(p.read_bytes())
    return h.hexdigest()


def existing_sql(county: str | None = None) -> str:
    where = "(opened_year IS NULL OR opened_year <= :start) AND (closed_year IS NULL OR closed_year > :start)"
    return where + (" AND county = :county" if county else "")


def participating_ids(db: Path, county: str | None = None) -> set[int]:
    """Institutions taking part on the ceremony day: joined by this edition, not left by it."""
    rows = sql(db, "SELECT i.id FROM institutions i JOIN participation p ON p.institution_id = i.id "
                   "WHERE p.joined_edition <= ? AND (p.left_edition IS NULL OR p.left_edition > ?)"
                   + (" AND i.county = ?" if county else ""), (EDITION, EDITION, *((county,) if county else ())))
    return {r[0] for r in rows}


def counted_ids(db: Path, county: str | None = None) -> set[int]:
    """Institutions existing in the edition that count as institutions (a complex with the schools
    taking part with it once)."""
    p = {"start": START, "county": county}
    return {r[0] for r in sql(db, f"SELECT id FROM institutions i WHERE {existing_sql(county)} AND "
                                  f"{counted('i', EDITION, START)}", p)}


def with_complex_schools(db: Path, ids: set[int], edition: str = EDITION) -> set[int]:
    """``ids`` and the schools taking part with a complex among them in ``edition`` (the table lists
    them too)."""
    rows = sql(db, f"SELECT i.id, c.id FROM institutions i JOIN institutions c ON {complex_row('i', 'c')} "
                   f"WHERE {represented('i', edition, REF.edition(edition).start_year)}")
    return set(ids) | {m for m, c in rows if c in ids}


def idents(db: Path, ids: set[int] | list[int]) -> set[str]:
    """The identifiers people use (RSPO number as text, else POL-on id) of institutions by internal id."""
    rows = sql(db, f"SELECT COALESCE(CAST(rspo AS TEXT), polon) FROM institutions WHERE id IN "
                   f"({','.join(str(int(i)) for i in ids) or 'NULL'})")
    return {r[0] for r in rows}


def ident_of(db: Path, institution_id: int) -> str:
    (ident,) = idents(db, [institution_id])
    return ident


def busiest_county(db: Path) -> str:
    return sql(db, "SELECT i.county FROM audits a JOIN institutions i ON i.id = a.institution_id WHERE a.edition = ? "
                   "GROUP BY 1 ORDER BY COUNT(*) DESC, 1 LIMIT 1", (EDITION,))[0][0]


def certification_audits(db: Path, maxima: dict[str, int] | None = None) -> list[tuple[int, str, int, bool]]:
    """(audit id, county, total, mandatory criteria met) of the edition's certification audits of
    schools, with criterion maxima optionally lowered (points clipped), straight from SQL."""
    clip = "ai.points"
    for crit, m in (maxima or {}).items():
        clip = f"CASE WHEN ai.criterion = '{crit}' THEN MIN(ai.points, {int(m)}) ELSE {clip} END"
    rows = sql(db, f"""
        SELECT a.id, i.county, COALESCE((SELECT SUM({clip}) FROM audit_items ai WHERE ai.audit_id = a.id), 0),
               NOT EXISTS (SELECT 1 FROM criteria c WHERE c.catalogue = a.catalogue AND c.mandatory = 1 AND
                           COALESCE((SELECT ai.points FROM audit_items ai WHERE ai.audit_id = a.id
                                     AND ai.criterion = c.criterion), 0) < 1)
        FROM audits a JOIN institutions i ON i.id = a.institution_id
        JOIN institution_kinds k ON k.code = i.kind
        WHERE a.edition = ? AND a.kind = 'certification' AND k.family = 'school'""", (EDITION,))
    return [(a, c, t, bool(ok)) for a, c, t, ok in rows]


# --------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def explorer(small_db, tmp_path_factory) -> Explorer:
    return Explorer(small_db, out=tmp_path_factory.mktemp("explore-out"))


@pytest.fixture
def x(explorer) -> Explorer:
    """The module's explorer, with every control back at its default."""
    e = explorer
    e.tabs.selected_index = 0
    e.edition.value = EDITION
    e.unit.value = ""
    e.county.value = ""
    e.kind.value = ""
    e.status.value = IN_EDITION
    e.measure.value = "participation_rate"
    e.group.value = "students"
    e.sort_by.value = "county_name"
    e.descending.value = False
    e.reset_whatif()
    return e


# --------------------------------------------------------------------------- key figures

def test_key_figures_match_sql(x, small_db):
    county = busiest_county(small_db)
    x.county.value = county
    shown = tiles(x.tiles.value)
    existing = counted_ids(small_db, county)
    part = participating_ids(small_db, county) & existing
    valid = {r[0] for r in sql(small_db, "SELECT institution_id FROM awards WHERE awarded_on <= ? AND "
                                         "(valid_until IS NULL OR valid_until > ?)", (AS_OF, AS_OF))} & part
    leaders = {r[0] for r in sql(small_db, "SELECT institution_id FROM awards WHERE kind = 'leader' AND "
                                           "awarded_on <= ?", (AS_OF,))} & part
    audits = sql(small_db, "SELECT a.id, a.kind, c.max_total, COALESCE((SELECT SUM(points) FROM audit_items "
                           "WHERE audit_id = a.id), 0) FROM audits a JOIN institutions i ON i.id = a.institution_id "
                           "JOIN catalogues c ON c.key = a.catalogue WHERE a.edition = ? AND i.county = ?",
                 (EDITION, county))
    granted = sql(small_db, "SELECT COUNT(*) FROM awards w JOIN audits a ON a.id = w.audit_id JOIN institutions i "
                            "ON i.id = a.institution_id WHERE a.edition = ? AND i.county = ? AND a.kind != 'control'",
                  (EDITION, county))[0][0]
    mean_share = sum(t / m for _, _, m, t in audits) / len(audits)
    assert shown["Placówki"][0] == fmt.integer(len(existing))
    assert shown["Uczestniczą w programie"][0] == fmt.integer(len(part))
    assert shown["Odsetek uczestniczących"][0] == fmt.percent(len(part) / len(existing), 1)
    assert shown["Ważne certyfikaty"][0] == fmt.integer(len(valid))
    assert shown["Liderzy Projektu"][0] == fmt.integer(len(leaders))
    assert shown["Audyty w tej edycji"][0] == fmt.integer(len(audits))
    assert shown["Przyznane wyróżnienia"][0] == fmt.integer(granted)
    assert shown["Średni odsetek punktów"][0] == fmt.percent(mean_share, 1)
    # Compared with the voivodeship: its participation rate in the note.
    all_counted = counted_ids(small_db)
    all_existing, all_part = len(all_counted), len(participating_ids(small_db) & all_counted)
    assert fmt.percent(all_part / all_existing, 1) in shown["Odsetek uczestniczących"][1]


def test_survey_tile_is_the_pooled_county_figure(x, small_db):
    county = busiest_county(small_db)
    x.county.value = county
    x.measure.value = "survey:safe_school"
    x.group.value = "students"
    n, k = sql(small_db, "SELECT COUNT(r.safe_school), SUM(r.safe_school IN (4, 5)) FROM survey_responses r "
                         "JOIN institutions i ON i.id = r.institution_id WHERE r.edition = ? AND r.wave = 'follow-up' "
                         "AND r.grp = 'students' AND i.county = ?", (EDITION, county))[0]
    value, note = tiles(x.tiles.value)["Czuje się bezpiecznie w szkole — uczniowie"]
    assert n >= 10
    assert value == fmt.percent(k / n, 1)
    assert f"n = {fmt.integer(n)}" in note


# --------------------------------------------------------------------------- table

def test_table_follows_county_kind_and_status(x, small_db):
    county = busiest_county(small_db)
    x.county.value = county
    audited = {r[0] for r in sql(small_db, "SELECT a.institution_id FROM audits a JOIN institutions i ON "
                                           "i.id = a.institution_id WHERE a.edition = ? AND i.county = ?",
                                 (EDITION, county))}
    expected = with_complex_schools(small_db, participating_ids(small_db, county) | audited)
    assert set(x.table_rows()["ident"]) == idents(small_db, expected)
    assert "id" not in x.table_rows().columns  # the internal id is not part of what analysts get
    t = tables(x.table.value)[0]
    names = {r[0] for r in sql(small_db, f"SELECT name FROM institutions WHERE id IN ({','.join(map(str, expected))})")}
    assert {row[0] for row in t["rows"]} <= names and len(t["rows"]) == min(x.page_size, len(expected))
    assert "Powiat" not in t["head"]  # one county chosen: the column would only repeat it
    assert f"z {len(expected)}" in t["caption"]
    # A kind narrows the rows to institutions of that kind.
    kind = sql(small_db, f"SELECT kind FROM institutions WHERE id IN ({','.join(map(str, expected))}) "
                         "GROUP BY 1 ORDER BY COUNT(*) DESC LIMIT 1")[0][0]
    x.kind.value = kind
    of_kind = {r[0] for r in sql(small_db, "SELECT id FROM institutions WHERE kind = ?", (kind,))}
    assert set(x.table_rows()["ident"]) == idents(small_db, expected & of_kind)
    # "All existing" lists every institution open in the edition (and any audited one).
    x.kind.value = ""
    x.status.value = "all"
    existing = {r[0] for r in sql(small_db, f"SELECT id FROM institutions WHERE {existing_sql(county)}",
                                  {"start": START, "county": county})}
    assert set(x.table_rows()["ident"]) == idents(small_db, existing | expected)
    assert len(tables(x.table.value)[0]["rows"]) == min(x.page_size, len(existing | expected))


def test_police_unit_serving_two_counties(x, small_db):
    x.unit.value = "KMP-NOWY-SACZ" if "KMP-NOWY-SACZ" in REF.police_units else next(
        u for u in REF.police_units if sum(c.police_unit == u for c in REF.counties.values()) == 2)
    served = {t for t, c in REF.counties.items() if c.police_unit == x.unit.value}
    assert len(served) == 2
    assert {v for _, v in x.county.options} == {""} | served
    assert set(x.table_rows()["county"]) <= served
    # Surveys are pooled by county: the tile asks for one.
    x.measure.value = "survey:safe_school"
    assert tiles(x.tiles.value)["Czuje się bezpiecznie w szkole — uczniowie"][0] == fmt.MISSING
    x.county.value = sorted(served)[0]
    assert set(x.table_rows()["county"]) == {sorted(served)[0]} or x.table_rows().empty


def test_sort_and_pages(x, small_db):
    x.status.value = "all"
    x.sort_by.value = "audit_total"
    x.descending.value = True
    rows = tables(x.table.value)[0]["rows"]
    head = tables(x.table.value)[0]["head"]
    pts = [r[head.index("Punkty")] for r in rows]
    values = [int(p.split("/")[0]) for p in pts if p]
    assert values == sorted(values, reverse=True)
    top = sql(small_db, "SELECT MAX(t) FROM (SELECT SUM(points) t FROM audit_items ai JOIN audits a ON "
                        "a.id = ai.audit_id WHERE a.edition = ? AND a.kind != 'control' GROUP BY a.id)", (EDITION,))[0][0]
    assert values[0] == top
    total = len(x.table_rows())
    assert x.prev_button.disabled and not x.next_button.disabled
    first_page = [r[0] for r in rows]
    x.next_button.click()
    second = tables(x.table.value)[0]
    assert f"{x.page_size + 1}–{min(2 * x.page_size, total)} z {fmt.integer(total)}" in second["caption"]
    shown = list(x.table_rows()["ident"].iloc[x.page_size:2 * x.page_size])
    assert [r[0] for r in second["rows"]] == [
        sql(small_db, "SELECT name FROM institutions WHERE COALESCE(CAST(rspo AS TEXT), polon) = ?", (i,))[0][0]
        for i in shown]
    x.prev_button.click()
    assert [r[0] for r in tables(x.table.value)[0]["rows"]] == first_page
    # Names sort in Polish alphabetical order (Ł after L, Ś after S).
    x.sort_by.value = "name"
    x.descending.value = False
    names = list(x.table_rows()["name"])
    alphabet = "aąbcćdeęfghijklłmnńoópqrsśtuvwxyzźż"
    firsts = [alphabet.index(n[0].lower()) for n in names if n[0].lower() in alphabet]
    assert firsts == sorted(firsts)


# --------------------------------------------------------------------------- map

def test_map_shows_participation_by_county(x, small_db):
    x.show("map")
    rates = {}
    for teryt in REF.counties:
        existing = counted_ids(small_db, teryt)
        rates[teryt] = len(participating_ids(small_db, teryt) & existing) / len(existing) if existing else math.nan
    got = x.map_values
    for teryt, rate in rates.items():
        assert got[teryt] == pytest.approx(rate, nan_ok=True), teryt
    assert "data:image/svg+xml" in x.map.value
    x.county.value = "1261"
    assert x.highlighted_county() == "1261"
    # The highlighted county's name is in the map's text alternative.
    assert county_name("1261") in BeautifulSoup(x.map.value, "html.parser").find("img")["alt"]


def test_map_of_a_survey_indicator_uses_suppressed_county_figures(x, small_db):
    x.show("map")
    x.measure.value = "survey:trust_police"
    x.group.value = "teachers"
    con = store.connect(small_db, readonly=True)
    try:
        table = ind.indicator_table(ind.indicator_counts(con, REF, editions=[EDITION]), REF)
    finally:
        con.close()
    county = table[(table["level"] == "county") & (table["wave"] == "follow-up") & (table["group"] == "teachers")
                   & (table["indicator"] == "trust_police")].set_index("key")
    for teryt in REF.counties:
        want = county["p"].get(teryt, math.nan)
        assert x.map_values[teryt] == pytest.approx(want, nan_ok=True), teryt
        if teryt in county.index and county.at[teryt, "n"] < 10:
            assert math.isnan(x.map_values[teryt])


# --------------------------------------------------------------------------- drill-down

def test_drilldown_audit_gaps_awards_and_surveys(x, small_db):
    county = busiest_county(small_db)
    x.county.value = county
    aid, iid = sql(small_db, "SELECT a.id, a.institution_id FROM audits a JOIN institutions i ON "
                             "i.id = a.institution_id WHERE a.edition = ? AND i.county = ? AND a.kind != 'control' "
                             "ORDER BY a.id LIMIT 1", (EDITION, county))[0]
    assert x.build_institution_button.disabled
    rspo = sql(small_db, "SELECT rspo FROM institutions WHERE id = ?", (iid,))[0][0]
    x.select_institution(rspo)
    assert not x.build_institution_button.disabled
    assert f"RSPO {rspo} · " in x.detail.value  # the heading names it as people do
    page = tables(x.detail.value)
    by_caption = {t["caption"]: t for t in page}
    crit = next(t for c, t in by_caption.items() if c.startswith("Punkty według kryteriów"))
    points = dict(sql(small_db, "SELECT criterion, points FROM audit_items WHERE audit_id = ?", (aid,)))
    maxima = dict(sql(small_db, "SELECT c.criterion, c.max_points FROM criteria c JOIN audits a ON "
                                "a.catalogue = c.catalogue WHERE a.id = ?", (aid,)))
    shown = {r["Kryterium"]: r for r in table_dicts(crit)}
    assert set(shown) == set(maxima)
    for c, m in maxima.items():
        assert shown[c]["Punkty"] == str(points.get(c, 0))
        assert shown[c]["Maksimum"] == str(m)
    gaps = next(t for c, t in by_caption.items() if c.startswith("Kryteria z brakującymi"))
    assert {r[0] for r in gaps["rows"]} == {c for c, m in maxima.items() if points.get(c, 0) < m}
    lost = [int(r["Utracone punkty"]) for r in table_dicts(gaps)]
    mandatory_failed = [r for r in table_dicts(gaps) if int(r["Punkty"]) < 1 and r["Kryterium"] in
                        {c for c, in sql(small_db, "SELECT criterion FROM criteria c JOIN audits a ON "
                                                   "a.catalogue = c.catalogue WHERE a.id = ? AND mandatory = 1", (aid,))}]
    assert lost[len(mandatory_failed):] == sorted(lost[len(mandatory_failed):], reverse=True)
    awards = by_caption["Przyznane wyróżnienia"]
    assert len(awards["rows"]) == sql(small_db, "SELECT COUNT(*) FROM awards w JOIN editions e ON e.edition = w.edition "
                                                "WHERE institution_id = ? AND e.start_year <= ?", (iid, START))[0][0]
    # Survey indicators: respondents and values from the answers (students, follow-up).
    students = next((t for c, t in by_caption.items() if c.startswith("uczniowie")), None)
    if students is not None:
        n, k = sql(small_db, "SELECT COUNT(safe_school), SUM(safe_school IN (4, 5)) FROM survey_responses WHERE "
                             "institution_id = ? AND edition = ? AND wave = 'follow-up' AND grp = 'students'",
                   (iid, EDITION))[0]
        row = table_dicts(students)[0]
        assert row["Wskaźnik"] == "Czuje się bezpiecznie w szkole"
        assert row["Respondenci"] == fmt.integer(n)
        assert row["Wynik"] in (fmt.percent(k / n, 1), fmt.MISSING)


# --------------------------------------------------------------------------- suppression

def test_no_survey_figure_from_fewer_than_ten_respondents(x, small_db, tmp_path):
    """Every (institution, group) with fewer than 10 follow-up respondents in the edition shows
    "—" in the table, the drill-down and the Excel export; counties likewise on the map."""
    small = sql(small_db, "SELECT r.institution_id, r.grp, COUNT(*) FROM survey_responses r WHERE r.edition = ? "
                          "AND r.wave = 'follow-up' GROUP BY 1, 2 HAVING COUNT(*) < 10", (EDITION,))
    assert small, "the small demo database should have small survey groups in the latest edition"
    small_idents = {iid: ident_of(small_db, iid) for iid, _, _ in small}
    x.status.value = "all"
    groups = {"students": "uczniowie", "parents": "rodzice", "teachers": "nauczyciele"}
    for indicator in REF.indicators:
        x.measure.value = f"survey:{indicator}"
        for group in groups:
            x.group.value = group
            rows = x.table_rows().set_index("ident")
            for iid, grp, n in small:
                key = small_idents[iid]
                if grp == group and key in rows.index:
                    assert math.isnan(rows.at[key, "survey_p"]), (key, grp, indicator)
    # The rendered table: put the small institutions on the first page and read their cells.
    iid, grp, _ = small[0]
    n = sql(small_db, "SELECT COUNT(safe_school) FROM survey_responses WHERE institution_id = ? AND edition = ? "
                      "AND wave = 'follow-up' AND grp = ?", (iid, EDITION, grp))[0][0]
    name = sql(small_db, "SELECT name FROM institutions WHERE id = ?", (iid,))[0][0]
    x.measure.value = "survey:safe_school"
    x.group.value = grp
    x.county.value = sql(small_db, "SELECT county FROM institutions WHERE id = ?", (iid,))[0][0]
    x.sort_by.value = "survey_n"
    rows = table_dicts(tables(x.table.value)[0])
    mine = next(r for r in rows if r["Placówka"] == name)
    survey_col = next(h for h in mine if h.startswith("Czuje się bezpiecznie"))
    assert mine[survey_col].startswith(fmt.MISSING) and f"n = {n}" in mine[survey_col].replace("\u00a0", " ")
    # The drill-down: every value of that group is "—" (n shown, as in the reports).
    x.select_institution(small_idents[iid])
    group_tables = [t for t in tables(x.detail.value) if t["caption"].startswith(groups[grp])]
    for t in group_tables:
        for r in table_dicts(t):
            assert r["Wynik"] == fmt.MISSING and r["Przedział ufności 95%"] == fmt.MISSING, r
    # The Excel export: empty survey cells for that institution.
    x.show("table")
    path = x.export_table()
    ws = openpyxl.load_workbook(path)["Placówki"]
    head = [c.value for c in ws[1]]
    value_col = next(i for i, h in enumerate(head) if h and h.endswith(": wynik"))
    for r in ws.iter_rows(min_row=2, values_only=True):
        if str(r[0]) == small_idents[iid]:
            assert r[value_col] is None
            break
    else:
        pytest.fail("the institution is not in the export")


# --------------------------------------------------------------------------- what-if

def test_whatif_threshold_changes_decisions_without_writing(x, small_db, content_hash):
    digest, hashed = file_digest(small_db), content_hash(small_db)
    rule = load_rules().for_edition("school", EDITION).awards["certificate"]
    audits = certification_audits(small_db)
    new = rule.min_points + 3
    x.show("whatif")
    before_view = tables(x.whatif_view.value)
    assert before_view[0]["rows"][0][1] == before_view[0]["rows"][0][2]  # no change yet
    x.set_threshold("school", "certificate", new)
    counts = {r[0]: r for r in tables(x.whatif_view.value)[0]["rows"]}
    certs = counts["certyfikat „Szkoła Promująca Bezpieczeństwo”"]
    before = sum(1 for _, _, t, ok in audits if ok and t >= rule.min_points)
    after = sum(1 for _, _, t, ok in audits if ok and t >= new)
    assert certs[1:] == [fmt.integer(before), fmt.integer(after), fmt.signed(after - before)]
    flipped = {a for a, _, t, ok in audits if ok and rule.min_points <= t < new}
    assert set(x.whatif_audits.loc[x.whatif_audits["flipped"], "audit_id"]) == flipped
    names = {r[0] for r in sql(small_db, f"SELECT i.name FROM audits a JOIN institutions i ON i.id = a.institution_id "
                                         f"WHERE a.id IN ({','.join(map(str, flipped)) or 0})")}
    flips = next((t for t in tables(x.whatif_view.value) if t["caption"].startswith("Placówki, których")), None)
    assert (flips is None and not names) or {r[0] for r in flips["rows"]} == names
    # Per county: the awards granted (certification, re-audit, leader) before and after.
    per = table_dicts(tables(x.whatif_view.value)[-1])
    changed = {}
    for _, county, t, ok in audits:
        if ok and rule.min_points <= t < new:
            changed[county] = changed.get(county, 0) + 1
    for r in per:
        teryt = next(t for t in REF.counties if county_name(t) == r["Powiat"])
        assert int(r["Obecne zasady"]) - int(r["Co jeśli"]) == changed.get(teryt, 0)
    # Filters apply: one county's view counts only its audits.
    county = busiest_county(small_db)
    x.county.value = county
    assert set(x.whatif_audits["county"]) <= {county}
    # Nothing was written.
    assert file_digest(small_db) == digest
    assert content_hash(small_db) == hashed
    x.whatif_reset.click()
    assert x.scenario().empty and not x.whatif_audits["flipped"].any()


def test_whatif_criterion_maximum_clips_points(x, small_db):
    cat = REF.catalogue_for("school", EDITION)
    rule = load_rules().for_edition("school", EDITION).awards["certificate"]
    # The criterion whose lowering to 1 point costs the most points in this edition's audits.
    crit = sql(small_db, "SELECT ai.criterion FROM audit_items ai JOIN audits a ON a.id = ai.audit_id WHERE "
                         "a.edition = ? AND a.catalogue = ? GROUP BY 1 ORDER BY SUM(MAX(ai.points - 1, 0)) DESC "
                         "LIMIT 1", (EDITION, cat.key))[0][0]
    x.show("whatif")
    x.set_maximum(cat.key, crit, 1)
    audits = certification_audits(small_db, {crit: 1})
    got = x.whatif_audits.set_index("audit_id")
    for aid, _, total, ok in audits:
        assert got.at[aid, "total_after"] == total
        assert got.at[aid, "max_total_after"] == cat.max_total - cat.criterion(crit).max_points + 1
        assert bool(got.at[aid, "granted_after"]) == (ok and total >= rule.min_points)
    assert f"{crit} ({cat.key}): maks. 1 pkt" in x.whatif_view.value


def test_whatif_control_threshold_and_warning(x, small_db):
    x.show("whatif")
    cat = REF.catalogue_for("school", EDITION)
    x.set_control_threshold("school", cat.max_total + 1)
    controls = sql(small_db, "SELECT COUNT(*) FROM audits a JOIN institutions i ON i.id = a.institution_id JOIN "
                             "institution_kinds k ON k.code = i.kind WHERE a.edition = ? AND a.kind = 'control' "
                             "AND k.family = 'school'", (EDITION,))[0][0]
    got = x.whatif_audits
    school_controls = got[(got["kind"] == "control") & (got["family"] == "school")]
    assert len(school_controls) == controls
    assert not school_controls["granted_after"].any()
    assert "przekracza maksimum katalogu" in x.whatif_view.value


# --------------------------------------------------------------------------- export and build

def test_export_to_excel(x, small_db):
    county = busiest_county(small_db)
    x.county.value = county
    x.status.value = "all"
    path = x.export_table()
    assert path.exists() and path.suffix == ".xlsx" and path.parent == x.out / "eksport"
    assert str(path) in x.file_message
    wb = openpyxl.load_workbook(path)
    ws = wb["Placówki"]
    ids = [r[0] for r in ws.iter_rows(min_row=2, values_only=True)]
    existing = idents(small_db, {r[0] for r in sql(small_db, f"SELECT id FROM institutions WHERE {existing_sql(county)}",
                                                   {"start": START, "county": county})})
    assert {str(i) for i in ids} >= existing and len(ids) == len(set(ids)) == len(x.table_rows())
    assert [str(i) for i in ids] == list(x.table_rows()["ident"])  # the table's order
    head = [c.value for c in ws[1]]
    assert head[:3] == ["RSPO / POL-on", "Placówka", "W wykazie RSPO"]
    # RSPO numbers are numbers (they match an RSPO export opened in Excel), POL-on ids text.
    assert all(isinstance(i, int) or len(i) == 36 for i in ids)
    points_col = head.index("Punkty")
    totals = sql(small_db, "SELECT COALESCE(CAST(i.rspo AS TEXT), i.polon), SUM(ai.points) FROM audits a "
                           "JOIN audit_items ai ON "
                           "ai.audit_id = a.id JOIN institutions i ON i.id = a.institution_id WHERE a.edition = ? "
                           "AND i.county = ? AND a.kind != 'control' GROUP BY a.id", (EDITION, county))
    once = [i for i, _ in totals if sum(j == i for j, _ in totals) == 1]
    audited = {i: t for i, t in totals if i in once}
    assert audited
    for r in ws.iter_rows(min_row=2, values_only=True):
        if str(r[0]) in audited:
            assert r[points_col] == audited[str(r[0])]
    # Each school's complex, and whether the row counts as one of the county's institutions.
    parents = dict(sql(small_db, "SELECT rspo, parent_rspo FROM institutions WHERE county = ? AND rspo IS NOT NULL",
                       (county,)))
    counts = idents(small_db, counted_ids(small_db, county))
    complex_col, counted_col = head.index("Zespół szkół"), head.index("Liczona jako placówka")
    rows = [r for r in ws.iter_rows(min_row=2, values_only=True)]
    assert all(r[complex_col] == parents.get(r[0]) for r in rows)
    assert all((r[counted_col] == "tak") == (str(r[0]) in counts) for r in rows if str(r[0]) in existing)
    assert any(r[complex_col] for r in rows)  # the small demo has a complex in the busiest county
    assert "Informacje" in wb.sheetnames


def test_build_buttons_build_html_reports(x, small_db):
    assert x.build_county_button.disabled
    county = busiest_county(small_db)
    x.county.value = county
    assert not x.build_county_button.disabled and county_name(county) in x.build_county_button.description
    x.build_county_button.click()
    report = x.last_report
    assert report is not None and report.exists() and report.suffix == ".html", x.message.value
    assert report.parent == (x.out / EDITION.replace("/", "-")).resolve()
    assert not list(report.parent.glob("*.pdf"))
    text = report.read_text(encoding="utf-8")
    assert county_name(county) in text
    assert str(report) in x.file_message and 'href="' in x.file_message
    x.show("detail")
    ident = x.table_rows()["ident"].iloc[0]
    x.select_institution(ident)
    x.build_institution_button.click()
    assert x.last_report != report and x.last_report.exists(), x.message.value
    name, rspo = sql(small_db, "SELECT name, rspo FROM institutions WHERE COALESCE(CAST(rspo AS TEXT), polon) = ?",
                     (ident,))[0]
    assert name in x.last_report.read_text(encoding="utf-8")
    assert x.last_report.name.startswith(f"placowka-{rspo}-" if rspo else f"uczelnia-{ident}-")


# --------------------------------------------------------------------------- identifiers people use

@pytest.fixture(scope="module")
def identity(small_db, tmp_path_factory):
    """An explorer over a copy where one audited school has an internal id no RSPO number equals and
    another school taking part is missing from the latest RSPO register."""
    db = tmp_path_factory.mktemp("identity") / "identity.sqlite"
    shutil.copy(small_db, db)
    inst = renumber(db)
    con = sqlite3.connect(db)
    gone_id, gone_rspo = con.execute(
        "SELECT i.id, i.rspo FROM institutions i JOIN participation p ON p.institution_id = i.id "
        "WHERE i.county = ? AND i.rspo IS NOT NULL AND i.id != ? AND p.joined_edition <= ? AND "
        "(p.left_edition IS NULL OR p.left_edition > ?) ORDER BY i.id LIMIT 1",
        (inst.county, inst.id, EDITION, EDITION)).fetchone()
    with con:
        con.execute("UPDATE institutions SET in_register = 0 WHERE id = ?", (gone_id,))
    con.close()
    x = Explorer(db, out=tmp_path_factory.mktemp("identity-out"), page_size=1000)
    x.county.value = inst.county
    x.status.value = "all"
    return x, inst, gone_rspo, db


def test_explorer_shows_rspo_numbers_never_internal_ids(identity):
    x, inst, _, db = identity
    x.show("table")
    head = tables(x.table.value)[0]["head"]
    rows = table_dicts(tables(x.table.value)[0])
    assert head[:2] == ["Placówka", "RSPO / POL-on"]
    expected = dict(sql(db, "SELECT name, COALESCE(CAST(rspo AS TEXT), polon) FROM institutions WHERE county = ?",
                        (inst.county,)))
    for r in rows:  # (names are unique within the demo's county)
        assert r["RSPO / POL-on"].rstrip("*") == expected[r["Placówka"]]
    assert {"Placówka": inst.name, "RSPO / POL-on": str(inst.rspo)}.items() <= next(
        r for r in rows if r["Placówka"] == inst.name).items()
    x.show("detail")
    labels = [label for label, v in x.institution.options if v is not None]
    assert f"{inst.name} (RSPO {inst.rspo})" in labels
    x.select_institution(f"RSPO {inst.rspo}")
    assert x.institution.value == str(inst.rspo)
    # What-if: thresholds nobody reaches refuse every award, so this school is among the flips.
    x.show("whatif")
    for family, rule in list(x._wi_rules):
        if family == "school":
            x.set_threshold(family, rule, 999)
    assert "institution_id" not in x.whatif_audits.columns
    flipped = x.whatif_audits[x.whatif_audits["flipped"]]
    assert str(inst.rspo) in set(flipped["ident"])
    assert f"{inst.rspo}" in {r["RSPO / POL-on"] for t in tables(x.whatif_view.value)
                              if "RSPO / POL-on" in t["head"] for r in table_dicts(t)}
    views = {"table": x.table.value, "detail": x.detail.value, "options": " ".join(labels),
             "whatif": x.whatif_view.value, "whatif frame": x.whatif_audits.to_csv(),
             "table rows": x.table_rows().to_csv()}
    x.reset_whatif()
    x.show("table")
    path = x.export_table()
    views["excel"] = " ".join(str(v) for ws in openpyxl.load_workbook(path).worksheets
                              for row in ws.iter_rows(values_only=True) for v in row if v is not None)
    for where, text in views.items():
        assert not shows_number(text, inst.id), where
    assert shows_number(views["table"], inst.rspo) and shows_number(views["excel"], inst.rspo)


def test_explorer_marks_schools_missing_from_the_register(identity):
    x, inst, gone, _ = identity
    x.show("table")
    t = tables(x.table.value)[0]
    cells = {r["RSPO / POL-on"] for r in table_dicts(t)}
    assert f"{gone}*" in cells and str(inst.rspo) in cells
    assert "* — placówki nie ma w ostatnim wykazie RSPO." in x.table.value
    x.show("detail")
    assert any(label.endswith(f"RSPO {gone}, nie ma w ostatnim wykazie RSPO)") for label, _ in x.institution.options)
    x.select_institution(gone)
    assert f"RSPO {gone} · " in x.detail.value and "nie ma w ostatnim wykazie RSPO" in x.detail.value
    x.show("table")
    ws = openpyxl.load_workbook(x.export_table())["Placówki"]
    head = [c.value for c in ws[1]]
    register = {r[0]: r[head.index("W wykazie RSPO")] for r in ws.iter_rows(min_row=2, values_only=True)}
    assert register[gone] == "nie" and register[inst.rspo] == "tak"


# --------------------------------------------------------------------------- editions

def test_other_edition_has_its_kinds_and_rules(x, small_db):
    old = "2015/2016"
    x.edition.value = old
    kinds = {v for _, v in x.kind.options}
    assert "gimnazjum" in kinds
    assert (x.data(old).cube.meta["edition"]) == old
    start = REF.edition(old).start_year
    audited = {r[0] for r in sql(small_db, "SELECT institution_id FROM audits WHERE edition = ?", (old,))}
    part = {r[0] for r in sql(small_db, "SELECT institution_id FROM participation WHERE joined_edition <= ? AND "
                                        "(left_edition IS NULL OR left_edition > ?)", (old, old))}
    assert set(x.table_rows()["ident"]) == idents(small_db, with_complex_schools(small_db, audited | part, old))
    old_cat = REF.catalogue_for("school", old)
    assert ("school", "certificate") in x._wi_rules
    assert any(k[0] == old_cat.key for k in x._wi_maxima)
    assert start < START


# --------------------------------------------------------------------------- the notebook

def test_notebook_is_thin_with_a_parameters_cell():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert nb.metadata["kernelspec"]["name"] == "zpb"
    tagged = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1 and nb.cells.index(tagged[0]) == 0
    out = subprocess.run([sys.executable, "-m", "papermill", "--help-notebook", str(NOTEBOOK)],
                         capture_output=True, text=True, check=True).stdout
    for name in ("db", "edition"):
        assert f"  {name}: str" in out, out
    for line in tagged[0].source.splitlines():
        if "=" in line and not line.startswith("#"):
            assert "#" in line.split("=", 1)[1], line
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
            if cell is not tagged[0]:
                assert len(cell.source.splitlines()) <= 4, cell.source


def test_notebook_runs_under_papermill(small_db, tmp_path):
    out = tmp_path / "explore-run.ipynb"
    subprocess.run([sys.executable, "-m", "papermill", str(NOTEBOOK), str(out), "-p", "db", str(small_db),
                    "-p", "out", str(tmp_path / "out"), "--cwd", str(tmp_path)],
                   check=True, capture_output=True, text=True, timeout=300)
    nb = nbformat.read(out, as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs)


def test_english_labels_and_widget_display(small_db, tmp_path):
    x = Explorer(small_db, lang="en", out=tmp_path)
    shown = tiles(x.tiles.value)
    assert "Participation rate" in shown and "Institutions in the table" in shown
    for tab in ("map", "detail", "whatif", "table"):
        x.show(tab)
    assert tables(x.table.value)[0]["head"][0] == "Institution"
    assert "No changes" in x.whatif_view.value
    bundle = x._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
