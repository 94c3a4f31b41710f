"""Where the report template lives: shared by the export (in the workers) and the index page (in the
build process), without importing nbconvert into the latter. Files are written with
:mod:`zpb_lib.core.files`."""
from __future__ import annotations

from zpb_lib.core.paths import templates_dir

TEMPLATE_BASEDIR = templates_dir()
TEMPLATE_NAME = "zpb"
