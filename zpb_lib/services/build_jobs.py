"""A build the web app queues for a person: what they may build is what the database lets their role
change — a police unit's coordinator her unit's counties and their institutions, an analyst the
whole edition or one unit's — read from the connection (run it under the person's role,
:func:`zpb_lib.store.acting_as`), never from what the page offers."""
from __future__ import annotations

import os

from zpb_lib import store
from zpb_lib.batch.pipeline import BuildOptions
from zpb_lib.batch.plan import KINDS
from zpb_lib.reference import Reference, reference
from zpb_lib.services import jobs
from zpb_lib.services.jobs import Job, JobRefused
from zpb_lib.store.rights import rights_of, unit_role

# a unit's build: its counties' reports and their institutions'; the voivodeship's is the whole edition's
UNIT_KINDS = ("county", "school")


def unit_of_role(role: str | None, ref: Reference | None = None) -> str | None:
    """The police unit whose zpb role ``role`` is (``zpb_unit_kpp_bochnia`` → ``kpp_bochnia``);
    None for any other role."""
    ref = ref or reference()
    return next((code for code in ref.police_units if unit_role(code) == role), None)


def unit_counties(unit: str, ref: Reference | None = None) -> tuple[str, ...]:
    """The TERYT codes of the counties police unit ``unit`` serves."""
    ref = ref or reference()
    return tuple(sorted(t for t, c in ref.counties.items() if c.police_unit == unit))


def submit_build(db: "str | os.PathLike[str] | None", out: "str | os.PathLike[str]", *, edition: str, lang: str,
                 unit: str | None, login: str, role: str, counties_only: bool = False,
                 ref: Reference | None = None) -> Job:
    """Queue a build of ``edition`` in ``lang`` into the reports folder ``out``: of police unit
    ``unit``'s counties and their institutions (only the counties' reports with ``counties_only``),
    or of the whole edition (``unit`` None, an analyst's). :class:`JobRefused` when the connected
    role may not: a coordinator builds her own unit's, a reader nothing. Start it with
    :func:`zpb_lib.services.jobs.run_next`."""
    ref = ref or reference()
    if unit is not None and unit not in ref.police_units:
        raise ValueError(f"unknown police unit {unit!r}")
    with store.connect(db, readonly=True) as con:
        rights = rights_of(con)
    if not rights.everything:
        if not rights.units:
            raise JobRefused(f"{rights.who()} builds no reports: a police unit's coordinator or an analyst does")
        if unit is None or unit not in rights.units:
            mine = ", ".join(sorted(rights.units))
            raise JobRefused(f"{rights.who()} builds the reports of its own unit ({mine}), not "
                             f"{unit or 'the whole edition'}")
    if unit is None:
        only: tuple[str, ...] = ("county",) if counties_only else KINDS
        counties: tuple[str, ...] = ()
    else:
        only = ("county",) if counties_only else UNIT_KINDS
        counties = unit_counties(unit, ref)
    options = BuildOptions(db=str(db) if db is not None else None, edition=edition, out=str(out), lang=lang,
                           only=only, counties=counties, progress=False)
    return jobs.submit(options, login=login, role=role, ref=ref)
