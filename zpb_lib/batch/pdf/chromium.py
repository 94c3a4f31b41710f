"""The report PDF printed by a headless Chromium: the optional fast engine (``--pdf-engine chromium``).

WeasyPrint, the default, needs nothing but pip; Chromium's layout engine prints the same page for
about a sixth of WeasyPrint's CPU (all its processes counted; a quarter with the full browser), so
a build that can use a browser is worth offering one. It is driven by Playwright with ``executable_path`` (the system's Chromium; Playwright's own browser
download is never needed), one browser per worker process, kept open for the worker's life.

What Chromium's print lacks of the page's paged-media rules is supplied per page: it draws the page
margin boxes but not ``string()``, so the running title, the banner's short text and the page
labels become literal strings (:func:`margin_css`).

Its PDFs are tagged from the page's accessibility tree: structure, the language, the title shown by
viewers, headings, tables with header cells, each chart a Figure with its alt text
(:func:`print_ready`). Chromium leaves the page's decoration (margin boxes, borders, backgrounds)
outside marked content instead of marking it as artifacts, and names no standard: WeasyPrint's PDFs
are the ones written as PDF/A-3a and PDF/UA-1.

Playwright's sync API belongs to the thread that started it, and a build calls from whichever
thread runs the report (a Dask worker's task thread, a JupyterLab server's export thread), so the
browser lives in a thread of its own and :meth:`ChromiumPrinter.pdf_bytes` hands it the page.
"""
from __future__ import annotations

import atexit
import os
import queue
import re
import shutil
import threading
from concurrent.futures import Future
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from zpb_lib.core import settings
from zpb_lib.core.errors import ZpbError

#: Headless, no sandbox (builds run as root in containers), nothing that calls home.
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions"]
#: The page labels of the footer, as report.css sets them for WeasyPrint (``zpb-page-word``).
PAGE_WORDS = {"pl": ("strona", "z"), "en": ("page", "of")}
START_TIMEOUT_S = 60.0
#: Playwright's PDF options: tagged (structure, language, title shown, figures' alt texts), with an
#: outline of the headings.
CHROMIUM_PDF: dict[str, Any] = {"tagged": True, "outline": True}


class PdfEngineError(ZpbError, RuntimeError):
    """The PDF engine cannot run here (not installed, or the browser does not start)."""


def chromium_executable(*, shell: bool = True) -> str | None:
    """The Chromium to print with: ``$ZPB_CHROMIUM`` when set (nothing else then), else, on the
    PATH, Chromium's headless shell (Debian's ``chromium-headless-shell``: the same Blink without a
    browser around it, which prints a report for three quarters of the CPU) when ``shell``, then the
    browser, ``chromium`` or ``chromium-browser`` (Debian's and Ubuntu's package names)."""
    chosen = settings.chromium()
    names = (["chromium-headless-shell"] if shell else []) + ["chromium", "chromium-browser"]
    candidates = [chosen] if chosen else [*map(shutil.which, names), "/usr/bin/chromium"]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def unavailable_reason() -> str | None:
    """Why the chromium PDF engine cannot run here, or None when it can."""
    try:
        # playwright: optional (the chromium extra); looked for only with --pdf-engine chromium
        import playwright  # noqa: F401
    except ImportError:
        return "the chromium PDF engine needs Playwright: pip install 'zpb[chromium]'"
    if chromium_executable() is None:
        if settings.chromium():
            return f"{settings.CHROMIUM.name}={settings.chromium()} is not an executable file"
        return ("the chromium PDF engine needs a Chromium: install your system's package (Debian: apt-get "
                f"install chromium-headless-shell, or chromium) or set {settings.CHROMIUM.name} to its path")
    return None


# --- the page's running strings ---------------------------------------------------------------

class _Running(HTMLParser):
    """The texts report.css hands to the margin boxes with ``string-set``: ``texts["title"]`` (the
    running title), ``texts["banner"]`` (the first banner's ``data-short``, else its text) and the
    page language."""

    _CLASSES = {"zpb-running-title": "title", "zpb-banner": "banner"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lang = "pl"
        self.texts: dict[str, str] = {}
        self._inside: str | None = None  # the text being read, and how deep in its element
        self._parts: list[str] = []
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "html" and a.get("lang"):
            self.lang = a["lang"] or "pl"
        if self._inside is not None:
            self._depth += 1
            return
        for cls in (a.get("class") or "").split():
            key = self._CLASSES.get(cls)
            if key and key not in self.texts:
                if key == "banner" and a.get("data-short") is not None:
                    self.texts[key] = a["data-short"] or ""
                else:
                    self._inside, self._parts, self._depth = key, [], 1
                return

    def handle_endtag(self, tag: str) -> None:
        if self._inside is not None:
            self._depth -= 1
            if self._depth == 0:
                self.texts[self._inside] = " ".join("".join(self._parts).split())
                self._inside = None

    def handle_data(self, data: str) -> None:
        if self._inside is not None:
            self._parts.append(data)


def _css_string(text: str) -> str:
    return '"' + "".join(c if c not in '"\\\n\r\f' else f"\\{ord(c):x} " for c in text) + '"'


def margin_css(html: str) -> str:
    """The ``@page`` rule that gives Chromium the margin boxes' texts, which it cannot take from
    ``string()``: the same title, banner and "strona N z M" WeasyPrint prints."""
    p = _Running()
    p.feed(html[: html.find("</body>")] if "</body>" in html else html)
    page, of = PAGE_WORDS.get(p.lang.split("-")[0], PAGE_WORDS["pl"])
    title, banner = p.texts.get("title", ""), p.texts.get("banner", "")
    return ("@page {"
            f" @top-left {{ content: {_css_string(title)}; }}"
            f" @top-right {{ content: {_css_string(banner)}; }}"
            f" @bottom-right {{ content: {_css_string(page + ' ')} counter(page) {_css_string(' ' + of + ' ')}"
            " counter(pages); } }")


# The screen's whole image of a chart that paper shows in parts (charts.print_parts): hidden in
# print, but Chromium would still decode and lay out its SVG (a tenth of a school report's print).
_WHOLE = re.compile(r'<img class="zpb-figure__whole"[^>]*>')
# Chromium tags its PDF from the accessibility tree: a chart's parts, aria-hidden on the page, are
# the chart on paper, and a <figure> becomes a Figure of its own without a description around the
# image's Figure, which has one. So the parts are shown to it, and the figure is only a box.
_FIGURE = '<figure class="zpb-figure'


def print_ready(html: str) -> str:
    """The page as Chromium prints it: with :func:`margin_css` last in its head, without what print
    never shows, and with each chart one Figure of the tagged PDF, described by its alt text."""
    from zpb_lib.report.html import PARTS_CLASS  # not at import: the engine check stays light

    rule = f"<style>{margin_css(html)}</style>"
    html = _WHOLE.sub("", html).replace(_FIGURE, '<figure role="none" class="zpb-figure')
    html = html.replace(f'<span class="{PARTS_CLASS}" aria-hidden="true">', f'<span class="{PARTS_CLASS}">')
    head_end = html.find("</head>")
    return html[:head_end] + rule + html[head_end:] if head_end >= 0 else rule + html


# --- the browser ------------------------------------------------------------------------------

class ChromiumPrinter:
    """One headless Chromium, in a thread of its own, printing report pages to A4 PDFs."""

    def __init__(self, executable: str | None = None) -> None:
        reason = None if executable else unavailable_reason()
        if reason:
            raise PdfEngineError(reason)
        self.pdf_options: dict[str, Any] = dict(CHROMIUM_PDF)
        self.executable = executable or chromium_executable()
        self._jobs: queue.Queue[tuple[str, Future[bytes]] | None] = queue.Queue()
        self._started: Future[None] = Future()
        self._thread = threading.Thread(target=self._serve, name="zpb-chromium", daemon=True)
        self._thread.start()
        atexit.register(self.close)  # a browser is never left behind by an interpreter that forgot it
        try:
            self._started.result(timeout=START_TIMEOUT_S)
        except Exception as exc:
            self.close()
            raise PdfEngineError(f"Chromium ({self.executable}) did not start: {exc}") from exc

    def pdf_bytes(self, html: str) -> bytes:
        """The A4 PDF of a report page. Nothing is fetched: scripts are off and the browser is
        offline, and the page was checked to be self-contained before."""
        if not self._thread.is_alive():
            raise PdfEngineError("the Chromium printer is closed")
        done: Future[bytes] = Future()
        self._jobs.put((html, done))
        while True:
            try:
                return done.result(timeout=1.0)
            except TimeoutError:
                if not self._thread.is_alive():
                    raise PdfEngineError("the Chromium printer stopped") from None

    def close(self) -> None:
        """Close the browser and end its thread (waits for a page being printed)."""
        if self._thread.is_alive():
            self._jobs.put(None)
            self._thread.join(timeout=30)

    # The browser's thread: everything Playwright below runs here.
    def _serve(self) -> None:
        try:
            # playwright: optional extra, started only to print
            from playwright.sync_api import sync_playwright

            with sync_playwright() as pw:
                browser, page = self._launch(pw)
                self._started.set_result(None)
                while (job := self._jobs.get()) is not None:
                    html, done = job
                    if not done.set_running_or_notify_cancel():
                        continue
                    try:
                        try:
                            done.set_result(self._print(page, html))
                        except Exception:
                            # A crashed tab or a browser gone (killed, crashed): a new one, this page again.
                            if browser.is_connected():
                                page.context.close()
                                page = self._new_page(browser)
                            else:
                                browser, page = self._launch(pw)
                            done.set_result(self._print(page, html))
                    except BaseException as exc:  # noqa: BLE001 - handed to the caller
                        done.set_exception(exc)
                browser.close()
        except BaseException as exc:  # noqa: BLE001
            if not self._started.done():
                self._started.set_exception(exc)
        finally:
            while True:  # nobody will print what is still queued
                try:
                    job = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if job is not None:
                    job[1].set_exception(PdfEngineError("the Chromium printer closed"))

    def _launch(self, pw: Any) -> tuple[Any, Any]:
        browser = pw.chromium.launch(executable_path=self.executable, headless=True, args=FLAGS)
        return browser, self._new_page(browser)

    @staticmethod
    def _new_page(browser: Any) -> Any:
        context = browser.new_context(java_script_enabled=False, offline=True)
        context.route("**/*", lambda route: route.abort())  # data: URLs never reach a route
        page = context.new_page()
        # Laid out for print from the start: the screen layout set_content would make first costs a
        # fifth of each page's print.
        page.emulate_media(media="print")
        return page

    def _print(self, page: Any, html: str) -> bytes:
        page.set_content(print_ready(html), wait_until="load")
        return page.pdf(prefer_css_page_size=True, print_background=True, **self.pdf_options)


# --- the engine -------------------------------------------------------------------------------

class ChromiumEngine:
    """The ``chromium`` PDF engine (:class:`zpb_lib.batch.pdf.PdfEngine`): one browser per worker,
    started by :meth:`start` or the first report, kept until :meth:`close`."""

    name = "chromium"

    def __init__(self) -> None:
        self.pdf_options: dict[str, Any] = dict(CHROMIUM_PDF)
        self._printer: ChromiumPrinter | None = None

    def check(self) -> str | None:
        return unavailable_reason()

    def start(self) -> None:
        """Start the browser (raises `PdfEngineError` when it cannot start)."""
        if self._printer is None:
            self._printer = ChromiumPrinter()

    def pdf_bytes(self, html: str, base_url: str | None = None) -> bytes:
        """The page printed by the browser; ``base_url`` is not needed: the page refers to nothing."""
        self.start()
        assert self._printer is not None
        self._printer.pdf_options = self.pdf_options
        return self._printer.pdf_bytes(html)

    def close(self) -> None:
        """Close the browser, if one was started (idempotent)."""
        printer, self._printer = self._printer, None
        if printer is not None:
            printer.close()
