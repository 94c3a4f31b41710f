"""The report of one institution (school or university): status and timeline, audit result per
criterion, the gap list and next step, survey indicators against the county and the voivodeship
with baseline → follow-up changes, dangerous places and action-plan progress.

A school of a complex that takes part together with it (:mod:`zpb_lib.domain.complexes`) shows the
complex's programme — its status and awards (unless the school holds a valid award of its own),
audits, surveys and action plan — and says so; a school taking part on its own shows its own; a
complex's report lists its schools."""
from __future__ import annotations

import pandas as pd

from zpb_lib.reference.identifiers import label as identifier_label
from zpb_lib.reference.identifiers import parse_identifier
from zpb_lib.domain.scoring.explain import explained_audit
from zpb_lib.report import charts, html
from zpb_lib.core import fmt
from zpb_lib.report.base import BaseReport, not_in_register


class SchoolReport(BaseReport):
    """The report of the institution a person names by its RSPO number (a school) or POL-on id (a
    university): ``institution`` is that identifier, as text or (from ``papermill -p``) a number."""
    kind = "school"

    def __init__(self, cube, institution: str | int, lang: str = "pl", ref=None):
        super().__init__(cube, lang, ref)
        self.inst = self._find(institution)
        self.id = int(self.inst["id"])  # the cube's internal key: links its tables, never shown
        self.ident = str(self.inst["ident"])
        self.label = identifier_label(self.inst["rspo"] if pd.notna(self.inst["rspo"]) else None,
                                      self.inst["polon"] if pd.notna(self.inst["polon"]) else None)
        self.missing_from_register = bool(not_in_register(pd.DataFrame([self.inst])).iat[0])
        self.teryt = str(self.inst["county"])
        self.county_label = self.county(self.teryt)
        self.complex = self._complex()
        self.represented = bool(self.inst["represented"])
        self.via_complex = bool(self.inst["via_complex"])
        # Whose programme the report shows: the complex's for a school taking part with it.
        self.programme_id = int(self.inst["complex_id"]) if self.represented else self.id
        self.members = (cube.table("institutions", complex_id=self.id).sort_values("name")
                        if self.inst["kind"] == "complex" else None)
        self.pooled = self.represented or (self.members is not None and bool(self.members["represented"].any()))
        audits = cube.table("audits", institution_id=sorted({self.id, self.programme_id}))
        self.audits_all = audits.sort_values(["audit_date", "audit_id"])
        self.audits = self.audits_all[self.audits_all["institution_id"] == self.programme_id]

    def _find(self, institution: str | int | None) -> pd.Series:
        # 0 was the old default of the notebook parameter: "not given", like an empty text.
        if institution is None or (isinstance(institution, (int, float)) and not isinstance(institution, bool)
                                   and institution == 0) or str(institution).strip() == "":
            raise ValueError(self.t("error.institution_missing"))
        try:
            ident = parse_identifier(institution)
        except ValueError:
            raise ValueError(self.t("error.institution_invalid", value=str(institution))) from None
        rows = self.cube.table("institutions", **{ident.column: ident.value})
        if rows.empty:
            raise ValueError(self.t("error.institution_unknown", label=ident.label(), edition=self.edition))
        return rows.iloc[0]

    def _complex(self) -> pd.Series | None:
        """The complex the school belongs to (a row of the cube's institutions), if any."""
        cid = self.inst["complex_id"]
        if pd.isna(cid):
            return None
        rows = self.cube.table("institutions", id=int(cid))
        return rows.iloc[0] if len(rows) else None

    def complex_text(self) -> str:
        """„zespołu „Zespół Szkół nr 2 w Brzesku” (RSPO 10210)”, to go inside a sentence."""
        c = self.complex
        return self.t("misc.complex_label", name=c["name"], ident=identifier_label(c["rspo"], None))

    @classmethod
    def open(cls, institution: str | int, edition: str = "", lang: str = "pl", cube: str = "",
             db: str = "") -> "SchoolReport":
        return cls._open(edition, lang, cube, db, institution=institution)

    def title(self) -> str:
        return f"{self.t('title.school_report')}: {self.inst['name']}"

    def subject(self) -> str:
        return str(self.inst["name"])

    def subtitle_parts(self) -> list[str]:
        """"RSPO 123456 · szkoła podstawowa · Bochnia · powiat bocheński · KPP w Bochni" (and the
        register note for a school missing from the latest RSPO export)."""
        parts = [self.label, self.inst[f"kind_{self.lang}"], self.inst["locality"], self.county_label,
                 self.inst["police_unit_name"]]
        if self.complex is not None:
            parts.append(self.t("misc.part_of_complex", name=self.complex["name"],
                                ident=identifier_label(self.complex["rspo"], None)))
        if self.missing_from_register:
            parts.append(self.t("misc.not_in_register"))
        return [str(p) for p in parts if not fmt.is_missing(p)]

    def header(self) -> html.Html:
        return super().header(" · ".join(self.subtitle_parts()))

    # ------------------------------------------------------------------ sections
    def status(self) -> html.Html:
        i = self.inst
        statuses = self.names("status")
        shown = statuses.get(i["status"], i["status"])
        if self.via_complex:
            shown = self.t("misc.status_via_complex", status=shown)
        facts = [(self.t("col.status"), shown),
                 (self.t("col.joined"), i["joined_edition"] if pd.notna(i["joined_edition"]) else fmt.MISSING),
                 (self.t("col.years_in_programme"), fmt.integer(i["years_in_programme"], self.lang)),
                 (self.t("col.valid_until"), fmt.date(i["valid_until"], self.lang)
                  if pd.notna(i["valid_until"]) else (self.t("misc.indefinite") if i["status"] == "leader" else fmt.MISSING))]
        ids = sorted({self.id, self.programme_id})
        awards = self.cube.table("awards", institution_id=ids).sort_values(["awarded_on", "award_id"])
        names = self.names("award_full")
        cols = {"edition": self.t("col.edition"),
                "kind": (self.t("col.award"), lambda v: names.get(v, v)),
                "awarded_on": (self.t("col.awarded_on"), lambda v: fmt.date(v, self.lang)),
                "valid_until": (self.t("col.valid_until"),
                                lambda v: fmt.date(v, self.lang) if not fmt.is_missing(v) else self.t("misc.indefinite"))}
        # An award the rules deny stays listed as recorded, with why the status leaves it out.
        notes = [self.award_note(r) for r in awards.to_dict("records")]
        footnotes = []
        if any(notes):
            awards = awards.assign(note=notes)
            cols["note"] = self.t("col.note")
        if awards.get("contested", pd.Series(dtype=bool)).fillna(False).astype(bool).any():
            footnotes.append(self.t("misc.contested_note"))
        kinds = self.names("audit_kind")
        acols = {"edition": self.t("col.edition"),
                 "kind": (self.t("col.audit_kind"), lambda v: kinds.get(v, v)),
                 "audit_date": (self.t("col.audit_date"), lambda v: fmt.date(v, self.lang)),
                 "pts": html.Column(self.t("col.points"), lambda r: f"{fmt.integer(r['total'], self.lang)} / "
                                    f"{fmt.integer(r['max_total'], self.lang)}", numeric=True, row=True),
                 "dec": html.Column(self.t("col.decision"), self._decision, row=True)}
        if len(ids) > 1:  # a member's table holds its complex's rows too: say whose each one is
            holder = html.Column(self.t("col.holder"), lambda r: self.t(
                "misc.holder_school" if int(r["institution_id"]) == self.id else "misc.holder_complex"), row=True)
            cols = {"holder": holder, **cols}
            acols = {"holder": holder, **acols}
        return self.section("status_timeline", *self.complex_notes(), html.definition_list(facts),
                            html.table(awards, cols, caption=self.t("misc.awards_caption"), lang=self.lang,
                                       footnotes=footnotes),
                            html.table(self.audits_all, acols, caption=self.t("misc.audits_caption"), lang=self.lang),
                            self.complex_members())

    def complex_notes(self) -> list[html.Html]:
        """What a school of a complex (or a complex) should know before its figures: whose programme
        the report shows."""
        if self.complex is not None:
            key = ("misc.complex_represented" if self.represented else
                   "misc.complex_on_own" if bool(self.inst["on_own"]) else "misc.complex_member")
            return [html.paragraph(self.t(key, complex=self.complex_text()), "zpb-note")]
        if self.members is not None:
            return [html.paragraph(self.t("misc.complex_intro") if len(self.members) else
                                   self.t("misc.complex_no_members"), "zpb-note")]
        return []

    def complex_members(self) -> html.Html:
        """A complex's schools: whether each takes part with it or on its own, and its status."""
        if self.members is None or self.members.empty:
            return html.Html("")
        statuses = self.names("status")

        def takes_part(r: dict) -> str:
            if r["represented"]:
                return self.t("misc.with_complex")
            return self.t("misc.on_own") if r["on_own"] else statuses.get(r["own_status"], r["own_status"])

        def status(r: dict) -> str:
            text = statuses.get(r["status"], r["status"])
            return self.t("misc.status_via_complex", status=text) if r["via_complex"] else text

        m = self.with_identifier(self.members)
        cols = {"name": self.t("col.institution"), "identifier": self.t("col.identifier"),
                f"kind_{self.lang}": self.t("col.kind"),
                "part": html.Column(self.t("col.takes_part"), takes_part, row=True),
                "st": html.Column(self.t("col.status"), status, row=True)}
        return html.table(m, cols, caption=self.t("section.complex_members"), lang=self.lang,
                          footnotes=self.register_note(m))

    def _decision(self, r: dict) -> str:
        if r["kind"] == "control":
            return self.t("decision.positive" if r["granted"] else "decision.negative")
        if r["granted"]:
            return f"{self.t('decision.granted')}: {self.names('award').get(r['award_kind'], r['award_kind'])}"
        return f"{self.t('decision.refused')} ({self.reasons(r['reasons'], r['catalogue'])})"

    def _latest(self) -> pd.Series | None:
        """The audit this report explains, the one the gap list speaks of: this edition's audit (an
        award audit before a control one), else the latest award audit, else the latest control —
        the complex's for a school taking part with it."""
        return explained_audit(self.audits, self.edition)

    def audit_result(self) -> html.Html:
        a = self._latest()
        if a is None:
            return self.section("audit_result", html.paragraph(self.t("misc.not_audited")))
        items = self.cube.table("audit_items", audit_id=int(a["audit_id"])).sort_values("order")
        title_col = f"title_{self.lang}"
        items["label"] = items["criterion"] + " " + items[title_col]
        chart = charts.criteria_points(items, self.t("chart.criteria_title", edition=a["edition"],
                                                     kind=self.names("audit_kind").get(a["kind"], a["kind"])),
                                       lang=self.lang)
        return self.section("audit_result", html.paragraph(self.audit_summary(a)), chart, self.criteria_table(a, items))

    def audit_summary(self, a: pd.Series) -> str:
        """"Audyt z 29.05.2026: 33 z 35 pkt. Decyzja: …"."""
        return self.t("misc.audit_summary", date=fmt.date(a["audit_date"], self.lang),
                      total=fmt.integer(a["total"], self.lang), max=fmt.integer(a["max_total"], self.lang),
                      decision=self._decision(a.to_dict()))

    def criteria_table(self, a: pd.Series, items: pd.DataFrame, *, lost: bool = False) -> html.Html:
        """The audit's points per criterion (``lost``: with the points lost per criterion)."""
        title_col = f"title_{self.lang}"
        areas = {ar.id: getattr(ar, title_col) for ar in self.ref.catalogues[a["catalogue"]].areas}
        ints = lambda v: fmt.integer(v, self.lang)  # noqa: E731
        cols: dict = {"criterion": self.t("col.criterion"), title_col: self.t("col.description"),
                      "area": (self.t("col.area"), lambda v: areas.get(v, v)),
                      "points": (self.t("col.points"), ints), "max_points": (self.t("col.max_points"), ints)}
        if lost:
            cols["lost"] = (self.t("col.points_lost"), ints)
        cols["mandatory"] = (self.t("col.mandatory"), lambda v: self.t("misc.yes") if v else "")
        return html.table(items, cols, numeric=("points", "max_points", "lost") if lost else ("points", "max_points"),
                          lang=self.lang,
                          caption=self.t("misc.criteria_table_caption", catalogue=self.catalogue_label(a["catalogue"])))

    def gaps(self) -> html.Html:
        """What the explained audit means for the next stage: what is missing for the next award,
        that every stage is reached (the leader title), or for a control audit what it confirmed and
        what keeps the status; "not audited" only when there is no audit at all (the complex's
        programme for a school taking part with it)."""
        steps = self.cube.table("next_steps", institution_id=self.programme_id)
        if steps.empty:
            return self.section("gap_list", html.paragraph(self.t("misc.not_audited")))
        s = steps.iloc[0]
        heading = self.t("section.control_result" if s["case"] == "control" else "section.next_step")
        items = self.cube.table("audit_items", audit_id=int(s["audit_id"]))
        order = [c for c in str(s["gap_criteria"] or "").split(",") if c]
        gl = items.set_index("criterion").loc[order].reset_index() if order else items.iloc[0:0]
        title_col = f"title_{self.lang}"
        cols = {"criterion": self.t("col.criterion"), title_col: self.t("col.description"),
                "points": (self.t("col.points"), lambda v: fmt.integer(v, self.lang)),
                "max_points": (self.t("col.max_points"), lambda v: fmt.integer(v, self.lang)),
                "lost": (self.t("col.points_lost"), lambda v: fmt.integer(v, self.lang))}
        step = html.paragraph(s[f"text_{self.lang}"], "zpb-note")
        return self.section("gap_list", html.heading(heading, 3), step,
                            html.table(gl, cols, numeric=("points", "max_points", "lost"), lang=self.lang,
                                       caption=self.t("misc.gap_caption")))

    def indicators(self) -> html.Html:
        """Each group's indicators in the follow-up wave with the change since the baseline; a group
        with only the baseline so far (the autumn diagnosis, most of a school year) shows the
        baseline, labelled so, beside the county's and the voivodeship's baseline."""
        cmp = [("county", self.teryt, self.county_label), ("voivodeship", "12", self.t("col.voivodeship"))]
        key = str(self.programme_id)
        waves = {g: self.survey_wave("institution", key, g) for g in ("students", "parents", "teachers")}
        if not any(waves.values()):
            return self.section("survey_indicators", html.paragraph(self.t("misc.no_survey")))
        parts = [html.paragraph(self.indicators_intro(set(waves.values())))]
        if self.pooled:
            parts.append(html.paragraph(self.t("misc.survey_complex"), "zpb-note"))
        chart_group = next(g for g, w in waves.items() if w)
        me = self.t("misc.this_complex" if self.pooled else "misc.this_institution")
        parts.append(self.compare_chart([("institution", key, me)] + cmp, chart_group,
                                        self.t("chart.indicators_title", group=self.t(f"group.{chart_group}").lower(),
                                               name=self.inst["name"]), wave=waves[chart_group]))
        for group, wave in waves.items():
            if wave is None:
                continue
            # The heading names the group; the caption says which survey the table holds.
            parts.append(html.heading(self.cap(self.t(f"group.{group}")), 3))
            parts.append(self.indicator_table("institution", key, group, cmp, caption=self.wave_caption(wave),
                                              wave=wave))
        return self.section("survey_indicators", *parts)

    def places(self) -> html.Html:
        """The places named most often in the follow-up, else in the baseline; shares of the
        respondents who answered the question (n shown), „Nowhere” answers included."""
        p = self.cube.table("places", level="institution", key=str(self.programme_id), edition=self.edition)
        wave = next((w for w in ("follow-up", "baseline") if (p["wave"] == w).any()), None)
        if wave is None:
            return self.section("dangerous_places", html.paragraph(self.t("misc.no_survey")))
        p = p[p["wave"] == wave]
        # All respondents when published; else the first group with figures shown, else with answers.
        published = [g for g in ("all", "students", "parents", "teachers") if p.loc[p["group"] == g, "p"].notna().any()]
        answered = [g for g in ("students", "parents", "teachers") if (p["group"] == g).any()]
        group = (published or answered)[0]
        p = p[p["group"] == group].sort_values(["rank", "place"])
        p["title"] = [self.place_title(c) for c in p["place"]]
        shown = p.dropna(subset=["p"])
        title = self.t("chart.places_title", group=self.t(f"group.{group}").lower())
        if wave != "follow-up":
            title = f"{title}, {self.t(f'wave_long.{wave}')}"
        chart = (charts.bar_chart(pd.Series(shown["p"].to_numpy(), index=shown["title"]), title,
                                  as_percent=True, lang=self.lang) if len(shown) else html.Html(""))
        cols = {"rank": (self.t("col.rank"), lambda v: fmt.integer(v, self.lang)), "title": self.t("col.place"),
                "p": (self.t("col.value"), lambda v: fmt.percent(v, 1, self.lang)),
                "n": (self.t("col.respondents"), lambda v: fmt.integer(v, self.lang))}
        n = fmt.integer(p["n"].iloc[0], self.lang) if len(p) else fmt.MISSING
        caption = self.t("misc.places_caption", group=self.t(f"group.{group}"),
                         wave=f"{self.t(f'wave_long.{wave}')} {self.edition}")
        return self.section("dangerous_places", chart,
                            html.table(p, cols, numeric=("rank", "p", "n"), lang=self.lang,
                                       footnotes=[self.t("misc.places_note", n=n)] + self.suppressed_note(p),
                                       caption=caption))

    def plan(self) -> html.Html:
        p = self.cube.table("plan", institution_id=self.programme_id)
        if p.empty:
            return self.section("action_plan", html.paragraph(self.t("misc.no_plan")))
        statuses = ["planned", "in_progress", "done", "dropped"]
        parts = []
        for dim, prefix, col in (("area", "action_area", "col.area"), ("kind", "action_kind", "col.action_kind"),
                                 ("partner_kind", "partner", "col.partner")):
            t = p.pivot_table(index=dim, columns="status", values="items", aggfunc="sum", fill_value=0)
            t = t.reindex(columns=statuses, fill_value=0)
            t["total"] = t.sum(axis=1)
            t["done_share"] = t["done"] / t["total"]
            t = t.reset_index()
            names = self.names(prefix)
            cols = {dim: (self.t(col), lambda v, n=names: n.get(v, v)),
                    **{s: (self.t(f"col.{s}"), lambda v: fmt.integer(v, self.lang)) for s in statuses},
                    "total": (self.t("col.total"), lambda v: fmt.integer(v, self.lang)),
                    "done_share": (self.t("col.done_share"), lambda v: fmt.percent(v, 0, self.lang))}
            parts.append(html.table(t, cols, numeric=(*statuses, "total", "done_share"), lang=self.lang,
                                    caption=self.t("misc.plan_caption", by=self.t(col).lower())))
        total = p["items"].sum()
        done = p.loc[p["status"] == "done", "items"].sum()
        summary = self.t("misc.plan_summary", done=fmt.integer(done, self.lang), total=fmt.integer(total, self.lang),
                         share=fmt.percent(done / total if total else None, 0, self.lang))
        return self.section("action_plan", html.paragraph(summary), *parts)
