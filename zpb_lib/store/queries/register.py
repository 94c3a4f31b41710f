"""The register's tables (participation, awards, action plans, partners): the rows an import of the
register compares a workbook with, and the rows its template is filled with."""
from __future__ import annotations

from zpb_lib.store.backend import Connection

# The institution's identifiers and name in the template's rows, from table t's institution_id.
_INST = "i.rspo, i.polon, i.name"
_JOIN = "JOIN institutions i ON i.id = t.institution_id"


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

def participation_listing(con: Connection) -> list[tuple]:
    """Every participation period as ``(rspo, polon, institution name, joined_edition,
    left_edition)``, by joined edition, institution name and id."""
    return con.execute(f"SELECT {_INST}, t.joined_edition, t.left_edition FROM participation t {_JOIN} "
                       "ORDER BY t.joined_edition, i.name, t.id").fetchall()


def award_listing(con: Connection) -> list[tuple]:
    """Every award as ``(rspo, polon, institution name, edition, kind, awarded_on)``, by edition,
    kind, institution name and id."""
    return con.execute(f"SELECT {_INST}, t.edition, t.kind, t.awarded_on FROM awards t {_JOIN} "
                       "ORDER BY t.edition, t.kind, i.name, t.id").fetchall()


def action_listing(con: Connection) -> list[tuple]:
    """Every action-plan item as ``(rspo, polon, institution name, edition, area, kind, title,
    partner name, deadline, status)``, by edition, institution name and id."""
    return con.execute(
        f"SELECT {_INST}, t.edition, t.area, t.kind, t.title, p.name, t.deadline, t.status FROM action_items t "
        f"{_JOIN} LEFT JOIN partners p ON p.id = t.partner_id ORDER BY t.edition, i.name, t.id").fetchall()


def partner_listing(con: Connection) -> list[tuple]:
    """Every partner as ``(name, kind, county)``, by county (those without one last), name and id."""
    return con.execute("SELECT name, kind, county FROM partners ORDER BY county IS NULL, county, name, id").fetchall()


def institution_listing(con: Connection) -> list[tuple]:
    """Every institution as ``(rspo, polon, name, locality, county, kind)``, by county, locality,
    name and id."""
    return con.execute(
        "SELECT rspo, polon, name, locality, county, kind FROM institutions ORDER BY county, locality, name, id"
    ).fetchall()
