"""Headless Chromium for the browser tests: Debian's ``chromium`` driven by Playwright with
``executable_path`` (no browser download), every request leaving ``file://``/``data:`` recorded and
aborted before it is sent.

Outside CI a missing Chromium skips the browser tests with a loud reason; under CI (``CI`` set) it
fails them, so that a missing install step cannot hide behind a skip.
"""
from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator

import pytest

from zpb_lib.batch.pdf.chromium import FLAGS, chromium_executable

CHROMIUM_FLAGS = FLAGS  # the PDF engine's: headless, no sandbox, nothing that calls home
ARTIFACTS = Path(os.environ.get("ZPB_TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts"))


def require_chromium() -> str:
    path = chromium_executable(shell=False)  # the browser: tests use its screen
    if path is None:
        message = ("CHROMIUM NOT FOUND: browser tests need Debian's `chromium` package "
                   "(apt-get install chromium; .ci/run installs it)")
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    try:
        import playwright  # noqa: F401
    except ImportError:
        message = "PLAYWRIGHT NOT INSTALLED: pip install playwright (make test installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


# The session's Playwright and Chromium, started on first use. Playwright's sync API marks its event
# loop as the thread's running loop between its calls, and asyncio.run() refuses to start under such
# a mark: so the mark is set only while a test holds the browser (_lent) and cleared after, as it was
# when each test stopped a Playwright of its own.
_playwright: Any = None
_chromium: Any = None
_loop: asyncio.AbstractEventLoop | None = None
_lenders = 0


@contextlib.contextmanager
def _lent() -> Iterator[Any]:
    """The session's Playwright for the block (nested blocks share it)."""
    global _playwright, _loop, _lenders
    if _playwright is None:
        from playwright.sync_api import sync_playwright

        _playwright = sync_playwright().start()
        _loop = asyncio.get_running_loop()
    elif _lenders == 0:
        asyncio._set_running_loop(_loop)
    _lenders += 1
    try:
        yield _playwright
    finally:
        _lenders -= 1
        if _lenders == 0:
            asyncio._set_running_loop(None)


def _session_chromium() -> Any:
    """The session's Chromium, launched again if a test crashed it."""
    global _chromium
    if _chromium is None or not _chromium.is_connected():
        _chromium = _playwright.chromium.launch(executable_path=require_chromium(), headless=True,
                                                args=CHROMIUM_FLAGS)
    return _chromium


def close_session_browser() -> None:
    """Closes the session's Chromium and stops its Playwright (the suite's last step)."""
    global _playwright, _chromium
    if _playwright is None:
        return
    with _lent():
        if _chromium is not None and _chromium.is_connected():
            _chromium.close()
        _playwright.stop()  # clears the loop's running mark on its way out
    _playwright = _chromium = None


@contextlib.contextmanager
def browser() -> Iterator[object]:
    """A Playwright Chromium context of its own profile (sync API): a browser process of its own,
    started by the session's Playwright."""
    path = require_chromium()
    with tempfile.TemporaryDirectory(prefix="zpb-chromium-") as profile, _lent() as p:
        # A persistent context gives an empty profile folder of our own.
        ctx = p.chromium.launch_persistent_context(profile, executable_path=path, headless=True,
                                                   args=CHROMIUM_FLAGS)
        try:
            yield ctx
        finally:
            ctx.close()


class Guard:
    """Routes every request of a page: ``file://`` and ``data:`` go through (and, when given,
    ``allow`` prefixes such as a local JupyterLab); anything else is recorded and aborted."""

    def __init__(self, allow: tuple[str, ...] = ()):
        self.allow = ("file://", "data:", *allow)
        self.blocked: list[str] = []

    def __call__(self, route) -> None:
        url = route.request.url
        if url.startswith(self.allow):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()

    def attach(self, target) -> "Guard":
        target.route("**/*", self)
        return self


def artifact(name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / name


@contextlib.contextmanager
def chromium_browser() -> Iterator[object]:
    """The session's Chromium (a Playwright ``Browser``, Debian's Chromium with the flags above) for
    the block: a test opens the contexts it needs — say one with the pages' Content-Security-Policy
    in force and one with ``new_context(bypass_csp=True)`` so that a checker script (axe-core) can be
    injected — and every context opened in the block is closed at its end. One browser serves the
    whole session: launching one per test cost about a second each."""
    require_chromium()
    with _lent():
        b = _session_chromium()
        before = set(b.contexts)
        try:
            yield b
        finally:
            for ctx in b.contexts if b.is_connected() else ():  # a crashed browser took them along
                if ctx not in before:
                    ctx.close()


def file_url(path: str | os.PathLike[str]) -> str:
    return Path(path).resolve().as_uri()


class PageLog:
    """A page opened by :func:`open_page` with what it did: console errors and uncaught exceptions
    (``errors``), every request it made (``requests``; the ``guard`` aborted those that were not
    ``file://`` or ``data:``) and every dialog (alert, confirm, prompt) it opened (``dialogs``;
    dismissed)."""

    def __init__(self, page: object, guard: Guard):
        self.page = page
        self.guard = guard
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.dialogs: list[str] = []

    def external_requests(self) -> list[str]:
        return [u for u in self.requests if not u.startswith(("file://", "data:"))] + self.guard.blocked


def open_page(ctx, target: str | os.PathLike[str], *, viewport: dict | None = None,
              init_script: str | None = None) -> PageLog:
    """A new page of ``ctx`` that loads ``target`` (a path or a URL), with the guard and the
    listeners attached before anything loads."""
    page = ctx.new_page()
    log = PageLog(page, Guard().attach(page))

    def on_console(msg) -> None:
        if msg.type == "error":
            log.errors.append(f"console error: {msg.text}")

    def on_dialog(dialog) -> None:
        log.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("console", on_console)
    page.on("pageerror", lambda exc: log.errors.append(f"page error: {exc}"))
    page.on("request", lambda request: log.requests.append(request.url))
    page.on("dialog", on_dialog)
    if init_script:
        page.add_init_script(init_script)
    if viewport:
        page.set_viewport_size(viewport)
    url = str(target)
    page.goto(url if "://" in url else file_url(url), wait_until="load")
    return log
