"""The institutions of police units' counties, as a unit's coordinator picks them (the web app's list
of "my schools")."""
from __future__ import annotations

from typing import Iterable

from zpb_lib.store.backend import Connection

#: The columns of the rows :func:`institutions_of_units` returns, in order.
UNIT_INSTITUTION_COLUMNS = ("rspo", "polon", "name", "locality", "county", "county_name", "police_unit", "kind",
                            "joined_edition", "left_edition", "in_register")


def institutions_of_units(con: Connection, units: Iterable[str] | None = None) -> list[tuple]:
    """Every institution of the counties the police units ``units`` serve (None: of every county),
    by county and name, with the edition it last joined the programme in and left it (None: never
    took part, or still takes part) — rows of :data:`UNIT_INSTITUTION_COLUMNS`."""
    chosen = None if units is None else sorted(set(units))
    where, params = "", []
    if chosen is not None:
        if not chosen:
            return []
        where = f" WHERE c.police_unit IN ({', '.join('?' * len(chosen))})"
        params = chosen
    return con.execute(
        "SELECT i.rspo, i.polon, i.name, i.locality, i.county, c.name, c.police_unit, i.kind, "
        "p.joined_edition, p.left_edition, i.in_register "
        "FROM institutions i JOIN counties c ON c.teryt = i.county "
        "LEFT JOIN (SELECT institution_id, MAX(joined_edition) AS joined_edition, "
        "           CASE WHEN COUNT(*) > COUNT(left_edition) THEN NULL ELSE MAX(left_edition) END AS left_edition "
        "           FROM participation GROUP BY institution_id) p ON p.institution_id = i.id"
        f"{where} ORDER BY i.county, i.name, i.rspo, i.polon", params).fetchall()
