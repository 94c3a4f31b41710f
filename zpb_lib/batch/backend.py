"""The one seam between ``zpb build`` and what executes its reports.

A backend is started (its workers, their kernels warming up), runs a list of
:class:`~zpb_lib.batch.tasks.ReportTask` and hands back each
:class:`~zpb_lib.batch.tasks.ReportResult` as it completes, and is closed — normally, or
``interrupted`` (Ctrl-C, an error), when nobody waits for the rest. Closing ends every worker's
kernel. Two backends: ``local`` (:mod:`zpb_lib.batch.local`, worker processes on this machine) and
``dask`` (:mod:`zpb_lib.batch.cluster`, the workers of a Dask cluster).
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

from zpb_lib.batch.tasks import ReportResult, ReportTask
from zpb_lib.batch.worker import WorkerConfig


class Backend(Protocol):
    name: str  # "local" | "dask"
    dashboard: str | None  # where to watch the build, if the backend has such a page

    @property
    def workers(self) -> int:
        """Workers started (0: none yet)."""

    def start(self) -> "Backend":
        """Start the workers (idempotent)."""

    def run(self, tasks: Sequence[ReportTask]) -> Iterator[ReportResult]:
        """Each task's result, in the order they complete; once per backend."""

    def close(self, interrupted: bool = False) -> None:
        """End every worker and kernel; ``interrupted``: without waiting for tasks still queued."""

    def __enter__(self) -> "Backend": ...

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None: ...


def open_backend(cluster: str, config: WorkerConfig, out_dir: Path, jobs: int) -> Backend:
    """The local pool of ``jobs`` processes when ``cluster`` is empty, else a Dask backend for
    ``cluster`` (``tcp://HOST:PORT`` or ``local:N``) writing into ``out_dir``, which its workers
    must see. Not started yet."""
    if not cluster:
        from zpb_lib.batch.local import LocalBackend

        return LocalBackend(config, jobs)
    from zpb_lib.batch.cluster import DaskBackend

    return DaskBackend(cluster, config, out_dir)
