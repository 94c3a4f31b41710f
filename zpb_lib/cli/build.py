"""The ``zpb build`` and ``zpb export`` subcommands."""
from __future__ import annotations

import argparse
import os
import sys

from zpb_lib.batch.cluster import EXTRA
from zpb_lib.batch.folders import DEFAULT_OUT
from zpb_lib.batch.local import usable_cores
from zpb_lib.batch.pdf import PDF_ENGINES
from zpb_lib.batch.plan import KINDS
from zpb_lib.cli import options
from zpb_lib.reference.identifiers import parse_identifier


def _csv(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(",") if v.strip())


def cmd_build(args: argparse.Namespace) -> int:
    # services.builds pulls the batch pipeline: not for `zpb --help`
    from zpb_lib.services import builds

    for text in args.institution:  # a malformed identifier is refused before anything is opened
        try:
            parse_identifier(text)
        except ValueError as exc:
            print(f"zpb build: --institution {exc}", file=sys.stderr)
            return 2
    if not args.quiet:
        _say_counties(args.county)
    opts = builds.BuildOptions(
        db=args.db, edition=args.edition.edition if args.edition else None, out=args.out, formats=_csv(args.format),
        jobs=args.jobs, force=args.force, lang=args.lang, only=_csv(args.only) if args.only else KINDS,
        counties=tuple(args.county), institutions=tuple(args.institution), progress=not args.quiet,
        notebooks=args.notebooks or "", cluster=args.cluster or "", pdf_engine=args.pdf_engine or "")
    try:
        s = builds.run(opts)
    except (ValueError, KeyError) as exc:  # unknown edition, county, institution…: one line, no traceback
        print(f"zpb build: {exc.args[0] if isinstance(exc, KeyError) and exc.args else exc}", file=sys.stderr)
        return 2
    for part in s.languages or [s]:
        _print_summary(part, s.out_dir, several=bool(s.languages))
    return 0 if s.ok else 1


def _say_counties(counties: list[str]) -> None:
    """A county given by name: which one it is taken to be (an unknown or ambiguous one is refused
    by the build itself)."""
    # services.lookups pulls the institutions' search: not for `zpb --help`
    from zpb_lib.services.lookups import LookupRefused, county

    for text in counties:
        try:
            found = county(text)
        except LookupRefused:
            continue
        if found.code != text.strip():
            print(f"--county {text}: {found.title_pl} ({found.code})")


def _print_summary(s, edition_dir, several: bool) -> None:
    """One language's line (in that language), its failures and its index page."""
    pl = s.lang == "pl"
    where = f" [{s.lang}]" if several else ""
    folder = os.path.relpath(s.out_dir, edition_dir)
    prefix = "" if folder == "." else f"{folder}/"
    print((f"Edycja {s.edition}{where}: raportów {s.total}, zbudowano {s.built}, pominięto (bez zmian) {s.skipped}, "
           f"błędów {len(s.failed)}; {s.seconds:.1f} s") if pl else
          (f"Edition {s.edition}{where}: {s.total} reports, built {s.built}, skipped (unchanged) {s.skipped}, "
           f"failed {len(s.failed)}; {s.seconds:.1f} s"))
    for stem, err in s.failed[:20]:
        print(f"  {'BŁĄD' if pl else 'FAILED'} {stem}: {err}  ({prefix}notebooks/{stem}.ipynb)")
    if len(s.failed) > 20:
        more = len(s.failed) - 20
        print(f"  … i {more} więcej ({prefix}manifest.json)" if pl else f"  … and {more} more ({prefix}manifest.json)")
    if s.index:
        print(s.index.resolve())


def cmd_export(args: argparse.Namespace) -> int:
    # services.exports pulls report.xlsx: not for `zpb --help`
    from zpb_lib.services import exports

    try:
        scope = exports.scope(args.edition.edition, args.county)
        if scope.county is not None and scope.county != str(args.county).strip():
            print(f"zpb export: --county {args.county}: {scope.county_title} ({scope.county})", file=sys.stderr)
        result = exports.write(scope, args.out, db=args.db, cube=args.cube, lang=args.lang)
    except (exports.ExportError, FileNotFoundError) as exc:
        print(f"zpb export: {exc}", file=sys.stderr)
        return 2
    counts = ", ".join(f"{name}: {n}" for name, n in result.rows.items())
    print(result.path)
    print(f"({counts})", file=sys.stderr)
    return 0


def register_build(sub: argparse._SubParsersAction) -> None:
    """Add ``zpb build`` to the ``zpb`` parser."""
    p = sub.add_parser("build", help="build an edition's reports (HTML and PDF) with their index page")
    options.add_db(p)
    options.add_edition(p, "edition as a school year, e.g. 2025/2026 (default: the latest held)")
    options.add_county(p, "only this county's reports: its TERYT code or name, e.g. 1201 or bocheński (repeatable)",
                       repeatable=True)
    p.add_argument("--institution", action="append", default=[], metavar="RSPO",
                   help="only this institution's report: a school's RSPO number or a university's POL-on id "
                        "(repeatable)")
    p.add_argument("--only", type=options.kinds, help=f"comma-separated report kinds: {','.join(KINDS)} "
                   "(or in Polish: województwo, powiat, placówka/szkoła)")
    p.add_argument("--format", type=options.formats, default="html,pdf",
                   help="comma-separated formats: html,pdf (default both)")
    p.add_argument("--pdf-engine", choices=PDF_ENGINES, default=None,
                   help="what prints the PDFs: weasyprint (default; needs nothing but pip) or chromium (about a sixth "
                        "of the CPU; needs a Chromium and Playwright: pip install 'zpb[chromium]'); "
                        "default: $ZPB_PDF_ENGINE, else weasyprint")
    p.add_argument("--jobs", type=int, default=None, metavar="N",
                   help="parallel workers, each with its own kernel (default: the CPU cores this process may use "
                        f"— its CPU affinity, as taskset or a cgroup sets it — here {usable_cores()})")
    p.add_argument("--cluster", metavar="ADDRESS",
                   help="build on a Dask cluster instead of local processes: a scheduler's address "
                        "(tcp://HOST:8786), or local:N for a cluster of N workers on this machine; every worker "
                        f"must see the output folder under the same path (needs: {EXTRA})")
    p.add_argument("--force", action="store_true", help="rebuild reports even when their inputs did not change")
    options.add_lang(p, "report language: pl (polski, default), en (English), or both: pl,en (one cube; Polish in "
                        "reports/<edition>/, English in reports/<edition>/en/)", several=True)
    p.add_argument("--out", default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT}/)")
    p.add_argument("--notebooks", help="folder with customised report notebooks (default: the notebooks shipped with zpb; "
                        "`zpb notebooks copy DIR` makes editable copies)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_build)


def register_export(sub: argparse._SubParsersAction) -> None:
    """Add ``zpb export`` to the ``zpb`` parser."""
    p = sub.add_parser("export", help="write an edition's results as an XLSX workbook for analysts "
                                      "(decisions, points per criterion, survey indicators, renewals due)")
    options.add_edition(p, "school year, e.g. 2025/2026", required=True)
    options.add_county(p, "only this county's rows (TERYT code such as 1201, or the county's name); "
                          "survey indicators keep the voivodeship rows for comparison")
    options.add_lang(p, "language of sheets and labels: pl (polski, default) or en (English)")
    p.add_argument("--out", help="output file (default: zpb-wyniki-<edition>[-<county>].xlsx, "
                                 "zpb-results-… with --lang en)")
    options.add_db(p)
    p.add_argument("--cube", metavar="PATH", help="reuse a saved report cube of the edition instead of computing it")
    p.set_defaults(func=cmd_export)
