"""Which engine prints the PDFs: WeasyPrint (the default) or a headless Chromium (`chromium`).

Light on purpose: ``zpb build`` checks the choice before anything heavy is imported.
"""
from __future__ import annotations

from zpb_lib.core import settings

#: The PDF engines: WeasyPrint (the default, pip only) and a headless Chromium (faster, needs one).
PDF_ENGINES = ("weasyprint", "chromium")


def default_pdf_engine() -> str:
    """``$ZPB_PDF_ENGINE`` when set (weasyprint or chromium), else weasyprint."""
    return settings.pdf_engine()


def known_pdf_engine(engine: str) -> str:
    """``engine`` if it is one of PDF_ENGINES; else a ValueError naming them."""
    if engine not in PDF_ENGINES:
        raise ValueError(f"unknown PDF engine {engine!r} ({', '.join(PDF_ENGINES)})")
    return engine


def check_pdf_engine(engine: str) -> str:
    """``engine`` if it is known and can run here; else a ValueError that says what is missing."""
    if known_pdf_engine(engine) == "chromium":
        from zpb_lib.batch.chromium import unavailable_reason

        reason = unavailable_reason()
        if reason:
            raise ValueError(reason)
    return engine
