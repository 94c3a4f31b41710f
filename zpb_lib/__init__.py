"""zpb — the library behind the ZPB report toolkit: reference data, store, scoring, survey
statistics, the report cube, report building blocks and the batch build."""
from __future__ import annotations


def code_hash() -> str:
    """Hash of the library's code and templates: reports, cached cubes and warm kernels depend on it."""
    import hashlib
    from pathlib import Path

    root = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file() and p.suffix in (".py", ".j2", ".css", ".json") and "__pycache__" not in p.parts:
            h.update(p.relative_to(root).as_posix().encode())
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


def clear_caches() -> None:
    """Forget everything the library caches in memory (reference data, rules, map shapes…).

    A warm build kernel calls this between reports so that each report is computed as in a fresh
    process; an analyst can call it after editing files in data/.
    """
    import sys

    for name in ("zpb_lib.reference", "zpb_lib.scoring.rules", "zpb_lib.report.charts", "zpb_lib.report.maps",
                 "zpb_lib.build.index"):
        module = sys.modules.get(name)
        if module is None:
            continue
        for obj in vars(module).values():
            if callable(getattr(obj, "cache_clear", None)):
                obj.cache_clear()
