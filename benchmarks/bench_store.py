"""The store on both engines: the cube computation of an edition and a 50,000-row survey import,
on the demo data, in SQLite and in PostgreSQL (a server this script starts from the system's
PostgreSQL binaries, as tests/support/pg_server.py does, unless --pg names one).

    .venv/bin/python benchmarks/bench_store.py [--db data/zpb.sqlite] [--pg postgresql://…/db] [--rows 50000]
                                               [--repeat 3]

The PostgreSQL database is a `zpb db copy` of the SQLite one. Each figure is the best of --repeat
runs; every import is undone before the next. Target (issue 17): PostgreSQL within 2× of SQLite on
both.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from zpb_lib.domain import cube
from zpb_lib.services import demo
from zpb_lib import store  # noqa: E402
from zpb_lib.ingest.survey import ingest_survey  # noqa: E402
from zpb_lib.reference import reference  # noqa: E402
from zpb_lib.store.copy import copy_database  # noqa: E402
from zpb_lib.store.history import undo  # noqa: E402

EDITION = "2025/2026"


def target(db) -> int:
    """A school taking part in the edition with no students' follow-up answers stored."""
    con = store.connect(db, readonly=True)
    try:
        return con.execute(
            "SELECT i.rspo FROM institutions i JOIN participation p ON p.institution_id = i.id "
            "WHERE i.rspo IS NOT NULL AND p.joined_edition <= :e AND (p.left_edition IS NULL OR p.left_edition >= :e) "
            "AND NOT EXISTS (SELECT 1 FROM survey_responses r WHERE r.institution_id = i.id AND r.edition = :e "
            "AND r.grp = 'students' AND r.wave = 'follow-up') ORDER BY i.id LIMIT 1", {"e": EDITION}).fetchone()[0]
    finally:
        con.close()


def time_cube(db, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        con = store.connect(db, readonly=True)
        try:
            with store.snapshot(con):
                t = time.perf_counter()
                cube.compute(con, EDITION)
                out.append(time.perf_counter() - t)
        finally:
            con.close()
    return out


def time_import(db, csv: Path, rspo: int, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        con = store.connect(db)
        try:
            t = time.perf_counter()
            result = ingest_survey(con, csv, institution=rspo, edition=EDITION, group="students", wave="follow-up")
            out.append(time.perf_counter() - t)
            undo(con, result.import_id)
        finally:
            con.close()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", help="SQLite demo database (default: a new `zpb demo` in a temporary folder)")
    ap.add_argument("--pg", help="an empty PostgreSQL database's URL (default: a server started here)")
    ap.add_argument("--rows", type=int, default=50_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    ref = reference()
    tmp = Path(tempfile.mkdtemp(prefix="zpb-bench-store-"))
    server = None
    try:
        sqlite_db = Path(args.db) if args.db else demo.generate(tmp / "zpb.sqlite")
        pg_url = args.pg
        if not pg_url:
            from support import pg_server

            bindir = pg_server.find_bindir()
            if bindir is None:
                print("PostgreSQL is not installed (Debian: apt-get install postgresql); or give --pg URL")
                return 2
            server = pg_server.Server(bindir)
            server.start()
            pg_url = server.create_database("bench")
        t = time.perf_counter()
        copy_database(sqlite_db, pg_url, overwrite=True)
        print(f"demo data: {sqlite_db} copied to PostgreSQL in {time.perf_counter() - t:.1f} s")

        from support.surveys import answers, write_google_csv

        csv = write_google_csv(tmp / "ankieta.csv", ref, "students", answers(ref, "students", args.rows, seed=1))
        rows = []
        for name, db in (("SQLite", sqlite_db), ("PostgreSQL", pg_url)):
            cube_s = time_cube(db, args.repeat)
            import_s = time_import(db, csv, target(db), args.repeat)
            rows.append((name, min(cube_s), statistics.median(cube_s), min(import_s), statistics.median(import_s)))
        print(f"\n{'engine':<11} {'cube best':>10} {'median':>8}   {f'import {args.rows:,} rows best':>24} {'median':>8}")
        for name, cb, cm, ib, im in rows:
            print(f"{name:<11} {cb:>9.2f}s {cm:>7.2f}s   {ib:>23.2f}s {im:>7.2f}s")
        (_, c1, _, i1, _), (_, c2, _, i2, _) = rows
        print(f"\nPostgreSQL / SQLite: cube {c2 / c1:.2f}×, import {i2 / i1:.2f}× (target: ≤ 2× on both)")
        return 0
    finally:
        if server is not None:
            server.stop()
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
