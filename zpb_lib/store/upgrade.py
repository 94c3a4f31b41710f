"""``zpb db upgrade``: bring a database of an older schema to the current one without losing a row.

The upgrade copies the file first (SQLite's online backup, so a database in WAL mode is copied
whole), then works in one transaction: every table is rebuilt from the current schema and its rows
copied across (SQLite cannot add a CHECK or a foreign key to an existing table), version-specific
steps fill what older versions lacked, the reference tables are brought in line with ``data/``, the
foreign keys are checked, and every table must hold as many rows as before. Any failure rolls the
whole upgrade back and leaves the file as it was.

A PostgreSQL database is created at schema version 4 or later (no older one exists): there the
upgrade runs the steps from version 4 on with ``ALTER`` statements (PostgreSQL can add columns,
constraints and triggers to a table in place) and brings the reference tables in line with
``data/``, in one transaction; the rights of ``zpb db roles`` are brought up to date when the
database has them. A backup is the server's (``pg_dump``) before an upgrade.
"""
from __future__ import annotations

import datetime as dt
import os
import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from zpb_lib.core.files import atomic_path
from zpb_lib.reference import Reference, reference
from zpb_lib.reference.identifiers import demo_identifiers
from zpb_lib.store.backend import POSTGRESQL, SQLITE, Connection, Timeouts, display
from zpb_lib.store.connection import (StoreError, current_schema, init_data_version, open_file, resolve_db_path,
                         schema_version)
from zpb_lib.store.frames import tables
from zpb_lib.store.queries.meta import is_synthetic, meta_value
from zpb_lib.store.roles import RolesResult, apply_roles
from zpb_lib.store.schema import (CHANGED_TABLES, DATA_VERSION_TABLE, SCHEMA_VERSION, ddl, deliveries_table,
                                  email_column, journal_table, pg_functions, pg_triggers, statements)
from zpb_lib.store.write import set_meta, sync_reference, transaction

_CREATE = re.compile(r"^\s*CREATE\s+(TABLE|INDEX|TRIGGER)\s+(\w+)", re.I)


@dataclass
class UpgradeResult:
    path: "Path | str"
    from_version: int
    to_version: int
    backup: Path | None
    rows: dict[str, int] = field(default_factory=dict)  # rows per table after the upgrade
    reference_changes: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        if self.from_version == self.to_version and not self.reference_changes:
            return [f"{self.path}: schema version {self.to_version} is current; reference data unchanged; "
                    "nothing to do"]
        out = []
        if self.from_version != self.to_version:
            out.append(f"{self.path}: upgraded from schema version {self.from_version} to {self.to_version}; "
                       f"every table kept its rows ({sum(self.rows.values()):,} rows)".replace(",", " "))
        for table, changes in self.reference_changes.items():
            out.append(f"  reference table {table}: " + "; ".join(changes))
        out.extend(f"  {n}" for n in self.notes)
        if self.backup:
            out.append(f"  backup of the previous file: {self.backup}")
        return out


def backup_path(path: Path, version: int) -> Path:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    candidate = path.with_name(f"{path.stem}.schema-v{version}-backup-{stamp}{path.suffix}")
    n = 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.stem}.schema-v{version}-backup-{stamp}-{n}{path.suffix}")
    return candidate


def _backup(con: Connection, dest: Path) -> None:
    """A complete copy or none: SQLite's online backup into a temporary file, then a rename."""
    with atomic_path(dest) as tmp:
        out = sqlite3.connect(tmp)
        try:
            con.driver_connection.backup(out)
        finally:
            out.close()


def upgrade(db: str | os.PathLike | None = None, *, ref: Reference | None = None,
            make_backup: bool = True) -> UpgradeResult:
    """Upgrade the database at ``db`` to :data:`SCHEMA_VERSION` and sync its reference tables."""
    ref = ref or reference()
    path = resolve_db_path(db)
    with open_file(path, timeouts=Timeouts.for_command("long")) as con:
        version = schema_version(con, path)
        if con.backend != SQLITE:
            return _upgrade_server(con, path, version, ref)
        if version > SCHEMA_VERSION:
            raise StoreError(f"{path} was written by a newer zpb (schema version {version}; this zpb knows up to "
                             f"{SCHEMA_VERSION}): it cannot be downgraded; update zpb to use it")
        result = UpgradeResult(path, version, SCHEMA_VERSION, None)
        if version == SCHEMA_VERSION:
            con.begin("write")  # a dry pass tells whether the reference tables would change
            try:
                result.reference_changes = sync_reference(con, ref)
            finally:
                con.rollback()
            if not result.reference_changes:
                return result
        if make_backup:
            result.backup = backup_path(path, version)
            _backup(con, result.backup)
        # Foreign keys cannot be switched inside a transaction; they are checked by hand before COMMIT.
        con.script("PRAGMA foreign_keys = OFF")
        try:
            with transaction(con):
                before = _counts(con)
                for step in range(version, SCHEMA_VERSION):
                    STEPS[step](con, ref, result)
                if version != SCHEMA_VERSION:
                    _rebuild(con, ref)
                result.reference_changes = sync_reference(con, ref)
                problems = con.execute("PRAGMA foreign_key_check").fetchall()
                if problems:
                    table, rowid, parent, _ = problems[0]
                    raise StoreError(f"upgrade of {path} refused: {len(problems)} row(s) refer to missing rows "
                                     f"(first: {table} row {rowid} → {parent}); the file is unchanged")
                after = _counts(con)
                lost = {t: (n, after.get(t)) for t, n in before.items() if after.get(t, 0) < n}
                if lost:
                    raise StoreError(f"upgrade of {path} refused: rows would be lost {lost}; the file is unchanged")
                set_meta(con, "schema_version", str(SCHEMA_VERSION))
                set_meta(con, "upgraded_at", dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"))
                result.rows = after
        finally:
            con.script("PRAGMA foreign_keys = ON")
        return result


def _upgrade_server(con: Connection, path: str, version: int, ref: Reference) -> UpgradeResult:
    """PostgreSQL: the version steps and the reference tables, in one transaction."""
    name = display(path)
    if version > SCHEMA_VERSION:
        raise StoreError(f"{name} was written by a newer zpb (schema version {version}; this zpb knows up to "
                         f"{SCHEMA_VERSION}): it cannot be downgraded; update zpb to use it")
    if version < min(PG_STEPS, default=SCHEMA_VERSION):  # pragma: no cover - none was ever made
        raise StoreError(f"{name} has schema version {version}: no upgrade step for PostgreSQL exists")
    result = UpgradeResult(name, version, SCHEMA_VERSION, None)
    con.begin("write")
    try:
        before = _counts(con)
        for step in range(version, SCHEMA_VERSION):
            PG_STEPS[step](con, ref, result)
        result.reference_changes = sync_reference(con, ref)
        if version == SCHEMA_VERSION and not result.reference_changes:
            con.rollback()
            return result
        if version != SCHEMA_VERSION:
            if con.execute("SELECT relrowsecurity FROM pg_class WHERE oid = to_regclass('institutions')").fetchone()[0]:
                apply_roles(con, ref, RolesResult(name))
                result.notes.append("the rights of `zpb db roles` were brought up to date")
            set_meta(con, "schema_version", str(SCHEMA_VERSION))
        after = _counts(con)
        lost = {t: (n, after.get(t)) for t, n in before.items() if after.get(t, 0) < n}
        if lost:
            raise StoreError(f"upgrade of {name} refused: rows would be lost {lost}; the database is unchanged")
        set_meta(con, "upgraded_at", dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"))
    except BaseException:
        con.rollback()
        raise
    con.commit()
    result.rows = _counts(con)
    return result


def _counts(con: Connection) -> dict[str, int]:
    names = [t for t in tables(con) if not t.startswith("_zpb_new_")]
    return {t: con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in names}


def _columns(con: Connection, table: str) -> list[str]:
    return [r[1] for r in con.execute(f"PRAGMA table_info({table})")]


def _rebuild(con: Connection, ref: Reference) -> None:
    """Recreate every table from the current schema and copy its rows (the documented way to
    change a SQLite table's constraints). A column the new schema lacks would lose data: refused."""
    tables, later = [], []
    for stmt in statements(ddl(ref)):
        m = _CREATE.match(stmt)
        if m is None:
            raise StoreError(f"unexpected statement in the schema: {stmt[:60]}")
        (tables if m.group(1).upper() == "TABLE" else later).append((m.group(2), stmt))
    existing = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    for name, stmt in tables:
        con.script(re.sub(rf"^\s*CREATE TABLE {name}\b", f"CREATE TABLE _zpb_new_{name}", stmt, count=1))
        if name not in existing:
            continue
        old, new = _columns(con, name), _columns(con, f"_zpb_new_{name}")
        dropped = [c for c in old if c not in new]
        if dropped:
            raise StoreError(f"the current schema has no column {', '.join(dropped)} of table {name}: "
                             "the upgrade would lose data and is refused (were the questionnaires in data/ "
                             "changed?)")
        cols = ", ".join(old)
        con.execute(f"INSERT INTO _zpb_new_{name} ({cols}) SELECT {cols} FROM {name}")
    for name, _ in tables:
        if name in existing:
            con.execute(f"DROP TABLE {name}")
    for name, _ in tables:
        con.execute(f"ALTER TABLE _zpb_new_{name} RENAME TO {name}")
    for _, stmt in later:
        con.script(stmt)


# --------------------------------------------------------------------------- version steps

def _v1_to_v2(con: Connection, ref: Reference, result: UpgradeResult) -> None:
    """Version 1 knew institutions only by their internal id. A synthetic database gets the demo
    generator's identifiers for them (the same ones `zpb demo` now gives); no other kind of database
    could be filled in version 1, so one that holds institutions cannot be given real identifiers."""
    con.execute("ALTER TABLE institutions ADD COLUMN rspo INTEGER")
    con.execute("ALTER TABLE institutions ADD COLUMN polon TEXT")
    rows = con.execute("SELECT i.id, k.family FROM institutions i JOIN institution_kinds k ON k.code = i.kind "
                       "ORDER BY i.id").fetchall()
    if not rows:
        return
    if not is_synthetic(con):
        raise StoreError("upgrade refused: this version-1 database holds institutions that are not demo data, and "
                         "version 2 identifies every institution by its RSPO number or POL-on id, which version 1 "
                         "did not record; the file is unchanged")

    seed = meta_value(con, "demo_seed")
    ids = demo_identifiers(int(seed) if seed is not None else 0, rows)
    con.executemany("UPDATE institutions SET rspo = ?, polon = ? WHERE id = ?",
                    [(rspo, polon, iid) for iid, (rspo, polon) in ids.items()])
    result.notes.append(f"{len(ids)} demo institutions were given the demo generator's RSPO numbers and POL-on ids")


def _v2_to_v3(con: Connection, ref: Reference, result: UpgradeResult) -> None:
    """Version 3 adds the answer „Nowhere — there are no such places” (``place_nowhere``) to the
    dangerous-places question. The rebuild adds the column, empty, to every stored response; nothing
    else changes. The old answers keep their meaning: before version 3 the questionnaire had no such
    option, so an empty places answer there may mean "nowhere" as well as "skipped" — it cannot be told
    apart and stays counted as skipped (outside the places' shares), as it was."""
    n = con.execute("SELECT COUNT(*) FROM survey_responses").fetchone()[0]
    if n:
        result.notes.append(f"{n:,} survey responses stored before have no „nowhere” answer (place_nowhere empty): "
                            "an empty places answer among them stays counted as skipped".replace(",", " "))


def _v3_to_v4(con: Connection, ref: Reference, result: UpgradeResult) -> None:
    """Version 4 names the data by a counter every change advances (table ``data_version``) rather
    than by a hash of the file. The table is made here, with a new database identity, so that the
    rebuild keeps it; the rebuild adds the triggers that advance it; the rows stay as they were."""
    con.script(DATA_VERSION_TABLE)
    init_data_version(con)
    result.notes.append("the data version is now a counter of changes (table data_version): the next build "
                        "computes its reports once more, then only after a change")


def _v4_to_v5(con: Connection, ref: Reference, result: UpgradeResult) -> None:
    """Version 5 records who made each import and for which police unit; the rebuild adds the two
    columns, empty for the imports made before (their maker was not recorded), and the check that
    change records name only the tables an import changes."""
    n = con.execute("SELECT COUNT(*) FROM imports").fetchone()[0]
    if n:
        result.notes.append(f"{n} import(s) made before record no login (imported_by empty)")


def _pg_v4_to_v5(con: Connection, ref: Reference, result: UpgradeResult) -> None:
    """PostgreSQL: the same columns and check added in place; the trigger functions replaced by ones
    with a fixed search path, and the triggers that keep rows and change records to the import of
    their own transaction added."""
    con.script("ALTER TABLE imports ADD COLUMN imported_by TEXT")
    con.script("ALTER TABLE imports ADD COLUMN unit TEXT REFERENCES police_units(code)")
    con.script(f"ALTER TABLE import_changes ADD CONSTRAINT import_changes_tbl_check CHECK "
               f"(tbl IN ({', '.join(repr(t) for t in CHANGED_TABLES)}))")
    for stmt in statements(pg_functions(current_schema(con)), POSTGRESQL):
        con.script(stmt.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
    existing = {r[0] for r in con.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")}
    names = tables(con)
    for stmt in statements(pg_triggers(names), POSTGRESQL):
        name = re.match(r"\s*CREATE TRIGGER (\w+)", stmt).group(1)
        if name not in existing:
            con.script(stmt)
    _v4_to_v5(con, ref, result)


def _v5_to_v6(con: Connection, ref: Reference, result: UpgradeResult) -> None:
    """Version 6 lets an import record the rows it removes (a register row marked „Usuń”) in
    ``import_changes``, which ``zpb imports undo`` puts back. A SQLite file holds them in the tables it
    has: nothing to change but the version; the rows stay as they were."""
    result.notes.append("imports may now remove register rows (the „Usuń” column); `zpb imports undo` puts them back")


def _pg_v5_to_v6(con: Connection, ref: Reference, result: UpgradeResult) -> None:
    """PostgreSQL: the provenance functions replaced by those that accept a removal record only with
    the row as it is before it goes, and a row back with its first import only from such a record."""
    for stmt in statements(pg_functions(current_schema(con)), POSTGRESQL):
        con.script(stmt.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
    _v5_to_v6(con, ref, result)


def _v6_to_v7(con: Connection, ref: Reference, result: UpgradeResult) -> None:
    """Version 7 records the person an import was made for through the web app; the rebuild adds
    the column, empty for the imports made before (none of them was made through it)."""
    n = con.execute("SELECT COUNT(*) FROM imports").fetchone()[0]
    if n:
        result.notes.append(f"{n} import(s) made before name no person (imports.person empty: not made through "
                            "the web app)")


def _pg_v6_to_v7(con: Connection, ref: Reference, result: UpgradeResult) -> None:
    """PostgreSQL: the column added in place; the rule that only the web app's login records a
    person, and always, comes with the rights of `zpb db roles` (brought up to date after the steps)."""
    con.script("ALTER TABLE imports ADD COLUMN person TEXT")
    _v6_to_v7(con, ref, result)


def _v7_to_v8(con: Connection, ref: Reference, result: UpgradeResult) -> None:
    """Version 8 adds the web app's journal; the rebuild makes the table, empty (nothing before was
    journalled), without a data version trigger (its rows are not report data)."""
    result.notes.append("the web app now keeps a journal (table journal: logins, imports, undos, downloads), "
                        "empty until the app is used; only analysts read it")


def _pg_v7_to_v8(con: Connection, ref: Reference, result: UpgradeResult) -> None:
    """PostgreSQL: the table made in place; who may add and read its rows comes with the rights of
    `zpb db roles` (brought up to date after the steps)."""
    for stmt in statements(journal_table(POSTGRESQL), POSTGRESQL):
        con.script(stmt)
    _v7_to_v8(con, ref, result)


def _v8_to_v9(con: Connection, ref: Reference, result: UpgradeResult) -> None:
    """Version 9 adds each school's e-mail address and the record of reports sent by e-mail; the
    rebuild adds the column, empty (the next RSPO import fills it), and the table, empty, without a
    data version trigger (its rows are not report data)."""
    result.notes.append("schools' e-mail addresses are now kept (institutions.email), empty until the next import "
                        "of an RSPO export (`zpb ingest institutions`); reports sent by e-mail (`zpb deliver`) are "
                        "recorded in table deliveries")


def _pg_v8_to_v9(con: Connection, ref: Reference, result: UpgradeResult) -> None:
    """PostgreSQL: the column and the table made in place; who may add and read the table's rows
    comes with the rights of `zpb db roles` (brought up to date after the steps)."""
    con.script(f"ALTER TABLE institutions ADD COLUMN {email_column(POSTGRESQL)}")
    for stmt in statements(deliveries_table(POSTGRESQL), POSTGRESQL):
        con.script(stmt)
    _v8_to_v9(con, ref, result)


STEPS: dict[int, Callable[[Connection, Reference, UpgradeResult], None]] = {
    1: _v1_to_v2, 2: _v2_to_v3, 3: _v3_to_v4, 4: _v4_to_v5, 5: _v5_to_v6, 6: _v6_to_v7, 7: _v7_to_v8, 8: _v8_to_v9}
# PostgreSQL databases exist from schema version 4 on.
PG_STEPS: dict[int, Callable[[Connection, Reference, UpgradeResult], None]] = {
    4: _pg_v4_to_v5, 5: _pg_v5_to_v6, 6: _pg_v6_to_v7, 7: _pg_v7_to_v8, 8: _pg_v8_to_v9}
