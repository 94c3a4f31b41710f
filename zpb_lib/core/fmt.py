"""Polish and English number and date formats, without the ``locale`` module.

Locales are not installed on every machine that builds reports (and ``locale.setlocale`` is
process-global, so it would leak between reports in a reused kernel), so the rules are written
out here:

* Polish: thousands grouped with a NO-BREAK SPACE (U+00A0), decimal comma: ``1 234,5``.
  U+00A0 rather than the NARROW NO-BREAK SPACE (U+202F) because U+00A0 is in every font the
  reports may meet (browsers, WeasyPrint, matplotlib's DejaVu Sans) and is the group separator
  of the Polish CLDR locale; both keep a number on one line. Unlike CLDR we also group
  four-digit numbers ("1 234"), as the programme's documents do, so that columns line up.
* English: comma thousands, decimal point: ``1,234.5``.
* Dates: ``26.11.2026`` (pl), ``26 Nov 2026`` (en).
* Negative numbers and differences use the real minus sign U+2212, not a hyphen.
* Anything missing (None, NaN, NaT, pandas NA) is shown as :data:`MISSING`, an em dash.
"""
from __future__ import annotations

import datetime as dt
import math
from decimal import ROUND_HALF_UP, Decimal
from numbers import Real
from typing import Any

import pandas as pd

MISSING = "\u2014"  # em dash: a value that is missing or suppressed
NBSP = "\u00a0"
MINUS = "\u2212"
EN_DASH = "\u2013"
LANGS = ("pl", "en")

_SEPARATORS = {"pl": (NBSP, ","), "en": (",", ".")}
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_PERCENT_POINTS = {"pl": NBSP + "p.p.", "en": NBSP + "pp"}


def _check_lang(lang: str) -> str:
    if lang not in _SEPARATORS:
        raise ValueError(f"unknown language {lang!r} (known: {', '.join(LANGS)})")
    return lang


def is_missing(x: Any) -> bool:
    """True for None, NaN, NaT and pandas NA (the values shown as an em dash)."""
    if x is None:
        return True
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):  # lists and other containers are not "missing"
        return False


def _as_float(x: Any) -> float:
    if isinstance(x, bool) or not isinstance(x, Real):
        try:
            return float(x)
        except (TypeError, ValueError):
            raise TypeError(f"not a number: {x!r}") from None
    return float(x)


def _digits(value: float, decimals: int, lang: str) -> str:
    """Unsigned ``value`` rounded half up, grouped and with the language's decimal mark.

    Half up on the decimal value, as a reader rounding by hand (or a spreadsheet) does: 74.5%
    shows as 75%, although the float 0.745 is a hair below it and ``format`` would print 74.
    """
    group, point = _SEPARATORS[lang]
    exact = Decimal(repr(round(abs(value), 9)))
    rounded = exact.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    text = f"{rounded:,.{decimals}f}"  # Python's own: ',' groups, '.' decimal
    return text.replace(",", "\x00").replace(".", point).replace("\x00", group)


def number(x: Any, decimals: int = 0, lang: str = "pl") -> str:
    """``1234.5`` → ``"1 234,5"`` (pl, U+00A0) or ``"1,234.5"`` (en); missing → ``"—"``."""
    _check_lang(lang)
    if is_missing(x):
        return MISSING
    value = _as_float(x)
    if math.isinf(value):
        return ("" if value > 0 else MINUS) + "\u221e"
    text = _digits(value, decimals, lang)
    negative = value < 0 and _nonzero(text)  # -0.04 is shown as "0,0", not "−0,0"
    return (MINUS if negative else "") + text


def _nonzero(text: str) -> bool:
    return any(c in "123456789\u221e" for c in text)


def percent(p: Any, decimals: int = 1, lang: str = "pl") -> str:
    """A share 0..1 as a percentage: ``0.755`` → ``"75,5%"`` (pl) / ``"75.5%"`` (en)."""
    if is_missing(p):
        _check_lang(lang)
        return MISSING
    return number(_as_float(p) * 100, decimals, lang) + "%"


def signed(x: Any, decimals: int = 0, lang: str = "pl", suffix: str = "") -> str:
    """A difference with an explicit sign: ``"+3"``, ``"−3"`` (U+2212), ``"0"`` (no sign)."""
    text = number(x, decimals, lang)
    if text == MISSING:
        return MISSING
    if not text.startswith(MINUS) and _nonzero(text):
        text = "+" + text
    return text + suffix


def percent_points(d: Any, decimals: int = 1, lang: str = "pl") -> str:
    """A difference of two shares in percentage points: ``0.032`` → ``"+3,2 p.p."`` / ``"+3.2 pp"``."""
    _check_lang(lang)
    if is_missing(d):
        return MISSING
    return signed(_as_float(d) * 100, decimals, lang, _PERCENT_POINTS[lang])


def interval(lo: Any, hi: Any, decimals: int = 1, lang: str = "pl", as_percent: bool = True) -> str:
    """A confidence interval: ``(0.72, 0.8)`` → ``"72,0–80,0%"``; either end missing → ``"—"``.

    The en dash joins the ends; it is spaced when an end is negative so that "−3 – 2" cannot be
    misread as a subtraction.
    """
    _check_lang(lang)
    if is_missing(lo) or is_missing(hi):
        return MISSING
    scale = 100 if as_percent else 1
    a, b = (number(_as_float(v) * scale, decimals, lang) for v in (lo, hi))
    dash = f" {EN_DASH} " if MINUS in a + b else EN_DASH
    return a + dash + b + ("%" if as_percent else "")


def _as_date(d: Any) -> dt.date | dt.datetime:
    if isinstance(d, pd.Timestamp):
        return d.to_pydatetime()
    if isinstance(d, (dt.date, dt.datetime)):
        return d
    if isinstance(d, str):
        try:
            return dt.datetime.fromisoformat(d) if "T" in d or " " in d.strip() else dt.date.fromisoformat(d)
        except ValueError:
            raise ValueError(f"not an ISO date: {d!r}") from None
    raise TypeError(f"not a date: {d!r}")


def date(d: Any, lang: str = "pl") -> str:
    """``2026-11-26`` → ``"26.11.2026"`` (pl) / ``"26 Nov 2026"`` (en); accepts date, datetime,
    pandas Timestamp or an ISO string; missing → ``"—"``."""
    _check_lang(lang)
    if is_missing(d):
        return MISSING
    v = _as_date(d)
    if lang == "pl":
        return f"{v.day:02d}.{v.month:02d}.{v.year:04d}"
    return f"{v.day} {_MONTHS_EN[v.month - 1]} {v.year:04d}"


def timestamp(t: Any, lang: str = "pl") -> str:
    """Date and time to the minute, in local time as given: ``"26.11.2026, 14:05"`` /
    ``"26 Nov 2026, 14:05"`` (report footers: when the report was generated)."""
    _check_lang(lang)
    if is_missing(t):
        return MISSING
    v = _as_date(t)
    if not isinstance(v, dt.datetime):
        return date(v, lang)
    return f"{date(v, lang)}, {v.hour:02d}:{v.minute:02d}"


def integer(x: Any, lang: str = "pl") -> str:
    """A count: ``1234`` → ``"1 234"``; missing → ``"—"``."""
    return number(x, 0, lang)
