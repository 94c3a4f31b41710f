"""Shared fixtures: demo databases are generated once per test session and copied when a test
needs to write."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from zpb_lib import demo, store
from zpb_lib.reference import data_dir, reference

DATA = data_dir()


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
