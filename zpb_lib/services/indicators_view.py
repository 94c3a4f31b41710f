"""What the web app's „Wskaźniki” tab shows of one county: its key figures and survey indicators
against the voivodeship's, its schools side by side, its trends over editions and the places its
respondents named as dangerous — composed from the edition's cube already in memory
(:func:`zpb_lib.services.cubes.edition_data`) with the explorer's frames (:class:`EditionData`) and
the reports' primitives (tables, key-figure tiles, charts), so that the page shows every figure
exactly as the explorer and the reports do: suppressed survey figures as „—” with the footnote.

Nothing here reads the database: the page gets the :class:`EditionData` in the user's role first.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import pandas as pd

from zpb_lib.core import fmt
from zpb_lib.core.memo import Memo
from zpb_lib.domain.labels import county_name, label, labels_for
from zpb_lib.domain.edition_data import WAVE, EditionData, Selection, polish_key
from zpb_lib.reference import GROUPS, Reference
from zpb_lib.report import charts, html
from zpb_lib.report.base import identifier_cells, not_in_register

VOIVODESHIP = "12"
# The key figures in the order the county report's tiles show them; those compared with the voivodeship.
FIGURES = ("institutions", "participating", "participation_rate", "valid_awards", "leaders", "audits", "granted",
           "mean_share")
FIGURE_LABELS = {"institutions": "kf.institutions", "participating": "kf.participating",
                 "participation_rate": "kf.participation_rate", "valid_awards": "kf.valid_awards",
                 "leaders": "kf.leaders", "audits": "kf.audits", "granted": "kf.granted",
                 "mean_share": "col.mean_share"}
PERCENT = frozenset({"participation_rate", "mean_share"})
COMPARED = ("participation_rate", "mean_share")

_views: "Memo[IndicatorsView]" = Memo(64)  # per process: a county, group, indicator and language each


@dataclass(frozen=True)
class SurveyFigure:
    """One survey indicator of one area, as the cube holds it after disclosure control: ``p`` and
    its interval missing when ``suppressed`` (or when nobody answered: ``n`` missing too)."""
    n: int | None
    p: float | None
    lo: float | None
    hi: float | None
    suppressed: bool

    def value(self, lang: str) -> str:
        return fmt.percent(self.p, 1, lang)

    def interval(self, lang: str) -> str:
        return fmt.interval(self.lo, self.hi, 1, lang)


@dataclass(frozen=True)
class IndicatorsView:
    """One county's comparisons for one survey group and indicator: the figures (for whoever needs
    them as numbers) and the HTML fragments the page shows, in order."""
    edition: str
    county: str
    county_name: str
    group: str
    indicator: str
    lang: str
    figures: dict[str, float]  # the county's key figures (EditionData.key_figures)
    voivodeship: dict[str, float]
    survey: SurveyFigure  # the chosen indicator for the county
    survey_voivodeship: SurveyFigure
    heading: str
    figures_html: str
    survey_html: str
    schools_html: str
    trends_html: str
    places_html: str

    def html(self) -> str:
        """The whole view in one element of class ``zpb-indicators`` (the page's styles reach it by that)."""
        return "".join(('<div class="zpb-indicators">', self.heading, self.figures_html, self.survey_html,
                        self.schools_html, self.trends_html, self.places_html, "</div>"))


def figure(chart: charts.Chart) -> html.Html:
    """A report chart for the screen: its inline SVG without the parts a printed page is cut into
    (hidden on screens anyway, they would double what the browser is sent)."""
    return dataclasses.replace(chart, parts=()).to_html()


def counties_for(units: frozenset[str] | None, ref: Reference, lang: str = "pl") -> dict[str, str]:
    """TERYT → the county's name of the counties a user compares: a police unit's role those of its
    units, in TERYT order; everyone else every county."""
    return {code: county_name(code, lang, ref) for code, c in ref.counties.items()
            if units is None or c.police_unit in units}


def indicator_names(ref: Reference, lang: str) -> dict[str, str]:
    """Indicator id → its title, in reference order."""
    return {i: getattr(ind, f"title_{lang}") for i, ind in ref.indicators.items()}


def survey_figure(data: EditionData, level: str, key: str, indicator: str, group: str) -> SurveyFigure:
    """The follow-up figure of ``indicator`` for ``group`` at ``level``/``key`` (EditionData.survey)."""
    rows = data.survey(level, indicator, group)
    row = rows[rows["key"] == str(key)]
    if row.empty:
        return SurveyFigure(None, None, None, None, False)
    r = row.iloc[0]
    hidden = not fmt.is_missing(r["suppressed"])

    def val(x: Any) -> float | None:
        return None if hidden or fmt.is_missing(x) else float(x)
    return SurveyFigure(None if fmt.is_missing(r["n"]) else int(r["n"]), val(r["p"]), val(r["lo"]), val(r["hi"]),
                        hidden)


def view(data: EditionData, county: str, group: str, indicator: str, lang: str = "pl", *,
         draw: bool = True) -> IndicatorsView:
    """The tab's content for ``county``; kept per cube in memory, so that going back to a choice
    already seen costs nothing. ``draw=False``: without the charts (drawing them is most of the
    cost: a page shows the figures first and the charts when they are drawn)."""
    if county not in data.ref.counties:
        raise KeyError(f"unknown county {county!r}")
    if group not in GROUPS or indicator not in data.ref.indicators:
        raise KeyError(f"unknown survey group or indicator: {group!r}, {indicator!r}")
    key = (id(data), data.cube.meta.get("data_hash"), county, group, indicator, lang, draw)
    return _views.get(key, lambda: _compose(data, county, group, indicator, lang, draw))


def _compose(d: EditionData, county: str, group: str, indicator: str, lang: str, draw: bool) -> IndicatorsView:
    ref = d.ref
    name = county_name(county, lang, ref)
    me = d.key_figures(Selection(d.edition, county=county))
    voiv = d.key_figures(Selection(d.edition))
    mine = survey_figure(d, "county", county, indicator, group)
    all_ = survey_figure(d, "voivodeship", VOIVODESHIP, indicator, group)
    as_of = fmt.date(d.cube.meta["as_of"], lang)
    heading = html.concat(html.heading(f"{name} — {label('title.edition', lang, name=d.edition)}", 2),
                          html.paragraph(label("misc.as_of", lang, date=as_of)))
    return IndicatorsView(
        d.edition, county, name, group, indicator, lang, me, voiv, mine, all_, str(heading),
        str(_figures(d, me, voiv, mine, all_, group, indicator, lang)),
        str(_survey(d, county, name, group, lang, draw)),
        str(_schools(d, county, name, group, indicator, lang)),
        str(_trends(d, county, name, group, indicator, lang, draw)),
        str(_places(d, county, name, group, lang, draw)))


def _t(key: str, lang: str, **values: Any) -> str:
    return label(key, lang, **values)


def _figures(d: EditionData, me: dict, voiv: dict, mine: SurveyFigure, all_: SurveyFigure, group: str,
             indicator: str, lang: str) -> html.Html:
    """The county report's key-figure tiles, the rates with the voivodeship's, and the chosen survey
    indicator's tile as the explorer shows it (value; interval and n, or why „—”)."""
    def show(k: str, v: float) -> str:
        return fmt.percent(v, 1, lang) if k in PERCENT else fmt.integer(v, lang)

    items = [html.KeyFigure(_t(FIGURE_LABELS[k], lang), show(k, me[k]),
                            _t("kf.vs_voivodeship", lang, value=show(k, voiv[k])) if k in COMPARED else None)
             for k in FIGURES]
    title = _t("explore.survey_tile", lang, indicator=indicator_names(d.ref, lang)[indicator],
               group=_t(f"group.{group}", lang))
    if mine.suppressed:
        note = _t("footnote.suppressed", lang, threshold=d.threshold)
    elif mine.p is None:
        note = _t("misc.no_data", lang)
    else:
        note = _t("explore.survey_tile_note", lang, ci=mine.interval(lang), n=fmt.integer(mine.n, lang))
    note += "; " + _t("kf.vs_voivodeship", lang, value=all_.value(lang))
    items.append(html.KeyFigure(title, mine.value(lang), note))
    return html.concat(html.heading(_t("section.key_figures", lang), 3), html.key_figures(items))


def _survey(d: EditionData, county: str, name: str, group: str, lang: str, draw: bool) -> html.Html:
    """Every indicator of the group, the county's against the voivodeship's (follow-up wave): bars
    with intervals, and the table with value, interval and respondents of both."""
    titles = indicator_names(d.ref, lang)
    voiv = _t("col.voivodeship", lang)
    rows, long = [], []
    for ind, title in titles.items():
        c = survey_figure(d, "county", county, ind, group)
        v = survey_figure(d, "voivodeship", VOIVODESHIP, ind, group)
        if c.n is None and v.n is None:
            continue  # not asked of this group
        rows.append({"indicator": title, "c": c, "v": v,
                     "hidden": c.suppressed or v.suppressed})
        long += [{"category": title, "series": name, "p": c.p, "lo": c.lo, "hi": c.hi},
                 {"category": title, "series": voiv, "p": v.p, "lo": v.lo, "hi": v.hi}]
    head = html.heading(_t("section.survey_indicators", lang), 3)
    if not rows:
        return html.concat(head, html.paragraph(_t("misc.no_data", lang)))
    frame = pd.DataFrame(rows)
    n = lambda side: lambda r: fmt.integer(r[side].n, lang)  # noqa: E731
    cols = {"indicator": _t("col.indicator", lang),
            "cp": html.Column(f"{name}: {_t('col.value', lang)}", lambda r: r["c"].value(lang), numeric=True, row=True),
            "ci": html.Column(f"{name}: {_t('col.ci', lang)}", lambda r: r["c"].interval(lang), row=True),
            "cn": html.Column(f"{name}: {_t('col.respondents', lang)}", n("c"), numeric=True, row=True),
            "vp": html.Column(f"{voiv}: {_t('col.value', lang)}", lambda r: r["v"].value(lang), numeric=True, row=True),
            "vi": html.Column(f"{voiv}: {_t('col.ci', lang)}", lambda r: r["v"].interval(lang), row=True),
            "vn": html.Column(f"{voiv}: {_t('col.respondents', lang)}", n("v"), numeric=True, row=True)}
    notes = ([_t("footnote.suppressed", lang, threshold=d.threshold)] if frame["hidden"].any() else [])
    notes.append(_t("footnote.interval", lang))
    caption = (f"{_t('section.survey_indicators', lang)} — {_t(f'group.{group}', lang)}, {name}, "
               f"{_t(f'wave_long.{WAVE}', lang)} {d.edition}")
    chart = (figure(charts.indicator_bars(pd.DataFrame(long), _t("chart.indicators_title", lang,
                                                                 group=_t(f"group.{group}", lang), name=name),
                                          lang=lang, threshold=d.threshold)) if draw else "")
    return html.concat(head, chart, html.table(frame, cols, caption=caption, footnotes=notes,
                                                         row_header="indicator", lang=lang))


def _schools(d: EditionData, county: str, name: str, group: str, indicator: str, lang: str) -> html.Html:
    """The county's institutions taking part in the edition, side by side: status, the edition's
    audit (points, share) and the chosen indicator (value, interval, n; „—” when withheld)."""
    rows = d.with_survey(d.rows(Selection(d.edition, county=county)), indicator, group)
    rows = rows.iloc[sorted(range(len(rows)), key=lambda i: polish_key(rows["name"].iat[i]))]
    rows = rows.assign(identifier=identifier_cells(rows))
    statuses = labels_for("status", lang)
    hidden = rows["survey_suppressed"].notna()

    def status(r: dict) -> str:
        text = statuses.get(r["status"], r["status"])
        return _t("misc.status_via_complex", lang, status=text) if r["via_complex"] else text

    def survey(r: dict, part: str) -> str:
        if fmt.is_missing(r["survey_n"]):
            return ""  # no such survey of the school
        if part == "n":
            return fmt.integer(r["survey_n"], lang)
        if not fmt.is_missing(r["survey_suppressed"]):
            return fmt.MISSING
        return fmt.percent(r["survey_p"], 1, lang) if part == "p" else fmt.interval(r["survey_lo"], r["survey_hi"], 1,
                                                                                    lang)

    ind = indicator_names(d.ref, lang)[indicator]
    cols = {"name": _t("col.institution", lang), "identifier": _t("col.identifier", lang),
            "status": html.Column(_t("col.status", lang), status, row=True),
            "pts": html.Column(_t("col.points", lang), lambda r: "" if fmt.is_missing(r["audit_total"]) else
                               f"{fmt.integer(r['audit_total'], lang)} / {fmt.integer(r['audit_max_total'], lang)}",
                               numeric=True, row=True),
            "share": html.Column(_t("col.share", lang), lambda r: "" if fmt.is_missing(r["audit_share"]) else
                                 fmt.percent(r["audit_share"], 1, lang), numeric=True, row=True),
            "sp": html.Column(f"{ind}: {_t('col.value', lang)}", lambda r: survey(r, "p"), numeric=True, row=True),
            "si": html.Column(f"{ind}: {_t('col.ci', lang)}", lambda r: survey(r, "ci"), row=True),
            "sn": html.Column(f"{ind}: {_t('col.respondents', lang)}", lambda r: survey(r, "n"), numeric=True,
                              row=True)}
    notes = [_t("footnote.suppressed", lang, threshold=d.threshold)] if hidden.any() else []
    notes += [_t("footnote.not_in_register", lang)] if not_in_register(rows).any() else []
    notes += [_t("footnote.complex", lang)] if rows["represented"].any() else []
    caption = _t("explore.table_caption", lang, scope=name) + \
        f" ({fmt.integer(len(rows), lang)}; {_t('group.' + group, lang)}, {_t(f'wave_long.{WAVE}', lang)})"
    return html.concat(html.heading(_t("section.institutions", lang), 3),
                       html.table(rows, cols, caption=caption, footnotes=notes, row_header="name", lang=lang))


def _trends(d: EditionData, county: str, name: str, group: str, indicator: str, lang: str,
            draw: bool) -> html.Html:
    """Over the editions held: the chosen indicator, county against voivodeship (the county report's
    trend chart for any indicator and group), and the programme in the county (the cube's ``trends``)."""
    voiv = _t("col.voivodeship", lang)
    ind = indicator_names(d.ref, lang)[indicator]
    series = []
    for level, key, who in (("county", county, name), ("voivodeship", VOIVODESHIP, voiv)):
        t = d.cube.table("indicators", level=level, key=key, group=group, wave=WAVE, indicator=indicator)
        series.append(t.assign(series=who))
    ind_rows = pd.concat(series, ignore_index=True)
    parts: list[Any] = [html.heading(_t("section.trends", lang), 3)]
    title = f"{ind} — {_t(f'group.{group}', lang)}: {name}"
    if len(ind_rows):
        values = ind_rows.assign(value=ind_rows["p"].where(ind_rows["suppressed"].isna()))
        wide = (values.pivot_table(index="edition", columns="series", values="value", aggfunc="first", dropna=False)
                .reindex(columns=[name, voiv]).reset_index().sort_values("edition"))
        if draw:  # the county's line first in every edition: its colour is the bars' (charts keep first seen)
            long = wide.melt(id_vars="edition", value_vars=[name, voiv], var_name="series").sort_values(
                "edition", kind="stable")
            parts.append(figure(charts.trend_lines(long, title, as_percent=True, lang=lang)))
        hidden = set(ind_rows.loc[(ind_rows["series"] == name) & ind_rows["suppressed"].notna(), "edition"])
        cols = {"edition": _t("col.edition", lang),
                name: (name, lambda v: fmt.percent(v, 1, lang)), voiv: (voiv, lambda v: fmt.percent(v, 1, lang))}
        notes = [_t("footnote.suppressed", lang, threshold=d.threshold)] if hidden else []
        parts.append(html.table(wide, cols, numeric=(name, voiv), lang=lang, footnotes=notes,
                                caption=f"{title} ({_t(f'wave_long.{WAVE}', lang)})"))
    else:
        parts.append(html.paragraph(_t("misc.no_data", lang)))
    t = d.cube.table("trends", county=county).sort_values("edition")
    names = {"participating": _t("col.participating", lang), "valid_awards": _t("col.valid_awards", lang),
             "audits": _t("col.audits", lang), "granted": _t("col.granted", lang)}
    long = pd.concat([pd.DataFrame({"edition": t["edition"], "series": n, "value": t[c]}) for c, n in names.items()])
    programme = f"{_t('chart.trend_programme_title', lang)} — {name}"
    ints = lambda v: fmt.integer(v, lang)  # noqa: E731
    cols = {"edition": _t("col.edition", lang), **{c: (n, ints) for c, n in names.items()},
            "leaders": (_t("col.leaders", lang), ints),
            "mean_share": (_t("col.mean_share", lang), lambda v: fmt.percent(v, 1, lang))}
    parts += [figure(charts.trend_lines(long, programme, lang=lang)) if draw else "",
              html.table(t, cols, numeric=(*names, "leaders", "mean_share"), lang=lang, caption=programme,
                         footnotes=[_t("misc.suspension_note", lang)])]
    return html.concat(*parts)


def _places(d: EditionData, county: str, name: str, group: str, lang: str, draw: bool) -> html.Html:
    """The places the county's respondents of ``group`` named as dangerous in the edition's
    follow-up, else its baseline (as the school report shows a school's): shares with n."""
    head = html.heading(_t("section.dangerous_places", lang), 3)
    p = d.cube.table("places", level="county", key=county, edition=d.edition, group=group)
    wave = next((w for w in ("follow-up", "baseline") if (p["wave"] == w).any()), None)
    if wave is None:
        return html.concat(head, html.paragraph(_t("misc.no_data", lang)))
    p = p[p["wave"] == wave].sort_values(["rank", "place"], na_position="last")
    places = {o.code: getattr(o, f"label_{lang}") for o in d.ref.scales["places"].options}
    p = p.assign(title=[places.get(c, c) for c in p["place"]])
    shown = p.dropna(subset=["p"])
    title = f"{_t('chart.places_title', lang, group=_t(f'group.{group}', lang))}: {name}"
    if wave != "follow-up":
        title = f"{title}, {_t(f'wave_long.{wave}', lang)}"
    chart = (figure(charts.bar_chart(pd.Series(shown["p"].to_numpy(), index=shown["title"]), title, as_percent=True,
                                     lang=lang)) if draw and len(shown) else html.Html(""))
    cols = {"rank": (_t("col.rank", lang), lambda v: fmt.integer(v, lang)), "title": _t("col.place", lang),
            "p": (_t("col.value", lang), lambda v: fmt.percent(v, 1, lang)),
            "n": (_t("col.respondents", lang), lambda v: fmt.integer(v, lang))}
    n = fmt.integer(p["n"].iloc[0], lang)
    notes = [_t("misc.places_note", lang, n=n)]
    if p["suppressed"].notna().any():
        notes.append(_t("footnote.suppressed", lang, threshold=d.threshold))
    when = f"{_t(f'wave_long.{wave}', lang)} {d.edition}"
    caption = f"{_t('misc.places_caption', lang, group=_t(f'group.{group}', lang), wave=when)} — {name}"
    return html.concat(head, chart, html.table(p, cols, numeric=("rank", "p", "n"), lang=lang, footnotes=notes,
                                               caption=caption))
