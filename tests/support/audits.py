"""Audit protocols for tests: a school to audit, a protocol filled with points."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl

EDITION = "2025/2026"
AUDIT_DAY = dt.date(2026, 5, 20)
PARTICIPATES = ("EXISTS (SELECT 1 FROM participation p WHERE p.institution_id = i.id AND p.joined_edition <= {e} "
                "AND (p.left_edition IS NULL OR p.left_edition >= {e}))")


def school(con, edition=EDITION, kind="control", offset=0, also: str | None = None) -> int:
    """The RSPO number of a school of a kind that exists in ``edition``, taking part in it (and in
    edition ``also``), with no audit of ``kind`` stored there."""
    also_sql = f"AND {PARTICIPATES.format(e=':also')} " if also else ""
    return con.execute(
        "SELECT i.rspo FROM institutions i JOIN institution_kinds k ON k.code = i.kind "
        f"WHERE {PARTICIPATES.format(e=':e')} {also_sql}"
        "AND k.family = 'school' AND k.exists_to IS NULL AND i.closed_year IS NULL AND NOT EXISTS "
        "(SELECT 1 FROM audits a WHERE a.institution_id = i.id AND a.edition = :e AND a.kind = :k) "
        "ORDER BY i.id LIMIT 1 OFFSET :o", {"e": edition, "k": kind, "o": offset, "also": also}).fetchone()[0]


BY_RSPO = "(SELECT id FROM institutions WHERE rspo = ?)"


def find_row(ws, column: int, text: str) -> int:
    for r in range(1, ws.max_row + 1):
        if ws.cell(r, column).value == text:
            return r
    raise AssertionError(f"{text!r} not found in column {column}")


def criteria_rows(ws) -> dict[str, int]:
    """Criterion id -> its row, found as an auditor would: below the „Kryterium” header."""
    header = find_row(ws, 2, "Kryterium")
    out = {}
    r = header + 1
    while ws.cell(r, 2).value:
        out[ws.cell(r, 2).value] = r
        r += 1
    return out


def fill(template: Path, out: Path, points: dict[str, int | None], *, kind: str | None = "kontrolny",
         date: object = AUDIT_DAY, edit=None) -> Path:
    """What an auditor does in Excel: choose kind and date, type points; ``edit(ws)`` for mischief."""
    wb = openpyxl.load_workbook(template)
    ws = wb["Protokół audytu"]
    if kind is not None:
        ws.cell(find_row(ws, 1, "Rodzaj audytu"), 4).value = kind
    ws.cell(find_row(ws, 1, "Data audytu"), 4).value = date
    rows = criteria_rows(ws)
    for cid, p in points.items():
        ws.cell(rows[cid], 6).value = p
    if edit:
        edit(ws)
    wb.save(out)
    return out


def full_points(cat, less_every: int = 3) -> dict[str, int]:
    return {c.id: c.max_points - (1 if i % less_every == 0 else 0) for i, c in enumerate(cat.criteria)}
