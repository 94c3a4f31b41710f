"""Reading tables into pandas with proper dtypes (categoricals for codes, dates, nullable integers),
and whole-database summaries (row counts, content hash)."""
from __future__ import annotations

import hashlib
import os
import sqlite3

import pandas as pd

from .schema import (ACTION_AREAS, ACTION_KINDS, ACTION_STATUSES, AUDIT_KINDS, AWARD_KINDS,
                     PARTNER_KINDS)
from ..reference import GROUPS, WAVES

DATE_COLUMNS = {"audit_date", "awarded_on", "valid_until", "deadline", "audit_from", "audit_to", "ceremony"}
NULLABLE_INT = {"rspo", "parent_rspo", "in_register", "row_id", "pupils", "closed_year", "opened_year", "number", "exists_to", "exists_from", "audit_id",
                "partner_id", "import_id", "start_year", "institution_id", "id", "rows", "points",
                "max_points", "max_total", "version", "held", "mandatory"}
FIXED_CATEGORIES = {
    ("audits", "kind"): AUDIT_KINDS, ("awards", "kind"): AWARD_KINDS,
    ("action_items", "area"): ACTION_AREAS, ("action_items", "kind"): ACTION_KINDS,
    ("action_items", "status"): ACTION_STATUSES, ("partners", "kind"): PARTNER_KINDS,
    ("survey_responses", "wave"): WAVES, ("survey_responses", "grp"): GROUPS,
}
CODE_COLUMNS = {"county", "police_unit", "family", "catalogue", "criterion", "area"}
EDITION_COLUMNS = {"edition", "joined_edition", "left_edition", "valid_from"}


def _editions(con: sqlite3.Connection) -> list[str]:
    return [r[0] for r in con.execute("SELECT edition FROM editions ORDER BY start_year")]


def load(con: sqlite3.Connection, table: str, where: str | None = None, params: tuple = ()) -> pd.DataFrame:
    """Table ``table`` (optionally filtered by an SQL ``where`` with ``params``) as a DataFrame."""
    sql = f"SELECT * FROM {table}" + (f" WHERE {where}" if where else "")
    df = pd.read_sql_query(sql, con, params=params)
    answer_cols = set()
    if table == "survey_responses":
        answer_cols = {c for c in df.columns if c not in ("id", "institution_id", "edition", "wave", "grp", "import_id")}
    editions = None
    for col in df.columns:
        if (table, col) in FIXED_CATEGORIES:
            df[col] = pd.Categorical(df[col], categories=list(FIXED_CATEGORIES[(table, col)]))
        elif col in EDITION_COLUMNS and not (table == "editions" and col == "edition"):
            editions = editions or _editions(con)
            df[col] = pd.Categorical(df[col], categories=editions, ordered=True)
        elif col in DATE_COLUMNS:
            df[col] = pd.to_datetime(df[col], format="%Y-%m-%d")
        elif col in answer_cols:
            df[col] = df[col].astype("Int8")
        elif col in NULLABLE_INT:
            df[col] = df[col].astype("Int64")
        elif col in CODE_COLUMNS or (col == "kind" and table not in ("imports",)):
            df[col] = df[col].astype("category")
    return df


def tables(con: sqlite3.Connection) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]


def table_counts(con: sqlite3.Connection) -> dict[str, int]:
    return {t: con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables(con)}


def content_hash(con: sqlite3.Connection) -> str:
    """SHA-256 of every table's rows in key order: equal hashes mean equal content. The creation
    time in ``meta`` is left out so that two runs of the same generator compare equal."""
    h = hashlib.sha256()
    for t in tables(con):
        h.update(f"\x00table {t}\x00".encode())
        cols = [r[1] for r in con.execute(f"PRAGMA table_info({t})")]
        pk = [r[1] for r in sorted(con.execute(f"PRAGMA table_info({t})"), key=lambda r: r[5]) if r[5]]
        order = ", ".join(pk or cols)
        where = " WHERE key NOT IN ('created_at')" if t == "meta" else ""
        for row in con.execute(f"SELECT * FROM {t}{where} ORDER BY {order}"):
            h.update(repr(row).encode())
        h.update(",".join(cols).encode())
    return h.hexdigest()


def file_hash(db_path: "str | os.PathLike") -> str:
    """SHA-256 of the database file and its write-ahead log, as bytes: a fast, exact fingerprint of
    the inputs (70 MB in a fraction of a second). Unlike :func:`content_hash` it also changes when
    SQLite merely rewrites pages (VACUUM, a checkpoint), which only costs a rebuild."""
    from pathlib import Path

    h = hashlib.sha256()
    for suffix in ("", "-wal"):
        p = Path(str(db_path) + suffix)
        if p.exists():
            with open(p, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 22), b""):
                    h.update(chunk)
        h.update(b"\x00")
    return h.hexdigest()


def data_version(db: "sqlite3.Connection | str | os.PathLike") -> str:
    """The short data version shown in builds, reports and exports, so that every output names the
    same value: the file hash of the database at a path or of an open connection's database (the
    content hash for an in-memory one)."""
    if not isinstance(db, sqlite3.Connection):
        return file_hash(db)[:16]
    path = next((row[2] for row in db.execute("PRAGMA database_list") if row[1] == "main"), "")
    return (file_hash(path) if path else content_hash(db))[:16]
