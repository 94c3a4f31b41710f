"""`zpb build --cluster`: the reports on Dask workers (a real LocalCluster or a scheduler with workers,
on the loopback interface only) — the same reports as the local backend, a worker killed mid-build,
a failing notebook, Ctrl-C, no kernel left behind, and a refusal when the workers do not see the
output folder.

Every build runs as a command in a process of its own, tagged by an environment variable that its
Dask workers and their kernels inherit, so that the test can tell whether any of them is left. The
build is held at named phases by its test-only pause points; the tests wait for conditions, never
for time to pass."""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import nbformat
import psutil
import pytest

from support.builds import NOTEBOOKS, _kernels, _outputs, _wait_gone

pytest.importorskip("distributed")

EDITION = "2025/2026"
FOLDER = "2025-2026"
DASK = Path(sys.executable).with_name("dask")


def _build(db: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "zpb_lib.cli", "build", "--db", str(db), "--edition", EDITION, "--out", str(out),
            "--format", "html", "--quiet", *extra]


def _run(cmd: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)


def _manifest(out: Path) -> dict:
    return json.loads((out / FOLDER / "manifest.json").read_text(encoding="utf-8"))


def _wait_for(condition, what: str, proc: subprocess.Popen | None = None, seconds: float = 600) -> None:
    deadline = time.monotonic() + seconds  # a hang is a failure; no timing is assumed below it
    while not condition():
        assert proc is None or proc.poll() is None, f"the build ended before {what}"
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.05)


_GENERATED = re.compile(r"\d{2}\.\d{2}\.\d{4}, \d{2}:\d{2}")  # "Wygenerowano: 30.11.2026, 22:06"


def _timeless(value) -> str:
    """A report's text without the minute it was generated at (two builds may straddle a minute)."""
    return _GENERATED.sub("<generated>", value if isinstance(value, str) else json.dumps(value, sort_keys=True))


def _shape(entry: dict) -> tuple:
    return tuple(sorted(entry))


def test_same_reports_as_the_local_backend(small_db, tmp_path):
    tag = uuid.uuid4().hex
    env = dict(os.environ, ZPB_TEST_TAG=tag)
    local, dask = tmp_path / "local", tmp_path / "dask"
    done = _run(_build(small_db, local, "--county", "1201", "--jobs", "2"), env)
    assert done.returncode == 0, done.stderr
    done = _run(_build(small_db, dask, "--county", "1201", "--cluster", "local:2"), env)
    assert done.returncode == 0, done.stderr
    assert _wait_gone(tag) == [], "no worker or kernel outlives the builds"
    a, b = _manifest(local), _manifest(dask)
    assert sorted(a["reports"]) == sorted(b["reports"]) and len(a["reports"]) > 2
    assert {r["status"] for r in b["reports"].values()} == {"ok"}
    assert sorted(a["summary"]) == sorted(b["summary"]) and b["summary"]["workers"] == 2
    assert {_shape(r) for r in a["reports"].values()} == {_shape(r) for r in b["reports"].values()}
    assert {r["worker"] for r in b["reports"].values()} <= {0, 1}
    for stem, entry in a["reports"].items():
        warm_local = nbformat.read(local / FOLDER / entry["notebook"], as_version=4)
        warm_dask = nbformat.read(dask / FOLDER / b["reports"][stem]["notebook"], as_version=4)
        assert _timeless(_outputs(warm_local)) == _timeless(_outputs(warm_dask)), stem
        assert warm_local.metadata["zpb"] == warm_dask.metadata["zpb"]
        html = (local / FOLDER / entry["html"]).read_text(encoding="utf-8")
        assert _GENERATED.search(html), "the pattern finds the generation time"
        assert _timeless(html) == _timeless((dask / FOLDER / b["reports"][stem]["html"]).read_text(encoding="utf-8")), stem
    index = (dask / FOLDER / "index.html").read_text(encoding="utf-8")
    assert all(f'href="{r["html"]}"' in index for r in b["reports"].values())


def test_failing_notebook_reported_once(small_db, tmp_path):
    """A school notebook that fails: every school report fails once (its notebook ran once: it counts
    its runs in a file), the county report is built, no kernel is left."""
    tag = uuid.uuid4().hex
    env = dict(os.environ, ZPB_TEST_TAG=tag)
    runs = tmp_path / "runs.txt"
    nbs = tmp_path / "nbs"
    shutil.copytree(NOTEBOOKS, nbs)
    school = nbformat.read(nbs / "school_report.ipynb", as_version=4)
    school.cells.insert(1, nbformat.v4.new_code_cell(
        f"open({str(runs)!r}, 'a').write(institution + '\\n')\nraise RuntimeError('planted failure')"))
    nbformat.write(school, nbs / "school_report.ipynb")
    out = tmp_path / "out"
    bad = _run(_build(small_db, out, "--county", "1201", "--cluster", "local:2", "--notebooks", str(nbs)), env)
    assert bad.returncode == 1, bad.stderr
    reports = _manifest(out)["reports"]
    schools = sorted(r["key"] for r in reports.values() if r["kind"] == "school")
    assert schools and sorted(runs.read_text().split()) == schools  # each ran exactly once
    assert bad.stdout.count("planted failure") == len(schools)
    assert {r["status"] for r in reports.values() if r["kind"] == "school"} == {"failed"}
    assert [r["status"] for r in reports.values() if r["kind"] == "county"] == ["ok"]
    for r in reports.values():
        if r["kind"] == "school":  # the executed notebook keeps the error
            nb = nbformat.read(out / FOLDER / r["notebook"], as_version=4)
            assert "planted failure" in json.dumps([c.get("outputs", []) for c in nb.cells])
    assert _wait_gone(tag) == []


def test_worker_killed_mid_build(small_db, tmp_path):
    """A worker's process killed (SIGKILL) while it holds a report: the report is built elsewhere,
    the build completes every report, one complete file each, and no kernel is left — the killed
    worker's kernel included."""
    tag = uuid.uuid4().hex
    pause, out = tmp_path / "pause", tmp_path / "out"
    env = dict(os.environ, ZPB_TEST_TAG=tag, ZPB_TEST_PAUSE_DIR=str(pause), ZPB_TEST_PAUSE_AT="report-2")
    with open(tmp_path / "stderr", "wb") as err:
        proc = subprocess.Popen(_build(small_db, out, "--county", "1261", "--cluster", "local:2"), env=env,
                                stdout=subprocess.PIPE, stderr=err, start_new_session=True)
    try:
        reached = pause / "report-2.reached"
        _wait_for(reached.exists, "a worker holding its second report", proc)
        victim = psutil.Process(int(reached.read_text()))
        assert victim.environ().get("ZPB_TEST_TAG") == tag and victim.pid != proc.pid
        assert [k for k in _kernels(tag) if victim.pid in {p.pid for p in k.parents()}], "it holds a kernel"
        victim.kill()
        victim.wait(timeout=60)
        (pause / "report-2.go").write_text("")
        stdout, _ = proc.communicate(timeout=900)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 0, (tmp_path / "stderr").read_text(errors="replace")
    reports = _manifest(out)["reports"]
    assert len(reports) == 9 and {r["status"] for r in reports.values()} == {"ok"}
    for stem, r in reports.items():
        html = (out / FOLDER / r["html"]).read_text(encoding="utf-8")
        assert html.rstrip().endswith("</html>") and r["outputs"]["html"] == len(html.encode("utf-8"))
    assert len(list((out / FOLDER).glob("*.html"))) == 9 + 1  # the reports and the index, once each
    assert not list(out.rglob(".*")), "no temporary file is left"
    assert _wait_gone(tag) == []


def test_ctrl_c(small_db, tmp_path):
    """Ctrl-C (SIGINT to the process group) while Dask workers hold reports: exit status 130, the
    futures cancelled, no worker or kernel left, the manifest marks what was not built."""
    tag = uuid.uuid4().hex
    pause, out = tmp_path / "pause", tmp_path / "out"
    env = dict(os.environ, ZPB_TEST_TAG=tag, ZPB_TEST_PAUSE_DIR=str(pause), ZPB_TEST_PAUSE_AT="journal-2,report-2")
    with open(tmp_path / "stderr", "wb") as err:
        proc = subprocess.Popen(_build(small_db, out, "--county", "1261", "--cluster", "local:2"), env=env,
                                stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
    try:
        _wait_for(lambda: (pause / "journal-2.reached").exists() and (pause / "report-2.reached").exists(),
                  "two reports journalled and a worker holding its second", proc)
        assert _kernels(tag), "the workers hold their kernels"
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=600)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, (tmp_path / "stderr").read_text(errors="replace")
    assert _wait_gone(tag) == []
    manifest = _manifest(out)
    statuses = sorted(r["status"] for r in manifest["reports"].values())
    assert statuses == ["interrupted"] * 7 + ["ok"] * 2
    assert manifest["summary"]["interrupted"] is True
    assert not list(out.rglob(".*")), "no temporary file is left"


# ------------------------------------------------------------------ the output folder must be shared

def _can_hide_a_folder() -> bool:
    """Whether this machine lets an unprivileged user namespace mount a tmpfs (Linux, util-linux)."""
    if not shutil.which("unshare"):
        return False
    try:
        return subprocess.run(["unshare", "-mr", "sh", "-c", "mount -t tmpfs zpb /mnt || mount -t tmpfs zpb /tmp"],
                              capture_output=True, timeout=60).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


@pytest.mark.skipif(not _can_hide_a_folder(), reason="needs unshare with user and mount namespaces")
def test_refused_when_workers_do_not_see_the_output_folder(small_db, tmp_path):
    """A Dask worker that sees another folder under the output folder's path — it runs in a mount
    namespace of its own with an empty tmpfs mounted there, as a worker host without the shared
    mount would — makes the build refuse before it computes anything. A worker that sees the folder
    then builds through the same scheduler (``--cluster tcp://…``)."""
    tag = uuid.uuid4().hex
    env = dict(os.environ, ZPB_TEST_TAG=tag)
    shared = tmp_path / "shared"
    shared.mkdir()
    out = shared / "reports"
    scheduler_file = tmp_path / "scheduler.json"
    procs = []
    try:
        procs.append(subprocess.Popen([str(DASK), "scheduler", "--host", "127.0.0.1", "--port", "0",
                                       "--dashboard-address", "127.0.0.1:0", "--scheduler-file", str(scheduler_file)],
                                      env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        _wait_for(lambda: scheduler_file.exists() and scheduler_file.stat().st_size > 0, "the scheduler's address")
        address = json.loads(scheduler_file.read_text())["address"]
        worker = [str(DASK), "worker", address, "--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1"]
        hidden = subprocess.Popen(["unshare", "-mr", "sh", "-c", 'mount -t tmpfs zpb "$0" && exec "$@"', str(shared),
                                   *worker], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(hidden)
        refused = _run(_build(small_db, out, "--county", "1201", "--cluster", address), env)
        assert refused.returncode == 2, refused.stderr
        assert "not usable by every Dask worker" in refused.stderr and "same path" in refused.stderr
        assert "cannot read" in refused.stderr and "Traceback" not in refused.stderr
        assert not (out / FOLDER / "cube.sqlite").exists(), "nothing computed"
        assert not list(out.rglob(".zpb-probe-*")), "the probe's file is removed"
        hidden.terminate()
        hidden.wait(timeout=120)
        procs.append(subprocess.Popen(worker, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        built = _run(_build(small_db, out, "--county", "1201", "--cluster", address), env)
        assert built.returncode == 0, built.stderr
        assert {r["status"] for r in _manifest(out)["reports"].values()} == {"ok"}
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=120)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
    assert _wait_gone(tag) == [], "the workers' kernels end with them"


def test_without_distributed_the_extra_is_named(small_db, tmp_path):
    code = ("import sys; sys.modules['distributed'] = None; from zpb_lib.cli import main; "
            f"sys.exit(main({_build(small_db, tmp_path, '--cluster', 'local:2')[3:]!r}))")
    done = _run([sys.executable, "-c", code])
    assert done.returncode == 2
    assert "pip install 'zpb[cluster]'" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("spec, says", [("local:0", "N ≥ 1"), ("scheduler", "tcp://HOST:8786"),
                                         ("http://x:8786/status", "tcp://HOST:8786")])
def test_cluster_address_refused_in_one_line(small_db, tmp_path, spec, says):
    done = _run(_build(small_db, tmp_path, "--cluster", spec))
    assert done.returncode == 2 and says in done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
