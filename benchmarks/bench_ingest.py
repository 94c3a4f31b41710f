"""How fast a large survey export is ingested (target: 50,000 rows in under 10 s).

Builds a Google Forms CSV, a CSV saved by Polish Excel and a Microsoft Forms XLSX of the same size
with the writer libraries, then times ``ingest_survey`` on each into a fresh copy of a small demo
database (reading, checking, mapping labels and storing, in one transaction). Not part of the tests.

    .venv/bin/python benchmarks/bench_ingest.py [--rows 50000] [--no-xlsx]
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from zpb_lib.services import demo
from zpb_lib import store  # noqa: E402
from zpb_lib.ingest.survey import ingest_survey  # noqa: E402
from zpb_lib.reference import reference  # noqa: E402

TARGET_S = 10.0
EDITION = "2025/2026"


def _rows(ref, group: str, n: int, joiner: str, seed: int = 1) -> list[list[str]]:
    rnd = random.Random(seed)
    items = ref.questionnaires[group].items
    out = []
    for _ in range(n):
        row = []
        for item in items:
            scale = ref.scales[item.scale]
            if scale.kind == "multiple":  # places, or „Nigdzie” alone (it excludes them), or nothing
                chosen = [o.label_pl for o in scale.options if not o.exclusive and rnd.random() < 0.2]
                if not chosen and rnd.random() < 0.8:
                    chosen = [o.label_pl for o in scale.options if o.exclusive]
                row.append(joiner.join(chosen))
            else:
                row.append("" if rnd.random() < 0.03 else rnd.choice(scale.options).label_pl)
        out.append(row)
    return out


def google_csv(path: Path, ref, n: int) -> Path:
    items = ref.questionnaires["students"].items
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["Sygnatura czasowa", "Adres e-mail"] + [i.text_pl for i in items])
        for k, row in enumerate(_rows(ref, "students", n, ", ")):
            w.writerow(["2026/03/12 10:15:32 AM CET", f"osoba{k}@example.com"] + row)
    return path


def excel_csv(path: Path, ref, n: int) -> Path:
    items = ref.questionnaires["students"].items
    with open(path, "w", encoding="cp1250", newline="") as fh:
        w = csv.writer(fh, delimiter=";")
        w.writerow(["Sygnatura czasowa"] + [i.text_pl for i in items])
        for row in _rows(ref, "students", n, ", ", seed=2):
            w.writerow(["12.03.2026 10:15"] + row)
    return path


def msforms_xlsx(path: Path, ref, n: int) -> Path:
    import openpyxl

    items = ref.questionnaires["students"].items
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("Sheet1")
    ws.append(["ID", "Start time", "Completion time", "Email", "Name"] + [i.text_pl for i in items])
    t = dt.datetime(2026, 3, 12, 10, 0)
    for k, row in enumerate(_rows(ref, "students", n, ";", seed=3)):
        ws.append([k + 1, t, t, "anonymous", None] + [v or None for v in row])
    wb.save(path)
    return path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=50_000)
    ap.add_argument("--no-xlsx", action="store_true", help="skip the XLSX export (slowest to build)")
    args = ap.parse_args()
    ref = reference()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        base = demo.generate(tmp / "base.sqlite", seed=7, scale=0.1)
        makers = [("Google Forms CSV", google_csv, "g.csv"), ("Excel CSV (Windows-1250)", excel_csv, "e.csv")]
        if not args.no_xlsx:
            makers.append(("Microsoft Forms XLSX", msforms_xlsx, "m.xlsx"))
        print(f"ingest of {args.rows:,} survey rows (target < {TARGET_S:g} s)".replace(",", " "))
        print(f"{'format':<26} {'size MB':>8} {'build s':>8} {'rows':>8} {'ingest s':>9} {'rows/s':>9} {'target/actual':>14}")
        worst = 0.0
        for name, make, fname in makers:
            t0 = time.perf_counter()
            path = make(tmp / fname, ref, args.rows)
            built = time.perf_counter() - t0
            db = tmp / f"{fname}.sqlite"
            shutil.copy(base, db)
            con = store.connect(db)
            # A school is named by its RSPO number and must take part in the edition.
            inst = con.execute("SELECT MIN(i.rspo) FROM institutions i JOIN participation p ON p.institution_id = i.id "
                               "WHERE i.kind = 'primary' AND p.joined_edition <= :e AND (p.left_edition IS NULL "
                               "OR p.left_edition >= :e)", {"e": EDITION}).fetchone()[0]
            t0 = time.perf_counter()
            res = ingest_survey(con, path, institution=inst, edition=EDITION, group="students", wave="follow-up",
                                replace=True, ref=ref)
            took = time.perf_counter() - t0
            stored = con.execute("SELECT COUNT(*) FROM survey_responses WHERE import_id = ?", (res.import_id,)).fetchone()[0]
            con.close()
            assert stored == args.rows, (stored, args.rows)
            worst = max(worst, took)
            print(f"{name:<26} {path.stat().st_size / 1e6:>8.1f} {built:>8.1f} {stored:>8} {took:>9.2f} "
                  f"{stored / took:>9,.0f} {TARGET_S / took:>13.1f}x".replace(",", " "))
    print(f"slowest: {worst:.2f} s ({'within' if worst < TARGET_S else 'OVER'} the {TARGET_S:g} s target)")
    return 0 if worst < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
