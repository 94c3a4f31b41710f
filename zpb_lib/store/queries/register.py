"""The register's tables (participation, awards, action plans, partners): the rows an import of the
register compares a workbook with, and the rows its template is filled with."""
from __future__ import annotations

from typing import Collection

from zpb_lib.store.backend import Connection

# The institution's identifiers and name in the template's rows, from table t's institution_id.
_INST = "i.rspo, i.polon, i.name"
_JOIN = "JOIN institutions i ON i.id = t.institution_id"


def _in_counties(column: str, counties: Collection[str] | None) -> tuple[str, list[str]]:
    """A condition keeping the rows whose ``column`` is one of ``counties`` (None: every row), and
    its parameters."""
    if counties is None:
        return "1 = 1", []
    chosen = sorted(set(counties))
    return (f"{column} IN ({', '.join('?' * len(chosen))})" if chosen else "1 = 0"), chosen


# --------------------------------------------------------------------------- as an import compares them

def partners(con: Connection) -> list[tuple]:
    """Every partner as ``(id, name, kind, county)``, by id."""
    return con.execute("SELECT id, name, kind, county FROM partners ORDER BY id").fetchall()


def participation_rows(con: Connection) -> list[tuple]:
    """Every participation period as ``(id, institution_id, joined_edition, left_edition)``, by id."""
    return con.execute("SELECT id, institution_id, joined_edition, left_edition FROM participation ORDER BY id"
                       ).fetchall()


def award_rows(con: Connection) -> list[tuple]:
    """Every award as ``(id, institution_id, edition, kind, awarded_on, valid_until, audit_id)``, by id."""
    return con.execute("SELECT id, institution_id, edition, kind, awarded_on, valid_until, audit_id "
                       "FROM awards ORDER BY id").fetchall()


def action_rows(con: Connection) -> list[tuple]:
    """Every action-plan item as ``(id, institution_id, edition, title, area, kind, partner_id,
    deadline, status)``, by id."""
    return con.execute("SELECT id, institution_id, edition, title, area, kind, partner_id, deadline, "
                       "status FROM action_items ORDER BY id").fetchall()


def actions_naming_partner(con: Connection, partner_id: int) -> list[tuple]:
    """The action-plan items that name partner ``partner_id``, as ``(id, edition, title, import_id,
    rspo, polon)`` (the last two the institution's), by edition and id."""
    return con.execute(
        "SELECT a.id, a.edition, a.title, a.import_id, i.rspo, i.polon FROM action_items a "
        "JOIN institutions i ON i.id = a.institution_id WHERE a.partner_id = ? ORDER BY a.edition, a.id",
        (partner_id,)).fetchall()


# --------------------------------------------------------------------------- as the template lists them

# ``counties`` (TERYT codes) keeps the rows of those counties' institutions only (None: every row).

def participation_listing(con: Connection, counties: Collection[str] | None = None) -> list[tuple]:
    """Every participation period as ``(rspo, polon, institution name, joined_edition,
    left_edition)``, by joined edition, institution name and id."""
    where, params = _in_counties("i.county", counties)
    return con.execute(f"SELECT {_INST}, t.joined_edition, t.left_edition FROM participation t {_JOIN} WHERE {where} "
                       "ORDER BY t.joined_edition, i.name, t.id", params).fetchall()


def award_listing(con: Connection, counties: Collection[str] | None = None) -> list[tuple]:
    """Every award as ``(rspo, polon, institution name, edition, kind, awarded_on)``, by edition,
    kind, institution name and id."""
    where, params = _in_counties("i.county", counties)
    return con.execute(f"SELECT {_INST}, t.edition, t.kind, t.awarded_on FROM awards t {_JOIN} WHERE {where} "
                       "ORDER BY t.edition, t.kind, i.name, t.id", params).fetchall()


def action_listing(con: Connection, counties: Collection[str] | None = None) -> list[tuple]:
    """Every action-plan item as ``(rspo, polon, institution name, edition, area, kind, title,
    partner name, deadline, status)``, by edition, institution name and id."""
    where, params = _in_counties("i.county", counties)
    return con.execute(
        f"SELECT {_INST}, t.edition, t.area, t.kind, t.title, p.name, t.deadline, t.status FROM action_items t "
        f"{_JOIN} LEFT JOIN partners p ON p.id = t.partner_id WHERE {where} ORDER BY t.edition, i.name, t.id",
        params).fetchall()


def partner_listing(con: Connection, counties: Collection[str] | None = None) -> list[tuple]:
    """Every partner as ``(name, kind, county)``, by county (those without one last), name and id;
    with ``counties``, those a plan of their institutions may name: of those counties, of the whole
    voivodeship (no county), or named by such a plan already."""
    where, params = _in_counties("county", counties)
    named, named_params = _in_counties("i.county", counties)
    return con.execute(
        f"SELECT name, kind, county FROM partners WHERE {where} OR county IS NULL OR id IN "
        "(SELECT a.partner_id FROM action_items a JOIN institutions i ON i.id = a.institution_id "
        f"WHERE {named}) ORDER BY county IS NULL, county, name, id", params + named_params).fetchall()


def institution_listing(con: Connection, counties: Collection[str] | None = None) -> list[tuple]:
    """Every institution as ``(rspo, polon, name, locality, county, kind)``, by county, locality,
    name and id."""
    where, params = _in_counties("county", counties)
    return con.execute(
        f"SELECT rspo, polon, name, locality, county, kind FROM institutions WHERE {where} "
        "ORDER BY county, locality, name, id", params).fetchall()
