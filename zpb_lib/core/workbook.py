"""Saving the Excel workbooks zpb writes — exports, templates, the register, ``zpb match`` output —
with every value from data a literal cell.

openpyxl stores a text starting with ``=`` as a formula and one such as ``#N/A`` as an error value,
so a school, partner or action named ``=HYPERLINK(…)`` or ``=cmd|' /C calc'!A0`` would become a live
formula in a workbook zpb wrote, run by whoever opens it — and would no longer read back as the name.
:func:`save` is the one way zpb saves a workbook: it first turns every such cell back into a text
cell (``data_type = "s"``, the value unchanged: no apostrophe is added), whichever code wrote it
(openpyxl directly or pandas' ``to_excel``). zpb's own formulas (a protocol's point totals) are
written with :func:`formula` and kept. A text cell is never evaluated, so values starting with
``+``, ``-``, ``@``, a tab or a carriage return stay text too; numbers and dates written as such stay
numbers and dates.
"""
from __future__ import annotations

import os
import weakref
from pathlib import Path
from typing import Any

from zpb_lib.core.files import save_workbook

TEXT = "s"
_TAKEN_FOR_CODE = ("f", "e")  # openpyxl's data types for a text it took for a formula or an error value
# Coordinates of zpb's own formulas, per worksheet (cells have __slots__, worksheets can be weak keys).
_OWN: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()


def formula(ws: Any, row: int, column: int, expression: str) -> Any:
    """Write zpb's own formula (``=SUM(F9:F40)``), kept as a formula by :func:`save`."""
    if not expression.startswith("="):
        raise ValueError(f"a formula starts with '=': {expression!r}")
    cell = ws.cell(row=row, column=column)
    cell.value = expression
    _OWN.setdefault(ws, set()).add(cell.coordinate)
    return cell


def literal_cells(wb: Any) -> int:
    """Make every text cell of ``wb`` that openpyxl took for a formula or an error value a text
    cell again, except zpb's own formulas; returns how many it changed."""
    changed = 0
    for ws in wb.worksheets:
        own = _OWN.get(ws, set())
        # ws._cells holds the cells written; iterating rows instead would create every empty cell. A
        # write-only sheet has none to check afterwards: zpb writes none (AttributeError says so).
        for cell in ws._cells.values():
            if cell.data_type in _TAKEN_FOR_CODE and isinstance(cell.value, str) and cell.coordinate not in own:
                cell.data_type = TEXT
                changed += 1
    return changed


def save(wb: Any, out: str | os.PathLike[str]) -> Path:
    """Save ``wb`` to ``out`` with its data as literal cells (:func:`literal_cells`), atomically (a
    temporary file next to it, then a rename; a disk's refusal is a message:
    :func:`zpb_lib.core.files.save_workbook`)."""
    literal_cells(wb)
    return save_workbook(wb, out)
