"""Real-world inputs: survey exports (Google Forms CSV, Microsoft Forms XLSX, CSV saved by Polish
Excel) and audit protocols (XLSX), each validated and stored in one transaction.

This module holds what the format modules share: the one error class, tolerant text matching, the
checks of the import target (institution, edition) and the duplicate-file check. The format modules
are imported lazily by the CLI so that ``zpb --help`` does not load openpyxl or WeasyPrint.
"""
from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from zpb_lib.core.errors import Refusal
from zpb_lib.domain.institutions import Institution, UnknownInstitution, by_ids, lookup
from zpb_lib.core.limits import MIB, WHAT, FileLimits, LimitsError, file_limits
from zpb_lib.ingest.messages_pl import polish
from zpb_lib.reference import Edition, Reference
from zpb_lib.store.backend import Connection
from zpb_lib.store.history import replace_refusal
from zpb_lib.store.queries.imports import import_of_content
from zpb_lib.store.queries.participation import complex_taking_part, participation_periods
from zpb_lib.store.rights import rights_of

MAX_PROBLEMS = 20  # more than this and the file is probably of another kind; stop and report


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, located as the user sees it: sheet (in a workbook of several),
    spreadsheet row (header = 1), column letter and the column's header text."""
    message: str
    row: int | None = None
    column: str | None = None  # header text as it appears in the file
    letter: str | None = None  # spreadsheet column letter
    sheet: str | None = None  # worksheet name, when the file has several that matter

    def where(self) -> str:
        parts = [f"sheet „{self.sheet}”"] if self.sheet is not None else []
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.letter or self.column is not None:
            col = "column" + (f" {self.letter}" if self.letter else "")
            if self.column is not None:
                col += f" „{self.column}”"
            parts.append(col)
        return ", ".join(parts)

    def in_polish(self) -> str:
        """The message in Polish, for the web app (English when the catalogue has no template for it)."""
        return polish(self.message)

    def __str__(self) -> str:
        where = self.where()
        return f"{where}: {self.message}" if where else self.message


class IngestError(Refusal, ValueError):
    """An input file was refused; nothing was stored. The message names the file, the row and the
    column of each problem and says what was expected."""

    def __init__(self, file: str | Path, problems: Problem | str | Sequence[Problem], more: int = 0,
                 note: str | None = None):
        """``note``: a last line after the problems, saying what they add up to and what to do."""
        if isinstance(problems, (str, Problem)):
            problems = [Problem(problems) if isinstance(problems, str) else problems]
        self.file = Path(file).name
        self.problems = list(problems)
        self.more = more
        self.note = note
        first = self.problems[0]
        self.row, self.column, self.letter = first.row, first.column, first.letter
        self.sheet = first.sheet
        if len(self.problems) == 1 and not more and not note:
            text = f"{self.file}: {first}"
        else:
            total = len(self.problems) + more
            text = (f"{self.file}: {total} problem{'s' if total != 1 else ''}, nothing was stored:\n"
                    + "\n".join(f"  {p}" for p in self.problems))
            if more:
                text += f"\n  … and {more} more"
            if note:
                text += f"\n  {note}"
        super().__init__(text)


class Problems:
    """Collects problems up to :data:`MAX_PROBLEMS`, so that one run shows the analyst everything
    to fix in a file rather than one thing at a time."""

    def __init__(self, file: str | Path):
        self.file, self.items, self.more = file, [], 0

    def add(self, problem: Problem) -> None:
        if len(self.items) < MAX_PROBLEMS:
            self.items.append(problem)
        else:
            self.more += 1

    def full(self) -> bool:
        return len(self.items) >= MAX_PROBLEMS

    def raise_if_any(self) -> None:
        if self.items:
            raise IngestError(self.file, self.items, self.more)


# --------------------------------------------------------------------------- tolerant matching


_BLANK = re.compile(rb"[\s\xef\xbb\xbf]*\Z")


def is_blank(data: bytes) -> bool:
    """Only white space (and a UTF-8 byte-order mark): stops at the first other byte, and never
    copies the data as ``data.strip()`` would."""
    return _BLANK.match(data) is not None


def limits_for(path: str | Path, kind: str) -> FileLimits:
    """The limits in force for a file of ``kind`` (:mod:`zpb_lib.core.limits`); a limit set to nonsense in
    the environment refuses the file with the variable's name rather than a traceback."""
    try:
        return file_limits(kind)
    except LimitsError as exc:
        raise IngestError(path, f"cannot check the file: {exc}") from None


def too_large(size: int, limits: FileLimits) -> str:
    return (f"the file is {size / MIB:,.1f} MB; the limit for {WHAT[limits.kind]} is {limits.file_mb:,} MB "
            f"(${limits.variable('file_mb')} changes it): refused before reading").replace(",", " ")


def file_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_bytes(path: str | Path, limits: FileLimits | None = None) -> bytes:
    """The file's bytes; with ``limits``, a file larger than its kind allows is refused from its
    size on disk, before anything is read."""
    p = Path(path)
    try:
        if limits is None:
            return p.read_bytes()
        with open(p, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size > limits.file_bytes:
                raise IngestError(p, too_large(size, limits))
            data = fh.read(limits.file_bytes + 1)  # a file still growing is caught too
        if len(data) > limits.file_bytes:
            raise IngestError(p, too_large(len(data), limits))
        return data
    except FileNotFoundError:
        raise IngestError(p, "file not found") from None
    except IsADirectoryError:
        raise IngestError(p, "is a folder, not a file") from None
    except OSError as exc:
        raise IngestError(p, f"cannot be read: {exc.strerror or exc}") from None


# --------------------------------------------------------------------------- import target checks

def check_edition(file: str | Path, ref: Reference, edition: str) -> Edition:
    """The edition, written as people write it ("2025/2026", "2025-2026", "XIX"), which must exist
    and have been held (none was during the COVID suspension)."""
    try:
        name = ref.edition_of(edition)
    except KeyError as exc:
        raise IngestError(file, exc.args[0]) from None
    e = ref.editions[name]
    if not e.held:
        raise IngestError(file, f"edition {name}: the programme was suspended that school year "
                                "(no edition was held), so it has no surveys or audits")
    return e


def check_institution(file: str | Path, con: Connection, ref: Reference, institution: object,
                      edition: Edition, *, internal: bool = False) -> Institution:
    """The institution a person named by RSPO number or POL-on id (``internal``: by the internal id
    an older audit protocol carries), which must still exist, as must its kind of school, in
    ``edition``."""
    try:
        if internal:
            iid = int(str(institution).strip())
            found = by_ids(con, [iid]).get(iid)
            if found is None:
                raise UnknownInstitution(f"no institution with the internal id {iid} that this protocol "
                                         "(made by an older zpb) names; make a new protocol with `zpb template audit`")
            inst = found
        else:
            inst = lookup(con, institution)
    except (ValueError, UnknownInstitution) as exc:
        raise IngestError(file, str(exc)) from None
    end_year = edition.start_year + 1  # the calendar year in which the edition's audits take place
    if inst.closed_year is not None and end_year > inst.closed_year:
        raise IngestError(file, f"{inst.label} („{inst.name}”) closed in {inst.closed_year}, before edition "
                                f"{edition.edition}")
    if inst.kind_exists_to is not None and end_year > inst.kind_exists_to:
        raise IngestError(file, f"{inst.label} („{inst.name}”) is a {ref.kinds[inst.kind].name_pl}, a kind of "
                                f"school that ended in {inst.kind_exists_to}, before edition {edition.edition}")
    return inst


def check_participation(file: str | Path, con: Connection, inst: Institution, edition: Edition, *,
                        through_complex: bool = False) -> tuple[int, str] | None:
    """Surveys and audits belong to the editions an institution takes part in: joined in it or
    before, and not left before it (the register records participation). With ``through_complex``
    (surveys) a school of a complex taking part in the edition passes too: it takes part with its
    complex, and its respondents count as the complex's (:mod:`zpb_lib.domain.complexes`); that complex's
    RSPO number and name are returned (None when the institution takes part itself)."""
    periods = participation_periods(con, inst.id)
    e = edition.edition
    if any(j <= e and (left is None or left >= e) for j, left in periods):
        return None
    cx = _complex_taking_part(con, inst, e)
    if cx is not None and through_complex:
        return cx
    who = f"{inst.label} („{inst.name}”)"
    hint = (f"; its complex RSPO {cx[0]} („{cx[1]}”) takes part in {e} for the schools that do not take part on "
            "their own: give the complex's RSPO number, or record this school's own participation in the register"
            if cx is not None else "")
    if not periods:
        raise IngestError(file, f"{who} has no participation in the programme recorded, so it has no surveys or "
                                f"audits in {e}: record when it joined in the register (`zpb template register`, "
                                f"sheet „Udział”, then `zpb ingest register`){hint}")
    spans = ", ".join(f"{j}–{left or 'now'}" for j, left in periods)
    if all(j > e for j, _ in periods):
        when = "before it joined"
    elif all(left is not None and left < e for _, left in periods):
        when = "after it left"
    else:
        when = "outside its participation"
    raise IngestError(file, f"{who} takes part in the programme in {spans}; edition {e} is {when}: correct the "
                            f"edition, or the participation in the register{hint}")


def _complex_taking_part(con: Connection, inst: Institution, edition: str) -> tuple[int, str] | None:
    """(RSPO number, name) of the complex the school belongs to, when that complex takes part in
    ``edition``."""
    row = complex_taking_part(con, inst.id, edition)
    return (int(row[0]), str(row[1])) if row else None


@dataclass(frozen=True)
class PreviousImport:
    id: int
    kind: str
    file_name: str
    imported_at: str
    rows: int

    def describe(self) -> str:
        return f"import #{self.id} of „{self.file_name}” on {self.imported_at[:10]} ({self.rows} rows)"


def previous_import(con: Connection, content_hash: str) -> PreviousImport | None:
    """The earlier import of a file with the same content, if any."""
    row = import_of_content(con, content_hash)
    return PreviousImport(*row) if row else None


class DryRun(Exception):
    """Raised inside the import transaction to roll a dry run back after every check has run."""


def rights_problem(con: Connection, county: str | None, what: str, where: Problem | None = None) -> Problem | None:
    """A problem when the connected login may not change the rows of ``what`` (an institution or a
    partner of ``county``): another police unit's, checked before anything is written so that the
    refusal names the file's row rather than the database's policy. ``where`` locates it."""
    message = rights_of(con).refusal(county, what)
    if message is None:
        return None
    if where is None:
        return Problem(message)
    return Problem(f"{message}", where.row, where.column, where.letter, where.sheet)


def refused_by_database(path: str | Path, what: str, exc: Exception) -> IngestError:
    """The database refused a write the checks let through (a rule, a right, a lock held too long):
    one message naming the file, with the database's own text after it; nothing was stored."""
    return IngestError(path, f"the database refused {what}; nothing was stored: {exc}")


def check_may_replace(path: str | Path, con: Connection, import_id: int) -> None:
    """Refuse to replace (take back) an import the connected login may not undo: another police
    unit's, or an analyst's for a unit's login."""
    refusal = replace_refusal(con, import_id)
    if refusal:
        raise IngestError(path, f"{refusal}; nothing was stored")
