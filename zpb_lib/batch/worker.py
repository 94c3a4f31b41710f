"""A report worker: one warm kernel and one set of exporters, used for many reports in turn, by
every execution backend (a process of the local pool, a Dask worker).

Starting a kernel costs about a second and a fresh nbconvert exporter more, so each worker keeps
both for all its reports. Between reports the kernel is reset (user namespace, matplotlib state,
execution counter) so that a report built warm has the outputs of the same report run cold by
plain papermill. The kernel is restarted when the library's code changes, after a number of
reports, when its memory passes a limit (the kernel is a process of its own: nobody else watches
its memory), and after any failure. The backend owning the worker shuts the kernel down on every
way out.

Rendering a report yields its files (:class:`~zpb_lib.batch.tasks.Output`); :func:`store` writes
each atomically — a temporary file with a unique name in the target folder, then a rename — so a
report built twice at once (a task run again after its worker was lost) still leaves exactly one
complete file per format.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from queue import Empty
from typing import Any

from zpb_lib import code_hash
from zpb_lib.core.files import OutputError, write_bytes
from zpb_lib.batch import ENGINE_NAME, pdf
from zpb_lib.core.hooks import pause_point
from zpb_lib.batch.tasks import Output, ReportResult, ReportTask


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


@dataclass(frozen=True)
class WorkerConfig:
    formats: tuple[str, ...] = ("html", "pdf")
    pdf_engine: str = pdf.DEFAULT  # a name of zpb_lib.batch.pdf.engines()
    max_reports_per_kernel: int = 200
    max_kernel_mb: int = 1200
    execution_timeout: int = 600
    kernel_name: str = KERNEL_NAME


def prepare_process() -> None:
    """What a worker process does once, before its first report."""
    # jsonschema checks the "iri" format with rfc3987-syntax when it is installed, which compiles
    # dozens of grammars on import (seconds per process); notebook validation never uses that
    # format, so the worker makes the optional import fail and jsonschema skips the checker.
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
    # papermill: heavy, imported in the worker processes only
    import papermill  # noqa: F401  (first: papermill loads our engine's entry point while importing)

    from zpb_lib.batch.papermill_engine import register

    register()


class ReportWorker:
    """One warm kernel and one set of exporters, used for many reports in turn."""

    def __init__(self, config: WorkerConfig, index: int | str = 0, client_per_report: bool = False):
        self.config = config
        self.index = index
        # A kernel client (its sockets and channel threads) for each report rather than one for the
        # kernel's life: for a backend whose tasks may each run with another asyncio event loop in
        # their thread (Dask's), as a client is bound to the loop it was made on.
        self.client_per_report = client_per_report
        self.km = None
        self.kc = None
        self.reports_on_kernel = 0
        self.kernel_code = ""
        self.restarts = 0
        self.reports = 0  # reports this worker took, for the tests' pause points
        self._exporter = None

    # ---------------------------------------------------------------- kernel
    def _start_kernel(self) -> None:
        # jupyter_client: only when a worker starts its kernel
        from jupyter_client.manager import KernelManager

        # IPC sockets in a private folder: local only, no TCP ports, no warning about plain TCP.
        self._ipc_dir = tempfile.mkdtemp(prefix="zpb-kernel-")
        self.km = KernelManager(kernel_name=self.config.kernel_name, transport="ipc",
                                ip=os.path.join(self._ipc_dir, "k"))
        # No command history: a report kernel has no use for it, and writing it costs every cell.
        # batch.plan pulls pandas, which the worker processes otherwise never load
        from zpb_lib.batch.plan import notebooks_dir

        self.km.start_kernel(cwd=str(notebooks_dir()),
                             extra_arguments=["--HistoryManager.enabled=False"])
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=60)
        self.kc.execute_interactive(WARMUP_CODE, silent=True, store_history=False, timeout=120,
                                    output_hook=lambda msg: None)
        self.reports_on_kernel = 0
        self.kernel_code = code_hash()

    def _connect(self) -> None:
        """A kernel client for the running kernel (see ``client_per_report``)."""
        if self.kc is None and self.km is not None:
            kc = self.km.client()
            kc.start_channels()
            try:
                _wait_for_iopub(kc, timeout=60)
            except BaseException:
                kc.stop_channels()
                raise
            self.kc = kc

    def _disconnect(self) -> None:
        if self.kc is not None:
            try:
                self.kc.stop_channels()
            except Exception:
                pass
            self.kc = None

    def start(self) -> None:
        """Start the kernel, the exporters and the PDF engine (WeasyPrint's imports, or the browser)
        now rather than with the first report: they warm up while the build computes its cube."""
        self._start_kernel()
        if self.client_per_report:
            self._disconnect()
        self.exporter  # noqa: B018  (nbconvert's imports and template environment)
        if "pdf" in self.config.formats:
            self.exporter.start_pdf()

    def shutdown_kernel(self) -> None:
        self._disconnect()
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
            # psutil: not a dependency; the kernel's memory is shown where it is installed
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
            self._connect()
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
            # export pulls nbconvert: only when the first report is exported
            from zpb_lib.batch.export import Exporter

            self._exporter = Exporter(pdf_engine=self.config.pdf_engine)
        return self._exporter

    # ---------------------------------------------------------------- one report
    def render(self, task: ReportTask, seconds: dict[str, float]) -> Iterator[Output]:
        """Execute the report's notebook and yield its files: the executed notebook first (also
        when the notebook fails: it keeps the error, and the exception follows), then HTML and PDF.
        ``seconds`` receives the time of each step."""
        # Imported here, in the workers: nbformat's schema validator takes seconds to import, and
        # a build with nothing to do never needs it.
        import papermill

        t0 = time.perf_counter()
        self._ensure_kernel()
        seconds["kernel"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        executed: list = []  # the engine puts the notebook it executes here, a failing one included
        try:
            # No output path: papermill would write the notebook in place, unsynced; the writer
            # stores it atomically, like every other file of the build.
            nb = papermill.execute_notebook(
                str(task.notebook), None, parameters=task.parameters, engine_name=ENGINE_NAME, km=self.km,
                kc=self.kc, nb_sink=executed, kernel_name=self.config.kernel_name, progress_bar=False,
                log_output=False, request_save_on_cell_execute=False,
                execution_timeout=self.config.execution_timeout)
        except Exception:
            if executed:  # keep the executed notebook with its error
                yield _notebook_output(executed[-1], task)
            raise
        finally:
            seconds["execute"] = time.perf_counter() - t1
            self.reports_on_kernel += 1
        nb.metadata["zpb"] = task.metadata
        yield _notebook_output(nb, task, images_in=task.path("html" if "html" in self.config.formats else "pdf").name)
        t2 = time.perf_counter()
        html = self.exporter.to_html(nb)
        if "html" in self.config.formats:
            yield Output("html", task.path("html"), html.encode("utf-8"))
        seconds["html"] = time.perf_counter() - t2
        if "pdf" in self.config.formats:
            t3 = time.perf_counter()
            yield Output("pdf", task.path("pdf"), self.exporter.pdf_bytes(html))
            seconds["pdf"] = time.perf_counter() - t3

    def run(self, task: ReportTask) -> ReportResult:
        """Build one report: render it, store its files; a failure is caught and reported in the
        result (one failing report never stops the others)."""
        self.reports += 1
        pause_point(f"report-{self.reports}")  # tests only: a worker holding its warm kernel
        res = ReportResult(task.stem, "ok", self.index, out_dir=task.out_dir)
        t0 = time.perf_counter()
        try:
            for output in self.render(task, res.seconds):
                res.outputs[output.fmt] = store(output)
        except Exception as exc:
            res.status = "failed"
            res.error = _error_summary(exc)
            res.outputs = {}
            self.shutdown_kernel()  # after any failure the next report gets a fresh kernel
        finally:
            if self.client_per_report:
                self._disconnect()
        if self.km is not None:
            res.kernel_mb, res.kernel_peak_mb = self.kernel_mb(), self.kernel_peak_mb()
        res.worker_mb = _peak_mb()
        res.restarts = self.restarts
        res.seconds["total"] = time.perf_counter() - t0
        return res

    def close(self) -> None:
        try:
            self.shutdown_kernel()
        finally:
            if self._exporter is not None:
                self._exporter.close()  # the chromium engine's browser


def _wait_for_iopub(kc: Any, timeout: float) -> None:
    """Return once a new client of a running kernel receives its broadcasts (IOPub), so that no
    output of the next cell is lost: a ``kernel_info`` request, until the kernel's "idle" for it
    arrives on IOPub. ``wait_for_ready`` does the same but then always waits 0.2 s more for IOPub
    to fall silent, which is a quarter of a school report when every report gets a client."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        msg_id = kc.kernel_info()
        try:
            while True:
                msg = kc.get_iopub_msg(timeout=0.2)
                if (msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "status"
                        and msg["content"]["execution_state"] == "idle"):
                    break
        except Empty:  # subscribed too late for this request's broadcasts: ask again
            continue
        while True:  # its reply, so that the next request's reply is the first one waiting
            reply = kc.get_shell_msg(timeout=max(1.0, deadline - time.monotonic()))
            if reply["parent_header"].get("msg_id") == msg_id:
                return
    raise RuntimeError(f"the kernel did not answer within {timeout:.0f} s")


def store(output: Output) -> int:
    """The one writer of a report's files: atomically (see :mod:`zpb_lib.core.files`); returns the bytes
    written."""
    write_bytes(output.path, output.data)
    return len(output.data)


def _notebook_output(nb: Any, task: ReportTask, images_in: str | None = None) -> Output:
    """The executed notebook as stored for provenance; with ``images_in`` (the report file that holds
    its images) without a copy of them (:mod:`.provenance`)."""
    # nbformat: its schema validator takes seconds to import (see render)
    import nbformat

    path = task.path("ipynb")
    papermill_meta = nb.metadata.get("papermill")
    if papermill_meta is not None:  # where the notebook is, not papermill's "None"
        papermill_meta["output_path"] = f"notebooks/{path.name}"
    if images_in is not None:
        # provenance imports nbformat (see render)
        from zpb_lib.batch.provenance import slim_notebook

        nb = slim_notebook(nb, images_in, task.lang)
    return Output("ipynb", path, nbformat.writes(nb).encode("utf-8"))


def _peak_mb() -> float:
    """Peak resident memory of this process (ru_maxrss is in KiB on Linux)."""
    # resource: POSIX only
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _error_summary(exc: BaseException) -> str:
    ename = getattr(exc, "ename", None)
    if ename:  # papermill's execution error: the notebook's own exception
        return f"{ename}: {getattr(exc, 'evalue', '')}".strip()
    if isinstance(exc, OutputError):  # the disk refused a report's file: the message people read
        return str(exc)
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()


