"""Probes of a build's processes for tests: its kernels and workers, found by the tag in their
environment, and waiting until they are gone."""
from __future__ import annotations

import json
import time
from pathlib import Path

import psutil

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def _outputs(nb) -> list:
    """Cell sources and outputs, without execution metadata (counts, timestamps)."""
    out = []
    for cell in nb.cells:
        if cell.cell_type != "code" or "injected-parameters" in cell.metadata.get("tags", []):
            continue
        outputs = []
        for o in cell.outputs:
            o = dict(o)
            o.pop("execution_count", None)
            o.pop("metadata", None)
            outputs.append(json.dumps(o, sort_keys=True))
        out.append((cell.source, outputs))
    return out


def _tagged(tag: str) -> list[psutil.Process]:
    found = []
    for p in psutil.process_iter(["pid"]):
        try:
            if p.environ().get("ZPB_TEST_TAG") == tag:
                found.append(p)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def _kernels(tag: str) -> list[psutil.Process]:
    out = []
    for p in _tagged(tag):
        try:
            if "ipykernel" in " ".join(p.cmdline()) and p.status() != psutil.STATUS_ZOMBIE:
                out.append(p)
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
    return out


def _alive(p: psutil.Process) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _wait_gone(tag: str, seconds: float = 60) -> list[psutil.Process]:
    """The tagged processes left once they are all gone (empty), or at the deadline (a safety net)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        left = [p for p in _tagged(tag) if _alive(p)]
        if not left:
            return []
        time.sleep(0.25)
    return left


