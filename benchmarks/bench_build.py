"""Build speed: the plain loop (the `papermill` command, then the `jupyter nbconvert` command, per
report) against `zpb build --format html --jobs 2` on the same reports, in the same run; then the
full edition (HTML and PDF) and a no-op rebuild of it.

    .venv/bin/python benchmarks/bench_build.py [--db data/zpb.sqlite] [--reports 40] [--skip-full]
    .venv/bin/python benchmarks/bench_build.py --only-pdf [--pdf-engine chromium] [--rounds 2]   # PDF cost

Targets: ratio plain / zpb build ≥ 15 (issue 5); no-op rebuild of a full edition < 3 s; peak
memory per worker (worker process + its kernel) < 1.5 GB over a full edition; the full edition
with PDF within 1.5× the time of the same build without PDF, both measured in one run, for each PDF
engine (WeasyPrint, the default, and Chromium when it is installed).
"""
from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EDITION = "2025/2026"


def zpb(*args: str) -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "zpb_lib.cli", "build", *args, "--quiet"], check=True,
                   stdout=subprocess.DEVNULL, cwd=ROOT)
    return time.perf_counter() - t


def pick_institutions(db: Path, n: int) -> list[str]:
    """``n`` institutions audited in the edition, spread over the counties, by RSPO number / POL-on id."""
    con = sqlite3.connect(db)
    rows = con.execute("""SELECT COALESCE(CAST(i.rspo AS TEXT), i.polon), i.county FROM audits a
                          JOIN institutions i ON i.id = a.institution_id
                          WHERE a.edition = ? GROUP BY a.institution_id ORDER BY i.county, a.institution_id""",
                       (EDITION,)).fetchall()
    con.close()
    by_county: dict[str, list[str]] = {}
    for inst, county in rows:
        by_county.setdefault(county, []).append(inst)
    picked: list[str] = []
    while len(picked) < n and any(by_county.values()):
        for county in sorted(by_county):
            if by_county[county] and len(picked) < n:
                picked.append(by_county[county].pop(0))
    if len(picked) < n:
        raise SystemExit(f"only {len(picked)} institutions audited in {EDITION}")
    return picked


def plain_loop(ids: list[str], cube: Path, work: Path) -> float:
    """What an analyst without zpb build would run: two commands per report, same notebook and cube."""
    nb = ROOT / "notebooks" / "school_report.ipynb"
    t = time.perf_counter()
    for inst in ids:
        out = work / f"plain-{inst}.ipynb"
        subprocess.run([sys.executable, "-m", "papermill", str(nb), str(out), "-p", "institution", str(inst),
                        "-p", "edition", EDITION, "-p", "cube", str(cube), "--no-progress-bar"],
                       check=True, capture_output=True, cwd=work)
        subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "html", str(out)], check=True,
                       capture_output=True, cwd=work)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", default=str(ROOT / "data" / "zpb.sqlite"))
    ap.add_argument("--reports", type=int, default=40)
    ap.add_argument("--skip-full", action="store_true", help="only the plain loop against zpb build")
    ap.add_argument("--only-full", action="store_true", help="only the full edition and its no-op rebuild")
    ap.add_argument("--only-pdf", action="store_true", help="only the full edition without and with PDF")
    ap.add_argument("--rounds", type=int, default=1, help="--only-pdf: repeat the builds, alternating (default 1)")
    ap.add_argument("--pdf-engine", action="append", choices=("weasyprint", "chromium"),
                    help="the PDF engines --only-pdf measures (repeatable; default: both, chromium when present)")
    args = ap.parse_args()
    db = Path(args.db).resolve()
    work = Path(tempfile.mkdtemp(prefix="zpb-bench-build-"))
    try:
        if args.only_pdf:
            pdf_cost(db, work, args.pdf_engine or _engines_here(), args.rounds)
            return
        if not args.only_full:
            compare(db, args.reports, work)
        if not args.skip_full:
            full(db, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def compare(db: Path, n_reports: int, work: Path) -> None:
    """(a) the plain loop and (b) zpb build on the same school reports."""
    ids = pick_institutions(db, n_reports)
    inst_args = [a for i in ids for a in ("--institution", str(i))]
    # (b) zpb build: computes its cube, starts two warm workers, builds the reports.
    out_b = work / "zpb"
    t_zpb = zpb("--db", str(db), "--edition", EDITION, "--out", str(out_b), "--format", "html", "--jobs", "2",
                *inst_args)
    cube = out_b / EDITION.replace("/", "-") / "cube.sqlite"
    # (a) the plain loop on the same reports, reading the same cube (its computation is not counted).
    t_plain = plain_loop(ids, cube, work)
    n = len(ids)
    print(f"reports: {n} school reports of {EDITION} from {db.name}")
    print(f"plain papermill + nbconvert loop: {t_plain:.1f} s, {t_plain / n:.2f} s per report")
    print(f"zpb build --format html --jobs 2:  {t_zpb:.1f} s, {t_zpb / n:.3f} s per report "
          f"(cube and kernel start-up included)")
    print(f"ratio plain / zpb build: {t_plain / t_zpb:.1f} (target ≥ 15)")
    # Where zpb build's time went, from its manifest (per-report seconds are per worker).
    manifest = json.loads((cube.parent / "manifest.json").read_text(encoding="utf-8"))
    steps: dict[str, float] = {}
    for r in manifest["reports"].values():
        for k, v in r["seconds"].items():
            steps[k] = steps.get(k, 0.0) + v / n
    print(f"  of which: cube {manifest['cube']['seconds']:.2f} s; per report and worker "
          + ", ".join(f"{k} {v:.3f} s" for k, v in steps.items()))


def _median(values: list[float]) -> float:
    values = sorted(values)
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def _engines_here() -> list[str]:
    from zpb_lib.batch.pdf.chromium import unavailable_reason

    return ["weasyprint"] + ([] if unavailable_reason() else ["chromium"])


def pdf_cost(db: Path, work: Path, engines: list[str], rounds: int = 1) -> None:
    """The full edition built from scratch, HTML only and then HTML+PDF with each engine (same
    reports, --jobs 2, the cube computed in each), ``rounds`` times in that order; prints the times,
    each engine's ratio to the HTML-only build of its round and, from its build's manifest, the
    median seconds per report of PDF rendering beside those of execution; with several rounds, the
    median ratio."""
    ratios: dict[str, list[float]] = {e: [] for e in engines}
    for rnd in range(1, rounds + 1):
        shutil.rmtree(work / "html", ignore_errors=True)
        t_html = zpb("--db", str(db), "--edition", EDITION, "--out", str(work / "html"), "--format", "html",
                     "--jobs", "2")
        print(f"round {rnd}: full edition, --jobs 2: HTML only {t_html:.1f} s", flush=True)
        for engine in engines:
            out = work / f"pdf-{engine}"
            shutil.rmtree(out, ignore_errors=True)
            t_pdf = zpb("--db", str(db), "--edition", EDITION, "--out", str(out), "--format", "html,pdf",
                        "--jobs", "2", "--pdf-engine", engine)
            manifest = json.loads((out / EDITION.replace("/", "-") / "manifest.json").read_text(encoding="utf-8"))
            reports = list(manifest["reports"].values())
            per = {k: _median([r["seconds"].get(k, 0.0) for r in reports]) for k in ("execute", "html", "pdf")}
            by_kind: dict[str, list[float]] = {}
            for r in reports:
                by_kind.setdefault(r["kind"], []).append(r["seconds"].get("pdf", 0.0))
            ratios[engine].append(t_pdf / t_html)
            print(f"  HTML + PDF ({engine}), {len(reports)} reports: {t_pdf:.1f} s; ratio {t_pdf / t_html:.2f} "
                  "(target ≤ 1.5)")
            print(f"    median per report: execution {per['execute']:.3f} s, HTML {per['html']:.3f} s, "
                  f"PDF {per['pdf']:.3f} s; median PDF by kind: "
                  + ", ".join(f"{k} {_median(v):.3f} s" for k, v in sorted(by_kind.items())), flush=True)
    if rounds > 1:
        print("median ratio over the rounds: "
              + ", ".join(f"{e} {_median(r):.2f} ({' '.join(f'{x:.2f}' for x in r)})" for e, r in ratios.items()))


def full(db: Path, work: Path) -> None:
    """The full edition (HTML and PDF), then a rebuild with nothing changed."""
    out_full = work / "full"
    t_full = zpb("--db", str(db), "--edition", EDITION, "--out", str(out_full), "--format", "html,pdf",
                 "--jobs", "2")
    manifest = json.loads((out_full / EDITION.replace("/", "-") / "manifest.json").read_text(encoding="utf-8"))
    reports = manifest["reports"].values()
    peak = max((r.get("worker_mb") or 0) + (r.get("kernel_peak_mb") or 0) for r in reports)
    print(f"full edition (HTML + PDF, --jobs 2): {len(reports)} reports in {t_full:.1f} s, "
          f"{t_full / len(reports):.2f} s per report; failed: {manifest['summary']['failed']}")
    print(f"peak memory per worker (worker + its kernel): {peak:.0f} MB (target < 1536)")
    t_noop = zpb("--db", str(db), "--edition", EDITION, "--out", str(out_full), "--format", "html,pdf",
                 "--jobs", "2")
    print(f"no-op rebuild of the full edition: {t_noop:.2f} s (target < 3)")


if __name__ == "__main__":
    main()
