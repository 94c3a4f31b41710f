"""The county report: key figures, this edition's audits and decisions, weakest criteria, survey
indicators against the voivodeship and over editions, renewals due, the map and the institutions."""
from __future__ import annotations

import pandas as pd

from zpb_lib.report import charts, html, maps
from zpb_lib.core import fmt
from zpb_lib.report.base import BaseReport


class CountyReport(BaseReport):
    kind = "county"

    def __init__(self, cube, county: str, lang: str = "pl", ref=None):
        super().__init__(cube, lang, ref)
        if county is None or str(county).strip() == "":  # plain papermill without -p county
            raise ValueError(self.t("error.county_missing"))
        try:  # a TERYT code or a county's name ("bocheński", "m. Kraków")
            county = self.ref.county_code(str(county).strip())
        except KeyError as exc:
            raise ValueError(exc.args[0]) from None
        self.teryt = county
        self.info = self.ref.counties[county]
        self.name = self.county(county)
        self.unit = self.ref.police_units[self.info.police_unit]

    @classmethod
    def open(cls, county: str, edition: str = "", lang: str = "pl", cube: str = "", db: str = "") -> "CountyReport":
        return cls._open(edition, lang, cube, db, county=county)

    def title(self) -> str:
        return f"{self.t('title.county_report')}: {self.name}"

    def subject(self) -> str:
        return self.name

    def header(self) -> html.Html:
        return super().header(f"{self.t('col.police_unit')}: {self.unit.name} · TERYT {self.teryt}")

    # ------------------------------------------------------------------ sections
    def key_figures(self) -> html.Html:
        s = self.cube.table("county_summary", county=[self.teryt, "12"]).set_index("county")
        me, all_ = s.loc[self.teryt], s.loc["12"]
        vs = lambda text: self.t("kf.vs_voivodeship", value=text)  # noqa: E731
        items = [
            html.KeyFigure(self.t("kf.institutions"), fmt.integer(me["institutions"], self.lang)),
            html.KeyFigure(self.t("kf.participating"), fmt.integer(me["participating"], self.lang)),
            html.KeyFigure(self.t("kf.participation_rate"), fmt.percent(me["participation_rate"], 1, self.lang),
                           vs(fmt.percent(all_["participation_rate"], 1, self.lang))),
            html.KeyFigure(self.t("kf.valid_awards"), fmt.integer(me["valid_awards"], self.lang)),
            html.KeyFigure(self.t("kf.leaders"), fmt.integer(me["leaders"], self.lang)),
            html.KeyFigure(self.t("kf.audits"), fmt.integer(me["audits"], self.lang)),
            html.KeyFigure(self.t("kf.granted"), fmt.integer(me["granted"], self.lang)),
            html.KeyFigure(self.t("col.mean_share"), fmt.percent(me["mean_share"], 1, self.lang),
                           vs(fmt.percent(all_["mean_share"], 1, self.lang))),
        ]
        notes = self.complex_note(self.cube.table("institutions", county=self.teryt), "footnote.complex_count")
        return self.section("key_figures", html.key_figures(items),
                            html.paragraph(self.t("misc.as_of", date=fmt.date(self.meta["as_of"], self.lang))),
                            *(html.paragraph(n) for n in notes))

    def audits(self) -> html.Html:
        a = self.with_identifier(self.cube.table("audits", edition=self.edition, county=self.teryt)
                                 .sort_values(["audit_date", "name"]))
        kinds, awards = self.names("audit_kind"), self.names("award")

        def decision(r: dict) -> str:
            if r["kind"] == "control":
                return self.t("decision.positive" if r["granted"] else "decision.negative")
            if r["granted"]:
                return f"{self.t('decision.granted')}: {awards.get(r['award_kind'], r['award_kind'])}"
            return f"{self.t('decision.refused')} ({self.reasons(r['reasons'], r['catalogue'])})"

        cols = {
            "name": self.t("col.institution"),
            "identifier": self.t("col.identifier"),
            "kind": (self.t("col.audit_kind"), lambda v: kinds.get(v, v)),
            "audit_date": (self.t("col.audit_date"), lambda v: fmt.date(v, self.lang)),
            "pts": html.Column(self.t("col.points"), lambda r: f"{fmt.integer(r['total'], self.lang)} / "
                               f"{fmt.integer(r['max_total'], self.lang)}", numeric=True, row=True),
            "rank": html.Column(self.t("col.rank"), lambda r: self.rank_text(r), numeric=True, row=True),
            "decision": html.Column(self.t("col.decision"), decision, row=True),
        }
        table = html.table(a, cols, caption=self.t("section.audits_decisions") + f" — {self.name}", lang=self.lang,
                           footnotes=[self.t("misc.rank_note")] + self.register_note(a))
        return self.section("audits_decisions", table)

    def rank_text(self, r: dict) -> str:
        if pd.isna(r.get("rank")):
            return fmt.MISSING
        text = fmt.integer(r["rank"], self.lang)
        return f"{text} {self.t('misc.ex_aequo')}" if r.get("tied") else text

    def weakest_criteria(self) -> html.Html:
        """Mean points per criterion in this edition's audits in the county, against the maximum,
        ordered by the share lost; the voivodeship's share for comparison."""
        a = self.cube.table("audits", edition=self.edition)
        if a.empty:
            return self.section("weakest_criteria", html.paragraph(self.t("misc.no_data")))
        items = self.cube.table("audit_items", audit_id=a["audit_id"].tolist())
        items = items.merge(a[["audit_id", "county"]], on="audit_id")
        cat_key = self.ref.catalogue_for("school", self.edition).key
        items = items[items["catalogue"] == cat_key]
        mine = items[items["county"] == self.teryt]
        if mine.empty:
            return self.section("weakest_criteria", html.paragraph(self.t("misc.no_audits")))
        g = mine.groupby("criterion").agg(points=("points", "mean"), max_points=("max_points", "first"),
                                          n=("points", "size"))
        all_share = items.groupby("criterion").apply(lambda d: d["points"].sum() / d["max_points"].sum(),
                                                     include_groups=False)
        g["lost_share"] = 1 - g["points"] / g["max_points"]
        g["voiv_share"] = all_share.reindex(g.index)
        g = g.sort_values(["lost_share", "max_points"], ascending=[False, False]).reset_index()
        g["title"] = [f"{c} {self.criterion_title(cat_key, c)}" for c in g["criterion"]]
        chart = charts.criteria_points(g.head(8).assign(label=lambda d: d["title"]),
                                       self.t("chart.weakest_title", name=self.name), lang=self.lang)
        cols = {
            "title": self.t("col.criterion"),
            "points": (self.t("col.points"), lambda v: fmt.number(v, 1, self.lang)),
            "max_points": (self.t("col.max_points"), lambda v: fmt.integer(v, self.lang)),
            "share": html.Column(self.t("col.share"), lambda r: fmt.percent(1 - r["lost_share"], 1, self.lang),
                                 numeric=True, row=True),
            "voiv_share": (self.t("col.voivodeship"), lambda v: fmt.percent(v, 1, self.lang)),
        }
        table = html.table(g, cols, caption=self.t("misc.criteria_caption", catalogue=self.catalogue_label(cat_key),
                                                   n=fmt.integer(len(mine["audit_id"].unique()), self.lang)),
                           numeric=("points", "max_points", "voiv_share"), lang=self.lang)
        return self.section("weakest_criteria", chart, table)

    def indicators(self) -> html.Html:
        """Each group's follow-up against the voivodeship's; with only the baseline in the edition so
        far, the baseline against the voivodeship's baseline, labelled as such."""
        voiv = self.t("col.voivodeship")
        waves = {g: self.survey_wave("county", self.teryt, g) for g in ("students", "parents", "teachers")}
        parts = [html.paragraph(self.indicators_intro(set(waves.values())))]
        chart_group = next((g for g, w in waves.items() if w), "students")
        parts.append(self.compare_chart([("county", self.teryt, self.name), ("voivodeship", "12", voiv)], chart_group,
                                        self.t("chart.indicators_title", group=self.t(f"group.{chart_group}").lower(),
                                               name=self.name), wave=waves[chart_group] or "follow-up"))
        for group, wave in waves.items():
            wave = wave or "follow-up"
            parts.append(html.heading(self.cap(self.t(f"group.{group}")), 3))
            parts.append(self.indicator_table("county", self.teryt, group, [("voivodeship", "12", voiv)],
                                              caption=f"{self.t(f'group.{group}')} — {self.name}, "
                                                      f"{self.t(f'wave_long.{wave}')}", wave=wave))
        parts.append(self.trend())
        return self.section("survey_indicators", *parts)

    def trend(self) -> html.Html:
        """Students feeling safe at school over editions: county vs voivodeship (follow-up wave)."""
        rows = []
        for level, key, name in (("county", self.teryt, self.name), ("voivodeship", "12", self.t("col.voivodeship"))):
            t = self.cube.table("indicators", level=level, key=key, group="students", wave="follow-up",
                                indicator="safe_school")
            rows += [{"edition": e, "series": name, "value": p} for e, p in zip(t["edition"], t["p"])]
        if not rows:
            return html.Html("")
        data = pd.DataFrame(rows).sort_values("edition")
        return charts.trend_lines(data, self.t("chart.trend_safe_title", name=self.name), as_percent=True,
                                  lang=self.lang)

    def renewals(self) -> html.Html:
        r = self.with_identifier(self.cube.table("renewals", county=self.teryt))
        awards = self.names("award")
        schools = self.covered_schools(r["institution_id"])  # a complex's certificate covers them
        cols = {"name": html.Column(self.t("col.institution"), lambda x: self.holder_name(x, schools), row=True),
                "identifier": self.t("col.identifier"),
                "award_kind": (self.t("col.award"), lambda v: awards.get(v, v)),
                "valid_until": (self.t("col.valid_until"), lambda v: fmt.date(v, self.lang)),
                "days_left": (self.t("col.days_left"), lambda v: fmt.integer(v, self.lang))}
        notes = self.register_note(r) + ([self.t("footnote.complex_renewal")] if schools else [])
        return self.section("renewals_due", html.table(r, cols, numeric=("days_left",), lang=self.lang,
                                                       caption=self.t("misc.renewals_caption", name=self.name),
                                                       footnotes=notes))

    def map(self) -> html.Html:
        s = self.cube.table("county_summary").set_index("county")["participation_rate"].drop("12", errors="ignore")
        chart = maps.choropleth(s, self.t("chart.map_participation_title"), lang=self.lang, highlight=self.teryt,
                                as_percent=True, decimals=1, ref=self.ref)
        return self.section("map", chart)

    def institutions(self) -> html.Html:
        """The institutions taking part in the edition; a complex's schools taking part with it come
        right after it, named as its, with its status (zpb_lib.domain.complexes)."""
        every = self.cube.table("institutions", county=self.teryt)
        inst = self.with_identifier(every[every["in_edition"]])
        by_id = every.set_index("id")
        unit = inst["complex_id"].where(inst["represented"], inst["id"]).astype("Int64")
        known = unit.isin(by_id.index)
        inst = inst.assign(_status=unit.map(by_id["status"].astype(str)).where(known, inst["status"].astype(str)),
                           _unit=unit.map(by_id["name"]).where(known, inst["name"]),
                           _member=inst["represented"].astype(int))
        inst = inst.sort_values(["_status", "_unit", "_member", "name"])
        statuses = self.names("status")
        kind_col = f"kind_{self.lang}"

        def name(r: dict) -> str:
            return self.t("misc.in_complex", name=r["name"], ident=r["complex_ident"]) if r["represented"] else r["name"]

        def status(r: dict) -> str:
            text = statuses.get(r["status"], r["status"])
            return self.t("misc.status_via_complex", status=text) if r["via_complex"] else text

        cols = {"name": html.Column(self.t("col.institution"), name, row=True),
                "identifier": self.t("col.identifier"), kind_col: self.t("col.kind"),
                "locality": self.t("col.locality"),
                "status": html.Column(self.t("col.status"), status, row=True),
                "valid_until": (self.t("col.valid_until"), lambda v: fmt.date(v, self.lang)),
                "joined_edition": self.t("col.joined")}
        contested = self.contested_list(self.cube.table("awards", county=self.teryt))
        return self.section("institutions", html.table(inst, cols, lang=self.lang,
                                                       caption=self.t("misc.institutions_caption", name=self.name),
                                                       footnotes=self.register_note(inst) + self.complex_note(inst)
                                                       + contested))
