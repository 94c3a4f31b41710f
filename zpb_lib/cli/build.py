"""The ``zpb build`` subcommand."""
from __future__ import annotations

import argparse
import sys

from zpb_lib.reference.identifiers import parse_identifier
from zpb_lib.core.paths import DB_HELP
from zpb_lib.batch.cluster import EXTRA
from zpb_lib.batch.pdf import PDF_ENGINES
from zpb_lib.batch.plan import KINDS
from zpb_lib.batch.local import usable_cores


def _csv(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(",") if v.strip())


def cmd_build(args: argparse.Namespace) -> int:
    from zpb_lib.batch.pipeline import BuildOptions, build

    for text in args.institution:  # a malformed identifier is refused before anything is opened
        try:
            parse_identifier(text)
        except ValueError as exc:
            print(f"zpb build: --institution {exc}", file=sys.stderr)
            return 2
    if not args.quiet:
        _say_counties(args.county)
    opts = BuildOptions(db=args.db, edition=args.edition, out=args.out, formats=_csv(args.format), jobs=args.jobs,
                        force=args.force, lang=args.lang, only=_csv(args.only) if args.only else KINDS,
                        counties=tuple(args.county), institutions=tuple(args.institution), progress=not args.quiet,
                        notebooks=args.notebooks or "", cluster=args.cluster or "", pdf_engine=args.pdf_engine or "")
    try:
        s = build(opts)
    except (ValueError, KeyError) as exc:  # unknown edition, county, institution…: one line, no traceback
        print(f"zpb build: {exc.args[0] if isinstance(exc, KeyError) and exc.args else exc}", file=sys.stderr)
        return 2
    for part in s.languages or [s]:
        _print_summary(part, s.out_dir, several=bool(s.languages))
    return 0 if s.ok else 1


def _say_counties(counties: list[str]) -> None:
    """A county given by name: which one it is taken to be (an unknown or ambiguous one is refused
    by the build itself)."""
    from zpb_lib.reference import reference
    from zpb_lib.domain.labels import county_name

    ref = reference()
    for text in counties:
        try:
            code = ref.county_code(text)
        except KeyError:
            continue
        if code != text.strip():
            print(f"--county {text}: {county_name(code, 'pl', ref)} ({code})")


def _print_summary(s, edition_dir, several: bool) -> None:
    """One language's line (in that language), its failures and its index page."""
    import os

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


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("build", help="build an edition's reports (HTML and PDF) with their index page")
    p.add_argument("--db", help=DB_HELP)
    p.add_argument("--edition", help="edition as a school year, e.g. 2025/2026 (default: the latest held)")
    p.add_argument("--county", action="append", default=[], metavar="TERYT",
                   help="only this county's reports: its TERYT code or name, e.g. 1201 or bocheński (repeatable)")
    p.add_argument("--institution", action="append", default=[], metavar="RSPO",
                   help="only this institution's report: a school's RSPO number or a university's POL-on id "
                        "(repeatable)")
    p.add_argument("--only", help=f"comma-separated report kinds: {','.join(KINDS)} "
                   "(or in Polish: województwo, powiat, placówka/szkoła)")
    p.add_argument("--format", default="html,pdf", help="comma-separated formats: html,pdf (default both)")
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
    p.add_argument("--lang", default="pl",
                   help="report language: pl (polski, default), en (English), or both: pl,en (one cube; Polish in "
                        "reports/<edition>/, English in reports/<edition>/en/)")
    p.add_argument("--out", default="reports", help="output folder (default reports/)")
    p.add_argument("--notebooks", help="folder with customised report notebooks (default: the notebooks shipped with zpb; "
                        "`zpb notebooks copy DIR` makes editable copies)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_build)
