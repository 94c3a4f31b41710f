"""The two seams of a build: the PDF engines and the execution backends, each a registry by name whose
members keep one protocol, so that the export and the pipeline name none of them."""
from __future__ import annotations

import ast
import dataclasses
import os
from pathlib import Path

import pytest

from zpb_lib.batch import backend, pdf
from zpb_lib.batch.export import Exporter
from zpb_lib.batch.worker import ReportWorker, WorkerConfig

ROOT = Path(__file__).resolve().parents[2]
BATCH = ROOT / "zpb_lib" / "batch"


# --- PDF engines ------------------------------------------------------------------------------

def test_pdf_engines_by_name():
    assert pdf.engines() == ("weasyprint", "chromium")
    assert pdf.PDF_ENGINES == pdf.engines()
    assert pdf.DEFAULT == "weasyprint"
    for name in ("weasyprint", "chromium"):
        engine = pdf.get(name)
        assert isinstance(engine, pdf.PdfEngine)
        assert engine.name == name
        for method in ("check", "start", "pdf_bytes", "close"):
            assert callable(getattr(engine, method)), (name, method)
        assert isinstance(engine.pdf_options, dict) and engine.pdf_options
        engine.close()  # nothing was started: closing is harmless


def test_unknown_pdf_engine_is_refused_with_the_names():
    with pytest.raises(ValueError) as err:
        pdf.get("prince")
    assert str(err.value) == "unknown PDF engine 'prince' (weasyprint, chromium)"
    with pytest.raises(ValueError, match=r"^unknown PDF engine 'prince' \(weasyprint, chromium\)$"):
        Exporter(pdf_engine="prince")
    with pytest.raises(ValueError, match="unknown PDF engine 'Chromium'"):
        pdf.checked("Chromium")


def test_engine_check_says_what_is_missing(monkeypatch, tmp_path):
    missing = tmp_path / "no-such-browser"
    monkeypatch.setenv("ZPB_CHROMIUM", str(missing))
    assert pdf.get("weasyprint").check() is None
    assert pdf.checked("weasyprint") == "weasyprint"
    expected = f"ZPB_CHROMIUM={missing} is not an executable file"
    try:
        import playwright  # noqa: F401
    except ImportError:
        expected = "the chromium PDF engine needs Playwright: pip install 'zpb[chromium]'"
    assert pdf.get("chromium").check() == expected
    with pytest.raises(ValueError) as err:
        pdf.checked("chromium")
    assert str(err.value) == expected


def test_engine_from_the_environment(monkeypatch):
    monkeypatch.delenv("ZPB_PDF_ENGINE", raising=False)
    assert pdf.from_environment() == "weasyprint"
    monkeypatch.setenv("ZPB_PDF_ENGINE", " Chromium ")
    assert pdf.from_environment() == "chromium"
    monkeypatch.setenv("ZPB_PDF_ENGINE", "prince")
    assert pdf.from_environment() == "prince"  # refused where it is used: pdf.get / pdf.checked


def test_exporter_asks_the_registry_once_and_starts_nothing(monkeypatch, tmp_path):
    monkeypatch.setenv("ZPB_CHROMIUM", str(tmp_path / "none"))  # a browser start would fail
    exporter = Exporter(pdf_engine="chromium")
    assert exporter.pdf_engine == "chromium" and exporter.engine.name == "chromium"
    assert isinstance(exporter.engine, pdf.PdfEngine)
    exporter.close()
    assert Exporter().pdf_engine == "weasyprint"


def _string_constants(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.value.strip().lower() for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.ImportFrom) and n.module:
            out |= {n.module} | {f"{n.module}.{a.name}" for a in n.names}
        elif isinstance(n, ast.Import):
            out |= {a.name for a in n.names}
    return out


def test_export_names_no_engine():
    assert not _string_constants(BATCH / "export.py") & {"weasyprint", "chromium"}
    imports = _imported_modules(BATCH / "export.py")
    assert not any(m.startswith(("weasyprint", "playwright", "zpb_lib.batch.pdf.")) for m in imports), imports


# --- execution backends -----------------------------------------------------------------------

def test_backends_by_name():
    assert backend.backends() == ("local", "dask")
    local = backend.get("local", jobs=3)
    assert isinstance(local, backend.BackendOptions) and local.name == "local"
    assert local.planned_jobs() == 3
    cores = len(os.sched_getaffinity(0))
    assert backend.get("local").planned_jobs() == cores
    assert backend.get("local", jobs=0).planned_jobs() == cores  # 0, as None: the usable cores
    dask = backend.get("dask", cluster="local:2")
    assert isinstance(dask, backend.BackendOptions) and dask.name == "dask"
    assert dask.planned_jobs() == 0  # the cluster's workers, known once it has started


def test_unknown_backend_is_refused_with_the_names():
    with pytest.raises(ValueError) as err:
        backend.get("slurm")
    assert str(err.value) == "unknown backend 'slurm' (local, dask)"


def test_build_options_choose_the_backend():
    assert backend.for_build("", None).name == "local"
    assert backend.for_build("", 2).planned_jobs() == 2
    chosen = backend.for_build("tcp://10.0.0.5:8786", 4)
    assert chosen.name == "dask" and chosen.planned_jobs() == 0


def test_local_backend_keeps_the_protocol(tmp_path):
    with backend.get("local", jobs=3).open(WorkerConfig(formats=("html",)), tmp_path, limit=1) as pool:
        assert isinstance(pool, backend.Backend) and pool.name == "local"
        pool.check()
        assert pool.workers == 0  # nothing started: local workers start once reports are due
        assert pool.jobs == 3  # what the manifest counts: the pool asked for, not the one report's one worker
        assert pool.describe() == ""  # a local build prints no line about its workers
        assert pool.dashboard is None


def test_dask_backend_keeps_the_protocol(tmp_path):
    pytest.importorskip("distributed")
    with pytest.raises(ValueError, match="needs N ≥ 1 workers"):
        backend.get("dask", cluster="local:0").open(WorkerConfig(), tmp_path, limit=1)
    pool = backend.get("dask", cluster="local:2").open(WorkerConfig(), tmp_path, limit=1)
    try:
        assert isinstance(pool, backend.Backend) and pool.name == "dask"
        assert pool.workers == pool.jobs == 0  # before it started
        # What start() learns, set by hand: the line the build prints then.
        pool._workers, pool.ready_seconds = 2, 1.04
        pool.dashboard = "http://127.0.0.1:8787/status"
        assert pool.jobs == 2
        assert pool.describe() == "Dask: 2 workers, ready in 1.0 s; dashboard http://127.0.0.1:8787/status"
        pool.dashboard = None
        assert pool.describe() == "Dask: 2 workers, ready in 1.0 s; dashboard (none: bokeh is not installed)"
    finally:
        pool.close()


def test_dask_settings_live_with_the_dask_backend(monkeypatch):
    assert "client_per_report" not in {f.name for f in dataclasses.fields(WorkerConfig)}
    assert ReportWorker(WorkerConfig()).client_per_report is False
    pytest.importorskip("distributed")
    from zpb_lib.batch import dask_worker

    # This process is no Dask worker: none of a worker process's one-time preparation.
    monkeypatch.setattr(dask_worker, "_prepared", True)
    monkeypatch.setattr(dask_worker, "_worker", None)
    try:
        assert dask_worker.report_worker(WorkerConfig(formats=("html",))).client_per_report is True
    finally:
        dask_worker.shutdown()


def test_pipeline_names_no_backend():
    imports = _imported_modules(BATCH / "pipeline.py")
    assert not imports & {"zpb_lib.batch.local", "zpb_lib.batch.cluster", "zpb_lib.batch.dask_worker"}, imports
    assert not _string_constants(BATCH / "pipeline.py") & {"local", "dask"}
    source = (BATCH / "pipeline.py").read_text(encoding="utf-8")
    assert "Dask:" not in source and "usable_cores" not in source
