"""The ipywidgets explorer: controls, views and the callbacks that tie them together.

:class:`Explorer` holds every widget as an attribute, so that tests (and analysts' own code) can
set values and press buttons in plain Python and read the views back (``tiles.value``,
``table.value``, ``map.value``, ``detail.value``, ``whatif_view.value`` are HTML; ``map_values``,
``whatif_audits`` and :meth:`table_rows` are the data behind them).

Speed: each edition's cube is read on first use — the cube a build left in ``out/<edition>/``
when it is still current, else the cache next to the database that report notebooks share
(computed into it the first time) — and kept in memory; an interaction re-filters those frames.
Views on hidden tabs are only marked out of date and drawn when their tab is opened; maps are
cached per (edition, measure, group, kind, highlighted county).
"""
from __future__ import annotations

import contextlib
import datetime as dt
import os
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any, Iterator

import ipywidgets as W
import pandas as pd

from zpb_lib import store
from zpb_lib.reference import Reference, reference
from zpb_lib.core import fmt
from zpb_lib.report import html
from zpb_lib.report.context import current_cube
from zpb_lib.domain.labels import LABELS, county_name, label, labels_for
from zpb_lib.domain.scoring.lifecycle import Frames
from zpb_lib.domain.scoring.rules import rules as load_rules
from zpb_lib.explore.data import (ALL, ALL_STATUSES, DEFAULT_SURVEY, IN_EDITION, PERCENT_MEASURES, PROGRAMME_MEASURES, SURVEY,
                   EditionData, MemoryCube, Selection, is_synthetic, load_cube, polish_key, read_cube, sort_rows)
from zpb_lib.reference.identifiers import label as identifier_label
from zpb_lib.reference.identifiers import parse_identifier
from zpb_lib.report.base import identifier_cells, not_in_register
from zpb_lib.explore.views import CSS, Detail, decision_text, flips_table, header
from zpb_lib.explore.whatif import Scenario, WhatIf, award_counts, per_county

TABS = ("table", "map", "detail", "whatif")
MEASURE_LABELS = {"participation_rate": "col.participation_rate", "participating": "col.participating",
                  "institutions": "col.institutions", "valid_awards": "col.valid_awards", "leaders": "col.leaders",
                  "audits": "col.audits", "granted": "col.granted", "mean_share": "col.mean_share"}
EXPORT_DIR = "eksport"


def default_out() -> Path:
    """The checkout's ``reports/`` folder when zpb runs from its source checkout, else ``reports/``
    in the current folder (where ``zpb build`` writes by default)."""
    from zpb_lib.core.paths import default_reports_dir

    return default_reports_dir()


class Explorer:
    """The explorer of one database. ``edition`` defaults to the latest held edition; ``out`` is the
    folder for Excel exports (``out/eksport/``) and built reports (``out/<edition>/``)."""

    def __init__(self, db: str | os.PathLike | None = None, edition: str = "", *, lang: str = "pl",
                 out: str | os.PathLike | None = None, ref: Reference | None = None, page_size: int = 20):
        if lang not in ("pl", "en"):
            raise ValueError(f"unknown language {lang!r} (pl or en)")
        self.lang = lang
        self.ref = ref or reference()
        self.rules = load_rules(self.ref.directory)
        self.db_path = store.locate(db or None)
        with store.snapshot(self.db_path) as (con, _):  # every table as of one moment
            self.synthetic = is_synthetic(con)
            frames = Frames.load(con)
        self.whatif = WhatIf(frames, self.ref, self.rules)
        self._inst_kind = frames.institutions.set_index("id")["kind"].astype(str)
        self.out = Path(out) if out else default_out()
        self.page_size = page_size
        self.page = 0
        self._data: dict[str, EditionData] = {}
        self.cube_paths: dict[str, Path | None] = {}  # edition -> the cube file read (None: computed in memory)
        self._maps: OrderedDict[tuple, Any] = OrderedDict()
        self._details: OrderedDict[tuple, html.Html] = OrderedDict()
        self._rows_key: tuple | None = None
        self._rows: pd.DataFrame | None = None
        self._holding = 0
        self._dirty: set[str] = set()
        self.map_values: pd.Series | None = None
        self.whatif_audits: pd.DataFrame | None = None
        self.last_export: Path | None = None
        self.last_report: Path | None = None
        self.file_message = ""  # the markup of the last file link shown
        held = [e for e in self.ref.held_editions()][::-1]
        try:  # "2025/2026", "2025-2026", "2025/26" or "XIX"
            edition = self.ref.edition_of(edition) if edition else held[0].edition
        except KeyError as exc:
            raise ValueError(exc.args[0]) from None
        if edition not in {e.edition for e in held}:
            raise ValueError(f"edition {edition!r} was not held or is unknown (held: "
                             f"{', '.join(e.edition for e in held[::-1])})")
        self._build_widgets([(e.label, e.edition) for e in held], edition)
        self._load(edition)
        self._wire()
        self._invalidate("header", "tiles", "table", "map", "options", "detail", "whatif", "actions")

    @classmethod
    def open(cls, db: str = "", edition: str = "", lang: str = "pl", out: str = "") -> "Explorer":
        """For notebooks, whose parameters use "" for "default"."""
        return cls(db or None, edition or "", lang=lang, out=out or None)

    # ------------------------------------------------------------------ widgets
    def t(self, key: str, **values: Any) -> str:
        return label(key, self.lang, **values)

    def _build_widgets(self, editions: list[tuple[str, str]], edition: str) -> None:
        wide = {"description_width": "initial"}
        self.style = W.HTML(CSS)
        self.header = W.HTML()
        self.edition = W.Dropdown(options=editions, value=edition, description=self.t("explore.edition"), style=wide,
                                  layout=W.Layout(width="15.5em"))
        counties = sorted(self.ref.counties.values(), key=lambda c: polish_key(c.name.replace("m. ", "")))
        self._county_options = [(self.t("explore.all_counties"), ALL)] + [
            (county_name(c.teryt, self.lang, self.ref), c.teryt) for c in counties]
        self.county = W.Dropdown(options=self._county_options, value=ALL, description=self.t("explore.county"),
                                 style=wide, layout=W.Layout(width="17em"))
        units = sorted(self.ref.police_units.values(), key=lambda u: polish_key(u.seat))
        self.unit = W.Dropdown(options=[(self.t("explore.all_units"), ALL)] + [(f"{u.kind} {u.seat}", u.code) for u in units],
                               value=ALL, description=self.t("explore.police_unit"), style=wide,
                               layout=W.Layout(width="22em"))
        self.kind = W.Dropdown(options=[(self.t("explore.all_kinds"), ALL)], value=ALL,
                               description=self.t("explore.kind"), style=wide, layout=W.Layout(width="20em"))
        statuses = labels_for("status", self.lang)
        self.status = W.Dropdown(options=[(self.t("explore.status_in_edition"), IN_EDITION),
                                          (self.t("explore.status_all"), ALL_STATUSES)]
                                 + [(statuses[s], s) for s in ("certified", "extended", "leader", "stage1", "expired",
                                                               "left", "not_participating")],
                                 value=IN_EDITION, description=self.t("explore.status"), style=wide,
                                 layout=W.Layout(width="19em"))
        measures = [(self.t(MEASURE_LABELS[m]), m) for m in PROGRAMME_MEASURES]
        measures += [(self.t("explore.survey_measure", indicator=getattr(i, f"title_{self.lang}")), SURVEY + i.id)
                     for i in self.ref.indicators.values()]
        self.measure = W.Dropdown(options=measures, value="participation_rate", description=self.t("explore.measure"),
                                  style=wide, layout=W.Layout(width="27em"))
        self.group = W.Dropdown(options=[(self.t(f"group.{g}"), g) for g in ("students", "parents", "teachers")],
                                value="students", description=self.t("explore.group"), style=wide,
                                layout=W.Layout(width="16em"))
        self.tiles = W.HTML()
        # --- table
        self.sort_by = W.Dropdown(options=self._sort_options(), value="county_name", description=self.t("explore.sort_by"),
                                  style=wide, layout=W.Layout(width="22em"))
        self.descending = W.Checkbox(value=False, description=self.t("explore.descending"), indent=False,
                                     layout=W.Layout(width="8em"))
        self.prev_button = W.Button(description=self.t("explore.prev"), layout=W.Layout(width="9em"))
        self.next_button = W.Button(description=self.t("explore.next"), layout=W.Layout(width="9em"))
        self.page_label = W.HTML()
        self.table = W.HTML()
        table_box = W.VBox([W.HBox([self.sort_by, self.descending, self.prev_button, self.page_label, self.next_button],
                                   layout=W.Layout(flex_flow="row wrap", align_items="center")), self.table])
        # --- map, detail, what-if
        self.map = W.HTML()
        map_box = W.VBox([self.map])
        self.institution = W.Dropdown(options=[(self.t("explore.choose_institution"), None)], value=None,
                                      description=self.t("explore.institution"), style=wide,
                                      layout=W.Layout(width="40em"))
        self.detail = W.HTML()
        detail_box = W.VBox([self.institution, self.detail])
        self.whatif_controls = W.VBox()
        self.whatif_reset = W.Button(description=self.t("explore.whatif_reset"), icon="undo",
                                     layout=W.Layout(width="auto", align_self="flex-start"))
        self.whatif_view = W.HTML()
        whatif_box = W.VBox([W.HTML(html.paragraph(self.t("explore.whatif_intro"))), self.whatif_controls,
                             self.whatif_reset, self.whatif_view])
        self.tabs = W.Tab(children=[table_box, map_box, detail_box, whatif_box])
        for i, key in enumerate(("explore.tab_table", "explore.tab_map", "explore.tab_detail", "explore.tab_whatif")):
            self.tabs.set_title(i, self.t(key))
        # --- actions
        self.export_button = W.Button(description=self.t("explore.export"), icon="table", layout=W.Layout(width="auto"))
        self.build_county_button = W.Button(description=self.t("explore.build_county_none"), icon="file",
                                            layout=W.Layout(width="auto"))
        self.build_institution_button = W.Button(description=self.t("explore.build_institution"), icon="file",
                                                 layout=W.Layout(width="auto"))
        self.message = W.HTML()
        self.links = W.Output()
        filters = W.HBox([self.edition, self.county, self.unit, self.kind, self.status],
                         layout=W.Layout(flex_flow="row wrap"))
        shown = W.HBox([self.measure, self.group], layout=W.Layout(flex_flow="row wrap"))
        actions = W.HBox([self.export_button, self.build_county_button, self.build_institution_button],
                         layout=W.Layout(flex_flow="row wrap"))
        self.widget = W.VBox([self.style, self.header, filters, shown, self.tiles, self.tabs, actions, self.message,
                              self.links])
        self.widget.add_class("zpb-explorer")
        # Stable hooks for browser tests and for analysts' own CSS.
        for name in ("edition", "county", "unit", "kind", "status", "measure", "group", "tiles", "table", "map",
                     "institution", "detail", "whatif_view", "message", "links", "tabs"):
            getattr(self, name).add_class(f"zpb-x-{name.replace('_', '-')}")

    def _sort_options(self) -> list[tuple[str, str]]:
        return [(self.t("col.institution"), "name"), (self.t("col.county"), "county_name"),
                (self.t("col.kind"), f"kind_{self.lang}"), (self.t("col.status"), "status"),
                (self.t("col.valid_until"), "valid_until"), (self.t("col.joined"), "joined_edition"),
                (self.t("col.points"), "audit_total"), (self.t("col.share"), "audit_share"),
                (self.t("explore.survey_measure", indicator=self.t("col.value").lower()), "survey_p"),
                (self.t("col.respondents"), "survey_n")]

    def _wire(self) -> None:
        self.edition.observe(self._on_edition, "value")
        self.unit.observe(self._on_unit, "value")
        for w in (self.county, self.kind, self.status):
            w.observe(self._on_filter, "value")
        for w in (self.measure, self.group):
            w.observe(self._on_measure, "value")
        for w in (self.sort_by, self.descending):
            w.observe(self._on_sort, "value")
        self.prev_button.on_click(lambda _: self.turn_page(-1))
        self.next_button.on_click(lambda _: self.turn_page(1))
        self.institution.observe(self._on_institution, "value")
        self.tabs.observe(self._on_tab, "selected_index")
        self.whatif_reset.on_click(lambda _: self.reset_whatif())
        self.export_button.on_click(lambda _: self.export_table())
        self.build_county_button.on_click(lambda _: self.build_report("county"))
        self.build_institution_button.on_click(lambda _: self.build_report("school"))

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    # ------------------------------------------------------------------ data
    def data(self, edition: str | None = None) -> EditionData:
        """The edition's data ("2025/2026", "2025-2026", "XIX"…; default: the one chosen), loaded
        on first use and kept in memory."""
        ed = self.ref.edition_of(edition) if edition else self.edition.value
        if ed not in self._data:
            self._data[ed] = EditionData(self._cube(ed), self.ref)
        return self._data[ed]

    def build_cube_path(self, edition: str) -> Path:
        """Where ``zpb build --out OUT`` leaves the edition's cube (OUT: this explorer's ``out``)."""
        from zpb_lib.batch.pipeline import CUBE_FILE

        return self.out / edition.replace("/", "-") / CUBE_FILE

    def _cube(self, edition: str) -> MemoryCube:
        """The edition's cube: a build's that is still current (same data, reference and code
        hashes), else the cache next to the database that the report notebooks use, computed into it
        when missing; computed in memory only when that folder cannot be written."""
        try:
            path = current_cube(self.db_path, edition, ref=self.ref, candidates=[self.build_cube_path(edition)])
        except OSError:  # e.g. the database's folder is read-only: nowhere to keep the cube
            with store.snapshot(self.db_path) as (con, _):
                self.cube_paths[edition] = None
                return load_cube(con, edition, self.ref, synthetic=self.synthetic)
        self.cube_paths[edition] = path
        return read_cube(path)

    def _load(self, edition: str) -> None:
        t0 = time.perf_counter()
        first = edition not in self._data
        if first:
            self.message.value = html.paragraph(self.t("explore.loading", edition=edition), "zpb-x-status")
        d = self.data(edition)
        with self._hold():
            kinds = [(self.t("explore.all_kinds"), ALL)] + [
                (getattr(self.ref.kinds[k], f"name_{self.lang}"), k) for k in d.kinds()]
            value = self.kind.value if self.kind.value in {v for _, v in kinds} else ALL
            self.kind.options = kinds
            self.kind.value = value
        self._build_whatif_controls(edition)
        if first:
            self.message.value = html.paragraph(self.t("explore.loaded", edition=edition, seconds=fmt.number(
                time.perf_counter() - t0, 1, self.lang)), "zpb-x-status")

    @property
    def selection(self) -> Selection:
        return Selection(self.edition.value, self.county.value or ALL, self.unit.value or ALL, self.kind.value or ALL,
                         self.status.value)

    @property
    def survey_indicator(self) -> str:
        """The indicator of the table's survey column and of the survey tile: the map's measure
        when it is a survey indicator, else students feeling safe at school."""
        m = self.measure.value
        return m[len(SURVEY):] if m.startswith(SURVEY) else DEFAULT_SURVEY

    def highlighted_county(self) -> str | None:
        sel = self.selection
        if sel.county:
            return sel.county
        if sel.police_unit:
            counties = self.data().counties_of_unit(sel.police_unit)
            return counties[0] if len(counties) == 1 else None
        return None

    def table_rows(self) -> pd.DataFrame:
        """Every row of the table (all pages), sorted, with the survey columns. Institutions are
        identified by ``ident`` (RSPO number or POL-on id; ``rspo``, ``polon`` and ``in_register``
        too; a school's complex by ``complex_ident``); the database's internal ids are not part of it."""
        key = (self.selection, self.survey_indicator, self.group.value, self.sort_by.value, self.descending.value)
        if key != self._rows_key:
            d = self.data()
            rows = d.with_survey(d.rows(self.selection), self.survey_indicator, self.group.value)
            # Internal ids (the institution's, its complex's, its participant's) stay inside the cube.
            self._rows = sort_rows(rows, self.sort_by.value, self.descending.value).drop(
                columns=["id", "complex_id", "unit_id"])
            self._rows_key = key
        return self._rows

    def scope_text(self) -> str:
        sel = self.selection
        parts = []
        if sel.county:
            parts.append(county_name(sel.county, self.lang, self.ref))
        if sel.police_unit:
            unit = self.ref.police_units[sel.police_unit]
            names = ", ".join(county_name(t, self.lang, self.ref) for t in self.data().counties_of_unit(sel.police_unit))
            parts.append(self.t("explore.scope_unit", unit=f"{unit.kind} {unit.seat}", counties=names))
        if not parts:
            parts.append(self.t("explore.scope_voivodeship"))
        if sel.kind:
            parts.append(getattr(self.ref.kinds[sel.kind], f"name_{self.lang}"))
        return ", ".join(parts)

    # ------------------------------------------------------------------ callbacks
    @contextlib.contextmanager
    def _hold(self) -> Iterator[None]:
        """Changes made inside do not trigger the callbacks (one refresh after several changes)."""
        self._holding += 1
        try:
            yield
        finally:
            self._holding -= 1

    def _on_edition(self, change: dict) -> None:
        if self._holding:
            return
        self._load(change["new"])
        self.page = 0
        self._invalidate("header", "tiles", "table", "map", "options", "detail", "whatif", "actions")

    def _on_unit(self, change: dict) -> None:
        if self._holding:
            return
        unit = change["new"]
        with self._hold():
            if unit:
                mine = set(self.data().counties_of_unit(unit))
                options = [o for o in self._county_options if o[1] == ALL or o[1] in mine]
            else:
                options = self._county_options
            value = self.county.value if self.county.value in {v for _, v in options} else ALL
            self.county.options = options
            self.county.value = value
        self._on_filter(change)

    def _on_filter(self, change: dict) -> None:
        if self._holding:
            return
        self.page = 0
        self._invalidate("tiles", "table", "map", "options", "whatif", "actions")

    def _on_measure(self, change: dict) -> None:
        if self._holding:
            return
        self._invalidate("tiles", "table", "map")

    def _on_sort(self, change: dict) -> None:
        if self._holding:
            return
        self.page = 0
        self._invalidate("table", "options")

    def turn_page(self, step: int) -> None:
        pages = max(1, -(-len(self.table_rows()) // self.page_size))
        self.page = min(max(0, self.page + step), pages - 1)
        self._invalidate("table")

    def _on_institution(self, change: dict) -> None:
        if self._holding:
            return
        self._invalidate("detail", "actions")

    def _on_tab(self, change: dict) -> None:
        self._render_visible()

    def show(self, tab: str) -> None:
        """Open a tab by name: "table", "map", "detail" or "whatif"."""
        self.tabs.selected_index = TABS.index(tab)

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
        from zpb_lib.report import maps

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

    # ------------------------------------------------------------------ export and build
    def export_table(self) -> Path:
        """The current table (every page, current order) to an Excel file; returns its path."""
        rows = self.table_rows()
        frame = self.export_frame(rows)
        sel = self.selection
        folder = self.out / EXPORT_DIR
        folder.mkdir(parents=True, exist_ok=True)
        scope = sel.county or (sel.police_unit.lower() if sel.police_unit else "wojewodztwo")
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        path = folder / f"placowki-{sel.edition.replace('/', '-')}-{scope}-{stamp}.xlsx"
        i = 2
        while path.exists():
            path = folder / f"placowki-{sel.edition.replace('/', '-')}-{scope}-{stamp}-{i}.xlsx"
            i += 1
        from openpyxl.styles import Font

        from zpb_lib.core.files import atomic_path
        from zpb_lib.core.workbook import literal_cells

        with atomic_path(path) as tmp:  # a temporary file next to it, then a rename (zpb_lib.core.files)
            with pd.ExcelWriter(tmp, engine="openpyxl") as xw:
                sheet = self.t("explore.sheet_table")
                frame.to_excel(xw, sheet_name=sheet, index=False)
                ws = xw.sheets[sheet]
                ws.freeze_panes = "B2"
                for col_cells in ws.columns:
                    width = max(len(str(c.value)) if c.value is not None else 0 for c in col_cells[:200])
                    ws.column_dimensions[col_cells[0].column_letter].width = min(max(10, width + 2), 60)
                bold = Font(bold=True)
                for c in ws[1]:
                    c.font = bold
                self.about_frame(len(frame)).to_excel(xw, sheet_name=self.t("explore.sheet_about"), index=False,
                                                      header=False)
                xw.sheets[self.t("explore.sheet_about")].column_dimensions["A"].width = 24
                xw.sheets[self.t("explore.sheet_about")].column_dimensions["B"].width = 110
                literal_cells(xw.book)  # names are text, never formulas (zpb_lib.core.workbook), before pandas saves
        self.last_export = path
        self._show_file(self.t("explore.exported", n=fmt.integer(len(frame), self.lang)), path)
        return path

    def export_frame(self, rows: pd.DataFrame) -> pd.DataFrame:
        """The table as values for a spreadsheet: numbers as numbers, dates as dates, labels in
        the explorer's language; suppressed survey figures are empty."""
        lang = self.lang
        statuses, kinds = labels_for("status", lang), labels_for("audit_kind", lang)
        ind = getattr(self.ref.indicators[self.survey_indicator], f"title_{lang}")
        survey = self.t("explore.survey_column", indicator=ind, group=self.t(f"group.{self.group.value}").lower())
        decisions = [decision_text({"kind": k, "granted": g, "award_kind": a, "reasons": r}, lang)
                     if not fmt.is_missing(k) else None
                     for k, g, a, r in zip(rows["audit_kind"], rows["audit_granted"], rows["audit_award_kind"],
                                           rows["audit_reasons"])]
        out = pd.DataFrame({
            self.t("col.identifier"): [int(i) if str(i).isdigit() else str(i) for i in rows["ident"]],
            self.t("col.institution"): rows["name"].to_numpy(),
            self.t("col.in_register"): [None if not fmt.is_missing(p) else self.t("misc.yes" if r else "misc.no")
                                        for p, r in zip(rows["polon"], rows["in_register"])],
            self.t("col.locality"): rows["locality"].to_numpy(),
            self.t("explore.col_teryt"): rows["county"].to_numpy(),
            self.t("col.county"): [county_name(c, lang, self.ref) for c in rows["county"]],
            self.t("col.police_unit"): rows["police_unit_name"].to_numpy(),
            self.t("col.kind"): rows[f"kind_{lang}"].to_numpy(),
            self.t("col.status"): [self._status_text(r, statuses) for r in rows[["status", "via_complex"]].to_dict("records")],
            self.t("col.complex"): [None if fmt.is_missing(c) else int(c) for c in rows["complex_ident"]],
            self.t("col.counted"): [self.t("misc.yes" if c else "misc.no") for c in rows["counted"]],
            self.t("col.joined"): rows["joined_edition"].to_numpy(),
            self.t("col.valid_until"): rows["valid_until"].dt.date.to_numpy(),
            self.t("explore.audit_column"): [kinds.get(k, k) if not fmt.is_missing(k) else None
                                             for k in rows["audit_kind"]],
            self.t("col.audit_date"): rows["audit_audit_date"].dt.date.to_numpy(),
            self.t("col.points"): rows["audit_total"].astype("Int64").to_numpy(),
            self.t("col.max_points"): rows["audit_max_total"].astype("Int64").to_numpy(),
            self.t("col.threshold"): rows["audit_threshold"].astype("Int64").to_numpy(),
            self.t("col.decision"): decisions,
            f"{survey}: {self.t('col.respondents').lower()}": rows["survey_n"].astype("Int64").to_numpy(),
            f"{survey}: {self.t('col.value').lower()}": rows["survey_p"].astype(float).to_numpy(),
            f"{survey}: {self.t('explore.col_ci_low')}": rows["survey_lo"].astype(float).to_numpy(),
            f"{survey}: {self.t('explore.col_ci_high')}": rows["survey_hi"].astype(float).to_numpy(),
        })
        for c in out.columns:
            out[c] = out[c].astype(object).where(out[c].notna(), None)
        return out

    def about_frame(self, n_rows: int) -> pd.DataFrame:
        sel = self.selection
        statuses = labels_for("status", self.lang)
        status = statuses.get(sel.status) or self.t("explore.status_in_edition" if sel.status == IN_EDITION
                                                    else "explore.status_all")
        rows = [(self.t("explore.title"), self.t("title.programme")),
                (self.t("explore.edition"), self.ref.edition(sel.edition).label),
                (self.t("explore.about_filters"), f"{self.scope_text()}; {self.t('explore.status')}: {status}"),
                (self.t("explore.about_rows"), n_rows),
                (self.t("explore.about_as_of"), fmt.date(self.data().cube.meta["as_of"], self.lang)),
                (self.t("explore.about_generated"), fmt.timestamp(dt.datetime.now(), self.lang)),
                (self.t("explore.about_database"), store.display(self.db_path)),
                ("", self.t("explore.about_suppressed", threshold=self.data().threshold)),
                ("", self.t("methodology.text", threshold=self.data().threshold))]
        if self.synthetic:
            rows.insert(0, ("", self.t("banner.synthetic")))
        return pd.DataFrame(rows)

    def build_report(self, kind: str) -> Path | None:
        """Build the HTML report of the selected county (``kind="county"``) or of the institution
        chosen in the drill-down (``kind="school"``) through the normal build; shows a link."""
        from zpb_lib.batch.pipeline import BuildOptions, build
        from zpb_lib.batch.plan import plan

        sel = self.selection
        if kind == "county":
            key = self.highlighted_county()
            if key is None:
                raise ValueError("choose a county first")
            name, button = county_name(key, self.lang, self.ref), self.build_county_button
            options = dict(only=("county",), counties=(key,))
        elif kind == "school":
            if self.institution.value is None:
                raise ValueError("choose an institution first")
            key = str(self.institution.value)
            names = self.data().cube.frame("institutions").set_index("ident")["name"]
            name, button = str(names.get(key, key)), self.build_institution_button
            options = dict(only=("school",), institutions=(key,))
        else:
            raise ValueError(f"unknown report kind {kind!r} (county or school)")
        self.message.value = html.paragraph(self.t("explore.building", name=name), "zpb-x-status")
        button.disabled = True
        t0 = time.perf_counter()
        try:
            summary = build(BuildOptions(db=str(self.db_path), edition=sel.edition, out=str(self.out),
                                         formats=("html",), lang=self.lang, progress=False, **options), ref=self.ref)
            if summary.failed:
                raise RuntimeError("; ".join(err for _, err in summary.failed))
            job = plan(self.data().cube.frame("institutions"), self.ref, sel.edition, lang=self.lang,
                       **{"only": options["only"], "counties": options.get("counties"),
                          "institutions_wanted": options.get("institutions")})[0]
            path = summary.out_dir / f"{job.stem}.html"
            if not path.exists():
                raise RuntimeError(f"{path} was not written")
        except Exception as exc:  # shown to the analyst; the explorer keeps working
            self.message.value = html.paragraph(self.t("explore.build_failed", name=name, error=str(exc)), "zpb-note")
            return None
        finally:
            button.disabled = False
        self.message.value = ""
        self.last_report = path.resolve()
        self._show_file(self.t("explore.built", seconds=fmt.number(time.perf_counter() - t0, 1, self.lang)),
                        self.last_report)
        return self.last_report

    def _show_file(self, text: str, path: Path) -> None:
        """A link to ``path`` (relative to the kernel's folder, the notebook's, which JupyterLab
        resolves to its own file view) and the full path to copy."""
        path = Path(path).resolve()
        rel = os.path.relpath(path, Path.cwd())
        markup = (f'<p class="zpb-x-file">{html.esc(text)} <a href="{html.esc(rel)}" target="_blank" '
                  f'rel="noopener">{html.esc(self.t("explore.open"))}</a><br><code>{html.esc(str(path))}</code></p>')
        self.links.outputs = ({"output_type": "display_data", "metadata": {},
                               "data": {"text/html": markup, "text/plain": f"{text} {path}"}},)
        self.file_message = markup


def _none(values: pd.Series) -> list:
    """Values with missing ones as None (``identifier_label`` takes None, not pd.NA)."""
    return [None if fmt.is_missing(v) else v for v in values]
