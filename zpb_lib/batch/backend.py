"""The one seam between ``zpb build`` and what executes its reports.

A backend is started (its workers, their kernels warming up), runs a list of
:class:`~zpb_lib.batch.tasks.ReportTask` and hands back each
:class:`~zpb_lib.batch.tasks.ReportResult` as it completes, and is closed — normally, or
``interrupted`` (Ctrl-C, an error), when nobody waits for the rest. Closing ends every worker's
kernel. Two backends, by name: ``local`` (:mod:`zpb_lib.batch.local`, worker processes on this
machine) and ``dask`` (:mod:`zpb_lib.batch.cluster`, the workers of a Dask cluster), each with its
own options (:func:`get`), which open it.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from zpb_lib.batch.cluster import DaskOptions
from zpb_lib.batch.local import LocalOptions
from zpb_lib.batch.tasks import ReportResult, ReportTask
from zpb_lib.batch.worker import WorkerConfig


@runtime_checkable
class Backend(Protocol):
    name: str  # "local" | "dask"
    dashboard: str | None  # where to watch the build, if the backend has such a page

    @property
    def workers(self) -> int:
        """Workers started (0: none yet)."""

    @property
    def jobs(self) -> int:
        """What the build's summary and manifest count as its jobs (after :meth:`check`)."""

    def check(self) -> None:
        """What must hold before the build computes anything (a ValueError in one line if not); the
        backend may start here."""

    def describe(self) -> str:
        """The line the build prints about the backend once checked ("": none)."""

    def start(self) -> "Backend":
        """Start the workers (idempotent)."""

    def run(self, tasks: Sequence[ReportTask]) -> Iterator[ReportResult]:
        """Each task's result, in the order they complete; once per backend."""

    def close(self, interrupted: bool = False) -> None:
        """End every worker and kernel; ``interrupted``: without waiting for tasks still queued."""

    def __enter__(self) -> "Backend": ...

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None: ...


@runtime_checkable
class BackendOptions(Protocol):
    """A backend's own options, chosen before the build starts; :meth:`open` makes the backend."""

    name: str

    def planned_jobs(self) -> int:
        """The jobs the build counts before the backend is opened (0: known once it has started)."""

    def open(self, config: WorkerConfig, out_dir: Path, limit: int) -> Backend:
        """The backend (not started) for reports written into ``out_dir``, with workers run as
        ``config`` says; ``limit``: the reports the build may have, more workers than that are idle."""


_BACKENDS: dict[str, Callable[..., BackendOptions]] = {"local": LocalOptions, "dask": DaskOptions}


def backends() -> tuple[str, ...]:
    """The names of the execution backends."""
    return tuple(_BACKENDS)


def get(name: str, **options: Any) -> BackendOptions:
    """The options of the backend ``name`` (its keywords: :class:`~zpb_lib.batch.local.LocalOptions`,
    :class:`~zpb_lib.batch.cluster.DaskOptions`); a ValueError naming the backends for another name."""
    factory = _BACKENDS.get(name)
    if factory is None:
        raise ValueError(f"unknown backend {name!r} ({', '.join(_BACKENDS)})")
    return factory(**options)


def for_build(cluster: str, jobs: int | None) -> BackendOptions:
    """The backend ``zpb build``'s options ask for: the Dask cluster ``cluster`` names (``tcp://HOST:PORT``
    or ``local:N``), else, ``cluster`` empty, the local pool of ``jobs`` processes (None: the usable
    cores)."""
    return get("dask", cluster=cluster) if cluster else get("local", jobs=jobs)
