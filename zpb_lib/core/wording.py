"""Counts in the English messages of the commands: „1 item”, „2 items”, never „1 items” or „item(s)”."""
from __future__ import annotations

_IRREGULAR = {"entry": "entries", "university": "universities", "is": "are", "was": "were", "has": "have"}


def plural(word: str, n: int) -> str:
    """``word`` in the number ``n`` calls for."""
    if n == 1:
        return word
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    return word + ("es" if word.endswith(("s", "x", "ch", "sh")) else "s")


def count(n: int, word: str) -> str:
    """„1 item”, „3 items”, „1 200 rows” (thousands apart as in the other messages)."""
    return f"{n:,}".replace(",", " ") + f" {plural(word, n)}"
