"""Audits as an import compares, replaces and links them, and the awards linked to an audit (an
award decided from an audit goes with it)."""
from __future__ import annotations

from typing import Sequence

from zpb_lib.store.backend import Connection


def audit_ids_of_import(con: Connection, import_id: int) -> list[int]:
    """The ids of the audits import ``import_id`` stored."""
    return [aid for (aid,) in con.execute("SELECT id FROM audits WHERE import_id = ?", (import_id,)).fetchall()]


def audit_of(con: Connection, institution_id: int, edition: str, kind: str) -> tuple | None:
    """The audit of this kind of the institution in ``edition``, as ``(id, import_id, file name of
    its import)`` (both None for an audit not stored by an import); None when there is none."""
    return con.execute("SELECT a.id, a.import_id, i.file_name FROM audits a LEFT JOIN imports i ON i.id = a.import_id "
                       "WHERE a.institution_id = ? AND a.edition = ? AND a.kind = ?",
                       (institution_id, edition, kind)).fetchone()


def audits_of(con: Connection, institution_id: int, edition: str) -> list[tuple[int, str]]:
    """The institution's audits of ``edition`` as ``(id, kind)``, latest first."""
    return con.execute(
        "SELECT id, kind FROM audits WHERE institution_id = ? AND edition = ? ORDER BY audit_date DESC, id DESC",
        (institution_id, edition)).fetchall()


def audit_header(con: Connection, audit_id: int) -> tuple | None:
    """``(kind, audit_date, catalogue)`` of the audit; None when there is no such audit."""
    return con.execute("SELECT kind, audit_date, catalogue FROM audits WHERE id = ?", (audit_id,)).fetchone()


def audit_kind(con: Connection, audit_id: int) -> str | None:
    """The kind of the audit (None: no such audit)."""
    row = con.execute("SELECT kind FROM audits WHERE id = ?", (audit_id,)).fetchone()
    return None if row is None else row[0]


def audit_points(con: Connection, audit_id: int) -> dict[str, int]:
    """The audit's points by criterion (criteria not scored have no row, so no key)."""
    return dict(con.execute("SELECT criterion, points FROM audit_items WHERE audit_id = ?", (audit_id,)).fetchall())


def awards_awaiting_audit(con: Connection, institution_id: int, edition: str,
                          kinds: Sequence[str]) -> list[tuple[int, str]]:
    """The institution's awards of ``edition`` of these kinds recorded without an audit, as ``(id,
    kind)``."""
    return con.execute(f"SELECT id, kind FROM awards WHERE institution_id = ? AND edition = ? AND audit_id IS NULL "
                       f"AND kind IN ({', '.join('?' * len(kinds))})", (institution_id, edition, *kinds)).fetchall()


def _award_decided_from(con: Connection, audits_sql: str, params: tuple) -> tuple | None:
    return con.execute(f"SELECT w.kind, w.edition, w.import_id FROM awards w WHERE w.audit_id IN ({audits_sql}) "
                       "LIMIT 1", params).fetchone()


def award_decided_from_import(con: Connection, import_id: int) -> tuple | None:
    """An award decided from an audit import ``import_id`` stored, as ``(kind, edition, import_id
    of the award)``; None when there is none."""
    return _award_decided_from(con, "SELECT id FROM audits WHERE import_id = ?", (import_id,))


def award_decided_from_audit(con: Connection, audit_id: int) -> tuple | None:
    """An award decided from audit ``audit_id``, as ``(kind, edition, import_id of the award)``;
    None when there is none."""
    return _award_decided_from(con, "SELECT ?", (audit_id,))


def audit_of_award(con: Connection, award_id: int) -> tuple | None:
    """The audit award ``award_id`` is recorded as the result of, as ``(kind, edition, audit_date,
    import_id)``; None when the award names no audit."""
    return con.execute("SELECT a.kind, a.edition, a.audit_date, a.import_id FROM awards w JOIN audits a "
                       "ON a.id = w.audit_id WHERE w.id = ?", (award_id,)).fetchone()
