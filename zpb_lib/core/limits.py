"""Bounds on the files zpb reads, in one place.

A file people bring is checked against these before it is parsed (its size on disk; for a workbook,
the expanded size of each part and of the whole archive as the zip's central directory declares
them, the compression ratio and the number of parts) and while it is read (rows, columns, distinct
texts), so that a crafted file — a zip bomb, a sheet of millions of empty rows, a CSV of 200 MB —
is refused in seconds with a message naming the file, instead of filling the memory.

Each default is sized for the largest real file of its kind with room to spare (the reasons are
next to the numbers) and can be changed without touching the code, by an environment variable
``ZPB_MAX_<KIND>_<FIELD>`` (``ZPB_MAX_SURVEY_ROWS=200000``, ``ZPB_MAX_INSTITUTIONS_FILE_MB=200``) or,
for what every workbook shares, ``ZPB_MAX_ZIP_MEMBERS``, ``ZPB_MAX_ZIP_RATIO``,
``ZPB_MAX_ZIP_OTHER_PART_MB``. Sizes are in MiB (2**20 bytes).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Mapping

from zpb_lib.core.settings import Setting, SettingError

MIB = 1 << 20


class LimitsError(SettingError):
    """An environment variable that should set a limit holds no usable number."""


@dataclass(frozen=True)
class FileLimits:
    """The bounds for one kind of input file. A workbook's sheets and a CSV share ``rows`` and
    ``columns``; ``part_mb``, ``workbook_mb`` and ``strings`` apply to workbooks only."""
    kind: str  # survey | institutions | register | audit | published
    file_mb: int  # the file on disk
    rows: int  # data rows of a sheet or a CSV (items of a published list)
    columns: int  # the rightmost column a cell may stand in
    part_mb: int  # one worksheet or string table, expanded
    workbook_mb: int  # all parts of the archive, expanded
    strings: int  # entries of the workbook's shared string table
    # One line of a text file (CSV, list), in KiB of characters: the longest real line is a few KB (an
    # RSPO row ~750 bytes), while a 60 MB field with no line end would be read whole before csv's own
    # limit of 131,072 characters a field could refuse it.
    line_kb: int = 1024

    @property
    def file_bytes(self) -> int:
        return self.file_mb * MIB

    @property
    def part_bytes(self) -> int:
        return self.part_mb * MIB

    @property
    def workbook_bytes(self) -> int:
        return self.workbook_mb * MIB

    def variable(self, field: str) -> str:
        """The environment variable that changes ``field`` („ZPB_MAX_SURVEY_ROWS”)."""
        return f"ZPB_MAX_{self.kind.upper()}_{field.upper()}"


@dataclass(frozen=True)
class ArchiveLimits:
    """What every workbook shares, whatever its kind."""
    # Members of the zip. A workbook has about 10 parts, one with many sheets, comments and
    # pictures a few hundred; thousands are only ever a crafted archive.
    members: int = 1000
    # Expanded/compressed size of one part. Real sheets measured 11–15 (openpyxl and Excel alike,
    # 3,000 to 56,000 rows); deflate reaches ~1,000 only on runs of one byte, as bombs are made.
    ratio: int = 100
    # Parts smaller than this are not held to ``ratio``: a tiny part of repeated markup compresses
    # well and cannot hurt.
    ratio_grace_mb: int = 1
    # Any part other than a worksheet or the string table (styles, theme, drawings, pictures):
    # Excel's own are well under 1 MiB; openpyxl builds an object per style, so a huge styles part
    # would cost memory even though zpb never needs it.
    other_part_mb: int = 16

    def variable(self, field: str) -> str:
        return f"ZPB_MAX_ZIP_{field.upper()}"


# Defaults per kind, with the real files they were sized for.
DEFAULTS: dict[str, FileLimits] = {
    # A class survey has tens to a few thousand rows, a whole university's up to ~20,000; a Google
    # Forms CSV of 50,000 rows (the ingest benchmark) is 12 MB, its Microsoft Forms XLSX 3.4 MB with a
    # 50 MB sheet. The questionnaires have ~60 columns. Rows beyond 100,000 for one school and wave
    # (one 200 MB CSV held 829,800) are not a survey.
    "survey": FileLimits("survey", file_mb=64, rows=100_000, columns=1_000, part_mb=256, workbook_mb=512,
                         strings=1_000_000),
    # The RSPO export of the whole country: ≈ 56,000 rows, 42 MB as CSV, 50–54 columns; re-saved as
    # XLSX its sheet expands to ≈ 150 MB. Twice to three times that passes; ~15 distinct texts a row.
    "institutions": FileLimits("institutions", file_mb=128, rows=200_000, columns=500, part_mb=512,
                               workbook_mb=1024, strings=3_000_000),
    # The register holds Małopolska's institutions (a few thousand), their awards, partners and
    # action plans: the full demo database has ~12,000 actions, real data (≈ 400 institutions in the
    # programme) fewer; 10 columns. The import keeps every row of its four sheets in memory.
    "register": FileLimits("register", file_mb=64, rows=100_000, columns=200, part_mb=128, workbook_mb=512,
                           strings=1_000_000),
    # One audit protocol: a 7-column table of ~40 criteria, the fields above it, the instructions
    # below (about 70 rows, a 30 KB sheet). openpyxl holds every cell of it as an object.
    "audit": FileLimits("audit", file_mb=4, rows=2_000, columns=50, part_mb=4, workbook_mb=32, strings=20_000),
    # A published list of awarded schools: a news item's numbered paragraphs (a few KB, tens of
    # items: 33 in the X edition). Rows are its items, each matched against every school.
    "published": FileLimits("published", file_mb=4, rows=1_000, columns=1, part_mb=1, workbook_mb=1, strings=1),
}
KINDS = tuple(DEFAULTS)
# What a file of each kind is, for messages („the limit for a survey export is …”).
WHAT = {"survey": "a survey export", "institutions": "an RSPO export or a list of universities",
        "register": "a register workbook", "audit": "an audit protocol", "published": "a published list"}


# What each field bounds, for the list of settings (zpb_lib.core.settings.registry).
FIELD_MEANINGS = {
    "file_mb": "MiB of the file on disk", "rows": "data rows of a sheet or a CSV", "columns":
    "the rightmost column a cell may stand in", "part_mb": "MiB of one worksheet or string table, expanded",
    "workbook_mb": "MiB of all parts of a workbook, expanded", "strings": "entries of a workbook's shared string table",
    "line_kb": "KiB of characters of one line of a text file",
    "members": "members of a workbook's zip archive", "ratio": "expanded/compressed size of one part of a workbook",
    "ratio_grace_mb": "MiB under which a part of a workbook is not held to the ratio",
    "other_part_mb": "MiB of a workbook's part other than a worksheet or the string table, expanded",
}


def _fields(limits: FileLimits | ArchiveLimits) -> list[str]:
    return [f.name for f in dataclasses.fields(limits) if f.name != "kind"]


def _setting(limits: FileLimits | ArchiveLimits, field: str) -> Setting:
    what = f" ({WHAT[limits.kind]})" if isinstance(limits, FileLimits) else " (every workbook)"
    return Setting(limits.variable(field), str(getattr(limits, field)), FIELD_MEANINGS[field] + what)


def limit_settings() -> tuple[Setting, ...]:
    """Every ``ZPB_MAX_<KIND>_<FIELD>`` and ``ZPB_MAX_ZIP_<FIELD>`` with its default."""
    return tuple(_setting(limits, field) for limits in (*DEFAULTS.values(), ArchiveLimits())
                 for field in _fields(limits))


def _read(limits: FileLimits | ArchiveLimits, environ: Mapping[str, str] | None) -> dict[str, int]:
    return {field: _setting(limits, field).whole_number(getattr(limits, field), environ=environ, error=LimitsError)
            for field in _fields(limits)}


def file_limits(kind: str, environ: Mapping[str, str] | None = None) -> FileLimits:
    """The limits for ``kind`` in force: the defaults, changed by ``ZPB_MAX_<KIND>_<FIELD>``
    (read from ``environ``, else from the process's environment)."""
    base = DEFAULTS[kind]
    return dataclasses.replace(base, **_read(base, environ))


def archive_limits(environ: Mapping[str, str] | None = None) -> ArchiveLimits:
    """The limits every workbook shares, changed by ``ZPB_MAX_ZIP_<FIELD>``."""
    return ArchiveLimits(**_read(ArchiveLimits(), environ))
