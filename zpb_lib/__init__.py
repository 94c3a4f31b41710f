"""zpb — the library behind the ZPB report toolkit: reference data, store, scoring, survey
statistics, the report cube, report building blocks and the batch build."""
from __future__ import annotations

import hashlib
import sys
from importlib.metadata import PackageNotFoundError, version as _dist_version
from pathlib import Path


def version() -> str:
    """The installed package's version (``zpb --version`` prints it with the data and schema versions)."""
    try:
        return _dist_version("zpb")
    except PackageNotFoundError:  # imported from a checkout that was never installed
        return "0+unknown"


def __getattr__(name: str) -> str:
    if name == "__version__":  # looked up on demand: importing zpb_lib stays as quick as it was
        return version()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
# Shipped with the package but hashed on their own: the reference data (cube.reference_hash) and the
# report notebooks (each report's fingerprint).
_NOT_CODE = ("data", "notebooks")


def code_hash() -> str:
    """Hash of the library's code and templates: reports, cached cubes and warm kernels depend on it."""
    root = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).parts
        if rel[0] in _NOT_CODE or "__pycache__" in rel:
            continue
        if p.is_file() and p.suffix in (".py", ".j2", ".css", ".json"):
            h.update(p.relative_to(root).as_posix().encode())
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


def clear_caches() -> None:
    """Forget everything the library caches in memory (reference data, rules, map shapes…).

    A warm build kernel calls this between reports so that each report is computed as in a fresh
    process; an analyst can call it after editing files in data/.
    """
    for name in ("zpb_lib.reference", "zpb_lib.domain.scoring.rules", "zpb_lib.report.charts", "zpb_lib.report.maps",
                 "zpb_lib.batch.index"):
        module = sys.modules.get(name)
        if module is None:
            continue
        for obj in vars(module).values():
            if callable(getattr(obj, "cache_clear", None)):
                obj.cache_clear()
