"""The envelope every import runs in: one transaction (:func:`zpb_lib.store.write.import_transaction`),
a file seen before refused or, when replacing, its import taken back first, the import's provenance
recorded, a dry run rolled back after every check has run, and a write the database refuses
reported as the file's refusal. What an importer stores, and its own checks, run inside::

    with ImportEnvelope(con, path, "audit", content_hash, what="the audit", again=HINT,
                        replace=replace, dry_run=dry_run) as env:
        ...
        import_id = env.record(rows, details)
        ...
    result.import_id = env.import_id  # None after a dry run
"""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Callable, Iterator

from zpb_lib.ingest import DryRun, IngestError, PreviousImport, check_may_replace, previous_import, refused_by_database
from zpb_lib.store.backend import Busy, Connection, IntegrityError, PermissionDenied
from zpb_lib.store.write import delete_import, import_transaction, record_import


class ImportEnvelope:
    """The transaction of one import of ``path`` (``kind`` as recorded in ``imports``).

    ``what`` names what the database refused ("the responses"); ``again`` is the advice, in
    parentheses, when the same file (``content_hash``) was imported before and ``replace`` is not
    given. With ``replace`` that import is taken back first, once the login may
    (:func:`check_may_replace`); ``before_replacing`` runs just before, to look at or refuse what is
    about to go. :attr:`replaced` is then the import taken back."""

    def __init__(self, con: Connection, path: str | Path, kind: str, content_hash: str, *, what: str, again: str,
                 replace: bool = False, dry_run: bool = False,
                 before_replacing: Callable[[PreviousImport], None] | None = None):
        self.con, self.path, self.kind, self.content_hash = con, Path(path), kind, content_hash
        self.what, self.again = what, again
        self.replace, self.dry_run = replace, dry_run
        self.before_replacing = before_replacing
        self.replaced: PreviousImport | None = None
        self.import_id: int | None = None
        self._context: contextlib.AbstractContextManager | None = None

    def __enter__(self) -> ImportEnvelope:
        self._context = self._run()
        return self._context.__enter__()

    def __exit__(self, *exc_info) -> bool | None:
        context, self._context = self._context, None
        return context.__exit__(*exc_info)

    @contextlib.contextmanager
    def _run(self) -> Iterator[ImportEnvelope]:
        try:
            with import_transaction(self.con):
                self._seen_before()
                yield self
                if self.dry_run:
                    raise DryRun  # every check has run: roll back
        except DryRun:
            self.import_id = None
        except (IntegrityError, PermissionDenied, Busy) as exc:
            raise refused_by_database(self.path, self.what, exc) from None

    def _seen_before(self) -> None:
        prev = previous_import(self.con, self.content_hash)
        if prev is None:
            return
        if not self.replace:
            raise IngestError(self.path, f"this file was already imported: {prev.describe()}; nothing was stored "
                                         f"({self.again})")
        check_may_replace(self.path, self.con, prev.id)
        if self.before_replacing is not None:
            self.before_replacing(prev)
        delete_import(self.con, prev.id)
        self.replaced = prev

    def record(self, rows: int, details: str | None) -> int:
        """Record the import (its provenance, in the same transaction); returns its id."""
        self.import_id = record_import(self.con, self.kind, self.path.name, self.content_hash, rows, details)
        return self.import_id
