"""Shared fixtures: demo databases are generated once per test session and copied when a test
needs to write."""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from zpb_lib import demo, store
from zpb_lib.reference import data_dir, reference

DATA = data_dir()


def expected_data_version(db_path: Path | str) -> str:
    """The data version reports and exports should name: SHA-256 of the database file, then of its
    WAL (empty when absent), each followed by a zero byte; 16 hex digits."""
    h = hashlib.sha256()
    for suffix in ("", "-wal"):
        p = Path(f"{db_path}{suffix}")
        h.update((p.read_bytes() if p.exists() else b"") + b"\x00")
    return h.hexdigest()[:16]


@pytest.fixture(scope="session")
def data_version():
    return expected_data_version


def _content_hash(db_path: Path | str) -> str:
    con = store.connect(db_path, readonly=True)
    try:
        return store.content_hash(con)
    finally:
        con.close()


@pytest.fixture(scope="session")
def content_hash():
    """The row-content hash of the database at a path (equal hashes: equal data)."""
    return _content_hash


@pytest.fixture(scope="session")
def ref():
    return reference()


@pytest.fixture(scope="session")
def small_db(tmp_path_factory) -> Path:
    """A small synthetic database (about 250 institutions): fast, same shape as the default."""
    return demo.generate(tmp_path_factory.mktemp("small") / "small.sqlite", seed=7, scale=0.1)


@pytest.fixture(scope="session")
def default_db(tmp_path_factory) -> Path:
    """The default demo database, as `zpb demo` makes it."""
    return demo.generate(tmp_path_factory.mktemp("default") / "zpb.sqlite")


@pytest.fixture
def small_copy(small_db, tmp_path) -> Path:
    """A private copy of the small database for tests that write."""
    dst = tmp_path / "copy.sqlite"
    con = store.connect(small_db, readonly=True)
    try:
        con.execute("PRAGMA wal_checkpoint")  # harmless on read-only; the file is complete anyway
    except Exception:
        pass
    con.close()
    shutil.copy(small_db, dst)
    return dst


@pytest.fixture
def data_copy(tmp_path) -> Path:
    """A private copy of the reference data folder, for tests that break a file."""
    dst = tmp_path / "data"
    shutil.copytree(DATA, dst, ignore=shutil.ignore_patterns("*.sqlite*"))
    return dst
