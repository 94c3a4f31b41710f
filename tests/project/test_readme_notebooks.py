"""The README's papermill command lines work as written (the virtual environment's papermill, the
project's own kernel), and a report notebook run without the parameter it needs names it."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"


def readme_notebook_commands() -> list[str]:
    """The command lines of the README's „Single notebooks” code block, verbatim."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("**Single notebooks.**", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    return [line for line in block.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def project_like(small_db, tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A folder laid out like the project (its notebooks/ and .venv/, linked) where the commands can
    write out.ipynb, and an environment whose $ZPB_DB is a copy of the small demo database."""
    where = tmp_path_factory.mktemp("readme")
    (where / "notebooks").symlink_to(NOTEBOOKS)
    (where / ".venv").symlink_to(Path(sys.executable).parent.parent)  # the environment running the tests
    db = where / "data" / "zpb.sqlite"
    db.parent.mkdir()
    shutil.copy(small_db, db)
    env = dict(os.environ, ZPB_DB=str(db))
    return where, env


def test_readme_uses_the_environment_papermill():
    commands = readme_notebook_commands()
    assert any("county_report.ipynb out.ipynb -p county 1201 -p edition 2025/2026" in c for c in commands)
    for command in commands:
        assert command.startswith(".venv/bin/papermill "), command  # not whatever papermill is on PATH


def test_report_notebooks_run_on_the_project_kernel():
    """The Makefile installs the kernel „zpb” into .venv; every notebook asks for it (not "python3",
    which a papermill outside the environment would map to another Python without zpb_lib)."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"ipykernel install --sys-prefix --name zpb\b", makefile)
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        assert nbformat.read(path, as_version=4).metadata["kernelspec"]["name"] == "zpb", path.name
    from jupyter_client.kernelspec import KernelSpecManager

    spec = KernelSpecManager().get_kernel_spec("zpb")  # installed here as `make` does
    assert Path(spec.argv[0]).parent == Path(sys.executable).parent


@pytest.mark.parametrize("command", readme_notebook_commands())
def test_readme_command_runs_as_written(project_like, command):
    where, env = project_like
    (where / "out.ipynb").unlink(missing_ok=True)
    done = subprocess.run(command, shell=True, cwd=where, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    if "--help-notebook" in command:
        assert "institution: str" in done.stdout and "edition: str" in done.stdout
        return
    nb = nbformat.read(where / "out.ipynb", as_version=4)
    assert nb.metadata["kernelspec"]["name"] == "zpb"
    shown = json.dumps([c.outputs for c in nb.cells if c.cell_type == "code"], ensure_ascii=False)
    assert "2025/2026" in shown  # -p edition 2025/2026, or the latest edition when none is given
    if "county_report" in command:
        assert "Raport powiatowy: powiat bocheński" in shown


def test_county_notebook_without_county_names_the_parameter(project_like):
    where, env = project_like
    done = subprocess.run([str(where / ".venv/bin/papermill"), "notebooks/county_report.ipynb", "bez-powiatu.ipynb",
                           "-p", "edition", "2025-2026", "--no-progress-bar"],
                          cwd=where, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode != 0
    # The edition spelled with a dash was understood; the message says what to pass.
    assert "Nie podano powiatu" in done.stderr and "-p county 1201" in done.stderr, done.stderr[-2000:]
    assert "unknown edition" not in done.stderr
