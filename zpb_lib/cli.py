"""The ``zpb`` command."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from . import store
from .build.cli import register as register_build
from .ingest.cli import register as register_ingest
from .reference import ReferenceDataError
from .xlsx_export import register as register_export


def _db_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", help=f"database file (default: ${store.connection.ENV_DB} or data/zpb.sqlite)")


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import generate

    path = store.resolve_db_path(args.db)
    if path.exists() and not args.force:
        print(f"{path} exists; use --force to replace it", file=sys.stderr)
        return 1
    t0 = time.perf_counter()
    generate(path, seed=args.seed, scale=args.scale)
    print(f"synthetic demo database written to {path} in {time.perf_counter() - t0:.1f} s "
          f"(seed {args.seed}, scale {args.scale:g})")
    return _print_counts(path)


def _print_counts(path: Path) -> int:
    con = store.connect(path, readonly=True)
    try:
        counts = store.table_counts(con)
        synthetic = con.execute("SELECT value FROM meta WHERE key = 'synthetic'").fetchone()
    finally:
        con.close()
    print(f"{path}{' (synthetic demo data)' if synthetic and synthetic[0] == '1' else ''}:")
    width = max(len(t) for t in counts)
    for table, n in counts.items():
        print(f"  {table:<{width}}  {n:>9,}".replace(",", " "))
    return 0


def cmd_db_info(args: argparse.Namespace) -> int:
    return _print_counts(store.resolve_db_path(args.db))


def cmd_db_check(args: argparse.Namespace) -> int:
    from .dbcheck import check

    path = store.resolve_db_path(args.db)
    con = store.connect(path, readonly=True)
    try:
        problems = check(con)
    finally:
        con.close()
    for p in problems:
        print(p)
    print(f"{path}: {len(problems)} problem(s)", file=sys.stderr)
    return 1 if problems else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="zpb", description="Report toolkit for the ZPB programme "
                                     "(Zintegrowana Polityka Bezpieczeństwa, Małopolska).")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="generate a synthetic demo database")
    _db_arg(p)
    p.add_argument("--seed", type=int, default=2026, help="random seed (same seed and scale: same data)")
    p.add_argument("--scale", type=float, default=1.0, help="size factor (1: ~2,500 institutions; 10: national size)")
    p.add_argument("--force", action="store_true", help="replace an existing database")
    p.set_defaults(func=cmd_demo)

    db = sub.add_parser("db", help="inspect and validate a database").add_subparsers(dest="db_command", required=True)
    p = db.add_parser("info", help="row counts per table")
    _db_arg(p)
    p.set_defaults(func=cmd_db_info)
    p = db.add_parser("check", help="validate integrity and the rules; one line per problem")
    _db_arg(p)
    p.set_defaults(func=cmd_db_check)
    register_build(sub)
    register_ingest(sub)
    register_export(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (store.StoreError, ReferenceDataError) as exc:
        print(f"zpb: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("zpb: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
