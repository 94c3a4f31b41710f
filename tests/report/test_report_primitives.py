"""Tests of the report primitives: labels, formats, safe HTML, charts and the county map.

Expected strings are typed out here (not produced by the code under test); SVG output is parsed
as XML and its drawn shapes are measured.
"""
from __future__ import annotations

import base64
import datetime as dt
import json
import math
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
import pytest

from zpb_lib.domain.indicators import ALL_GROUPS
from zpb_lib.reference import GROUPS, WAVES
from zpb_lib.report import charts, html, maps
from zpb_lib.core import fmt
from zpb_lib.domain.labels import LABELS, county_name, label, labels_for
from zpb_lib.domain.scoring.lifecycle import STATUSES
from zpb_lib.store.schema import (ACTION_AREAS, ACTION_KINDS, ACTION_STATUSES, AUDIT_KINDS, AWARD_KINDS,
                                  PARTNER_KINDS)

EVIL = "<script>alert(1)</script> & „Szkoła” <b>x</b>"
EVIL_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt; &amp; „Szkoła” &lt;b&gt;x&lt;/b&gt;"
NB = "\u00a0"
SVG = "{http://www.w3.org/2000/svg}"


# --------------------------------------------------------------------------- helpers

def svg_root(chart: charts.Chart) -> ET.Element:
    return ET.fromstring(chart.svg)


def svg_texts(chart: charts.Chart) -> list[str]:
    return ["".join(t.itertext()).strip() for t in svg_root(chart).iter(f"{SVG}text")]


def svg_ids(chart: charts.Chart) -> list[str]:
    return [e.get("id") for e in svg_root(chart).iter() if e.get("id")]


def element(chart: charts.Chart, gid: str) -> ET.Element:
    for e in svg_root(chart).iter():
        if e.get("id") == gid:
            return e
    raise AssertionError(f"no element {gid!r}")


def path_points(e: ET.Element) -> np.ndarray:
    """All coordinates of the paths inside element ``e`` (as drawn, in SVG points)."""
    nums = []
    for p in e.iter(f"{SVG}path"):
        nums += [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", p.get("d", ""))]
    return np.array(nums).reshape(-1, 2)


def bar_width(chart: charts.Chart, gid: str) -> float:
    pts = path_points(element(chart, gid))
    return float(pts[:, 0].max() - pts[:, 0].min())


class _Cells(HTMLParser):
    """Collects the text of every element by tag, to check what a browser would show."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, dict]] = []
        self.found: list[tuple[str, dict, str]] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag in ("img", "br", "hr", "meta", "link", "input"):  # void elements: no end tag
            self.found.append((tag, dict(attrs), ""))
        else:
            self.stack.append((tag, dict(attrs), ""))

    def handle_endtag(self, tag):
        t, attrs, text = self.stack.pop()
        assert t == tag, f"unbalanced: <{t}> closed by </{tag}>"
        self.found.append((t, attrs, text))
        if self.stack:
            pt, pa, ptext = self.stack[-1]
            self.stack[-1] = (pt, pa, ptext + text)

    def handle_data(self, data):
        if self.stack:
            t, a, text = self.stack[-1]
            self.stack[-1] = (t, a, text + data)


def parse(markup: str) -> _Cells:
    p = _Cells()
    p.feed(markup)
    p.close()
    assert not p.stack, "unclosed elements"
    return p


def cells(markup: str, tag: str) -> list[tuple[dict, str]]:
    return [(a, t) for tg, a, t in parse(markup).found if tg == tag]


# --------------------------------------------------------------------------- labels

def test_both_languages_have_the_same_keys_and_no_empty_value():
    assert LABELS
    for key, langs in LABELS.items():
        assert set(langs) == {"pl", "en"}, key
        for lang, text in langs.items():
            assert text.strip(), f"{key} [{lang}] is empty"


def test_label_errors_name_the_key_and_language():
    with pytest.raises(KeyError, match=r"'no\.such'.*'pl'"):
        label("no.such")
    with pytest.raises(KeyError, match=r"'section\.map'.*'de'"):
        label("section.map", "de")


def test_label_codes_cover_every_code_of_the_data():
    assert set(labels_for("status")) == set(STATUSES)
    assert set(labels_for("award")) == set(AWARD_KINDS)
    assert set(labels_for("award_full")) == set(AWARD_KINDS)
    assert set(labels_for("audit_kind")) == set(AUDIT_KINDS)
    assert set(labels_for("wave")) == set(WAVES)
    assert set(labels_for("group")) == set(GROUPS) | {ALL_GROUPS}
    assert set(labels_for("action_area")) == set(ACTION_AREAS)
    assert set(labels_for("action_kind")) == set(ACTION_KINDS)
    assert set(labels_for("action_status")) == set(ACTION_STATUSES)
    assert set(labels_for("partner")) == set(PARTNER_KINDS) | {"none"}


@pytest.mark.parametrize("key", [
    "title.county_report", "title.school_report", "title.voivodeship_report", "title.index",
    "section.key_figures", "section.audits_decisions", "section.weakest_criteria", "section.survey_indicators",
    "section.renewals_due", "section.map", "section.institutions", "section.status_timeline",
    "section.audit_result", "section.gap_list", "section.next_step", "section.dangerous_places",
    "section.action_plan", "section.ceremony_list", "section.police_units", "section.trends",
    "section.methodology", "section.data_source", "banner.synthetic", "footnote.suppressed",
    "legend.significance", "col.county", "col.institution", "col.points", "col.ci"])
def test_required_labels_exist(key):
    assert label(key, "pl") and label(key, "en")


def test_polish_labels_have_diacritics_and_polish_quotes():
    assert label("title.certificate_school") == "„Szkoła Promująca Bezpieczeństwo”"
    assert label("title.certificate_university") == "„Uczelnia Wyższa Promująca Bezpieczeństwo”"
    assert label("map.no_data") == "brak danych" and label("map.no_data", "en") == "no data"
    assert label("footnote.suppressed", threshold=10).startswith("— mniej niż 10 respondentów")
    assert label("footnote.suppressed", "en", threshold=10).startswith("— fewer than 10 respondents")
    assert label("legend.significance").startswith("▲ wzrost, ▼ spadek — zmiana istotna statystycznie (p < 0,05)")
    assert "p < 0.05" in label("legend.significance", "en")
    # The legend explains the signs that tell better from worse without colour, in both languages.
    assert "+ poprawa, – pogorszenie" in label("legend.significance")
    assert "+ improvement, – deterioration" in label("legend.significance", "en")


def test_county_names(ref):
    assert county_name("1201", ref=ref) == "powiat bocheński"
    assert county_name("1261", ref=ref) == "m. Kraków"
    assert county_name("1201", "en", ref=ref) == "Bochnia County"
    assert county_name("12", ref=ref) == "województwo małopolskie"
    with pytest.raises(KeyError, match="9999"):
        county_name("9999", ref=ref)


# --------------------------------------------------------------------------- formats

@pytest.mark.parametrize("x, decimals, lang, expected", [
    (1234.5, 1, "pl", f"1{NB}234,5"),
    (1234.5, 1, "en", "1,234.5"),
    (1234567, 0, "pl", f"1{NB}234{NB}567"),
    (999, 0, "pl", "999"),
    (-1234.5, 1, "pl", f"\u22121{NB}234,5"),
    (-0.04, 1, "pl", "0,0"),
    (0.25, 2, "en", "0.25"),
    (np.int64(1000), 0, "pl", f"1{NB}000"),
])
def test_number(x, decimals, lang, expected):
    assert fmt.number(x, decimals, lang) == expected


@pytest.mark.parametrize("missing", [None, float("nan"), np.nan, pd.NA, pd.NaT])
def test_missing_values_are_an_em_dash(missing):
    assert fmt.MISSING == "\u2014"
    assert fmt.number(missing) == "—"
    assert fmt.percent(missing) == "—"
    assert fmt.signed(missing) == "—"
    assert fmt.date(missing) == "—"
    assert fmt.interval(missing, 0.5) == "—"


def test_percent_signed_interval():
    assert fmt.percent(0.755) == "75,5%"
    assert fmt.percent(0.755, lang="en") == "75.5%"
    assert fmt.percent(0.78, 0) == "78%"
    assert fmt.percent(12.345, 0) == f"1{NB}235%"
    assert fmt.percent(0.745, 0) == "75%"  # half up, as by hand (the float is 0.74499…)
    assert fmt.number(2.5) == "3" and fmt.number(-2.5) == "\u22123" and fmt.number(0.125, 2) == "0,13"
    assert fmt.signed(3) == "+3"
    assert fmt.signed(-3) == "\u22123"
    assert fmt.signed(0) == "0"
    assert fmt.signed(-0.01, 1) == "0,0"
    assert fmt.percent_points(0.032) == f"+3,2{NB}p.p."
    assert fmt.percent_points(-0.032, lang="en") == f"\u22123.2{NB}pp"
    assert fmt.interval(0.72, 0.8) == "72,0–80,0%"
    assert fmt.interval(0.721, 0.803, 1, "en") == "72.1–80.3%"
    assert fmt.interval(-3, 2, 0, as_percent=False) == "\u22123 – 2"


def test_dates():
    d = dt.date(2026, 11, 26)
    assert fmt.date(d) == "26.11.2026"
    assert fmt.date(d, "en") == "26 Nov 2026"
    assert fmt.date(pd.Timestamp("2026-03-05")) == "05.03.2026"
    assert fmt.date("2026-03-05", "en") == "5 Mar 2026"
    assert fmt.timestamp("2026-11-26T14:05:09+01:00") == "26.11.2026, 14:05"
    assert fmt.timestamp(dt.datetime(2026, 1, 2, 3, 4), "en") == "2 Jan 2026, 03:04"


def test_unknown_language_is_refused():
    with pytest.raises(ValueError, match="'de'"):
        fmt.number(1, lang="de")


# --------------------------------------------------------------------------- html

def test_escape_and_html_passthrough():
    assert html.esc(EVIL) == EVIL_ESCAPED
    assert html.esc(None) == "—"
    safe = html.Html("<em>ok</em>")
    assert html.esc(safe) == "<em>ok</em>"
    assert safe._repr_html_() == "<em>ok</em>" and safe.__html__() == "<em>ok</em>"
    assert html.concat("<i>", safe) == "&lt;i&gt;<em>ok</em>"


def test_heading_paragraph_banner_escape_data():
    assert html.heading(EVIL, 1) == f'<h1 class="zpb-heading">{EVIL_ESCAPED}</h1>'
    assert html.paragraph(EVIL) == f'<p class="zpb-paragraph">{EVIL_ESCAPED}</p>'
    b = html.banner(EVIL)
    assert b == f'<div class="zpb-banner" role="note"><p>{EVIL_ESCAPED}</p></div>'
    short = html.banner("Dane syntetyczne: …", short=EVIL)
    assert cells(short, "div")[0][0] == {"class": "zpb-banner", "role": "note", "data-short": EVIL}
    assert html.banner("x", "warning").startswith('<div class="zpb-note zpb-error" role="note">')
    with pytest.raises(ValueError):
        html.heading("x", 7)
    with pytest.raises(ValueError):
        html.banner("x", "shout")


def test_key_figures_and_definition_list():
    k = html.key_figures([("Placówki", fmt.number(1234)), {"label": EVIL, "value": "5", "note": EVIL}])
    assert [a["class"] for a, _ in cells(k, "div")] == ["zpb-tile", "zpb-tile"]
    assert [a["class"] for a, _ in cells(k, "dd")] == ["zpb-tile-value", "zpb-tile-value", "zpb-tile-note"]
    dts = [t for _, t in cells(k, "dt")]
    dds = [t for _, t in cells(k, "dd")]
    assert dts == ["Placówki", EVIL]
    assert dds == [f"1{NB}234", "5", EVIL]
    assert "<script" not in k and "<b>" not in k
    d = html.definition_list({EVIL: EVIL})
    assert [t for _, t in cells(d, "dt")] == [EVIL]


def _sample_table(lang: str = "pl") -> str:
    df = pd.DataFrame({"name": [EVIL, "Szkoła Podstawowa nr 2"], "points": [1234.5, np.nan],
                       "granted": [True, False], "until": [pd.Timestamp("2026-11-26"), pd.NaT]})
    cols = {"name": label("col.institution", lang), "points": (EVIL, lambda v: fmt.number(v, 1, lang)),
            "granted": label("col.granted", lang), "until": label("col.valid_until", lang)}
    return html.table(df, cols, caption=EVIL, numeric=("points",), footnotes=(EVIL,), row_header="name", lang=lang)


def test_table_structure_and_formats():
    t = _sample_table()
    p = parse(t)
    assert p.tags.count("table") == 1 and p.tags.count("caption") == 1 and p.tags.count("thead") == 1
    cols = cells(t, "th")
    col_heads = [(a, text) for a, text in cols if a.get("scope") == "col"]
    assert [text for _, text in col_heads] == ["Placówka", EVIL, "Przyznane", "Ważny do"]
    assert col_heads[1][0]["class"] == "zpb-num"
    row_heads = [text for a, text in cols if a.get("scope") == "row"]
    assert row_heads == [EVIL, "Szkoła Podstawowa nr 2"]
    tds = cells(t, "td")
    assert [text for _, text in tds] == [f"1{NB}234,5", "tak", "26.11.2026", "—", "nie", "—"]
    assert tds[0][0]["class"] == "zpb-num"
    assert tds[3][0]["class"] == "zpb-num zpb-missing"
    assert tds[5][0]["class"] == "zpb-missing"
    assert [text for _, text in cells(t, "caption")] == [EVIL]
    assert [text for a, text in cells(t, "p") if a.get("class") == "zpb-footnote"] == [EVIL]
    wrap = [a for a, _ in cells(t, "div") if a.get("class") == "zpb-table-wrap"][0]
    assert wrap["role"] == "region" and wrap["tabindex"] == "0" and wrap["aria-label"] == EVIL
    assert "<script" not in t and "<b>" not in t


def test_table_in_english_and_empty():
    t = _sample_table(lang="en")
    assert [text for _, text in cells(t, "td")][:3] == ["1,234.5", "yes", "26 Nov 2026"]
    empty = html.table(pd.DataFrame({"a": []}), {"a": "A"}, caption="c")
    assert [text for _, text in cells(empty, "td")] == ["Brak pozycji do pokazania."]
    with pytest.raises(KeyError, match="'nope'"):
        html.table(pd.DataFrame({"a": [1]}), {"nope": "N"})


def test_jupyter_stores_the_words_of_html_not_its_markup_twice(all_charts):
    """Jupyter keeps a text/plain beside each output's text/html: the words, as a screen reader gets
    them, not the markup (with every chart's bytes) a second time."""
    from IPython.core.formatters import DisplayFormatter

    chart = all_charts["bars"]
    block = html.concat(html.heading("Wynik <audytu>", 2), html.paragraph("Punkty & progi"),
                        html.table(pd.DataFrame({"k": ["A1", "B2"], "p": [2, 1.5]}), {"k": "Kryterium", "p": "Pkt"},
                                   caption="Kryteria", row_header="k"),
                        html.mark(0.05, True, "worse"), chart)
    data, _ = DisplayFormatter().format(html.with_metadata(block, {"zpb": {"title": "T"}}))
    assert data["text/html"] == str(block)
    alt = " ".join(chart.alt.split())  # one line of words: no-break spaces read as spaces
    assert data["text/plain"].split("\n") == ["Wynik <audytu>", "Punkty & progi", "Kryteria", "Kryterium | Pkt",
                                               "A1 | 2", "B2 | 1,5", "istotny wzrost (pogorszenie)", f"[{alt}]",
                                               chart.title]
    assert "base64" not in data["text/plain"] and "<" not in data["text/plain"].replace("<audytu>", "")
    # A chart on its own: its alt text, not the dataclass with its SVG.
    assert DisplayFormatter().format(chart)[0]["text/plain"] == f"[{chart.alt}]"
    # A tall chart's paper copy is hidden from readers: its alt text is read once.
    tall = charts.indicator_bars(_tall_indicators(), "Długi")
    assert html.plain_text(tall.to_html()) == f"[{' '.join(tall.alt.split())}]\nDługi"


def test_marks_carry_meaning_in_text_not_only_colour():
    up = html.mark(0.05, True, "worse")
    assert cells(up, "span")[-1][0] == {"class": "zpb-mark zpb-mark-up zpb-mark-worse"}
    # Shown: the arrow (up/down) and the sign (– worse, + better), both hidden from screen readers…
    assert [t for a, t in cells(up, "span") if a.get("aria-hidden") == "true"] == ["▲", "–"]
    # …which read the same in words.
    hidden = [t for a, t in cells(up, "span") if a.get("class") == "zpb-sr-only"]
    assert hidden == [" istotny wzrost (pogorszenie)"]
    better = html.mark(-0.05, True, "better", lang="en")
    assert [t for a, t in cells(better, "span") if a.get("aria-hidden") == "true"] == ["▼", "+"]
    assert [t for a, t in cells(better, "span") if a.get("class") == "zpb-sr-only"] == [
        " significant decrease (improvement)"]
    down = html.mark(-0.05, True, lang="en")  # no direction known: the arrow alone
    assert "▼" in down and " significant decrease" in down and "zpb-mark-sign" not in down
    assert html.mark(0.05, False) == "" and html.mark(np.nan, True) == "" and html.mark(0.1, pd.NA) == ""
    cell = html.with_mark(fmt.percent(0.8), 0.05, True, "better")
    assert cell.startswith("80,0%\u00a0<span")
    # A formatter may return Html: the table keeps it as markup.
    t = html.table(pd.DataFrame({"p": [0.8]}), {"p": ("x", lambda v: html.with_mark(fmt.percent(v), 0.1, True))})
    assert "<span class=\"zpb-mark zpb-mark-up\">" in t


def test_row_formatter_builds_a_cell_from_several_columns():
    df = pd.DataFrame({"name": ["SP 1", "SP 2", "SP 3"], "p": [0.755, np.nan, 0.31], "diff": [0.1, 0.1, -0.08],
                       "significant": [True, True, False], "direction": ["better", "better", "worse"]})

    def shown(r: dict) -> html.Html:
        return html.with_mark(fmt.percent(r["p"]), r["diff"], r["significant"], r["direction"])

    t = html.table(df, {"name": "Placówka", "value": html.Column("Wynik", shown, numeric=True, row=True)})
    tds = cells(t, "td")
    assert [text for _, text in tds[1::2]] == ["75,5%\u00a0▲+ istotny wzrost (poprawa)", "—", "31,0%"]
    assert [a.get("class") for a, _ in tds[1::2]] == ["zpb-num", "zpb-num zpb-missing", "zpb-num"]
    assert [a.get("class") for a, _ in cells(t, "th")] == [None, "zpb-num"]


def test_footer():
    f = html.footer({"edition": "2018/2019", "edition_roman": "XV", "data_hash": "abc123",
                     "generated_at": "2026-11-26T14:05:09+01:00", "threshold": 10})
    assert [t for _, t in cells(f, "dd")] == ["XV (2018/2019)", "abc123", "26.11.2026, 14:05"]
    assert "mniej niż 10 osób" in f
    g = html.footer({"edition": EVIL, "methodology": EVIL}, lang="en")
    assert "<script" not in g and "Edition" in g


# --------------------------------------------------------------------------- charts

def _indicator_data(series=("Szkoła", "powiat bocheński", "województwo")) -> pd.DataFrame:
    rows = []
    values = {"Czuje się bezpiecznie w szkole": (0.5, 0.78, 0.74), "Ufa policji": (0.6, 0.3, 0.45)}
    for cat, ps in values.items():
        for s, p in zip(series, ps):
            rows.append({"category": cat, "series": s, "p": p, "lo": p - 0.05, "hi": p + 0.04})
    return pd.DataFrame(rows)


def _all_charts() -> dict[str, charts.Chart]:
    crit = pd.DataFrame({"label": ["A1 Koordynator", "A2 Porozumienie z partnerami", "B1 Ankieta uczniów"],
                         "points": [2, 1, 0], "max_points": [2, 3, 2]})
    trend = pd.DataFrame({"edition": ["2016/2017", "2017/2018", "2018/2019"] * 2,
                          "series": ["powiat bocheński"] * 3 + ["województwo"] * 3,
                          "value": [10, np.nan, 14, 200, 210, 230]})
    return {
        "indicators": charts.indicator_bars(_indicator_data(), "Wskaźniki z ankiet uczniów", threshold=10),
        "criteria": charts.criteria_points(crit, "Wynik audytu według kryteriów"),
        "trend": charts.trend_lines(trend, "Placówki z ważnym certyfikatem"),
        "bars": charts.bar_chart({"certyfikat": 1234, "Lider Projektu": 30}, "Placówki według statusu"),
    }


@pytest.fixture(scope="module")
def all_charts() -> dict[str, charts.Chart]:
    return _all_charts()


@pytest.mark.parametrize("name", ["indicators", "criteria", "trend", "bars"])
def test_chart_svg_is_xml_with_title_text_and_no_metadata(all_charts, name):
    chart = all_charts[name]
    root = svg_root(chart)
    assert root.tag == f"{SVG}svg"
    assert chart.title in " ".join(svg_texts(chart))
    raw = chart.svg.decode("utf-8")
    assert "<!DOCTYPE" not in raw and "<metadata" not in raw and "dc:date" not in raw
    assert 'id="DejaVuSans-' not in raw  # text is text, not glyph outlines


@pytest.mark.parametrize("name", ["indicators", "criteria", "trend", "bars"])
def test_chart_html_is_a_figure_with_image_alt_and_caption(all_charts, name):
    chart = all_charts[name]
    out = chart._repr_html_()
    assert out == chart.__html__()
    assert out.startswith('<figure class="zpb-figure"><img src="data:image/svg+xml;base64,')
    src = re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', out).group(1)
    assert base64.b64decode(src) == chart.svg
    caption = cells(out, "figcaption")
    assert caption == [({"class": "zpb-sr-only"}, chart.title)]  # the title is drawn in the image
    alt = re.search(r'alt="([^"]*)"', out).group(1)
    assert alt.startswith(chart.title + ":") and any(ch.isdigit() for ch in alt)
    img = cells(out, "img")[0][0]
    assert img["alt"] == chart.alt and int(img["width"]) > 0 and int(img["height"]) > 0


def test_two_renders_are_byte_identical_whatever_the_global_style():
    first = _all_charts()
    with mpl.rc_context({"lines.linewidth": 7, "font.size": 20, "axes.prop_cycle": mpl.cycler(color=["red"])}):
        second = _all_charts()
    for name in first:
        assert first[name].svg == second[name].svg, name


def test_chart_caption_is_shown_when_given():
    c = charts.bar_chart({"a": 1}, "Tytuł", caption=EVIL)
    assert cells(c._repr_html_(), "figcaption") == [({}, EVIL)]
    assert html.concat(html.heading("x"), c) == '<h2 class="zpb-heading">x</h2>' + c._repr_html_()


def test_indicator_alt_text_has_the_numbers():
    d = pd.DataFrame({"category": ["x", "x"], "series": ["powiat bocheński", "województwo"],
                      "p": [0.78, 0.74], "lo": [0.7, 0.7], "hi": [0.8, 0.8]})
    title = "Odsetek uczniów czujących się bezpiecznie w szkole"
    c = charts.indicator_bars(d, title)
    assert c.alt == "Odsetek uczniów czujących się bezpiecznie w szkole: powiat bocheński 78%, województwo 74%"
    en = charts.indicator_bars(d.assign(p=[0.781, 0.74]), "Feels safe", lang="en")
    assert en.alt == "Feels safe: powiat bocheński 78%, województwo 74%"


def test_indicator_bar_lengths_follow_the_values(all_charts):
    c = all_charts["indicators"]
    w = {gid: bar_width(c, gid) for gid in ("bar-0-0", "bar-1-0", "bar-2-1")}
    assert w["bar-1-0"] / w["bar-0-0"] == pytest.approx(0.78 / 0.5, rel=1e-3)
    assert w["bar-2-1"] / w["bar-0-0"] == pytest.approx(0.45 / 0.5, rel=1e-3)


def test_suppressed_value_is_not_drawn_as_a_bar():
    d = _indicator_data()
    d.loc[(d["series"] == "Szkoła") & (d["category"] == "Ufa policji"), ["p", "lo", "hi"]] = np.nan
    d["suppressed"] = False
    d.loc[(d["series"] == "województwo") & (d["category"] == "Ufa policji"), "suppressed"] = True
    c = charts.indicator_bars(d, "Wskaźniki", threshold=10)
    bars = sorted(i for i in svg_ids(c) if i.startswith("bar-"))
    assert bars == ["bar-0-0", "bar-1-0", "bar-1-1", "bar-2-0"]
    assert "absent-0-1" in svg_ids(c) and "absent-2-1" in svg_ids(c)
    assert "".join(element(c, "absent-0-1").itertext()).strip() == "—"
    assert "— mniej niż 10 respondentów" in " ".join(svg_texts(c))
    assert "Szkoła — (mniej niż 10 respondentów)" in c.alt
    assert "0%" not in c.alt.split("Ufa policji:")[1].split(",")[0]


def test_chart_text_with_markup_stays_escaped_text():
    d = _indicator_data(series=("<b>x</b>", "powiat", EVIL))
    c = charts.indicator_bars(d, "Tytuł <b>pogrubiony</b> $x$")
    raw = c.svg.decode("utf-8")
    assert "&lt;b&gt;x&lt;/b&gt;" in raw and "<b>" not in raw and "<script" not in raw
    assert not [e for e in svg_root(c).iter() if e.tag in (f"{SVG}b", "b", f"{SVG}script", "script")]
    texts = " ".join(svg_texts(c))
    assert "<b>x</b>" in texts and "Tytuł <b>pogrubiony</b> $x$" in texts  # no mathtext either
    out = c._repr_html_()
    alt = re.search(r'alt="([^"]*)"', out).group(1)
    assert "<" not in alt and "&lt;script&gt;" in alt
    assert cells(out, "img")[0][0]["alt"] == c.alt  # a browser reads back the text
    assert "<script" not in out and "<b>" not in out


def test_criteria_points_alt_and_bars():
    crit = pd.DataFrame({"label": ["A1", "A2", "B1"], "points": [2, 1, np.nan], "max_points": [2, 3, 2]})
    c = charts.criteria_points(crit, "Punkty")
    assert c.alt == "Punkty: A1 2 z 2 pkt, A2 1 z 3 pkt, B1 — z 2 pkt; razem 3 z 7 pkt"
    ids = svg_ids(c)
    assert "bar-0-0" in ids and "bar-0-1" in ids and "bar-0-2" not in ids
    assert bar_width(c, "bar-0-1") / bar_width(c, "max-1") == pytest.approx(1 / 3, rel=1e-3)


def test_trend_breaks_at_a_missing_value(all_charts):
    c = all_charts["trend"]
    line = element(c, "line-0")
    d = " ".join(p.get("d", "") for p in line.iter(f"{SVG}path") if not p.get("id"))  # not the marker
    assert d.count("M") == 2  # two pieces, no drop to zero
    assert "powiat bocheński od 10 (2016/2017) do 14 (2018/2019)" in c.alt


def test_bar_chart_numbers_in_polish_and_english():
    pl = charts.bar_chart({"a": 1234, "b": 30, "c": None}, "Liczby")
    assert f"1{NB}234" in svg_texts(pl)
    assert pl.alt == f"Liczby: a 1{NB}234, b 30, c —"
    assert bar_width(pl, "bar-0-0") / bar_width(pl, "bar-0-1") == pytest.approx(1234 / 30, rel=1e-3)
    assert "bar-0-2" not in svg_ids(pl)
    en = charts.bar_chart({"a": 1234}, "Counts", lang="en")
    assert "1,234" in svg_texts(en)
    share = charts.bar_chart({"a": 0.5}, "Udział", as_percent=True)
    assert "50%" in svg_texts(share)


def test_empty_data_gives_a_chart_not_an_error():
    empty = pd.DataFrame({"category": [], "series": [], "p": [], "lo": [], "hi": []})
    assert charts.indicator_bars(empty, "Pusto").svg.startswith(b"<?xml")
    assert charts.criteria_points(pd.DataFrame({"label": [], "points": [], "max_points": []}), "Pusto").alt
    assert charts.bar_chart({}, "Pusto").alt == "Pusto"
    assert charts.trend_lines(pd.DataFrame({"edition": [], "series": [], "value": []}), "Pusto").alt == "Pusto"


def test_charts_render_to_png(all_charts, tmp_path):
    for name, chart in all_charts.items():
        data = chart.png(dpi=80)
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        (tmp_path / f"{name}.png").write_bytes(data)


# --------------------------------------------------------------------------- map

@pytest.fixture(scope="module")
def county_values(ref) -> dict[str, float]:
    values = {t: 0.6 + 0.01 * i for i, t in enumerate(sorted(ref.counties))}
    values["1214"] = np.nan
    values["1262"] = None
    return values


@pytest.fixture(scope="module")
def county_map(ref, county_values) -> charts.Chart:
    return maps.choropleth(county_values, "Odsetek uczniów czujących się bezpiecznie", highlight="1201",
                           as_percent=True, ref=ref)


def test_map_draws_22_counties_cities_last(county_map):
    ids = [i for i in svg_ids(county_map) if re.fullmatch(r"county-\d{4}", i)]
    assert len(ids) == 22 and len(set(ids)) == 22
    cities = [ids.index(f"county-{t}") for t in ("1261", "1262", "1263")]
    assert min(cities) > max(i for i, c in enumerate(ids) if int(c[-2:]) < 61)
    assert "highlight-1201" in svg_ids(county_map)


def test_map_missing_counties_are_hatched_and_in_the_legend(county_map):
    def fill(gid: str) -> str:
        return " ".join(p.get("style", "") + p.get("fill", "") for p in element(county_map, gid).iter(f"{SVG}path"))
    assert "url(#" in fill("county-1214") and "url(#" in fill("county-1262")
    assert "url(#" not in fill("county-1201")
    texts = svg_texts(county_map)
    assert "brak danych" in texts
    assert "powiat bocheński: 60%" in texts


def test_map_alt_names_highlight_and_range(county_map, ref):
    # 1201 is first (0.60); the largest value is the last TERYT in order, 1263 (0.60 + 0.21).
    assert county_map.alt == ("Odsetek uczniów czujących się bezpiecznie. Mapa 22 powiatów województwa "
                              "małopolskiego; wartości od 60% (powiat bocheński) do 81% (m. Tarnów); "
                              "wyróżniony powiat bocheński: 60%; brak danych dla 2 z 22 powiatów.")


def test_map_legend_limits_are_formatted(county_map):
    texts = svg_texts(county_map)
    assert "60–65%" in texts and "80–85%" in texts


def test_map_keeps_the_aspect_ratio(county_map, ref):
    with open(ref.geojson_path, encoding="utf-8") as fh:
        doc = json.load(fh)
    lon, lat = [], []
    for f in doc["features"]:
        g = f["geometry"]
        polys = [g["coordinates"]] if g["type"] == "Polygon" else g["coordinates"]
        for poly in polys:
            for ring in poly:
                lon += [p[0] for p in ring]
                lat += [p[1] for p in ring]
    expected = (max(lon) - min(lon)) * math.cos(math.radians(50)) / (max(lat) - min(lat))
    pts = np.vstack([path_points(element(county_map, f"county-{t}")) for t in ref.counties])
    drawn = (pts[:, 0].max() - pts[:, 0].min()) / (pts[:, 1].max() - pts[:, 1].min())
    assert drawn == pytest.approx(expected, rel=0.01)


def test_map_is_deterministic_and_english(ref, county_values, county_map):
    again = maps.choropleth(county_values, "Odsetek uczniów czujących się bezpiecznie", highlight="1201",
                            as_percent=True, ref=ref)
    assert again.svg == county_map.svg
    en = maps.choropleth(county_values, "Share", as_percent=True, ref=ref, lang="en")
    assert "no data" in svg_texts(en)
    assert "values from 60% (Bochnia County) to 81% (City of Tarnów)" in en.alt


def test_map_without_missing_values_has_no_no_data_entry(ref):
    m = maps.choropleth({t: 5 for t in ref.counties}, "Audyty", ref=ref)
    assert "brak danych" not in svg_texts(m)
    assert len([i for i in svg_ids(m) if i.startswith("county-")]) == 22


def test_map_rejects_unknown_counties(ref):
    with pytest.raises(KeyError, match="9999"):
        maps.choropleth({"9999": 1}, "x", ref=ref)
    with pytest.raises(KeyError, match="9999"):
        maps.choropleth({}, "x", ref=ref, highlight="9999")


def test_class_limits_and_classes():
    lims = maps.class_limits([0.61, 0.84], 5)
    assert lims[0] <= 0.61 and lims[-1] >= 0.84
    steps = np.diff(lims)
    assert np.allclose(steps, steps[0]) and 2 <= len(steps) <= 6
    assert maps.class_limits([3, 3]) == [3, 3]
    assert maps.class_of(0.6, [0.6, 0.7, 0.8]) == 0
    assert maps.class_of(0.7, [0.6, 0.7, 0.8]) == 1
    assert maps.class_of(0.8, [0.6, 0.7, 0.8]) == 1


def test_label_point_avoids_the_city_hole(ref):
    shapes = maps.load_shapes(ref.geojson_path)
    for land, city in (("1210", "1262"), ("1216", "1263"), ("1206", "1261")):
        x, y = maps.label_point(shapes[land])
        assert maps._path(shapes[land]).contains_point((x, y)), land
        assert not maps._path(shapes[city]).contains_point((x, y)), land


def test_map_renders_to_png(county_map, tmp_path):
    data = county_map.png(dpi=80)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    (tmp_path / "map.png").write_bytes(data)


def _effective_look(svg: bytes) -> list[tuple[str, dict[str, str]]]:
    """Each drawn element's tag with its properties as a renderer sees them: root attributes and the
    `*{...}` rule as inherited defaults, then the element's attributes, then its style declarations."""
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    inherited: dict[str, str] = {}
    for style in root.iter(f"{ns}style"):
        rule = re.fullmatch(r"\s*\*\{(.*)\}\s*", style.text or "")
        if rule:
            inherited.update(_declarations(rule.group(1)))
    inherited.update({k: v for k, v in root.attrib.items() if k in ("stroke-linejoin", "stroke-linecap")})
    looks = []
    for el in root.iter():
        if el.tag in (f"{ns}path", f"{ns}text", f"{ns}use", f"{ns}rect", f"{ns}g"):
            props = dict(inherited)
            props.update({k: v for k, v in el.attrib.items() if k not in ("style", "id", "transform", "d")})
            props.update(_declarations(el.attrib.get("style", "")))
            transform = el.attrib.get("transform", "")
            if transform and not re.fullmatch(r"rotate\(-?0 [-\d.]+ [-\d.]+\)", transform):
                props["transform"] = transform
            looks.append((el.tag, props))
    return looks


def _declarations(text: str) -> dict[str, str]:
    out = {}
    for decl in text.split(";"):
        name, sep, value = decl.partition(":")
        if sep:
            out[name.strip()] = value.strip()
    return out


def test_lighter_svg_draws_the_same_with_attributes_instead_of_styles():
    import matplotlib.pyplot as plt

    with mpl.rc_context({"svg.fonttype": "none"}):  # text as <text>, as the reports write it
        fig, ax = plt.subplots(figsize=(3, 2))
    ax.bar(["a", "b"], [1, 2], color=["#336699", "#cc3300"], edgecolor="black", linewidth=0.5)
    ax.set_title("Tytuł „ż”")
    ax.text(0.5, 1.5, "rotated", rotation=30)
    buf = __import__("io").BytesIO()
    with mpl.rc_context({"svg.fonttype": "none"}):
        fig.savefig(buf, format="svg")
    plt.close(fig)
    original = buf.getvalue()
    light = charts.lighten_svg(original)

    assert b' style="' in original and b' style="' not in light
    assert b"rotate(-0 " in original or b"rotate(0 " in original
    assert b"rotate(-0 " not in light and b"<style" not in light
    assert _effective_look(light) == _effective_look(original)
    assert b"rotate(-30" in light  # a real rotation stays


_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def _uncompacted(chart: charts.Chart) -> bytes:
    """The chart's SVG as matplotlib writes it (after :func:`charts.lighten_svg`), not compacted."""
    buf = __import__("io").BytesIO()
    with charts.style():
        chart.figure.savefig(buf, format="svg", metadata=charts.SVG_METADATA)
    return charts.lighten_svg(re.sub(rb"<!DOCTYPE[^>]*>\s*", b"", buf.getvalue(), count=1))


def test_compact_svg_is_the_same_drawing_in_fewer_bytes(all_charts, county_map):
    for name, chart in {**all_charts, "map": county_map}.items():
        assert charts.compact_svg(chart.svg) == chart.svg, name  # what reports carry is compact already
        full = _uncompacted(chart)
        compact = charts.compact_svg(full)
        assert len(compact) < 0.8 * len(full), name
        a, b = ET.fromstring(full), ET.fromstring(compact)
        pairs = list(zip(a.iter(), b.iter()))
        assert len(pairs) == len(list(a.iter())) == len(list(b.iter())), name
        family = b.get("font-family")
        for x, y in pairs:
            assert x.tag == y.tag, name
            assert (x.text or "").strip() == (y.text or "").strip() and (x.tail or "").strip() == (y.tail or "").strip()
            if x.tag == f"{SVG}text":
                assert x.text == y.text and x.get("font-family") == (y.get("font-family") or family), name
            for key in set(x.attrib) | set(y.attrib):
                xv, yv = x.get(key), y.get(key)
                if key == "font-family" and (x is a or x.tag == f"{SVG}text"):
                    continue  # moved to the root: checked above as what each text inherits
                if key == "id" and yv is None:  # matplotlib's numbered id, which nothing refers to
                    assert re.fullmatch(r"[A-Za-z][\w.]*_\d+", xv) and f"#{xv}".encode() not in full, (name, xv)
                elif key in ("d", "x", "y", "transform"):
                    assert _NUMBER.sub("#", " ".join(xv.split())) == _NUMBER.sub("#", yv), (name, key, xv)
                    assert np.allclose([float(v) for v in _NUMBER.findall(xv)],
                                       [float(v) for v in _NUMBER.findall(yv)], rtol=0, atol=0.005), (name, key, xv)
                else:
                    assert xv == yv, (name, key, xv, yv)
        assert all(t.get("font-family") is None for t in b.iter(f"{SVG}text")), name


def _tall_indicators(n: int = 12) -> pd.DataFrame:
    rows = []
    for i in range(n):
        for j, s in enumerate(("Szkoła", "powiat", "województwo")):
            p = 0.1 + 0.05 * ((i * 3 + j) % 17)
            rows.append({"category": f"Wskaźnik {i:02d}", "series": s, "p": p, "lo": p - 0.05, "hi": p + 0.04})
    return pd.DataFrame(rows)


def _part_root(svg: bytes) -> ET.Element:
    return ET.fromstring(svg)


def _part_bar_ids(svg: bytes) -> list[str]:
    return [e.get("id") for e in _part_root(svg).iter() if (e.get("id") or "").startswith("bar-")]


def test_a_tall_chart_comes_in_parts_for_paper_that_stack_into_the_whole():
    c = charts.indicator_bars(_tall_indicators(), "Wskaźniki bezpieczeństwa")
    assert len(c.parts) >= 3
    # Every bar is drawn in exactly one part; together the parts hold all bars of the whole chart.
    ids = [gid for svg, _ in c.parts for gid in _part_bar_ids(svg)]
    assert sorted(ids) == sorted(i for i in svg_ids(c) if i.startswith("bar-")) and len(ids) == len(set(ids))
    # Rows stay in order: part k holds categories before part k+1's.
    rows = [sorted({int(g.rsplit("-", 1)[1]) for g in _part_bar_ids(svg)}) for svg, _ in c.parts]
    assert all(a[-1] < b[0] for a, b in zip(rows, rows[1:]))
    # The title and legend only in the first part, the x axis labels and notes only in the last.
    texts = [["".join(t.itertext()).strip() for t in _part_root(svg).iter(f"{SVG}text")] for svg, _ in c.parts]
    assert "Wskaźniki bezpieczeństwa" in texts[0] and not any("Wskaźniki bezpieczeństwa" in t for t in texts[1:])
    assert "powiat" in texts[0] and "100%" in texts[-1] and not any("100%" in t for t in texts[:-1])
    assert any("przedział" in x for x in texts[-1]) and not any("przedział" in x for t in texts[:-1] for x in t)
    # Stacked, they are as tall as the whole chart (heights in CSS px, rounded per part).
    assert sum(h for _, h in c.parts) == pytest.approx(c.height_px, abs=len(c.parts))
    for svg, h in c.parts:
        assert float(_part_root(svg).get("height").removesuffix("pt")) / 72 * 96 == pytest.approx(h, abs=1)
    # Cutting leaves the figure as it was: rendered again it gives the same SVG.
    with charts.style():
        assert charts._svg(c.figure) == c.svg


def test_a_short_chart_has_no_parts_and_the_html_shows_parts_only_on_paper():
    assert charts.indicator_bars(_indicator_data(), "Krótki").parts == ()
    c = charts.indicator_bars(_tall_indicators(), "Długi")
    out = c._repr_html_()
    imgs = cells(out, "img")
    assert len(imgs) == 2
    assert imgs[0][0]["class"] == "zpb-figure__whole" and imgs[0][0]["alt"] == c.alt
    # On paper the first part is the chart's image, with its alt text (a tagged PDF's Figure); the
    # others are backgrounds, which tagged PDFs keep out of the structure as decoration.
    (first, _), (first_svg, first_h) = imgs[1], c.parts[0]
    assert first["alt"] == c.alt and "class" not in first
    assert base64.b64decode(first["src"].split(",", 1)[1]) == first_svg and int(first["height"]) == first_h
    spans = [a for a, _ in cells(out, "span") if a.get("class") == "zpb-figure__part"]
    assert len(spans) == len(c.parts) - 1
    for attrs, (svg, h) in zip(spans, c.parts[1:]):
        uri = re.fullmatch(r"background-image: url\(data:image/svg\+xml;base64,([^)]+)\); width: ([\d.]+)px; "
                           r"height: ([\d.]+)px", attrs["style"])
        assert uri and base64.b64decode(uri.group(1)) == svg
        # The part's own size (its SVG's, in points → px), as an engine draws an image of it: not
        # the rounded height of the img attribute, which would shorten the chart part by part.
        root = _part_root(svg)
        assert float(uri.group(2)) == pytest.approx(float(root.get("width").removesuffix("pt")) * 96 / 72, abs=0.005)
        assert float(uri.group(3)) == pytest.approx(float(root.get("height").removesuffix("pt")) * 96 / 72, abs=0.005)
        assert float(uri.group(3)) == pytest.approx(h, abs=0.5)
    # The parts repeat the whole: hidden from screens and their readers.
    container = [a for a, _ in cells(out, "span") if a.get("class") == "zpb-figure__parts"]
    assert container == [{"class": "zpb-figure__parts", "aria-hidden": "true"}]
    css = (Path(charts.__file__).parents[1] / "templates" / "zpb" / "static" / "report.css").read_text()
    assert re.search(r"\.zpb-figure__parts\s*\{\s*display:\s*none", css)
    assert html.PRINT_PARTS.fullmatch(re.search(r'<span class="zpb-figure__parts".*</span>(?=<figcaption)',
                                                    out).group(0))
