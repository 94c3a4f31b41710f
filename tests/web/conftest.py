"""The shared database the web app's team tests serve: a copy of the small demo database on the
suite's PostgreSQL server, with `zpb db roles --web-login web_app` run, so that the app's own login
``web_app`` holds no rights of its own and acts only in its users' roles."""
from __future__ import annotations

import uuid

import pytest

from support.web import add_users
from zpb_lib.cli import main

WEB_LOGIN = "web_app"


@pytest.fixture(scope="module")
def team_db(pg, small_pg_template):
    """(the owner's URL, the app login's URL) of a fresh shared database."""
    owner = pg.create_database(f"web_{uuid.uuid4().hex[:12]}", small_pg_template)
    pg.admin(f"DROP ROLE IF EXISTS {WEB_LOGIN}")
    pg.admin(f"CREATE ROLE {WEB_LOGIN} LOGIN")
    assert main(["db", "roles", "--db", owner, "--web-login", WEB_LOGIN]) == 0
    return owner, pg.url(owner.rsplit("/", 1)[1], user=WEB_LOGIN)


@pytest.fixture(scope="module")
def users(tmp_path_factory):
    """The users file of the team tests' logins (support.web.PASSWORDS)."""
    return add_users(tmp_path_factory.mktemp("users") / "users.json")
