"""Text as people type it: tolerant keys for matching headers and answers, folded text for
searching, and dates from spreadsheet cells."""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Any

_NUMBER_PREFIX = re.compile(r"^\s*(?:\(?\d{1,3}\s*[.):]\s*|\d{1,3}\s+)")


_TRAILING_NOTE = re.compile(r"\s*\([^()]*\)\s*$")


def norm(text: object) -> str:
    """Text reduced to what matters for matching: case, spacing, punctuation, symbols and quote
    styles („” "" «») are ignored; letters, Polish diacritics included, and digits are kept."""
    t = unicodedata.normalize("NFKC", str(text)).casefold()
    t = "".join(" " if unicodedata.category(ch)[0] in "PSZC" else ch for ch in t)
    return " ".join(t.split())


def text_keys(text: str) -> set[str]:
    """The keys under which a question text is found: as is, and without a trailing note in
    parentheses (form authors often move "(tick all that apply)" into the description)."""
    keys = {norm(text)}
    stripped = _TRAILING_NOTE.sub("", text)
    if stripped.strip():
        keys.add(norm(stripped))
    return keys - {""}


def header_keys(header: str) -> list[str]:
    """Keys to look a column header up by: as is, and without a leading item number ("3. ", "3) ")."""
    keys = [norm(header)]
    stripped = _NUMBER_PREFIX.sub("", header, count=1)
    if stripped != header:
        keys.append(norm(stripped))
    return keys


def column_letter(index: int) -> str:
    """Spreadsheet letter of a 0-based column index (0 → A, 26 → AA)."""
    out, n = "", index + 1
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


DATE_FORMATS = ("%d.%m.%Y", "%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y")


def cell_date(value: object) -> dt.date | None:
    """A date from a spreadsheet cell or typed text (26.05.2026, 2026-05-26…); None if it is none."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        for fmt in DATE_FORMATS:
            try:
                return dt.datetime.strptime(value.strip(), fmt).date()
            except ValueError:
                pass
    return None


def pl_date(d: dt.date) -> str:
    """26.05.2026, as Polish readers write dates."""
    return d.strftime("%d.%m.%Y")


def fold(text: Any) -> str:
    """Lower case without diacritics (ł → l too), for searching as people type."""
    t = unicodedata.normalize("NFKD", str(text or "").casefold().replace("ł", "l"))
    t = "".join(ch for ch in t if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[^\w]+", " ", t).split())
