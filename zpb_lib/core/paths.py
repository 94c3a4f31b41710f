"""Where zpb finds its files.

The reference data, the report notebooks and the nbconvert template ship inside the package
(``zpb_lib/data``, ``zpb_lib/notebooks``, ``zpb_lib/templates``) and are found through
:mod:`importlib.resources`, so an installed wheel works from any folder. In the source checkout
``zpb_lib/data`` and ``zpb_lib/notebooks`` are symbolic links to the repository's ``data/`` and
``notebooks/``: one copy, edited where people look for it, packaged from there.

The default database depends on where zpb runs: ``$ZPB_DB`` if set; else, from a source checkout,
the checkout's ``data/zpb.sqlite`` (what ``make reports`` uses); else ``zpb.sqlite`` in the current
folder.
"""
from __future__ import annotations

import importlib.resources
import os
from pathlib import Path

from zpb_lib.core import settings

PACKAGE = "zpb_lib"
DB_NAME = "zpb.sqlite"
#: The ``--db`` help text of every command.
DB_HELP = (f"database file, or a postgresql://user@host/database URL (default: ${settings.DB.name}; "
           f"else data/{DB_NAME} when zpb runs from its source checkout; else {DB_NAME} in the current folder)")


def package_path(*parts: str) -> Path:
    """A folder or file shipped inside the package, as a file-system path (symbolic links resolved).

    zpb reads its data with ordinary file operations, so the package must be installed as files
    (as pip installs every wheel), not imported from a zip archive.
    """
    res = importlib.resources.files(PACKAGE)
    for part in parts:
        res = res / part
    try:
        return Path(os.fspath(res)).resolve()  # type: ignore[arg-type]
    except TypeError:  # pragma: no cover - a zip import: no file-system path
        raise RuntimeError(f"zpb must be installed as files, not imported from an archive ({res})") from None


def source_checkout() -> Path | None:
    """The root of the source checkout zpb runs from (an editable install, or ``python -m`` in the
    checkout), or None for an installed package."""
    root = Path(__file__).resolve().parents[2]  # zpb_lib/core/paths.py
    if (root / "pyproject.toml").is_file() and (root / "data").is_dir() and (root / "notebooks").is_dir():
        return root
    return None


def data_dir() -> Path:
    """The reference-data folder: ``$ZPB_DATA_DIR``, else the data shipped in the package (in a
    source checkout: the repository's ``data/``)."""
    env = settings.data_dir()
    return Path(env) if env else package_path("data")


def notebooks_dir() -> Path:
    """The shipped report notebooks (in a source checkout: the repository's ``notebooks/``)."""
    return package_path("notebooks")


def templates_dir() -> Path:
    """The folder holding the ``zpb`` nbconvert template (for ``extra_template_basedirs``)."""
    return package_path("templates")


def default_db_path() -> Path:
    """``$ZPB_DB``; else the checkout's ``data/zpb.sqlite`` when zpb runs from its source checkout;
    else ``zpb.sqlite`` in the current folder (an absolute path)."""
    env = settings.db()
    if env:
        return Path(env)
    root = source_checkout()
    return root / "data" / DB_NAME if root else Path.cwd() / DB_NAME


def default_reports_dir() -> Path:
    """Where the explorer puts built reports and exports by default: the checkout's ``reports/``,
    else ``reports/`` in the current folder (``zpb build`` writes to ``reports/`` under the current
    folder unless told otherwise)."""
    root = source_checkout()
    return root / "reports" if root else Path.cwd() / "reports"
