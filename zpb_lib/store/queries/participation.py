"""Whether an institution takes part in an edition: its own participation periods, or its complex's
(the schools of a complex take part with it, :mod:`zpb_lib.domain.complexes`)."""
from __future__ import annotations

from zpb_lib.store.backend import Connection


def participation_periods(con: Connection, institution_id: int) -> list[tuple[str, str | None]]:
    """The institution's participation periods as ``(joined_edition, left_edition)`` (None: not
    left), earliest first."""
    return con.execute("SELECT joined_edition, left_edition FROM participation WHERE institution_id = ? "
                       "ORDER BY joined_edition", (institution_id,)).fetchall()


def complex_taking_part(con: Connection, institution_id: int, edition: str) -> tuple | None:
    """``(rspo, name)`` of the complex the school ``institution_id`` belongs to, when that complex
    takes part in ``edition`` (the lowest RSPO number, should there be several); None otherwise."""
    return con.execute(
        "SELECT c.rspo, c.name FROM institutions m JOIN institutions c ON c.rspo = m.parent_rspo "
        "AND c.kind = 'complex' AND c.id <> m.id JOIN participation p ON p.institution_id = c.id "
        "WHERE m.id = ? AND m.kind <> 'complex' AND p.joined_edition <= ? "
        "AND (p.left_edition IS NULL OR p.left_edition >= ?) ORDER BY c.rspo LIMIT 1",
        (institution_id, edition, edition)).fetchone()
