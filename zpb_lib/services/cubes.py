"""The edition's cube for pages that show it live (the web app's school page and indicators): a
build's cube while it is current, else the cache next to the database
(:func:`zpb_lib.report.context.current_cube`), read into memory once per process and data version.

The first page of an edition after an import computes the cube (seconds); every page after that
reads the frames already in memory. Twenty coordinators opening their desks at once compute it
once: a lock per database and edition makes the others wait for the first one's result.
"""
from __future__ import annotations

import threading
from pathlib import Path

from zpb_lib.batch.pipeline import CUBE_FILE
from zpb_lib.domain.edition_data import EditionData, read_cube
from zpb_lib.reference import reference
from zpb_lib.report.context import current_cube
from zpb_lib.services.imports import Db

_held: dict[tuple[str, str], tuple[Path, int, EditionData]] = {}
_locks: dict[tuple[str, str], threading.Lock] = {}
_locks_lock = threading.Lock()


def build_cube(reports: Path, edition: str) -> Path:
    """Where `zpb build --out REPORTS` leaves the edition's cube."""
    return Path(reports) / edition.replace("/", "-") / CUBE_FILE


def edition_data(db: Db, edition: str, reports: Path | None = None) -> EditionData:
    """The current cube of ``edition`` with the explorer's frames over it (:class:`EditionData`).
    ``reports``: the folder of built reports, whose cube is used while it is current."""
    key = (str(db), edition)
    with _locks_lock:
        lock = _locks.setdefault(key, threading.Lock())
    with lock:
        ref = reference()
        path = current_cube(db, edition, ref=ref,
                            candidates=[build_cube(reports, edition)] if reports is not None else [])
        stamp = path.stat().st_mtime_ns  # a build writes its cube anew at the same path
        held = _held.get(key)
        if held is not None and held[0] == path and held[1] == stamp:
            return held[2]
        data = EditionData(read_cube(path), ref)
        _held[key] = (path, stamp, data)
        return data
