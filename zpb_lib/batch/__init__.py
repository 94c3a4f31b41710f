"""Batch build of an edition's reports: plan, execute (on a local process pool or a Dask cluster),
export (HTML/PDF), index page, manifest.

This package's ``__init__`` is also where the ``zpb_warm`` papermill engine's entry point lands:
papermill loads its engines' entry points while it is itself being imported, so the name resolves
here, without importing papermill, and hands out
:class:`zpb_lib.batch.papermill_engine.WarmEngine` on first access.
"""
from __future__ import annotations

from typing import Any

#: The name of the warm-kernel papermill engine (entry point group ``papermill.engine``).
ENGINE_NAME = "zpb_warm"


def __getattr__(name: str) -> Any:
    if name == "WarmEngine":
        # papermill: heavy, and loaded only when its engine entry point asks for this name
        import papermill  # noqa: F401  (first: while it imports, it asks for this very name, and gets it)

        from zpb_lib.batch.papermill_engine import WarmEngine

        return WarmEngine
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
