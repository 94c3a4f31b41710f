"""What ``zpb serve`` is asked to do, checked before anything listens."""
from __future__ import annotations

import ipaddress
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from zpb_lib.core.errors import ZpbError

AUTH_MODES = ("none", "password", "oidc")
LOOPBACK_NAMES = ("localhost",)


class ServeRefused(ZpbError, ValueError):
    """The server would not be safe (or cannot work) as asked; the message says what to change."""


@dataclass(frozen=True)
class Oidc:
    """An OpenID Connect provider: its issuer (the discovery document is read from
    ``<issuer>/.well-known/openid-configuration``), the client registered there, and the claim that
    names each user's zpb role (``groups`` by default: a list, of which one must be a zpb role)."""
    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    role_claim: str = "groups"
    user_claim: str = "preferred_username"
    scopes: str = "openid profile email"


@dataclass(frozen=True)
class ServeConfig:
    db: "str | Path"
    address: str = "127.0.0.1"
    port: int = 5006
    auth: str = "none"
    users_file: Path | None = None  # --auth password
    oidc: Oidc | None = None  # --auth oidc
    public_url: str | None = None  # the address people open, behind the reverse proxy (https://zpb.example)
    processes: int = 1
    cookie_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    session_hours: float = 8.0  # absolute: a login lasts at most this long
    idle_minutes: float = 30.0  # a session with no action for this long ends
    max_upload_mb: float = 20.0
    secure_cookies: bool = True  # Secure cookies: the app is reached over TLS (not on an analyst's own machine)
    reports: Path | None = None  # the folder `zpb build --out` writes to (None: its default, reports/)

    @property
    def local(self) -> bool:
        return self.auth == "none"


def is_loopback(address: str) -> bool:
    if address in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def check(config: ServeConfig) -> ServeConfig:
    """The configuration as given, or ServeRefused naming what is unsafe or missing."""
    if config.auth not in AUTH_MODES:
        raise ServeRefused(f"--auth {config.auth}: choose one of {', '.join(AUTH_MODES)}")
    if config.local and not is_loopback(config.address):
        raise ServeRefused(f"--address {config.address}: without a login the app listens on this machine only "
                           "(127.0.0.1); for others give --auth password or --auth oidc")
    if config.local and config.processes > 1:
        raise ServeRefused("--processes: the app without a login is one analyst's, in one process")
    if not config.local and not str(config.db).startswith(("postgresql://", "postgres://")):
        raise ServeRefused(f"--auth {config.auth} needs the shared PostgreSQL database (--db postgresql://…): "
                           "a SQLite file has no roles, so it cannot keep one unit from another's rows")
    if config.auth == "password" and config.users_file is None:
        raise ServeRefused("--auth password needs a users file (--users FILE; `zpb users add` makes it)")
    if config.auth == "oidc" and config.oidc is None:
        raise ServeRefused("--auth oidc needs --oidc-issuer, --oidc-client-id and the client's secret "
                           "(--oidc-secret-file FILE or $ZPB_OIDC_SECRET)")
    if not config.local and len(config.cookie_secret) < 32:
        raise ServeRefused("the cookie secret is shorter than 32 characters: give a long random one "
                           "(--cookie-secret-file FILE or $ZPB_COOKIE_SECRET)")
    if not 1 <= config.processes <= (os.cpu_count() or 1) * 4:
        raise ServeRefused(f"--processes {config.processes}: give 1 to {(os.cpu_count() or 1) * 4}")
    if config.max_upload_mb <= 0 or config.session_hours <= 0 or config.idle_minutes <= 0:
        raise ServeRefused("the upload limit and the session times must be above 0")
    return config
