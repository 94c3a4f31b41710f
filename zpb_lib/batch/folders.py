"""The folders a build writes into: made, checked writable before any work, never a symbolic link
to a folder that holds someone else's files, and cleared of the temporary files a killed build left.

A linked edition folder is a real set-up (``reports/2025-2026`` → a shared drive), so a link is
followed when its target is empty or holds an earlier build (its ``manifest.json`` or
``journal.jsonl``); a link to any other folder (``/etc``, someone's documents) is refused before
anything is written, since the build would add its files there and rewrite its own names in it.
The same holds for a language's folder (``en/``) and for ``notebooks/`` (whose target may hold
executed notebooks only).
"""
from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path

from zpb_lib.core.files import FolderError, check_writable, is_temp_name, make_folder, shown, sweep

BUILD_MARKS = ("manifest.json", "journal.jsonl")
# Where `zpb build` writes and `zpb serve` finds the built reports unless told otherwise.
DEFAULT_OUT = "reports"


def _holds_a_build(folder: Path) -> bool:
    return any(os.path.lexists(folder / name) for name in BUILD_MARKS)


def _holds_notebooks(folder: Path) -> bool:
    return all(e.name.endswith(".ipynb") and e.is_file(follow_symlinks=False) for e in os.scandir(folder)
               if not is_temp_name(e.name))


def check_link(folder: Path, ours: Callable[[Path], bool], what: str) -> None:
    """Refuse (ValueError, one line) a ``folder`` that is a symbolic link to a folder ``ours`` does not
    recognise and that is not empty; a link to nothing or to a file is refused too."""
    if not folder.is_symlink():
        return
    real = folder.resolve()
    if not real.exists():
        raise ValueError(f"{shown(folder)} is a symbolic link to {shown(real)}, which does not exist; "
                         "create that folder or remove the link")
    if not real.is_dir():
        raise FolderError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), os.fspath(folder))
    if any(not is_temp_name(e.name) for e in os.scandir(real)) and not ours(real):
        raise ValueError(f"{shown(folder)} is a symbolic link to {shown(real)}, a folder that holds files "
                         f"other than {what}; zpb builds into a linked folder only when it is empty or holds "
                         "an earlier build: link an empty folder, or give the folder itself with --out")


def prepare(folder: Path) -> Path:
    """An edition's or a language's folder, ready to be written (a message otherwise)."""
    check_link(folder, _holds_a_build, "an earlier zpb build")
    make_folder(folder)
    check_writable(folder)
    return folder


def sweep_build_folder(folder: Path) -> None:
    """The temporary files a killed build left in a language's folder and its ``notebooks/``."""
    notebooks = folder / "notebooks"
    check_link(notebooks, _holds_notebooks, "executed notebooks")
    sweep(folder)
    sweep(notebooks)
