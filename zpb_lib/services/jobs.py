"""Report builds as jobs of the web app: queued per edition, run one at a time, watched, cancelled.

A coordinator builds her unit's counties and their schools, an analyst the whole edition; each
build is a :class:`~zpb_lib.services.job_files.Job` in the reports folder's ``.jobs/`` (see
:mod:`.job_files`), so every process of the web app sees the same queue and a reload shows the same
progress. Only one build of an edition runs at a time: :func:`run_next` starts the oldest queued job
of an edition when none of it runs, and a runner that finishes starts the next itself.

The runner is a process of its own, ``python -m zpb_lib.services.jobs run --out OUT JOBID``, not a
thread of the web app, because:

* a build is what ``zpb build`` does — :func:`zpb_lib.services.builds.run`, with the same backend (the
  local pool or a Dask cluster) — and its Ctrl-C handling (:mod:`zpb_lib.core.interrupt`: stop the
  workers, end every kernel, leave the manifest saying what was not built) is per process and works
  only in a main thread; cancelling sends the runner SIGINT, exactly a Ctrl-C;
* it outlives a restart of the web app (it runs in a session of its own), and it never competes
  with the web app's event loop for the interpreter;
* a runner that died is seen by its pid being gone (or reused: its start time is recorded), and its
  job is then shown as failed, never as running for ever; the build it left resumes with the next.

The pipeline's own lock on the edition folder stays the last guard: a ``zpb build`` of the same
edition started from a terminal makes the job fail with that build's message.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import traceback
from pathlib import Path

from zpb_lib import store
from zpb_lib.batch.pipeline import MANIFEST, BuildOptions, ReportDone, lang_dir, parse_langs
from zpb_lib.batch.plan import KINDS, county_code
from zpb_lib.core.errors import ZpbError
from zpb_lib.reference import Reference, reference
from zpb_lib.services import builds
from zpb_lib.services.job_files import (ACTIVE, CANCELLED, DONE, FAILED, QUEUED, RUNNING, Job, JobFolder,
                                        Progress, Result, new_id, now, process_start, runner_alive, update)
from zpb_lib.store.role_names import ANALYST, is_acting_role

__all__ = ["CANCELLED", "DONE", "FAILED", "QUEUED", "RUNNER_DIED", "RUNNING", "Job", "JobRefused", "Progress",
           "Result", "cancel", "get", "jobs", "queue", "resume", "run_job", "run_next", "submit"]

RUNNER_DIED = ("the build's process ended before the build did (killed, or the machine restarted); "
               "the next build of the edition resumes where it stopped")


class JobRefused(ZpbError, PermissionError):
    """Someone may not do this to a job (cancel another unit's build)."""


def _edition(ref: Reference, text: str) -> str:
    try:
        edition = ref.edition_of(text)
    except KeyError as exc:
        raise ValueError(exc.args[0]) from None
    if not ref.edition(edition).held:
        raise ValueError(f"edition {edition} was not held (the programme was suspended); nothing to report")
    return edition


def submit(options: BuildOptions, *, login: str, role: str, ref: Reference | None = None) -> Job:
    """Queue a build of what ``options`` ask for (``options.out``: the reports folder, whose
    ``.jobs/`` holds the job), started by ``login`` in ``role``. Nothing runs until
    :func:`run_next`. ValueError (one line) for an unknown edition, county or report kind."""
    ref = ref or reference()
    edition = _edition(ref, options.edition or ref.current_edition().edition)
    langs = parse_langs(options.lang)
    counties = tuple(dict.fromkeys(county_code(ref, c) for c in options.counties))
    bad = [k for k in options.only if k not in KINDS]
    if bad or not options.only:
        raise ValueError(f"unknown report kind {', '.join(map(repr, bad)) or repr(options.only)} ({', '.join(KINDS)})")
    db = store.locate(options.db)  # as the web app finds it: the runner's folder or settings may differ
    folder = JobFolder(options.out)
    build = {"db": str(db), "out": str(folder.out), "formats": list(options.formats), "pdf_engine": options.pdf_engine,
             "jobs": options.jobs, "cluster": options.cluster, "force": options.force,
             "institutions": list(options.institutions),
             "notebooks": str(Path(options.notebooks).resolve()) if options.notebooks else ""}
    job = Job(new_id(), edition, langs, counties, tuple(options.only), login, role, now(), build=build)
    with folder.locked():
        return folder.write(job)


def jobs(out: "str | os.PathLike[str]") -> list[Job]:
    """Every job of the reports folder ``out``, oldest first, those whose runner died shown failed."""
    folder = JobFolder(out)
    if not any(j.state == RUNNING and not runner_alive(j) for j in folder.all()):
        return folder.all()
    with folder.locked():
        return _settled(folder)


def queue(out: "str | os.PathLike[str]", edition: str, ref: Reference | None = None) -> list[Job]:
    """The edition's line: its running build (position 0), then its queued ones, oldest first."""
    edition = _edition(ref or reference(), edition)
    return _line([j for j in jobs(out) if j.edition == edition])


def get(out: "str | os.PathLike[str]", job_id: str) -> Job:
    """The job ``job_id`` of the reports folder ``out`` (with its position when it is waiting or
    running); KeyError when there is none."""
    job = JobFolder(out).read(job_id)
    if job.active:  # its position, or that its runner died
        edition_jobs = [j for j in jobs(out) if j.edition == job.edition]
        job = next(j for j in _line(edition_jobs) + edition_jobs if j.id == job_id)
    return job


def cancel(out: "str | os.PathLike[str]", job_id: str, by_login: str, by_role: str) -> Job:
    """Cancel a job: its starter or an analyst may (:class:`JobRefused` for anyone else). A queued
    job is cancelled at once; a running one is asked to stop like ``zpb build`` at a Ctrl-C — its
    workers and kernels end, the manifest marks what was not built — and shows as cancelled when its
    runner has finished. A job that has ended stays as it is."""
    folder = JobFolder(out)
    with folder.locked():
        job = folder.read(job_id)
        if by_login != job.login and by_role != ANALYST:
            raise JobRefused(f"only {job.login}, who started this build, or an analyst may cancel it")
        if job.state == QUEUED:
            return folder.write(update(job, state=CANCELLED, finished=now(), cancelled_by=by_login))
        if job.state != RUNNING:
            return job
        if not runner_alive(job):
            return folder.write(_died(job))
        job = folder.write(update(job, cancelled_by=job.cancelled_by or by_login))
        if job.building:  # else the runner sees the request as it takes the job
            os.kill(job.pid, signal.SIGINT)
        return job


def run_next(out: "str | os.PathLike[str]", edition: str, ref: Reference | None = None) -> Job | None:
    """Start the oldest queued build of ``edition`` when no build of it runs; the job started, or
    None. Call it after :func:`submit`; a runner that finishes calls it for the next."""
    edition = _edition(ref or reference(), edition)
    folder = JobFolder(out)
    with folder.locked():
        line = [j for j in _settled(folder) if j.edition == edition and j.active]
        if not line or any(j.state == RUNNING for j in line):
            return None
        return _start(folder, line[0])


def resume(out: "str | os.PathLike[str]") -> list[Job]:
    """Start the next build of every edition that has one waiting (when the web app starts)."""
    editions = dict.fromkeys(j.edition for j in jobs(out) if j.state == QUEUED)
    return [job for e in editions if (job := run_next(out, e)) is not None]


# ------------------------------------------------------------------ the folder's bookkeeping

def _line(edition_jobs: list[Job]) -> list[Job]:
    active = sorted((j for j in edition_jobs if j.active), key=lambda j: (j.state != RUNNING, j.id))
    return [update(j, position=i) for i, j in enumerate(active)]


def _died(job: Job) -> Job:
    return update(job, state=FAILED, finished=now(), error=RUNNER_DIED, building=False)


def _settled(folder: JobFolder) -> list[Job]:
    """Every job, those whose runner died written as failed (the caller holds the lock)."""
    out = []
    for job in folder.all():
        if job.state == RUNNING and not runner_alive(job):
            job = folder.write(_died(job))
        out.append(job)
    return out


def _start(folder: JobFolder, job: Job) -> Job:
    """Start ``job``'s runner and record it as running (the caller holds the lock, so the runner
    reads its job only once it says who runs it)."""
    cmd = [sys.executable, "-m", "zpb_lib.services.jobs", "run", "--out", str(folder.out), job.id]
    with open(folder.log(job.id), "ab") as log:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True, close_fds=True)
    # the runner's exit status is of no interest, but someone must collect it: no zombie is left
    threading.Thread(target=proc.wait, daemon=True, name=f"zpb-job-{job.id}").start()
    return folder.write(update(job, state=RUNNING, started=now(), pid=proc.pid, pid_start=process_start(proc.pid)))


# ------------------------------------------------------------------ the runner

BUILD_NICENESS = 10  # added to the server's: `nice -n 10`

def _options(job: Job) -> BuildOptions:
    b = job.build
    return BuildOptions(db=b.get("db"), edition=job.edition, out=b["out"],
                        formats=tuple(b.get("formats") or ("html", "pdf")), pdf_engine=b.get("pdf_engine") or "",
                        jobs=b.get("jobs"), cluster=b.get("cluster") or "",
                        force=bool(b.get("force")), lang=job.langs, only=job.only, counties=job.counties,
                        institutions=tuple(b.get("institutions") or ()), progress=False,
                        notebooks=b.get("notebooks") or "")


def _manifest_paths(job: Job) -> list[Path]:
    edition_dir = Path(job.build["out"]) / job.edition.replace("/", "-")
    return [lang_dir(edition_dir, lang) / MANIFEST for lang in job.langs]


def _stamps(job: Job) -> dict[Path, tuple[int, int] | None]:
    """Each manifest's file identity (inode, modification time in ns) before the build: one its build
    writes differs (a manifest's time is of the second only, and a build that skips everything ends
    in the second it started)."""
    out: dict[Path, tuple[int, int] | None] = {}
    for path in _manifest_paths(job):
        try:
            st = path.stat()
            out[path] = (st.st_ino, st.st_mtime_ns)
        except OSError:
            out[path] = None
    return out


def _manifests(job: Job, before: dict[Path, tuple[int, int] | None]) -> list[dict]:
    """The manifests of ``job``'s languages that its build wrote (those as they were ``before`` it are not its own)."""
    out = []
    for path, stamp in _stamps(job).items():
        if stamp is None or stamp == before.get(path):
            continue
        try:
            out.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    return out


def _from_manifests(manifests: list[dict]) -> Result | None:
    """What an interrupted build made, as its manifests record it."""
    if not manifests:
        return None
    several = len(manifests) > 1
    failed = tuple((f"{m.get('lang')}/{stem}" if several else stem, str(r.get("error") or "failed"))
                   for m in manifests for stem, r in sorted((m.get("reports") or {}).items())
                   if r.get("status") == "failed")
    s = [m.get("summary") or {} for m in manifests]
    return Result(sum(x.get("planned", 0) for x in s), sum(x.get("built", 0) for x in s),
                  sum(x.get("skipped", 0) for x in s), failed)


def _take(folder: JobFolder, job_id: str) -> Job | None:
    """The job this runner was started for, marked as being built; None when it is not this
    runner's to run (cancelled before it started: then written so)."""
    with folder.locked():
        job = folder.read(job_id)
        if job.state != RUNNING or job.pid != os.getpid():
            return None
        if job.cancelled_by:
            folder.write(update(job, state=CANCELLED, finished=now(), building=False))
            return None
        return folder.write(update(job, building=True))


def _acting(job: Job) -> contextlib.AbstractContextManager:
    """The build reads the data in the role of whoever started it: the web app's own login, which
    the runner connects with, holds no rights of its own on a shared database (``zpb db roles
    --web-login``)."""
    if is_acting_role(job.role) and job.login:
        return store.acting_as(job.role, job.login)
    return contextlib.nullcontext()


def _build(folder: JobFolder, job: Job) -> tuple[str, str, Result | None]:
    """Run ``job``'s build, its progress written after each report: its state, error and result."""
    def on_report(r: ReportDone) -> None:
        with folder.locked():
            current = folder.read(job.id)
            folder.write(update(current, progress=Progress(r.done, r.total, r.failed, r.stem)))
        if current.cancelled_by:  # the signal is the way; this catches one that came too early
            raise KeyboardInterrupt

    try:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # one that came meanwhile: raised here
        with _acting(job):
            summary = builds.run(_options(job), on_report=on_report)
    except KeyboardInterrupt:
        return CANCELLED, "", None
    except (ValueError, KeyError) as exc:  # what `zpb build` prints in one line
        return FAILED, str(exc.args[0] if isinstance(exc, KeyError) and exc.args else exc), None
    except Exception as exc:  # noqa: BLE001 - a bug: its trace goes to the job's log, its line to the job
        traceback.print_exc()
        return FAILED, f"{type(exc).__name__}: {exc}", None
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the build has ended: a late cancel changes nothing
    return DONE, "", Result(summary.total, summary.built, summary.skipped, tuple(summary.failed))


def run_job(out: "str | os.PathLike[str]", job_id: str) -> int:
    """The runner: build the job, as :func:`run_next` recorded it; then start the edition's next."""
    folder = JobFolder(out)
    # SIGINT is the cancel: raised as KeyboardInterrupt whatever the starter ignored, and held back
    # until the build's own handling is in place, never killing a runner half-way through taking its job
    handler = signal.signal(signal.SIGINT, signal.default_int_handler)
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        job = _take(folder, job_id)
        if job is not None:
            before = _stamps(job)
            state, error, result = _build(folder, job)
            with folder.locked():
                job = folder.read(job_id)
                manifests = _manifests(job, before)
                versions = [m.get("inputs", {}).get("data_hash") for m in manifests]
                job = folder.write(update(job, state=state, finished=now(), error=error, building=False,
                                          result=result or _from_manifests(manifests),
                                          data_version=next((v for v in versions if v), None)))
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        signal.signal(signal.SIGINT, handler)  # not building any more: no cancel comes
    run_next(out, folder.read(job_id).edition)  # also after a job cancelled before it started
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m zpb_lib.services.jobs", description="run a queued report build")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run the job JOBID of the reports folder OUT (started by run_next)")
    r.add_argument("--out", required=True)
    r.add_argument("job_id", metavar="JOBID")
    args = p.parse_args(argv)
    # A build is work in the background: the pages people are waiting for come first. Its kernels
    # and PDF workers inherit the niceness.
    os.nice(BUILD_NICENESS)
    return run_job(args.out, args.job_id)


if __name__ == "__main__":
    sys.exit(main())
