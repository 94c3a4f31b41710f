"""Builds on a Dask cluster: the overhead of `--cluster local:2` against the local backend
(`--jobs 2`) on the same reports, in the same run; then reports per second per worker and peak memory
per worker on a national-scale database (`zpb demo --scale 10`).

    .venv/bin/python benchmarks/bench_cluster.py [--db data/zpb.sqlite] [--reports 120] [--format html,pdf]
        [--rounds 1] [--scale-db PATH] [--schools 400] [--skip-compare] [--skip-scale]

`--scale-db` is made first when missing (`zpb demo --scale 10 --db PATH`: minutes). Every build is
from scratch (`--force`, its own output folder, its cube computed); the scale part builds HTML and
PDF (the real build).

Target: Dask's overhead ≤ 1.15× the local backend, the cluster's start-up (scheduler, workers,
probe: printed apart) not counted. The scale part prints the numbers the README's table of a
national edition is computed from.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_build import EDITION, ROOT, pick_institutions  # noqa: E402

FOLDER = EDITION.replace("/", "-")
_READY = re.compile(r"Dask: (\d+) workers, ready in ([\d.]+) s")


def build(*args: str) -> tuple[float, float]:
    """Wall time of one ``zpb build`` and the start-up of its Dask cluster (0 for the local backend)."""
    t = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "zpb_lib.cli", "build", "--edition", EDITION, "--force", "--quiet",
                           *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    wall = time.perf_counter() - t
    if done.returncode != 0:
        raise SystemExit(f"zpb build {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    m = _READY.search(done.stderr)
    return wall, float(m.group(2)) if m else 0.0


def manifest(out: Path) -> dict:
    return json.loads((out / FOLDER / "manifest.json").read_text(encoding="utf-8"))


def compare(db: Path, n: int, work: Path, formats: str, rounds: int) -> None:
    """Both backends on the same reports, ``rounds`` times, in alternating order (on a shared
    machine the load changes; alternating spreads it over both)."""
    ids = pick_institutions(db, n)
    common = ["--db", str(db), "--format", formats, *[a for i in ids for a in ("--institution", i)]]
    backends = {"local": ["--jobs", "2"], "dask": ["--cluster", "local:2"]}
    times: dict[str, list[float]] = {"local": [], "dask": []}
    startups: list[float] = []
    for r in range(rounds):
        for name in (("local", "dask") if r % 2 == 0 else ("dask", "local")):
            out = work / f"{name}-{r}"
            wall, startup = build(*common, "--out", str(out), *backends[name])
            m = manifest(out)
            assert m["summary"]["built"] == n and not m["summary"]["failed"], (name, m["summary"])
            times[name].append(wall - startup)
            if name == "dask":
                startups.append(startup)
            shutil.rmtree(out, ignore_errors=True)
        print(f"  round {r + 1}: local {times['local'][-1]:.1f} s, Dask {times['dask'][-1]:.1f} s "
              f"+ start-up {startups[-1]:.1f} s", flush=True)
    t_local, t_dask, startup = sum(times["local"]), sum(times["dask"]), sum(startups) / len(startups)
    print(f"{n} school reports of {EDITION} from {db.name}, {formats}, two workers, {rounds} round(s)")
    print(f"  local backend, --jobs 2:   {t_local / rounds:6.1f} s per build")
    print(f"  Dask, --cluster local:2:   {t_dask / rounds:6.1f} s per build, and cluster start-up {startup:.1f} s")
    print(f"  ratio Dask / local, start-up apart: {t_dask / t_local:.3f} (target ≤ 1.15); "
          f"with it: {(t_dask + startup * rounds) / t_local:.3f}")


def scale(db: Path, n_schools: int, work: Path) -> None:
    if not db.exists():
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "zpb_lib.cli", "demo", "--scale", "10", "--db", str(db)], check=True,
                       stdout=subprocess.DEVNULL, cwd=ROOT)
        print(f"zpb demo --scale 10: {time.perf_counter() - t:.0f} s")
    out = work / "scale"
    runs = [build("--db", str(db), "--out", str(out), "--cluster", "local:2", "--only", "county")]
    m_county = manifest(out)
    ids = pick_institutions(db, n_schools)
    runs.append(build("--db", str(db), "--out", str(out), "--cluster", "local:2",
                      *[a for i in ids for a in ("--institution", i)]))
    m_school = manifest(out)
    # The school build's manifest keeps the county reports' entries too: each report counted once.
    reports = [r for r in m_school["reports"].values() if r["kind"] == "school" and r.get("status") == "ok"]
    reports += [r for r in m_county["reports"].values() if r["kind"] == "county" and r.get("status") == "ok"]
    # Time spent building reports: the builds' wall time less the clusters' start-up and the cube.
    busy = sum(wall - startup for wall, startup in runs) - m_county["cube"]["seconds"] - m_school["cube"]["seconds"]
    workers = 2
    print(f"--scale 10 database: {len(reports)} reports (22 county, {len(reports) - 22} school), HTML and PDF, "
          f"--cluster local:2; cube {m_county['cube']['seconds']:.1f} s (computed once)")
    print(f"  {len(reports) / busy / workers:.3f} reports per second per worker "
          f"({busy:.0f} s of building on {workers} workers)")
    for kind in ("county", "school"):
        secs = sorted(r["seconds"]["total"] for r in reports if r["kind"] == kind)
        print(f"  {kind}: median {secs[len(secs) // 2]:.2f} s per report and worker, slowest {secs[-1]:.2f} s")
    peak: dict[str, float] = {}
    for r in reports:
        w = str(r["worker"])
        peak[w] = max(peak.get(w, 0.0), (r.get("worker_mb") or 0.0) + (r.get("kernel_peak_mb") or 0.0))
    print("  peak memory per worker (worker process + its kernel): "
          + ", ".join(f"worker {w}: {mb:.0f} MB" for w, mb in sorted(peak.items())))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", default=str(ROOT / "data" / "zpb.sqlite"))
    ap.add_argument("--reports", type=int, default=120)
    ap.add_argument("--format", default="html,pdf", help="formats of the comparison's builds (default html,pdf)")
    ap.add_argument("--rounds", type=int, default=1, help="comparison rounds, alternating the order")
    ap.add_argument("--scale-db", default=str(ROOT / "data" / "zpb-scale10.sqlite"))
    ap.add_argument("--schools", type=int, default=400)
    ap.add_argument("--skip-compare", action="store_true")
    ap.add_argument("--skip-scale", action="store_true")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="zpb-bench-cluster-"))
    try:
        if not args.skip_compare:
            compare(Path(args.db).resolve(), args.reports, work, args.format, args.rounds)
        if not args.skip_scale:
            scale(Path(args.scale_db).resolve(), args.schools, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
