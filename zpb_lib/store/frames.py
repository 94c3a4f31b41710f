"""Reading tables into pandas with proper dtypes (categoricals for codes, dates, nullable integers),
and whole-database summaries (row counts, content hash)."""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

import pandas as pd

from zpb_lib.store.backend import SQLITE, Connection
from zpb_lib.store.schema import (ACTION_AREAS, ACTION_KINDS, ACTION_STATUSES, AUDIT_KINDS, AWARD_KINDS,
                     PARTNER_KINDS)
from zpb_lib.reference import GROUPS, WAVES

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


def _editions(con: Connection) -> list[str]:
    return [r[0] for r in con.execute("SELECT edition FROM editions ORDER BY start_year")]


def load(con: Connection, table: str, where: str | None = None, params: tuple = ()) -> pd.DataFrame:
    """Table ``table`` (optionally filtered by an SQL ``where`` with ``params``) as a DataFrame."""
    sql = f"SELECT * FROM {table}" + (f" WHERE {where}" if where else "")
    df = con.frame(sql, params)
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


@dataclass
class Frames:
    """The programme tables the scoring layer needs (institutions, participation, audits, their
    items, awards), loaded once: the read model :mod:`zpb_lib.domain.scoring.lifecycle` replays."""
    institutions: pd.DataFrame
    participation: pd.DataFrame
    audits: pd.DataFrame
    audit_items: pd.DataFrame
    awards: pd.DataFrame

    @classmethod
    def load(cls, con: Connection) -> "Frames":
        return cls(load(con, "institutions"), load(con, "participation"), load(con, "audits"),
                   load(con, "audit_items"), load(con, "awards"))


def tables(con: Connection) -> list[str]:
    """The database's tables, by name."""
    if con.backend == SQLITE:
        sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
    else:
        sql = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"
    return [r[0] for r in con.execute(sql)]


def columns(con: Connection, table: str) -> list[str]:
    """The columns of ``table`` in their order."""
    return [c["name"] for c in con.inspector().get_columns(table)]


def primary_key(con: Connection, table: str) -> list[str]:
    return list(con.inspector().get_pk_constraint(table)["constrained_columns"])


def table_counts(con: Connection) -> dict[str, int]:
    """Rows per table the login may read (on PostgreSQL only the analyst reads the journal)."""
    names = tables(con)
    if con.backend != SQLITE:
        names = [t for t in names if con.execute("SELECT has_table_privilege(?, 'SELECT')", (t,)).fetchone()[0]]
    return {t: con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in names}


#: Left out of the content hash: when a database was made and which database it is are not data.
NOT_CONTENT = {"data_version"}


def table_hash(con: Connection, table: str) -> str:
    """SHA-256 of one table's rows in primary-key order (equal on both engines for equal rows)."""
    h = hashlib.sha256()
    cols = columns(con, table)
    order = ", ".join(primary_key(con, table) or cols)
    where = " WHERE key NOT IN ('created_at')" if table == "meta" else ""
    for row in con.execute(f"SELECT * FROM {table}{where} ORDER BY {order}"):
        h.update(repr(tuple(row)).encode())
    h.update(",".join(cols).encode())
    return h.hexdigest()


def content_hash(con: Connection) -> str:
    """SHA-256 of every table's rows in key order: equal hashes mean equal content. The creation
    time in ``meta`` and the data version's row are left out, so that two runs of the same
    generator, or a database and its copy on another engine, compare equal."""
    h = hashlib.sha256()
    for t in tables(con):
        if t in NOT_CONTENT:
            continue
        h.update(f"\x00table {t}\x00".encode())
        h.update(table_hash(con, t).encode())
    return h.hexdigest()


def data_version(db: "Connection | str | os.PathLike") -> str:
    """The data version every build, report and export names: the database's identity and the
    count of changes made to it, as ``<db_id:8>-<count>``. Every write transaction advances it
    (see :func:`.write.transaction`), so it changes exactly when the data does, and reading it
    costs one row (not a hash of the file, which VACUUM or a checkpoint would change)."""
    if isinstance(db, Connection):
        db_id, version = db.execute("SELECT db_id, version FROM data_version WHERE id = 1").fetchone()
        return f"{db_id[:8]}-{version}"
    # a cycle otherwise: connection imports write, which imports this module
    from zpb_lib.store.connection import connect

    with connect(db, readonly=True) as con:
        return data_version(con)
