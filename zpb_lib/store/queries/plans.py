"""Action plans as the report cube counts them."""
from __future__ import annotations

import pandas as pd

from zpb_lib.store.backend import Connection


def action_item_counts(con: Connection, edition: str) -> pd.DataFrame:
    """Action-plan items of ``edition`` counted by institution_id, area, kind, partner_kind ("none"
    for an item without a partner) and status, in column ``items``."""
    sql = """SELECT a.institution_id, a.area, a.kind, COALESCE(p.kind, 'none') AS partner_kind, a.status,
                    COUNT(*) AS items
             FROM action_items a LEFT JOIN partners p ON p.id = a.partner_id
             WHERE a.edition = ? GROUP BY 1, 2, 3, 4, 5"""
    return con.frame(sql, (edition,))
