"""Reports sent to schools by e-mail: the institutions of an edition a sending is prepared for, and
the record of each message (see store.roles for who may add and read the rows)."""
from __future__ import annotations

from zpb_lib.store.backend import Connection
from zpb_lib.store.schema import (DELIVERY_DETAIL_MAX, DELIVERY_OUTCOMES, DELIVERY_SUBJECT_MAX, JOURNAL_LOGIN_MAX)

#: The columns of the rows :func:`taking_part` returns, in order.
PARTICIPANT_COLUMNS = ("id", "rspo", "polon", "name", "locality", "county", "police_unit", "email", "pupils")
#: The columns :func:`deliveries` answers with, in order.
DELIVERY_COLUMNS = ("id", "at", "login", "role", "institution_id", "edition", "report_file", "data_version",
                    "fingerprint", "recipient", "subject", "outcome", "detail")

_SELECT = ("SELECT i.id, i.rspo, i.polon, i.name, i.locality, i.county, c.police_unit, i.email, i.pupils "
           "FROM institutions i JOIN counties c ON c.teryt = i.county")


def taking_part(con: Connection, edition: str, unit: str | None = None) -> list[tuple]:
    """The institutions taking part in ``edition`` by a participation period of their own (joined by
    then, not left before), of the counties police unit ``unit`` serves (None: every county), by
    county and name — rows of :data:`PARTICIPANT_COLUMNS`."""
    where, params = "", [edition, edition]
    if unit is not None:
        where, params = " AND c.police_unit = ?", [*params, unit]
    return con.execute(
        f"{_SELECT} WHERE EXISTS (SELECT 1 FROM participation p WHERE p.institution_id = i.id "
        "AND p.joined_edition <= ? AND (p.left_edition IS NULL OR p.left_edition >= ?))"
        f"{where} ORDER BY i.county, i.name, i.id", params).fetchall()


def institutions_by_identifier(con: Connection, rspo: list[int], polon: list[str]) -> list[tuple]:
    """The institutions with these RSPO numbers or POL-on ids, as rows of :data:`PARTICIPANT_COLUMNS`."""
    out: list[tuple] = []
    for column, values in (("rspo", rspo), ("polon", polon)):
        for i in range(0, len(values), 500):
            chunk = list(values[i:i + 500])
            out += con.execute(f"{_SELECT} WHERE i.{column} IN ({', '.join('?' * len(chunk))})", chunk).fetchall()
    return out


def record(con: Connection, *, login: str, role: str | None, institution_id: int, edition: str, report_file: str,
           data_version: str | None, fingerprint: str | None, recipient: str, subject: str, outcome: str,
           detail: str | None = None) -> None:
    """Add one row (inside the caller's transaction); its id and time are the database's. No
    RETURNING: a role that may add rows need not read every one it could name."""
    if outcome not in DELIVERY_OUTCOMES:
        raise ValueError(f"deliveries: unknown outcome {outcome!r} (one of {', '.join(DELIVERY_OUTCOMES)})")
    con.execute(
        "INSERT INTO deliveries (login, role, institution_id, edition, report_file, data_version, fingerprint, "
        "recipient, subject, outcome, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (login[:JOURNAL_LOGIN_MAX], role, institution_id, edition, report_file, data_version, fingerprint, recipient,
         subject[:DELIVERY_SUBJECT_MAX], outcome, None if detail is None else detail[:DELIVERY_DETAIL_MAX]))


def deliveries(con: Connection, *, institution_id: int | None = None, edition: str | None = None,
               limit: int = 500) -> list[tuple]:
    """The latest rows the login may read, newest first, as :data:`DELIVERY_COLUMNS` (of one
    institution and one edition when given)."""
    conditions, params = [], []
    for column, value in (("institution_id", institution_id), ("edition", edition)):
        if value is not None:
            conditions.append(f"{column} = ?")
            params.append(value)
    where = f"WHERE {' AND '.join(conditions)} " if conditions else ""
    return con.execute(f"SELECT {', '.join(DELIVERY_COLUMNS)} FROM deliveries {where}ORDER BY at DESC, id DESC LIMIT ?",
                       (*params, int(limit))).fetchall()


#: The columns :func:`of_unit` answers with, in order.
UNIT_DELIVERY_COLUMNS = ("at", "login", "edition", "name", "locality", "rspo", "polon", "recipient", "report_file",
                         "data_version", "outcome", "detail")


def of_unit(con: Connection, unit: str | None, *, limit: int = 500) -> list[tuple]:
    """The latest rows of the institutions of the counties police unit ``unit`` serves (None: every
    unit) the login may read, newest first, with each institution's name — :data:`UNIT_DELIVERY_COLUMNS`."""
    where, params = ("WHERE c.police_unit = ? ", [unit]) if unit is not None else ("", [])
    return con.execute(
        "SELECT d.at, d.login, d.edition, i.name, i.locality, i.rspo, i.polon, d.recipient, d.report_file, "
        "d.data_version, d.outcome, d.detail FROM deliveries d JOIN institutions i ON i.id = d.institution_id "
        f"JOIN counties c ON c.teryt = i.county {where}ORDER BY d.at DESC, d.id DESC LIMIT ?",
        (*params, int(limit))).fetchall()
