"""Attacks on the files zpb writes and removes, each with the refusal or the absence of effect asserted.

An outsider here can only plant files in an output folder, or hand zpb a path or a name: a user's
files named like zpb's temporaries, symbolic links where zpb writes (its journal, its reports, its
edition folder), paths that cannot be written (a file where a folder should be, a read-only folder, a
full disk), and names with control characters shown in messages. Builds are real (`zpb build` on the
small demo database, one county report, HTML only). A full disk is a real small file system (tmpfs,
mounted as root); a read-only folder is a read-only tmpfs as root and a 0555 folder otherwise (root
ignores permission bits).
"""
from __future__ import annotations

import contextlib
import errno
import gzip
import os
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from zpb_lib.core import files
from zpb_lib.batch.pipeline import Journal
from zpb_lib.cli import main

EDITION = "2025/2026"
FOLDER = "2025-2026"
COUNTY = "1201"
STEM = "powiat-1201-bochenski"  # the county report of COUNTY
ROOT = Path(__file__).resolve().parents[2]
FIXTURE_V3 = Path(__file__).parents[1] / "fixtures" / "schema-v3.sql.gz"
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
# A library object left open by a failed write and closed by its destructor later prints a traceback
# after zpb's message ("Exception ignored in …"): here that fails the test.
pytestmark = pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")


# ------------------------------------------------------------------ helpers

def _build(db: Path | str, out: Path, *extra: str) -> list[str]:
    return ["build", "--db", str(db), "--edition", EDITION, "--out", str(out), "--only", "county", "--county", COUNTY,
            "--format", "html", "--jobs", "1", "--quiet", *extra]


def _run(capsys, argv: list[str]) -> tuple[int, str, str]:
    """The command in this process (an uncaught exception fails the test as it would print a traceback)."""
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def _temporaries(*folders: Path) -> list[Path]:
    """zpb's temporary files anywhere under ``folders``: a failed command leaves none."""
    return sorted(p for f in folders if f.exists() for p in f.rglob(".zpb-tmp-*"))


def _snapshot(folder: Path) -> dict[str, object]:
    """Every entry under ``folder``: a link's target, a file's bytes, a folder's mark."""
    out: dict[str, object] = {}
    for p in sorted(folder.rglob("*")):
        key = p.relative_to(folder).as_posix()
        out[key] = ("link", os.readlink(p)) if p.is_symlink() else ("dir",) if p.is_dir() else p.read_bytes()
    return out


def _mount_tmpfs(where: Path, size: str) -> None:
    if not IS_ROOT:
        pytest.skip("a real small file system needs root (mount -t tmpfs)")
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(where)],
                          capture_output=True, text=True)
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")


def _unmount(where: Path) -> None:
    if subprocess.run(["umount", str(where)], capture_output=True).returncode:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)  # a worker still closing a file


@pytest.fixture
def small_fs(tmp_path) -> Iterator[Callable[[str], Path]]:
    """``make(size)``: a new tmpfs of that size under tmp_path, unmounted after the test."""
    mounts: list[Path] = []

    def make(size: str) -> Path:
        where = tmp_path / f"fs{len(mounts)}"
        _mount_tmpfs(where, size)
        mounts.append(where)
        return where

    yield make
    for where in reversed(mounts):
        _unmount(where)


@pytest.fixture
def readonly(tmp_path) -> Iterator[Callable[[Callable[[Path], None] | None], Path]]:
    """``make(fill)``: a folder, filled by ``fill``, then made one nobody may write in: a tmpfs
    remounted read-only as root (EROFS), a 0555 folder otherwise (EACCES)."""
    made: list[tuple[Path, bool]] = []

    def make(fill: Callable[[Path], None] | None = None) -> Path:
        where = tmp_path / f"ro{len(made)}"
        if IS_ROOT:
            _mount_tmpfs(where, "8m")
            made.append((where, True))
            if fill:
                fill(where)
            done = subprocess.run(["mount", "-o", "remount,ro", str(where)], capture_output=True, text=True)
            if done.returncode:
                pytest.skip(f"cannot remount a tmpfs read-only here: {done.stderr.strip()}")
        else:
            where.mkdir()
            made.append((where, False))
            if fill:
                fill(where)
            for p in [where, *where.rglob("*")]:
                if p.is_dir():
                    p.chmod(0o555)
        return where

    yield make
    for where, mounted in reversed(made):
        if mounted:
            _unmount(where)
        else:
            for p in [where, *where.rglob("*")]:
                if p.is_dir():
                    p.chmod(0o755)


def _fill(folder: Path) -> None:
    """Use up the file system of ``folder`` to its last byte."""
    fd = os.open(folder / "filler.bin", os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        for size in (1 << 16, 1 << 12, 1 << 9, 1):  # smaller and smaller writes until none fits
            with contextlib.suppress(OSError):
                while os.write(fd, b"\0" * size):
                    pass
    finally:
        os.close(fd)


def _participating_school(db: Path) -> tuple[str, str]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return con.execute(
            "SELECT i.rspo, i.name FROM participation p JOIN institutions i ON i.id = p.institution_id "
            "WHERE p.joined_edition <= ? AND (p.left_edition IS NULL OR p.left_edition >= ?) AND i.rspo IS NOT NULL "
            "ORDER BY i.rspo LIMIT 1", (EDITION, EDITION)).fetchone()
    finally:
        con.close()


# ------------------------------------------------------------------ the sweep: only zpb's own files

def test_a_build_removes_no_user_file_whatever_its_name(small_db, tmp_path, capsys):
    """Attack: files of a user in the edition folder named like temporaries — the names older zpb
    versions used (`notebooks/.draft.version2.ipynb`, `cube.sqlite.backup01.tmp`, `.notes.20240101.tmp`),
    zpb's prefix (`.zpb-tmp-userfile.txt`, `.zpb-tmp-notes.txt`), zpb's exact structure with a made-up
    check, a folder and a symbolic link (to a user's file outside) bearing a genuine temporary name.
    A build runs; every one is still there with its content, the link's target untouched. A genuine
    temporary file of a killed build is removed: the sweep did run."""
    out, outside = tmp_path / "reports", tmp_path / "home"
    folder = out / FOLDER
    (folder / "notebooks").mkdir(parents=True)
    outside.mkdir()
    secret = outside / "thesis.docx"
    secret.write_bytes(b"four years of work")
    user_files = {
        folder / "notebooks" / ".draft.version2.ipynb": b'{"cells": []}',
        folder / "cube.sqlite.backup01.tmp": b"SQLite format 3\0 a user's backup",
        folder / ".notes.20240101.tmp": b"notes",
        folder / ".zpb-tmp-userfile.txt": b"mine",
        folder / ".zpb-tmp-notes.txt": b"mine too",
        folder / ".zpb-tmp-0123456789abcdef-01234567.plan.html": b"a made-up check",
        folder / "notebooks" / ".zpb-tmp-abcd1234.moje.ipynb": b"zpb's old pattern, a user's name",
    }
    for path, data in user_files.items():
        path.write_bytes(data)
    dir_named_like_ours = folder / files.temp_name("archiwum.html")
    (dir_named_like_ours / "inside").mkdir(parents=True)
    (dir_named_like_ours / "inside" / "photo.jpg").write_bytes(b"jpeg")
    link_named_like_ours = folder / files.temp_name("powiat.html")
    link_named_like_ours.symlink_to(secret)
    genuine = folder / "notebooks" / files.temp_name(f"{STEM}.ipynb")
    genuine.write_bytes(b"half a notebook")

    code, _, err = _run(capsys, _build(small_db, out))
    assert code == 0, err
    assert {p: p.read_bytes() for p in user_files} == user_files
    assert (dir_named_like_ours / "inside" / "photo.jpg").read_bytes() == b"jpeg"
    assert link_named_like_ours.is_symlink() and os.readlink(link_named_like_ours) == str(secret)
    assert secret.read_bytes() == b"four years of work"
    assert not genuine.exists()
    assert (folder / f"{STEM}.html").is_file()


@pytest.mark.skipif(not IS_ROOT, reason="a file owned by another user can only be made as root (chown)")
def test_the_sweep_leaves_a_temporary_named_file_of_another_user(tmp_path):
    """Attack: another account's file in a shared output folder, bearing a genuine temporary name
    (as its own killed zpb would leave it). The sweep removes only the files of the user running
    it; the same name owned by that user goes (the check is the owner, not the name)."""
    theirs, ours = tmp_path / files.temp_name("a.html"), tmp_path / files.temp_name("b.html")
    theirs.write_bytes(b"another user's")
    ours.write_bytes(b"ours")
    os.chown(theirs, 65534, 65534)
    assert files.sweep(tmp_path) == [ours]
    assert theirs.read_bytes() == b"another user's"


def test_temporary_names_cannot_be_matched_by_accident():
    """The pattern the sweep trusts: zpb's structure and a check over the random part and the name.
    Names a person may well give a file — and the check of one name moved to another — do not match."""
    name = files.temp_name("raport.html")
    assert files.is_temp_name(name) and files.is_temp_name(f"{name}-journal")
    rand = name[len(files.TEMP_PREFIX):][:16]
    check = name[len(files.TEMP_PREFIX) + 17:][:8]
    for other in (".zpb-tmp-userfile.txt", ".zpb-tmp-notes.txt", ".zpb-tmp-abcd1234.raport.html",
                  f".zpb-tmp-{rand}-{check}.inny.html", f".zpb-tmp-{rand}-{check}.raport.html.bak",
                  f".zpb-tmp-{rand.upper()}-{check}.raport.html", f"{name}.orig", f"x{name}"):
        assert not files.is_temp_name(other), other


def test_an_edited_manifest_cannot_make_a_build_delete_user_files(tmp_path):
    """Attack: a manifest edited to list a user's files as reports the next full build no longer
    plans (`thesis`, `../outside`), a user's copy under a report's name but not of the size the build
    recorded, and a link under a report's name. None of them goes; a dropped report of zpb's name and
    recorded size does (the removal still works)."""
    from zpb_lib.batch.pipeline import _remove_dropped

    folder, outside = tmp_path / "edition", tmp_path / "outside.html"
    (folder / "notebooks").mkdir(parents=True)
    outside.write_bytes(b"outside")
    theirs = {folder / "thesis.html": b"thesis", folder / "notebooks" / "thesis.ipynb": b"{}",
              folder / "powiat-1201-bochenski.html": b"my edited copy of the report"}
    for path, data in theirs.items():
        path.write_bytes(data)
    (folder / "placowka-1-szkola.html").symlink_to(outside)
    ours = folder / "placowka-2-szkola.html"
    ours.write_bytes(b"<html>old report</html>")
    _remove_dropped(folder, {
        "thesis": {"outputs": {"html": 6}},
        "../outside": {},
        "powiat-1201-bochenski": {"outputs": {"html": 5}},
        "placowka-1-szkola": {},
        "placowka-2-szkola": {"outputs": {"html": len(ours.read_bytes())}},
    })
    assert {p: p.read_bytes() for p in theirs} == theirs
    assert (folder / "placowka-1-szkola.html").is_symlink() and outside.read_bytes() == b"outside"
    assert not ours.exists()


# ------------------------------------------------------------------ links where zpb writes

@pytest.mark.parametrize("target_exists", [True, False])
def test_a_symlinked_journal_is_refused_and_its_target_untouched(small_db, tmp_path, capsys, target_exists):
    """Attack: `journal.jsonl`, the one file a build appends to, is a symbolic link to a user's file
    (or to a name that does not exist yet, which O_CREAT would create through the link). The build
    stops with a message naming the journal, exit 2, before computing anything: the target keeps
    its bytes (or is never created), the link stays, no cube or report is written."""
    out, outside = tmp_path / "reports", tmp_path / "home"
    folder = out / FOLDER
    folder.mkdir(parents=True)
    outside.mkdir()
    target = outside / ".bashrc"
    if target_exists:
        target.write_bytes(b"export PATH=/usr/bin\n")
    (folder / "journal.jsonl").symlink_to(target)

    code, _, err = _run(capsys, _build(small_db, out))
    assert code == 2
    assert err.startswith("zpb build: ") and "journal.jsonl" in err and "symbolic link" in err, err
    assert err.count("\n") == 1 and "Traceback" not in err
    if target_exists:
        assert target.read_bytes() == b"export PATH=/usr/bin\n"
    else:
        assert not target.exists()
    assert (folder / "journal.jsonl").is_symlink()
    assert sorted(p.name for p in folder.iterdir()) == ["journal.jsonl"]


def test_a_fifo_as_journal_is_refused_without_waiting(small_db, tmp_path):
    """Attack: a FIFO planted as `journal.jsonl` (reading or opening it would wait forever for a
    writer). The build ends at once with a message; the deadline only turns a hang into a failure."""
    out = tmp_path / "reports"
    (out / FOLDER).mkdir(parents=True)
    os.mkfifo(out / FOLDER / "journal.jsonl")
    done = subprocess.run([sys.executable, "-m", "zpb_lib.cli", *_build(small_db, out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 2 and "journal.jsonl" in done.stderr and "Traceback" not in done.stderr


def test_the_journal_never_appends_through_a_link(tmp_path):
    """Attack: a link put in the journal's place after the build read it. Appending opens with
    O_NOFOLLOW: refused, the target unchanged."""
    target = tmp_path / "authorized_keys"
    target.write_bytes(b"ssh-ed25519 AAAA\n")
    (tmp_path / "journal.jsonl").symlink_to(target)
    journal = Journal(tmp_path / "journal.jsonl")
    with pytest.raises(files.LinkRefused, match="symbolic link"):
        journal.append({"t": "report", "stem": "x", "entry": {}})
    journal.close()
    assert target.read_bytes() == b"ssh-ed25519 AAAA\n"


def test_links_at_the_names_a_build_writes_are_replaced_not_followed(small_db, tmp_path, capsys):
    """Attack: symbolic links planted where the build writes — the report, its executed notebook, the
    index, the manifest and the cube — each pointing at a user's file outside. Each write replaces the
    link with the build's own file (a rename does not follow a link); every target keeps its bytes
    and its mode."""
    out, outside = tmp_path / "reports", tmp_path / "home"
    folder = out / FOLDER
    (folder / "notebooks").mkdir(parents=True)
    outside.mkdir()
    names = [f"{STEM}.html", f"notebooks/{STEM}.ipynb", "index.html", "manifest.json", "cube.sqlite"]
    targets = {}
    for i, name in enumerate(names):
        target = outside / f"private-{i}"
        target.write_bytes(f"private {i}".encode())
        target.chmod(0o600)
        (folder / name).symlink_to(target)
        targets[name] = target

    code, _, err = _run(capsys, _build(small_db, out))
    assert code == 0, err
    for name, target in targets.items():
        assert not (folder / name).is_symlink() and (folder / name).is_file(), name
        assert target.read_bytes() == f"private {names.index(name)}".encode(), name
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert (folder / "index.html").stat().st_mode & 0o777 == 0o666 & ~_umask()  # a new file's mode, not the link's


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def test_a_temporary_file_is_never_created_through_a_planted_link(tmp_path, monkeypatch):
    """Attack: someone who could guess the next temporary name plants a link there to a user's file.
    The temporary file is created with O_EXCL | O_NOFOLLOW: the planted name is skipped, never
    opened, and the write lands in the target; the user's file keeps its bytes."""
    secret = tmp_path / "secret"
    secret.write_bytes(b"secret")
    names = iter(["0" * 16, "1" * 16, "2" * 16, "3" * 16])
    monkeypatch.setattr(files, "_random_part", lambda: next(names))
    planted = [tmp_path / files.temp_name("raport.html", "0" * 16), tmp_path / files.temp_name("raport.xlsx", "2" * 16)]
    for p in planted:
        p.symlink_to(secret)
    files.write_bytes(tmp_path / "raport.html", b"report")
    with files.atomic_path(tmp_path / "raport.xlsx") as tmp:
        assert tmp.name == files.temp_name("raport.xlsx", "3" * 16)
        tmp.write_bytes(b"workbook")
    assert (tmp_path / "raport.html").read_bytes() == b"report"
    assert (tmp_path / "raport.xlsx").read_bytes() == b"workbook"
    assert secret.read_bytes() == b"secret" and all(p.is_symlink() for p in planted)


def test_a_link_swapped_in_for_the_temporary_file_is_not_renamed_into_place(tmp_path):
    """Attack: while a library writes the temporary path itself, the file is swapped for a link. The
    rename is refused (OutputError) and the target is not turned into that link."""
    target, secret = tmp_path / "out.xlsx", tmp_path / "secret"
    secret.write_bytes(b"secret")
    with pytest.raises(files.OutputError):
        with files.atomic_path(target) as tmp:
            tmp.unlink()
            tmp.symlink_to(secret)
    assert not os.path.lexists(target) and secret.read_bytes() == b"secret"
    assert _temporaries(tmp_path) == []


# ------------------------------------------------------------------ linked edition folders

def test_an_edition_folder_linked_to_a_system_folder_is_refused(small_db, tmp_path, capsys):
    """Attack: `reports/2025-2026` is a symbolic link to a folder of other files (standing for /etc).
    The build refuses before writing (exit 2, a message naming the link and its target); the folder
    keeps exactly what it held."""
    out, etc = tmp_path / "reports", tmp_path / "etc"
    etc.mkdir()
    (etc / "passwd").write_bytes(b"root:x:0:0::/root:/bin/sh\n")
    (etc / "hosts").write_bytes(b"127.0.0.1 localhost\n")
    out.mkdir()
    (out / FOLDER).symlink_to(etc)
    before = _snapshot(etc)
    code, _, err = _run(capsys, _build(small_db, out))
    assert code == 2 and err.startswith("zpb build: ") and "symbolic link" in err and str(etc) in err, err
    assert "Traceback" not in err
    assert _snapshot(etc) == before


@pytest.mark.parametrize("sub", ["en", "notebooks"])
def test_a_language_or_notebooks_folder_linked_to_other_files_is_refused(small_db, tmp_path, capsys, sub):
    """Attack: the English folder or `notebooks/` is a link to a folder of someone's files: refused
    with a message, nothing written there."""
    out, elsewhere = tmp_path / "reports", tmp_path / "documents"
    elsewhere.mkdir()
    (elsewhere / "letter.odt").write_bytes(b"letter")
    (out / FOLDER).mkdir(parents=True)
    (out / FOLDER / sub).symlink_to(elsewhere)
    before = _snapshot(elsewhere)
    code, _, err = _run(capsys, _build(small_db, out, "--lang", "pl,en"))
    assert code == 2 and f"{FOLDER}/{sub}" in err and "symbolic link" in err, err
    assert _snapshot(elsewhere) == before


def test_an_edition_folder_linked_to_a_shared_drive_is_used(small_db, tmp_path, capsys):
    """Not an attack: `reports/2025-2026` linked to an empty folder on a shared drive. The build
    writes there; the next build (the folder now holds its manifest) reuses it."""
    out, share = tmp_path / "reports", tmp_path / "share" / "zpb-2025-2026"
    share.mkdir(parents=True)
    out.mkdir()
    (out / FOLDER).symlink_to(share)
    assert _run(capsys, _build(small_db, out))[0] == 0
    assert (share / f"{STEM}.html").is_file() and (share / "manifest.json").is_file()
    code, printed, _ = _run(capsys, _build(small_db, out))
    assert code == 0 and "pominięto (bez zmian) 1" in printed


def test_a_dangling_edition_link_is_refused(small_db, tmp_path, capsys):
    """Attack: the edition folder links to a path that does not exist (a folder to be created by
    following it, somewhere else): refused with a message, nothing created."""
    out, gone = tmp_path / "reports", tmp_path / "nowhere" / "x"
    out.mkdir()
    (out / FOLDER).symlink_to(gone)
    code, _, err = _run(capsys, _build(small_db, out))
    assert code == 2 and "does not exist" in err and not gone.parent.exists()


# ------------------------------------------------------------------ bad --out: messages, not tracebacks

def _commands(db: Path, tmp_path: Path) -> dict[str, Callable[[Path], list[str]]]:
    """Every command that writes, as a function of the path it is given (a folder for the first three)."""
    rspo, name = _participating_school(db)
    listing = tmp_path / "lista.txt"
    listing.write_text(f"1. {name},\n", encoding="utf-8")
    d = ["--db", str(db)]
    return {
        "build": lambda p: _build(db, p),
        "survey form": lambda p: ["survey", "form", "--group", "students", "--out", str(p)],
        "notebooks copy": lambda p: ["notebooks", "copy", str(p)],
        "export": lambda p: ["export", "--edition", EDITION, "--county", COUNTY, "--out", str(p), *d],
        "template register": lambda p: ["template", "register", "--out", str(p), *d],
        "template audit": lambda p: ["template", "audit", "--institution", str(rspo), "--edition", EDITION,
                                     "--out", str(p), *d],
        "match": lambda p: ["match", str(listing), "--edition", EDITION, "--kind", "certyfikat", "--out", str(p), *d],
        "demo": lambda p: ["demo", "--db", str(p), "--scale", "0.01"],
        "init": lambda p: ["init", "--db", str(p)],
        "db copy": lambda p: ["db", "copy", str(db), str(p)],
    }


FOLDER_COMMANDS = ("build", "survey form", "notebooks copy")


def _assert_message(code: int, err: str, command: str, *words: str) -> None:
    assert code == 2, (command, err)
    assert err.startswith(f"zpb {command}: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    for word in words:
        assert word in err, (word, err)


@pytest.mark.parametrize("command", ["build", "survey form", "notebooks copy", "export", "template register",
                                     "template audit", "match", "demo", "init", "db copy"])
def test_a_path_through_a_file_is_a_message(small_db, tmp_path, capsys, command):
    """Attack: the output path passes through a file (`notatki.txt/out`), or — for a command that
    writes a folder — is a file. One line naming the file in the way, exit 2, the file unchanged,
    nothing else written."""
    work = tmp_path / "work"
    work.mkdir()
    blocker = work / "notatki.txt"
    blocker.write_bytes(b"notes")
    argv = _commands(small_db, tmp_path)[command]
    for path in ([blocker, blocker / "sub"] if command in FOLDER_COMMANDS else [blocker / "out.xlsx"]):
        code, _, err = _run(capsys, argv(path))
        _assert_message(code, err, command, f"{blocker} is a file, not a folder")
    assert blocker.read_bytes() == b"notes" and sorted(work.iterdir()) == [blocker]


@pytest.mark.parametrize("command", ["export", "template register", "template audit", "match", "demo", "db copy"])
def test_a_folder_where_a_file_is_expected_is_a_message(small_db, tmp_path, capsys, command):
    """Attack: the output file named is a folder (with a user's file in it). One line saying it is a
    folder, exit 2; the folder and its file unchanged."""
    folder = tmp_path / "wyniki"
    folder.mkdir()
    (folder / "mine.txt").write_bytes(b"mine")
    code, _, err = _run(capsys, _commands(small_db, tmp_path)[command](folder))
    _assert_message(code, err, command, str(folder), "is a folder")
    assert sorted(p.name for p in folder.iterdir()) == ["mine.txt"]


@pytest.mark.parametrize("command", ["build", "survey form", "notebooks copy", "export", "template register",
                                     "template audit", "match", "demo", "init", "db copy"])
def test_a_read_only_folder_is_a_message(small_db, tmp_path, capsys, readonly, command):
    """Attack: the output goes into a folder nobody may write in (read-only file system as root,
    mode 0555 otherwise), directly and through a missing subfolder that cannot be created. One line
    naming the path and the reason, exit 2, nothing written."""
    ro = readonly(lambda where: (where / "reports").mkdir())
    argv = _commands(small_db, tmp_path)[command]
    name = "reports" if command in FOLDER_COMMANDS else "reports/out.xlsx"
    for path in (ro / name, ro / "new" / name):
        code, _, err = _run(capsys, argv(path))
        _assert_message(code, err, command, str(ro))
        assert ("read-only" in err) if IS_ROOT else ("permission denied" in err), err
    assert sorted(p.name for p in ro.iterdir()) == ["reports"] and list((ro / "reports").iterdir()) == []


def test_the_upgrade_backup_in_a_read_only_folder_is_a_message(tmp_path, capsys, readonly):
    """Attack: `zpb db upgrade` of a database whose folder cannot be written: the backup copy, made
    first, is refused with a message naming it; the database is not touched."""
    def restore(where: Path) -> None:
        con = sqlite3.connect(where / "zpb.sqlite")
        con.executescript(gzip.open(FIXTURE_V3, "rt", encoding="utf-8").read())
        con.close()

    ro = readonly(restore)
    before = (ro / "zpb.sqlite").read_bytes()
    code, _, err = _run(capsys, ["db", "upgrade", "--db", str(ro / "zpb.sqlite")])
    _assert_message(code, err, "db upgrade", str(ro / "zpb.schema-v3-backup-"))
    assert (ro / "zpb.sqlite").read_bytes() == before and sorted(p.name for p in ro.iterdir()) == ["zpb.sqlite"]


# ------------------------------------------------------------------ a full disk

def test_a_full_disk_while_the_cube_is_written_is_a_message(small_db, tmp_path, capsys, small_fs):
    """Attack: the output folder's disk fills up while the cube is written (2 MB; the cube needs
    more). Before: `sqlite3.OperationalError: database or disk is full` and a traceback. Now: one line
    naming the cube and saying the disk is full, exit 2, no temporary file left."""
    fs = small_fs("2m")
    code, _, err = _run(capsys, _build(small_db, fs))
    _assert_message(code, err, "build", f"{fs / FOLDER / 'cube.sqlite'}", "the disk is full")
    assert _temporaries(fs) == [] and not (fs / FOLDER / "cube.sqlite").exists()


def test_a_disk_that_fills_up_during_the_reports_is_reported(small_db, tmp_path, capsys, small_fs):
    """Attack: room for the cube but not for the reports. The report fails with the disk's message
    (not a traceback), the build ends non-zero, and no temporary file is left."""
    from zpb_lib.domain import cube as cube_mod
    from zpb_lib import store

    con = store.connect(small_db, readonly=True)
    try:
        size = cube_mod.build(con, EDITION, tmp_path / "probe.sqlite").stat().st_size
    finally:
        con.close()
    fs = small_fs(f"{size // 1024 + 256}k")  # the cube and the small files, not a 500 kB notebook
    code, printed, err = _run(capsys, _build(small_db, fs))
    assert code in (1, 2) and "Traceback" not in err
    assert "the disk is full" in printed + err, (printed, err)
    assert _temporaries(fs) == []


@pytest.mark.parametrize("command", ["export", "template register", "demo", "db copy"])
def test_a_full_disk_is_a_message_and_leaves_nothing(small_db, tmp_path, capsys, small_fs, command):
    """Attack: a workbook or a new database written to a disk with no byte left. One line saying the
    disk is full, exit 2; no half-written file, no temporary file."""
    fs = small_fs("1m")
    _fill(fs)
    out = fs / ("out.sqlite" if command in ("demo", "db copy") else "out.xlsx")
    # A process of its own: what it prints up to its very end (destructors included) is what a user sees.
    done = subprocess.run([sys.executable, "-m", "zpb_lib.cli", *_commands(small_db, tmp_path)[command](out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    _assert_message(done.returncode, done.stderr, command, str(out), "the disk is full")
    assert "Exception ignored" not in done.stderr
    assert sorted(p.name for p in fs.iterdir()) == ["filler.bin"]


@pytest.mark.parametrize("no, says", [(errno.ENOSPC, "the disk is full"),
                                      (getattr(errno, "EDQUOT", errno.ENOSPC), "quota"),
                                      (errno.EROFS, "read-only"), (errno.EACCES, "permission denied"),
                                      (errno.EIO, "input/output error")])
def test_the_disk_refusing_a_write_midway_is_one_message(tmp_path, no, says):
    """A write the disk refuses halfway (full, over quota — which needs a quota set up to make for
    real —, read-only, denied, failing): an OutputError naming the target, not the temporary file,
    with the reason in plain words; the temporary file is gone and the old file kept."""
    target = tmp_path / "raport.html"
    target.write_bytes(b"old")
    with pytest.raises(files.OutputError) as caught:
        with files.atomic_write(target) as fh:
            fh.write(b"half")
            raise OSError(no, os.strerror(no))
    assert caught.value.errno == no and caught.value.filename == str(target)
    assert str(caught.value).startswith(f"cannot write {target}: ") and says in str(caught.value)
    assert target.read_bytes() == b"old" and sorted(tmp_path.iterdir()) == [target]


def test_sqlite_reporting_a_full_disk_is_a_full_disk(tmp_path):
    """SQLite says "database or disk is full" in its own words (SQLITE_FULL); written through
    atomic_path it is the disk's message about the target."""
    target = tmp_path / "cube.sqlite"
    with pytest.raises(files.OutputError, match="the disk is full"):
        with files.atomic_path(target) as tmp:
            con = sqlite3.connect(tmp)
            try:
                con.execute("PRAGMA max_page_count = 2")  # a database that may not grow: SQLITE_FULL
                con.execute("CREATE TABLE t (x)")
                con.executemany("INSERT INTO t VALUES (?)", [("x" * 1000,)] * 100)
                con.commit()
            finally:
                con.close()
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ names an outsider hands zpb

@pytest.mark.parametrize("name", ["x\x1b[2J\x1b[31mROOT\x1b[0m", "a\nzpb build: all good", "raport\u202eslx.exe",
                                  "ok\rforged"])
def test_control_characters_in_a_path_do_not_reach_the_terminal(small_db, tmp_path, capsys, name):
    """Attack: a file named with terminal escape sequences, a newline forging a second line, a
    bidirectional override or a carriage return, in the path of a refused --out. The message is one
    line with those characters escaped: none reaches the terminal."""
    blocker = tmp_path / name
    blocker.write_bytes(b"x")
    code, _, err = _run(capsys, ["export", "--edition", EDITION, "--out", str(blocker / "out.xlsx"),
                                 "--db", str(small_db)])
    assert code == 2 and err.count("\n") == 1 and err.endswith("\n")
    assert not any(ch in err[:-1] for ch in "\x1b\n\r\u202e"), repr(err)
    assert files.shown(str(blocker)) in err


def test_shown_escapes_undecodable_bytes():
    """A name that is not UTF-8 (bytes from another system) is shown with its bytes escaped."""
    assert files.shown(b"/tmp/raport-\xff\xfe.html") == "/tmp/raport-\\xff\\xfe.html"
    assert files.shown("zwykła ścieżka/raport ż.html") == "zwykła ścieżka/raport ż.html"  # Polish letters stay


@pytest.mark.parametrize("argv", [
    ["template", "audit", "--institution", "../../../evil", "--edition", EDITION],
    ["template", "audit", "--institution", "123456/../../evil", "--edition", EDITION],
    ["build", "--institution", "../../evil", "--edition", EDITION, "--out", "reports"],
    ["build", "--edition", "../../etc", "--out", "reports"],
    ["export", "--edition", EDITION, "--county", "../../evil"],
    ["export", "--edition", "../../etc/passwd"],
])
def test_dot_dot_in_a_name_never_becomes_a_path(small_db, tmp_path, capsys, monkeypatch, argv):
    """Attack: `..` in the values zpb turns into file names (institution, edition, county). Each is
    refused as a value (exit 2, one line) and nothing is written anywhere: not in the working folder,
    not above it."""
    work = tmp_path / "a" / "b" / "c"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    code, _, err = _run(capsys, [*argv, "--db", str(small_db)])
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == ["a", "a/b", "a/b/c"]
