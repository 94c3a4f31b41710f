"""E-mail addresses as the register gives them and as zpb sends to them, checked loosely: what a
person would call an address (one „@” between some text and some text, no space, not longer than an
SMTP path may be), not every rule of RFC 5322 — the mail server has the last word. The database
holds the same check (store.schema)."""
from __future__ import annotations

# RFC 5321: a path (an address in angle brackets) is at most 256 characters, an address 254.
EMAIL_MAX = 254


def email_address(text: str) -> str | None:
    """``text`` as an address (surrounding space removed); None for an empty one; ValueError when
    it is not one."""
    s = text.strip()
    if not s:
        return None
    local, at, domain = s.partition("@")
    if not at or not local or not domain or "@" in domain or any(ch.isspace() for ch in s) or len(s) > EMAIL_MAX:
        raise ValueError(s)
    return s
