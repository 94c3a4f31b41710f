"""The „Wskaźniki” tab of ``zpb serve --auth password`` on the shared PostgreSQL database — the real
server process, Debian's Chromium. The coordinator of KPP Bochnia compares her county, and only hers,
with the voivodeship: the key figures are the county summary of a cube built apart from the app, the
survey shares are the answers counted with SQL; she switches the indicator and the group and the
figures follow, a school with too few respondents shown as „—” with the footnote. The reader picks
any county, in English. axe-core finds nothing; nothing leaves the app's origin."""
from __future__ import annotations


import pytest

from support.browser import artifact, chromium_browser
from support.indicators import survey_share
from support.web import EDITION, axe_violations, log_in, password_app, same_origin_guard, wait_text
from zpb_lib import store
from zpb_lib.core import fmt
from zpb_lib.domain import cube as cube_mod
from zpb_lib.domain.labels import county_name
from zpb_lib.domain.stats import DEFAULT_THRESHOLD
from zpb_lib.reference import reference

BOCHNIA = "1201"


@pytest.fixture(scope="module")
def app(team_db, users, tmp_path_factory):
    with password_app(team_db[1], users, tmp_path_factory.mktemp("serve")) as url:
        yield url


@pytest.fixture(scope="module")
def summary(team_db, tmp_path_factory):
    """The cube's county summary (domain.cube), built from the owner's connection apart from the app."""
    con = store.connect(team_db[0], readonly=True)
    try:
        path = cube_mod.build(con, EDITION, tmp_path_factory.mktemp("cube") / "cube.sqlite")
    finally:
        con.close()
    with cube_mod.Cube(path) as cube:
        return cube.table("county_summary").set_index("county")


def open_tab(page, app: str, login: str, lang: str = "pl") -> None:
    log_in(page, app, login)
    if lang == "en":
        page.goto(app + "/?lang=en")
    wait_text(page, "Placówek:" if lang == "pl" else "Institutions:")
    page.get_by_text("Wskaźniki" if lang == "pl" else "Indicators", exact=True).first.click()
    wait_text(page, "Pokazano:" if lang == "pl" else "Shown:")


def tiles(page) -> dict[str, list[str]]:
    return {t.locator("dt").inner_text(): [d.inner_text() for d in t.locator("dd").all()]
            for t in page.locator(".zpb-indicators .zpb-key-figures .zpb-tile").all()}


def survey_tile(page, title: str) -> list[str]:
    page.locator(".zpb-indicators .zpb-tile dt").filter(has_text=title).first.wait_for(timeout=120_000)
    return tiles(page)[title]


def school_row(page, name: str) -> list[str]:
    row = page.locator(".zpb-indicators table").filter(has_text="Placówki — powiat bocheński").locator(
        "tbody tr").filter(has=page.locator("th", has_text=name)).first
    return [c.inner_text() for c in row.locator("th, td").all()]


def test_the_coordinator_compares_her_county_with_the_voivodeship(app, team_db, summary):
    owner = team_db[0]
    threshold = DEFAULT_THRESHOLD  # the default, as `zpb serve` computes the cube with
    with chromium_browser() as b:
        page = b.new_page(viewport={"width": 1280, "height": 900})
        outside = same_origin_guard(page, app)
        open_tab(page, app, "anna")
        wait_text(page, "Pokazano: powiat bocheński, edycja 2025/2026.")
        county = page.get_by_label("Powiat", exact=True)
        assert county.locator("option").all_inner_texts() == ["powiat bocheński"]  # her unit's county only
        shown = tiles(page)
        rate = lambda c: fmt.percent(summary.loc[c, "participation_rate"], 1, "pl")  # noqa: E731
        assert shown["Odsetek uczestniczących"] == [rate(BOCHNIA), f"województwo: {rate('12')}"]
        assert shown["Placówki"] == [str(int(summary.loc[BOCHNIA, "institutions"]))]
        assert shown["Uczestniczą w programie"] == [str(int(summary.loc[BOCHNIA, "participating"]))]
        # students feeling safe at school, first: the answers counted
        safe = survey_share(owner, EDITION, "students", "safe_school", county=BOCHNIA)
        voiv = survey_share(owner, EDITION, "students", "safe_school")
        tile = survey_tile(page, "Czuje się bezpiecznie w szkole — uczniowie")
        assert tile[0] == fmt.percent(safe.p, 1, "pl")
        assert tile[1] == (f"PU 95%: {fmt.interval(*safe.interval, 1, 'pl')}; n = {fmt.integer(safe.n, 'pl')}; "
                           f"ewaluacja; województwo: {fmt.percent(voiv.p, 1, 'pl')}")
        # another indicator: the tile, the table's row and the schools' column follow
        page.get_by_label("Wskaźnik", exact=True).select_option(label="Ufa policji")
        trust = survey_share(owner, EDITION, "students", "trust_police", county=BOCHNIA)
        tile = survey_tile(page, "Ufa policji — uczniowie")
        assert tile[0] == fmt.percent(trust.p, 1, "pl")
        assert f"n = {fmt.integer(trust.n, 'pl')}" in tile[1]
        row = page.locator(".zpb-indicators table").filter(has_text="Wskaźniki z ankiet — uczniowie").locator(
            "tbody tr").filter(has=page.locator("th", has_text="Ufa policji")).first
        assert [c.inner_text() for c in row.locator("th, td").all()][:4] == [
            "Ufa policji", fmt.percent(trust.p, 1, "pl"), fmt.interval(*trust.interval, 1, "pl"),
            fmt.integer(trust.n, "pl")]
        page.locator(".zpb-indicators figure img").first.wait_for(timeout=120_000)  # the charts, drawn after
        page.screenshot(path=str(artifact("web-indicators-coordinator.png")), full_page=True)
        # parents: a school with fewer respondents than the threshold is „—”, with the footnote
        page.get_by_label("Grupa", exact=True).select_option(label="rodzice")
        survey_tile(page, "Ufa policji — rodzice")
        with store.connect(owner, readonly=True) as con:
            schools = con.execute("SELECT id, name FROM institutions WHERE county = ?", (BOCHNIA,)).fetchall()
        small = [(name, s) for i, name in schools
                 for s in [survey_share(owner, EDITION, "parents", "trust_police", institution=i)]
                 if 0 < s.n < threshold]
        assert small
        for name, s in small:
            assert school_row(page, name)[-3:] == [fmt.MISSING, fmt.MISSING, fmt.integer(s.n, "pl")]
        wait_text(page, f"— mniej niż {threshold} respondentów")
        assert outside == []


def test_axe_on_the_indicators_tab(app):
    with chromium_browser() as b:
        ctx = b.new_context(bypass_csp=True)  # axe-core is injected
        page = ctx.new_page()
        outside = same_origin_guard(page, app)
        open_tab(page, app, "anna")
        page.locator(".zpb-indicators figure img").first.wait_for(timeout=120_000)
        found = axe_violations(page)
        ctx.close()
    assert found == []
    assert outside == []


def test_the_reader_picks_any_county_in_english(app, team_db):
    owner = team_db[0]
    ref = reference()
    # the last county (in TERYT order) whose students answered in the follow-up: not the list's first
    other = next(c for c in reversed(ref.counties)
                 if survey_share(owner, EDITION, "students", "safe_school", county=c).n >= 30)
    name = county_name(other, "en", ref)
    with chromium_browser() as b:
        ctx = b.new_context(bypass_csp=True)
        page = ctx.new_page()
        outside = same_origin_guard(page, app)
        open_tab(page, app, "rita", lang="en")
        assert page.get_by_label("County", exact=True).locator("option").count() == len(ref.counties)
        page.get_by_label("County", exact=True).select_option(label=name)
        wait_text(page, f"Shown: {name}, edition 2025/2026.")
        safe = survey_share(owner, EDITION, "students", "safe_school", county=other)
        assert survey_tile(page, "Feels safe at school — students")[0] == fmt.percent(safe.p, 1, "en")
        assert axe_violations(page) == []
        ctx.close()
    assert outside == []
