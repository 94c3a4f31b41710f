"""Report builds as jobs (:mod:`zpb_lib.services.jobs`): queued per edition, run by a runner process of
their own, watched and cancelled through the jobs folder — with real runners, workers and kernels.

A test holds a build where it wants it with the build's test-only pause points (the runner inherits
the test's environment: it writes ``<phase>.reached`` and waits for ``<phase>.go``) and waits on
conditions, never on delays; the deadline only turns a hang into a failure. The builds are small:
county reports only (one per county asked for), HTML, one worker.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import nbformat
import psutil
import pytest

from support.builds import NOTEBOOKS, _kernels, _tagged, _wait_gone
from zpb_lib.services import jobs
from zpb_lib.services.builds import BuildOptions
from zpb_lib.services.job_files import JobFolder, now, process_start, update

EDITION = "2025/2026"
BOCHNIA, KRAKOW = "1201", "1261"
HANG = 600  # seconds after which a wait is a failure, not a timing assumption
ALA = ("ala", "zpb_unit_kpp_bochnia")  # a coordinator
TOM = ("tom", "zpb_unit_kmp_tarnow")  # a coordinator of another unit
OLEK = ("olek", "zpb_analyst")


@pytest.fixture
def tag(monkeypatch):
    """The runners this test starts (and their workers and kernels), found by a tag in their
    environment; whatever is left at the end is killed."""
    tag = uuid.uuid4().hex
    monkeypatch.setenv("ZPB_TEST_TAG", tag)
    for name in ("ZPB_TEST_PAUSE_DIR", "ZPB_TEST_PAUSE_AT"):
        monkeypatch.delenv(name, raising=False)
    yield tag
    for p in _wait_gone(tag, seconds=30):
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass


def _pause(monkeypatch, folder: Path, *phases: str) -> Path:
    monkeypatch.setenv("ZPB_TEST_PAUSE_DIR", str(folder))
    monkeypatch.setenv("ZPB_TEST_PAUSE_AT", ",".join(phases))
    return folder


def _options(db: Path, out: Path, *counties: str, **kw) -> BuildOptions:
    return BuildOptions(db=str(db), edition="XIX", out=str(out), formats=("html",), jobs=1, only=("county",),
                        counties=counties, progress=False, **kw)


def _log(out: Path, job_id: str) -> str:
    path = out / ".jobs" / f"{job_id}.log"
    return path.read_text(errors="replace")[-3000:] if path.exists() else ""


def _wait(condition, what: str, out: Path, job_id: str) -> None:
    deadline = time.monotonic() + HANG
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"no sign of {what} after {HANG} s:\n{_log(out, job_id)}")
        time.sleep(0.05)


def _ended(out: Path, job_id: str) -> jobs.Job:
    _wait(lambda: not jobs.get(out, job_id).active, "the job's end", out, job_id)
    return jobs.get(out, job_id)


def _manifest(out: Path) -> dict:
    return json.loads((out / "2025-2026" / "manifest.json").read_text(encoding="utf-8"))


def _seen_elsewhere(out: Path, job_id: str) -> list[str]:
    """The job as another process of the web app reads it from the folder."""
    code = ("import sys; from zpb_lib.services import jobs; j = jobs.get(sys.argv[1], sys.argv[2]); "
            "print(j.state, j.position, j.progress.done, j.progress.planned, j.progress.last)")
    done = subprocess.run([sys.executable, "-c", code, str(out), job_id], capture_output=True, text=True, check=True)
    return done.stdout.split()


def test_build_job_progress_is_seen_by_another_process_and_ends_with_the_data_version(
        small_sqlite, tmp_path, monkeypatch, tag, data_version):
    pause, out = _pause(monkeypatch, tmp_path / "pause", "journal-1"), tmp_path / "r"
    job = jobs.submit(_options(small_sqlite, out, BOCHNIA, KRAKOW), login=ALA[0], role=ALA[1])
    assert (job.state, job.edition, job.counties, job.langs, job.login, job.role) == \
        ("queued", EDITION, (BOCHNIA, KRAKOW), ("pl",), *ALA)
    assert jobs.get(out, job.id).position == 0
    started = jobs.run_next(out, EDITION)
    assert started is not None and started.id == job.id and started.state == "running"
    _wait((pause / "journal-1.reached").exists, "the first report", out, job.id)
    assert jobs.run_next(out, EDITION) is None  # one build of an edition at a time

    state, position, done, planned, last = _seen_elsewhere(out, job.id)
    assert (state, position, done, planned) == ("running", "0", "1", "2")
    assert last in (f"powiat-{BOCHNIA}-bochenski", f"powiat-{KRAKOW}-m-krakow")

    (pause / "journal-1.go").touch()
    ended = _ended(out, job.id)
    assert ended.state == "done", _log(out, job.id)
    assert ended.result == jobs.Result(planned=2, built=2, skipped=0, failed=())
    assert (ended.progress.done, ended.progress.planned) == (2, 2)
    assert ended.data_version == data_version(small_sqlite) == _manifest(out)["inputs"]["data_hash"]
    assert ended.started and ended.finished and ended.position is None
    assert _seen_elsewhere(out, job.id)[:2] == ["done", "None"]
    assert _wait_gone(tag) == []  # the runner, its worker and kernel


def test_second_build_of_an_edition_queues_and_runs_after(small_sqlite, tmp_path, monkeypatch, tag):
    pause, out = _pause(monkeypatch, tmp_path / "pause", "journal-1"), tmp_path / "r"
    first = jobs.submit(_options(small_sqlite, out, BOCHNIA, KRAKOW), login=ALA[0], role=ALA[1])
    jobs.run_next(out, EDITION)
    _wait((pause / "journal-1.reached").exists, "the first report", out, first.id)
    second = jobs.submit(_options(small_sqlite, out, BOCHNIA, KRAKOW), login=OLEK[0], role=OLEK[1])
    assert jobs.run_next(out, "2025-2026") is None
    line = jobs.queue(out, "XIX")
    assert [(j.id, j.state, j.position) for j in line] == [(first.id, "running", 0), (second.id, "queued", 1)]
    assert jobs.get(out, second.id).position == 1

    (pause / "journal-1.go").touch()
    a, b = _ended(out, first.id), _ended(out, second.id)  # the first's runner starts the second
    assert (a.state, b.state) == ("done", "done"), _log(out, second.id)
    assert b.started >= a.finished
    assert b.result == jobs.Result(planned=2, built=0, skipped=2, failed=())  # nothing changed meanwhile
    assert b.data_version == a.data_version
    assert jobs.queue(out, EDITION) == []
    assert _wait_gone(tag) == []


def test_cancel_a_queued_and_a_running_build(small_sqlite, tmp_path, monkeypatch, tag):
    """The running build stops as `zpb build` does at a Ctrl-C: no worker or kernel left, the
    manifest says what was not built, no journal or temporary file; the queued one never runs."""
    pause, out = _pause(monkeypatch, tmp_path / "pause", "journal-1"), tmp_path / "r"
    running = jobs.submit(_options(small_sqlite, out, BOCHNIA, KRAKOW), login=ALA[0], role=ALA[1])
    jobs.run_next(out, EDITION)
    waiting = jobs.submit(_options(small_sqlite, out, BOCHNIA), login=ALA[0], role=ALA[1])
    cancelled = jobs.cancel(out, waiting.id, *ALA)  # by its starter
    assert (cancelled.state, cancelled.cancelled_by, cancelled.started) == ("cancelled", "ala", None)

    _wait((pause / "journal-1.reached").exists, "the first report", out, running.id)
    assert _kernels(tag)  # a kernel runs: there is something to end
    # the build gives way to the pages people wait for: its runner and kernels are niced
    niced = min(19, os.nice(0) + jobs.BUILD_NICENESS)
    assert psutil.Process(jobs.get(out, running.id).pid).nice() == niced
    assert {k.nice() for k in _kernels(tag)} == {niced}
    jobs.cancel(out, running.id, *OLEK)  # by an analyst
    ended = _ended(out, running.id)
    assert (ended.state, ended.cancelled_by) == ("cancelled", "olek"), _log(out, running.id)
    assert _wait_gone(tag) == []
    assert _kernels(tag) == []
    m = _manifest(out)
    assert Counter(r["status"] for r in m["reports"].values()) == {"ok": 1, "interrupted": 1}
    assert m["summary"]["interrupted"] is True
    folder = out / "2025-2026"
    assert not (folder / "journal.jsonl").exists()
    assert sorted(p.name for p in folder.rglob(".*")) == []  # no temporary file left
    assert ended.result == jobs.Result(planned=2, built=1, skipped=0, failed=())
    assert ended.data_version == m["inputs"]["data_hash"]
    assert jobs.get(out, waiting.id).state == "cancelled"  # the runner did not start it
    assert jobs.queue(out, EDITION) == []


def test_only_the_starter_or_an_analyst_may_cancel(small_sqlite, tmp_path, tag):
    out = tmp_path / "r"
    job = jobs.submit(_options(small_sqlite, out, BOCHNIA), login=ALA[0], role=ALA[1])
    with pytest.raises(jobs.JobRefused, match="^only ala, who started this build, or an analyst may cancel it$"):
        jobs.cancel(out, job.id, *TOM)
    assert isinstance(jobs.JobRefused("x"), PermissionError)
    assert jobs.get(out, job.id).state == "queued"
    assert jobs.cancel(out, job.id, *OLEK).state == "cancelled"
    assert jobs.cancel(out, job.id, *OLEK).state == "cancelled"  # an ended job stays as it is
    with pytest.raises(KeyError):
        jobs.get(out, "no-such-job")


def test_a_build_cancelled_before_its_runner_took_it_never_starts(small_sqlite, tmp_path):
    """A cancel between the runner's start and its taking the job only leaves word (no signal): the
    runner — here this process, recorded as run_next records one — writes the job cancelled and
    builds nothing."""
    out = tmp_path / "r"
    job = jobs.submit(_options(small_sqlite, out, BOCHNIA), login=ALA[0], role=ALA[1])
    folder = JobFolder(out)
    with folder.locked():
        folder.write(update(folder.read(job.id), state="running", started=now(), pid=os.getpid(),
                            pid_start=process_start(os.getpid())))
    asked = jobs.cancel(out, job.id, *ALA)
    assert (asked.state, asked.cancelled_by) == ("running", "ala")
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, [])
    assert jobs.run_job(out, job.id) == 0
    assert signal.pthread_sigmask(signal.SIG_BLOCK, []) == mask  # the runner's signal handling undone
    ended = jobs.get(out, job.id)
    assert (ended.state, ended.result, ended.data_version) == ("cancelled", None, None)
    assert not (out / "2025-2026").exists()


def test_submit_refuses_what_makes_no_sense(small_sqlite, tmp_path):
    out = tmp_path / "r"
    with pytest.raises(ValueError, match="unknown county"):
        jobs.submit(_options(small_sqlite, out, "Atlantyda"), login=ALA[0], role=ALA[1])
    with pytest.raises(ValueError, match="not held"):
        jobs.submit(BuildOptions(db=str(small_sqlite), edition="2020/2021", out=str(out)), login=OLEK[0], role=OLEK[1])
    assert jobs.jobs(out) == []


def test_failed_reports_are_listed(small_sqlite, tmp_path, tag):
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    for nb in NOTEBOOKS.glob("*.ipynb"):
        (nbs / nb.name).write_bytes(nb.read_bytes())
    county = nbformat.read(nbs / "county_report.ipynb", as_version=4)
    county.cells.insert(1, nbformat.v4.new_code_cell("raise RuntimeError('planted failure')"))
    nbformat.write(county, nbs / "county_report.ipynb")
    out = tmp_path / "r"
    job = jobs.submit(_options(small_sqlite, out, BOCHNIA, notebooks=str(nbs)), login=ALA[0], role=ALA[1])
    jobs.run_next(out, EDITION)
    ended = _ended(out, job.id)
    assert ended.state == "done" and ended.progress.failed == 1
    assert (ended.result.planned, ended.result.built, ended.result.skipped) == (1, 0, 0)
    ((stem, error),) = ended.result.failed
    assert stem == f"powiat-{BOCHNIA}-bochenski" and "planted failure" in error
    assert _wait_gone(tag) == []


def test_a_runner_that_died_shows_its_job_failed_and_frees_the_edition(small_sqlite, tmp_path, monkeypatch, tag):
    pause, out = _pause(monkeypatch, tmp_path / "pause", "start"), tmp_path / "r"
    job = jobs.submit(_options(small_sqlite, out, BOCHNIA), login=ALA[0], role=ALA[1])
    nxt = jobs.submit(_options(small_sqlite, out, BOCHNIA), login=OLEK[0], role=OLEK[1])
    runner = jobs.run_next(out, EDITION)
    _wait((pause / "start.reached").exists, "the build's start", out, job.id)
    monkeypatch.delenv("ZPB_TEST_PAUSE_AT")  # the next runner goes through
    os.kill(runner.pid, signal.SIGKILL)
    _wait(lambda: not psutil.pid_exists(runner.pid) or psutil.Process(runner.pid).status() == psutil.STATUS_ZOMBIE,
          "the runner's end", out, job.id)
    died = jobs.get(out, job.id)
    assert (died.state, died.error) == ("failed", jobs.RUNNER_DIED)
    assert [(j.id, j.position) for j in jobs.queue(out, EDITION)] == [(nxt.id, 0)]
    assert [j.id for j in jobs.resume(out)] == [nxt.id]  # as the web app does when it starts
    ended = _ended(out, nxt.id)
    assert ended.state == "done" and ended.result.built == 1, _log(out, nxt.id)
    assert [p for p in _tagged(tag) if p.pid == runner.pid] == []
    assert _wait_gone(tag) == []
