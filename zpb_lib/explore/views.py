"""HTML of the explorer's views, built from the report primitives (labels, formats, safe tables,
the county map) so that the explorer speaks the reports' language and shows survey figures exactly
as they do: suppressed values as "—" with the footnote.

Functions here take data and return :class:`~zpb_lib.report.html.Html`; the widgets live in
:mod:`zpb_lib.explore.app`.
"""
from __future__ import annotations

from typing import Any

import pandas as pd

from zpb_lib.core import fmt
from zpb_lib.report import html
from zpb_lib.domain.labels import label, labels_for, reasons_text
from zpb_lib.report.school import SchoolReport

# Scoped to the explorer: JupyterLab gives widget HTML no table or tile styles of its own.
CSS = """
<style>
.zpb-explorer { --zpb-line:#c4c9d0; --zpb-head:#e8edf3; --zpb-zebra:#f5f7fa; --zpb-accent:#17426b;
  --zpb-muted:#4d4d4d; color:#1a1a1a; font-size:13px; }
.zpb-explorer .zpb-x-head h2 { color:var(--zpb-accent); margin:0.2em 0 0.1em; font-size:1.35em; }
.zpb-explorer .zpb-x-head p { margin:0.1em 0 0.4em; color:var(--zpb-muted); }
.zpb-explorer .zpb-banner { margin:0.3em 0 0.6em; padding:0.45em 0.8em; background:#a4001d; color:#fff;
  font-weight:700; border:2px solid #5c0010; border-radius:0.25rem; }
.zpb-explorer .zpb-x-head .zpb-banner p { margin:0; color:#fff; }
.zpb-explorer .widget-html-content { line-height:1.4; }
.zpb-explorer dt, .zpb-explorer dd { float:none; width:auto; padding:0; }
.zpb-explorer .zpb-tile-label { font-weight:normal; }
.zpb-explorer .widget-tab > .lm-TabBar .lm-TabBar-tab { flex:0 0 auto; min-width:9em; }
.zpb-explorer .zpb-key-figures { display:grid; grid-template-columns:repeat(auto-fill, minmax(10em, 1fr));
  gap:0.5em; margin:0.4em 0 0.6em; }
.zpb-explorer .zpb-x-tiles .zpb-tile:last-child { grid-column:span 2; }
.zpb-explorer .zpb-tile { margin:0; padding:0.45em 0.7em; border:1px solid var(--zpb-line);
  border-top:4px solid var(--zpb-accent); border-radius:0.2rem; background:#fff; }
.zpb-explorer .zpb-tile dt, .zpb-explorer .zpb-tile dd { margin:0; }
.zpb-explorer .zpb-tile-label { color:var(--zpb-muted); font-size:0.92em; line-height:1.25; }
.zpb-explorer .zpb-tile-value { font-size:1.45em; font-weight:700; color:var(--zpb-accent); line-height:1.25; }
.zpb-explorer .zpb-tile-note { color:var(--zpb-muted); font-size:0.85em; line-height:1.25; }
.zpb-explorer .zpb-x-scope { margin:0.2em 0 0; color:var(--zpb-muted); }
.zpb-explorer table { border-collapse:collapse; margin:0.3em 0 0.8em; font-variant-numeric:tabular-nums; }
.zpb-explorer caption { caption-side:top; text-align:left; font-weight:700; padding:0 0 0.3em; }
.zpb-explorer th, .zpb-explorer td { padding:0.22em 0.5em; border-bottom:1px solid var(--zpb-line);
  text-align:left; vertical-align:top; }
.zpb-explorer thead th { background:var(--zpb-head); border-bottom:2px solid var(--zpb-accent);
  vertical-align:bottom; }
.zpb-explorer tbody th { font-weight:normal; }
.zpb-explorer tbody tr:nth-child(even) { background:var(--zpb-zebra); }
.zpb-explorer .zpb-num { text-align:right; white-space:nowrap; }
.zpb-explorer th.zpb-num { white-space:normal; }
.zpb-explorer .zpb-x-table tbody th { min-width:14em; }
.zpb-explorer td.zpb-missing { color:var(--zpb-muted); }
.zpb-explorer .zpb-table-wrap { overflow-x:auto; }
.zpb-explorer .zpb-footnotes { font-size:0.9em; color:var(--zpb-muted); }
.zpb-explorer .zpb-footnote { margin:0.1em 0; }
.zpb-explorer h2.zpb-heading { font-size:1.2em; color:var(--zpb-accent); margin:0.9em 0 0.3em; }
.zpb-explorer h3.zpb-heading { font-size:1.05em; color:var(--zpb-accent); margin:0.7em 0 0.2em; }
.zpb-explorer .zpb-dl { display:grid; grid-template-columns:max-content 1fr; gap:0.1em 1em; margin:0.3em 0; }
.zpb-explorer .zpb-dl dt { color:var(--zpb-muted); } .zpb-explorer .zpb-dl dd { margin:0; }
.zpb-explorer .zpb-note { margin:0.5em 0; padding:0.4em 0.7em; background:#fff7dc; border-left:4px solid #8a6100; }
.zpb-explorer .zpb-mark-better { color:#176b25; font-weight:700; }
.zpb-explorer .zpb-mark-worse { color:#a4001d; font-weight:700; }
.zpb-explorer .zpb-sr-only { position:absolute; width:1px; height:1px; overflow:hidden; clip:rect(0 0 0 0); }
.zpb-explorer .zpb-legend { font-size:0.9em; color:var(--zpb-muted); }
.zpb-explorer figure { margin:0.3em 0; } .zpb-explorer figure img { max-width:100%; height:auto; }
.zpb-explorer figcaption { font-size:0.9em; color:var(--zpb-muted); }
.zpb-explorer .zpb-x-flip-gain { color:#176b25; font-weight:700; }
.zpb-explorer .zpb-x-flip-loss { color:#a4001d; font-weight:700; }
.zpb-explorer .zpb-x-status { color:var(--zpb-muted); min-height:1.4em; }
.zpb-explorer .widget-dropdown > select { font-size:13px; }
</style>
"""


def header(title: str, subtitle: str, banner: str | None) -> html.Html:
    parts = [html.banner(banner, "synthetic") if banner else None,
             html.Html(f"<h2>{html.esc(title)}</h2>"), html.paragraph(subtitle)]
    return html.Html(f'<div class="zpb-x-head">{html.concat(*parts)}</div>')


def decision_text(r: dict[str, Any], lang: str, short: bool = True) -> str:
    """"przyznano: certyfikat" / "nie przyznano (brakuje 2 pkt do progu)" / "pozytywny"."""
    if fmt.is_missing(r.get("kind")):
        return fmt.MISSING
    if r["kind"] == "control":
        return label("decision.positive" if r["granted"] else "decision.negative", lang)
    awards = labels_for("award", lang)
    if r["granted"]:
        return f"{label('decision.granted', lang)}: {awards.get(r['award_kind'], r['award_kind'])}"
    return f"{label('decision.refused', lang)} ({reasons_text(r.get('reasons'), lang)})"


class Detail(SchoolReport):
    """The drill-down of one institution: the school report's sections for status and timeline
    and for the gap list, and compact versions (tables, no charts) of the audit result and of the
    survey indicators, so that choosing an institution is quick."""

    def heading(self) -> html.Html:
        return html.concat(html.heading(self.inst["name"], 2), html.paragraph(" · ".join(self.subtitle_parts())))

    def audit_result(self) -> html.Html:
        a = self._latest()
        if a is None:
            return self.section("audit_result", html.paragraph(self.t("misc.not_audited")))
        items = self.cube.table("audit_items", audit_id=int(a["audit_id"])).sort_values("order")
        kind = self.names("audit_kind").get(a["kind"], a["kind"])
        return self.section("audit_result", html.paragraph(f"{kind} ({a['edition']}). {self.audit_summary(a)}"),
                            self.criteria_table(a, items, lost=True))

    def indicators(self) -> html.Html:
        """The school report's indicator tables without the chart: per group the follow-up, or the
        baseline while it is the only survey of the edition."""
        cmp = [("county", self.teryt, self.county_label), ("voivodeship", "12", self.t("col.voivodeship"))]
        key = str(self.programme_id)  # a school taking part with its complex: the complex's surveys
        waves = {g: self.survey_wave("institution", key, g) for g in ("students", "parents", "teachers")}
        if not any(waves.values()):
            return self.section("survey_indicators", html.paragraph(self.t("misc.no_survey")))
        parts = [html.paragraph(self.indicators_intro(set(waves.values())))]
        if self.pooled:
            parts.append(html.paragraph(self.t("misc.survey_complex"), "zpb-note"))
        for group, wave in waves.items():
            if wave is not None:
                parts.append(self.indicator_table("institution", key, group, cmp, wave=wave,
                                                  caption=f"{self.t(f'group.{group}')} — {self.wave_caption(wave)}"))
        return self.section("survey_indicators", *parts)

    def render(self) -> html.Html:
        return html.concat(self.heading(), self.status(), self.audit_result(), self.gaps(), self.indicators())


def arrow(a: str, b: str, lang: str) -> str:
    return a if a == b else label("explore.arrow", lang, a=a, b=b)


def flips_table(flips: pd.DataFrame, lang: str, county_names: dict[str, str]) -> html.Html:
    """Audits whose decision changes under the scenario: points, threshold and decision before and
    after, and the reasons under the scenario."""
    kinds = labels_for("audit_kind", lang)
    yes, no = label("decision.granted", lang), label("decision.refused", lang)

    def decision(r: dict, side: str) -> str:
        if r["kind"] == "control":
            return label("decision.positive" if r[f"granted_{side}"] else "decision.negative", lang)
        return yes if r[f"granted_{side}"] else no

    def change(r: dict) -> html.Html:
        gain = bool(r["granted_after"])
        cls = "zpb-x-flip-gain" if gain else "zpb-x-flip-loss"
        text = arrow(decision(r, "before"), decision(r, "after"), lang)
        return html.Html(f'<span class="{cls}">{html.esc(("▲ " if gain else "▼ ") + text)}</span>')

    cols = {
        "name": label("col.institution", lang),
        "identifier": label("col.identifier", lang),
        "county": (label("col.county", lang), lambda v: county_names.get(v, v)),
        "kind": (label("col.audit_kind", lang), lambda v: kinds.get(v, v)),
        "pts": html.Column(label("col.points", lang), lambda r: arrow(
            f"{fmt.integer(r['total_before'], lang)}/{fmt.integer(r['max_total_before'], lang)}",
            f"{fmt.integer(r['total_after'], lang)}/{fmt.integer(r['max_total_after'], lang)}", lang),
            numeric=True, row=True),
        "thr": html.Column(label("col.threshold", lang), lambda r: arrow(
            fmt.integer(r["threshold_before"], lang), fmt.integer(r["threshold_after"], lang), lang),
            numeric=True, row=True),
        "dec": html.Column(label("col.decision", lang), change, row=True),
        "why": html.Column(label("explore.reasons", lang), lambda r: reasons_text(r["reasons_after"], lang) if not r["granted_after"] else "",
                           row=True),
    }
    notes = [label("footnote.not_in_register", lang)] if flips["identifier"].str.endswith("*").any() else []
    return html.table(flips, cols, lang=lang, row_header="name", footnotes=notes,
                      caption=label("explore.whatif_flips", lang, n=fmt.integer(len(flips), lang)))

