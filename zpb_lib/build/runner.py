"""Executing report notebooks in worker processes, each with one warm kernel and one exporter.

Starting a kernel costs about a second and a fresh nbconvert exporter more, so each worker keeps
both for all its reports. Between reports the kernel is reset (user namespace, matplotlib state,
execution counter) so that a report built warm has the outputs of the same report run cold by
plain papermill. The kernel is restarted when the library's code changes, after a number of
reports, when its memory passes a limit, and after any failure. No kernel outlives its worker:
the worker shuts it down on every way out, Ctrl-C included.

Ctrl-C (SIGINT to the process group) is the build process's to handle (see
:mod:`zpb_lib.build.interrupt`): workers ignore it, and the build ends them with SIGTERM, on which
each shuts its kernel down. A worker whose build process has gone (killed) stops by itself.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import queue
import shutil
import signal
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from .. import code_hash
from ..files import atomic_write
from . import interrupt
from .engine import ENGINE_NAME
from .pause import pause_point


def usable_cores() -> int:
    """The CPU cores this process may run on (its CPU affinity, which ``taskset``, cgroups' cpusets
    and batch schedulers narrow), else the machine's count: the default number of workers."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # no sched_getaffinity (macOS, Windows)
        return max(1, os.cpu_count() or 1)

KERNEL_NAME = "python3"
# Run once in a new kernel, while the build computes its cube: imports and font caches of the
# reports, so that the first report costs what the others do. Nothing is left in the namespace.
# gc.freeze() then exempts those long-lived objects from garbage collection: the reset between
# reports (IPython's reset runs a full collection) drops from ~70 ms to ~10 ms.
WARMUP_CODE = """\
import importlib as _i
for _m in ("zpb_lib.report.county", "zpb_lib.report.school", "zpb_lib.report.voivodeship"):
    _i.import_module(_m)
_i.import_module("zpb_lib.report.charts").bar_chart({"a": 1.0}, "warm-up")
del _i, _m
import gc as _g
_g.collect(); _g.freeze(); del _g
"""
RESET_CODE = """\
get_ipython().reset(new_session=False)
import matplotlib as _m, matplotlib.pyplot as _p, zpb_lib as _z
_p.close("all"); _m.rcdefaults(); _z.clear_caches(); del _m, _p, _z
get_ipython().execution_count = 1
"""


@dataclass
class WorkerConfig:
    out_dir: str  # reports/<edition>; a job's own "out_dir" (its language's folder) comes first
    formats: tuple[str, ...] = ("html", "pdf")
    max_reports_per_kernel: int = 200
    max_kernel_mb: int = 1200
    execution_timeout: int = 600
    kernel_name: str = KERNEL_NAME


@dataclass
class Result:
    stem: str
    status: str  # ok | failed
    worker: int
    error: str | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    kernel_mb: float | None = None  # kernel's resident memory after the report
    kernel_peak_mb: float | None = None  # kernel's peak resident memory so far (VmHWM)
    worker_mb: float | None = None  # worker's peak resident memory so far
    restarts: int = 0
    out_dir: str = ""  # the folder the report was written to (its language's)
    outputs: dict[str, int] = field(default_factory=dict)  # "html"/"pdf"/"ipynb" -> bytes written


class Worker:
    """One warm kernel and one set of exporters, used for many reports in turn."""

    def __init__(self, config: WorkerConfig, index: int = 0):
        self.config = config
        self.index = index
        self.km = None
        self.kc = None
        self.reports_on_kernel = 0
        self.kernel_code = ""
        self.restarts = 0
        self.reports = 0  # reports this worker took, for the tests' pause points
        self._exporter = None

    # ---------------------------------------------------------------- kernel
    def _start_kernel(self) -> None:
        from jupyter_client.manager import KernelManager

        # IPC sockets in a private folder: local only, no TCP ports, no warning about plain TCP.
        self._ipc_dir = tempfile.mkdtemp(prefix="zpb-kernel-")
        self.km = KernelManager(kernel_name=self.config.kernel_name, transport="ipc",
                                ip=os.path.join(self._ipc_dir, "k"))
        # No command history: a report kernel has no use for it, and writing it costs every cell.
        from .plan import notebooks_dir

        self.km.start_kernel(cwd=str(notebooks_dir()),
                             extra_arguments=["--HistoryManager.enabled=False"])
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=60)
        self.kc.execute_interactive(WARMUP_CODE, silent=True, store_history=False, timeout=120,
                                    output_hook=lambda msg: None)
        self.reports_on_kernel = 0
        self.kernel_code = code_hash()

    def shutdown_kernel(self) -> None:
        if self.kc is not None:
            try:
                self.kc.stop_channels()
            except Exception:
                pass
            self.kc = None
        if self.km is not None:
            try:
                self.km.shutdown_kernel(now=True)
            except Exception:
                pass
            finally:
                self.km = None
                if getattr(self, "_ipc_dir", None):
                    shutil.rmtree(self._ipc_dir, ignore_errors=True)
                    self._ipc_dir = None

    def _kernel_pid(self) -> int | None:
        try:
            return int(self.km.provisioner.process.pid)  # type: ignore[union-attr]
        except Exception:
            return None

    def kernel_mb(self) -> float | None:
        try:
            import psutil

            return psutil.Process(self._kernel_pid()).memory_info().rss / 2 ** 20
        except Exception:
            return None

    def kernel_peak_mb(self) -> float | None:
        """Peak resident memory of the kernel process (Linux: VmHWM)."""
        try:
            with open(f"/proc/{self._kernel_pid()}/status", encoding="ascii") as fh:
                for line in fh:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) / 1024
        except (OSError, ValueError, TypeError):
            pass
        return None

    def _ensure_kernel(self) -> None:
        reason = None
        if self.km is None or not self.km.is_alive():
            reason = "start"
        elif self.kernel_code != code_hash():
            reason = "library code changed"
        elif self.reports_on_kernel >= self.config.max_reports_per_kernel:
            reason = "report limit"
        else:
            mb = self.kernel_mb()
            if mb is not None and mb > self.config.max_kernel_mb:
                reason = "memory limit"
        if reason:
            if self.km is not None:
                self.restarts += 1
            self.shutdown_kernel()
            self._start_kernel()
        else:
            self._reset_kernel()

    def _reset_kernel(self) -> None:
        reply = self.kc.execute_interactive(RESET_CODE, silent=True, store_history=False,  # type: ignore[union-attr]
                                            timeout=60, output_hook=lambda msg: None)
        if reply["content"]["status"] != "ok":
            raise RuntimeError("kernel reset failed: " + reply["content"].get("evalue", ""))

    # ---------------------------------------------------------------- exporters
    @property
    def exporter(self):
        if self._exporter is None:
            from .export import Exporter

            self._exporter = Exporter()
        return self._exporter

    # ---------------------------------------------------------------- one report
    def run(self, job: dict[str, Any]) -> Result:
        # Imported here, in the workers: nbformat's schema validator takes seconds to import, and
        # a build with nothing to do never needs it.
        import papermill

        self.reports += 1
        pause_point(f"report-{self.reports}")  # tests only: a worker holding its warm kernel
        out = Path(job.get("out_dir") or self.config.out_dir)
        stem = job["stem"]
        nb_path = out / "notebooks" / f"{stem}.ipynb"
        res = Result(stem, "ok", self.index, out_dir=str(out))
        t0 = time.perf_counter()
        executed: list = []  # the engine puts the notebook it executes here, a failing one included
        try:
            self._ensure_kernel()
            res.seconds["kernel"] = time.perf_counter() - t0
            t1 = time.perf_counter()
            try:
                # No output path: papermill would write the notebook in place, unsynced; it is
                # written below, atomically, like every other file of the build.
                nb = papermill.execute_notebook(
                    job["notebook"], None, parameters=job["parameters"], engine_name=ENGINE_NAME, km=self.km,
                    kc=self.kc, nb_sink=executed, kernel_name=self.config.kernel_name, progress_bar=False,
                    log_output=False, request_save_on_cell_execute=False,
                    execution_timeout=self.config.execution_timeout)
            except Exception:
                if executed:  # keep the executed notebook with its error
                    _write_notebook(executed[-1], nb_path)
                raise
            finally:
                res.seconds["execute"] = time.perf_counter() - t1
                self.reports_on_kernel += 1
            nb.metadata["zpb"] = {"title": job["full_title"], "lang": job["lang"], "kind": job["kind"],
                                  "key": job["key"], "edition": job["edition"]}
            res.outputs["ipynb"] = _write_notebook(nb, nb_path)
            t2 = time.perf_counter()
            html = self.exporter.to_html(nb)
            if "html" in self.config.formats:
                data = html.encode("utf-8")
                with atomic_write(out / f"{stem}.html") as fh:
                    fh.write(data)
                res.outputs["html"] = len(data)
            res.seconds["html"] = time.perf_counter() - t2
            if "pdf" in self.config.formats:
                t3 = time.perf_counter()
                pdf = self.exporter.write_pdf(html, out / f"{stem}.pdf")
                res.outputs["pdf"] = pdf.stat().st_size
                res.seconds["pdf"] = time.perf_counter() - t3
        except Exception as exc:  # one failing report never stops the others
            res.status = "failed"
            res.error = _error_summary(exc)
            res.outputs = {}
            self.shutdown_kernel()  # after any failure the next report gets a fresh kernel
        if self.km is not None:
            res.kernel_mb, res.kernel_peak_mb = self.kernel_mb(), self.kernel_peak_mb()
        res.worker_mb = _peak_mb()
        res.restarts = self.restarts
        res.seconds["total"] = time.perf_counter() - t0
        return res

    def close(self) -> None:
        self.shutdown_kernel()


def _write_notebook(nb: Any, path: Path) -> int:
    """The executed notebook to ``path``, atomically; returns its size in bytes."""
    import nbformat

    papermill_meta = nb.metadata.get("papermill")
    if papermill_meta is not None:  # where the notebook is, not papermill's "None"
        papermill_meta["output_path"] = f"notebooks/{path.name}"
    data = nbformat.writes(nb).encode("utf-8")
    with atomic_write(path) as fh:
        fh.write(data)
    return len(data)


def _peak_mb() -> float:
    """Peak resident memory of this process (ru_maxrss is in KiB on Linux)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _error_summary(exc: BaseException) -> str:
    ename = getattr(exc, "ename", None)
    if ename:  # papermill's execution error: the notebook's own exception
        return f"{ename}: {getattr(exc, 'evalue', '')}".strip()
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()


def _raise_interrupt(signum: int, frame: object) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # once: a second SIGTERM must not cut the kernel's shutdown short
    raise KeyboardInterrupt


def _worker_main(index: int, config: WorkerConfig, tasks: "mp.Queue", results: "mp.Queue") -> None:
    import sys

    # Ctrl-C is the build process's to handle: it ends the workers with SIGTERM. The worker started
    # with SIGINT blocked (see WorkerPool.start); ignoring it first drops one that came meanwhile.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    # SIGTERM from the parent becomes an exception so that the kernel is shut down.
    signal.signal(signal.SIGTERM, _raise_interrupt)
    parent = os.getppid()
    worker = None
    try:
        # jsonschema checks the "iri" format with rfc3987-syntax when it is installed, which compiles
        # dozens of grammars on import (seconds per process); notebook validation never uses that
        # format, so the worker makes the optional import fail and jsonschema skips the checker.
        sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
        import papermill  # noqa: F401  (first: papermill loads our engine's entry point while importing)

        from .warm_engine import register

        register()
        worker = Worker(config, index)
        try:
            # Before the first job, while the build is still computing its cube: the kernel, and
            # the exporters' imports and template environment.
            worker._start_kernel()
            worker.exporter  # noqa: B018
            if "pdf" in config.formats:
                import weasyprint  # noqa: F401
        except Exception:
            worker.shutdown_kernel()  # the first report will try again and report the error
        import gc

        gc.freeze()  # the imports above live as long as the worker: no collection need scan them
        while True:
            try:
                job = tasks.get(timeout=0.5)
            except queue.Empty:
                job = ()
            if os.getppid() != parent:  # the build process was killed: nobody wants the rest
                results.cancel_join_thread()  # nor the results: exit without waiting to send them
                break
            if job is None:
                break
            if job:
                results.put(worker.run(job))
    except KeyboardInterrupt:  # SIGTERM from the build process
        pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # nothing may cut the kernel's shutdown short
        if worker is not None:
            worker.close()


class WorkerPool:
    """``n`` worker processes, started early (their kernels warm up while the build computes its
    cube), then fed the jobs. Use as a context manager: leaving it ends every worker and kernel."""

    def __init__(self, config: WorkerConfig, n_workers: int = 1):
        self.config = config
        self.n = max(1, n_workers)
        self._ctx = mp.get_context("spawn")  # a clean interpreter per worker: no inherited kernels or threads
        self._tasks = self._ctx.Queue()
        self._results = self._ctx.Queue()
        self._procs: list = []
        self._closed = False  # no more jobs (the workers were sent their end marks)
        self._ended = False  # workers joined, queues closed

    def start(self) -> "WorkerPool":
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

    def __enter__(self) -> "WorkerPool":
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.close(interrupted=exc_type is not None)  # after an error or Ctrl-C nobody waits for the rest

    def run(self, jobs: list[dict[str, Any]], on_result: Callable[[Result], None] | None = None) -> list[Result]:
        """Run ``jobs`` (once per pool); ``on_result`` is called as each finishes. A pool not
        started yet starts no more workers than there are jobs."""
        if not self._procs:
            self.n = max(1, min(self.n, len(jobs)))
        self.start()
        for job in jobs:
            self._tasks.put(job)
        self._stop_workers()
        done: list[Result] = []
        while len(done) < len(jobs):
            interrupt.check()
            try:
                r = self._results.get(timeout=1.0)
            except queue.Empty:
                if not any(p.is_alive() for p in self._procs):
                    break  # every worker died: the rest are reported as failed below
                continue
            done.append(r)
            if on_result:
                on_result(r)
        finished = {(r.out_dir, r.stem) for r in done}
        for job in jobs:
            if (str(Path(job.get("out_dir") or self.config.out_dir)), job["stem"]) not in finished:
                r = Result(job["stem"], "failed", -1, error="worker process ended before this report",
                           out_dir=str(Path(job.get("out_dir") or self.config.out_dir)))
                done.append(r)
                if on_result:
                    on_result(r)
        return done

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
