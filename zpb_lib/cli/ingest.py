"""The ``zpb`` subcommands for real-world inputs: ``survey form``, ``ingest survey|audit|institutions|
register``, ``template audit|register`` and ``match``. Heavy libraries (openpyxl, WeasyPrint) load only when a command runs."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Callable

from zpb_lib import store
from zpb_lib.cli import options
from zpb_lib.core.paths import DB_HELP
from zpb_lib.store.schema import AUDIT_KINDS


def _db_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", help=DB_HELP)


def run_on_db(db: str | None, action: Callable[[Any], Any], *, readonly: bool = False) -> int:
    """Open the database, run ``action(con)`` and print what it returns (its ``lines()``, or the
    path it wrote); an input refused (a :class:`~zpb_lib.core.errors.Refusal`) is one message, status 2,
    from :func:`zpb_lib.cli.main`."""
    con = store.connect(db, readonly=readonly)
    try:
        result = action(con)
    finally:
        con.close()
    print("\n".join(result.lines()) if hasattr(result, "lines") else result)
    return 0


def cmd_survey_form(args: argparse.Namespace) -> int:
    # the ingest layer: not for `zpb --help`
    from zpb_lib.ingest.forms import write_form

    for path in write_form(args.group, args.lang, args.out):
        print(path)
    return 0


def _import(args: argparse.Namespace, request: Any) -> int:
    """Check the file (``--dry-run``) or store it, and print what it did; a file refused is one
    message, status 2."""
    # services.imports pulls the ingest layer: not for `zpb --help`
    from zpb_lib.services import imports

    return print_outcome((imports.preview if args.dry_run else imports.commit)(args.db, request))


def print_outcome(outcome: Any) -> int:
    """An import's or an undo's outcome: its lines, status 0; a refusal: one message, status 2."""
    if outcome.refused:
        print(f"zpb: refused: {outcome.refusal}", file=sys.stderr)
        return 2
    print("\n".join(outcome.lines))
    return 0


def cmd_ingest_survey(args: argparse.Namespace) -> int:
    # services.imports pulls the ingest layer: not for `zpb --help`
    from zpb_lib.services.imports import SurveyImport

    return _import(args, SurveyImport(args.file, args.institution, args.edition.edition, args.group, args.wave,
                                      replace=args.replace, append=args.append, skip_bad_rows=args.skip_bad_rows))


def cmd_ingest_audit(args: argparse.Namespace) -> int:
    # services.imports pulls the ingest layer: not for `zpb --help`
    from zpb_lib.services.imports import AuditImport

    return _import(args, AuditImport(args.file, kind=args.kind, replace=args.replace))


def cmd_template_audit(args: argparse.Namespace) -> int:
    # the ingest layer: not for `zpb --help`
    from zpb_lib.ingest.audit import write_template
    from zpb_lib.services.templates import audit_protocol_name

    edition = args.edition.edition
    out = Path(args.out or audit_protocol_name(args.institution, edition))
    return run_on_db(args.db, lambda con: write_template(con, args.institution, edition, out, kind=args.kind),
                     readonly=True)


def cmd_ingest_institutions(args: argparse.Namespace) -> int:
    # services.imports pulls the ingest layer: not for `zpb --help`
    from zpb_lib.services.imports import InstitutionsImport

    return _import(args, InstitutionsImport(args.file))


def cmd_ingest_register(args: argparse.Namespace) -> int:
    # services.imports pulls the ingest layer: not for `zpb --help`
    from zpb_lib.services.imports import RegisterImport

    return _import(args, RegisterImport(args.file))


def cmd_template_register(args: argparse.Namespace) -> int:
    # the ingest layer: not for `zpb --help`
    from zpb_lib.ingest.register import write_register_template

    return run_on_db(args.db, lambda con: write_register_template(con, Path(args.out)), readonly=True)


def cmd_match(args: argparse.Namespace) -> int:
    # the ingest layer and rapidfuzz: not for `zpb --help`
    from zpb_lib.ingest.published import match_published

    return run_on_db(args.db, lambda con: match_published(con, args.file, edition=args.edition.edition, kind=args.kind,
                                                          out=args.out, date=args.date), readonly=True)


def register(sub: argparse._SubParsersAction) -> None:
    """Add the survey-form, ingest and template commands to the ``zpb`` parser."""
    survey = sub.add_parser("survey", help="the standard questionnaires").add_subparsers(
        dest="survey_command", required=True)
    p = survey.add_parser("form", help="write a questionnaire for an online form (.md, .csv) and for print (.html, .pdf)")
    options.add_group(p)
    options.add_lang(p, "pl (polski, default) or en (English)")
    p.add_argument("--out", default=".", help="output folder (default: the current folder)")
    p.set_defaults(func=cmd_survey_form)

    ingest = sub.add_parser("ingest", help="import survey exports and audit protocols").add_subparsers(
        dest="ingest_command", required=True)
    p = ingest.add_parser("survey", help="import a Google Forms CSV, a Microsoft Forms XLSX or an Excel CSV export")
    p.add_argument("file", help="the export file")
    p.add_argument("--institution", required=True, metavar="RSPO",
                   help="the school's RSPO number or the university's POL-on id (`zpb institutions find NAME`)")
    options.add_edition(p, "school year, e.g. 2025/2026", required=True)
    options.add_group(p)
    options.add_wave(p)
    p.add_argument("--dry-run", action="store_true", help="check everything and show what would be stored; store nothing")
    p.add_argument("--skip-bad-rows", action="store_true",
                   help="store the rows that can be read and leave out the others (an answer not on the scale, a row "
                        "cut short), naming them in the summary; without it such a row refuses the file")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--replace", action="store_true",
                      help="replace an earlier import of this file and the responses already stored for this target")
    mode.add_argument("--append", action="store_true",
                      help="add to the responses already stored for this target (e.g. a second form)")
    _db_arg(p)
    p.set_defaults(func=cmd_ingest_survey)

    p = ingest.add_parser("audit", help="import a filled audit protocol (XLSX from `zpb template audit`)")
    p.add_argument("file", help="the filled protocol")
    p.add_argument("--kind", metavar="|".join(AUDIT_KINDS),
                   help="audit kind, if not chosen in the protocol (or in Polish: certyfikacyjny, ponowny, kontrolny, "
                        "lider)")
    p.add_argument("--dry-run", action="store_true", help="check everything; store nothing")
    p.add_argument("--replace", action="store_true",
                   help="replace an audit of the same institution, edition and kind stored earlier")
    _db_arg(p)
    p.set_defaults(func=cmd_ingest_audit)

    p = ingest.add_parser("institutions", help="import the RSPO register's search export (CSV or XLSX) or a list of "
                          "universities (POL-on id, name, city, county)")
    p.add_argument("file", help="the RSPO export („Pobierz wyniki”) or the universities list")
    p.add_argument("--dry-run", action="store_true", help="show what would be added, changed and marked; store nothing")
    _db_arg(p)
    p.set_defaults(func=cmd_ingest_institutions)

    p = ingest.add_parser("register", help="import the programme register workbook (participation, awards, action "
                          "plans, partners) or a reviewed `zpb match` result")
    p.add_argument("file", help="the filled workbook (from `zpb template register` or `zpb match`)")
    p.add_argument("--dry-run", action="store_true", help="check everything and show the differences; store nothing")
    _db_arg(p)
    p.set_defaults(func=cmd_ingest_register)

    p = sub.add_parser("match", help="match a published list of awarded schools to the register's institutions")
    p.add_argument("file", help="the list as published (.txt: numbered paragraphs)")
    options.add_edition(p, "the edition whose awards the list announces, e.g. 2025/2026", required=True)
    p.add_argument("--kind", required=True, metavar="certyfikat|przedłużenie|lider",
                   help="the award the list announces (also: certificate, extension, leader; diacritics optional)")
    p.add_argument("--date", help="award date for the rows (default: the edition's ceremony day)")
    p.add_argument("--out", help="output workbook (default: <file>-dopasowanie.xlsx next to the list)")
    _db_arg(p)
    p.set_defaults(func=cmd_match)

    template = sub.add_parser("template", help="write input templates").add_subparsers(
        dest="template_command", required=True)
    p = template.add_parser("audit", help="write an XLSX audit protocol (Polish) for an institution and edition")
    p.add_argument("--institution", required=True, metavar="RSPO",
                   help="the school's RSPO number or the university's POL-on id (`zpb institutions find NAME`)")
    options.add_edition(p, "school year, e.g. 2025/2026", required=True)
    p.add_argument("--kind", metavar="|".join(AUDIT_KINDS),
                   help="pre-select the audit kind (or in Polish: certyfikacyjny, ponowny, kontrolny, lider)")
    p.add_argument("--out", help="output file (default: protokol-audytu-<RSPO>-<edition>.xlsx)")
    _db_arg(p)
    p.set_defaults(func=cmd_template_audit)
    p = template.add_parser("register", help="write the programme register workbook (XLSX with validation), "
                            "filled with what the database holds")
    p.add_argument("--out", default="rejestr-zpb.xlsx", help="output file (default: rejestr-zpb.xlsx)")
    _db_arg(p)
    p.set_defaults(func=cmd_template_register)
