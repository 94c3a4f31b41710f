"""Lookups a user makes before anything else: institutions by what people call them, counties as
people write them, the programme's editions."""
from __future__ import annotations

import os
from dataclasses import dataclass

from zpb_lib import store
from zpb_lib.core.errors import ZpbError
from zpb_lib.domain.institutions import find
from zpb_lib.domain.labels import county_name
from zpb_lib.reference import AmbiguousCounty, Edition, Reference, reference


class LookupRefused(ZpbError, ValueError):
    """A county or edition the reference data do not know (or cannot tell apart): one line that
    names the accepted values."""


class AmbiguousCountyName(LookupRefused):
    """A name two counties answer to (a city county and the land county seated in that city)."""


@dataclass(frozen=True)
class InstitutionHit:
    """One institution a search found, as ``zpb institutions find`` lists it."""
    ident: str  # RSPO number or POL-on id
    name: str
    locality: str
    county: str  # TERYT code
    county_name: str  # as the counties table names it ("bocheński")
    kind: str
    kind_name: str  # in Polish; the code itself for a kind the reference data do not know
    in_register: bool  # listed by the latest RSPO register import


@dataclass(frozen=True)
class CountyInfo:
    code: str  # TERYT
    name: str  # "bocheński", "m. Kraków"
    name_en: str
    kind: str  # land or city
    seat: str
    police_unit: str  # its code
    police_unit_name: str
    title_pl: str  # as reports name it: "powiat bocheński"
    title_en: str


def find_institutions(db: "str | os.PathLike | None", text: str, *, limit: int = 20) -> list[InstitutionHit]:
    """Institutions whose name, locality, county or identifier hold every word of ``text`` (see
    :func:`zpb_lib.domain.institutions.find`), best first, at most ``limit``."""
    con = store.connect(db, readonly=True)
    try:
        found = find(con, text, limit=limit)
    finally:
        con.close()
    kinds = reference().kinds
    return [InstitutionHit(f.institution.ident, f.institution.name, f.institution.locality, f.institution.county,
                           f.county_name, f.institution.kind,
                           kinds[f.institution.kind].name_pl if f.institution.kind in kinds else f.institution.kind,
                           f.institution.in_register)
            for f in found]


def _county_info(code: str, ref: Reference) -> CountyInfo:
    c = ref.counties[code]
    return CountyInfo(c.teryt, c.name, c.name_en, c.kind, c.seat, c.police_unit, ref.police_units[c.police_unit].name,
                      county_name(code, "pl", ref), county_name(code, "en", ref))


def counties(ref: Reference | None = None) -> list[CountyInfo]:
    """Every county of the reference data, in TERYT order, with its police unit."""
    ref = ref or reference()
    return [_county_info(code, ref) for code in ref.counties]


def county(text: str, ref: Reference | None = None) -> CountyInfo:
    """The county a person typed: its TERYT code, its name, a city county's city or a land county's
    seat (:meth:`zpb_lib.reference.Reference.county_code`). A city that is both a city county and a
    land county's seat is refused (:class:`AmbiguousCountyName`) as is an unknown name, each in one
    line naming what to write."""
    ref = ref or reference()
    try:
        return _county_info(ref.county_code(str(text)), ref)
    except AmbiguousCounty as exc:
        raise AmbiguousCountyName(exc.args[0]) from None
    except KeyError as exc:
        raise LookupRefused(exc.args[0]) from None


def editions(*, held_only: bool = False, ref: Reference | None = None) -> list[Edition]:
    """The programme's editions, oldest first (``held_only``: without those it was suspended in)."""
    ref = ref or reference()
    return ref.held_editions() if held_only else list(ref.editions.values())


def edition(text: object, ref: Reference | None = None) -> Edition:
    """The edition of a school year as people write it: 2025/2026, 2025-2026, 2025/26, XIX
    (:meth:`zpb_lib.reference.Reference.edition_of`); an edition that was not held is returned too
    (what may be done with it is the caller's to say)."""
    ref = ref or reference()
    try:
        return ref.edition(ref.edition_of(text))
    except KeyError as exc:
        raise LookupRefused(exc.args[0]) from None


def current_edition(ref: Reference | None = None) -> Edition:
    """The latest held edition: the one built when none is named."""
    return (ref or reference()).current_edition()
