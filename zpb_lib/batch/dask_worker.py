"""What runs on a Dask worker: its one :class:`~zpb_lib.batch.worker.ReportWorker` (warm kernel,
warm exporters) and the functions the build submits.

The state lives here, in an importable module, so that it lasts as long as the worker process:
Dask ships functions of ``__main__`` by value, and state kept there would be new for every task
(and every task would start a kernel). The kernel starts lazily, in the task thread, with the first
task — never in a worker plugin's ``setup``, which runs on the worker's event loop. A task may run
with another asyncio event loop than the one before, so each report gets a kernel client of its own
(``ReportWorker.client_per_report``); the kernel itself stays warm. Kernels use IPC sockets in a
private folder: kernels starting at once on one host never race for TCP ports.

The kernel goes when the worker does: :class:`KernelShutdown`'s ``teardown`` when the worker closes,
an ``atexit`` hook when its process ends otherwise, and ipykernel's own parent watch (the kernel exits
when the process that started it is gone) when the worker is killed outright.
"""
from __future__ import annotations

import atexit
import os
import threading
from pathlib import Path
from typing import Any

from distributed import WorkerPlugin, get_worker
from distributed.core import Status

from zpb_lib import code_hash, version
from zpb_lib.batch.tasks import ReportResult, ReportTask
from zpb_lib.batch.worker import ReportWorker, WorkerConfig, prepare_process

_worker: ReportWorker | None = None
_run_lock = threading.Lock()  # one report at a time per worker process, whatever its --nthreads
_prepared = False


def _worker_name() -> int | str:
    try:
        return get_worker().name
    except ValueError:  # not in a Dask task
        return os.getpid()


def report_worker(config: WorkerConfig) -> ReportWorker:
    """This process's report worker for ``config`` (a build with other settings gets a new one)."""
    global _worker, _prepared
    if not _prepared:
        prepare_process()
        atexit.register(shutdown)
        _prepared = True
    if _worker is None or _worker.config != config:
        shutdown()
        _worker = ReportWorker(config, _worker_name(), client_per_report=True)
    return _worker


def run_report(task: ReportTask, config: WorkerConfig) -> ReportResult:
    """The Dask task: build one report on this worker's warm kernel. A report failing in its
    notebook comes back as a failed result, never as an exception (which Dask would not retry
    anyway, but would report as the task's error rather than the report's)."""
    with _run_lock:
        return report_worker(config).run(task)


def warm_up(config: WorkerConfig) -> bool:
    """Start this worker's kernel and exporters ahead of its first report (submitted once per worker
    while the build computes its cube). False if the kernel did not start: the first report will try
    again and report the error."""
    with _run_lock:
        worker = report_worker(config)
        if worker.km is not None:
            return True
        try:
            worker.start()
        except Exception:
            worker.shutdown_kernel()
            return False
        return True


def shutdown() -> None:
    """Shut this process's kernel down (idempotent; safe from any thread)."""
    global _worker
    worker, _worker = _worker, None
    if worker is not None:
        worker.close()


def probe_folder(folder: str, token_name: str, token: str) -> dict[str, Any]:
    """What a worker sees of the build's output folder: whether the token file the build wrote is
    there with its content, and whether it can create a file there; and which zpb it runs."""
    seen: dict[str, Any] = {"zpb": version(), "code": code_hash(), "error": None}
    path = Path(folder) / token_name
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        seen["error"] = f"cannot read {path} ({exc.strerror or exc})"
        return seen
    if text != token:
        seen["error"] = f"{path} holds another content: another folder under the same path"
        return seen
    own = Path(folder) / f"{token_name}-{os.getpid()}"
    try:  # a new file, never an existing one or one through a link planted under that name
        os.close(os.open(own, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600))
        own.unlink()
    except OSError as exc:
        seen["error"] = f"cannot write in {folder} ({exc.strerror or exc})"
    return seen


class KernelShutdown(WorkerPlugin):
    """Registered by every build on every worker: when the worker closes, its kernel goes too.

    Registering a plugin again under its name tears the old one down on a running worker; that
    must not end a warm kernel, least of all one another build is using."""

    name = "zpb-kernel-shutdown"

    def teardown(self, worker: Any) -> None:
        if worker.status not in (Status.running, Status.paused):
            shutdown()
