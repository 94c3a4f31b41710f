"""Pause points for tests: stop a build at a named phase until a file appears.

Only for tests, never set in normal use: a test that needs the build to be in a given phase when it
interrupts or kills it (during the cube computation, with N reports journalled, while the index is
written) sets two environment variables for the build process::

    ZPB_TEST_PAUSE_DIR=/tmp/somewhere   ZPB_TEST_PAUSE_AT=cube,journal-3

On reaching a listed phase the process writes ``<dir>/<phase>.reached`` and waits until
``<dir>/<phase>.go`` exists, or until a Ctrl-C has been recorded, or until its parent process has
gone (a worker whose build was killed). The test waits for the marker — a condition, not a delay.

Phases: ``start`` (inputs known, before the cube), ``cube`` (the cube's tables written to its
temporary file, before the rename), ``plan`` (reports planned, before execution),
``journal-<n>`` (the n-th finished report recorded in the journal), ``index`` (manifests written,
before the index pages are); in a worker, ``report-<n>`` (about to start its n-th report, its
kernel running).
"""
from __future__ import annotations

import os
import time
from pathlib import Path

from zpb_lib.core import interrupt, settings
from zpb_lib.core.files import write_text


def pause_point(phase: str) -> None:
    folder = settings.pause_dir()
    if not folder or phase not in settings.pause_phases():
        return

    folder_path = Path(folder)
    write_text(folder_path / f"{phase}.reached", f"{os.getpid()}\n")
    parent = os.getppid()
    go = folder_path / f"{phase}.go"
    while not go.exists() and not interrupt.requested() and os.getppid() == parent:
        time.sleep(0.02)
