"""The „Mój powiat” tab: what is due in the counties of the user's police unit (an analyst or the
reader: any unit, or every county) — the counts of each kind of due item and the county report's key
figures on top, the institutions with their stage, valid-to date and last audit in a table that
searches, filters and sorts, the due items one by one, and the whole desk as XLSX.

The desk (:func:`zpb_lib.services.due.desk`, about a second) is read in a worker thread under the
user's role; the tab says „Ładowanie…” until it arrives. Searching, filtering and sorting work on the
desk already read: no database call."""
from __future__ import annotations

import asyncio
import datetime as dt
import io
import shutil
import tempfile
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

import panel as pn

from zpb_lib.core import fmt
from zpb_lib.core.errors import ZpbError
from zpb_lib.core.text import cell_date
from zpb_lib.domain.due import KINDS
from zpb_lib.domain.labels import county_name, label
from zpb_lib.domain.scoring.lifecycle import STATUSES
from zpb_lib.reference import reference
from zpb_lib.services.due import Desk, desk, to_xlsx
from zpb_lib.services.lookups import current_edition, editions
from zpb_lib.store.rights import ANALYST, READER
from zpb_lib.web.desk_table import ANY_DUE, SORTS, counts_tiles, figures_tiles, filtered, institutions_table, \
    items_of, items_table, sorted_rows
from zpb_lib.web.downloads import Download
from zpb_lib.web.journal import note
from zpb_lib.web.texts import t

if TYPE_CHECKING:  # the page builds this tab: no import back at run time
    from zpb_lib.web.pages import Session

# rows of the institutions table at once, items of the due list: the search and filters narrow the rest
SHOWN_ROWS = 100
SHOWN_ITEMS = 200
MONTHS = (3, 6, 12)
CSS = """
.zpb-tiles { display: flex; flex-wrap: wrap; gap: .5rem; margin: .3rem 0 .8rem; padding: 0; }
.zpb-tile { border: 1px solid #9aa9b8; border-radius: 4px; padding: .35rem .7rem; min-width: 9rem; background: #f3f6f9; }
.zpb-tile dt { font-size: .85rem; color: #222; } .zpb-tile dd { margin: 0; font-size: 1.4rem; font-weight: bold; color: #0b3d6b; }
.zpb-due-counts .zpb-tile { background: #fff6df; border-color: #c9a74a; }
.zpb-desk h2 { margin: .6rem 0 .2rem; } .zpb-desk h3 { margin: .8rem 0 .2rem; font-size: 1.1rem; }
.zpb-desk-table { width: 100%; } .zpb-desk-table td:first-child { overflow-wrap: anywhere; }  /* a POL-on id: one long word */
.zpb-desk-table td:nth-child(7) { white-space: nowrap; }  /* a date */
"""


def sees_every_unit(role: str | None) -> bool:
    """Whether the role picks the unit (an analyst, the reader): a unit's role has its own counties."""
    return role in (ANALYST, READER)


def file_name(d: Desk) -> str:
    """``moj-powiat-kpp-bochnia-2025-2026.xlsx``; without a unit for every county."""
    unit = "-".join(sorted(u.lower() for u in d.units)) + "-" if d.units else ""
    return f"moj-powiat-{unit}{d.edition.replace('/', '-')}.xlsx"


class DeskPage:
    """The desk of the chosen unit, edition and months ahead; re-read when one of them changes."""

    def __init__(self, session: Session):
        lang = self.lang = session.lang
        self.session = session
        self.desk: Desk | None = None
        self._asked = 0  # the latest reading asked for: an earlier one arriving late is dropped

        if sees_every_unit(session.ident.role):
            units = reference().police_units
            self.unit: pn.widgets.Select | None = pn.widgets.Select(
                label=t("desk_unit", lang), width=380,
                options={t("every_unit", lang): "", **{u.name: code for code, u in units.items()}})
        else:
            self.unit = None
        held = editions(held_only=True)
        self.edition = pn.widgets.Select(label=t("edition", lang), options={e.label: e.edition for e in reversed(held)},
                                         value=current_edition().edition, width=160)
        self.months = pn.widgets.Select(label=t("desk_months", lang), value=6, width=220,
                                        options={t("desk_months_n", lang, n=n): n for n in MONTHS})
        # what is due on another day: to plan ahead, or to see what was due when a decision was taken
        # (a text field: Bokeh's date picker shows a read-only field its label does not name)
        # written 07.12.2026 in both languages: what cell_date reads back
        self.day = pn.widgets.TextInput(label=t("desk_day", lang), value=f"{dt.date.today():%d.%m.%Y}", width=170)
        self.status = pn.pane.HTML(f'<p role="status">{escape(t("desk_loading", lang))}</p>',
                                   sizing_mode="stretch_width")
        self.counts = pn.pane.HTML("", sizing_mode="stretch_width")
        self.figures = pn.pane.HTML("", sizing_mode="stretch_width")
        self.xlsx = Download(label=t("desk_xlsx", lang), button_type="primary", width=200)
        self.xlsx.callback = self.workbook

        self.search = pn.widgets.TextInput(label=t("desk_search", lang), placeholder="", width=300)
        self.stage = pn.widgets.Select(label=t("desk_stage", lang), width=220, options={
            t("desk_every_stage", lang): "", **{label(f"status.{s}", lang): s for s in STATUSES}})
        self.due = pn.widgets.Select(label=t("desk_due_filter", lang), width=270, options={
            t("desk_every_row", lang): "", t("desk_any_due", lang): ANY_DUE,
            **{label(f"due_kind.{k}", lang): k for k in KINDS}})
        self.sort = pn.widgets.Select(label=t("desk_sort", lang), width=170,
                                      options={t(f"desk_sort_{k}", lang): k for k in SORTS}, value="name")
        # a select, not a checkbox: Bokeh's checkbox has no label element for screen readers
        self.descending = pn.widgets.Select(label=t("desk_order", lang), width=120, value=False, options={
            t("desk_ascending", lang): False, t("desk_descending", lang): True})
        self.shown = pn.pane.HTML("", sizing_mode="stretch_width")
        self.table = pn.pane.HTML("", sizing_mode="stretch_width")
        self.kind = pn.widgets.Select(label=t("desk_kind", lang), width=300, options={
            t("desk_every_kind", lang): "", **{label(f"due_kind.{k}", lang): k for k in KINDS}})
        self.items = pn.pane.HTML("", sizing_mode="stretch_width")

        for w in (self.edition, self.months, self.day, *([self.unit] if self.unit else [])):
            w.param.watch(lambda e: asyncio.ensure_future(self.load()), "value")
        self.search.param.watch(lambda e: self.show_rows(), "value_input")
        for w in (self.stage, self.due, self.sort, self.descending):
            w.param.watch(lambda e: self.show_rows(), "value")
        self.kind.param.watch(lambda e: self.show_items(), "value")

        def heading(key: str, level: int = 3) -> pn.pane.HTML:
            return pn.pane.HTML(f"<h{level}>{escape(t(key, lang))}</h{level}>", sizing_mode="stretch_width")

        self.figures_heading = pn.pane.HTML("", sizing_mode="stretch_width")
        self.body = pn.Column(
            heading("desk_due_heading"), self.counts, self.figures_heading, self.figures, self.xlsx,
            heading("desk_institutions_heading"),
            pn.Row(self.search, self.stage, self.due, self.sort, self.descending), self.shown, self.table,
            heading("desk_items_heading"), self.kind, self.items, visible=False, sizing_mode="stretch_width")
        title = pn.pane.HTML(f"<h2>{escape(label('due.title', lang))}</h2>", sizing_mode="stretch_width")
        choices = pn.Row(*([self.unit] if self.unit else []), self.edition, self.months, self.day)
        self.view = pn.Column(title, choices, self.status, self.body, sizing_mode="stretch_width",
                              css_classes=["zpb-desk"])

    async def load(self) -> None:
        """Read the desk for the choices (in a worker thread) and show it; „Ładowanie…” meanwhile."""
        self._asked += 1
        asked = self._asked
        lang, db = self.lang, self.session.config.db
        unit = (self.unit.value or None) if self.unit is not None else None
        edition, months = self.edition.value, int(self.months.value)
        day = cell_date(self.day.value) if self.day.value.strip() else dt.date.today()
        if day is None:
            self.status.object = f'<p class="zpb-refused" role="alert">{escape(t("desk_bad_day", lang))}</p>'
            return
        self.body.visible = False
        self.status.object = f'<p role="status">{escape(t("desk_loading", lang))}</p>'
        try:
            d = await self.session.run(lambda: desk(db, unit=unit, edition=edition, months=months, today=day))
        except ZpbError as exc:
            if asked == self._asked:
                self.status.object = f'<p class="zpb-refused" role="alert">{escape(str(exc))}</p>'
            return
        if asked != self._asked:
            return
        self.desk = d
        who = (", ".join(county_name(c, lang) for c in d.counties) if d.units is not None
               else t("every_unit", lang))
        scope = t("desk_scope", lang, who=who, edition=d.edition, today=fmt.date(d.today, lang))
        self.status.object = f'<p role="status">{escape(scope)}</p>'
        self.counts.object = counts_tiles(d, lang)
        as_of = t("desk_figures_heading", lang, date=fmt.date(d.as_of, lang))
        self.figures_heading.object = f"<h3>{escape(as_of)}</h3>"
        self.figures.object = figures_tiles(d.totals(), lang)
        self.show_rows()
        self.show_items()
        self.body.visible = True

    def show_rows(self) -> None:
        if self.desk is None:
            return
        lang = self.lang
        rows = sorted_rows(filtered(self.desk.rows, self.search.value_input or "", self.stage.value, self.due.value),
                           self.sort.value, self.descending.value)
        more = f" {t('desk_shown_first', lang, n=SHOWN_ROWS)}" if len(rows) > SHOWN_ROWS else ""
        self.shown.object = f"<p>{escape(t('desk_shown', lang, n=len(rows), total=len(self.desk.rows)) + more)}</p>"
        self.table.object = institutions_table(rows[:SHOWN_ROWS], lang, t("desk_table_caption", lang))

    def show_items(self) -> None:
        if self.desk is None:
            return
        lang = self.lang
        items = items_of(self.desk, self.kind.value)
        if not items:
            self.items.object = f"<p>{escape(t('desk_nothing', lang))}</p>"
            return
        more = f" {t('desk_shown_first', lang, n=SHOWN_ITEMS)}" if len(items) > SHOWN_ITEMS else ""
        self.items.object = (f"<p>{escape(t('desk_items_shown', lang, n=len(items)) + more)}</p>"
                             + items_table(items[:SHOWN_ITEMS], lang, t("desk_items_caption", lang)))

    async def workbook(self) -> io.BytesIO | None:
        """The desk shown, as XLSX: written in a private folder (0700) that is gone before the file
        reaches the browser."""
        d = self.desk
        if d is None:
            return None
        name = file_name(d)
        folder = Path(tempfile.mkdtemp(prefix="zpb-download-"))
        try:
            data = await self.session.run(lambda: to_xlsx(d, folder / name, self.lang).read_bytes())
        except ZpbError as exc:
            self.status.object = f'<p class="zpb-refused" role="alert">{escape(str(exc))}</p>'
            return None
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        self.xlsx.filename = name
        asyncio.ensure_future(note(self.session, "download", name))  # after the file; never in its way
        return io.BytesIO(data)


def desk_tab(session: Session) -> Any:
    """The tab's content, its desk read once the tab is shown."""
    page = DeskPage(session)
    asyncio.ensure_future(page.load())
    return page.view
