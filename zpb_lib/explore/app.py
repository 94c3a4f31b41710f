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

import os
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

import pandas as pd

from zpb_lib import store
from zpb_lib.batch.pipeline import CUBE_FILE
from zpb_lib.core.paths import default_reports_dir
from zpb_lib.reference import Reference, reference
from zpb_lib.core import fmt
from zpb_lib.report import html
from zpb_lib.report.context import current_cube
from zpb_lib.domain.labels import county_name
from zpb_lib.domain.scoring.lifecycle import Frames
from zpb_lib.domain.scoring.rules import rules as load_rules
from zpb_lib.domain.edition_data import (ALL, DEFAULT_SURVEY, SURVEY,
                   EditionData, MemoryCube, Selection, is_synthetic, load_cube, read_cube, sort_rows)
from zpb_lib.explore.controls import Controls
from zpb_lib.explore.exporting import Exporting
from zpb_lib.explore.rendering import Views
from zpb_lib.explore.whatif_panel import WhatIfPanel
from zpb_lib.explore.whatif import WhatIf



def default_out() -> Path:
    """The checkout's ``reports/`` folder when zpb runs from its source checkout, else ``reports/``
    in the current folder (where ``zpb build`` writes by default)."""
    return default_reports_dir()


class Explorer(Controls, Views, WhatIfPanel, Exporting):
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


def _none(values: pd.Series) -> list:
    """Values with missing ones as None (``identifier_label`` takes None, not pd.NA)."""
    return [None if fmt.is_missing(v) else v for v in values]
