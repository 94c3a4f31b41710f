"""The ``zpb serve`` process: Panel's app on Bokeh's Tornado server, with the session login,
XSRF-checked forms, signed Bokeh sessions, the security headers, and every script, style and font
served by the app itself."""
from __future__ import annotations

import functools
import logging
from typing import Any
from urllib.parse import urlsplit

import panel as pn
from bokeh.settings import settings as bokeh_settings

from zpb_lib import store
from zpb_lib.store.rights import ANALYST, READER
from zpb_lib.web import pages, report_files
from zpb_lib.web.auth import LOGIN, LOGOUT, PasswordLogin, SessionAuth
from zpb_lib.web.config import ServeConfig, check
from zpb_lib.web.guard import SecurityHeaders

log = logging.getLogger(__name__)


def auth_provider(config: ServeConfig) -> SessionAuth | None:
    if config.local:
        return None
    if config.auth == "password":
        from zpb_lib.services.users import LoginThrottle, verify  # the password mode's own dependency (argon2)

        handler = type("Login", (PasswordLogin,), {
            "verify": staticmethod(functools.partial(verify, config.users_file)), "throttle": LoginThrottle()})
        return SessionAuth(config, handler)
    from zpb_lib.web.oidc import OidcLogin  # httpx and authlib only for an OpenID Connect login

    return SessionAuth(config, OidcLogin.for_config(config))


def server_options(config: ServeConfig) -> dict[str, Any]:
    """The keyword arguments of :func:`panel.serve` for ``config``."""
    origins = [f"{'localhost' if config.address in ('127.0.0.1', '::1') else config.address}:{config.port}",
               f"{config.address}:{config.port}"]
    if config.public_url:
        origins.append(urlsplit(config.public_url).netloc)
    options: dict[str, Any] = dict(
        port=config.port, address=config.address, websocket_origin=origins, show=False, start=True,
        title="ZPB", num_procs=config.processes, transforms=[SecurityHeaders],
        websocket_max_message_size=int((config.max_upload_mb + 2) * 1024 * 1024),
        # a page's websocket session is signed with the server's secret: no forged session ids or tokens
        sign_sessions=True, secret_key=config.cookie_secret.encode(), generate_session_ids=True,
        xsrf_cookies=True, use_xheaders=config.public_url is not None,
        cookie_secret=config.cookie_secret, check_unused_sessions=10_000,
        # a page whose websocket comes late (a busy server) keeps its session rather than being built twice
        unused_session_lifetime=300_000,
    )
    options["extra_patterns"] = [report_files.handler(config)]
    provider = auth_provider(config)
    if provider is not None:
        options["auth_provider"] = provider
    return options


def check_database(config: ServeConfig) -> None:
    """Refuse to start on a database the app cannot use (missing, of another schema version, or —
    for a team — one whose roles the app's login cannot take): a StoreError that says what to do."""
    with store.acting_as(ANALYST if config.local else READER, "zpb serve"):
        store.connect(config.db, readonly=True).close()


def resume_builds(config: ServeConfig) -> None:
    """Start the builds that waited while no server ran (once, before any process is forked)."""
    from zpb_lib.services import jobs  # the build's machinery: only once the server starts

    try:
        started = jobs.resume(config.reports)
    except (OSError, ValueError) as exc:  # a reports folder it cannot use: its builds say so when asked
        log.warning("the queued report builds of %s were not resumed: %s", config.reports, exc)
        return
    for job in started:
        log.info("report build %s of %s resumed", job.id, job.edition)


def serve(config: ServeConfig) -> None:
    """Serve until interrupted."""
    check(config)
    check_database(config)
    bokeh_settings.resources.set_value("server")  # scripts from this server, never a CDN
    pn.config.inline = False
    # the drop zone's scripts with every page: its tab is made after the page has loaded
    pn.extension("filedropper", design="native", notifications=False, sizing_mode="stretch_width")

    resume_builds(config)

    def app() -> pn.viewable.Viewable:  # Panel calls a function per session (a partial it would show as text)
        return pages.build(config)

    pn.serve({"/": app}, **server_options(config))


__all__ = ["serve", "server_options", "LOGIN", "LOGOUT"]
