"""How fast `zpb ingest institutions` reads a national RSPO export (target: ≈ 56,000 rows, ≈ 42 MB,
in under 15 s with a peak memory under 1 GB).

Writes a national-size export (the real 50-column header, all 16 voivodeships, about 6 % of the
rows in Małopolska, ="…" wrapping) into a temporary folder, then runs the command in a fresh
process into a new empty database and measures its wall time and peak RSS. Beside it, as the
baseline, a fresh process that only reads the same file with a plain ``csv.reader``; the ratios say
what the import costs over merely reading the file. Each measured command runs under its own
wrapper process, so that one's peak RSS (``RUSAGE_CHILDREN``) cannot hide in another's. Not part of
the tests.

    .venv/bin/python benchmarks/bench_rspo.py [--rows 56000] [--xlsx]
"""
from __future__ import annotations

import argparse
import json
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the export writer the tests use

from rspo_support import national_rows, write_rspo_export  # noqa: E402
from zpb_lib import store  # noqa: E402

TARGET_S = 15.0
TARGET_MB = 1024.0
IN_SCOPE = {"Szkoła podstawowa", "Liceum ogólnokształcące", "Technikum", "Branżowa szkoła I stopnia",
            "Szkoła policealna", "Zespół szkół i placówek oświatowych", "Szkoła muzyczna I stopnia"}

BASELINE = """
import csv, sys
with open(sys.argv[1], encoding="utf-8-sig", newline="") as fh:
    n = sum(1 for _ in csv.reader(fh, delimiter=";"))
print(n)
"""


def measure(cmd: list[str]) -> dict:
    """Wall time (s) and peak RSS (MB) of ``cmd``, run as the only child of a fresh wrapper process."""
    out = subprocess.run([sys.executable, __file__, "--measure", "--", *cmd], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _measure_child(cmd: list[str]) -> int:
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - t0
    if done.returncode:
        sys.stderr.write(done.stdout + done.stderr)
        return done.returncode
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
    print(json.dumps({"wall": wall, "rss_mb": peak_kb / 1024, "stdout": done.stdout}))
    return 0


def write_export(path: Path, rows: int, xlsx: bool) -> tuple[Path, int]:
    """The export and how many of its rows are Małopolska schools of a type in scope."""
    expected = 0

    def counted():
        nonlocal expected
        for r in national_rows(rows):
            expected += r["Kod terytorialny powiat"].startswith("12") and r["Typ"] in IN_SCOPE
            yield r

    return write_rspo_export(path, counted(), xlsx=xlsx), expected


def run(path: Path, expected: int, tmp: Path, baseline: dict | None) -> tuple[dict, bool]:
    db = tmp / f"{path.suffix[1:]}.sqlite"
    store.create(db).close()
    res = measure([sys.executable, "-m", "zpb_lib.cli", "ingest", "institutions", str(path), "--db", str(db)])
    con = sqlite3.connect(db)
    stored = con.execute("SELECT COUNT(*) FROM institutions").fetchone()[0]
    con.close()
    assert stored == expected, (stored, expected)
    ok = res["wall"] < TARGET_S and res["rss_mb"] < TARGET_MB
    ratio = f"{res['wall'] / baseline['wall']:>7.1f}x {res['rss_mb'] / baseline['rss_mb']:>7.1f}x" if baseline else ""
    print(f"{'zpb ingest institutions (' + path.suffix[1:] + ')':<34} {res['wall']:>7.2f} {res['rss_mb']:>8.0f} "
          f"{ratio:>17}   {stored} schools stored, {'within' if ok else 'OVER'} target")
    return res, ok


def main() -> int:
    if len(sys.argv) > 2 and sys.argv[1] == "--measure":
        return _measure_child(sys.argv[3:])
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=56_000)
    ap.add_argument("--xlsx", action="store_true", help="also the same export re-saved as XLSX (slow to write)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        csv_path, expected = write_export(tmp / "rspo-polska.csv", args.rows, xlsx=False)
        print(f"national export: {args.rows} rows, {csv_path.stat().st_size / 1e6:.1f} MB CSV, {expected} Małopolska "
              f"schools in scope (written in {time.perf_counter() - t0:.1f} s)")
        print(f"targets: < {TARGET_S:g} s, < {TARGET_MB:g} MB peak RSS\n")
        print(f"{'command':<34} {'wall s':>7} {'peak MB':>8} {'ratio: time   RSS':>17}")
        base = measure([sys.executable, "-c", BASELINE, str(csv_path)])
        print(f"{'baseline: csv.reader pass':<34} {base['wall']:>7.2f} {base['rss_mb']:>8.0f} {'1.0x     1.0x':>17}"
              f"   {int(base['stdout']) - 1} rows")
        _, ok = run(csv_path, expected, tmp, base)
        if args.xlsx:
            xlsx_path, _ = write_export(tmp / "rspo-polska.xlsx", args.rows, xlsx=True)
            _, ok_x = run(xlsx_path, expected, tmp, base)
            ok = ok and ok_x
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
