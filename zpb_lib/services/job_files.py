"""The jobs folder: report builds the web app runs as jobs, one JSON file each, in ``<reports out>/.jobs/``.

Files, not database rows: the jobs are shared by every process of the web app on one machine and by
the runners they start, survive a restart of the web app, and need no change of the database schema.
Each job file is replaced atomically (a temporary file renamed over it), so a reader never sees half
of one. Every change of state — read, decide, write — happens under :func:`JobFolder.locked`, an
exclusive ``flock`` on ``.jobs/lock``: the kernel releases it when its holder dies, so a killed
process never leaves the folder locked.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from zpb_lib.core.files import LinkRefused, make_folder, read_regular, write_text

FOLDER = ".jobs"
LOCK = "lock"
VERSION = 1

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
STATES = (QUEUED, RUNNING, DONE, FAILED, CANCELLED)
ACTIVE = (QUEUED, RUNNING)


def now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def new_id() -> str:
    """Sortable by creation (to the microsecond), unique by its random tail."""
    return dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f") + "-" + secrets.token_hex(3)


@dataclass(frozen=True)
class Progress:
    done: int = 0  # reports finished (built or failed)
    planned: int | None = None  # reports the build runs (current ones skipped); None: not known yet
    failed: int = 0
    last: str = ""  # the last finished report's name (its files' stem)


@dataclass(frozen=True)
class Result:
    """What a finished build made, as its summary says."""
    planned: int = 0
    built: int = 0
    skipped: int = 0
    failed: tuple[tuple[str, str], ...] = ()  # (report, error)


@dataclass(frozen=True)
class Job:
    id: str
    edition: str  # "2025/2026"
    langs: tuple[str, ...]
    counties: tuple[str, ...]  # TERYT codes; empty: the whole edition
    only: tuple[str, ...]  # report kinds
    login: str  # who started it
    role: str  # their zpb role (zpb_analyst, zpb_unit_…)
    created: str
    state: str = QUEUED
    started: str | None = None
    finished: str | None = None
    build: dict[str, Any] = field(default_factory=dict)  # the rest of BuildOptions (db, out, formats, …)
    progress: Progress = Progress()
    result: Result | None = None
    data_version: str | None = None  # of the data the build's manifest names
    error: str = ""  # why it failed: the build refused its options, or its runner died
    cancelled_by: str = ""  # login of whoever cancelled it (or asked a running one to stop)
    pid: int | None = None  # the runner's process
    pid_start: str = ""  # and its start time: a pid reused by another process is not the runner
    building: bool = False  # the runner has taken the job and handles an interrupt as a cancel
    position: int | None = None  # in its edition's line (0: running or next); set by queue(), not stored

    @property
    def active(self) -> bool:
        return self.state in ACTIVE

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("position")
        return {"version": VERSION, **data}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Job":
        known = {f.name for f in fields(cls)} - {"position"}
        kw = {k: v for k, v in data.items() if k in known}
        for name in ("langs", "counties", "only"):
            kw[name] = tuple(kw.get(name) or ())
        kw["progress"] = Progress(**(kw.get("progress") or {}))
        if kw.get("result") is not None:
            r = dict(kw["result"])
            r["failed"] = tuple((str(a), str(b)) for a, b in r.get("failed") or ())
            kw["result"] = Result(**r)
        return cls(**kw)


class JobFolder:
    """The jobs of one reports folder."""

    def __init__(self, out: "str | os.PathLike[str]"):
        self.out = Path(out).resolve()
        self.path = self.out / FOLDER

    def ensure(self) -> "JobFolder":
        make_folder(self.path)
        with contextlib.suppress(OSError):  # job files may name the database: its owner's only
            self.path.chmod(0o700)
        return self

    def file(self, job_id: str) -> Path:
        if not job_id or "/" in job_id or job_id.startswith("."):
            raise KeyError(job_id)
        return self.path / f"{job_id}.json"

    def log(self, job_id: str) -> Path:
        return self.path / f"{job_id}.log"

    @contextlib.contextmanager
    def locked(self) -> Iterator["JobFolder"]:
        """Exclusive, across processes, for one read-decide-write."""
        import fcntl  # POSIX: the web app's runners are POSIX processes

        self.ensure()
        fd = os.open(self.path / LOCK, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield self
        finally:
            os.close(fd)  # releases the lock

    def read(self, job_id: str) -> Job:
        """The job; KeyError when the folder holds none by that id."""
        try:
            data = json.loads(read_regular(self.file(job_id)).decode("utf-8"))
        except (FileNotFoundError, LinkRefused, UnicodeDecodeError, ValueError):
            raise KeyError(job_id) from None
        return Job.from_json(data)

    def write(self, job: Job) -> Job:
        write_text(self.file(job.id), json.dumps(job.to_json(), ensure_ascii=False, indent=1))
        return job

    def all(self) -> list[Job]:
        """Every job, oldest first."""
        if not self.path.is_dir():
            return []
        jobs = []
        for p in self.path.glob("*.json"):
            with contextlib.suppress(KeyError):
                jobs.append(self.read(p.stem))
        return sorted(jobs, key=lambda j: j.id)


def update(job: Job, **changes: Any) -> Job:
    return replace(job, **changes)


# ------------------------------------------------------------------ the runner's process

def process_start(pid: int) -> str:
    """When process ``pid`` started (clock ticks since boot, from /proc), "" when it is not running
    (a zombie counts as ended); where there is no /proc, "?" for a process that exists."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return ""
    except OSError:
        raw = ""
    if not raw:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return ""
        except PermissionError:
            pass
        return "?"
    after = raw[raw.rindex(")") + 2:].split()  # the command's name may hold spaces and parentheses
    state, start = after[0], after[19]
    return "" if state in ("Z", "X") else start


def runner_alive(job: Job) -> bool:
    """Whether the process recorded as ``job``'s runner is still that process."""
    return job.pid is not None and process_start(job.pid) == job.pid_start != ""
