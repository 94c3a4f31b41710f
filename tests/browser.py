"""Headless Chromium for the browser tests: Debian's ``chromium`` driven by Playwright with
``executable_path`` (no browser download), every request leaving ``file://``/``data:`` recorded and
aborted before it is sent.

Outside CI a missing Chromium skips the browser tests with a loud reason; under CI (``CI`` set) it
fails them, so that a missing install step cannot hide behind a skip.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

import pytest

CHROMIUM_FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-default-apps", "--disable-extensions"]
ARTIFACTS = Path(os.environ.get("ZPB_TEST_ARTIFACTS", Path(__file__).resolve().parents[1] / "test-artifacts"))


def chromium_path() -> str | None:
    for candidate in (os.environ.get("ZPB_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"),
                      shutil.which("chromium-browser")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def require_chromium() -> str:
    path = chromium_path()
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


@contextlib.contextmanager
def browser() -> Iterator[object]:
    """A Playwright Chromium browser (sync API)."""
    from playwright.sync_api import sync_playwright

    path = require_chromium()
    with tempfile.TemporaryDirectory(prefix="zpb-chromium-") as profile:
        with sync_playwright() as p:
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
