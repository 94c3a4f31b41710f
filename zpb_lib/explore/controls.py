"""The explorer's controls: the widgets, how they are wired, and the callbacks that turn a
change of a control into views marked out of date.

A part of :class:`zpb_lib.explore.app.Explorer`, which holds the state these methods share."""
from __future__ import annotations

import contextlib
from typing import Any, Iterator

import ipywidgets as W

from zpb_lib.report import html
from zpb_lib.domain.labels import county_name, label, labels_for
from zpb_lib.domain.edition_data import (ALL, ALL_STATUSES, IN_EDITION, PROGRAMME_MEASURES, SURVEY,
                   polish_key)
from zpb_lib.explore.views import CSS
TABS = ("table", "map", "detail", "whatif")
MEASURE_LABELS = {"participation_rate": "col.participation_rate", "participating": "col.participating",
                  "institutions": "col.institutions", "valid_awards": "col.valid_awards", "leaders": "col.leaders",
                  "audits": "col.audits", "granted": "col.granted", "mean_share": "col.mean_share"}


class Controls:
    """The widgets, their wiring and the callbacks of the explorer."""

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
