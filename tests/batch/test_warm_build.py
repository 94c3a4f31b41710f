"""Warm kernels: reports built on one reused kernel equal the same reports run cold by plain
papermill, and no kernel process outlives a build — after success, after a failing report, and
after Ctrl-C."""
from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import nbformat
from support.builds import NOTEBOOKS, _kernels, _outputs, _wait_gone

from zpb_lib.batch.export import Exporter
from zpb_lib.batch.pipeline import BuildOptions, build
from zpb_lib.batch.provenance import slim_notebook

EDITION = "2025/2026"


def test_warm_equals_cold(small_db, tmp_path):
    con = sqlite3.connect(small_db)
    schools = [r[0] for r in con.execute(  # by the identifiers people use: RSPO number / POL-on id
        "SELECT DISTINCT COALESCE(CAST(i.rspo AS TEXT), i.polon) FROM audits a JOIN institutions i "
        "ON i.id = a.institution_id WHERE a.edition = ? ORDER BY 1 LIMIT 3", (EDITION,))]
    con.close()
    out = tmp_path / "warm"
    # One worker: every report after the first runs on a kernel that already built others.
    s = build(BuildOptions(db=str(small_db), edition=EDITION, out=str(out), formats=("html",), jobs=1, progress=False,
                           counties=("1201", "1261"), only=("county",)))
    s2 = build(BuildOptions(db=str(small_db), edition=EDITION, out=str(out), formats=("html",), jobs=1, progress=False,
                            institutions=tuple(schools)))
    assert s.ok and s2.ok
    folder = out / "2025-2026"
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    compared = 0
    for stem, entry in manifest["reports"].items():
        warm = nbformat.read(folder / entry["notebook"], as_version=4)
        params = [a for k, v in warm.metadata["papermill"]["parameters"].items() for a in ("-p", k, str(v))]
        cold_path = tmp_path / f"cold-{stem}.ipynb"
        notebook = NOTEBOOKS / ("county_report.ipynb" if entry["kind"] == "county" else "school_report.ipynb")
        subprocess.run([sys.executable, "-m", "papermill", str(notebook), str(cold_path), *params,
                        "--no-progress-bar"], check=True, capture_output=True, cwd=NOTEBOOKS)
        cold = nbformat.read(cold_path, as_version=4)
        # The build keeps its notebooks without their images (in the report page instead): the cold
        # one the same way, and both pages from the full notebooks must be the same too.
        assert _outputs(warm) == _outputs(slim_notebook(cold, f"{stem}.html", manifest.get("lang", "pl"))), stem
        assert Exporter().to_html(cold) == (folder / f"{stem}.html").read_text(encoding="utf-8"), stem
        compared += 1
    assert compared == 2 + len(schools)


# ------------------------------------------------------------------ no kernel left behind


def _build_cmd(db: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "zpb_lib.cli", "build", "--db", str(db), "--edition", EDITION, "--out", str(out),
            "--format", "html", "--jobs", "2", "--quiet", *extra]


def test_no_kernel_left_after_success_and_failure(small_db, tmp_path):
    tag = uuid.uuid4().hex
    env = dict(os.environ, ZPB_TEST_TAG=tag)
    ok = subprocess.run(_build_cmd(small_db, tmp_path / "a", "--county", "1201"), env=env, capture_output=True,
                        text=True)
    assert ok.returncode == 0, ok.stderr
    assert _wait_gone(tag) == []
    # A notebook folder whose school report always fails.
    nbs = tmp_path / "nbs"
    shutil.copytree(NOTEBOOKS, nbs)
    school = nbformat.read(nbs / "school_report.ipynb", as_version=4)
    school.cells.insert(1, nbformat.v4.new_code_cell("raise RuntimeError('planted failure')"))
    nbformat.write(school, nbs / "school_report.ipynb")
    bad = subprocess.run(_build_cmd(small_db, tmp_path / "b", "--county", "1201", "--notebooks", str(nbs)), env=env,
                         capture_output=True, text=True)
    assert bad.returncode == 1 and "planted failure" in bad.stdout
    assert _wait_gone(tag) == []


def test_no_kernel_left_after_ctrl_c(small_db, tmp_path):
    """Ctrl-C (SIGINT to the process group) during execution: exit status 130, no kernel left, the
    manifest marks the reports not built, and the next build builds only those.

    Deterministic on a busy machine: the build's test-only pause points hold it where the test wants
    it — the build process once two reports are journalled, each worker before its second report
    with its warm kernel running — and the test waits for their markers, not for time to pass."""
    tag = uuid.uuid4().hex
    pause, out = tmp_path / "pause", tmp_path / "c"
    env = dict(os.environ, ZPB_TEST_TAG=tag, ZPB_TEST_PAUSE_DIR=str(pause), ZPB_TEST_PAUSE_AT="journal-2,report-2")
    with open(tmp_path / "stderr", "wb") as err:
        proc = subprocess.Popen(_build_cmd(small_db, out, "--county", "1261"), env=env, stdout=subprocess.DEVNULL,
                                stderr=err, start_new_session=True)
    try:
        deadline = time.monotonic() + 600  # a hang is a failure; no timing is assumed below it
        while not ((pause / "journal-2.reached").exists() and (pause / "report-2.reached").exists()):
            assert proc.poll() is None, (tmp_path / "stderr").read_text(errors="replace")
            assert time.monotonic() < deadline, "the build never reached its second journalled report"
            time.sleep(0.05)
        assert _kernels(tag), "a paused worker holds its kernel"
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole process group
        proc.wait(timeout=600)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, (tmp_path / "stderr").read_text(errors="replace")
    assert _wait_gone(tag) == []
    folder = out / "2025-2026"
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    statuses = sorted(r["status"] for r in manifest["reports"].values())
    assert statuses == ["interrupted"] * 7 + ["ok"] * 2  # two built, one per worker, before the pause
    assert manifest["summary"]["interrupted"] is True and manifest["summary"]["built"] == 2
    assert not list(out.rglob(".*")), "no temporary file is left"
    again = subprocess.run(_build_cmd(small_db, out, "--county", "1261"), capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    summary = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["summary"]
    assert (summary["built"], summary["skipped"]) == (7, 2)
