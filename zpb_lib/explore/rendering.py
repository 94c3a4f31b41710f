"""The explorer's views drawn from the selection: header, key-figure tiles, the table of
institutions, the map, the institution's detail and its action plan.

A part of :class:`zpb_lib.explore.app.Explorer`, which holds the state these methods share."""
from __future__ import annotations

from typing import Any

import pandas as pd

from zpb_lib.core import fmt
from zpb_lib.report import html, maps
from zpb_lib.domain.labels import county_name, labels_for
from zpb_lib.domain.edition_data import (IN_EDITION, PERCENT_MEASURES, SURVEY,
                   EditionData, Selection, polish_key)
from zpb_lib.reference.identifiers import label as identifier_label
from zpb_lib.reference.identifiers import parse_identifier
from zpb_lib.report.base import identifier_cells, not_in_register
from zpb_lib.explore.views import Detail, decision_text, header
from zpb_lib.explore.controls import MEASURE_LABELS, TABS


class Views:
    """The views of the explorer, drawn when their tab is visible."""

    # ------------------------------------------------------------------ rendering
    def _invalidate(self, *views: str) -> None:
        self._dirty.update(views)
        self._render_visible()

    def _visible(self, view: str) -> bool:
        tab = {"table": "table", "map": "map", "options": "detail", "detail": "detail", "whatif": "whatif"}.get(view)
        return tab is None or self.tabs.selected_index == TABS.index(tab)

    def _render_visible(self) -> None:
        for view in ("header", "tiles", "table", "map", "options", "detail", "whatif", "actions"):
            if view in self._dirty and self._visible(view):
                self._dirty.discard(view)
                try:
                    getattr(self, f"_render_{view}")()
                except Exception as exc:
                    # In JupyterLab a callback's exception only reaches the log console: say it here.
                    self.message.value = html.paragraph(f"{type(exc).__name__}: {exc}", "zpb-note")
                    raise

    def _render_header(self) -> None:
        e = self.ref.edition(self.edition.value)
        d = self.data()
        sub = (f"{self.t('title.programme')} · {self.t('title.edition', name=e.label)} · "
               f"{self.t('misc.as_of', date=fmt.date(d.cube.meta['as_of'], self.lang))}")
        banner = self.t("banner.synthetic") if self.synthetic else None
        self.header.value = header(self.t("explore.title"), sub, banner)

    def _render_tiles(self) -> None:
        d = self.data()
        sel = self.selection
        me = d.key_figures(sel)
        compare = bool(sel.county or sel.police_unit)
        voiv = d.key_figures(Selection(sel.edition, kind=sel.kind)) if compare else None
        n, pct = (lambda v: fmt.integer(v, self.lang)), (lambda v: fmt.percent(v, 1, self.lang))

        def vs(key: str, show: Any) -> str | None:
            return self.t("kf.vs_voivodeship", value=show(voiv[key])) if voiv is not None else None

        in_table = html.KeyFigure(self.t("explore.in_table"), n(len(d.rows(sel))),
                                  labels_for("status", self.lang).get(sel.status) or self.t(
                                      "explore.status_in_edition" if sel.status == IN_EDITION else "explore.status_all"))
        # The survey tile comes last: its label is long, the CSS gives it two columns.
        items = [html.KeyFigure(self.t("kf.institutions"), n(me["institutions"])),
                 html.KeyFigure(self.t("kf.participating"), n(me["participating"])),
                 html.KeyFigure(self.t("kf.participation_rate"), pct(me["participation_rate"]),
                                vs("participation_rate", pct)),
                 html.KeyFigure(self.t("kf.valid_awards"), n(me["valid_awards"])),
                 html.KeyFigure(self.t("kf.leaders"), n(me["leaders"])),
                 html.KeyFigure(self.t("kf.audits"), n(me["audits"])),
                 html.KeyFigure(self.t("kf.granted"), n(me["granted"])),
                 html.KeyFigure(self.t("col.mean_share"), pct(me["mean_share"]), vs("mean_share", pct)),
                 in_table, self._survey_tile(d, sel)]
        self.tiles.value = html.concat(html.paragraph(self.scope_text(), "zpb-x-scope"), html.key_figures(items))

    def _survey_tile(self, d: EditionData, sel: Selection) -> html.KeyFigure:
        ind, group = self.survey_indicator, self.group.value
        title = self.t("explore.survey_tile", indicator=getattr(self.ref.indicators[ind], f"title_{self.lang}"),
                       group=self.t(f"group.{group}"))
        where = d.survey_for(sel, ind, group)
        if where is None:
            return html.KeyFigure(title, fmt.MISSING, self.t("explore.survey_tile_unit"))
        level, key = where
        rows = d.survey(level, ind, group)
        row = rows[rows["key"] == key]
        if row.empty:
            return html.KeyFigure(title, fmt.MISSING, self.t("misc.no_data"))
        r = row.iloc[0]
        if pd.notna(r["suppressed"]) or pd.isna(r["p"]):
            return html.KeyFigure(title, fmt.MISSING, self.t("footnote.suppressed", threshold=d.threshold))
        note = self.t("explore.survey_tile_note", ci=fmt.interval(r["lo"], r["hi"], 1, self.lang),
                      n=fmt.integer(r["n"], self.lang))
        if sel.kind:
            note += "; " + self.t("explore.survey_tile_kinds")
        return html.KeyFigure(title, fmt.percent(r["p"], 1, self.lang), note)

    def _render_table(self) -> None:
        rows = self.table_rows()
        total = len(rows)
        pages = max(1, -(-total // self.page_size))
        self.page = min(self.page, pages - 1)
        first = self.page * self.page_size
        page = rows.iloc[first:first + self.page_size]
        shown = (self.t("explore.rows", first=fmt.integer(first + 1, self.lang),
                        last=fmt.integer(first + len(page), self.lang), total=fmt.integer(total, self.lang))
                 if total else self.t("explore.no_rows"))
        self.page_label.value = html.paragraph(shown)
        self.prev_button.disabled = self.page == 0
        self.next_button.disabled = self.page >= pages - 1
        self.table.value = self.render_table(page, caption=f"{self.t('explore.table_caption', scope=self.scope_text())}: "
                                                           f"{shown}")

    def render_table(self, rows: pd.DataFrame, caption: str) -> html.Html:
        lang = self.lang
        statuses = labels_for("status", lang)
        kinds = labels_for("audit_kind", lang)
        ind = getattr(self.ref.indicators[self.survey_indicator], f"title_{lang}")
        survey_head = self.t("explore.survey_column", indicator=ind, group=self.t(f"group.{self.group.value}").lower())

        def valid(r: dict) -> str:
            if r["status"] == "leader":
                return self.t("misc.indefinite")
            return fmt.date(r["valid_until"], lang) if r["status"] in ("certified", "extended") else ""

        def decision(r: dict) -> str:
            audit = {"kind": r["audit_kind"], "granted": r["audit_granted"], "award_kind": r["audit_award_kind"],
                     "reasons": r["audit_reasons"]}
            return decision_text(audit, lang)

        rows = rows.assign(identifier=identifier_cells(rows))
        cols = {
            "name": self.t("col.institution"),
            "identifier": self.t("col.identifier"),
            "county_name": html.Column(self.t("col.county"), lambda r: county_name(r["county"], lang, self.ref), row=True),
            # (dropped below when one county is selected: every row would repeat it)
            f"kind_{lang}": self.t("col.kind"),
            "status": html.Column(self.t("col.status"), lambda r: self._status_text(r, statuses), row=True),
            "valid": html.Column(self.t("col.valid_until"), valid, row=True),
            "audit_kind": (self.t("explore.audit_column"), lambda v: kinds.get(v, v) if not fmt.is_missing(v) else ""),
            "pts": html.Column(self.t("col.points"), lambda r: "" if fmt.is_missing(r["audit_total"]) else
                               f"{fmt.integer(r['audit_total'], lang)} / {fmt.integer(r['audit_max_total'], lang)}",
                               numeric=True, row=True),
            "thr": html.Column(self.t("col.threshold"), lambda r: "" if fmt.is_missing(r["audit_threshold"])
                               else fmt.integer(r["audit_threshold"], lang), numeric=True, row=True),
            "dec": html.Column(self.t("col.decision"), lambda r: "" if fmt.is_missing(r["audit_kind"]) else decision(r),
                               row=True),
            "survey": html.Column(survey_head, lambda r: self._survey_cell(r), numeric=True, row=True),
        }
        if self.selection.county:
            del cols["county_name"]
        notes = []
        if rows["survey_suppressed"].notna().any():
            notes.append(self.t("footnote.suppressed", threshold=self.data().threshold))
        if not_in_register(rows).any():
            notes.append(self.t("footnote.not_in_register"))
        if rows["represented"].any():
            notes.append(self.t("footnote.complex"))
        return html.table(rows, cols, caption=caption, footnotes=notes, row_header="name", lang=lang)

    def _status_text(self, r: dict, statuses: dict[str, str]) -> str:
        """The status, marked when it is the complex's (zpb_lib.domain.complexes)."""
        text = statuses.get(r["status"], r["status"])
        return self.t("misc.status_via_complex", status=text) if r["via_complex"] else text

    def _survey_cell(self, r: dict) -> str:
        """"31,1% (n = 167)"; "— (n = 7)" when withheld; "" without a survey."""
        if fmt.is_missing(r["survey_n"]):
            return ""
        return f"{fmt.percent(r['survey_p'], 1, self.lang)} (n\u00a0=\u00a0{fmt.integer(r['survey_n'], self.lang)})"

    def _render_map(self) -> None:
        chart, values = self.map_chart()
        self.map_values = values
        self.map.value = html.esc(chart)

    def map_chart(self) -> tuple[Any, pd.Series]:
        sel = self.selection
        d = self.data()
        measure, group = self.measure.value, self.group.value
        survey = measure.startswith(SURVEY)
        highlight = self.highlighted_county()
        key = (sel.edition, measure, group if survey else "", "" if survey else sel.kind, highlight, self.lang)
        if key in self._maps:
            self._maps.move_to_end(key)
            return self._maps[key]
        values = d.county_values(measure, kind=sel.kind, group=group)
        if survey:
            name = self.t("explore.survey_tile", indicator=getattr(self.ref.indicators[measure[len(SURVEY):]],
                                                                   f"title_{self.lang}"), group=self.t(f"group.{group}"))
            caption = self.t("explore.map_survey_caption", group=self.t(f"group.{group}"))
        else:
            name = self.t(MEASURE_LABELS[measure])
            if sel.kind:
                name = self.t("explore.map_kind", measure=name, kind=getattr(self.ref.kinds[sel.kind], f"name_{self.lang}"))
            caption = self.t("explore.map_caption", date=fmt.date(d.cube.meta["as_of"], self.lang))
        title = self.t("explore.map_title", measure=name, edition=sel.edition)
        as_percent = survey or measure in PERCENT_MEASURES
        chart = maps.choropleth(values, title, lang=self.lang, highlight=highlight, as_percent=as_percent, decimals=0,
                                caption=caption, ref=self.ref)
        self._maps[key] = (chart, values)
        while len(self._maps) > 256:
            self._maps.popitem(last=False)
        return chart, values

    def _render_options(self) -> None:
        rows = self.table_rows()
        rows = rows.iloc[sorted(range(len(rows)), key=lambda i: polish_key(rows["name"].iat[i]))]
        names = rows["name"].astype(str).tolist()
        seen: dict[str, int] = {}
        for nm in names:
            seen[nm] = seen.get(nm, 0) + 1
        missing = not_in_register(rows).tolist()
        gone = self.t("misc.not_in_register")
        # "Szkoła … (RSPO 123456)"; the locality too where two share a name; the register note.
        options = [(self.t("explore.choose_institution"), None)] + [
            (f"{nm} ({', '.join(x for x in (loc if seen[nm] > 1 else None, identifier_label(r, p), gone if m else None) if x)})",
             str(ident))
            for nm, loc, ident, r, p, m in zip(names, rows["locality"], rows["ident"], _none(rows["rspo"]),
                                               _none(rows["polon"]), missing)]
        if options != list(self.institution.options):
            current = self.institution.value
            with self._hold():
                self.institution.options = options
                self.institution.value = current if current in {v for _, v in options} else None
            if self.institution.value != current:
                self._dirty.update({"detail", "actions"})

    def select_institution(self, institution: str | int | None) -> None:
        """Open the drill-down of one institution, given by its RSPO number or POL-on id (it must
        be in the table)."""
        self.show("detail")
        if institution is None:
            self.institution.value = None
            return
        ident = parse_identifier(institution)
        if str(ident) not in {v for _, v in self.institution.options}:
            raise ValueError(f"{ident.label()} is not in the table (change the filters first)")
        self.institution.value = str(ident)

    def _render_detail(self) -> None:
        iid = self.institution.value
        if iid is None:
            self.detail.value = html.paragraph(self.t("explore.detail_prompt"))
            return
        key = (self.edition.value, iid, self.lang)
        if key not in self._details:
            self._details[key] = Detail(self.data().cube, iid, lang=self.lang, ref=self.ref).render()
            while len(self._details) > 128:
                self._details.popitem(last=False)
        self.detail.value = self._details[key]

    def _render_actions(self) -> None:
        county = self.highlighted_county()
        if county:
            self.build_county_button.description = self.t("explore.build_county", name=county_name(county, self.lang,
                                                                                                     self.ref))
            self.build_county_button.disabled = False
        else:
            self.build_county_button.description = self.t("explore.build_county_none")
            self.build_county_button.disabled = True
        self.build_institution_button.disabled = self.institution.value is None


def _none(values: pd.Series) -> list:
    """Values with missing ones as None (``identifier_label`` takes None, not pd.NA)."""
    return [None if fmt.is_missing(v) else v for v in values]
