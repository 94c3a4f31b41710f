"""The questions ``zpb db check`` asks of a database: the engine's own integrity checks, and the
rows that break what the schema cannot say (points out of range, audits outside participation,
awards both a complex and its school hold…). Each returns the rows found, in a stable order; the
domain's check words them as problems."""
from __future__ import annotations

from typing import Sequence

from zpb_lib.store.backend import SQLITE, Connection
from zpb_lib.store.frames import tables

# {t}'s institution takes part in {t}'s edition.
_PARTICIPATES = ("EXISTS (SELECT 1 FROM participation p WHERE p.institution_id = {t}.institution_id "
                 "AND p.joined_edition <= {t}.edition AND (p.left_edition IS NULL OR p.left_edition >= {t}.edition))")
# The complex of {t}'s institution takes part in {t}'s edition (zpb_lib.domain.complexes: its schools take
# part with it, and their survey answers are the complex's).
_COMPLEX_PARTICIPATES = (
    "EXISTS (SELECT 1 FROM institutions m JOIN institutions c ON c.rspo = m.parent_rspo AND c.kind = 'complex' "
    "AND c.id <> m.id JOIN participation p ON p.institution_id = c.id WHERE m.id = {t}.institution_id "
    "AND m.kind <> 'complex' AND p.joined_edition <= {t}.edition "
    "AND (p.left_edition IS NULL OR p.left_edition >= {t}.edition))")


# --------------------------------------------------------------------------- the engine's checks

def integrity_errors(con: Connection) -> list[str]:
    """What the engine finds wrong with the file itself (SQLite's integrity check; PostgreSQL keeps
    its own pages consistent, so nothing there)."""
    if con.backend != SQLITE:
        return []
    return [msg for (msg,) in con.execute("PRAGMA integrity_check") if msg != "ok"]


def missing_references(con: Connection) -> list[tuple[str, str, str]]:
    """Rows whose foreign key names a missing row, as ``(table, row, parent table)``; ``row`` is
    "rowid N" (SQLite), "id N" or "-" (a PostgreSQL table without an id). SQLite checks foreign keys
    only while they are switched on (another tool may not); PostgreSQL never lets such a row in,
    unless its checks were switched off (``session_replication_role``, a restore without them)."""
    if con.backend == SQLITE:
        return [(table, f"rowid {rowid}", parent)
                for table, rowid, parent, _fk in con.execute("PRAGMA foreign_key_check")]

    out = []
    inspector = con.inspector()
    for table in tables(con):
        key = "id" if "id" in {c["name"] for c in inspector.get_columns(table)} else None
        for fk in inspector.get_foreign_keys(table):
            cols, parent, ref_cols = fk["constrained_columns"], fk["referred_table"], fk["referred_columns"]
            match = " AND ".join(f"p.{r} = t.{c}" for c, r in zip(cols, ref_cols))
            present = " AND ".join(f"t.{c} IS NOT NULL" for c in cols)
            for (row_key,) in con.execute(f"SELECT {'t.' + key if key else 'NULL'} FROM {table} t WHERE {present} "
                                          f"AND NOT EXISTS (SELECT 1 FROM {parent} p WHERE {match})"):
                out.append((table, f"id {row_key}" if key else "-", parent))
    return out


# --------------------------------------------------------------------------- how rows are named

def institution_identifiers(con: Connection) -> list[tuple[int, int | None, str | None]]:
    """Every institution as ``(id, rspo, polon)``."""
    return con.execute("SELECT id, rspo, polon FROM institutions").fetchall()


def audit_keys(con: Connection) -> list[tuple[int, int, str, str]]:
    """Every audit as ``(id, institution_id, kind, edition)``."""
    return con.execute("SELECT id, institution_id, kind, edition FROM audits").fetchall()


def award_keys(con: Connection) -> list[tuple[int, int, str, str]]:
    """Every award as ``(id, institution_id, kind, edition)``."""
    return con.execute("SELECT id, institution_id, kind, edition FROM awards").fetchall()


# --------------------------------------------------------------------------- rows to look at

def awards_without_audit(con: Connection) -> list[int]:
    """Ids of the awards of known institutions recorded without an audit in the database
    (``audit_id`` empty, or naming an audit that is not there), by edition, kind and id."""
    return [wid for (wid,) in con.execute(
        "SELECT w.id FROM awards w JOIN institutions i ON i.id = w.institution_id "
        "WHERE w.audit_id IS NULL OR NOT EXISTS (SELECT 1 FROM audits a WHERE a.id = w.audit_id) "
        "ORDER BY w.edition, w.kind, w.id")]


def points_out_of_range(con: Connection) -> list[tuple[int, str, int, int | None]]:
    """Audit items whose criterion is not in the audit's catalogue (max_points None) or whose points
    are outside 0–max, as ``(audit_id, criterion, points, max_points)``."""
    return con.execute(
        """SELECT ai.audit_id, ai.criterion, ai.points, c.max_points FROM audit_items ai
           JOIN audits a ON a.id = ai.audit_id
           LEFT JOIN criteria c ON c.catalogue = a.catalogue AND c.criterion = ai.criterion
           WHERE c.max_points IS NULL OR ai.points > c.max_points OR ai.points < 0""").fetchall()


def answers_outside(con: Connection, column: str, allowed: Sequence[int]) -> list[tuple]:
    """Survey answers in ``column`` (a survey item's column) that are none of ``allowed``, counted
    per ``(institution_id, edition, grp, wave, value, count)``."""
    values = ", ".join(str(int(v)) for v in allowed)
    return con.execute(
        f"SELECT institution_id, edition, grp, wave, {column}, COUNT(*) FROM survey_responses "
        f"WHERE {column} IS NOT NULL AND {column} NOT IN ({values}) GROUP BY 1, 2, 3, 4, 5").fetchall()


def audits_outside_window(con: Connection) -> list[tuple]:
    """Audits dated outside their edition's audit window, or in an edition not held, as ``(id,
    edition, audit_date, audit_from, audit_to)`` (the window empty when the edition was not held)."""
    return con.execute(
        """SELECT a.id, a.edition, a.audit_date, e.audit_from, e.audit_to FROM audits a
           JOIN editions e ON e.edition = a.edition
           WHERE e.held = 0 OR a.audit_date NOT BETWEEN e.audit_from AND e.audit_to""").fetchall()


def audits_of_ended_kinds(con: Connection) -> list[tuple]:
    """Audits of an institution whose kind had ended by the edition, as ``(id, institution_id,
    edition, kind, exists_to)``."""
    return con.execute(
        """SELECT a.id, a.institution_id, a.edition, i.kind, k.exists_to FROM audits a
           JOIN institutions i ON i.id = a.institution_id JOIN institution_kinds k ON k.code = i.kind
           JOIN editions e ON e.edition = a.edition
           WHERE k.exists_to IS NOT NULL AND e.start_year + 1 > k.exists_to""").fetchall()


def participation_left_before_joining(con: Connection) -> list[tuple]:
    """Participations that end before they begin, as ``(institution_id, joined_edition, left_edition)``."""
    return con.execute(
        "SELECT institution_id, joined_edition, left_edition FROM participation "
        "WHERE left_edition IS NOT NULL AND left_edition < joined_edition").fetchall()


def awards_expiring_before_given(con: Connection) -> list[tuple]:
    """Awards valid until a day not after the award date, as ``(id, awarded_on, valid_until)``."""
    return con.execute("SELECT id, awarded_on, valid_until FROM awards "
                       "WHERE valid_until IS NOT NULL AND valid_until <= awarded_on").fetchall()


def audits_outside_participation(con: Connection) -> list[tuple[int, bool]]:
    """Audits of known institutions in an edition no participation of theirs covers, as ``(id,
    whether the institution's complex takes part in that edition)``."""
    return con.execute(
        f"SELECT id, {_COMPLEX_PARTICIPATES.format(t='a')} FROM audits a WHERE NOT {_PARTICIPATES.format(t='a')} "
        "AND a.institution_id IN (SELECT id FROM institutions)").fetchall()


def surveys_outside_participation(con: Connection) -> list[tuple]:
    """Survey responses of known institutions in an edition in which neither the institution nor
    its complex takes part, counted per ``(institution_id, edition, grp, wave, count)``."""
    return con.execute(
        f"SELECT institution_id, edition, grp, wave, COUNT(*) FROM survey_responses r "
        f"WHERE NOT {_PARTICIPATES.format(t='r')} AND NOT {_COMPLEX_PARTICIPATES.format(t='r')} "
        "AND r.institution_id IN (SELECT id FROM institutions) GROUP BY 1, 2, 3, 4").fetchall()


def awards_also_held_by_complex(con: Connection) -> list[tuple]:
    """Awards of a school whose complex holds the same award of the same edition, as ``(the
    school's award id, the complex's award id, the complex's rspo, the complex's name)``."""
    return con.execute(
        "SELECT w.id, cw.id, c.rspo, c.name FROM awards w JOIN institutions m ON m.id = w.institution_id "
        "JOIN institutions c ON c.rspo = m.parent_rspo AND c.kind = 'complex' AND c.id <> m.id "
        "JOIN awards cw ON cw.institution_id = c.id AND cw.kind = w.kind AND cw.edition = w.edition "
        "WHERE m.kind <> 'complex' ORDER BY m.rspo, w.edition, w.kind").fetchall()
