"""Helpers for the tests that no output shows an institution's internal id: give one institution
an internal id that stands out (a six-digit number no RSPO number equals), so that finding that
number anywhere in a report, workbook or explorer view can only mean the internal id leaked."""
from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

EDITION = "2025/2026"


@dataclass(frozen=True)
class Renumbered:
    id: int  # the new internal id
    rspo: int
    name: str
    county: str


def renumber(db: Path, county: str = "1201", edition: str = EDITION) -> Renumbered:
    """Give a school of ``county`` that was audited and awarded in ``edition`` (so that it appears in
    audits, rankings, the ceremony list and the county's lists) a new internal id: a six-digit
    number that is no institution's RSPO number. Every table pointing at it follows."""
    con = sqlite3.connect(db)
    try:
        old, rspo, name = con.execute(
            "SELECT i.id, i.rspo, i.name FROM institutions i "
            "JOIN audits a ON a.institution_id = i.id AND a.edition = ? AND a.kind != 'control' "
            "JOIN awards w ON w.institution_id = i.id AND w.edition = ? "
            "WHERE i.county = ? AND i.rspo IS NOT NULL ORDER BY i.id LIMIT 1", (edition, edition, county)).fetchone()
        taken = {r[0] for r in con.execute("SELECT rspo FROM institutions WHERE rspo IS NOT NULL")}
        taken |= {r[0] for r in con.execute("SELECT id FROM institutions")}
        new = next(n for n in (904_317, 813_529, 762_941, 951_286) if n not in taken)
        refs = [t for (t,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
                if "institution_id" in {c[1] for c in con.execute(f"PRAGMA table_info({t})")}]
        con.execute("PRAGMA foreign_keys = OFF")
        with con:
            for t in refs:
                con.execute(f"UPDATE {t} SET institution_id = ? WHERE institution_id = ?", (new, old))
            con.execute("UPDATE institutions SET id = ? WHERE id = ?", (new, old))
        assert con.execute("PRAGMA foreign_key_check").fetchall() == []
        return Renumbered(new, int(rspo), str(name), county)
    finally:
        con.close()


_DATA_URI = re.compile(r"data:[\w/+.-]+;base64,[A-Za-z0-9+/=\s]+")


def shows_number(text: str, number: int) -> bool:
    """Whether ``number`` stands in ``text`` as a word of its own (not inside a longer number or a
    hexadecimal hash; images embedded as data: URIs left out)."""
    return re.search(rf"(?<!\w){number}(?!\w)", _DATA_URI.sub(" ", text)) is not None
