"""Option values as people type them on the command line, in English or Polish, any case and with or
without diacritics: report kinds (``powiat``, ``placówka``), formats (``HTML``), languages
(``polski``, ``EN``). Each parser returns the canonical codes or raises ValueError with one line
that names the accepted values, which the commands print instead of a traceback or argparse's
usage block.

Editions are parsed by :meth:`zpb_lib.reference.Reference.edition_of` (``2025/2026``,
``2025-2026``, ``2025/26``, ``XIX``); :func:`edition_of` wraps it with the same one-line error.

The options several commands share are declared here, once (:func:`add_db`, :func:`add_edition`,
:func:`add_county`, :func:`add_unit`, :func:`add_lang`, :func:`add_group`, :func:`add_wave`), and their values
converted by the parser (``type=``): an edition becomes a :class:`zpb_lib.reference.Edition`, a
survey group or wave its code, ``--db`` a database location. A value that cannot be converted
becomes a :class:`Refused` rather than an argparse error, so that a missing required option is still
reported first (argparse's usage block) and a bad value in one line (:func:`refusal`, :func:`refuse`).
"""
from __future__ import annotations

import argparse
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from zpb_lib import store
from zpb_lib.core.paths import DB_HELP
from zpb_lib.reference import GROUP_NAMES_PL, WAVE_NAMES_PL, Edition, Reference, group_of, reference, wave_of

# canonical code -> the other names people use for it (compared without case and diacritics)
KIND_NAMES: dict[str, tuple[str, ...]] = {
    "voivodeship": ("województwo", "wojewódzki", "wojewodztwo", "voivodship", "region", "woj"),
    "county": ("powiat", "powiaty", "powiatowy", "counties", "pow"),
    "school": ("placówka", "placówki", "szkoła", "szkoły", "schools", "institution", "institutions", "uczelnia",
               "uczelnie"),
}
FORMAT_NAMES: dict[str, tuple[str, ...]] = {"html": ("htm",), "pdf": ()}
LANG_NAMES: dict[str, tuple[str, ...]] = {
    "pl": ("polski", "polish", "pol", "pl-pl", "pl_pl"),
    "en": ("english", "angielski", "ang", "eng", "en-gb", "en-us", "en_gb", "en_us"),
}


def _fold(text: object) -> str:
    t = unicodedata.normalize("NFKD", str(text).strip().casefold().replace("ł", "l"))
    return "".join(ch for ch in t if not unicodedata.combining(ch))


def _lookup(names: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {_fold(alias): code for code, aliases in names.items() for alias in (code, *aliases)}


def _one(text: object, names: dict[str, tuple[str, ...]], what: str, accepted: str) -> str:
    code = _lookup(names).get(_fold(text))
    if code is None:
        raise ValueError(f"unknown {what} {str(text).strip()!r} (accepted: {accepted})")
    return code


def _many(text: str | Iterable[str], names: dict[str, tuple[str, ...]], what: str, accepted: str) -> tuple[str, ...]:
    """Comma-separated (or a list of) values → canonical codes in the order given, duplicates dropped;
    every unknown value named in one message."""
    parts = text.split(",") if isinstance(text, str) else [p for t in text for p in str(t).split(",")]
    parts = [p.strip() for p in parts if p.strip()]
    table = _lookup(names)
    bad = [p for p in parts if _fold(p) not in table]
    if bad:
        raise ValueError(f"unknown {what}{'s' if len(bad) > 1 else ''} {', '.join(repr(b) for b in bad)} "
                         f"(accepted: {accepted})")
    if not parts:
        raise ValueError(f"no {what} given (accepted: {accepted})")
    return tuple(dict.fromkeys(table[_fold(p)] for p in parts))


def kinds_of(text: str | Iterable[str]) -> tuple[str, ...]:
    """Report kinds: ``"powiat,szkoła"`` → ``("county", "school")``."""
    return _many(text, KIND_NAMES, "report kind",
                 "voivodeship (województwo), county (powiat), school (placówka, szkoła)")


def formats_of(text: str | Iterable[str]) -> tuple[str, ...]:
    """Output formats: ``"HTML, pdf"`` → ``("html", "pdf")``."""
    return _many(text, FORMAT_NAMES, "format", "html, pdf")


def lang_of(text: object) -> str:
    """A report language: ``"PL"``, ``"polski"`` → ``"pl"``; ``"English"``, ``"angielski"`` → ``"en"``."""
    return _one(text, LANG_NAMES, "language", "pl (polski), en (English)")


def langs_of(text: str | Iterable[str]) -> tuple[str, ...]:
    """Report languages, comma-separated (``zpb build --lang pl,en``): ``"polski, EN"`` → ``("pl", "en")``."""
    return _many(text, LANG_NAMES, "language", "pl (polski), en (English), both: pl,en")


def edition_of(text: object, ref: Reference | None = None) -> str:
    """The canonical edition ("2025/2026") of ``2025/2026``, ``2025-2026``, ``2025/26``, ``XIX``…;
    ValueError with the one-line message of :meth:`Reference.edition_of` otherwise."""
    try:
        return (ref or reference()).edition_of(text)
    except KeyError as exc:
        raise ValueError(exc.args[0]) from None


# --------------------------------------------------------------------------- converters and shared options

@dataclass(frozen=True)
class Refused:
    """An option value the parser could not convert; the command refuses it in one line before it runs."""
    error: ValueError


def _converter(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    def convert(text: str) -> Any:
        try:
            return parse(text)
        except ValueError as exc:  # broken reference data too (ReferenceDataError): one line, not argparse's
            return Refused(exc)

    convert.__name__ = parse.__name__  # what argparse would call the value's type
    return convert


def refusal(args: argparse.Namespace) -> ValueError | None:
    """The error of the first option value the parser refused, in the order the options were declared."""
    return next((v.error for v in vars(args).values() if isinstance(v, Refused)), None)


def refuse(args: argparse.Namespace) -> None:
    """Raise the error of the first option value the parser refused (see :func:`refusal`)."""
    refused = refusal(args)
    if refused is not None:
        raise refused


def _edition(text: str) -> Edition:
    # services.lookups pulls the institutions' search: not for `zpb --help`
    from zpb_lib.services.lookups import edition

    return edition(text)


def _unit(text: str) -> str:
    # services.delivery pulls the sending of mail: only when a unit is named
    from zpb_lib.services.delivery import unit_code

    return unit_code(text)


def database(text: str) -> "Path | str":
    """``--db``: a file's path or a PostgreSQL URL; empty: the default ($ZPB_DB, …)."""
    return store.resolve_db_path(text)


edition = _converter(_edition)
unit = _converter(_unit)  # KPP-BOCHNIA, kpp-bochnia or zpb_unit_kpp_bochnia -> KPP-BOCHNIA
lang = _converter(lang_of)
langs = _converter(lambda text: ",".join(langs_of(text)))  # "polski, EN" -> "pl,en", as BuildOptions takes it
kinds = _converter(lambda text: ",".join(kinds_of(text)))
formats = _converter(lambda text: ",".join(formats_of(text)))
# students|uczniowie…, baseline|diagnoza, follow-up|ewaluacja: argparse ``choices`` cannot take both languages
group = _converter(group_of)
wave = _converter(wave_of)

GROUP_HELP = "students|parents|teachers, or in Polish " + "|".join(GROUP_NAMES_PL.values())
WAVE_HELP = ("baseline (the autumn diagnosis) or follow-up (after the action plan), or in Polish "
             + " or ".join(WAVE_NAMES_PL.values()))


def add_db(p: argparse.ArgumentParser) -> None:
    # A string default goes through the converter too: args.db is always a location.
    p.add_argument("--db", type=database, default="", help=DB_HELP)


def add_edition(p: argparse.ArgumentParser, help: str, *, required: bool = False) -> None:
    p.add_argument("--edition", type=edition, required=required, help=help)


def add_unit(p: argparse.ArgumentParser, help: str) -> None:
    """``--unit``: a police unit by its code in any case, or its role's name."""
    p.add_argument("--unit", type=unit, metavar="CODE", help=help)


def add_county(p: argparse.ArgumentParser, help: str, *, repeatable: bool = False) -> None:
    """Left as typed: each command resolves it in its own words (a build's report names, an export's)."""
    if repeatable:
        p.add_argument("--county", action="append", default=[], metavar="TERYT", help=help)
    else:
        p.add_argument("--county", metavar="TERYT", help=help)


def add_lang(p: argparse.ArgumentParser, help: str, *, several: bool = False) -> None:
    """``several``: a comma-separated list (``pl,en``) rather than one language."""
    p.add_argument("--lang", type=langs if several else lang, default="pl", help=help)


def add_group(p: argparse.ArgumentParser) -> None:
    """``--group``, required: a survey's respondents."""
    p.add_argument("--group", type=group, required=True, metavar="GROUP", help=GROUP_HELP)


def add_wave(p: argparse.ArgumentParser) -> None:
    """``--wave``, required: a survey's wave."""
    p.add_argument("--wave", type=wave, required=True, metavar="WAVE", help=WAVE_HELP)
