"""Who is connected and what the database lets them change: an analyst or the database's owner
everything, a police unit's role the institutions of the unit's counties, the reader nothing.

PostgreSQL decides (roles, grants and row-level security, see :mod:`.roles`); zpb reads the same
facts beforehand only to refuse an import that would touch another unit's rows with a message that
names the file, the row, the institution and the unit it belongs to, before anything is written.
A SQLite file is one person's: whoever can write the file may change everything in it.
"""
from __future__ import annotations

import getpass
from dataclasses import dataclass, field

from zpb_lib.store.backend import POSTGRESQL, Connection, StoreError
from zpb_lib.store.role_names import ANALYST, READER, UNIT_PREFIX, unit_role  # noqa: F401  (their names, here too)


@dataclass(frozen=True)
class County:
    teryt: str
    name: str
    unit: str  # police unit code
    unit_name: str


@dataclass(frozen=True)
class Rights:
    """What the connected login may change."""
    login: str
    role: str | None  # the zpb role the rights come from (None: the owner, or a SQLite file's user)
    everything: bool  # an analyst, the owner of the tables, a SQLite file's user
    units: frozenset[str] = frozenset()  # police units whose institutions a unit's role changes
    counties: dict[str, County] = field(default_factory=dict, compare=False, hash=False)
    person: str | None = None  # whom the web app acts for in ``role`` (store.acting_as)

    @property
    def writes(self) -> bool:
        return self.everything or bool(self.units)

    @property
    def unit(self) -> str | None:
        """The police unit an import of this login is made for (None: an analyst's)."""
        if self.everything or not self.units:
            return None
        if len(self.units) > 1:
            raise StoreError(f"login {self.login} has the roles of several police units ({', '.join(sorted(self.units))}); "
                             "an import is made for one unit: log in with a login of one unit's role")
        return next(iter(self.units))

    def unit_name(self, code: str) -> str:
        """A police unit's name (KPP Bochnia) from its code."""
        return next((c.unit_name for c in self.counties.values() if c.unit == code), code)

    def who(self) -> str:
        """The login (or the person the web app acts for) and its role, as messages name them."""
        name = self.person or f"login {self.login}"
        if self.everything:
            return name + (f" ({self.role})" if self.role else "")
        if not self.units:
            return f"{name} ({self.role or 'no zpb role'}: reading only)"
        names = ", ".join(sorted(self.unit_name(u) for u in self.units))
        return f"{name} ({self.role}: {names})"

    def may_change(self, county: str | None) -> bool:
        """Whether rows of an institution (or a partner) of ``county`` are this login's to change; a
        partner without a county is the analyst's."""
        if self.everything:
            return True
        c = self.counties.get(county) if county else None
        return c is not None and c.unit in self.units

    def refusal(self, county: str | None, what: str) -> str | None:
        """Why ``what`` (an institution of ``county``) may not be changed by this login, or None."""
        if self.may_change(county):
            return None
        if not self.writes:
            return f"{what}: {self.who()} changes nothing in this database"
        c = self.counties.get(county) if county else None
        belongs = (f"is in powiat {c.name} ({c.teryt}), which {c.unit_name} serves" if c
                   else "has no county (an analyst's to change)")
        return (f"{what} {belongs}; {self.who()} changes only the institutions of its unit's counties: "
                "leave such rows out, or ask that unit or an analyst")


def rights_of(con: Connection) -> Rights:
    """The rights of the connection's login (read once per connection); acting for a person, those
    of the role it acts in (PostgreSQL's current_user), with the app's login as ``login``."""
    cached = con.cache.get("rights")
    if cached is None:
        cached = con.cache["rights"] = _read_rights(con)
    return cached


def _counties(con: Connection) -> dict[str, County]:
    return {t: County(t, n, u, un) for t, n, u, un in con.execute(
        "SELECT c.teryt, c.name, c.police_unit, p.name FROM counties c JOIN police_units p ON p.code = c.police_unit")}


def _read_rights(con: Connection) -> Rights:
    if con.backend != POSTGRESQL:
        try:
            login = getpass.getuser()
        except (KeyError, OSError):
            login = "?"
        return Rights(login, None, True, person=con.person)
    login, current, superuser = con.execute(
        "SELECT session_user, current_user, rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
    owner = con.execute("SELECT pg_has_role(current_user, tableowner, 'USAGE') FROM pg_tables "
                        "WHERE schemaname = current_schema() AND tablename = 'institutions'").fetchone()
    roles = {r for (r,) in con.execute(
        "SELECT rolname FROM pg_roles WHERE (rolname = ? OR rolname = ? OR rolname LIKE 'zpb\\_unit\\_%') "
        "AND pg_has_role(current_user, oid, 'USAGE')", (ANALYST, READER))}
    counties = _counties(con)
    if superuser or (owner and owner[0]):
        return Rights(login, None if current == login else current, True, counties=counties, person=con.person)
    if ANALYST in roles:
        return Rights(login, ANALYST, True, counties=counties, person=con.person)
    if con.execute("SELECT 1 FROM pg_roles WHERE rolname = ?", (ANALYST,)).fetchone() is None:
        # No roles were set up (`zpb db roles`): the grants the server's administrator gave decide.
        return Rights(login, None, True, counties=counties, person=con.person)
    codes = {unit_role(code): code for code in {c.unit for c in counties.values()}}
    units = frozenset(codes[r] for r in roles if r in codes)
    role = ", ".join(sorted(unit_role(u) for u in units)) if units else (READER if READER in roles else None)
    return Rights(login, role, False, units, counties, person=con.person)
