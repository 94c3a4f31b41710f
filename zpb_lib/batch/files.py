"""Where the report template lives: shared by the export (in the workers) and the index page (in the
build process), without importing nbconvert into the latter. Files are written with
:mod:`zpb_lib.files` (``atomic_writer`` stays here as its older name)."""
from __future__ import annotations

from ..files import atomic_write as atomic_writer  # noqa: F401  (re-exported under its older name)
from ..paths import templates_dir

TEMPLATE_BASEDIR = templates_dir()
TEMPLATE_NAME = "zpb"
