"""Shared fixtures: demo databases are generated once per test session and copied when a test
needs to write.

The store's, ingest's, scoring's, database check's, cube's and one build's tests run on both engines:
a module marked ``pytestmark = pytest.mark.both_backends`` gets each of its tests that use
``db_backend`` (``small_db``, ``small_copy`` and ``empty_db`` do) once with a SQLite file and once
with a PostgreSQL database of a server the session starts itself (see ``pg_server.py``)."""
from __future__ import annotations

import itertools
import shutil
import sqlite3
from pathlib import Path
from typing import Callable

import pytest
from support import pg_server

from zpb_lib import store
from zpb_lib.reference import data_dir, reference
from zpb_lib.services import demo

DATA = data_dir()
BACKENDS = ("sqlite", "postgresql")
_names = itertools.count(1)


def pytest_configure(config):
    config.addinivalue_line("markers", "both_backends: the module's database tests run on SQLite and PostgreSQL")
    config.addinivalue_line("markers", "postgresql_only: the test's database is PostgreSQL (e.g. its roles)")


def pytest_generate_tests(metafunc):
    if "db_backend" not in metafunc.fixturenames:
        return
    if metafunc.definition.get_closest_marker("postgresql_only"):
        metafunc.parametrize("db_backend", ["postgresql"], indirect=True, scope="module")
    elif metafunc.definition.get_closest_marker("both_backends"):
        metafunc.parametrize("db_backend", BACKENDS, indirect=True, scope="module")


def pytest_sessionfinish(session, exitstatus):
    from support.browser import close_session_browser  # the browser tests share one Chromium

    close_session_browser()


@pytest.fixture(scope="module")
def db_backend(request) -> str:
    """"sqlite", or "postgresql" in the modules marked ``both_backends`` (their second pass)."""
    return getattr(request, "param", "sqlite")


@pytest.fixture(scope="session")
def pg():
    """The session's PostgreSQL server (started on first use)."""
    bindir = pg_server.find_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL is not installed (Debian: apt-get install postgresql)")
    server = pg_server.Server(bindir).start()
    yield server
    server.stop()


def pg_database(pg, template: str | None = None) -> str:
    """A new database on the session's server (a copy of ``template``), as a URL."""
    return pg.create_database(f"t{next(_names)}", template)


def expected_data_version(db: Path | str) -> str:
    """The data version reports and exports should name: the first 8 characters of the database's
    identity and its change counter, read from its one-row table ``data_version``."""
    if store.is_url(db):
        import psycopg

        with psycopg.connect(str(db)) as con:
            db_id, version = con.execute("SELECT db_id, version FROM data_version").fetchone()
    else:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            db_id, version = con.execute("SELECT db_id, version FROM data_version").fetchone()
        finally:
            con.close()
    return f"{db_id[:8]}-{version}"


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
def small_sqlite(tmp_path_factory) -> Path:
    """A small synthetic database (about 250 institutions): fast, same shape as the default."""
    return demo.generate(tmp_path_factory.mktemp("small") / "small.sqlite", seed=7, scale=0.1)


@pytest.fixture(scope="session")
def small_pg_template(pg) -> str:
    """The same small database on PostgreSQL, kept as a template nobody connects to (a database
    being read cannot be copied)."""
    url = pg.create_database("small_template")
    demo.generate(url, seed=7, scale=0.1)
    return "small_template"


@pytest.fixture(scope="session")
def small_pg(pg, small_pg_template) -> str:
    return pg_database(pg, small_pg_template)


@pytest.fixture(scope="module")
def small_db(request, db_backend) -> Path | str:
    """The small database, read-only: a file, or a PostgreSQL URL in the second pass."""
    return request.getfixturevalue("small_pg" if db_backend == "postgresql" else "small_sqlite")


@pytest.fixture(scope="session")
def default_db(tmp_path_factory) -> Path:
    """The default demo database, as `zpb demo` makes it."""
    return demo.generate(tmp_path_factory.mktemp("default") / "zpb.sqlite")


@pytest.fixture
def copy_small(request, db_backend, tmp_path):
    """Makes private copies of the small database, one a call (file or PostgreSQL database); a
    PostgreSQL copy is dropped after the test."""
    made: list[tuple[pg_server.Server, str]] = []

    def make() -> Path | str:
        if db_backend == "postgresql":
            server = request.getfixturevalue("pg")
            made.append((server, pg_database(server, request.getfixturevalue("small_pg_template"))))
            return made[-1][1]
        dst = tmp_path / f"copy{next(_names)}.sqlite"
        shutil.copy(request.getfixturevalue("small_sqlite"), dst)
        return dst
    yield make
    for server, url in made:
        server.drop_database(url)


@pytest.fixture
def small_copy(copy_small) -> Path | str:
    """A private copy of the small database for tests that write."""
    return copy_small()


@pytest.fixture
def empty_db(request, db_backend, tmp_path):
    """A new database holding only the reference data, open."""
    server = request.getfixturevalue("pg") if db_backend == "postgresql" else None
    target = pg_database(server) if server else tmp_path / "empty.sqlite"
    con = store.create(target)
    yield con
    con.close()
    if server:
        server.drop_database(target)  # the hundreds a session makes would fill the disk


@pytest.fixture
def data_copy(tmp_path) -> Path:
    """A private copy of the reference data folder, for tests that break a file."""
    dst = tmp_path / "data"
    shutil.copytree(DATA, dst, ignore=shutil.ignore_patterns("*.sqlite*"))
    return dst


# The logins of the rights tests: a coordinator of KPP Bochnia (county 1201), one of KMP Tarnów
# (counties 1216 and 1263), an analyst and a reader.
LOGINS = {"ala": "zpb_unit_kpp_bochnia", "tom": "zpb_unit_kmp_tarnow", "olek": "zpb_analyst", "rita": "zpb_reader"}


@pytest.fixture
def rights(pg, small_copy):
    """A shared database with `zpb db roles` run, and one login per role (see LOGINS); "admin" is
    the database's owner (the server's superuser)."""
    from zpb_lib.cli import main

    assert main(["db", "roles", "--db", small_copy]) == 0
    for user, role in LOGINS.items():
        pg.admin(f"DROP ROLE IF EXISTS {user}")
        pg.admin(f"CREATE ROLE {user} LOGIN IN ROLE {role}")
    name = small_copy.rsplit("/", 1)[1]
    return {u: pg.url(name, user=u) for u in LOGINS} | {"admin": small_copy}


@pytest.fixture
def con(small_copy):
    """A connection to a private copy of the small database (closed after the test)."""
    c = store.connect(small_copy)
    yield c
    c.close()


# --------------------------------------------------------------------------- the web app's team tests (tests/web/)

WEB_LOGIN = "web_app"


@pytest.fixture(scope="module")
def team_db(pg, small_pg_template):
    """(the owner's URL, the app login's URL) of a fresh shared database: a copy of the small demo
    database with `zpb db roles --web-login web_app` run, so that the app's own login holds no rights
    of its own and acts only in its users' roles."""
    owner = pg_database(pg, small_pg_template)
    return owner, web_login(pg, owner)


def web_login(pg, owner: str) -> str:
    """The URL the web app connects with to the database ``owner``, after `zpb db roles --web-login`."""
    from zpb_lib.cli import main

    pg.admin(f"DROP ROLE IF EXISTS {WEB_LOGIN}")
    pg.admin(f"CREATE ROLE {WEB_LOGIN} LOGIN")
    assert main(["db", "roles", "--db", owner, "--web-login", WEB_LOGIN]) == 0
    return pg.url(owner.rsplit("/", 1)[1], user=WEB_LOGIN)


@pytest.fixture(scope="session")
def users(tmp_path_factory):
    """The users file of the team tests' logins (support.web.PASSWORDS); no test changes it."""
    from support.web import add_users

    return add_users(tmp_path_factory.mktemp("users") / "users.json")


@pytest.fixture(scope="session")
def local_db(small_sqlite, tmp_path_factory) -> Path:
    """The analyst's own database behind :func:`local_app`: a copy of the small one. Tests that store
    through the app pick a school nobody else writes to and count relative to what was there."""
    db = tmp_path_factory.mktemp("web-local") / "zpb.sqlite"
    shutil.copy(small_sqlite, db)
    return db


@pytest.fixture(scope="session")
def local_app(local_db, tmp_path_factory):
    """`zpb serve` without a login on :func:`local_db` (the analyst's own app), for the session."""
    from support.web import zpb_serve

    with zpb_serve(["--db", str(local_db)], tmp_path_factory.mktemp("serve-local")) as url:
        yield url


# --------------------------------------------------------------------------- the report tests (tests/report/)

@pytest.fixture(scope="session")
def reference_pdfs(small_sqlite, tmp_path_factory) -> Callable[[str], dict[str, Path]]:
    """engine → {name: PDF} of the school, county and voivodeship reports (tests/pdf_references.py),
    HTML beside each, built the first time an engine is asked for. test_pdf_look.py and
    test_pdf_structure.py only read them: one build per engine serves both (a build takes about as
    long as every test of both modules together)."""
    from pdf_references import build_pdfs
    from support.browser import require_chromium

    built: dict[str, dict[str, Path]] = {}

    def get(engine: str) -> dict[str, Path]:
        if engine not in built:
            if engine == "chromium":
                require_chromium()
            built[engine] = build_pdfs(small_sqlite, tmp_path_factory.mktemp(f"pdf-{engine}"), engine,
                                       formats="html,pdf")
        return built[engine]

    return get
