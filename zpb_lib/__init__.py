"""zpb — the library behind the ZPB report toolkit: reference data, store, scoring, survey
statistics, the report cube, report building blocks and the batch build."""
from __future__ import annotations


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
