"""The national registers' identifiers: a school's RSPO number, a university's POL-on id — parsed
from what people type, shown as people read them, and generated plausibly for demo data."""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np

_RSPO = re.compile(r"^\s*(?:rspo[\s:#]*)?(\d{1,7})\s*$", re.I)


_POLON = re.compile(r"^\s*(?:pol-?on[\s:#]*)?([0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12})\s*$", re.I)


@dataclass(frozen=True)
class Identifier:
    scheme: str  # rspo | polon
    value: int | str

    @property
    def column(self) -> str:
        return self.scheme

    def __str__(self) -> str:
        return str(self.value)

    def label(self) -> str:
        return f"RSPO {self.value}" if self.scheme == "rspo" else f"POL-on {self.value}"


def parse_identifier(text: Any) -> Identifier:
    """An RSPO number (digits, "RSPO 12345" too) or a POL-on id (a UUID); raises ValueError."""
    if isinstance(text, bool):
        raise ValueError(f"not an RSPO number or POL-on id: {text!r}")
    if isinstance(text, int) or (isinstance(text, float) and text.is_integer()):
        text = str(int(text))
    s = str(text or "").strip()
    m = _RSPO.match(s)
    if m and int(m.group(1)) > 0:
        return Identifier("rspo", int(m.group(1)))
    m = _POLON.match(s)
    if m:
        return Identifier("polon", str(uuid.UUID(m.group(1))))
    raise ValueError(f"{s!r} is neither an RSPO number (digits, e.g. 123456) nor a POL-on id "
                     "(a UUID such as 8c4e0a2e-5b1d-4e7f-9a3c-2d6b1f0e9a77)")


def identifier(rspo: Any, polon: Any) -> str:
    """The identifier people use, as text: the RSPO number, else the POL-on id."""
    if not _missing(rspo):
        return str(int(rspo))
    if not _missing(polon):
        return str(polon)
    return ""


def label(rspo: Any, polon: Any) -> str:
    """"RSPO 123456" or "POL-on 8c4e…" for tables and headers."""
    if not _missing(rspo):
        return f"RSPO {int(rspo)}"
    if not _missing(polon):
        return f"POL-on {polon}"
    return ""


def _missing(v: Any) -> bool:
    """None, NaN or pandas' NA (identifiers read through DataFrames)."""
    if v is None:
        return True
    if isinstance(v, (int, str)):
        return False
    if isinstance(v, float):
        return v != v
    # pandas: the reference layer imports without it; only frame cells need it
    from pandas import isna

    return bool(isna(v))


def demo_identifiers(seed: int, institutions: list[tuple[int, str]]) -> dict[int, tuple[int | None, str | None]]:
    """Plausible identifiers for demo institutions, given as (id, family) in id order: a six-digit
    RSPO number for a school, a POL-on UUID for a university. They come from a random stream of
    their own, so the rest of the demo data does not depend on them, and a version-1 demo database
    upgraded by `zpb db upgrade` gets the same ones as a new one."""
    rng = np.random.default_rng([seed, 0x5253504F])
    schools = [iid for iid, fam in institutions if fam != "university"]
    numbers = rng.choice(np.arange(10_000, 300_000), size=len(schools), replace=False)
    rspo = dict(zip(schools, (int(n) for n in numbers)))
    out: dict[int, tuple[int | None, str | None]] = {}
    for iid, fam in institutions:
        if fam == "university":
            b = bytearray(rng.bytes(16))
            b[6], b[8] = (b[6] & 0x0F) | 0x40, (b[8] & 0x3F) | 0x80  # a version-4 UUID, as POL-on gives
            h = b.hex()
            out[iid] = (None, f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}")
        else:
            out[iid] = (rspo[iid], None)
    return out
