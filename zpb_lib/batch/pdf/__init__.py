"""The engines that print a report page to PDF, by name: WeasyPrint (``weasyprint``, the default)
and a headless Chromium (``chromium``).

An engine is chosen where a build or an export starts (``zpb build --pdf-engine``, ``$ZPB_PDF_ENGINE``)
and travels as its name; :func:`get` turns the name into the engine, which the exporter keeps for the
life of its worker. Light on purpose: ``zpb build`` checks the choice before anything heavy is
imported (each engine imports its library only when it first prints).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from zpb_lib.core import settings
from zpb_lib.batch.pdf.chromium import ChromiumEngine, PdfEngineError
from zpb_lib.batch.pdf.weasyprint import WeasyPrintEngine

__all__ = ["DEFAULT", "PDF_ENGINES", "PdfEngine", "PdfEngineError", "checked", "engines", "from_environment", "get"]


@runtime_checkable
class PdfEngine(Protocol):
    """What the export asks of a PDF engine. One per worker: it keeps what it can reuse from one
    report to the next (parsed stylesheets, a browser)."""

    name: str
    #: Keywords of the engine's print call (its tagging): what zpb prints with; a benchmark varies them.
    pdf_options: dict[str, Any]

    def check(self) -> str | None:
        """Why the engine cannot run here (one line that says what to install), or None when it can."""

    def start(self) -> None:
        """Get ready ahead of the first report (imports, a browser); raises `PdfEngineError` when the
        engine cannot start."""

    def pdf_bytes(self, html: str, base_url: str | None = None) -> bytes:
        """The A4 PDF of a self-contained report page; nothing outside the page is fetched."""

    def close(self) -> None:
        """Release what `start` took (idempotent)."""


_ENGINES: dict[str, Callable[[], PdfEngine]] = {"weasyprint": WeasyPrintEngine, "chromium": ChromiumEngine}

#: The engine of a build that names none: WeasyPrint needs nothing but pip.
DEFAULT = "weasyprint"
#: The engines' names, the default first (``zpb build --pdf-engine`` offers them).
PDF_ENGINES: tuple[str, ...] = tuple(_ENGINES)


def engines() -> tuple[str, ...]:
    """The names of the PDF engines, the default first."""
    return PDF_ENGINES


def get(name: str) -> PdfEngine:
    """A new engine of that name (nothing started yet); a ValueError naming the engines for another."""
    factory = _ENGINES.get(name)
    if factory is None:
        raise ValueError(f"unknown PDF engine {name!r} ({', '.join(PDF_ENGINES)})")
    return factory()


def checked(name: str) -> str:
    """``name`` if it is an engine that can run here; else a ValueError that says what is missing."""
    reason = get(name).check()
    if reason:
        raise ValueError(reason)
    return name


def from_environment() -> str:
    """``$ZPB_PDF_ENGINE`` when set (not yet checked: :func:`get` refuses an unknown name), else the default."""
    return settings.pdf_engine()
