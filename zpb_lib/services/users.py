"""The users file: who may log in to the web app with a password (``zpb serve --auth password``),
for units without an identity provider, and with which zpb role.

A JSON file, ``{"version": 1, "users": {"<login>": {"hash": "$argon2id$…", "role": "<zpb role>",
"name": "<display name>", "added": "<ISO date>"}}}``: an argon2id hash per login, never the password.
It is written atomically (a temporary file renamed into place) and readable by its owner only (mode
0600). ``zpb users`` edits it; :func:`verify` checks a login for the web app, and
:class:`LoginThrottle` slows down whoever guesses passwords.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import errno
import functools
import json
import os
import re
import secrets
import threading
import time
import unicodedata
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from zpb_lib.core import settings
from zpb_lib.core.errors import ZpbError
from zpb_lib.core.files import OutputError, fsync_dir, make_folder, read_regular, shown, temp_name
from zpb_lib.core.paths import source_checkout
from zpb_lib.reference import PoliceUnit, reference
from zpb_lib.store.connection import resolve_db_path
from zpb_lib.store.rights import ANALYST, READER, UNIT_PREFIX, unit_role

if TYPE_CHECKING:  # argon2 is loaded when a password is hashed or checked (the web extra)
    from argon2 import PasswordHasher

VERSION = 1
USERS_NAME = "users.json"
MIN_PASSWORD = 12
MAX_LOGIN = 64
MAX_NAME = 200
_LOGIN = re.compile(rf"[A-Za-z0-9._@-]{{1,{MAX_LOGIN}}}")
_MODE = 0o600
_SWEEP_AT = 10_000  # keys a throttle holds before it forgets the ones whose failures are all old
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


class UsersError(ZpbError, ValueError):
    """A login, role or password that cannot go into the users file, or a login it does not hold."""


class UsersFileError(UsersError):
    """The users file cannot be read as one; the message names the file."""


@dataclass(frozen=True)
class User:
    """One login of the users file, without its hash."""
    login: str
    role: str  # zpb_analyst, zpb_reader or a police unit's role (zpb_unit_kpp_bochnia)
    name: str  # the display name; the login when none was given
    added: str  # ISO date


# ------------------------------------------------------------------ where, and what is accepted

def default_path() -> Path:
    """``$ZPB_USERS``; else ``users.json`` beside the default database file; when the default
    database is a PostgreSQL URL, in the folder a database file would be in (the source checkout's
    ``data/``, else the current folder)."""
    env = settings.users()
    if env:
        return Path(env)
    db = resolve_db_path(None)
    if isinstance(db, Path):
        return db.parent / USERS_NAME
    root = source_checkout()
    return (root / "data" if root else Path.cwd()) / USERS_NAME


def _units() -> dict[str, PoliceUnit]:
    """The police units by their role name (zpb_unit_kpp_bochnia)."""
    return {unit_role(code): unit for code, unit in reference().police_units.items()}


def role_of(text: str) -> str:
    """The zpb role ``text`` names: ``zpb_analyst``, ``zpb_reader``, a police unit's role name or
    its code in any case (``KPP-BOCHNIA``, ``kpp-bochnia`` → ``zpb_unit_kpp_bochnia``)."""
    given = text.strip().lower()
    units = _units()
    if given in (ANALYST, READER) or given in units:
        return given
    by_code = {unit.code.lower(): role for role, unit in units.items()}
    if given in by_code:
        return by_code[given]
    codes = ", ".join(sorted(unit.code for unit in units.values()))
    raise UsersError(f"role {text!r} is not a zpb role: give {ANALYST}, {READER}, or a police unit by its code "
                     f"({codes}) or its role name ({UNIT_PREFIX}<code>, e.g. {unit_role('KPP-BOCHNIA')})")


def unit_of(role: str) -> PoliceUnit | None:
    """The police unit whose role ``role`` is, or None (the analyst's, the reader's)."""
    return _units().get(role)


def check_login(login: str) -> str:
    """A login: ASCII letters and digits and the few marks of user names and e-mail addresses."""
    if not _LOGIN.fullmatch(login):
        raise UsersError(f"login {login!r} is not one zpb accepts: 1 to {MAX_LOGIN} of a–z, A–Z, 0–9, "
                         "„.”, „_”, „-” and „@”")
    return login


def check_name(name: str) -> str:
    """A display name: one line of at most 200 characters (no control characters: a name must not
    forge a line of ``zpb users list`` or of the web app)."""
    if len(name) > MAX_NAME or any(unicodedata.category(ch)[0] == "C" for ch in name):
        raise UsersError(f"name {name!r} is not one zpb accepts: one line of at most {MAX_NAME} characters")
    return name


def check_password(password: str) -> str:
    """A new password: long enough (what it is made of is the person's choice)."""
    if len(password) < MIN_PASSWORD:
        raise UsersError(f"the password is too short: at least {MIN_PASSWORD} characters")
    return password


# ------------------------------------------------------------------ hashing

@functools.cache
def _hasher() -> PasswordHasher:
    try:  # argon2-cffi is the web extra's: listing and removing users work without it
        from argon2 import PasswordHasher
    except ImportError:  # pragma: no cover - an installation without the web extra
        raise UsersError("password logins need argon2-cffi: pip install 'zpb[web]'") from None
    return PasswordHasher()  # argon2id with the library's current parameters


@functools.cache
def _dummy_hash() -> str:
    """A hash nobody knows the password of, made with the same parameters as the real ones: an
    unknown login costs what a known one does."""
    return _hasher().hash(secrets.token_urlsafe(32))


def _matches(hashed: str, password: str) -> bool:
    # the web extra's, like _hasher's
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return _hasher().verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


# ------------------------------------------------------------------ the file

def _load(path: Path) -> dict[str, dict[str, str]]:
    """The users of the file by login; none when it does not exist."""
    try:
        raw = read_regular(path)
    except FileNotFoundError:
        return {}
    where = shown(path)
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsersFileError(f"{where} is not a zpb users file: not valid JSON ({exc})") from None
    if not isinstance(data, dict) or "version" not in data:
        raise UsersFileError(f"{where} is not a zpb users file: no \"version\"")
    if data["version"] != VERSION:
        raise UsersFileError(f"{where} is a users file of version {data['version']!r}; this zpb reads version "
                             f"{VERSION}")
    users = data.get("users")
    if not isinstance(users, dict):
        raise UsersFileError(f"{where} is not a zpb users file: \"users\" is not an object of logins")
    for login, entry in users.items():
        if not (isinstance(entry, dict) and all(isinstance(entry.get(k), str) for k in ("hash", "role", "name", "added"))):
            raise UsersFileError(f"{where}: login {login!r} needs \"hash\", \"role\", \"name\" and \"added\" as texts")
    return users


def _write(path: Path, users: dict[str, dict[str, str]]) -> None:
    """The file with ``users``, atomically, mode 0600 from the first byte on (whatever the umask or
    the mode of the file it replaces): the hashes are no one else's to read or to copy."""
    text = json.dumps({"version": VERSION, "users": dict(sorted(users.items()))}, ensure_ascii=False, indent=2)
    folder = make_folder(path.parent)
    tmp = folder / temp_name(path.name)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC, _MODE)
    except OSError as exc:
        raise OutputError(exc.errno, exc.strerror, os.fspath(path)) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), _MODE)
            fh.write((text + "\n").encode("utf-8"))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)  # a link at ``path`` is replaced, not followed
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and not isinstance(exc, OutputError):
            raise OutputError(exc.errno or errno.EIO, exc.strerror or "failed", os.fspath(path)) from exc
        raise
    fsync_dir(folder)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One change of the file at a time (a ``zpb users`` command, the web app rehashing): each
    reads, changes and writes the whole file, and must not lose another's change. A missing folder
    holds no file to change: nothing to lock."""
    try:
        # fcntl: POSIX only
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no lock
        yield
        return
    try:
        fd = os.open(path.parent, os.O_RDONLY)
    except FileNotFoundError:
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _user(login: str, entry: dict[str, str]) -> User:
    return User(login, entry["role"], entry["name"], entry["added"])


# ------------------------------------------------------------------ what the commands do

def add_user(path: str | os.PathLike[str] | None, login: str, role: str, password: str, name: str | None = None,
             replace: bool = False) -> User:
    """Add ``login`` with ``role`` (see :func:`role_of`) and the hash of ``password``; ``name``: the
    name the web app shows, else the login. With ``replace``, a login already there gets the new
    role and password, and the new name if one is given (else it keeps its own)."""
    path = Path(path) if path else default_path()
    check_login(login)
    role = role_of(role)
    check_password(password)
    name = check_name((name or "").strip())
    hashed = _hasher().hash(password)
    make_folder(path.parent)
    with _locked(path):
        users = _load(path)
        if login in users and not replace:
            raise UsersError(f"login {login} is already in {shown(path)} (added {users[login]['added']}); "
                             "`zpb users add --replace` gives it a new password and role")
        name = name or (users[login]["name"] if login in users else login)
        users[login] = {"hash": hashed, "role": role, "name": name, "added": dt.date.today().isoformat()}
        _write(path, users)
    return _user(login, users[login])


def remove_user(path: str | os.PathLike[str] | None, login: str) -> User:
    """Remove ``login``; returns what it was."""
    path = Path(path) if path else default_path()
    with _locked(path):
        users = _load(path)
        if login not in users:
            raise UsersError(f"no login {login} in {shown(path)}")
        entry = users.pop(login)
        _write(path, users)
    return _user(login, entry)


def list_users(path: str | os.PathLike[str] | None = None) -> list[User]:
    """The logins of the file, in order; none when it does not exist."""
    path = Path(path) if path else default_path()
    return [_user(login, entry) for login, entry in sorted(_load(path).items())]


def verify(path: str | os.PathLike[str] | None, login: str, password: str) -> User | None:
    """The user when ``password`` is ``login``'s, else None. An unknown login is checked against a
    dummy hash, so the time taken does not tell which logins exist. A hash made with weaker
    parameters than the library's current ones is replaced by a new one."""
    path = Path(path) if path else default_path()
    entry = _load(path).get(login)
    if entry is None:
        _matches(_dummy_hash(), password)
        return None
    if not _matches(entry["hash"], password):
        return None
    if _hasher().check_needs_rehash(entry["hash"]):
        _rehash(path, login, entry["hash"], password)
    return _user(login, entry)


def _rehash(path: Path, login: str, old: str, password: str) -> None:
    with _locked(path):
        users = _load(path)
        if login in users and users[login]["hash"] == old:  # not changed meanwhile
            users[login] = {**users[login], "hash": _hasher().hash(password)}
            _write(path, users)


# ------------------------------------------------------------------ guessing

class LoginThrottle:
    """At most ``max_failures`` failed logins per login and per client address within ``window``
    seconds; after that, refusals until the oldest failure leaves the window. ``clock``: seconds
    that only go forward (``time.monotonic``; a test's fake clock)."""

    def __init__(self, max_failures: int = 5, window: float = 900.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if max_failures < 1 or window <= 0:
            raise ValueError("a throttle needs at least one failure and a window of some seconds")
        self.max_failures, self.window, self._clock = max_failures, window, clock
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()  # the web app's sessions may share one throttle

    @staticmethod
    def _keys(login: str, address: str) -> tuple[tuple[str, str], tuple[str, str]]:
        # one count per login whatever its case, and one per address
        return ("login", login.casefold()), ("address", address)

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def allowed(self, login: str, address: str) -> bool:
        """Whether a login attempt may be checked now."""
        with self._lock:
            now = self._clock()
            return all(len(self._recent(key, now)) < self.max_failures for key in self._keys(login, address))

    def failed(self, login: str, address: str) -> None:
        """Count a wrong password (or an unknown login) for the login and for the address."""
        with self._lock:
            now = self._clock()
            if len(self._failures) >= _SWEEP_AT:  # many logins or addresses tried once: keep memory bounded
                for key in list(self._failures):
                    self._recent(key, now)
            for key in self._keys(login, address):
                self._recent(key, now)
                self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, login: str, address: str) -> None:
        """Forget the login's failures. The address's stay: one account's right password must not
        free an address to go on guessing the others'."""
        with self._lock:
            self._failures.pop(self._keys(login, address)[0], None)

    def __repr__(self) -> str:
        return f"LoginThrottle(max_failures={self.max_failures}, window={self.window})"
