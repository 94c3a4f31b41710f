"""Every ``ZPB_*`` environment variable zpb reads, named once with its default and what it changes.

The accessors read the environment each time they are called, never at import: a test, a notebook
or a worker's parent may set a variable at any moment before the call. The input limits' variables,
``ZPB_MAX_<KIND>_<FIELD>``, are made from the limits themselves (:func:`zpb_lib.core.limits.limit_settings`);
:func:`registry` lists them with the others. The table in docs/commands.md („Environment variables”)
shows the same names, defaults and meanings (tests/core/test_settings.py holds the two together).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping

from zpb_lib.core.errors import ZpbError


class SettingError(ZpbError, ValueError):
    """An environment variable holds a value zpb cannot use; the message names the variable."""


@dataclass(frozen=True)
class Setting:
    """One environment variable: its name, its default as people read it, and what it changes."""
    name: str
    default: str
    meaning: str

    def text(self, environ: Mapping[str, str] | None = None) -> str:
        """The value as set, unchanged; ``""`` when the variable is not set."""
        return (os.environ if environ is None else environ).get(self.name, "")

    def seconds(self, default: float, *, environ: Mapping[str, str] | None = None,
                error: type[Exception] = SettingError) -> float:
        """A number of seconds, 0 or more; ``default`` when unset or blank. ``error``: the kind of
        error the caller's users know a refusal by (the database's timeouts: a StoreError)."""
        value = self.text(environ).strip()
        if not value:
            return default
        try:
            seconds = float(value)
        except ValueError:
            raise error(f"${self.name} is {value!r}: give a number of seconds, e.g. 30") from None
        if seconds < 0:
            raise error(f"${self.name} is {value!r}: give a number of seconds, 0 or more")
        return seconds

    def whole_number(self, default: int, *, environ: Mapping[str, str] | None = None,
                     error: type[Exception] = SettingError) -> int:
        """A whole number of at least 1 (``200000`` or ``200_000``); ``default`` when unset or blank."""
        raw = self.text(environ)
        if not raw.strip():
            return default
        text = raw.strip().replace("_", "")
        if not text.isdigit() or int(text) < 1:
            raise error(f"${self.name} is {raw!r}: expected a whole number of at least 1 (default {default})")
        return int(text)


DB = Setting(
    "ZPB_DB", "`data/zpb.sqlite` when zpb runs from its source checkout, else `zpb.sqlite` in the current folder",
    "the database (file or `postgresql://` URL) of every command and notebook without `--db` / `-p db`")
DATA_DIR = Setting(
    "ZPB_DATA_DIR", "the data shipped with zpb",
    "a folder of reference data to use instead of the data shipped with zpb")
PDF_ENGINE = Setting(
    "ZPB_PDF_ENGINE", "weasyprint",
    "what prints the PDFs when `zpb build` has no `--pdf-engine`: `weasyprint` or `chromium`")
CHROMIUM = Setting(
    "ZPB_CHROMIUM", "`chromium-headless-shell`, `chromium` or `chromium-browser` on the PATH",
    "the Chromium the `chromium` PDF engine prints with (an executable file)")
LOCK_TIMEOUT = Setting(
    "ZPB_LOCK_TIMEOUT", "30; 60 for `zpb db copy` and `zpb db upgrade`",
    "seconds a command waits for a lock another session holds before it ends with „the database is busy” "
    "and who holds it")
STATEMENT_TIMEOUT = Setting(
    "ZPB_STATEMENT_TIMEOUT", "900; none for `zpb db copy` and `zpb db upgrade`",
    "seconds one statement may run on PostgreSQL (0: no limit)")
USERS = Setting(
    "ZPB_USERS", "`users.json` beside the default database (`data/` of the source checkout or the current folder "
    "when `ZPB_DB` is a URL)",
    "the users file of the password logins (`zpb serve --auth password`) that `zpb users` edits")
COOKIE_SECRET = Setting(
    "ZPB_COOKIE_SECRET", "a random one per start (logins end with the process)",
    "`zpb serve`: the secret that signs sessions, 32 characters or more, the same for every process "
    "(`--cookie-secret-file` instead)")
OIDC_SECRET = Setting(
    "ZPB_OIDC_SECRET", "unset",
    "`zpb serve --auth oidc`: the client secret registered at the provider (`--oidc-secret-file` instead)")
SMTP_HOST = Setting(
    "ZPB_SMTP_HOST", "unset",
    "`zpb deliver --send`: the SMTP server that sends the reports to the schools (its host name)")
SMTP_PORT = Setting(
    "ZPB_SMTP_PORT", "587; 465 with `ZPB_SMTP_TLS=ssl`, 25 with `ZPB_SMTP_TLS=none`",
    "the SMTP server's port")
SMTP_TLS = Setting(
    "ZPB_SMTP_TLS", "starttls",
    "how the connection to the SMTP server is encrypted: `starttls`, `ssl` (TLS from the start) or `none` "
    "(unencrypted: a password then goes only to a server on this machine)")
SMTP_USER = Setting(
    "ZPB_SMTP_USER", "unset (no login)",
    "the login at the SMTP server")
SMTP_PASSWORD = Setting(
    "ZPB_SMTP_PASSWORD", "unset",
    "the password of `ZPB_SMTP_USER`")
SMTP_FROM = Setting(
    "ZPB_SMTP_FROM", "`ZPB_SMTP_USER` when it is an e-mail address",
    "the sender's address of the messages with the reports, e.g. `zpb@bochnia.policja.gov.pl`")
TEST_PAUSE_DIR = Setting(
    "ZPB_TEST_PAUSE_DIR", "unset",
    "tests only: the folder where a build that reaches a phase of `ZPB_TEST_PAUSE_AT` writes "
    "`<phase>.reached` and waits for `<phase>.go`")
TEST_PAUSE_AT = Setting(
    "ZPB_TEST_PAUSE_AT", "unset",
    "tests only: the phases a build pauses at, comma-separated, e.g. `cube,journal-3` "
    "(`zpb_lib/core/hooks.py`)")

#: The settings named here; the input limits' come from zpb_lib.core.limits (see :func:`registry`).
NAMED: tuple[Setting, ...] = (DB, DATA_DIR, PDF_ENGINE, CHROMIUM, LOCK_TIMEOUT, STATEMENT_TIMEOUT, USERS,
                              COOKIE_SECRET, OIDC_SECRET, SMTP_HOST, SMTP_PORT, SMTP_TLS, SMTP_USER, SMTP_PASSWORD,
                              SMTP_FROM, TEST_PAUSE_DIR, TEST_PAUSE_AT)


def registry() -> tuple[Setting, ...]:
    """Every setting zpb reads: the ones named here, then each ``ZPB_MAX_<KIND>_<FIELD>``."""
    from zpb_lib.core.limits import limit_settings  # limits reads its variables through this module

    return NAMED + limit_settings()


# ------------------------------------------------------------------ typed accessors

def db() -> str | None:
    """``$ZPB_DB`` (a file or a ``postgresql://`` URL), or None when unset or empty."""
    return DB.text() or None


def data_dir() -> str | None:
    """``$ZPB_DATA_DIR``, or None when unset or empty."""
    return DATA_DIR.text() or None


def pdf_engine() -> str:
    """``$ZPB_PDF_ENGINE`` in lower case, else ``weasyprint``; whether the engine is known is checked
    where it is used (zpb_lib.batch.pdf), with the message that names the engines."""
    return PDF_ENGINE.text().strip().lower() or PDF_ENGINE.default


def chromium() -> str | None:
    """``$ZPB_CHROMIUM``, or None when unset or empty (then zpb looks for one on the PATH)."""
    return CHROMIUM.text() or None


def lock_timeout(default: float, *, error: type[Exception] = SettingError) -> float:
    """``$ZPB_LOCK_TIMEOUT`` in seconds; ``default`` (which depends on the command) when unset."""
    return LOCK_TIMEOUT.seconds(default, error=error)


def statement_timeout(default: float, *, error: type[Exception] = SettingError) -> float:
    """``$ZPB_STATEMENT_TIMEOUT`` in seconds; ``default`` (which depends on the command) when unset."""
    return STATEMENT_TIMEOUT.seconds(default, error=error)


def users() -> str | None:
    """``$ZPB_USERS`` (the users file), or None when unset or empty."""
    return USERS.text() or None


def secret(setting: Setting) -> str | None:
    """A secret's value (:data:`COOKIE_SECRET`, :data:`OIDC_SECRET`, :data:`SMTP_PASSWORD`), or None
    when unset or empty."""
    return setting.text().strip() or None


def pause_dir() -> str | None:
    """``$ZPB_TEST_PAUSE_DIR``, or None: no test asked this process to pause."""
    return TEST_PAUSE_DIR.text() or None


def pause_phases() -> list[str]:
    """The phases of ``$ZPB_TEST_PAUSE_AT`` (``[""]`` when unset: no phase matches)."""
    return TEST_PAUSE_AT.text().split(",")
