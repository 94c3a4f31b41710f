"""Database administration: a new empty database, the synthetic demo, what a database holds, its
check, upgrade, copy and the rights of a shared one."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from zpb_lib import store
from zpb_lib.core.errors import ZpbError

if TYPE_CHECKING:  # the modules that make them load when a command needs them
    from zpb_lib.domain.checks import Problem
    from zpb_lib.store.copy import CopyResult
    from zpb_lib.store.roles import RolesResult
    from zpb_lib.store.upgrade import UpgradeResult

class DatabaseExists(ZpbError):
    """A database is already where a new one was to be made; the caller words the refusal."""

    def __init__(self, location: "Path | str"):
        super().__init__(store.display(location))
        self.location = location


@dataclass(frozen=True)
class DatabaseInfo:
    location: "Path | str"  # a file's path or a PostgreSQL URL (store.resolve_db_path)
    synthetic: bool  # made by the demo generator: every report says so
    counts: dict[str, int]  # rows per table, in the store's table order


@dataclass(frozen=True)
class CheckReport:
    location: "Path | str"
    problems: list[Problem]  # integrity and the rules: each makes the check fail
    notes: list[Problem]  # awards recorded without an audit in the database: not errors

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class Created:
    location: "Path | str"
    schema_version: int


@dataclass(frozen=True)
class DemoMade:
    location: "Path | str"
    seconds: float
    seed: int
    scale: float
    info: DatabaseInfo


def info(db: "str | os.PathLike | None" = None) -> DatabaseInfo:
    """Rows per table and whether the data are synthetic."""
    location = store.resolve_db_path(db)
    con = store.connect(location, readonly=True)
    try:
        counts = store.table_counts(con)
        synthetic = store.is_synthetic(con)
    finally:
        con.close()
    return DatabaseInfo(location, synthetic, counts)


def check(db: "str | os.PathLike | None" = None) -> CheckReport:
    """Integrity and the rules (:func:`zpb_lib.domain.checks.check`) and the notes beside them."""
    # domain.checks: only for `zpb check`, not for `zpb --help`
    from zpb_lib.domain.checks import check as problems_of, notes

    location = store.resolve_db_path(db)
    con = store.connect(location, readonly=True)
    try:
        return CheckReport(location, problems_of(con), notes(con))
    finally:
        con.close()


def init(db: "str | os.PathLike | None" = None) -> Created:
    """A new database holding only the reference data; never touches an existing one
    (:class:`DatabaseExists`)."""
    location = store.resolve_db_path(db)
    if store.exists(location):
        raise DatabaseExists(location)
    with store.new_database(location, synthetic=False):  # a file: whole or not at all
        pass
    return Created(location, store.SCHEMA_VERSION)


def demo(db: "str | os.PathLike | None" = None, *, seed: int = 2026, scale: float = 1.0,
         force: bool = False) -> DemoMade:
    """The synthetic demo database (:mod:`zpb_lib.services.demo`); an existing one is replaced only
    with ``force`` (:class:`DatabaseExists` otherwise)."""
    # services.demo: only for `zpb demo`, not for `zpb --help`
    from zpb_lib.services.demo import generate

    location = store.resolve_db_path(db)
    if store.exists(location) and not force:
        raise DatabaseExists(location)
    t0 = time.perf_counter()
    generate(location, seed=seed, scale=scale)
    seconds = time.perf_counter() - t0
    return DemoMade(location, seconds, seed, scale, info(location))


def upgrade(db: "str | os.PathLike | None" = None, *, backup: bool = True) -> UpgradeResult:
    """An older schema brought to the current one, and the reference tables in line with the data folder."""
    # store.upgrade: only when this command runs, not for `zpb --help`
    from zpb_lib.store.upgrade import upgrade as run

    return run(db, make_backup=backup)


def copy(source: "str | os.PathLike", target: "str | os.PathLike", *, overwrite: bool = False) -> CopyResult:
    """A whole database copied (SQLite ↔ PostgreSQL either way) and verified."""
    # store.copy: only when this command runs, not for `zpb --help`
    from zpb_lib.store.copy import copy_database

    return copy_database(source, target, overwrite=overwrite)


def roles(db: "str | os.PathLike | None" = None, *, web_login: str | None = None) -> RolesResult:
    """A shared PostgreSQL database's roles and their rights (row-level security); ``web_login``:
    the existing login the web app connects with, made a member of every role without their rights."""
    # store.roles: only when this command runs, not for `zpb --help`
    from zpb_lib.store.roles import setup_roles

    con = store.connect(db)
    try:
        return setup_roles(con, web_login=web_login)
    finally:
        con.close()
