"""Report notebooks are committed clean and expose their parameters to papermill."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))


def test_there_are_report_notebooks():
    names = {p.name for p in NOTEBOOKS}
    assert {"county_report.ipynb", "school_report.ipynb", "voivodeship_report.ipynb"} <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name} has outputs"


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if p.name.endswith("_report.ipynb")], ids=lambda p: p.name)
def test_parameters_cell_and_help(path):
    nb = nbformat.read(path, as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1
    out = subprocess.run([sys.executable, "-m", "papermill", "--help-notebook", str(path)],
                         capture_output=True, text=True, check=True).stdout
    for name in ("edition", "lang", "cube", "db"):
        assert f"  {name}: str" in out, out
    # Every parameter has a help comment.
    for line in tagged[0].source.splitlines():
        if "=" in line and not line.startswith("#"):
            assert "#" in line.split("=", 1)[1], line
    # The notebook stays thin: no code cell has more than a few lines.
    for cell in nb.cells:
        if cell.cell_type == "code" and cell is not tagged[0]:
            assert len(cell.source.splitlines()) <= 4, cell.source
