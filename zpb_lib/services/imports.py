"""Imports as a user asks for them, without a command line: check a file and store it (or only check
it), list the imports, take one back.

A request names the file and the choices of one importer (:class:`SurveyImport`, :class:`AuditImport`,
:class:`InstitutionsImport`, :class:`RegisterImport`); :func:`preview` runs it as a dry run and
:func:`commit` stores it. Both answer with an :class:`ImportOutcome`: the summary lines, the import's
id, or — for a file refused — its problems, located by sheet, row and column. Nothing here prints or
exits; ``db`` is whatever :func:`zpb_lib.store.connect` accepts (a file, a URL, None for the
default), and each call opens and closes its own connection. A database that cannot be opened raises
:class:`zpb_lib.store.StoreError`, as everywhere.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Union

from zpb_lib import store
from zpb_lib.ingest import IngestError, Problem
from zpb_lib.ingest.audit import ingest_audit
from zpb_lib.ingest.institutions import ingest_institutions
from zpb_lib.ingest.published import MatchResult, match_published
from zpb_lib.ingest.register import ingest_register
from zpb_lib.ingest.survey import guess_group, ingest_survey
from zpb_lib.store.backend import Connection
from zpb_lib.store.history import ChainResult, ImportRecord, UndoRefused, UndoResult
from zpb_lib.store.history import list_imports as stored_imports, undo as take_back
from zpb_lib.store.rights import rights_of

Db = Union[str, os.PathLike, None]


# --------------------------------------------------------------------------- requests

@dataclass(frozen=True)
class SurveyImport:
    """A survey export (Google Forms CSV, Microsoft Forms XLSX, CSV saved by Excel) for one target:
    the institution (RSPO number or POL-on id), edition, group and wave. ``replace`` replaces the
    target's stored responses, ``append`` adds to them; ``skip_bad_rows`` stores the rows that can be
    read and names the others."""
    file: str | Path
    institution: int | str
    edition: str
    group: str
    wave: str
    replace: bool = False
    append: bool = False
    skip_bad_rows: bool = False
    importer: ClassVar[str] = "survey"

    def ingest(self, con: Connection, *, dry_run: bool) -> Any:
        return ingest_survey(con, self.file, institution=self.institution, edition=self.edition, group=self.group,
                             wave=self.wave, replace=self.replace, append=self.append, dry_run=dry_run,
                             skip_bad_rows=self.skip_bad_rows)


@dataclass(frozen=True)
class AuditImport:
    """A filled audit protocol; ``kind`` (certification, reaudit, control, leader, or in Polish) when
    the protocol does not choose it; ``replace`` to replace an audit of the same institution, edition
    and kind stored earlier."""
    file: str | Path
    kind: str | None = None
    replace: bool = False
    importer: ClassVar[str] = "audit"

    def ingest(self, con: Connection, *, dry_run: bool) -> Any:
        return ingest_audit(con, self.file, kind=self.kind, replace=self.replace, dry_run=dry_run)


@dataclass(frozen=True)
class InstitutionsImport:
    """The RSPO register's search export, or a list of universities."""
    file: str | Path
    importer: ClassVar[str] = "institutions"

    def ingest(self, con: Connection, *, dry_run: bool) -> Any:
        return ingest_institutions(con, self.file, dry_run=dry_run)


@dataclass(frozen=True)
class RegisterImport:
    """The programme register workbook, or a reviewed `zpb match` result."""
    file: str | Path
    importer: ClassVar[str] = "register"

    def ingest(self, con: Connection, *, dry_run: bool) -> Any:
        return ingest_register(con, self.file, dry_run=dry_run)


ImportRequest = Union[SurveyImport, AuditImport, InstitutionsImport, RegisterImport]


def guess_survey(file: str | Path) -> tuple[str | None, str | None]:
    """(group, wave) an export's content and name suggest, for a form to pre-fill (None: no guess):
    the group from the questionnaire its questions belong to, the wave from a word in its name
    („diagnoza”/baseline, „ewaluacja”/follow-up). The import itself checks against what is chosen."""
    name = Path(file).name.lower()
    wave = ("baseline" if ("diagnoz" in name or "baseline" in name) else
            "follow-up" if ("ewaluac" in name or "follow" in name) else None)
    return guess_group(file), wave


# --------------------------------------------------------------------------- outcomes

@dataclass(frozen=True)
class ImportOutcome:
    """What an import did (or, in a dry run, would do), or why the file was refused."""
    kind: str  # survey | audit | institutions | register
    file_name: str
    dry_run: bool
    import_id: int | None = None  # None: a dry run, or refused
    lines: tuple[str, ...] = ()  # the summary `zpb ingest` prints
    refusal: IngestError | None = None  # the file was refused; nothing was stored
    result: Any = None  # the importer's own result (SurveyImport, AuditImport… of zpb_lib.ingest), None if refused

    @property
    def refused(self) -> bool:
        return self.refusal is not None

    @property
    def problems(self) -> list[Problem]:
        """Each problem of a refused file, located by sheet, row and column (in :attr:`file_name`)."""
        return list(self.refusal.problems) if self.refusal is not None else []

    @property
    def message(self) -> str | None:
        """The refusal as one text: the file, every problem, what they add up to."""
        return str(self.refusal) if self.refusal is not None else None


def preview(db: Db, request: ImportRequest) -> ImportOutcome:
    """Check the file and say what it would store; nothing is stored."""
    return _run(db, request, dry_run=True)


def commit(db: Db, request: ImportRequest) -> ImportOutcome:
    """Check the file and store it in one transaction (nothing is stored when it is refused)."""
    return _run(db, request, dry_run=False)


def _run(db: Db, request: ImportRequest, *, dry_run: bool) -> ImportOutcome:
    name = Path(request.file).name
    con = store.connect(db)
    try:
        result = request.ingest(con, dry_run=dry_run)
    except IngestError as exc:
        return ImportOutcome(request.importer, name, dry_run, refusal=exc)
    finally:
        con.close()
    return ImportOutcome(request.importer, name, dry_run, result.import_id, tuple(result.lines()), result=result)


# --------------------------------------------------------------------------- the list of imports

@dataclass(frozen=True)
class ImportList:
    """The imports the connected login sees as its own: every one, or for a police unit's login only
    its unit's (the ones it may undo)."""
    records: list[ImportRecord]
    unit: str | None = None  # the police unit the list is limited to
    unit_name: str | None = None
    who: str | None = None  # the login and its role, as messages name them
    others: int = 0  # imports of others, not listed


def list_imports(db: Db) -> ImportList:
    con = store.connect(db, readonly=True)
    try:
        rights = rights_of(con)
        unit = None if rights.everything or not rights.units else rights.unit
        records = stored_imports(con, unit=unit)
        if unit is None:
            return ImportList(records)
        return ImportList(records, unit, rights.unit_name(unit), rights.who(), len(stored_imports(con)) - len(records))
    finally:
        con.close()


# --------------------------------------------------------------------------- undo

@dataclass(frozen=True)
class UndoOutcome:
    """What taking back an import did (or would do), or why it cannot be taken back."""
    import_id: int
    dry_run: bool
    with_later: bool
    undone: tuple[int, ...] = ()  # the imports taken back (or that would be), in that order
    lines: tuple[str, ...] = ()  # the summary `zpb imports undo` prints
    refusal: str | None = None  # why not, and what to do; nothing was changed
    result: UndoResult | ChainResult | None = field(default=None, repr=False)

    @property
    def refused(self) -> bool:
        return self.refusal is not None


def undo(db: Db, import_id: int, *, dry_run: bool = False, with_later: bool = False) -> UndoOutcome:
    """Take back import ``import_id`` in one transaction (``with_later``: with every import that
    depends on it)."""
    con = store.connect(db)
    try:
        result = take_back(con, import_id, dry_run=dry_run, with_later=with_later)
    except UndoRefused as exc:
        return UndoOutcome(import_id, dry_run, with_later, refusal=str(exc))
    finally:
        con.close()
    steps = result.results if isinstance(result, ChainResult) else [result]
    return UndoOutcome(import_id, dry_run, with_later, tuple(r.record.id for r in steps), tuple(result.lines()),
                       result=result)


# --------------------------------------------------------------------------- a published list of awards

@dataclass(frozen=True)
class MatchOutcome:
    """A published award list matched to the register: the workbook to review (then to import as
    the register), or why the list was refused."""
    file_name: str
    workbook: Path | None = None
    lines: tuple[str, ...] = ()
    refusal: IngestError | None = None
    result: MatchResult | None = field(default=None, repr=False)

    @property
    def refused(self) -> bool:
        return self.refusal is not None


def match_list(db: Db, file: str | Path, *, edition: str, kind: str, out: str | Path | None = None,
               date: object = None) -> MatchOutcome:
    """Match the published list ``file`` (the awards of ``kind`` in ``edition``) to the register's
    schools and write the workbook to review (``out``; default beside the list). Nothing is stored:
    the reviewed workbook is a :class:`RegisterImport`."""
    name = Path(file).name
    with store.connect(db, readonly=True) as con:
        try:
            result = match_published(con, file, edition=edition, kind=kind, out=out, date=date)
        except IngestError as exc:
            return MatchOutcome(name, refusal=exc)
    return MatchOutcome(name, result.out, tuple(result.lines()), result=result)
