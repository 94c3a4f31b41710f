"""Entry point of the ``zpb_warm`` papermill engine (see :mod:`zpb_lib.build.warm_engine`).

papermill loads its entry points while it is itself being imported; this module therefore imports
nothing from papermill and hands out the engine class on first attribute access.
"""
from __future__ import annotations

from typing import Any

ENGINE_NAME = "zpb_warm"


def __getattr__(name: str) -> Any:
    if name == "WarmEngine":
        from .warm_engine import WarmEngine

        return WarmEngine
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
