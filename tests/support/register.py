"""A programme register workbook filled the way a person fills it in Excel, for the register tests
and the end-to-end test. The headers are written out here rather than imported, so that a change of
the workbook's interface fails a test."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Callable, Sequence

import openpyxl

INSTITUTION = "Placówka (RSPO / POL-on)"
NAME = "Nazwa placówki"
HEADERS = {
    "Udział": (INSTITUTION, NAME, "Edycja przystąpienia", "Edycja odejścia"),
    "Nagrody": (INSTITUTION, NAME, "Edycja", "Rodzaj nagrody", "Data przyznania"),
    "Plany działań": (INSTITUTION, NAME, "Edycja", "Obszar", "Rodzaj działania", "Działanie", "Partner", "Termin",
                      "Status"),
    "Partnerzy": ("Nazwa", "Rodzaj", "Powiat"),
}
# The texts people pick from the lists, and what the database stores for them.
AWARD_KINDS = {"certyfikat": "certificate", "przedłużenie": "extension", "Lider Projektu": "leader",
               "uczelnia": "university_certificate"}
AREAS = {"przemoc szkolna": "violence", "miejsca niebezpieczne": "dangerous_places", "inne": "other"}
ACTION_KINDS = {"infrastrukturalne": "infrastructure", "profilaktyczne": "prevention"}
STATUSES = {"planowane": "planned", "w trakcie": "in_progress", "wykonane": "done", "zaniechane": "dropped"}
PARTNER_KINDS = {"policja": "police", "straż miejska": "city_guard", "straż pożarna": "fire_brigade",
                 "samorząd": "local_government", "organizacja pozarządowa": "ngo", "rodzice": "parents",
                 "ochrona zdrowia": "health", "inne": "other"}

# The optional last column of every data sheet: a mark removes the stored row with the row's key.
REMOVE = "Usuń"

Row = Sequence[object]


def fill_register(path: str | Path, participation: Sequence[Row] | None = None, awards: Sequence[Row] | None = None,
                  actions: Sequence[Row] | None = None, partners: Sequence[Row] | None = None, *,
                  edit: Callable[[openpyxl.Workbook], None] | None = None) -> Path:
    """Write a register workbook: one sheet per argument given (None: the sheet is left out), the
    exact headers in row 1 and the rows below, each a tuple of cell values in column order (the
    institution's name included), with one more cell — the „Usuń” mark — where a person marks a
    row for removal (the sheet then has that column). Dates go into date cells, as Excel stores a
    typed date; ``edit(wb)`` may change anything before saving."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in (("Udział", participation), ("Nagrody", awards), ("Plany działań", actions),
                       ("Partnerzy", partners)):
        if rows is None:
            continue
        ws = wb.create_sheet(name)
        marked = any(len(row) == len(HEADERS[name]) + 1 for row in rows)
        ws.append(list(HEADERS[name]) + ([REMOVE] if marked else []))
        for row in rows:
            assert len(row) in (len(HEADERS[name]), len(HEADERS[name]) + marked), \
                f"{name}: {len(HEADERS[name])} cells (and a „Usuń” mark) expected, got {row!r}"
            ws.append(list(row))
            for cell in ws[ws.max_row]:
                if isinstance(cell.value, dt.date):
                    cell.number_format = "DD.MM.YYYY"
    if not wb.sheetnames:
        wb.create_sheet("Arkusz1")  # a workbook needs a sheet; this one is no register sheet
    if edit is not None:
        edit(wb)
    path = Path(path)
    wb.save(path)
    return path
