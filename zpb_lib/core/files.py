"""Writing files atomically: the one way every file zpb produces is written.

Reports (HTML, PDF), executed notebooks, the manifest, index pages, the report cube, Excel workbooks
(exports, templates, the register, ``zpb match`` output), the survey forms and new database files all
go through :func:`atomic_write` (a binary file object) or :func:`atomic_path` (a temporary path for
libraries that save to a path themselves: openpyxl's ``wb.save``, SQLite). The rules are the same
everywhere:

* The data go to a temporary file in the target's folder named
  ``.zpb-tmp-<16 hex: random>-<8 hex: check>.<name>`` where the check is a keyed hash of the random
  part and the name: hidden, recognisable, keeping the target's extension for libraries that look at
  it, and never produced by accident, so that :func:`sweep` can tell zpb's temporaries from a user's
  files. It is created with ``O_CREAT | O_EXCL | O_NOFOLLOW`` (never an existing file, never through
  a symbolic link). The final rename is a rename within one file system — a reader sees the old file
  or the new one, never half of one — and replaces a symbolic link at the target rather than
  following it.
* The temporary file is flushed to disk (``fsync``) before the rename and the folder after it
  (where the platform allows), so that a power cut leaves the old file or the complete new one.
* File mode: a new file gets what a plain ``open()`` would give it, ``0666`` less the umask (0644
  with the usual umask 022); a file that is replaced keeps the mode it had. One rule for every file.
* On any failure — an exception, Ctrl-C (``KeyboardInterrupt``), ``SystemExit`` — the temporary file
  is removed and the target is left as it was. A failure of the disk (full, over quota, read-only,
  permission denied, a file where a folder should be…; SQLite's "database or disk is full" too) is
  raised as :class:`OutputError`, whose text is a message for people: :func:`describe` is the one
  translation of such errors, used by every command.

A process killed outright (SIGKILL, power cut) cannot clean up: :func:`sweep` removes temporary files
of that pattern from one folder — regular files only, owned by the user running zpb. Names older zpb
versions used (``.<name>.<8 characters>.tmp``, ``cube.sqlite.<8>.tmp``) cannot be told from a user's
files and are left alone.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import errno
import hashlib
import os
import re
import secrets
import stat
import threading
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO
from zipfile import ZIP_DEFLATED, ZipFile

from zpb_lib.core.errors import ZpbError

TEMP_PREFIX = ".zpb-tmp-"
_TEMP = re.compile(r"\.zpb-tmp-([0-9a-f]{16})-([0-9a-f]{8})\.(.+)", re.S)
_SQLITE_SIDE_FILES = ("-journal", "-wal", "-shm")
_NAME_BYTES = 200  # of the target's name kept in the temporary's: stays under NAME_MAX (255 bytes)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_umask_lock = threading.Lock()


# ------------------------------------------------------------------ errors people read

class OutputError(ZpbError, OSError):
    """A file could not be written (errno, strerror and filename as an OSError's: the file asked
    for, not its temporary); ``str()`` is one line for people (:func:`describe`)."""

    def __str__(self) -> str:
        return describe(self)


class FolderError(OutputError):
    """A folder could not be created or written in."""


class LinkRefused(OutputError):
    """A file zpb keeps for itself (the build journal) is a symbolic link or not a regular file."""


# SQLite reports the disk's refusals with its own codes (Python 3.11+: ``sqlite_errorname``).
_SQLITE_ERRNO = {"SQLITE_FULL": errno.ENOSPC, "SQLITE_READONLY": errno.EROFS, "SQLITE_IOERR": errno.EIO,
                 "SQLITE_CANTOPEN": errno.EACCES, "SQLITE_PERM": errno.EACCES}


def os_error(exc: BaseException | None) -> OSError | None:
    """The disk's error behind ``exc``: an OSError with an errno, SQLite's full/read-only/I/O error
    as one, or that of a database error wrapping it (SQLAlchemy's ``orig``, the store's errors carry
    ``sqlite_errorname``); None for anything else."""
    for _ in range(4):  # a wrapper of a wrapper at most
        if exc is None:
            return None
        if isinstance(exc, OSError):
            return exc if exc.errno else None
        name = getattr(exc, "sqlite_errorname", None)
        if isinstance(name, str):
            code = _SQLITE_ERRNO.get("_".join(name.split("_")[:2]))
            return OSError(code, os.strerror(code)) if code else None
        exc = getattr(exc, "orig", None)
    return None


def output_error(exc: BaseException, path: str | os.PathLike[str]) -> OutputError | None:
    """``exc`` as an :class:`OutputError` about ``path`` when the disk caused it, else None."""
    if isinstance(exc, OutputError):
        return exc
    err = os_error(exc)
    if err is None:
        return None
    return OutputError(err.errno, err.strerror or os.strerror(err.errno), os.fspath(path))


def shown(path: str | os.PathLike[str] | bytes) -> str:
    """A path for a message: control characters (newlines, terminal escape sequences), invisible
    format characters (bidirectional overrides) and bytes that are not UTF-8 written as escapes, so
    that a name cannot rewrite the terminal or forge a line of output."""
    text = os.fsdecode(path)
    out = []
    for ch in text:
        cp = ord(ch)
        if 0xDC80 <= cp <= 0xDCFF:  # a byte os.fsdecode could not decode
            out.append(f"\\x{cp - 0xDC00:02x}")
        elif unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp"):
            out.append(f"\\x{cp:02x}" if cp < 0x100 else f"\\u{cp:04x}")
        else:
            out.append(ch)
    return "".join(out)


def _file_in_the_way(path: Path) -> Path | None:
    """The first existing component of ``path`` (as given) that is not a folder: a file where a
    folder is needed."""
    for part in [*reversed(path.parents), path]:
        try:
            if not stat.S_ISDIR(os.stat(part).st_mode):
                return part
        except FileNotFoundError:
            return None
        except OSError:
            continue
    return None


def describe(exc: BaseException, path: str | os.PathLike[str] | None = None) -> str:
    """One line for people about a failed file operation: which path, why in plain words, and what
    to do. The one translation of the disk's errors for every command."""
    err = exc if isinstance(exc, OSError) else os_error(exc)
    if err is None:
        return str(exc)
    name = path if path is not None else err.filename
    target = Path(os.fsdecode(name)) if name is not None else None
    if target is None:  # no path to name: the reason alone
        return _why(err, Path("."), writing=False)
    if isinstance(exc, LinkRefused):
        return f"{shown(target)}: {err.strerror}"
    writing = isinstance(exc, OutputError)
    if isinstance(exc, FolderError):
        what = f"cannot write in {shown(target)}" if target.is_dir() else f"cannot create the folder {shown(target)}"
    elif writing:
        what = f"cannot write {shown(target)}"
    else:  # an error the command did not expect, reading or writing: the path and the reason
        what = shown(target)
    return f"{what}: {_why(err, target, writing=writing, folder=isinstance(exc, FolderError))}"


def _why(err: OSError, target: Path, *, writing: bool, folder: bool = False) -> str:
    no = err.errno
    if no == errno.ENOSPC:
        return "the disk is full; free some space or write to another disk"
    if no == getattr(errno, "EDQUOT", None):
        return "your disk quota is used up; free some space or ask for a larger quota"
    if no == errno.EROFS:
        return "the file system is read-only; write to another folder"
    if no in (errno.EACCES, errno.EPERM):
        if not writing:
            return "permission denied"
        where = _nearest_folder(target if folder else target.parent)
        return (f"permission denied (you may not write in {shown(where)}, or the file is open in another "
                "program); choose a folder you may write to")
    if no in (errno.ENOTDIR, errno.EEXIST) and (blocker := _file_in_the_way(target)) is not None:
        return f"{shown(blocker)} is a file, not a folder; give a folder (missing folders are created)"
    if no == errno.EISDIR:
        return "it is a folder; give the name of a file"
    if no == errno.ENAMETOOLONG:
        return "the name is too long; give a shorter one"
    if no in (errno.ELOOP, getattr(errno, "EMLINK", None)) and target.is_symlink():
        return "it is a symbolic link, and zpb does not write through links; remove the link or give another path"
    if no == errno.ENOENT:
        return f"the folder {shown(target.parent)} does not exist" if writing else "it does not exist"
    if no == errno.EIO:
        return "input/output error (the disk may be full, over its quota or failing); check the disk"
    return (err.strerror or os.strerror(no)).lower() if no else (err.strerror or "failed")


def _nearest_folder(path: Path) -> Path:
    for part in [path, *path.parents]:
        if part.is_dir():
            return part
    return Path(".")


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
    """The mode ``target`` gets when written: the mode of the regular file it replaces, else 0666
    less the umask (a symbolic link is replaced, not followed: its target's mode does not count)."""
    try:
        st = os.lstat(target)
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


def make_folder(folder: str | os.PathLike[str]) -> Path:
    """``folder`` and its missing parents; a file in the way or a folder that cannot be created is a
    :class:`FolderError` (a message naming the path)."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        no = errno.ENOTDIR if isinstance(exc, FileExistsError) else exc.errno
        raise FolderError(no, os.strerror(no), os.fspath(folder)) from None
    return folder


def check_writable(folder: str | os.PathLike[str]) -> None:
    """Fail now, with a message, rather than after minutes of work: create and remove one temporary
    file in ``folder`` (``os.access`` would not see a read-only mount for root, nor a full disk's
    refusal of a new file's name on some file systems)."""
    folder = make_folder(folder)
    try:
        fd, tmp = _new_temp(folder / ".zpb-write-check")
    except OutputError as exc:
        raise FolderError(exc.errno, exc.strerror, os.fspath(folder)) from None
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(tmp)


def check_target(target: str | os.PathLike[str]) -> None:
    """Before long work whose result goes to the file ``target``: it is not a folder, and its folder
    exists (made if missing) and takes a new file. Raises :class:`OutputError` (a message)."""
    target = Path(target)
    if target.is_dir():
        raise OutputError(errno.EISDIR, os.strerror(errno.EISDIR), os.fspath(target))
    check_writable(target.parent)


# ------------------------------------------------------------------ temporary names

def _random_part() -> str:
    return secrets.token_hex(8)


def _check(rand: str, name: str) -> str:
    data = f"{rand}/{name}".encode("utf-8", "surrogateescape")
    return hashlib.blake2s(data, digest_size=4, person=b"zpb-tmp").hexdigest()


def _short(name: str) -> str:
    raw = os.fsencode(name)
    return name if len(raw) <= _NAME_BYTES else os.fsdecode(raw[-_NAME_BYTES:])


def temp_name(name: str, rand: str | None = None) -> str:
    """The name of a temporary file for a target called ``name`` (``rand``: 16 hex digits, else random)."""
    rand = rand or _random_part()
    name = _short(name)
    return f"{TEMP_PREFIX}{rand}-{_check(rand, name)}.{name}"


def is_temp_name(name: str) -> bool:
    """Whether ``name`` is one zpb gave a temporary file (or SQLite's journal of one): the exact
    structure, and a check that only zpb's naming computes — a user's file does not match by accident."""
    m = _TEMP.fullmatch(name)
    if not m:
        return False
    rand, check, rest = m.groups()
    if _check(rand, rest) == check:
        return True
    return any(rest.endswith(side) and _check(rand, rest[: -len(side)]) == check for side in _SQLITE_SIDE_FILES)


def _new_temp(target: Path) -> tuple[int, Path]:
    """A new, empty, private temporary file next to ``target``, opened for writing: created with
    O_EXCL and O_NOFOLLOW, so never an existing file and never through a link someone planted."""
    if target.is_dir():
        raise OutputError(errno.EISDIR, os.strerror(errno.EISDIR), os.fspath(target))
    make_folder(target.parent)
    for _ in range(100):
        tmp = target.parent / temp_name(target.name)
        try:
            fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC, 0o600)
        except FileExistsError:
            continue
        except OSError as exc:
            raise OutputError(exc.errno, exc.strerror, os.fspath(target)) from None
        return fd, tmp
    raise OutputError(errno.EEXIST, "no free temporary name", os.fspath(target))


def _discard(tmp: Path) -> None:
    for suffix in ("", *_SQLITE_SIDE_FILES):
        with contextlib.suppress(OSError):
            os.unlink(f"{tmp}{suffix}")


def _commit(tmp: Path, target: Path, mode: int, *, synced: bool) -> None:
    # What is renamed into place must still be the regular file made here: a library that reopened
    # the path must not have let a link (or anything else) take its place.
    if not stat.S_ISREG(os.lstat(tmp).st_mode):
        raise OutputError(errno.EINVAL, "the temporary file was replaced while it was written", os.fspath(target))
    os.chmod(tmp, mode)
    if not synced:
        fd = os.open(tmp, os.O_RDONLY | _NOFOLLOW | _CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    os.replace(tmp, target)  # a link at ``target`` is replaced, not followed


# What a disk says when it refuses a write (the temporary file's, or SQLite's into it).
_REFUSALS = {errno.ENOSPC, errno.EROFS, errno.EIO, errno.EFBIG, errno.EACCES, errno.EPERM,
             getattr(errno, "EDQUOT", errno.ENOSPC)}


def _failed(exc: BaseException, tmp: Path, target: Path) -> None:
    """Remove the temporary file; re-raise the disk's refusal to write it as an :class:`OutputError`
    about ``target`` (an error about another file — an input read meanwhile — stays what it is)."""
    _discard(tmp)
    if isinstance(exc, Exception) and not isinstance(exc, OutputError):
        err = os_error(exc)
        about = os.fsdecode(err.filename) if err is not None and err.filename is not None else None
        if err is not None and err.errno in _REFUSALS and (about is None or about.startswith(os.fspath(tmp))):
            raise OutputError(err.errno, err.strerror or os.strerror(err.errno), os.fspath(target)) from exc


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary path (an empty file) in ``target``'s folder; when the block ends without an
    exception it replaces ``target``. For libraries that write to a path themselves::

        with atomic_path(out) as tmp:
            wb.save(tmp)
    """
    target = Path(target)
    mode = file_mode(target)
    fd, tmp = _new_temp(target)
    os.close(fd)
    try:
        yield tmp
        _commit(tmp, target, mode, synced=False)
    except BaseException as exc:
        _failed(exc, tmp, target)
        raise
    fsync_dir(target.parent)


@contextlib.contextmanager
def atomic_write(target: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """A binary file that replaces ``target`` once the block ends without an exception. The data go
    through the descriptor that created the temporary file, never a second open by name."""
    target = Path(target)
    mode = file_mode(target)
    fd, tmp = _new_temp(target)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        _commit(tmp, target, mode, synced=True)
    except BaseException as exc:
        _failed(exc, tmp, target)
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


def save_workbook(wb: Any, target: str | os.PathLike[str]) -> Path:
    """An openpyxl workbook to ``target``, atomically: what ``wb.save`` does, through the temporary
    file's own descriptor, and with the archive closed when writing fails (openpyxl leaves it open;
    its destructor would then write to a removed file as the process ends and print a traceback
    after zpb's message)."""
    # openpyxl: loaded only when a workbook is written
    from openpyxl.writer.excel import ExcelWriter

    if wb.write_only and not wb.worksheets:
        wb.create_sheet()
    with atomic_write(target) as fh:
        archive = ZipFile(fh, "w", ZIP_DEFLATED, allowZip64=True)
        try:
            wb.properties.modified = dt.datetime.now(tz=dt.timezone.utc).replace(tzinfo=None)
            ExcelWriter(wb, archive).write_data()
        except BaseException:
            with contextlib.suppress(Exception):
                archive.close()
            raise
        archive.close()
    return Path(target)


def read_regular(path: str | os.PathLike[str]) -> bytes:
    """The bytes of a regular file zpb keeps for itself (manifest, journal), never through a
    symbolic link and never waiting on a FIFO: FileNotFoundError when absent, :class:`LinkRefused`
    for a link or anything but a regular file."""
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW | _NONBLOCK | _CLOEXEC)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, getattr(errno, "EMLINK", None)) and os.path.islink(path):
            raise LinkRefused(exc.errno, "is a symbolic link", os.fspath(path)) from None
        raise
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise LinkRefused(errno.EINVAL, "is not a regular file", os.fspath(path))
        return fh.read()


def sweep(folder: str | os.PathLike[str]) -> list[Path]:
    """Remove the temporary files a killed zpb left in ``folder`` (not in its subfolders); returns them.

    A file goes only when all of these hold: its name is one zpb made (:func:`is_temp_name`: the
    structure and the check), it is a regular file (not a link, folder or anything else named so),
    and the user running zpb owns it. Whatever else is in the folder stays, whatever its name. Call
    it only on a folder no other zpb process is writing to at the same time (a build holds a lock on
    its edition folder while it sweeps and writes)."""
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    uid = os.geteuid() if hasattr(os, "geteuid") else None
    for entry in entries:
        if not is_temp_name(entry.name):
            continue
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if not stat.S_ISREG(st.st_mode) or (uid is not None and st.st_uid != uid):
            continue
        # A name replaced between the check and here by a link or folder: unlink removes a link
        # itself, never its target, and fails on a folder.
        with contextlib.suppress(OSError):
            os.unlink(entry.path)
            removed.append(Path(entry.path))
    return removed
