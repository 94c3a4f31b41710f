"""The ``zpb build`` subcommand."""
from __future__ import annotations

import argparse
import sys

from ..institutions import parse_identifier
from .plan import KINDS


def _csv(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(",") if v.strip())


def cmd_build(args: argparse.Namespace) -> int:
    from .pipeline import BuildOptions, build

    for text in args.institution:  # a malformed identifier is refused before anything is opened
        try:
            parse_identifier(text)
        except ValueError as exc:
            print(f"zpb build: --institution {exc}", file=sys.stderr)
            return 2
    opts = BuildOptions(db=args.db, edition=args.edition, out=args.out, formats=_csv(args.format), jobs=args.jobs,
                        force=args.force, lang=args.lang, only=_csv(args.only) if args.only else KINDS,
                        counties=tuple(args.county), institutions=tuple(args.institution), progress=not args.quiet,
                        notebooks=args.notebooks or "")
    try:
        s = build(opts)
    except (ValueError, KeyError) as exc:  # unknown edition, county, institution…: one line, no traceback
        print(f"zpb build: {exc.args[0] if isinstance(exc, KeyError) and exc.args else exc}", file=sys.stderr)
        return 2
    pl = args.lang == "pl"
    print((f"Edycja {s.edition}: raportów {s.total}, zbudowano {s.built}, pominięto (bez zmian) {s.skipped}, "
           f"błędów {len(s.failed)}; {s.seconds:.1f} s") if pl else
          (f"Edition {s.edition}: {s.total} reports, built {s.built}, skipped (unchanged) {s.skipped}, "
           f"failed {len(s.failed)}; {s.seconds:.1f} s"))
    for stem, err in s.failed[:20]:
        print(f"  {'BŁĄD' if pl else 'FAILED'} {stem}: {err}  (notebooks/{stem}.ipynb)")
    if len(s.failed) > 20:
        more = len(s.failed) - 20
        print(f"  … i {more} więcej (manifest.json)" if pl else f"  … and {more} more (manifest.json)")
    if s.index:
        print(s.index.resolve())
    return 0 if s.ok else 1


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("build", help="build an edition's reports (HTML and PDF) with their index page")
    p.add_argument("--db", help="database file (default: $ZPB_DB or data/zpb.sqlite)")
    p.add_argument("--edition", help="edition as a school year, e.g. 2025/2026 (default: the latest held)")
    p.add_argument("--county", action="append", default=[], metavar="TERYT",
                   help="only this county's reports: its TERYT code or name, e.g. 1201 or bocheński (repeatable)")
    p.add_argument("--institution", action="append", default=[], metavar="RSPO",
                   help="only this institution's report: a school's RSPO number or a university's POL-on id "
                        "(repeatable)")
    p.add_argument("--only", help=f"comma-separated report kinds: {','.join(KINDS)}")
    p.add_argument("--format", default="html,pdf", help="comma-separated formats: html,pdf (default both)")
    p.add_argument("--jobs", type=int, default=1, help="parallel workers, each with its own kernel (default 1)")
    p.add_argument("--force", action="store_true", help="rebuild reports even when their inputs did not change")
    p.add_argument("--lang", default="pl", choices=("pl", "en"), help="report language (default pl)")
    p.add_argument("--out", default="reports", help="output folder (default reports/)")
    p.add_argument("--notebooks", help="folder with (customised) report notebooks (default: the project's notebooks/)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_build)
