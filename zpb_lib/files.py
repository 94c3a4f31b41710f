"""Writing files atomically: the one way every file zpb produces is written.

Reports (HTML, PDF), executed notebooks, the manifest, index pages, the report cube, Excel workbooks
(exports, templates, the register, ``zpb match`` output) and the survey forms all go through
:func:`atomic_write` (a binary file object) or :func:`atomic_path` (a temporary path for libraries
that save to a path themselves: openpyxl's ``wb.save``, SQLite). The rules are the same everywhere:

* The data go to a temporary file in the target's folder named ``.zpb-tmp-<8 characters>.<name>``
  (hidden, recognisable, keeping the target's extension for libraries that look at it), so that
  the final rename is a rename within one file system: a reader sees the old file or the new one,
  never half of one.
* The temporary file is flushed to disk (``fsync``) before the rename and the folder after it
  (where the platform allows), so that a power cut leaves the old file or the complete new one.
* File mode: a new file gets what a plain ``open()`` would give it, ``0666`` less the umask (0644
  with the usual umask 022); a file that is replaced keeps the mode it had. One rule for every file.
* On any failure — an exception, Ctrl-C (``KeyboardInterrupt``), ``SystemExit`` — the temporary file
  is removed and the target is left as it was.

A process killed outright (SIGKILL, power cut) cannot clean up: :func:`sweep` removes temporary files
of that pattern (and of the patterns older zpb versions used in a build folder) from one folder.
"""
from __future__ import annotations

import contextlib
import os
import re
import stat
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

TEMP_PREFIX = ".zpb-tmp-"
# mkstemp's random part: 8 characters of [a-z0-9_]
_TEMP = re.compile(r"^\.zpb-tmp-[a-z0-9_]{8}\..+$")
# What zpb before this module left behind when killed, in a build's folders only:
# ``.<name>.<8>.tmp`` (reports, index, manifest), ``cube.sqlite.<8>.tmp`` (+ SQLite's -journal),
# and ``notebooks/.<stem>.<8>.ipynb`` (executed notebooks).
_LEGACY = (re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp(-journal)?$"), re.compile(r"^cube\.sqlite\.[a-z0-9_]{8}\.tmp(-journal)?$"))
_LEGACY_NOTEBOOK = re.compile(r"^\..+\.[a-z0-9_]{8}\.ipynb$")
_SQLITE_SIDE_FILES = ("-journal", "-wal", "-shm")
_umask_lock = threading.Lock()


def is_temp_name(name: str, *, notebooks: bool = False) -> bool:
    """Whether a file name is one of zpb's temporary files (``notebooks``: also the executed-notebook
    temporaries older versions made in a build's ``notebooks/`` folder)."""
    if _TEMP.match(name) or any(p.match(name) for p in _LEGACY):
        return True
    return notebooks and bool(_LEGACY_NOTEBOOK.match(name))


def _umask() -> int:
    try:  # Linux: read it without changing it (os.umask would, for an instant, for every thread)
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    with _umask_lock:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def file_mode(target: str | os.PathLike[str]) -> int:
    """The mode ``target`` gets when written: the mode of the file it replaces, else 0666 less the umask."""
    try:
        st = os.stat(target)
    except OSError:
        return 0o666 & ~_umask()
    return stat.S_IMODE(st.st_mode) if stat.S_ISREG(st.st_mode) else 0o666 & ~_umask()


def fsync_dir(folder: str | os.PathLike[str]) -> None:
    """Make a rename or a new file in ``folder`` durable; a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # e.g. a file system that does not sync folders
        pass
    finally:
        os.close(fd)


def _new_temp(target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    name = target.name if len(target.name) <= 200 else target.name[-200:]  # stay under NAME_MAX
    fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=f".{name}", dir=target.parent)
    os.close(fd)
    return Path(tmp)


def _discard(tmp: Path) -> None:
    for suffix in ("", *_SQLITE_SIDE_FILES):
        with contextlib.suppress(OSError):
            os.unlink(f"{tmp}{suffix}")


def _commit(tmp: Path, target: Path, mode: int, *, synced: bool) -> None:
    os.chmod(tmp, mode)
    if not synced:
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    os.replace(tmp, target)


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary path (an empty file) in ``target``'s folder; when the block ends without an
    exception it replaces ``target``. For libraries that write to a path themselves::

        with atomic_path(out) as tmp:
            wb.save(tmp)
    """
    target = Path(target)
    mode = file_mode(target)
    tmp = _new_temp(target)
    try:
        yield tmp
        _commit(tmp, target, mode, synced=False)
    except BaseException:
        _discard(tmp)
        raise
    fsync_dir(target.parent)


@contextlib.contextmanager
def atomic_write(target: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """A binary file that replaces ``target`` once the block ends without an exception."""
    target = Path(target)
    mode = file_mode(target)
    tmp = _new_temp(target)
    try:
        with open(tmp, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        _commit(tmp, target, mode, synced=True)
    except BaseException:
        _discard(tmp)
        raise
    fsync_dir(target.parent)


def write_bytes(target: str | os.PathLike[str], data: bytes) -> Path:
    """``data`` to ``target``, atomically."""
    with atomic_write(target) as fh:
        fh.write(data)
    return Path(target)


def write_text(target: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> Path:
    """``text`` to ``target``, atomically (``encoding="utf-8-sig"`` adds a byte-order mark)."""
    return write_bytes(target, text.encode(encoding))


def sweep(folder: str | os.PathLike[str], *, notebooks: bool = False) -> list[Path]:
    """Remove the temporary files a killed zpb left in ``folder`` (not in its subfolders); returns them.

    Only names matching zpb's own temporary patterns are touched (see :func:`is_temp_name`). Call it
    only on a folder no other zpb process is writing to at the same time (a build holds a lock on its
    edition folder while it sweeps and writes)."""
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        if is_temp_name(entry.name, notebooks=notebooks) and entry.is_file(follow_symlinks=False):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed
