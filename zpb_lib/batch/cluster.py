"""The ``dask`` execution backend: ``zpb build --cluster tcp://HOST:8786`` sends the reports to the
workers of an existing Dask scheduler; ``--cluster local:N`` starts a LocalCluster of N
single-threaded worker processes on the loopback interface to try it on one machine.

Each worker keeps one warm kernel (:mod:`zpb_lib.batch.dask_worker`). Workers read the report cube
and write into the output folder, so both must be visible to every worker under the same path: before
anything is computed, the build writes a token file there and every worker must read it back (and
be able to write there), else the build is refused. A task may run twice (Dask runs a task again
when the worker holding it is lost); every file is written atomically, so a report still ends as
one complete file per format. A report failing in its notebook is a failed result, not a task
error; a task lost for good (``KilledWorker``: its workers died again and again) is a failed report
too. Ctrl-C cancels what is queued; reports already running on an external cluster finish there.
"""
from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zpb_lib import code_hash, version
from zpb_lib.core.files import write_text
from zpb_lib.core import interrupt
from zpb_lib.batch.tasks import ReportResult, ReportTask
from zpb_lib.batch.worker import WorkerConfig

EXTRA = "pip install 'zpb[cluster]'"
_LOCAL = re.compile(r"^local:(\d+)$")
_PROBE_PREFIX = ".zpb-probe-"
WORKER_WAIT = 60  # seconds an external scheduler is given to have a worker


def parse_cluster(spec: str) -> tuple[str, int]:
    """``"local:N"`` → ``("local", N)``; a scheduler address (``tcp://host:8786``, ``host:8786``) →
    ``(address, 0)``; ValueError for anything else."""
    spec = spec.strip()
    m = _LOCAL.match(spec)
    if m:
        n = int(m.group(1))
        if n < 1:
            raise ValueError("--cluster local:N needs N ≥ 1 workers")
        return "local", n
    if re.match(r"^(tcp|tls|ucx|inproc)://[^\s/]+$", spec) or re.match(r"^[\w.\-\[\]:]+:\d+$", spec):
        return spec, 0
    raise ValueError(f"--cluster {spec!r}: give a scheduler address (tcp://HOST:8786) or local:N")


@dataclass(frozen=True)
class DaskOptions:
    """The ``dask`` backend's options: ``cluster``, the scheduler's address (``tcp://HOST:8786``) or
    ``local:N`` (checked when the backend is opened)."""

    cluster: str
    name = "dask"

    def planned_jobs(self) -> int:
        """0: the cluster's workers, known once it is started."""
        return 0

    def open(self, config: WorkerConfig, out_dir: Path, limit: int) -> "DaskBackend":
        """The backend writing into ``out_dir``, which every worker must see; ``limit`` does not apply
        (a cluster has the workers it has)."""
        return DaskBackend(self.cluster, config, out_dir)


def _require_distributed() -> None:
    try:
        # distributed: optional (the cluster extra); looked for only with --cluster
        import distributed  # noqa: F401
    except ImportError:
        raise ValueError(f"--cluster needs Dask distributed, which is not installed: {EXTRA}") from None


class DaskBackend:
    """Reports as Dask tasks, one warm kernel per worker. A context manager, like every backend."""

    name = "dask"

    def __init__(self, spec: str, config: WorkerConfig, out_dir: Path):
        self.address, self.n_local = parse_cluster(spec)
        _require_distributed()
        self.config = config
        self.out_dir = Path(out_dir)
        self.dashboard: str | None = None
        self.ready_seconds = 0.0  # how long starting took: the workers found, the folder probed
        self._cluster: Any = None
        self._client: Any = None
        self._warming: list[Any] = []
        self._futures: list[Any] = []
        self._workers = 0
        self._closed = False

    @property
    def workers(self) -> int:
        return self._workers

    @property
    def jobs(self) -> int:
        """The cluster's workers (0 before :meth:`check`)."""
        return self._workers

    def check(self) -> None:
        """Before anything is computed: start, so that every worker is known to see the output folder
        (their kernels then warm up while the cube is computed)."""
        self.start()

    def describe(self) -> str:
        """Once started: its workers, how long they took to be ready, where to watch the build."""
        return (f"Dask: {self.workers} workers, ready in {self.ready_seconds:.1f} s; dashboard "
                f"{self.dashboard or '(none: bokeh is not installed)'}")

    def __enter__(self) -> "DaskBackend":
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.close(interrupted=exc_type is not None)

    # ---------------------------------------------------------------- start
    def start(self) -> "DaskBackend":
        if self._client is not None:
            return self
        ts = time.perf_counter()
        # distributed and the worker side: optional (the cluster extra), only when a cluster starts
        from distributed import Client

        from zpb_lib.batch.dask_worker import KernelShutdown, warm_up

        if self.address == "local":
            # distributed: optional extra, only for a local cluster
            from distributed import LocalCluster

            # Started with SIGINT blocked: the cluster's loop thread and its worker processes keep it
            # blocked, so a Ctrl-C in the terminal reaches only this process, which closes them.
            with interrupt.sigint_blocked():
                self._cluster = LocalCluster(n_workers=self.n_local, threads_per_worker=1, processes=True,
                                             host="127.0.0.1", dashboard_address="127.0.0.1:0",
                                             silence_logs=logging.ERROR)
                self._client = Client(self._cluster)
        else:
            self._client = Client(self.address, timeout=30)
            try:
                self._client.wait_for_workers(1, timeout=WORKER_WAIT)
            except TimeoutError:
                raise ValueError(f"the Dask scheduler {self.address} has no worker (waited {WORKER_WAIT} s)") from None
        self.dashboard = self._client.dashboard_link
        self._client.register_plugin(KernelShutdown(), name=KernelShutdown.name)
        self._probe()
        workers = list(self._client.scheduler_info()["workers"])
        self._workers = len(workers)
        # Each worker's kernel warms up while the build computes its cube: one small task per worker.
        self._warming = [self._client.submit(warm_up, self.config, workers=[w], allow_other_workers=False,
                                             pure=False, key=f"zpb-warm-up-{secrets.token_hex(4)}-{i}")
                         for i, w in enumerate(workers)]
        self.ready_seconds = time.perf_counter() - ts
        return self

    def _probe(self) -> None:
        """Refuse the build unless every worker sees the output folder (the same folder: a token
        written here is read back there) and runs the same zpb as this machine."""
        # dask_worker imports distributed: optional extra, only with --cluster
        from zpb_lib.batch.dask_worker import probe_folder

        token = secrets.token_hex(16)
        name = f"{_PROBE_PREFIX}{token[:12]}"
        token_file = self.out_dir / name
        write_text(token_file, token)
        try:
            seen = self._client.run(probe_folder, str(self.out_dir), name, token, on_error="return")
        finally:
            token_file.unlink(missing_ok=True)
        problems = []
        for worker, s in sorted(seen.items()):
            if isinstance(s, BaseException):
                problems.append(f"{worker}: {type(s).__name__}: {s}")
            elif s["error"]:
                problems.append(f"{worker}: {s['error']}")
            elif s["code"] != code_hash():
                problems.append(f"{worker}: runs zpb {s['zpb']} with library code {s['code']}, this build "
                                f"zpb {version()} with {code_hash()}: install the same zpb wheel on every worker")
        if problems:
            more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
            raise ValueError(f"the output folder {self.out_dir} is not usable by every Dask worker — each must see "
                             f"it under the same path (a shared folder) and run the same zpb: "
                             + "; ".join(problems[:5]) + more)

    # ---------------------------------------------------------------- run
    def run(self, tasks: Sequence[ReportTask]) -> Iterator[ReportResult]:
        # distributed: optional extra, only while a cluster build runs
        from distributed import as_completed

        from zpb_lib.batch.dask_worker import run_report

        self.start()
        salt = secrets.token_hex(4)
        keys = [f"zpb-{t.lang}-{t.stem}-{salt}" for t in tasks]
        self._futures = self._client.map(run_report, tasks, config=self.config, key=keys, pure=False)
        by_key = dict(zip(keys, tasks))
        for future in as_completed(self._futures):
            interrupt.check()
            task = by_key[future.key]
            if future.status == "finished":
                try:
                    result = future.result()
                except Exception as exc:  # pragma: no cover - a result that would not unpickle
                    result = ReportResult.lost(task, _describe(exc))
            else:  # KilledWorker, a cancelled task: the report was not built
                result = ReportResult.lost(task, _describe(future.exception()))
            future.release()
            yield result

    # ---------------------------------------------------------------- close
    def close(self, interrupted: bool = False) -> None:
        """Cancel what is still queued, end the warm kernels of a cluster we started (every worker's
        own kernel ends with it), disconnect. Runs to the end whatever comes; a Ctrl-C meanwhile is
        raised after."""
        if self._closed:
            return
        with interrupt.deferred():
            try:
                if self._client is not None:
                    pending = [f for f in (*self._futures, *self._warming) if not f.done()]
                    if pending:
                        self._client.cancel(pending, force=True)
                    self._client.close()
                if self._cluster is not None:
                    self._cluster.close()
            finally:
                self._closed = True
        interrupt.check()


def _describe(exc: BaseException | None) -> str:
    if exc is None:
        return "cancelled"
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
