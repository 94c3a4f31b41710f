"""Reading the filled register workbook: the rows of each register sheet it holds, their columns
found by header text in any order, and the items of a published list left without an
institution; the header rows' problems refuse the file."""
from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

from zpb_lib.core.text import column_letter, norm
from zpb_lib.ingest import IngestError, Problem, Problems, is_blank, limits_for
from zpb_lib.ingest.archive import open_workbook
from zpb_lib.ingest.register.layout import INSTITUTIONS_SHEET, LIST_LINE_HEADER, SHEETS, Sheet


@dataclass(frozen=True)
class Cell:
    sheet: str
    row: int
    col: int  # 0-based
    header: str  # as written in the file
    value: object

    def problem(self, message: str) -> Problem:
        return Problem(message, self.row, self.header, column_letter(self.col), self.sheet)

    @property
    def empty(self) -> bool:
        return self.value is None or (isinstance(self.value, str) and not self.value.strip())

    @property
    def text(self) -> str:
        return "" if self.value is None else " ".join(str(self.value).split())


@dataclass
class RawRow:
    sheet: Sheet
    row: int
    cells: dict[str, Cell]  # column key -> cell

    def problem(self, key: str, message: str) -> Problem:
        return self.cells[key].problem(message)


def _open_workbook(path: Path, data: bytes):
    # openpyxl: loaded only when a workbook is read
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    if is_blank(data):
        raise IngestError(path, "the file is empty")
    if not data.startswith(b"PK\x03\x04"):
        raise IngestError(path, "not an XLSX workbook (not a zip archive): save the register as an Excel "
                                "workbook (.xlsx), e.g. the one `zpb template register` writes")
    # Sizes, ratio, DOCTYPE, rows, columns and strings, before openpyxl parses anything.
    open_workbook(path, data, limits_for(path, "register"), scan=True)
    try:
        return load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except zipfile.BadZipFile:
        raise IngestError(path, "not a valid XLSX workbook: the zip archive is damaged or truncated") from None
    except (InvalidFileException, KeyError, OSError, ValueError, TypeError) as exc:
        raise IngestError(path, f"not a valid XLSX workbook ({exc})") from None


@dataclass(frozen=True)
class Unmatched:
    """A row of a `zpb match` workbook left without an institution: the list's item it stands for."""
    sheet: str
    row: int
    column: str  # letter of the institution column
    line: str


@dataclass
class SheetRows:
    sheets: dict[str, list[RawRow]]  # register sheet → its non-empty rows
    unmatched: list[Unmatched]
    lookup: bool  # the workbook has the sheet of institutions to look identifiers up in


def read_sheets(path: Path, data: bytes) -> SheetRows:
    """The rows of each register sheet the workbook holds (by sheet name), fully empty rows left out."""
    wb = _open_workbook(path, data)
    try:
        by_norm = {norm(name): name for name in wb.sheetnames}
        present = {s.name: by_norm[norm(s.name)] for s in SHEETS if norm(s.name) in by_norm}
        if not present:
            raise IngestError(path, "none of the register sheets ("
                              + ", ".join(f"„{s.name}”" for s in SHEETS) + ") is in the workbook "
                              f"(it has {', '.join(f'„{n}”' for n in wb.sheetnames)}); make the register with "
                              "`zpb template register`")
        problems = Problems(path)
        out = SheetRows({}, [], norm(INSTITUTIONS_SHEET) in by_norm)
        for sheet in SHEETS:
            if sheet.name in present:
                out.sheets[sheet.name], found = _read_sheet(wb[present[sheet.name]], sheet, present[sheet.name],
                                                            out.unmatched)
                for p in found:
                    problems.add(p)
        problems.raise_if_any()
        return out
    finally:
        wb.close()


def _read_sheet(ws, sheet: Sheet, title: str, unmatched: list[Unmatched]) -> tuple[list[RawRow], list[Problem]]:
    """The non-empty rows of one sheet, its columns found by header text in any order; or the
    problems of its header row. Items of a published list left without an institution go to
    ``unmatched``."""
    ws.reset_dimensions()  # rows as long as their cells, not as a <dimension> element claims
    rows = ws.iter_rows(values_only=True)
    header = next(rows, None) or ()
    wanted = {norm(c.header): c for c in sheet.columns}
    found: dict[str, tuple[int, str]] = {}  # key -> (0-based column, header as written)
    line_col: int | None = None
    problems: list[Problem] = []
    for i, value in enumerate(header):
        col = wanted.get(norm(value)) if value is not None else None
        if col is None:
            if value is not None and norm(value) == norm(LIST_LINE_HEADER) and line_col is None:
                line_col = i
            continue  # informational columns (e.g. from `zpb match`) and anything else a person added
        if col.key in found:
            problems.append(Problem(f"column „{col.header}” appears twice (columns {column_letter(found[col.key][0])} "
                                    f"and {column_letter(i)}); keep one", 1, str(value), column_letter(i), title))
            continue
        found[col.key] = (i, str(value))
    missing = [c.header for c in sheet.columns if not c.info and not c.optional and c.key not in found]
    if missing:
        needed = ", ".join(f"„{c.header}”" for c in sheet.columns if not c.info and not c.optional)
        problems.append(Problem(f"column(s) {', '.join(f'„{m}”' for m in missing)} missing from the header row; "
                                f"the sheet needs the columns {needed} (in any order)", 1, sheet=title))
    if problems:
        return [], problems
    out: list[RawRow] = []
    for r, values in enumerate(rows, start=2):
        cells = {key: Cell(title, r, i, head, values[i] if i < len(values) else None)
                 for key, (i, head) in found.items() if not sheet.col(key).info}
        if all(c.empty for c in cells.values()):
            continue
        line = values[line_col] if line_col is not None and line_col < len(values) else None
        inst = cells.get("institution")
        if inst is not None and inst.empty and line is not None and str(line).strip():
            unmatched.append(Unmatched(title, r, column_letter(inst.col), " ".join(str(line).split())))
            continue
        out.append(RawRow(sheet, r, cells))
    return out, []
