"""What the „Wskaźniki” tab shows of a county (zpb_lib.services.indicators_view), against figures
computed without it: survey shares counted with SQL on the raw answers (Wilson's interval from
domain.stats), key figures from the cube's county summary (domain.cube, not the explorer's frames),
dangerous places counted with SQL. Withheld figures are „—” with the footnote."""
from __future__ import annotations

import shutil

import pytest
from bs4 import BeautifulSoup

from support.indicators import survey_share
from zpb_lib import store
from zpb_lib.core import fmt
from zpb_lib.domain.labels import label
from zpb_lib.reference import reference
from zpb_lib.services.cubes import edition_data
from zpb_lib.services.indicators_view import counties_for, view

EDITION = "2025/2026"
BOCHNIA = "1201"
FIGURES = ("institutions", "participating", "participation_rate", "valid_awards", "leaders", "audits", "granted",
           "mean_share")


@pytest.fixture(scope="module")
def db(small_sqlite, tmp_path_factory):
    path = tmp_path_factory.mktemp("indicators") / "zpb.sqlite"
    shutil.copy(small_sqlite, path)
    return path


@pytest.fixture(scope="module")
def data(db):
    return edition_data(db, EDITION)


def table_rows(fragment: str, caption_start: str) -> tuple[list[str], list[list[str]], list[str]]:
    """(headers, rows of cells, footnotes) of the table whose caption starts so."""
    soup = BeautifulSoup(fragment, "html.parser")
    table = next(t for t in soup.find_all("table") if t.caption.get_text().startswith(caption_start))
    heads = [th.get_text() for th in table.thead.find_all("th")]
    rows = [[c.get_text() for c in tr.find_all(["th", "td"])] for tr in table.tbody.find_all("tr")]
    notes = [p.get_text() for p in table.parent.select(".zpb-footnote")]
    return heads, rows, notes


def table_of(fragment: str, caption_start: str) -> tuple[list[str], dict[str, list[str]], list[str]]:
    """(headers, row header → the other cells, footnotes) of the table whose caption starts so."""
    heads, rows, notes = table_rows(fragment, caption_start)
    return heads, {r[0]: r[1:] for r in rows}, notes


def tiles(fragment: str) -> dict[str, list[str]]:
    soup = BeautifulSoup(fragment, "html.parser")
    return {t.find("dt").get_text(): [d.get_text() for d in t.find_all("dd")] for t in soup.select(".zpb-tile")}


def test_key_figures_are_the_county_summarys(data):
    summary = data.cube.frame("county_summary").set_index("county")
    v = view(data, BOCHNIA, "students", "safe_school")
    for key in FIGURES:
        for got, county in ((v.figures[key], BOCHNIA), (v.voivodeship[key], "12")):
            assert got == pytest.approx(float(summary.loc[county, key]), nan_ok=True), (key, county)
    shown = tiles(v.figures_html)
    rate = shown[label("kf.participation_rate", "pl")]
    assert rate == [fmt.percent(summary.loc[BOCHNIA, "participation_rate"], 1, "pl"),
                    f"województwo: {fmt.percent(summary.loc['12', 'participation_rate'], 1, 'pl')}"]
    assert shown[label("kf.institutions", "pl")] == [str(int(summary.loc[BOCHNIA, "institutions"]))]


@pytest.mark.parametrize("group, indicator", [("students", "safe_school"), ("students", "trust_police"),
                                              ("parents", "knows_help")])
def test_survey_figures_are_the_answers_counted(data, db, group, indicator):
    v = view(data, BOCHNIA, group, indicator)
    mine = survey_share(db, EDITION, group, indicator, county=BOCHNIA)
    voiv = survey_share(db, EDITION, group, indicator)
    assert mine.n >= data.threshold and voiv.n >= data.threshold
    assert (v.survey.n, v.survey.suppressed) == (mine.n, False)
    assert (v.survey.p, v.survey.lo, v.survey.hi) == pytest.approx((mine.p, *mine.interval))
    assert (v.survey_voivodeship.n, v.survey_voivodeship.p) == (voiv.n, pytest.approx(voiv.p))
    # the tile and the row of the table, as the page shows them
    title = reference().indicators[indicator].title_pl
    tile = tiles(v.figures_html)[f"{title} — {label(f'group.{group}', 'pl')}"]
    assert tile[0] == fmt.percent(mine.p, 1, "pl")
    assert f"n = {fmt.integer(mine.n, 'pl')}" in tile[1] and fmt.interval(*mine.interval, 1, "pl") in tile[1]
    assert tile[1].endswith(f"województwo: {fmt.percent(voiv.p, 1, 'pl')}")
    heads, rows, notes = table_of(v.survey_html, "Wskaźniki z ankiet")
    assert heads[1:4] == ["powiat bocheński: Wynik", "powiat bocheński: Przedział ufności 95%",
                          "powiat bocheński: Respondenci"]
    assert rows[title] == [fmt.percent(mine.p, 1, "pl"), fmt.interval(*mine.interval, 1, "pl"), fmt.integer(mine.n, "pl"),
                           fmt.percent(voiv.p, 1, "pl"), fmt.interval(*voiv.interval, 1, "pl"),
                           fmt.integer(voiv.n, "pl")]
    assert label("footnote.interval", "pl") in notes


def schools_of(db, county: str) -> dict[int, str]:
    with store.connect(db, readonly=True) as con:
        return dict(con.execute("SELECT id, name FROM institutions WHERE county = ?", (county,)).fetchall())


def test_the_schools_side_by_side_withhold_small_surveys(data, db):
    """Parents of county 1201: a school with fewer respondents than the threshold is „—” (with the
    footnote), whatever its answers; one with enough shows its share."""
    v = view(data, BOCHNIA, "parents", "trust_police")
    _, rows, notes = table_of(v.schools_html, "Placówki — powiat bocheński")
    names = schools_of(db, BOCHNIA)
    answered = {i: survey_share(db, EDITION, "parents", "trust_police", institution=i) for i in names}
    small = [i for i, s in answered.items() if 0 < s.n < data.threshold]
    assert small, "the small database has a school of county 1201 with few parents answering"
    for i in small:
        assert rows[names[i]][-3:] == [fmt.MISSING, fmt.MISSING, fmt.integer(answered[i].n, "pl")]
    assert label("footnote.suppressed", "pl", threshold=data.threshold) in notes
    v = view(data, BOCHNIA, "students", "trust_police")
    _, rows, _ = table_of(v.schools_html, "Placówki — powiat bocheński")
    shown = {i: s for i, s in ((i, survey_share(db, EDITION, "students", "trust_police", institution=i)) for i in names)
             if s.n >= data.threshold and names[i] in rows}
    assert shown
    for i, s in shown.items():
        assert rows[names[i]][-3:] == [fmt.percent(s.p, 1, "pl"), fmt.interval(*s.interval, 1, "pl"),
                                       fmt.integer(s.n, "pl")]


def test_a_county_with_too_few_respondents_shows_a_dash_and_why(data, db, ref):
    small = next(c for c in ref.counties if 0 < survey_share(db, EDITION, "teachers", "safe_school", county=c).n
                 < data.threshold)
    v = view(data, small, "teachers", "safe_school")
    assert v.survey.suppressed and v.survey.p is None
    tile = tiles(v.figures_html)[f"{ref.indicators['safe_school'].title_pl} — nauczyciele"]
    assert tile[0] == fmt.MISSING
    assert tile[1].startswith(label("footnote.suppressed", "pl", threshold=data.threshold))
    _, rows, notes = table_of(v.survey_html, "Wskaźniki z ankiet")
    assert rows[ref.indicators["safe_school"].title_pl][:2] == [fmt.MISSING, fmt.MISSING]
    assert label("footnote.suppressed", "pl", threshold=data.threshold) in notes


def test_dangerous_places_are_the_answers_counted(data, db, ref):
    v = view(data, BOCHNIA, "students", "safe_school")
    _, rows, notes = table_rows(v.places_html, "Miejsca wskazywane jako niebezpieczne")
    answered = " OR ".join(f"place_{p} IS NOT NULL" for p in ref.place_codes())
    named = list(ref.named_place_codes())
    sums = ", ".join(f"SUM(CASE WHEN place_{p} = 1 THEN 1 ELSE 0 END)" for p in named)
    with store.connect(db, readonly=True) as con:
        n, *ks = con.execute(
            f"SELECT SUM(CASE WHEN {answered} THEN 1 ELSE 0 END), {sums} FROM survey_responses r JOIN institutions i "
            "ON i.id = r.institution_id WHERE i.county = ? AND r.edition = ? AND r.wave = 'follow-up' AND r.grp = ?",
            (BOCHNIA, EDITION, "students")).fetchone()
    assert n >= data.threshold
    titles = {o.code: o.label_pl for o in ref.scales["places"].options}
    # rank, place, share, respondents: the most named first
    assert {r[1]: r[2:] for r in rows} == {titles[p]: [fmt.percent(k / n, 1, "pl"), fmt.integer(n, "pl")]
                                          for p, k in zip(named, ks)}
    assert {r[1] for r in rows if r[0] == "1"} == {titles[p] for p, k in zip(named, ks) if k == max(ks)}
    assert [int(r[0]) for r in rows] == sorted(int(r[0]) for r in rows)
    assert label("misc.places_note", "pl", n=fmt.integer(n, "pl")) in notes


def test_trends_list_every_held_edition_up_to_this_one(data, ref):
    v = view(data, BOCHNIA, "students", "safe_school")
    held = [e.edition for e in ref.held_editions() if e.edition <= EDITION]
    _, rows, _ = table_of(v.trends_html, "Program w kolejnych edycjach")
    assert list(rows) == held


def test_a_units_role_compares_its_own_counties_only(ref):
    assert list(counties_for(frozenset({"KMP-TARNOW"}), ref)) == ["1216", "1263"]
    assert list(counties_for(None, ref)) == list(ref.counties)


def test_english(data):
    v = view(data, BOCHNIA, "students", "safe_school", "en")
    assert v.county_name == "Bochnia County"
    assert label("kf.participation_rate", "en") in tiles(v.figures_html)
    assert "Survey indicators" in v.survey_html
