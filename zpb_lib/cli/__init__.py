"""The ``zpb`` command."""
from __future__ import annotations

import argparse
import sys

from zpb_lib import store, version
from zpb_lib.cli import options
from zpb_lib.cli.build import register_build, register_export
from zpb_lib.cli.deliver import register as register_deliver
from zpb_lib.cli.ingest import print_outcome, register as register_ingest
from zpb_lib.cli.serve import register as register_serve
from zpb_lib.cli.users import register as register_users
from zpb_lib.core.errors import Refusal, ZpbError
from zpb_lib.core.files import describe
from zpb_lib.core.interrupt import settle
from zpb_lib.reference import data_dir, reference
from zpb_lib.services import admin


_db_arg = options.add_db  # for the imports commands below


def cmd_init(args: argparse.Namespace) -> int:
    try:
        made = admin.init(args.db)
    except admin.DatabaseExists as exc:
        print(f"zpb init: {exc} already exists; zpb init never touches an existing database "
              "(upgrade an older one with `zpb db upgrade`)", file=sys.stderr)
        return 1
    print(f"new empty database {store.display(made.location)} (schema version {made.schema_version}) with the "
          "reference data: counties, police units, editions, institution kinds, criteria catalogues")
    print("next: `zpb ingest institutions RSPO_EXPORT.csv`, then `zpb template register` "
          "(see „Your own data” in the README)")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    try:
        made = admin.demo(args.db, seed=args.seed, scale=args.scale, force=args.force)
    except admin.DatabaseExists as exc:
        print(f"{exc} exists; use --force to replace it", file=sys.stderr)
        return 1
    print(f"synthetic demo database written to {store.display(made.location)} in {made.seconds:.1f} s "
          f"(seed {made.seed}, scale {made.scale:g})")
    return _print_counts(made.info)


def _print_counts(info: admin.DatabaseInfo) -> int:
    print(f"{store.display(info.location)}{' (synthetic demo data)' if info.synthetic else ''}:")
    width = max(len(t) for t in info.counts)
    for table, n in info.counts.items():
        print(f"  {table:<{width}}  {n:>9,}".replace(",", " "))
    return 0


def cmd_db_info(args: argparse.Namespace) -> int:
    return _print_counts(admin.info(args.db))


def cmd_db_check(args: argparse.Namespace) -> int:
    report = admin.check(args.db)
    for p in report.problems:
        print(p)
    # Notes follow the problems, marked, and leave the exit status alone: they are not errors.
    for n in report.notes:
        print(f"note: {n}")
    summary = f"{store.display(report.location)}: {len(report.problems)} problem(s)"
    if report.notes:
        summary += f"; {len(report.notes)} note(s): award(s) recorded without an audit in the database"
    print(summary, file=sys.stderr)
    return 0 if report.ok else 1


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    print("\n".join(admin.upgrade(args.db, backup=not args.no_backup).lines()))
    return 0


def cmd_db_copy(args: argparse.Namespace) -> int:
    print("\n".join(admin.copy(args.source, args.target, overwrite=args.force).lines()))
    return 0


def cmd_db_roles(args: argparse.Namespace) -> int:
    print("\n".join(admin.roles(args.db, web_login=args.web_login).lines()))
    return 0


def cmd_imports_list(args: argparse.Namespace) -> int:
    # services.imports pulls the ingest layer: not for `zpb --help`
    from zpb_lib.services.imports import list_imports

    listed = list_imports(args.db)
    records, others = listed.records, listed.others
    if listed.unit:  # a police unit's login lists its own unit's imports: the ones it may undo
        print(f"imports of {listed.unit_name} ({listed.who})"
              + (f"; {others} import(s) of others are not listed" if others else ""))
    if not records:
        print("no imports: the database holds only what `zpb init` or `zpb demo` put in it" if not others
              else "no imports of your unit yet")
        return 0
    width = max([len(r.made_by()) for r in records] + [len("by")])
    print(f"{'id':>5}  {'kind':<12} {'imported (UTC)':<19}  {'by':<{width}}  {'rows':>7}  {'hash':<12}  file · target")
    for r in records:
        target = r.target()
        print(f"{r.id:>5}  {r.kind:<12} {r.imported_at[:19].replace('T', ' '):<19}  {r.made_by():<{width}}  "
              f"{r.rows:>7}  {r.content_hash[:12]}  {r.file_name}{' · ' + target if target else ''}")
    return 0


def cmd_imports_undo(args: argparse.Namespace) -> int:
    # services.imports pulls the ingest layer: not for `zpb --help`
    from zpb_lib.services.imports import undo

    return print_outcome(undo(args.db, args.id, dry_run=args.dry_run, with_later=args.with_later))


def cmd_awards_confirm(args: argparse.Namespace) -> int:
    # services.awards pulls the awards and scoring rules: not for `zpb --help`
    from zpb_lib.services import awards

    result = awards.confirm(args.db, args.edition.edition, date=args.date, dry_run=args.dry_run)
    print("\n".join(result.lines()))  # a refusal (AwardsError) is worded once, in main
    return 0


def cmd_institutions_find(args: argparse.Namespace) -> int:
    # services.lookups pulls the institutions' search: not for `zpb --help`
    from zpb_lib.services.lookups import find_institutions

    hits = find_institutions(args.db, " ".join(args.text), limit=args.limit)
    if not hits:
        print(f"no institution matches {' '.join(args.text)!r} (name, locality, county, RSPO number, POL-on id "
              "or an abbreviation such as „SP”, „ZSO”, „AGH”)", file=sys.stderr)
        return 1
    width = max(len(h.ident) for h in hits)
    for h in hits:
        flags = "" if h.in_register else "  [not in the latest RSPO register]"
        print(f"{h.ident:<{width}}  {h.name} — {h.locality} (powiat {h.county_name}, {h.kind_name}){flags}")
    return 0


def cmd_notebooks_copy(args: argparse.Namespace) -> int:
    # services.builds pulls the batch pipeline: not for `zpb --help`
    from zpb_lib.services.builds import copy_notebooks

    result = copy_notebooks(args.folder, force=args.force)  # a folder that cannot be written: main() says why
    folder = result.folder
    for names, what in ((result.copied, "copied"), (result.refreshed, "refreshed (an unedited copy of another version)"),
                        (result.current, "up to date"), (result.overwritten, "overwritten (--force)")):
        for name in names:
            print(f"{folder / name}: {what}")
    for name in result.kept:
        print(f"zpb notebooks copy: left {folder / name}: it was changed (it differs from the shipped notebook); "
              "--force overwrites it", file=sys.stderr)
    print(f"edit them (JupyterLab: `jupyter lab {folder}`), then: zpb build --notebooks {folder}")
    return 0 if result.ok else 1


def version_text() -> str:
    """``zpb --version``: the package, the database schema and report cube versions it uses, and
    the hash and folder of the reference data it reads."""
    # domain.cube pulls the cube and scoring: only for `zpb --version`
    from zpb_lib.domain.cube import CUBE_VERSION, reference_hash

    try:
        ref = f"{reference_hash(reference())} ({data_dir()})"
    except Exception as exc:  # broken reference data: still say which version this is
        ref = f"unreadable ({exc})"
    return (f"zpb {version()}\n"
            f"database schema version {store.SCHEMA_VERSION}, report cube version {CUBE_VERSION}\n"
            f"reference data {ref}")


class _VersionAction(argparse.Action):
    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS, **kw) -> None:
        super().__init__(option_strings, dest=dest, default=argparse.SUPPRESS, nargs=0, **kw)

    def __call__(self, parser, namespace, values, option_string=None):  # noqa: ANN001
        print(version_text())
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="zpb", description="Report toolkit for the ZPB programme (Zintegrowana Polityka Bezpieczeństwa, "
        "Małopolska).", formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="The database: --db FILE, else $ZPB_DB, else data/zpb.sqlite when zpb runs from its source "
               "checkout,\nelse zpb.sqlite in the current folder. Reference data: $ZPB_DATA_DIR, else the data "
               "shipped with zpb.")
    parser.add_argument("--version", action=_VersionAction,
                        help="print the version of zpb, of the database schema and report cube, and the "
                             "reference data's hash")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("init", help="create a new, empty database for your own data (reference data only)")
    options.add_db(p)
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("demo", help="generate a synthetic demo database")
    options.add_db(p)
    p.add_argument("--seed", type=int, default=2026, help="random seed (same seed and scale: same data)")
    p.add_argument("--scale", type=float, default=1.0, help="size factor (1: ~2,500 institutions; 10: national size)")
    p.add_argument("--force", action="store_true", help="replace an existing database")
    p.set_defaults(func=cmd_demo)

    db = sub.add_parser("db", help="inspect and validate a database").add_subparsers(dest="db_command", required=True)
    p = db.add_parser("info", help="row counts per table")
    options.add_db(p)
    p.set_defaults(func=cmd_db_info)
    p = db.add_parser("check", help="validate integrity and the rules; one line per problem, then notes (awards "
                      "recorded without an audit)")
    options.add_db(p)
    p.set_defaults(func=cmd_db_check)
    p = db.add_parser("upgrade", help="upgrade a database of an older schema (backup copy first, one transaction) "
                      "and bring its reference tables in line with data/")
    options.add_db(p)
    p.add_argument("--no-backup", action="store_true", help="do not keep a copy of the file as it was")
    p.set_defaults(func=cmd_db_upgrade)
    p = db.add_parser("copy", help="copy a whole database, SQLite ↔ PostgreSQL in either direction, and verify it "
                      "(row counts and content hashes)")
    p.add_argument("source", help="database file or postgresql://… URL to copy")
    p.add_argument("target", help="new database file, or an empty PostgreSQL database's URL")
    p.add_argument("--force", action="store_true", help="replace what the target holds")
    p.set_defaults(func=cmd_db_copy)
    p = db.add_parser("roles", help="PostgreSQL: the analyst, reader and police-unit roles and their rights "
                      "(row-level security)")
    options.add_db(p)
    p.add_argument("--web-login", metavar="NAME", help="also make the existing login NAME the web app's (zpb serve): "
                   "a member of every zpb role without their rights, acting only in the role of the person logged in")
    p.set_defaults(func=cmd_db_roles)

    imports = sub.add_parser("imports", help="list imports and take one back").add_subparsers(
        dest="imports_command", required=True)
    p = imports.add_parser("list", help="every import: id, kind, time, rows, content hash, file")
    _db_arg(p)
    p.set_defaults(func=cmd_imports_list)
    p = imports.add_parser("undo", help="remove exactly what one import stored and put back what it changed or "
                           "removed (one transaction)")
    p.add_argument("id", type=int, help="the import's id (see `zpb imports list`)")
    p.add_argument("--with-later", action="store_true",
                   help="also undo every import that depends on it, directly or through others, in one transaction "
                        "(a refusal names them)")
    p.add_argument("--dry-run", action="store_true", help="say what would be removed and put back; change nothing")
    _db_arg(p)
    p.set_defaults(func=cmd_imports_undo)

    awards = sub.add_parser("awards", help="record the awards the rules grant").add_subparsers(
        dest="awards_command", required=True)
    p = awards.add_parser("confirm", help="list the awards the rules grant for an edition's audits and record them")
    options.add_edition(p, "the edition, e.g. 2025/2026", required=True)
    p.add_argument("--date", help="award date (default: the edition's ceremony day), e.g. 2026-10-15")
    p.add_argument("--dry-run", action="store_true", help="list them; record nothing")
    options.add_db(p)
    p.set_defaults(func=cmd_awards_confirm)

    institutions = sub.add_parser("institutions", help="find institutions and their identifiers").add_subparsers(
        dest="institutions_command", required=True)
    p = institutions.add_parser("find", help="find institutions by name, locality, RSPO number or abbreviation "
                                "(diacritics optional)")
    p.add_argument("text", nargs="+", help="words to look for, e.g. sp 2 bochnia, zso limanowa, AGH")
    p.add_argument("--limit", type=int, default=20, help="at most this many (default 20)")
    options.add_db(p)
    p.set_defaults(func=cmd_institutions_find)
    notebooks = sub.add_parser("notebooks", help="editable copies of the report notebooks").add_subparsers(
        dest="notebooks_command", required=True)
    p = notebooks.add_parser("copy", help="copy the report notebooks (and the explorer) into FOLDER to customise "
                             "them for `zpb build --notebooks FOLDER`; copies you changed are left as they are")
    p.add_argument("folder", help="the folder for the copies (created if missing)")
    p.add_argument("--force", action="store_true", help="overwrite copies you changed as well")
    p.set_defaults(func=cmd_notebooks_copy)
    register_build(sub)
    register_ingest(sub)
    register_export(sub)
    register_deliver(sub)
    register_serve(sub)
    register_users(sub)
    return parser


def _command_name(args: argparse.Namespace) -> str:
    """"zpb ingest survey" for the message of a refused option value."""
    words = [args.command] + [v for k, v in vars(args).items() if k.endswith("_command") and isinstance(v, str)]
    return " ".join(["zpb", *words])


def _message(exc: ZpbError) -> str:
    """The message itself: a KeyError's str() would put it in quotes."""
    return str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        options.refuse(args)
    except ValueError as exc:  # an unknown edition, kind, format, language, group, wave: one line, no usage
        print(f"{_command_name(args)}: {exc}", file=sys.stderr)
        return 2
    try:
        code = args.func(args)
        if argv is None:  # the process ends now: a Ctrl-C that came before decides its status (130)

            code, before = settle(code), code
            if code == 130 and before != 130:
                print("zpb: interrupted", file=sys.stderr)
        return code
    except OSError as exc:  # a full disk, a read-only or missing folder, a file where a folder should be…

        # zpb's own OutputError too: describe() names the file and the reason the same way for both
        print(f"{_command_name(args)}: {describe(exc)}", file=sys.stderr)
        return 2
    except ZpbError as exc:  # every error zpb words for people: its message, no traceback
        print(f"zpb: {'refused: ' if isinstance(exc, Refusal) else ''}{_message(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("zpb: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
