"""Presentation primitives for the report notebooks: labels (pl/en), number and date formats,
safe HTML blocks, charts and the county map. Notebooks call these and display what they return;
none of them formats HTML or draws with pyplot itself.

``from zpb_lib.report import label, fmt, html, charts, maps``

``charts`` and ``maps`` load matplotlib, so they are imported on first use: the command line and
the build import labels from here without paying for a plotting library.
"""
from __future__ import annotations

import importlib
from typing import Any

from zpb_lib.core import fmt
from zpb_lib.report import html
from zpb_lib.domain import labels
from zpb_lib.report.html import Html, esc
from zpb_lib.domain.labels import LABELS, county_name, label, labels_for

__all__ = ["charts", "fmt", "html", "labels", "maps", "Chart", "Html", "esc", "LABELS", "county_name",
           "label", "labels_for"]


def __getattr__(name: str) -> Any:
    if name in ("charts", "maps"):
        return importlib.import_module(f".{name}", __name__)
    if name == "Chart":
        return importlib.import_module(".charts", __name__).Chart
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
