"""The explorer's what-if tab: thresholds and maxima set by the analyst, and the awards that
would change under them.

A part of :class:`zpb_lib.explore.app.Explorer`, which holds the state these methods share."""
from __future__ import annotations


import ipywidgets as W

from zpb_lib.core import fmt
from zpb_lib.report import html
from zpb_lib.domain.labels import LABELS, county_name, labels_for
from zpb_lib.domain.edition_data import (polish_key)
from zpb_lib.report.base import identifier_cells
from zpb_lib.explore.views import flips_table
from zpb_lib.explore.whatif import Scenario, award_counts, per_county

class WhatIfPanel:
    """The what-if tab of the explorer."""

    # ------------------------------------------------------------------ what-if
    def _build_whatif_controls(self, edition: str) -> None:
        """Threshold and criterion-maximum fields for the rules and catalogues in force in
        ``edition``, one tab per institution family."""
        self._wi_rules: dict[tuple[str, str], tuple[W.BoundedIntText, int]] = {}
        self._wi_control: dict[str, tuple[W.BoundedIntText, int]] = {}
        self._wi_maxima: dict[tuple[str, str], tuple[W.BoundedIntText, int]] = {}
        awards, audits = labels_for("award", self.lang), labels_for("audit_kind", self.lang)
        boxes, titles = [], []
        for fam in self.whatif.families():
            try:
                rs = self.whatif.rule_set(fam, edition)
                cat = self.whatif.catalogue(fam, edition)
            except KeyError:
                continue
            fields = []
            for name, rule in rs.awards.items():
                w = W.BoundedIntText(value=rule.min_points, min=0, max=999,
                                     description=f"{awards.get(rule.award_kind, rule.award_kind)} — "
                                                 f"{audits.get(rule.audit, rule.audit)}",
                                     style={"description_width": "initial"}, layout=W.Layout(width="auto"))
                self._wi_rules[(fam, name)] = (w, rule.min_points)
                fields.append(w)
            w = W.BoundedIntText(value=rs.control_min_points, min=0, max=999,
                                 description=self.t("explore.whatif_control"), style={"description_width": "initial"},
                                 layout=W.Layout(width="auto"))
            self._wi_control[fam] = (w, rs.control_min_points)
            fields.append(w)
            crit = []
            for c in cat.criteria:
                cw = W.BoundedIntText(value=c.max_points, min=1, max=99, description=c.id,
                                      description_allow_html=False, tooltip=getattr(c, f"title_{self.lang}"),
                                      layout=W.Layout(width="7.5em"), style={"description_width": "2.6em"})
                self._wi_maxima[(cat.key, c.id)] = (cw, c.max_points)
                crit.append(cw)
            head = self.t("explore.whatif_family", family=self.t(f"family.{fam}").capitalize(), source=rs.source,
                          catalogue=cat.key, max=fmt.integer(cat.max_total, self.lang))
            legend = "; ".join(f"{c.id} {getattr(c, f'title_{self.lang}')} ({c.max_points})" for c in cat.criteria)
            boxes.append(W.VBox([W.HTML(html.paragraph(head)),
                                 W.HTML(html.heading(self.t("explore.whatif_thresholds"), 3)),
                                 W.HBox(fields, layout=W.Layout(flex_flow="row wrap")),
                                 W.HTML(html.heading(self.t("explore.whatif_maxima"), 3)),
                                 W.HBox(crit, layout=W.Layout(flex_flow="row wrap")),
                                 W.HTML(html.paragraph(legend, "zpb-legend"))]))
            titles.append(self.t(f"explore.families.{fam}") if f"explore.families.{fam}" in LABELS
                          else self.t(f"family.{fam}").capitalize())
        family_tabs = W.Tab(children=boxes)
        for i, title in enumerate(titles):
            family_tabs.set_title(i, title)
        for w, _ in [*self._wi_rules.values(), *self._wi_control.values(), *self._wi_maxima.values()]:
            w.observe(self._on_whatif, "value")
        self.whatif_controls.children = [family_tabs]

    def _on_whatif(self, change: dict) -> None:
        if self._holding:
            return
        self._invalidate("whatif")

    def set_threshold(self, family: str, rule: str, value: int) -> None:
        self._wi_rules[(family, rule)][0].value = int(value)

    def set_control_threshold(self, family: str, value: int) -> None:
        self._wi_control[family][0].value = int(value)

    def set_maximum(self, catalogue: str, criterion: str, value: int) -> None:
        self._wi_maxima[(catalogue, criterion)][0].value = int(value)

    def reset_whatif(self) -> None:
        with self._hold():
            for w, original in [*self._wi_rules.values(), *self._wi_control.values(), *self._wi_maxima.values()]:
                w.value = original
        self._invalidate("whatif")

    def scenario(self) -> Scenario:
        """The what-if fields that differ from the rules in force."""
        return Scenario.of(
            thresholds={k: w.value for k, (w, v) in self._wi_rules.items() if w.value != v},
            control={k: w.value for k, (w, v) in self._wi_control.items() if w.value != v},
            maxima={k: w.value for k, (w, v) in self._wi_maxima.items() if w.value != v})

    def _render_whatif(self) -> None:
        sel = self.selection
        scenario = self.scenario()
        outcome = self.whatif.run(sel.edition, scenario)
        a = outcome.audits
        mask = self.data().geo_mask(a, sel)
        if sel.kind:
            mask &= a["institution_id"].map(self._inst_kind) == sel.kind
        inst = self.data().cube.frame("institutions").set_index("id")
        # People read these rows (and analysts this frame): the identifiers, not the internal id.
        a = a[mask].assign(**{c: lambda d, c=c: d["institution_id"].map(inst[c]) for c in ("name", "ident")})
        a = a.assign(identifier=identifier_cells(a.assign(polon=a["institution_id"].map(inst["polon"]),
                                                          in_register=a["institution_id"].map(inst["in_register"]))))
        a = a.drop(columns="institution_id")
        self.whatif_audits = a
        lang = self.lang
        parts = [self._scenario_text(scenario)]
        for fam, rule, value, mx in outcome.warnings:
            name = self.t("explore.whatif_control") if rule == "control" else self._rule_label(fam, rule)
            parts.append(html.paragraph(self.t("explore.whatif_warning", rule=name, value=value, max=mx), "zpb-note"))
        if a.empty:
            parts.append(html.paragraph(self.t("explore.whatif_no_audits")))
            self.whatif_view.value = html.concat(*parts)
            return
        counts = award_counts(a).reset_index(names="what")
        names = labels_for("award_full", lang)
        counts["what"] = [self.t("explore.whatif_positive_controls") if k == "control" else names.get(k, k)
                          for k in counts["what"]]
        n = (lambda v: fmt.integer(v, lang))
        parts.append(html.table(counts, {"what": self.t("col.award"),
                                         "before": (self.t("explore.whatif_before"), n),
                                         "after": (self.t("explore.whatif_after"), n),
                                         "change": (self.t("explore.whatif_change"), lambda v: fmt.signed(v, 0, lang))},
                                numeric=("before", "after", "change"), row_header="what", lang=lang,
                                caption=self.t("explore.whatif_counts", scope=self.scope_text())))
        flips = a[a["flipped"]].copy()
        county_names = {t: county_name(t, lang, self.ref) for t in self.ref.counties}
        if flips.empty:
            parts.append(html.paragraph(self.t("explore.whatif_no_flips")))
        else:
            flips = flips.sort_values(["granted_after", "county", "name"], key=lambda s: s.map(polish_key)
                                      if s.name == "name" else s)
            parts.append(flips_table(flips, lang, county_names))
        pc = per_county(a)
        pc["county_name"] = pc["county"].map(county_names)
        pc = pc.sort_values("county_name", key=lambda s: s.map(lambda x: polish_key(x.replace("m. ", "").replace(
            "powiat ", ""))))
        parts.append(html.table(pc, {"county_name": self.t("col.county"), "audits": (self.t("col.audits"), n),
                                     "before": (self.t("explore.whatif_before"), n),
                                     "after": (self.t("explore.whatif_after"), n),
                                     "change": (self.t("explore.whatif_change"), lambda v: fmt.signed(v, 0, lang))},
                                numeric=("audits", "before", "after", "change"), row_header="county_name", lang=lang,
                                caption=self.t("explore.whatif_per_county")))
        self.whatif_view.value = html.concat(*parts)

    def _rule_label(self, family: str, name: str) -> str:
        w = self._wi_rules.get((family, name))
        return w[0].description if w else name

    def _scenario_text(self, scenario: Scenario) -> html.Html:
        if scenario.empty:
            return html.paragraph(self.t("explore.whatif_none"))
        changes = []
        for fam, name, value in scenario.thresholds:
            changes.append(self.t("explore.whatif_threshold_change", rule=self._rule_label(fam, name), new=value,
                                  old=self._wi_rules[(fam, name)][1]))
        for fam, value in scenario.control:
            changes.append(self.t("explore.whatif_threshold_change", rule=self.t("explore.whatif_control"), new=value,
                                  old=self._wi_control[fam][1]))
        for cat, crit, value in scenario.maxima:
            changes.append(self.t("explore.whatif_max_change", criterion=f"{crit} ({cat})", new=value,
                                  old=self._wi_maxima[(cat, crit)][1]))
        return html.paragraph(self.t("explore.whatif_changes", changes="; ".join(changes)), "zpb-note")
