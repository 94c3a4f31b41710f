"""Checks a workbook (an XLSX zip archive) must pass before any part of it is parsed.

Every importer of a workbook calls :func:`open_workbook` first. From the zip's central directory,
without decompressing anything, it refuses an archive of too many members, a member name given
twice, encrypted or unusually compressed members, members whose data overlap (the "overlapping
files" zip bomb), a part or the whole archive expanding beyond the limits of the file's kind, and a
part compressed far harder than any real sheet is. Then it reads the start of every XML part,
decompressing with a cap, and refuses a document type declaration: SpreadsheetML never has one, and
it is what entity expansion ("billion laughs") and external entities (XXE) need. With ``scan`` (for
the readers built on openpyxl, which cannot be stopped half way) it also streams every worksheet and
the string table once, refusing rows, columns or strings beyond the limits before openpyxl sees them.

The limits are those of :mod:`zpb_lib.core.limits`; every refusal is an :class:`IngestError` naming the
file, the part and the limit, and the environment variable that changes it.
"""
from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Callable, Iterator
from xml.parsers.expat import ExpatError, ParserCreate

from zpb_lib.core.limits import MIB, WHAT, ArchiveLimits, FileLimits, LimitsError, archive_limits
from zpb_lib.ingest import IngestError

CHUNK = 1 << 20
_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")  # the 30 bytes before a member's name
_XML_SUFFIXES = (".xml", ".rels", ".vml")
_STRINGS_PART = "xl/sharedstrings.xml"


class _Stop(Exception):
    """Ends a scan early (the prolog is read: the root element started)."""


def mb(n: int) -> str:
    return f"{n / MIB:,.1f} MB".replace(",", " ")


def _refuse(path: Path, message: str) -> IngestError:
    return IngestError(path, message)


def limit_text(lim: FileLimits, field: str, what: str) -> str:
    """„; the limit for a survey export is 256 MB ($ZPB_MAX_SURVEY_PART_MB changes it)”."""
    value = getattr(lim, field)
    unit = " MB" if field.endswith("_mb") else " KB" if field.endswith("_kb") else ""
    shown = f"{value:,}{unit}".replace(",", " ")
    return f"; the limit for {what} of {WHAT[lim.kind]} is {shown} (${lim.variable(field)} changes it)"


def open_workbook(path: Path, data: bytes, lim: FileLimits, *, scan: bool = False,
                  archive: ArchiveLimits | None = None) -> zipfile.ZipFile:
    """The workbook's zip archive once every check has passed; raises :class:`IngestError`."""
    try:
        archive = archive or archive_limits()
    except LimitsError as exc:
        raise _refuse(path, f"cannot check the file: {exc}") from None
    problem = directory_problem(data, archive)
    if problem:
        raise _refuse(path, problem)
    try:
        book = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, EOFError, struct.error, NotImplementedError, OverflowError):
        raise _refuse(path, "not a valid XLSX workbook: the zip archive is damaged or truncated") from None
    infos = book.infolist()
    _check_directory(path, data, book, infos, lim, archive)
    for info in infos:
        if info.filename.lower().endswith(_XML_SUFFIXES):
            scan_part(path, book, info, _prolog_only)
    if scan:
        for info in infos:
            name = info.filename.lower()
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                scan_part(path, book, info, SheetBounds(path, info.filename, lim).handlers)
            elif name == _STRINGS_PART:
                scan_part(path, book, info, StringCount(path, info.filename, lim).handlers)
    return book


_EOCD = b"PK\x05\x06"
_ENTRY_BYTES = 1024  # a central directory entry with a generous name: 46 bytes and the name


def directory_problem(data: bytes, archive: ArchiveLimits) -> str | None:
    """What is wrong with the size of the zip's central directory, read from its end record before
    Python's zipfile builds an object per entry (a million entries would cost hundreds of MB)."""
    at = data.rfind(_EOCD, max(0, len(data) - 65_557))
    if at < 0 or at + 22 > len(data):
        return None  # no end record: zipfile says the archive is damaged
    entries, size = struct.unpack_from("<HI", data, at + 10)
    if entries == 0xFFFF or size == 0xFFFFFFFF:  # ZIP64: the real figures are in its own end record
        loc = at - 20
        if loc >= 0 and data[loc:loc + 4] == b"PK\x06\x07":
            (offset,) = struct.unpack_from("<Q", data, loc + 8)
            if data[offset:offset + 4] == b"PK\x06\x06" and offset + 56 <= len(data):
                entries, size = struct.unpack_from("<QQ", data, offset + 32)
    if entries > archive.members or size > archive.members * _ENTRY_BYTES:
        shown = f"{entries:,}".replace(",", " ")
        return (f"the workbook's zip archive lists {shown} members in a directory of {mb(size)}; a workbook has "
                f"tens, and the limit is {archive.members:,} (${archive.variable('members')} changes it)"
                .replace(",", " "))
    return None


def _check_directory(path: Path, data: bytes, book: zipfile.ZipFile, infos: list[zipfile.ZipInfo],
                     lim: FileLimits, archive: ArchiveLimits) -> None:
    """What the central directory says, checked without decompressing."""
    if len(infos) > archive.members:
        raise _refuse(path, f"the workbook's zip archive has {len(infos):,} members; a workbook has tens, and the "
                            f"limit is {archive.members:,} (${archive.variable('members')} changes it)"
                      .replace(",", " "))
    seen: set[str] = set()
    total = 0
    for info in infos:
        name = info.filename
        if name.lower() in seen:
            raise _refuse(path, f"the member „{name}” is in the zip archive twice: not a workbook Excel writes")
        seen.add(name.lower())
        if info.flag_bits & 0x1:
            raise _refuse(path, f"the member „{name}” is encrypted: save the workbook without a password")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _refuse(path, f"the member „{name}” is compressed with method {info.compress_type}, which Excel "
                                "never uses: save the workbook again from Excel")
        lower = name.lower()
        main = (lower.startswith("xl/worksheets/") and lower.endswith(".xml")) or lower == _STRINGS_PART
        cap = lim.part_bytes if main else archive.other_part_mb * MIB
        if info.file_size > cap:
            limit = (limit_text(lim, "part_mb", "one part") if main else
                     f"; the limit for such a part is {archive.other_part_mb} MB "
                     f"(${archive.variable('other_part_mb')} changes it)")
            raise _refuse(path, f"part „{name}” expands to {mb(info.file_size)}{limit}")
        total += info.file_size
        if total > lim.workbook_bytes:
            raise _refuse(path, f"the workbook's parts expand to more than {mb(total)} (at „{name}”)"
                                + limit_text(lim, "workbook_mb", "a whole workbook"))
        if info.file_size > archive.ratio_grace_mb * MIB and \
                info.file_size > archive.ratio * max(info.compress_size, 1):
            raise _refuse(path, f"part „{name}” is compressed {info.file_size / max(info.compress_size, 1):,.0f} "
                                f"times ({mb(info.compress_size)} expanding to {mb(info.file_size)}); real sheets "
                                f"are compressed 10–20 times, and the limit is {archive.ratio} "
                                f"(${archive.variable('ratio')} changes it): a zip bomb, not a workbook"
                          .replace(",", " "))
    _check_overlaps(path, data, book, infos)


def _check_overlaps(path: Path, data: bytes, book: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> None:
    """Each member's data must lie in its own stretch of the file, before the central directory:
    members sharing data are how a few kilobytes declare gigabytes ("overlapping files" bombs)."""
    end_of_data = getattr(book, "start_dir", len(data))
    previous_end, previous = 0, None
    for info in sorted(infos, key=lambda i: i.header_offset):
        start = info.header_offset
        header = data[start:start + _LOCAL_HEADER.size]
        if len(header) < _LOCAL_HEADER.size or header[:4] != b"PK\x03\x04":
            raise _refuse(path, f"the member „{info.filename}” has no local header where the directory says: the "
                                "zip archive is damaged or crafted")
        name_len, extra_len = _LOCAL_HEADER.unpack(header)[-2:]
        end = start + _LOCAL_HEADER.size + name_len + extra_len + info.compress_size
        if start < previous_end:
            raise _refuse(path, f"the members „{previous}” and „{info.filename}” overlap in the zip archive "
                                "(they share compressed data): a zip bomb, not a workbook")
        if end > end_of_data:
            raise _refuse(path, f"the member „{info.filename}” runs past the end of the archive's data: the zip "
                                "archive is damaged or crafted")
        previous_end, previous = end, info.filename


def read_part(path: Path, book: zipfile.ZipFile, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """A part's bytes in chunks, never more than its declared size: a central directory that
    understates a part (to pass the checks above) is caught here, not believed."""
    got = 0
    try:
        with book.open(info) as fh:
            while True:
                chunk = fh.read(CHUNK)
                if not chunk:
                    return
                got += len(chunk)
                if got > info.file_size:
                    raise _refuse(path, f"part „{info.filename}” expands beyond the {mb(info.file_size)} the "
                                        "archive's directory declares: a zip bomb, not a workbook")
                yield chunk
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, NotImplementedError, RuntimeError) as exc:
        raise _refuse(path, f"part „{info.filename}” cannot be read: the zip archive is damaged ({exc})") from None


def refuse_doctype(path: Path, part: str) -> Callable[..., None]:
    """An expat handler refusing a document type declaration (entities, external references)."""
    def handler(*_: object) -> None:
        raise _refuse(path, f"part „{part}” declares a document type (<!DOCTYPE …>), which no workbook has: "
                            "entity expansion and external entities are refused")
    return handler


def _prolog_only(parser, path: Path, part: str) -> None:
    """Read up to the root element: a document type declaration can only come before it."""
    def stop(*_: object) -> None:
        raise _Stop
    parser.StartElementHandler = stop


def scan_part(path: Path, book: zipfile.ZipFile, info: zipfile.ZipInfo,
              handlers: Callable[[object, Path, str], None]) -> None:
    """Stream one XML part through expat with ``handlers(parser, path, part)`` set; a DOCTYPE is
    refused whatever the handlers."""
    parser = ParserCreate()
    handlers(parser, path, info.filename)
    parser.StartDoctypeDeclHandler = refuse_doctype(path, info.filename)
    parser.EntityDeclHandler = refuse_doctype(path, info.filename)
    try:
        for chunk in read_part(path, book, info):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except _Stop:
        return
    except ExpatError as exc:
        raise _refuse(path, f"part „{info.filename}” is not well-formed XML ({exc}): the workbook is damaged") \
            from None


def col_index(ref: str) -> int:
    """1-based column of a cell reference ("AB12" → 28); 0 when it has no letters."""
    n = 0
    for ch in ref:
        if "A" <= ch <= "Z":
            n = n * 26 + ord(ch) - 64
        elif "a" <= ch <= "z":
            n = n * 26 + ord(ch) - 96
        else:
            break
    return n


class SheetBounds:
    """Counts a worksheet's rows and finds its rightmost cell, refusing either beyond the limits.
    Row numbers count too: a sheet whose only rows are 1 and 1,000,000 reads as a million rows."""

    def __init__(self, path: Path, part: str, lim: FileLimits, header_rows: int = 1):
        self.path, self.part, self.lim = path, part, lim
        self.max_row = lim.rows + header_rows
        self.rows = 0
        self.row = 0

    def handlers(self, parser, path: Path, part: str) -> None:
        parser.StartElementHandler = self.start

    def start(self, name: str, attrs: dict) -> None:
        if ":" in name:
            name = name.rsplit(":", 1)[1]
        if name == "row":
            self.rows += 1
            r = attrs.get("r")
            self.row = int(r) if r and r.isdigit() else self.row + 1
            self.check_row(self.row)
        elif name == "c":
            ref = attrs.get("r")
            if ref:
                self.check_column(col_index(ref), ref)

    def check_row(self, row: int) -> None:
        if row > self.max_row or self.rows > self.max_row:
            raise _refuse(self.path, f"part „{self.part}” reaches row {max(row, self.rows):,}"
                                     .replace(",", " ") + limit_text(self.lim, "rows", "the rows of a sheet"))

    def check_column(self, column: int, ref: str) -> None:
        if column > self.lim.columns:
            raise _refuse(self.path, f"part „{self.part}” has a cell in column {column:,} (cell {ref})"
                                     .replace(",", " ") + limit_text(self.lim, "columns", "the columns of a sheet"))


class StringCount:
    """Counts the entries of the shared string table."""

    def __init__(self, path: Path, part: str, lim: FileLimits):
        self.path, self.part, self.lim, self.n = path, part, lim, 0

    def handlers(self, parser, path: Path, part: str) -> None:
        parser.StartElementHandler = self.start

    def start(self, name: str, attrs: dict) -> None:
        if name == "si" or name.endswith(":si"):
            self.n += 1
            if self.n > self.lim.strings:
                raise _refuse(self.path, too_many_strings(self.part, self.n, self.lim))


def too_many_strings(part: str, n: int, lim: FileLimits) -> str:
    return (f"part „{part}” holds more than {n - 1:,} distinct texts".replace(",", " ")
            + limit_text(lim, "strings", "the shared texts"))
