"""Who is logged in: one signed session cookie, whatever the login was.

Three ways in (``zpb serve --auth``): ``none`` — the analyst on their own machine, nobody logs in;
``password`` — a users file with argon2 hashes (:mod:`zpb_lib.services.users`); ``oidc`` — an OpenID
Connect provider (:mod:`.oidc`). Each ends in the same cookie ``zpb_session``: signed with the
server's secret, HttpOnly, SameSite=Lax, Secure behind TLS, holding the login, the zpb role, the
time of the login (absolute expiry) and of the last page load (idle expiry; the open page checks
idleness itself, see :mod:`.pages`). The role is only what the user asks to act as: PostgreSQL
decides what it may do.
"""
from __future__ import annotations

import asyncio
import getpass
import json
import time
from dataclasses import dataclass
from html import escape
from typing import Any, Callable
from urllib.parse import urlsplit

from bokeh.server.auth_provider import AuthProvider
from tornado.web import RequestHandler, decode_signed_value
from tornado.websocket import WebSocketHandler

from zpb_lib.store.rights import ANALYST, READER, UNIT_PREFIX
from zpb_lib.web.config import ServeConfig
from zpb_lib.web.journal import note_login, typed_login
from zpb_lib.web.texts import LANGS, t

COOKIE = "zpb_session"
LOGIN, LOGOUT = "/login", "/logout"


@dataclass(frozen=True)
class Identity:
    """A logged-in person: their login, the zpb role they act in (None: none — no access), their
    name for the page, and when they logged in and last loaded a page (seconds since the epoch)."""
    login: str
    role: str | None
    name: str = ""
    issued: float = 0.0
    seen: float = 0.0
    problem: str = ""  # why there is no role, for the "no access" page (e.g. several roles)

    def payload(self) -> str:
        return json.dumps({"u": self.login, "r": self.role, "n": self.name, "i": self.issued, "s": self.seen,
                           "p": self.problem})

    @classmethod
    def from_payload(cls, text: bytes | str) -> "Identity | None":
        try:
            d = json.loads(text)
            return cls(str(d["u"]), d.get("r"), str(d.get("n", "")), float(d["i"]), float(d["s"]), str(d.get("p", "")))
        except (ValueError, KeyError, TypeError):
            return None


def is_zpb_role(role: str) -> bool:
    return role in (ANALYST, READER) or (role.startswith(UNIT_PREFIX) and len(role) > len(UNIT_PREFIX))


def role_from_claim(value: Any) -> tuple[str | None, str]:
    """The one zpb role among a claim's values (a list, or one string), and why there is none."""
    values = [value] if isinstance(value, str) else list(value or [])
    # Keycloak names groups by path ("/zpb/zpb_unit_kpp_bochnia"): the last part is the role
    roles = sorted({name for name in (str(v).rsplit("/", 1)[-1] for v in values) if is_zpb_role(name)})
    if len(roles) == 1:
        return roles[0], ""
    return None, ("several:" + ", ".join(roles)) if roles else ""


def local_identity() -> Identity:
    """The analyst on their own machine (``--auth none``)."""
    try:
        login = getpass.getuser()
    except (KeyError, OSError):
        login = "analyst"
    now = time.time()
    return Identity(login, ANALYST, login, now, now)


def read_identity(raw: str | None, config: ServeConfig, now: float | None = None) -> Identity | None:
    """The identity a session cookie's value holds, or None: missing, forged, or expired."""
    if not raw:
        return None
    value = decode_signed_value(config.cookie_secret, COOKIE, raw, max_age_days=config.session_hours / 24 + 1)
    ident = Identity.from_payload(value) if value else None
    now = time.time() if now is None else now
    if ident is None or now - ident.issued > config.session_hours * 3600 or now - ident.seen > config.idle_minutes * 60:
        return None
    return ident


def lang_of(handler: RequestHandler) -> str:
    lang = handler.get_argument("lang", "") or handler.get_cookie("zpb_lang", "pl")
    return lang if lang in LANGS else "pl"


def safe_next(url: str | None) -> str:
    """Where to go after logging in: a path of this app only (never another site)."""
    if not url:
        return "/"
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not url.startswith("/") or url.startswith("//") or "\\" in url:
        return "/"
    return url


class SessionHandler(RequestHandler):
    """What the login and logout pages share: the config, the cookie, the page around a form."""
    config: ServeConfig  # set on the subclass made for each server

    def set_identity(self, ident: Identity | None) -> None:
        if ident is None:
            self.clear_cookie(COOKIE, path="/")
            return
        self.set_signed_cookie(COOKIE, ident.payload(), expires_days=None, httponly=True, path="/",
                               secure=self.config.secure_cookies, samesite="Lax")

    def page(self, title: str, body: str, lang: str, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Cache-Control", "no-store")
        self.write(PAGE.format(lang=lang, title=escape(title), body=body, app=escape(t("title", lang))))


class PasswordLogin(SessionHandler):
    """``--auth password``: the login form and its check against the users file's hashes, with a
    limit on failed attempts per login and per address."""
    verify: Callable[[str, str], Any]  # (login, password) → a user with .login, .role, .name, or None
    throttle: Any  # zpb_lib.services.users.LoginThrottle

    def get(self) -> None:
        self.form(lang_of(self))

    def form(self, lang: str, error: str = "", status: int = 200) -> None:
        nxt = escape(safe_next(self.get_argument("next", "/")))
        message = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
        body = (f'<h1>{escape(t("login_title", lang))}</h1>{message}'
                f'<form method="post" action="{LOGIN}">{self.xsrf_form_html()}'
                f'<input type="hidden" name="next" value="{nxt}"><input type="hidden" name="lang" value="{lang}">'
                f'<label for="login">{escape(t("login", lang))}</label>'
                f'<input id="login" name="login" autocomplete="username" required autofocus>'
                f'<label for="password">{escape(t("password", lang))}</label>'
                f'<input id="password" name="password" type="password" autocomplete="current-password" required>'
                f'<button type="submit">{escape(t("log_in", lang))}</button></form>')
        self.page(t("login_title", lang), body, lang, status)

    async def post(self) -> None:  # tornado checks the XSRF token before this runs (xsrf_cookies)
        lang = lang_of(self)
        login = self.get_argument("login", "").strip()
        password = self.get_argument("password", "")
        address = self.request.remote_ip or "?"
        if not self.throttle.allowed(login, address):
            return self.form(lang, t("throttled", lang), 429)
        # argon2 takes a fifth of a second of CPU and releases the GIL: off the event loop, so that the
        # other sessions go on and two logins use both cores
        user = await asyncio.to_thread(self.verify, login, password) if login and password else None
        if user is None:
            self.throttle.failed(login, address)
            # nobody is logged in: the reader's role, which may add a row and read none
            await note_login(self.config, "login_failed", typed_login(login), READER, address, "password")
            return self.form(lang, t("bad_login", lang), 401)
        self.throttle.succeeded(login, address)
        now = time.time()
        self.set_identity(Identity(user.login, user.role, user.name or user.login, now, now))
        await note_login(self.config, "login", user.login, user.role, address, "password")
        self.redirect(safe_next(self.get_argument("next", "/")))


class Logout(SessionHandler):
    async def get(self) -> None:
        lang = lang_of(self)
        ident = read_identity(self.get_cookie(COOKIE), self.config)
        self.set_identity(None)
        if ident is not None and ident.role is not None:
            await note_login(self.config, "logout", ident.login, ident.role, self.request.remote_ip or "?")
        key = "expired" if self.get_argument("expired", "") else "logged_out"
        self.page(t(key, lang), f'<h1>{escape(t(key, lang))}</h1><p><a href="{LOGIN}?lang={lang}">'
                                f'{escape(t("log_in_again", lang))}</a></p>', lang)


class SessionAuth(AuthProvider):
    """Bokeh's hook: a page or its websocket is served only with a valid session cookie; a page load
    renews the cookie's last-seen time."""

    def __init__(self, config: ServeConfig, login_handler: type[RequestHandler]):
        self.config = config
        self._login = type(login_handler.__name__, (login_handler,), {"config": config})
        self._logout = type("Logout", (Logout,), {"config": config})
        super().__init__()

    @property
    def get_user(self) -> Callable[[RequestHandler], str | None]:
        def get_user(handler: RequestHandler) -> str | None:
            ident = read_identity(handler.get_cookie(COOKIE), self.config)
            if ident is None:
                return None
            if not isinstance(handler, WebSocketHandler):
                renewed = Identity(ident.login, ident.role, ident.name, ident.issued, time.time(), ident.problem)
                handler.set_signed_cookie(COOKIE, renewed.payload(), expires_days=None, httponly=True, path="/",
                                          secure=self.config.secure_cookies, samesite="Lax")
            return ident.login
        return get_user

    @property
    def login_url(self) -> str:
        return LOGIN

    @property
    def login_handler(self) -> type[RequestHandler]:
        return self._login

    @property
    def logout_url(self) -> str:
        return LOGOUT

    @property
    def logout_handler(self) -> type[RequestHandler]:
        return self._logout


PAGE = """<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} — {app}</title>
<style>
body {{ font-family: "DejaVu Sans", Arial, sans-serif; background: #f4f6f8; color: #1a1a1a; margin: 0; }}
header {{ background: #0b3d6b; color: #fff; padding: .8rem 1.5rem; font-size: 1.1rem; }}
main {{ max-width: 26rem; margin: 3rem auto; background: #fff; padding: 1.5rem 2rem; border-radius: 6px;
        box-shadow: 0 1px 4px rgba(0,0,0,.15); }}
h1 {{ font-size: 1.4rem; margin-top: 0; }}
label {{ display: block; margin: .8rem 0 .3rem; font-weight: bold; }}
input {{ width: 100%; box-sizing: border-box; padding: .5rem; font-size: 1rem; border: 1px solid #555; border-radius: 4px; }}
button, .button {{ margin-top: 1.2rem; padding: .6rem 1.2rem; font-size: 1rem; background: #0b3d6b; color: #fff;
          border: 0; border-radius: 4px; cursor: pointer; text-decoration: none; display: inline-block; }}
button:focus, input:focus, a:focus {{ outline: 3px solid #f0a500; outline-offset: 2px; }}
.error {{ color: #a00000; font-weight: bold; }}
a {{ color: #0b3d6b; }}
</style></head>
<body><header>{app}</header><main>{body}</main></body></html>
"""
