"""The ``local`` execution backend: worker processes on this machine, each with one warm kernel
(:class:`~zpb_lib.batch.worker.ReportWorker`), fed through queues.

Ctrl-C (SIGINT to the process group) is the build process's to handle (see
:mod:`zpb_lib.core.interrupt`): workers ignore it, and the build ends them with SIGTERM, on which
each shuts its kernel down. A worker whose build process has gone (killed) stops by itself.
"""
from __future__ import annotations

import gc
import multiprocessing as mp
import os
import queue
import signal
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zpb_lib.core import interrupt
from zpb_lib.batch.tasks import ReportResult, ReportTask
from zpb_lib.batch.worker import ReportWorker, WorkerConfig, prepare_process


def usable_cores() -> int:
    """The CPU cores this process may run on (its CPU affinity, which ``taskset``, cgroups' cpusets
    and batch schedulers narrow), else the machine's count: the default number of workers."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # no sched_getaffinity (macOS, Windows)
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class LocalOptions:
    """The ``local`` backend's options: ``jobs`` worker processes (None: the usable cores)."""

    jobs: int | None = None
    name = "local"

    def planned_jobs(self) -> int:
        """The workers the build runs (before the pool is cut to the reports there are)."""
        return max(1, self.jobs or usable_cores())

    def open(self, config: WorkerConfig, out_dir: Path, limit: int) -> "LocalBackend":
        """The pool, of no more workers than ``limit`` (the reports the build may have); ``out_dir``
        is this machine's."""
        jobs = self.planned_jobs()
        return LocalBackend(config, min(jobs, limit), jobs=jobs)


def _raise_interrupt(signum: int, frame: object) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # once: a second SIGTERM must not cut the kernel's shutdown short
    raise KeyboardInterrupt


def _worker_main(index: int, config: WorkerConfig, tasks: "mp.Queue", results: "mp.Queue") -> None:
    # Ctrl-C is the build process's to handle: it ends the workers with SIGTERM. The worker started
    # with SIGINT blocked (see LocalBackend.start); ignoring it first drops one that came meanwhile.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    # SIGTERM from the parent becomes an exception so that the kernel is shut down.
    signal.signal(signal.SIGTERM, _raise_interrupt)
    parent = os.getppid()
    worker = None
    try:
        prepare_process()
        worker = ReportWorker(config, index)
        try:
            worker.start()  # before the first report, while the build is still computing its cube
        except Exception:
            worker.shutdown_kernel()  # the first report will try again and report the error

        gc.freeze()  # the imports above live as long as the worker: no collection need scan them
        while True:
            try:
                task = tasks.get(timeout=0.5)
            except queue.Empty:
                task = ()
            if os.getppid() != parent:  # the build process was killed: nobody wants the rest
                results.cancel_join_thread()  # nor the results: exit without waiting to send them
                break
            if task is None:
                break
            if task:
                results.put(worker.run(task))
    except KeyboardInterrupt:  # SIGTERM from the build process
        pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # nothing may cut the kernel's shutdown short
        if worker is not None:
            worker.close()


class LocalBackend:
    """``n`` worker processes, started early (their kernels warm up while the build computes its
    cube), then fed the tasks. Use as a context manager: leaving it ends every worker and kernel."""

    name = "local"
    dashboard: str | None = None

    def __init__(self, config: WorkerConfig, n_workers: int = 1, jobs: int | None = None):
        self.config = config
        self.n = max(1, n_workers)
        #: What the build counts as its jobs: the pool asked for, before it was cut to the reports.
        self.jobs = jobs or self.n
        self._ctx = mp.get_context("spawn")  # a clean interpreter per worker: no inherited kernels or threads
        self._tasks = self._ctx.Queue()
        self._results = self._ctx.Queue()
        self._procs: list = []
        self._closed = False  # no more tasks (the workers were sent their end marks)
        self._ended = False  # workers joined, queues closed

    def start(self) -> "LocalBackend":
        if not self._procs:
            self._procs = [self._ctx.Process(target=_worker_main, args=(i, self.config, self._tasks, self._results))
                           for i in range(self.n)]
            with interrupt.sigint_blocked():  # a Ctrl-C now reaches this process once the workers ignore it
                for p in self._procs:
                    p.start()
        return self

    @property
    def workers(self) -> int:
        """Worker processes started (0: none was needed)."""
        return len(self._procs)

    def check(self) -> None:
        """Nothing to check before the build computes: the workers start once reports are due."""

    def describe(self) -> str:
        """No line: the build has always said nothing of its local workers."""
        return ""

    def __enter__(self) -> "LocalBackend":
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.close(interrupted=exc_type is not None)  # after an error or Ctrl-C nobody waits for the rest

    def run(self, tasks: Sequence[ReportTask]) -> Iterator[ReportResult]:
        """Run ``tasks`` (once per backend), yielding each result as it comes. A pool not started
        yet starts no more workers than there are tasks."""
        if not self._procs:
            self.n = max(1, min(self.n, len(tasks)))
        self.start()
        for task in tasks:
            self._tasks.put(task)
        self._stop_workers()
        finished: set[tuple[str, str]] = set()
        while len(finished) < len(tasks):
            interrupt.check()
            try:
                r = self._results.get(timeout=1.0)
            except queue.Empty:
                if not any(p.is_alive() for p in self._procs):
                    break  # every worker died: the rest are reported as failed below
                continue
            finished.add((r.out_dir, r.stem))
            yield r
        for task in tasks:
            if (task.out_dir, task.stem) not in finished:
                yield ReportResult.lost(task, "worker process ended before this report")

    def _stop_workers(self) -> None:
        if not self._closed:
            for _ in self._procs:
                self._tasks.put(None)
            self._closed = True

    def close(self, interrupted: bool = False) -> None:
        """End every worker (and so every kernel). Runs to the end whatever comes: a Ctrl-C meanwhile
        turns a normal end into an interrupted one (the workers get SIGTERM) and is raised after."""
        if self._ended:
            return
        with interrupt.deferred():
            if not interrupted:  # every result is in: the workers only have to end their kernels
                self._stop_workers()
                deadline = time.monotonic() + 30
                for p in self._procs:
                    while p.is_alive() and not interrupt.requested() and time.monotonic() < deadline:
                        p.join(timeout=0.2)
            for p in self._procs:
                if p.is_alive():
                    p.terminate()  # SIGTERM: the worker shuts its kernel down
            for p in self._procs:
                p.join(timeout=30)
                if p.is_alive():
                    p.kill()
                    p.join()
            # Jobs nobody will take may still sit in the queue's buffer: without this, the queue's
            # feeder thread would block the build's exit on a full pipe after an interrupt.
            for q in (self._tasks, self._results):
                q.cancel_join_thread()
                q.close()
            self._ended = True
        interrupt.check()
