"""``zpb export``: an edition's results as an XLSX workbook. The workbook's contents are shaped in
:mod:`zpb_lib.report.xlsx`; this is the action: which edition and county, from the database or a
saved cube, into which file."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from zpb_lib import store
from zpb_lib.domain.labels import county_name
from zpb_lib.reference import Reference, reference
from zpb_lib.report.xlsx import ExportError, Result, check_edition, default_out, resolve_county
from zpb_lib.report.xlsx import export, from_cube, from_database

__all__ = ["ExportError", "ExportScope", "Result", "scope", "write"]


@dataclass(frozen=True)
class ExportScope:
    """What a workbook covers: a held edition, and all counties or one."""
    edition: str
    county: str | None  # TERYT code
    county_title: str | None  # as reports name it: "powiat bocheński"

    def default_out(self, lang: str) -> Path:
        """zpb-wyniki-<edition>[-<county>].xlsx (zpb-results-… in English)."""
        return default_out(self.edition, self.county, lang)


def scope(edition: str, county: str | None = None, ref: Reference | None = None) -> ExportScope:
    """The edition (refused when unknown or not held) and the county a person typed, by code or by
    any name reports give it; :class:`ExportError` with one line otherwise."""
    ref = ref or reference()
    edition = check_edition(edition, ref)
    code = resolve_county(county, ref)
    return ExportScope(edition, code, county_name(code, "pl", ref) if code else None)


def write(scope: ExportScope, out: "str | os.PathLike | None" = None, *, db: "str | os.PathLike | None" = None,
          cube: "str | os.PathLike | None" = None, lang: str = "pl", ref: Reference | None = None) -> Result:
    """The workbook of ``scope`` in ``lang``, computed from the database, or read from a saved cube
    of the edition; written to ``out`` (default: :meth:`ExportScope.default_out`)."""
    ref = ref or reference()
    if cube:
        source = from_cube(cube, scope.edition, ref=ref)
    else:
        con = store.connect(db, readonly=True)
        try:
            source = from_database(con, scope.edition, ref=ref)
        finally:
            con.close()
    return export(source, Path(out) if out else scope.default_out(lang), county=scope.county, lang=lang, ref=ref)
