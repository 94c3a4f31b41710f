"""Significant changes are marked so that a black-and-white print (or a colour-blind reader) still
tells better from worse: the arrow says up or down, a sign after it says whether that is good ("+"
better, "–" worse, as the Dutch Veiligheidsmonitor marks them), screen readers get both in words,
and the legend explains it in both languages."""
from __future__ import annotations

import re

import pytest
from bs4 import BeautifulSoup

from zpb_lib.domain import cube as cube_mod
from zpb_lib import store
from zpb_lib.report.county import CountyReport
from zpb_lib.domain.labels import label

EDITION = "2025/2026"
WORDS = {"pl": {"up": "istotny wzrost", "down": "istotny spadek", "better": "poprawa", "worse": "pogorszenie"},
         "en": {"up": "significant increase", "down": "significant decrease", "better": "improvement",
                "worse": "deterioration"}}


@pytest.fixture(scope="module")
def cube(small_db, tmp_path_factory):
    path = tmp_path_factory.mktemp("marks") / "cube.sqlite"
    con = store.connect(small_db, readonly=True)
    try:
        cube_mod.build(con, EDITION, path)
    finally:
        con.close()
    with cube_mod.Cube(path) as c:
        yield c


def county_with_both(cube) -> str:
    """A county whose significant changes include a better and a worse one (the demo data has some)."""
    w = cube.table("wave_changes", level="county", edition=EDITION)
    w = w[w["significant"].fillna(False).astype(bool)]
    both = w.groupby("key")["direction"].agg(lambda d: {"better", "worse"} <= set(d))
    assert both.any(), "the demo data should hold a county with a better and a worse significant change"
    return str(both[both].index[0])


@pytest.mark.parametrize("lang", ["pl", "en"])
def test_report_marks_better_and_worse_without_colour(cube, ref, lang):
    teryt = county_with_both(cube)
    report = CountyReport(cube, teryt, lang=lang, ref=ref)
    soup = BeautifulSoup(str(report.indicators()), "html.parser")
    titles = {getattr(i, f"title_{lang}"): i for i in ref.indicators.values()}
    seen = set()
    for table in soup.find_all("table"):
        heads = [th.get_text(" ", strip=True) for th in table.thead.find_all("th")]
        change_col = heads.index(label("col.change", lang))
        for tr in table.tbody.find_all("tr"):
            row = tr.find_all(["th", "td"])
            indicator = titles[row[0].get_text(" ", strip=True)]
            cell = row[change_col]
            mark = cell.find(class_="zpb-mark")
            if mark is None:
                continue
            # The change as printed ("+16,5 p.p.", "−14,5 p.p."): its sign decides the arrow, and with
            # the indicator's good direction (from the questionnaire, not the cube) whether it is better.
            shown = cell.get_text("", strip=True)
            up = shown.startswith("+")
            assert up or shown.startswith("\u2212"), shown
            better = up == (indicator.better == "higher")
            quality = "better" if better else "worse"
            visible = "".join(s.get_text() for s in mark.find_all(attrs={"aria-hidden": "true"}))
            assert visible == ("▲" if up else "▼") + ("+" if better else "–"), (indicator.id, shown)
            assert mark.find(class_="zpb-mark-sign").get_text() == ("+" if better else "–")
            spoken = mark.find(class_="zpb-sr-only").get_text(strip=True)
            assert spoken == f"{WORDS[lang]['up' if up else 'down']} ({WORDS[lang][quality]})"
            assert f"zpb-mark-{quality}" in mark["class"]  # colour on top of the sign
            seen.add(quality)
    assert seen == {"better", "worse"}
    legend = label("legend.significance", lang)
    assert legend in soup.get_text(" ")
    assert ("+ poprawa, – pogorszenie" if lang == "pl" else "+ improvement, – deterioration") in legend
    assert "▲" in legend and "▼" in legend


def test_print_stylesheet_keeps_the_sign_visible():
    """The sign is text: no rule hides it in print or colours it white."""
    from importlib import resources

    css = (resources.files("zpb_lib") / "templates/zpb/static/report.css").read_text(encoding="utf-8")
    rules = re.findall(r"([^{}]*zpb-mark-sign[^{}]*)\{([^}]*)\}", css)
    assert rules
    for _, body in rules:
        assert "display: none" not in body and "visibility" not in body and "color" not in body
