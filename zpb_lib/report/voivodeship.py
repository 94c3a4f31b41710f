"""The voivodeship (edition) report: totals and trends over editions, the per-county table and map,
the ranking of the edition's audits, the ceremony list, police units' activity and the survey
indicators of the voivodeship."""
from __future__ import annotations

import pandas as pd

from zpb_lib.report import charts, html, maps
from zpb_lib.core import fmt
from zpb_lib.report.base import BaseReport

CEREMONY_ORDER = ("leader", "extension", "certificate", "university_certificate")


class VoivodeshipReport(BaseReport):
    kind = "voivodeship"

    @classmethod
    def open(cls, edition: str = "", lang: str = "pl", cube: str = "", db: str = "") -> "VoivodeshipReport":
        return cls._open(edition, lang, cube, db)

    def title(self) -> str:
        return f"{self.t('title.voivodeship_report')}: {self.t('misc.voivodeship_name')}"

    def subject(self) -> str:
        return self.county("12")

    def header(self) -> html.Html:
        return super().header(self.t("title.organiser"))

    def _summary(self) -> pd.DataFrame:
        s = self.cube.table("county_summary")
        s["name"] = [self.county(c) if c != "12" else self.t("col.voivodeship") for c in s["county"]]
        return s

    def key_figures(self) -> html.Html:
        s = self._summary().set_index("county").loc["12"]
        items = [html.KeyFigure(self.t("kf.institutions"), fmt.integer(s["institutions"], self.lang)),
                 html.KeyFigure(self.t("kf.participating"), fmt.integer(s["participating"], self.lang)),
                 html.KeyFigure(self.t("kf.participation_rate"), fmt.percent(s["participation_rate"], 1, self.lang)),
                 html.KeyFigure(self.t("kf.valid_awards"), fmt.integer(s["valid_awards"], self.lang)),
                 html.KeyFigure(self.t("kf.leaders"), fmt.integer(s["leaders"], self.lang)),
                 html.KeyFigure(self.t("kf.audits"), fmt.integer(s["audits"], self.lang)),
                 html.KeyFigure(self.t("kf.granted"), fmt.integer(s["granted"], self.lang)),
                 html.KeyFigure(self.t("col.mean_share"), fmt.percent(s["mean_share"], 1, self.lang))]
        notes = self.complex_note(self.cube.table("institutions", represented=True), "footnote.complex_count")
        return self.section("key_figures", html.key_figures(items),
                            html.paragraph(self.t("misc.as_of", date=fmt.date(self.meta["as_of"], self.lang))),
                            *(html.paragraph(n) for n in notes))

    def trends(self) -> html.Html:
        t = self.cube.table("trends", county="12").sort_values("edition")
        series = {"participating": self.t("col.participating"), "valid_awards": self.t("col.valid_awards"),
                  "audits": self.t("col.audits"), "granted": self.t("col.granted")}
        long = pd.concat([pd.DataFrame({"edition": t["edition"], "series": name, "value": t[col]})
                          for col, name in series.items()])
        chart = charts.trend_lines(long, self.t("chart.trend_programme_title"), lang=self.lang)
        cols = {"edition": self.t("col.edition"),
                **{c: (n, lambda v: fmt.integer(v, self.lang)) for c, n in series.items()},
                "leaders": (self.t("col.leaders"), lambda v: fmt.integer(v, self.lang)),
                "mean_share": (self.t("col.mean_share"), lambda v: fmt.percent(v, 1, self.lang))}
        note = self.t("misc.suspension_note")
        return self.section("trends", chart, html.table(t, cols, numeric=(*series, "leaders", "mean_share"),
                                                        lang=self.lang, footnotes=[note],
                                                        caption=self.t("section.trends")))

    def counties(self) -> html.Html:
        s = self._summary()
        s = pd.concat([s[s["county"] != "12"].sort_values("county"), s[s["county"] == "12"]])
        s["unit"] = [self.unit_short(self.ref.counties[c].police_unit) if c != "12" else ""
                     for c in s["county"]]
        ints = lambda v: fmt.integer(v, self.lang)  # noqa: E731
        cols = {"name": self.t("col.county"), "unit": self.t("col.police_unit"),
                "institutions": (self.t("col.institutions"), ints), "participating": (self.t("col.participating"), ints),
                "participation_rate": (self.t("col.participation_rate"), lambda v: fmt.percent(v, 1, self.lang)),
                "valid_awards": (self.t("col.valid_awards"), ints), "leaders": (self.t("col.leaders"), ints),
                "audits": (self.t("col.audits"), ints), "granted": (self.t("col.granted"), ints),
                "mean_share": (self.t("col.mean_share"), lambda v: fmt.percent(v, 1, self.lang))}
        return self.section("counties", html.table(
            s, cols, row_header="name", lang=self.lang, caption=self.t("section.counties"),
            numeric=("institutions", "participating", "participation_rate", "valid_awards", "leaders", "audits",
                     "granted", "mean_share")))

    def map(self) -> html.Html:
        s = self.cube.table("county_summary").set_index("county")["participation_rate"].drop("12", errors="ignore")
        return self.section("map", maps.choropleth(s, self.t("chart.map_participation_title"), lang=self.lang,
                                                   as_percent=True, decimals=1, ref=self.ref))

    def ranking(self) -> html.Html:
        a = self.cube.table("audits", edition=self.edition)
        a = self.with_identifier(a[a["rank"].notna()].sort_values(["family", "rank", "name"]))
        kinds, awards = self.names("audit_kind"), self.names("award")
        parts = [html.paragraph(self.t("misc.rank_note"))]
        for family, g in a.groupby("family", sort=True):
            cols = {"rank": html.Column(self.t("col.rank"), lambda r: self._rank(r), numeric=True, row=True),
                    "name": self.t("col.institution"),
                    "identifier": self.t("col.identifier"),
                    "county": (self.t("col.county"), self.county),
                    "kind": (self.t("col.audit_kind"), lambda v: kinds.get(v, v)),
                    "pts": html.Column(self.t("col.points"), lambda r: f"{fmt.integer(r['total'], self.lang)} / "
                                       f"{fmt.integer(r['max_total'], self.lang)}", numeric=True, row=True),
                    "dec": html.Column(self.t("col.decision"), lambda r: (
                        f"{self.t('decision.granted')}: {awards.get(r['award_kind'], r['award_kind'])}"
                        if r["granted"] else self.t("decision.refused")), row=True)}
            parts.append(html.table(g, cols, lang=self.lang, footnotes=self.register_note(g),
                                    caption=f"{self.t('section.audit_ranking')} — {self.t(f'family.{family}')}"))
        return self.section("audit_ranking", *parts)

    def _rank(self, r: dict) -> str:
        text = fmt.integer(r["rank"], self.lang)
        return f"{text} {self.t('misc.ex_aequo')}" if r["tied"] else text

    def ceremony(self) -> html.Html:
        """The edition's awards in the order they are handed out; a complex's award names the schools
        taking part with it, which it covers (zpb_lib.domain.complexes)."""
        aw = self.cube.table("awards", edition=self.edition)
        names = self.names("award_full")
        aw["order"] = aw["kind"].map({k: i for i, k in enumerate(CEREMONY_ORDER)})
        aw = self.with_identifier(aw.sort_values(["order", "county", "name"]))
        schools = self.covered_schools(aw["institution_id"])
        counts = aw.groupby("kind").size()
        summary = "; ".join(f"{names.get(k, k)}: {fmt.integer(counts[k], self.lang)}"
                            for k in CEREMONY_ORDER if k in counts.index)
        cols = {"kind": (self.t("col.award"), lambda v: names.get(v, v)),
                "name": html.Column(self.t("col.institution"), lambda r: self.holder_name(r, schools), row=True),
                "identifier": self.t("col.identifier"), "county": (self.t("col.county"), self.county),
                "valid_until": (self.t("col.valid_until"),
                                lambda v: fmt.date(v, self.lang) if not fmt.is_missing(v) else self.t("misc.indefinite"))}
        when = self.ref.edition(self.edition).ceremony
        intro = self.t("misc.ceremony_intro", date=fmt.date(when, self.lang) if when else fmt.MISSING)
        notes = self.register_note(aw) + ([self.t("footnote.complex_ceremony")] if schools else [])
        return self.section("ceremony_list", html.paragraph(intro), html.paragraph(summary or self.t("misc.empty")),
                            html.table(aw, cols, lang=self.lang, caption=self.t("section.ceremony_list"),
                                       footnotes=notes + self.contested_list(aw)))

    def police_units(self) -> html.Html:
        a = self.cube.table("audits", edition=self.edition)
        r = self.cube.table("renewals")
        r["police_unit"] = [self.ref.counties[c].police_unit for c in r["county"]]
        rows = []
        for code, unit in self.ref.police_units.items():
            counties = [t for t, c in self.ref.counties.items() if c.police_unit == code]
            mine = a[a["police_unit"] == code]
            rows.append({"unit": self.unit_short(code), "counties": ", ".join(self.county(c) for c in counties),
                         "audits": len(mine), "granted": int((mine["granted"] & (mine["kind"] != "control")).sum()),
                         "renewals": int((r["police_unit"] == code).sum())})
        t = pd.DataFrame(rows).sort_values("unit")
        ints = lambda v: fmt.integer(v, self.lang)  # noqa: E731
        cols = {"unit": self.t("col.police_unit"), "counties": self.t("col.counties_served"),
                "audits": (self.t("col.audits"), ints), "granted": (self.t("col.granted"), ints),
                "renewals": (self.t("col.renewals_due"), ints)}
        return self.section("police_units", html.table(t, cols, row_header="unit", numeric=("audits", "granted", "renewals"),
                                                       lang=self.lang, caption=self.t("section.police_units")))

    def indicators(self) -> html.Html:
        """Each group's follow-up; with only the baseline in the edition so far, the baseline,
        labelled as such (the county map too)."""
        waves = {g: self.survey_wave("voivodeship", "12", g) for g in ("students", "parents", "teachers")}
        parts = [html.paragraph(self.indicators_intro(set(waves.values())))]
        for group, wave in waves.items():
            wave = wave or "follow-up"
            caption = f"{self.t(f'group.{group}')} — {self.t('misc.voivodeship_name')}"
            if wave != "follow-up":
                caption += f", {self.t(f'wave_long.{wave}')}"
            parts.append(html.heading(self.cap(self.t(f"group.{group}")), 3))
            parts.append(self.indicator_table("voivodeship", "12", group, [], caption=caption, wave=wave))
        # Where students feel least safe: the county map of the headline indicator.
        wave = waves["students"] or "follow-up"
        t = self.cube.table("indicators", level="county", group="students", wave=wave, indicator="safe_school",
                            edition=self.edition)
        title = self.t("chart.map_safe_title")
        if wave != "follow-up":
            title = f"{title} — {self.t(f'wave_long.{wave}')}"
        parts.append(maps.choropleth(t.set_index("key")["p"], title, lang=self.lang,
                                     as_percent=True, decimals=0, ref=self.ref))
        return self.section("survey_indicators", *parts)
