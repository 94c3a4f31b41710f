"""Reading tables people bring: CSV (UTF-8 with or without BOM, or Windows-1250 as Polish Excel
saves it; comma, semicolon or tab separated) and XLSX workbooks (first sheet, read with a streaming
expat parser). Shared by the importers; each decides what the columns mean.

The format is recognised from the bytes (a zip archive is a workbook; otherwise the encoding and the
delimiter of the header line decide), because people rename and re-save files freely.
"""
from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence
from xml.etree import ElementTree as ET
from xml.parsers.expat import ExpatError, ParserCreate

from zpb_lib.core.limits import FileLimits, LimitsError, archive_limits, file_limits
from zpb_lib.ingest import IngestError, Problem, is_blank
from zpb_lib.core.text import norm
from zpb_lib.ingest.archive import (col_index, directory_problem, limit_text, open_workbook, read_part, refuse_doctype,
                      too_many_strings)

@dataclass
class Table:
    """A file's cells as the user sees them in a spreadsheet: a header and numbered rows."""
    format: str
    header: list[str]
    rows: Iterator[tuple[int, Sequence[object]]]  # (row number as in a spreadsheet; cells)
    ragged: bool  # CSV: a row with another field count than the header is an error
    header_row: int = 1
    encoding: str | None = None  # CSV: "UTF-8" or "Windows-1250"
    delimiter: str | None = None  # CSV: the field separator


SURVEY_HINT = "save it from Google Forms as CSV, or from Excel as „CSV UTF-8” or „CSV (rozdzielany przecinkami)”"


def read_table(path: Path, data: bytes, *, hint: str = SURVEY_HINT, comma_cp1250: bool = False,
               limits: FileLimits | None = None) -> Table:
    """The file's header and a lazy iterator over its rows. ``hint`` ends encoding errors with how to
    save the file right. A comma-separated CSV must be UTF-8 (Google Forms writes nothing else)
    unless ``comma_cp1250``: lists kept by hand in Excel come comma-separated in Windows-1250 too.
    ``limits`` (a survey export's by default) bound the rows and columns read, and a workbook's
    archive before it is opened (:mod:`zpb_lib.ingest.archive`)."""
    limits = limits or file_limits("survey")
    if is_blank(data):
        raise IngestError(path, "the file is empty")
    if data.startswith(b"PK\x03\x04"):
        return _xlsx_table(path, data, limits)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise IngestError(path, "an old Excel .xls workbook; save it as .xlsx (Excel workbook) or as CSV")
    if path.suffix.lower() in (".xlsx", ".xlsm") and not _looks_like_text(data):
        raise IngestError(path, "not a valid XLSX workbook (not a zip archive): the file is damaged or truncated")
    return _csv_table(path, data, hint, comma_cp1250, limits)


def _looks_like_text(data: bytes) -> bool:
    head = data[:4096]
    return b"\x00" not in head and not head.startswith((b"\xff\xfe", b"\xfe\xff"))


def _line_of(data: memoryview, pos: int) -> int:
    return bytes(data[:pos]).count(b"\n") + 1


def _header_delimiter(text: str) -> str:
    """The delimiter of the first record: semicolon when any unquoted one is there (Polish Excel),
    else comma (Google Forms). Quoted question texts may hold commas; they are skipped."""
    counts = Counter()
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        elif not quoted:
            if ch == "\n":
                break
            if ch in ",;\t":
                counts[ch] += 1
    if counts[";"]:
        return ";"
    if counts["\t"] and not counts[","]:
        return "\t"
    return ","


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # never in a text export


class _BadByte(Exception):
    """A byte the encoding cannot decode, at ``pos`` of the body."""

    def __init__(self, pos: int):
        super().__init__(pos)
        self.pos = pos


def _decode_checked(view: memoryview, encoding: str) -> tuple[int, str] | None:
    """Check that the whole text decodes in ``encoding``, a chunk at a time (the decoded text is never
    held whole); raises :class:`_BadByte`. Returns the line and character of the first control
    character, if any (reported once the encoding is settled)."""
    decode = codecs.getdecoder(encoding) if encoding != "utf-8" else None
    pos, lines, control = 0, 0, None
    while pos < len(view):
        chunk = view[pos:pos + _DECODE_CHUNK]
        final = pos + _DECODE_CHUNK >= len(view)
        try:
            if decode is None:
                text, used = codecs.utf_8_decode(chunk, "strict", final)
            else:
                text, used = decode(chunk, "strict")
        except UnicodeDecodeError as exc:
            raise _BadByte(pos + exc.start) from None
        bad = _CONTROL.search(text) if control is None else None
        if bad is not None:
            control = (lines + text.count("\n", 0, bad.start()) + 1, bad.group())
        lines += text.count("\n")
        pos += used
    return control


class _LongLine(Exception):
    """A line longer than the limit: never read whole."""


def _lines(text: io.TextIOBase, limit: int) -> Iterator[str]:
    """The text's lines as csv reads them (line ends kept), none longer than ``limit`` characters."""
    while True:
        line = text.readline(limit + 1)
        if not line:
            return
        if len(line) > limit:
            raise _LongLine
        yield line


_DECODE_CHUNK = 1 << 20
_FIELD_LIMIT = "field larger than field limit"


def _csv_table(path: Path, data: bytes, hint: str, comma_cp1250: bool, limits: FileLimits) -> Table:
    if not _looks_like_text(data):
        raise IngestError(path, f"wrong encoding: the file is UTF-16 or binary, not a CSV text in UTF-8 or "
                                f"Windows-1250; {hint}")
    bom = data.startswith(b"\xef\xbb\xbf")
    body = memoryview(data)[3:] if bom else memoryview(data)
    delimiter = _header_delimiter(bytes(body[:65536]).decode("latin-1"))
    try:
        control = _decode_checked(body, "utf-8")
        encoding = "UTF-8"
    except _BadByte as exc:
        line = _line_of(body, exc.pos)
        if bom or (delimiter == "," and not comma_cp1250):
            raise IngestError(path, Problem(
                f"wrong encoding: byte 0x{body[exc.pos]:02X} is not valid UTF-8; a "
                f"{'file with a UTF-8 mark' if bom else 'comma-separated (Google Forms) export'} must be UTF-8 "
                f"(this looks like Windows-1250 or another code page); {hint}", row=line)) from None
        try:
            control = _decode_checked(body, "cp1250")
            encoding = "Windows-1250"
        except _BadByte as exc2:
            raise IngestError(path, Problem(
                f"wrong encoding: byte 0x{body[exc2.pos]:02X} is neither UTF-8 nor Windows-1250; {hint}",
                row=_line_of(body, exc2.pos))) from None
    if control is not None:
        raise IngestError(path, Problem(f"wrong encoding or not a text file: control character "
                                        f"U+{ord(control[1]):04X}; {hint}", row=control[0]))
    separated = {",": "comma", ";": "semicolon", "\t": "tab"}[delimiter] + "-separated"
    source = {(",", "UTF-8"): "Google Forms CSV", (";", "Windows-1250"): "CSV saved by Excel"}
    name = f"{source.get((delimiter, encoding), 'CSV')} ({encoding}, {separated})"
    # Decoded as it is read: the bytes are in memory already, the text is never held whole.
    stream = io.BytesIO(data)
    stream.seek(3 if bom else 0)
    text = io.TextIOWrapper(stream, encoding="utf-8" if encoding == "UTF-8" else "cp1250", newline="")
    reader = csv.reader(_lines(text, limits.line_kb * 1024), delimiter=delimiter, strict=True)

    def record(n: int) -> list[str] | None:
        try:
            fields = next(reader)
        except StopIteration:
            return None
        except _LongLine:
            raise IngestError(path, Problem("a line longer than any export has"
                                            + limit_text(limits, "line_kb", "a line"), row=n)) from None
        except csv.Error as exc:
            if _FIELD_LIMIT in str(exc):
                raise IngestError(path, Problem(f"a field is longer than {csv.field_size_limit():,} characters "
                                                "(no answer or name is): not an export of a form or a register"
                                                .replace(",", " "), row=n)) from None
            if n == 1:
                raise IngestError(path, Problem(f"the header cannot be read as CSV ({exc})", row=1)) from None
            raise IngestError(path, Problem(f"the file is truncated or damaged: {exc} (a quoted field "
                                            "is not closed)", row=n)) from None
        if len(fields) > limits.columns:
            raise IngestError(path, Problem(f"the row has {len(fields):,} fields".replace(",", " ")
                                            + limit_text(limits, "columns", "the columns of a row"), row=n))
        return fields

    header = record(1)
    if header is None:
        raise IngestError(path, "the file is empty")

    def rows() -> Iterator[tuple[int, Sequence[object]]]:
        n = 1
        while True:
            fields = record(n + 1)
            if fields is None:
                return
            n += 1
            if n > limits.rows + 1:
                raise IngestError(path, Problem(f"more than {limits.rows:,} rows".replace(",", " ")
                                                + limit_text(limits, "rows", "the rows"), row=n))
            yield n, fields

    return Table(name, header, rows(), ragged=True, encoding=encoding, delimiter=delimiter)


_XLSX_ERRORS = (KeyError, IndexError, ExpatError, SyntaxError, EOFError, zlib.error, ValueError)  # SyntaxError: ET


def _xlsx_table(path: Path, data: bytes, limits: FileLimits) -> Table:
    """The first sheet of a workbook. Read with a streaming expat parser rather than openpyxl, which
    takes about 20 s for a 50,000-row export; only values are needed, not styles or formulas. The
    archive is checked first (sizes, ratio, no DOCTYPE: :func:`zpb_lib.ingest.archive.open_workbook`);
    rows and columns are bounded while the sheet streams."""
    damaged = "the workbook is damaged or truncated"
    book = open_workbook(path, data, limits)
    try:
        sheet_name, sheet_path = _first_sheet(book)
        strings = _shared_strings(path, book, limits)
        it = _sheet_rows(path, book, sheet_path, strings, limits)
        first = next(it, None)
    except IngestError:
        raise
    except zipfile.BadZipFile:
        raise IngestError(path, "not a valid XLSX workbook: the zip archive is damaged or truncated") from None
    except _XLSX_ERRORS as exc:
        raise IngestError(path, f"not a valid XLSX workbook or {damaged} ({exc})") from None
    if first is None:
        raise IngestError(path, "the workbook's first sheet is empty")
    header = ["" if v is None else str(v) for v in first[1]]
    while header and not header[-1].strip():
        header.pop()
    keys = {norm(h) for h in header}
    kind = "Microsoft Forms XLSX" if {"id", "start time"} <= keys or {"id", "godzina rozpoczęcia"} <= keys \
        else "XLSX workbook"

    def rows() -> Iterator[tuple[int, Sequence[object]]]:
        try:
            yield from it
        except IngestError:
            raise
        except (zipfile.BadZipFile, *_XLSX_ERRORS) as exc:
            raise IngestError(path, f"{damaged} ({exc})") from None

    return Table(f"{kind}, sheet „{sheet_name}”", header, rows(), ragged=False, header_row=first[0])


_NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def _first_sheet(book: zipfile.ZipFile) -> tuple[str, str]:
    """Name and zip path of the workbook's first sheet (tab order), via the workbook's relations.
    Both parts were checked (size, no DOCTYPE) by :func:`open_workbook`."""
    wb = ET.fromstring(book.read("xl/workbook.xml"))
    sheet = wb.find(f"{{{_NS_MAIN}}}sheets/{{{_NS_MAIN}}}sheet")
    if sheet is None:
        raise KeyError("the workbook has no sheet")
    rid = sheet.get(f"{{{_NS_REL}}}id")
    rels = ET.fromstring(book.read("xl/_rels/workbook.xml.rels"))
    target = next((r.get("Target") for r in rels if r.get("Id") == rid), None)
    if not target:
        raise KeyError(f"the workbook's relations do not locate sheet {sheet.get('name')!r}")
    return sheet.get("name", "?"), target.lstrip("/") if target.startswith("/") else f"xl/{target}"


def _parse(path: Path, book: zipfile.ZipFile, part: str, parser) -> Iterator[None]:
    """Feed a part to ``parser`` a chunk at a time, yielding after each (a DOCTYPE is refused)."""
    parser.StartDoctypeDeclHandler = refuse_doctype(path, part)
    parser.EntityDeclHandler = refuse_doctype(path, part)
    parser.buffer_text = True
    for chunk in read_part(path, book, book.getinfo(part)):
        parser.Parse(chunk, False)
        yield
    parser.Parse(b"", True)
    yield


def _shared_strings(path: Path, book: zipfile.ZipFile, limits: FileLimits) -> list[str]:
    """The workbook's string table: each item's text runs joined, phonetic hints (rPh) left out."""
    part = next((n for n in book.namelist() if n.lower() == "xl/sharedstrings.xml"), None)
    if part is None:
        return []
    out: list[str] = []
    buf: list[str] = []
    state = {"t": False, "rph": 0}

    def start(name: str, attrs: dict) -> None:
        local = name.rsplit(" ", 1)[-1]
        if local == "si":
            buf.clear()
            if len(out) >= limits.strings:
                raise IngestError(path, too_many_strings(part, len(out) + 1, limits))
        elif local == "rPh":
            state["rph"] += 1
        elif local == "t" and not state["rph"]:
            state["t"] = True

    def end(name: str) -> None:
        local = name.rsplit(" ", 1)[-1]
        if local == "si":
            out.append("".join(buf))
        elif local == "rPh":
            state["rph"] -= 1
        elif local == "t":
            state["t"] = False

    def text(data: str) -> None:
        if state["t"]:
            buf.append(data)

    parser = ParserCreate(namespace_separator=" ")
    parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = start, end, text
    for _ in _parse(path, book, part, parser):
        pass
    return out


_COLUMNS: dict[str, int] = {}


def _col_index(ref: str) -> int:
    """0-based column of a cell reference ("AB12" → 27), memoised: the same few letters repeat."""
    letters = ref.rstrip("0123456789")
    try:
        return _COLUMNS[letters]
    except KeyError:
        n = col_index(letters) - 1
        if len(_COLUMNS) < 20_000:  # the memo stays small whatever a file holds
            _COLUMNS[letters] = n
        return n


def _sheet_rows(path: Path, book: zipfile.ZipFile, sheet_path: str, strings: list[str],
                limits: FileLimits) -> Iterator[tuple[int, list[object]]]:
    """(row number, cell values) of a sheet, streamed in chunks; cells placed by their reference.
    A row beyond ``limits.rows`` (by count or by number: a sheet of rows 1 and 1,000,000 is a
    million rows long) or a cell beyond ``limits.columns`` is refused as soon as it is read."""
    ready: list[tuple[int, list[object]]] = []
    row: list[object] = []
    cur = {"row": 0, "col": -1, "type": "n", "text": False, "rph": 0, "rows": 0}
    buf: list[str] = []
    max_row = limits.rows + 1  # the header and the data rows

    def start(name: str, attrs: dict) -> None:
        if ":" in name:  # a prefixed namespace (some writers use <x:c>)
            name = name.rsplit(":", 1)[1]
        if name == "c":
            ref = attrs.get("r")
            cur["col"] = _col_index(ref) if ref else cur["col"] + 1
            if cur["col"] >= limits.columns:
                raise IngestError(path, Problem(f"a cell stands in column {cur['col'] + 1:,}".replace(",", " ")
                                                + limit_text(limits, "columns", "the columns of a sheet"),
                                                row=cur["row"]))
            cur["type"] = attrs.get("t", "n")
            buf.clear()
        elif (name == "v" or name == "t") and not cur["rph"]:
            cur["text"] = True
        elif name == "row":
            row.clear()
            cur["row"] = int(attrs["r"]) if "r" in attrs else cur["row"] + 1
            cur["rows"] += 1
            cur["col"] = -1
            if cur["row"] > max_row or cur["rows"] > max_row:
                raise IngestError(path, Problem(f"the sheet reaches row {max(cur['row'], cur['rows']):,}"
                                                .replace(",", " ") + limit_text(limits, "rows", "the rows of a sheet"),
                                                row=cur["row"]))
        elif name == "rPh":  # phonetic hint of an inline string: not part of the value
            cur["rph"] += 1

    def end(name: str) -> None:
        if ":" in name:
            name = name.rsplit(":", 1)[1]
        if name == "c":
            raw = "".join(buf)
            t = cur["type"]
            if t == "s":
                value: object = strings[int(raw)] if raw else None
            elif t in ("inlineStr", "str", "e"):
                value = raw
            elif t == "b":
                value = raw == "1"
            elif raw:
                number = float(raw)
                value = int(number) if number.is_integer() else number
            else:
                value = None
            col = cur["col"]
            if col >= len(row):
                row.extend([None] * (col - len(row) + 1))
            row[col] = value
        elif name == "v" or name == "t":
            cur["text"] = False
        elif name == "rPh":
            cur["rph"] -= 1
        elif name == "row":
            ready.append((cur["row"], list(row)))

    def text(data: str) -> None:
        if cur["text"]:
            buf.append(data)

    parser = ParserCreate()  # no namespace processing: SpreadsheetML uses the default namespace
    parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = start, end, text
    for _ in _parse(path, book, sheet_path, parser):
        yield from ready
        ready.clear()


_SIGNATURES = (
    (b"%PDF", "a PDF document"), (b"\x89PNG\r\n\x1a\n", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"), (b"GIF89a", "a GIF image"), (b"II*\x00", "a TIFF image"), (b"MM\x00*", "a TIFF image"),
    (b"{\\rtf", "an RTF document"), (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"), (b"Rar!", "a RAR archive"))


def document_kind(data: bytes) -> str | None:
    """What a file that is not a table is ("a PDF document", "a web page (HTML)"), from its first
    bytes; None when it may be a table. Lets an importer say what was given instead of an encoding
    error."""
    for magic, kind in _SIGNATURES:
        if data.startswith(magic):
            return kind
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<!doctype html", b"<html")):
        return "a web page (HTML)"
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "a WebP image"
    if data.startswith(b"BM") and data[6:10] == b"\x00\x00\x00\x00":  # "BM", size, reserved zeros
        return "a BMP image"
    return None


# What a zip archive holds, by a member that names its kind (an Office Open XML or OpenDocument file).
_ZIP_KINDS = (("word/", "a Word document (.docx)"), ("ppt/", "a PowerPoint presentation (.pptx)"),
              ("mimetype", "an OpenDocument file (.ods/.odt)"))


def not_a_table(data: bytes) -> str | None:
    """What a file that cannot be a table export is — :func:`document_kind`, or a zip archive that is
    not an Excel workbook, or a binary file — from its bytes; None when it may be a table (CSV text
    in any encoding, or a workbook, damaged or not: those get their own messages from
    :func:`read_table`)."""
    kind = document_kind(data)
    if kind:
        return kind
    if data.startswith(b"PK\x03\x04"):
        try:
            if directory_problem(data, archive_limits()):
                return None  # read_table refuses the archive, saying why
        except LimitsError:
            return None  # and read_table names the variable set wrong
        try:
            names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        except (zipfile.BadZipFile, ValueError, EOFError):
            return None  # a damaged or truncated workbook, as far as we can tell
        if "xl/workbook.xml" in names or not names:
            return None
        tables = [n.rsplit("/", 1)[-1] for n in names if n.lower().endswith((".csv", ".xlsx"))]
        if tables:  # Google Forms downloads its CSV zipped
            shown = ", ".join(f"„{n}”" for n in tables[:3]) + (" …" if len(tables) > 3 else "")
            return f"a zip archive that is not an Excel workbook (unpack it and import the file inside: {shown})"
        return next((k for prefix, k in _ZIP_KINDS if any(n.startswith(prefix) for n in names)),
                    "a zip archive that is not an Excel workbook")
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        return None  # an old .xls workbook (or Word .doc): read_table says how to save it
    head = data[:4096]
    if b"\x00" in head and not _utf16_text(head):
        return "a binary (non-text) file"
    return None


def _utf16_text(head: bytes) -> bool:
    """UTF-16 text (with or without a byte-order mark): zero bytes on one side of (nearly) every
    character of Latin text — the encoding read_table explains, not a binary file."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    even, odd = head[0::2], head[1::2]
    if not odd:
        return False
    return max(even.count(0) / len(even), odd.count(0) / len(odd)) > 0.6 and min(even.count(0), odd.count(0)) == 0
