"""What travels between a build and its execution backend: a report to build (:class:`ReportTask`),
what building it gave (:class:`ReportResult`), and one file of a report (:class:`Output`).

All three are plain dataclasses of strings and numbers: they cross process boundaries (the local
pool's queues, Dask's pickles) unchanged, and a task names nothing that exists only on the build
machine except the two folders every worker must see under the same path — the output folder
(with the report cube in it) and, for customised notebooks, their folder.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ReportTask:
    """One report to build: which notebook, with which parameters, into which folder."""
    stem: str  # file name without extension, unique within its folder
    kind: str  # voivodeship | county | school
    key: str  # "12", a TERYT code, or an institution's RSPO number / POL-on id
    edition: str
    lang: str
    title: str  # the report's full title (the page title)
    parameters: dict[str, Any]
    out_dir: str  # the language's folder of the edition (absolute)
    notebooks: str = ""  # folder of customised notebooks; "" = the ones shipped with zpb on the worker

    @property
    def notebook(self) -> Path:
        """The notebook to run, resolved where the task runs (the shipped notebooks of the worker's
        own zpb installation, which may sit elsewhere than on the build machine)."""
        # batch.plan pulls pandas, which the worker processes otherwise never load
        from zpb_lib.batch.plan import NOTEBOOKS, notebooks_dir

        return (Path(self.notebooks) if self.notebooks else notebooks_dir()) / NOTEBOOKS[self.kind]

    def path(self, fmt: str) -> Path:
        """Where the report's file of format ``fmt`` (html, pdf, ipynb) goes."""
        folder = Path(self.out_dir)
        return folder / "notebooks" / f"{self.stem}.ipynb" if fmt == "ipynb" else folder / f"{self.stem}.{fmt}"

    @property
    def metadata(self) -> dict[str, str]:
        """What the executed notebook records about its report (``metadata.zpb``)."""
        return {"title": self.title, "lang": self.lang, "kind": self.kind, "key": self.key, "edition": self.edition}


@dataclass
class Output:
    """One file of a report, rendered but not yet stored."""
    fmt: str  # ipynb | html | pdf
    path: Path
    data: bytes


@dataclass
class ReportResult:
    """What building one report gave; a failed report carries its error and no outputs."""
    stem: str
    status: str  # ok | failed
    worker: int | str  # the worker that built it: its index (local pool) or its name (Dask)
    error: str | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    kernel_mb: float | None = None  # kernel's resident memory after the report
    kernel_peak_mb: float | None = None  # kernel's peak resident memory so far (VmHWM)
    worker_mb: float | None = None  # worker's peak resident memory so far
    restarts: int = 0
    out_dir: str = ""  # the folder the report was written to (its language's)
    outputs: dict[str, int] = field(default_factory=dict)  # "html"/"pdf"/"ipynb" -> bytes written

    @classmethod
    def lost(cls, task: ReportTask, error: str) -> "ReportResult":
        """A report the backend could not get built (its workers gone, the task lost)."""
        return cls(task.stem, "failed", -1, error=error, out_dir=task.out_dir)
