"""The programme register workbook: what the police keep by hand and no other file holds —
which institutions take part (participation), the awards given, the action plans and the partners.

``write_register_template`` exports what the database holds as an XLSX workbook in Polish, with a
lookup sheet of institutions and list validation, so that the register can be exported, edited in
Excel and imported back. ``ingest_register`` reads whichever of the four data sheets a workbook holds
(a reviewed ``zpb match`` result holds only „Nagrody”; its items left without an institution are
skipped and listed, since a list may name a school the register lacks), checks every cell and
upserts the rows by their natural keys in one transaction: new rows carry the import's id, changed
rows go through ``update_logged`` so that ``zpb imports undo`` can restore them, and rows the file
lacks are kept. A row marked in the column „Usuń” removes the stored row with its key
(``remove_logged`` keeps it whole, so that the undo puts it back), unless later data depends on it:
an action naming a partner, audits, surveys or awards only a participation period covers, an award
an audit gives or another award requires — then the import is refused naming what depends on it.

The register is the official record: an award that contradicts the rules or the audits is stored
(``zpb db check`` lists it); only what cannot be a correct record is refused.
"""
from __future__ import annotations

import json
from pathlib import Path

from zpb_lib.ingest import Problems, file_hash, limits_for, read_bytes
from zpb_lib.ingest.envelope import ImportEnvelope
from zpb_lib.ingest.register.apply import Consequences, apply_ops
from zpb_lib.ingest.register.layout import (ACTION_HEADERS, ACTION_KIND_LABELS, ACTIONS_SHEET, AREA_LABELS,
                                            AWARD_HEADERS, AWARD_KIND_LABELS, AWARDS_SHEET, GUIDE_SHEET,
                                            INSTITUTION_HEADER, INSTITUTIONS_SHEET, LIST_LINE_HEADER, LISTS_SHEET,
                                            NAME_HEADER, PARTICIPATION_HEADERS, PARTICIPATION_SHEET,
                                            PARTNER_HEADERS, PARTNER_KIND_LABELS, PARTNERS_SHEET, REMOVE_HEADER,
                                            STATUS_LABELS)
from zpb_lib.ingest.register.plan import plan_register
from zpb_lib.ingest.register.read import Unmatched, read_sheets
from zpb_lib.ingest.register.result import RegisterImport, SheetResult
from zpb_lib.ingest.register.template import instructions, write_register_template
from zpb_lib.reference import Reference, reference
from zpb_lib.store.backend import Connection

__all__ = ["ACTION_HEADERS", "ACTION_KIND_LABELS", "ACTIONS_SHEET", "AREA_LABELS", "AWARD_HEADERS",
           "AWARD_KIND_LABELS", "AWARDS_SHEET", "GUIDE_SHEET", "INSTITUTION_HEADER", "INSTITUTIONS_SHEET",
           "LIST_LINE_HEADER", "LISTS_SHEET", "NAME_HEADER", "PARTICIPATION_HEADERS", "PARTICIPATION_SHEET",
           "PARTNER_HEADERS", "PARTNER_KIND_LABELS", "PARTNERS_SHEET", "REMOVE_HEADER", "STATUS_LABELS",
           "RegisterImport", "SheetResult", "Unmatched", "ingest_register", "instructions",
           "write_register_template"]


def ingest_register(con: Connection, path: str | Path, *, dry_run: bool = False,
                    ref: Reference | None = None) -> RegisterImport:
    """Check the register workbook and upsert its rows in one transaction; raises :class:`IngestError`
    naming sheet, row and column of every problem (nothing is stored then)."""
    ref = ref or reference()
    path = Path(path)
    data = read_bytes(path, limits_for(path, "register"))
    read = read_sheets(path, data)
    content_hash = file_hash(data)
    with ImportEnvelope(con, path, "register", content_hash, what="the register",
                        again="export the register again with `zpb template register` to edit it",
                        dry_run=dry_run) as env:
        result, ops = plan_register(con, ref, path, read)
        result.dry_run = dry_run
        details = {"sheets": {s.table: s.counts() for s in result.sheets if s.present}}
        if read.unmatched:
            details["unmatched"] = len(read.unmatched)
        import_id = env.record(result.inserted + result.updated + result.removed,
                               json.dumps(details, ensure_ascii=False))
        consequences = Consequences(con, ref, ops)
        problems = Problems(path)
        consequences.linked_awards(con, problems)
        problems.raise_if_any()
        apply_ops(con, ops, import_id)
        consequences.check(con, problems)
        problems.raise_if_any()  # the transaction rolls back: nothing was stored
    result.import_id = env.import_id
    return result
