"""`zpb notebooks copy DIR`: editable copies of the report notebooks for `zpb build --notebooks DIR`;
a copy the analyst changed is never overwritten without --force."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest

from zpb_lib.batch.notebooks import COPIED, RECORD, copy_notebooks
from zpb_lib.batch.plan import NOTEBOOKS, notebooks_dir
from zpb_lib.cli import main

SHIPPED = notebooks_dir()


def _copy(capsys, folder: Path, *extra: str) -> tuple[int, str, str]:
    code = main(["notebooks", "copy", str(folder), *extra])
    out = capsys.readouterr()
    return code, out.out, out.err


def _edit(path: Path) -> bytes:
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell("Komentarz koordynatora powiatu."))
    nbformat.write(nb, path)
    return path.read_bytes()


def test_fresh_copy(capsys, tmp_path):
    folder = tmp_path / "moje" / "raporty"  # created, parents too
    code, out, err = _copy(capsys, folder)
    assert code == 0, err
    assert set(NOTEBOOKS.values()) <= set(COPIED) and "explore.ipynb" in COPIED
    for name in COPIED:
        assert (folder / name).read_bytes() == (SHIPPED / name).read_bytes()
        assert f"{folder / name}: copied" in out
    assert f"zpb build --notebooks {folder}" in out
    record = json.loads((folder / RECORD).read_text(encoding="utf-8"))
    assert set(record["notebooks"]) == set(COPIED)


def test_unchanged_copy_is_up_to_date(capsys, tmp_path):
    folder = tmp_path / "nb"
    assert _copy(capsys, folder)[0] == 0
    code, out, err = _copy(capsys, folder)
    assert code == 0 and not err
    for name in COPIED:
        assert f"{folder / name}: up to date" in out


def test_unedited_copy_of_another_version_is_refreshed(capsys, tmp_path):
    """After an upgrade of zpb the copies nobody edited follow the shipped notebooks."""
    older = tmp_path / "older-zpb"
    shutil.copytree(SHIPPED, older)
    _edit(older / "county_report.ipynb")  # what an older zpb shipped
    folder = tmp_path / "nb"
    result = copy_notebooks(folder, source=older)
    assert result.ok and sorted(result.copied) == sorted(COPIED)
    assert (folder / "county_report.ipynb").read_bytes() == (older / "county_report.ipynb").read_bytes()
    code, out, err = _copy(capsys, folder)
    assert code == 0, err
    assert f"{folder / 'county_report.ipynb'}: refreshed" in out
    assert (folder / "county_report.ipynb").read_bytes() == (SHIPPED / "county_report.ipynb").read_bytes()


def test_changed_copy_is_refused_and_named(capsys, tmp_path):
    folder = tmp_path / "nb"
    assert _copy(capsys, folder)[0] == 0
    mine = _edit(folder / "county_report.ipynb")
    (folder / "school_report.ipynb").unlink()  # a deleted copy comes back
    code, out, err = _copy(capsys, folder)
    assert code == 1
    assert str(folder / "county_report.ipynb") in err and "--force" in err
    assert "school_report.ipynb" not in err and "voivodeship_report.ipynb" not in err
    assert (folder / "county_report.ipynb").read_bytes() == mine  # left as it was
    assert f"{folder / 'school_report.ipynb'}: copied" in out
    assert f"{folder / 'voivodeship_report.ipynb'}: up to date" in out
    # still refused the next time: the record does not forget what was copied
    code, out, err = _copy(capsys, folder)
    assert code == 1 and str(folder / "county_report.ipynb") in err
    assert (folder / "county_report.ipynb").read_bytes() == mine


def test_force_overwrites_a_changed_copy(capsys, tmp_path):
    folder = tmp_path / "nb"
    assert _copy(capsys, folder)[0] == 0
    _edit(folder / "school_report.ipynb")
    code, out, err = _copy(capsys, folder, "--force")
    assert code == 0, err
    assert f"{folder / 'school_report.ipynb'}: overwritten (--force)" in out
    for name in COPIED:
        assert (folder / name).read_bytes() == (SHIPPED / name).read_bytes()


def test_a_file_in_the_way(capsys, tmp_path):
    target = tmp_path / "plik"
    target.write_text("nie folder")
    code, _, err = _copy(capsys, target)
    assert code == 2 and "not a folder" in err


@pytest.mark.parametrize("name", sorted(NOTEBOOKS.values()))
def test_copies_are_what_the_build_runs(tmp_path, name):
    """`zpb build --notebooks DIR` finds the copies under the names it runs."""
    from zpb_lib.batch.plan import Job

    copy_notebooks(tmp_path)
    kind = next(k for k, v in NOTEBOOKS.items() if v == name)
    job = Job(kind, "x", "2025/2026", "pl", "t", None, None, None, "s", {}, str(tmp_path))
    assert job.notebook == tmp_path / name and job.notebook.is_file()
