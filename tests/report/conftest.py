"""What the report tests share: the three reference reports built once a session per PDF engine."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

from pdf_references import build_pdfs
from support.browser import require_chromium


@pytest.fixture(scope="session")
def reference_pdfs(small_sqlite, tmp_path_factory) -> Callable[[str], dict[str, Path]]:
    """engine → {name: PDF} of the school, county and voivodeship reports (tests/pdf_references.py),
    HTML beside each, built the first time an engine is asked for. test_pdf_look.py and
    test_pdf_structure.py only read them: one build per engine serves both (a build takes about as
    long as every test of both modules together)."""
    built: dict[str, dict[str, Path]] = {}

    def get(engine: str) -> dict[str, Path]:
        if engine not in built:
            if engine == "chromium":
                require_chromium()
            built[engine] = build_pdfs(small_sqlite, tmp_path_factory.mktemp(f"pdf-{engine}"), engine,
                                       formats="html,pdf")
        return built[engine]

    return get
