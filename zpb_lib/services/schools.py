"""The institutions a login looks after: a police unit's role those of its unit's counties, an
analyst or a reader every one. The database says which (:func:`zpb_lib.store.rights.rights_of`), so
the list is the same whoever asks for it through whatever interface."""
from __future__ import annotations

from dataclasses import dataclass

from zpb_lib import store
from zpb_lib.reference import reference
from zpb_lib.services.imports import Db
from zpb_lib.store.queries.units import institutions_of_units
from zpb_lib.store.rights import rights_of


@dataclass(frozen=True)
class School:
    """One institution of the list, as a coordinator reads it."""
    ident: str  # RSPO number or POL-on id: what an import names it by
    name: str
    locality: str
    county: str  # TERYT
    county_name: str
    police_unit: str
    kind: str
    kind_name: str
    joined_edition: str | None  # the edition it last joined the programme in (None: never)
    left_edition: str | None  # the edition it left in (None: still taking part, or never did)
    in_register: bool

    @property
    def taking_part(self) -> bool:
        return self.joined_edition is not None and self.left_edition is None

    def label(self) -> str:
        """How a picker shows it: ``SP nr 1 w Bochni, Bochnia (RSPO 12345)``."""
        key = "RSPO" if self.ident.isdigit() else "POL-on"
        return f"{self.name}, {self.locality} ({key} {self.ident})"


@dataclass(frozen=True)
class SchoolList:
    schools: list[School]
    units: frozenset[str] | None  # the police units the list is limited to (None: every county)


def my_schools(db: Db) -> SchoolList:
    """The institutions of the counties the connected login's police unit serves (every one for a
    login with rights over everything or reading only)."""
    kinds = reference().kinds
    with store.connect(db, readonly=True) as con:
        rights = rights_of(con)
        units = None if rights.everything or not rights.units else rights.units
        rows = institutions_of_units(con, units)
    return SchoolList([School(str(r[0] if r[0] is not None else r[1]), r[2], r[3], r[4], r[5], r[6], r[7],
                              kinds[r[7]].name_pl if r[7] in kinds else r[7], r[8], r[9], bool(r[10]))
                       for r in rows], units)
