"""Time the explorer's interactions on the default demo database: median and 95th percentile of the
update time per kind of interaction (a control changed or a button pressed in Python, until every
visible view is redrawn), over many interactions in a fixed random order.

Target: median update < 300 ms. The first load of an edition is timed separately (it happens once
per edition and session), twice: with no current report cube (the cube computed from the database)
and with one (the cube ``zpb build`` leaves in ``reports/<edition>/``, read instead); target < 1 s
with a current cube.

    .venv/bin/python benchmarks/bench_explore.py [--db PATH] [--rounds N] [--work DIR]

Without ``--db`` the default demo database (``zpb demo``: seed 2026, scale 1) is generated into
DIR (default build/bench) once and reused.
"""
from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

TARGET_MS = 300.0
FIRST_LOAD_TARGET_S = 1.0


def ensure_db(path: Path) -> Path:
    """The default demo database at ``path`` (generated unless one with the default seed and scale is there)."""
    from zpb_lib import store

    if path.exists():
        con = store.connect(path, readonly=True)
        meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
        con.close()
        if meta.get("demo_scale") == repr(1.0) and meta.get("demo_seed") == "2026":
            return path
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "zpb_lib.cli", "demo", "--db", str(path), "--force"], check=True,
                   stdout=subprocess.DEVNULL)
    return path


def percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    k = (len(s) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", help="database (default: the demo database in --work)")
    ap.add_argument("--work", default="build/bench", help="folder for the generated demo database")
    ap.add_argument("--rounds", type=int, default=3, help="rounds over every interaction kind (default 3)")
    ap.add_argument("--seed", type=int, default=2026)
    args = ap.parse_args()
    db = Path(args.db) if args.db else ensure_db(Path(args.work) / "zpb.sqlite")

    from zpb_lib.explore import Explorer
    from zpb_lib.reference import reference

    ref = reference()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="zpb-bench-explore-") as out:
        return run(db, out, args, ref, rng)


def first_loads(db: Path, out: str, ref) -> tuple[float, float, float, "object"]:
    """Seconds to open the explorer on its latest edition: with no cube anywhere (computed from the
    database), with the cube a build left in ``out/<edition>/`` and with the notebooks' cache next to
    the database. Works on a copy of the database in ``out``, so that no cache of yours is touched."""
    import shutil

    from zpb_lib.domain import cube as cube_mod
    from zpb_lib import store
    from zpb_lib.explore import Explorer

    work = Path(out) / "db"
    work.mkdir()
    copy = work / db.name
    shutil.copy(db, copy)
    edition = ref.held_editions()[-1].edition
    t0 = time.perf_counter()
    x = Explorer(copy, out=out)
    computed = time.perf_counter() - t0
    cache = x.cube_paths[edition]
    # The cube as `zpb build --out OUT` writes it, then the cache removed: only the build's cube is current.
    con = store.connect(copy, readonly=True)
    try:
        cube_mod.build(con, edition, x.build_cube_path(edition), ref=ref, data_hash=store.data_version(copy))
    finally:
        con.close()
    if cache is not None:
        cache.unlink()
    t0 = time.perf_counter()
    x = Explorer(copy, out=out)
    from_build = time.perf_counter() - t0
    assert x.cube_paths[edition] == x.build_cube_path(edition), x.cube_paths
    x.build_cube_path(edition).unlink()
    Explorer(copy, out=out)  # computes the cache again
    t0 = time.perf_counter()
    x = Explorer(copy, out=out)
    from_cache = time.perf_counter() - t0
    return computed, from_build, from_cache, x


def run(db: Path, out: str, args: argparse.Namespace, ref, rng: random.Random) -> int:
    computed, from_build, from_cache, x = first_loads(db, out, ref)
    editions = [e.edition for e in ref.held_editions()]
    current = x.edition.value
    other = editions[-2]
    t0 = time.perf_counter()
    x.edition.value = other
    other_load = time.perf_counter() - t0
    x.edition.value = current

    def choose(widget) -> Callable[[], None]:
        """Set ``widget`` to one of its current options, chosen at random (the options of the
        county and kind controls depend on the police unit and the edition)."""
        return lambda: setattr(widget, "value", rng.choice([v for _, v in widget.options]))

    school_rules = [name for (fam, name) in x._wi_rules if fam == "school"]
    maxima = list(x._wi_maxima)

    def reset_filters() -> None:
        x.unit.value = ""
        x.county.value = ""
        x.kind.value = ""
        x.status.value = "in_edition"

    def on_tab(tab: str, action: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            action()
        run.tab = tab  # type: ignore[attr-defined]
        return run

    def pick_institution() -> None:
        options = [v for _, v in x.institution.options if v is not None]
        x.institution.value = rng.choice(options) if options else None

    def set_threshold() -> None:
        fam_rule = ("school", rng.choice(school_rules))
        w, original = x._wi_rules[fam_rule]
        w.value = original + rng.choice([-3, -2, -1, 1, 2, 3])

    def set_maximum() -> None:
        key = rng.choice(maxima)
        w, original = x._wi_maxima[key]
        w.value = max(1, original + rng.choice([-2, -1, 1, 2]))

    def turn_page() -> None:
        if x.next_button.disabled:
            x.prev_button.click()
        else:
            x.next_button.click()

    kinds_of = {
        "county (table)": on_tab("table", choose(x.county)),
        "police unit (table)": on_tab("table", choose(x.unit)),
        "institution kind (table)": on_tab("table", choose(x.kind)),
        "status (table)": on_tab("table", choose(x.status)),
        "sort (table)": on_tab("table", choose(x.sort_by)),
        "page (table)": on_tab("table", turn_page),
        "survey group (table)": on_tab("table", choose(x.group)),
        "measure (table)": on_tab("table", choose(x.measure)),
        "county (map)": on_tab("map", choose(x.county)),
        "measure (map)": on_tab("map", choose(x.measure)),
        "institution kind (map)": on_tab("map", choose(x.kind)),
        "institution (drill-down)": on_tab("detail", pick_institution),
        "threshold (what-if)": on_tab("whatif", set_threshold),
        "criterion maximum (what-if)": on_tab("whatif", set_maximum),
        "county (what-if)": on_tab("whatif", choose(x.county)),
        "edition, cached (table)": on_tab("table", lambda: setattr(x.edition, "value", rng.choice([current, other]))),
        "tab switch": on_tab("", lambda: x.show(rng.choice(["table", "map", "detail", "whatif"]))),
    }
    per_round = 12
    plan = [name for name in kinds_of for _ in range(per_round)] * args.rounds
    rng.shuffle(plan)
    times: dict[str, list[float]] = {name: [] for name in kinds_of}
    for name in plan:
        action = kinds_of[name]
        tab = action.tab  # type: ignore[attr-defined]
        if tab:
            x.show(tab)  # not timed: the interaction happens on that tab
        if rng.random() < 0.15:
            reset_filters()  # keep the selections varied (untimed)
        t = time.perf_counter()
        action()
        times[name].append((time.perf_counter() - t) * 1000)

    print(f"Explorer on {db} ({len(plan)} timed interactions, {args.rounds} rounds, seed {args.seed})")
    print(f"first load of edition {current}: {computed:.2f} s with no current report cube (computed from the "
          f"database); {from_build:.2f} s with the build's current cube, {from_cache:.2f} s with the notebooks' "
          f"cache — {computed / from_build:.1f}× faster; target < {FIRST_LOAD_TARGET_S:.0f} s with a current cube: "
          f"{'met' if from_build < FIRST_LOAD_TARGET_S else 'NOT met'}")
    print(f"first load of edition {other} (no cube, computed): {other_load:.2f} s (once per edition and session)")
    print(f"{'interaction':30} {'n':>4} {'median ms':>10} {'p95 ms':>8} {'max ms':>8} {'median/target':>14}")
    all_times = []
    for name, ts in times.items():
        all_times += ts
        med = statistics.median(ts)
        print(f"{name:30} {len(ts):4d} {med:10.1f} {percentile(ts, 0.95):8.1f} {max(ts):8.1f} "
              f"{med / TARGET_MS:14.2f}")
    med = statistics.median(all_times)
    print(f"{'all interactions':30} {len(all_times):4d} {med:10.1f} {percentile(all_times, 0.95):8.1f} "
          f"{max(all_times):8.1f} {med / TARGET_MS:14.2f}")
    worst = max(statistics.median(ts) for ts in times.values())
    ok = worst < TARGET_MS
    print(f"target: median < {TARGET_MS:.0f} ms for every kind — worst kind's median {worst:.1f} ms: "
          f"{'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
