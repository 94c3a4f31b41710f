"""The files people fill in or set up forms from: an institution's audit protocol, the register
workbook filled with what the database holds, and the standard questionnaire for an online form or
for print — each written into a folder the caller gives, whatever the interface."""
from __future__ import annotations

from pathlib import Path
from typing import Collection

from zpb_lib import store
from zpb_lib.reference import reference
from zpb_lib.services.imports import Db

REGISTER_FILE = "rejestr-zpb.xlsx"  # as `zpb template register` names it


def audit_protocol_name(institution: str, edition: str) -> str:
    """``protokol-audytu-<RSPO>-<edition>.xlsx``, the protocol's file name."""
    return f"protokol-audytu-{str(institution).strip()}-{edition.replace('/', '-')}.xlsx"


def audit_protocol(db: Db, institution: str, edition: str, folder: Path, *, kind: str | None = None) -> Path:
    """Write the audit protocol of ``institution`` (RSPO number or POL-on id) for ``edition`` into
    ``folder``, ``kind`` pre-selected if given; an institution that does not take part in the
    edition, or has no catalogue in force, is refused (an :class:`~zpb_lib.ingest.IngestError`)."""
    # the ingest layer: openpyxl loads only when a protocol is written
    from zpb_lib.ingest.audit import write_template

    with store.connect(db, readonly=True) as con:
        return write_template(con, institution, edition, Path(folder) / audit_protocol_name(institution, edition),
                              kind=kind)


def unit_counties(units: Collection[str]) -> list[str]:
    """The TERYT codes of the counties the police units ``units`` serve."""
    return sorted(c.teryt for c in reference().counties.values() if c.police_unit in set(units))


def register_workbook(db: Db, folder: Path, *, units: Collection[str] | None = None) -> Path:
    """Write the register workbook into ``folder``, filled with the rows of the institutions of the
    counties ``units`` serve (None: of every county); one unit's file is named after it."""
    # the ingest layer: openpyxl loads only when a workbook is written
    from zpb_lib.ingest.register import write_register_template

    counties = None if units is None else unit_counties(units)
    name = REGISTER_FILE
    if units is not None and len(set(units)) == 1:
        name = f"rejestr-zpb-{next(iter(units)).lower()}.xlsx"
    with store.connect(db, readonly=True) as con:
        return write_register_template(con, Path(folder) / name, counties=counties)


def survey_form(group: str, lang: str, folder: Path, *, formats: tuple[str, ...] | None = None) -> list[Path]:
    """Write the questionnaire of ``group`` in ``lang`` into ``folder``: the questions and answers
    with the instructions for setting up a Google or Microsoft form (.md), the same as a table
    (.csv) and for print (.html, .pdf) — those of ``formats`` (default: all four)."""
    # the ingest layer: WeasyPrint loads only when a PDF is written
    from zpb_lib.ingest.forms import FORMATS, write_form

    return write_form(group, lang, folder, formats=formats or FORMATS)
