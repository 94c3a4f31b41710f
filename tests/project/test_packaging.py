"""zpb as a package: the wheel (and the sdist) carry the reference data, the notebooks, the template and
the kernel; an installed zpb works from any folder; `zpb --version`; the default database and data
folder."""
from __future__ import annotations

import email
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

import pytest

from zpb_lib.core import paths
from zpb_lib.cli import main
from zpb_lib.domain.cube import CUBE_VERSION, reference_hash
from zpb_lib.reference import data_dir, reference
from zpb_lib.store import SCHEMA_VERSION

ROOT = Path(__file__).resolve().parents[2]
REPORT_NOTEBOOKS = {"county_report.ipynb", "school_report.ipynb", "voivodeship_report.ipynb", "explore.ipynb"}
# What a developer's checkout holds besides its files: none of it may reach a package.
JUNK = ("data/zpb.sqlite", "data/zpb.sqlite-wal", "data/zpb.sqlite-shm", "data/zpb.schema-v2-backup-20260101-000000.sqlite",
        "data/.zpb-cache/cube-2025-2026.sqlite", "data/.zpb-tmp-x1y2", "notebooks/.ipynb_checkpoints/county_report-checkpoint.ipynb",
        "zpb_lib/__pycache__/junk.cpython-311.pyc", "data/sub/mine.sqlite")


# --------------------------------------------------------------------------- the checkout's layout

def test_one_copy_of_data_and_notebooks():
    """The package's data and notebooks are links to the repository's data/ and notebooks/."""
    for name in ("data", "notebooks"):
        link = ROOT / "zpb_lib" / name
        assert link.is_symlink() and os.readlink(link) == f"../{name}", name
    assert data_dir() == (ROOT / "data").resolve()
    assert paths.notebooks_dir() == (ROOT / "notebooks").resolve()
    assert paths.templates_dir() == (ROOT / "zpb_lib" / "templates").resolve()
    assert paths.source_checkout() == ROOT


def test_default_database(monkeypatch, tmp_path):
    monkeypatch.delenv("ZPB_DB", raising=False)
    assert paths.default_db_path() == ROOT / "data" / "zpb.sqlite"  # a source checkout: as `make reports` uses
    monkeypatch.setenv("ZPB_DB", str(tmp_path / "x.sqlite"))
    assert paths.default_db_path() == tmp_path / "x.sqlite"
    from zpb_lib import store

    assert store.default_db_path() == tmp_path / "x.sqlite"
    monkeypatch.delenv("ZPB_DB")
    monkeypatch.setattr(paths, "source_checkout", lambda: None)  # an installed package
    monkeypatch.chdir(tmp_path)
    assert store.default_db_path() == tmp_path / "zpb.sqlite"
    assert store.resolve_db_path(None) == tmp_path / "zpb.sqlite"
    from zpb_lib.explore.app import default_out

    assert default_out() == tmp_path / "reports"


def test_data_dir_override(monkeypatch, tmp_path):
    monkeypatch.setenv("ZPB_DATA_DIR", str(tmp_path))
    assert data_dir() == tmp_path


def test_help_names_the_default_database(capsys):
    with pytest.raises(SystemExit):
        main(["build", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "$ZPB_DB" in text and "data/zpb.sqlite when zpb runs from its source checkout" in text
    assert "zpb.sqlite in the current folder" in text
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "zpb.sqlite in the current folder" in " ".join(capsys.readouterr().out.split())


def test_version(capsys):
    from importlib.metadata import version

    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code in (0, None)
    out = capsys.readouterr().out
    assert out.splitlines()[0] == f"zpb {version('zpb')}"
    assert f"database schema version {SCHEMA_VERSION}, report cube version {CUBE_VERSION}" in out
    assert f"reference data {reference_hash(reference())} ({data_dir()})" in out


def test_code_hash_leaves_data_and_notebooks_to_their_own_hashes(tmp_path):
    """The shipped data and notebooks are not library code: in the checkout (links) and in an
    installed package (folders) the code hash is the same."""
    import zpb_lib

    pkg = tmp_path / "zpb_lib"
    shutil.copytree(ROOT / "zpb_lib", pkg, ignore=shutil.ignore_patterns("__pycache__"))  # links become folders
    assert (pkg / "data").is_dir() and not (pkg / "data").is_symlink()
    (pkg / "data" / "extra.json").write_text("{}")
    done = subprocess.run([sys.executable, "-c", "import zpb_lib; print(zpb_lib.__file__, zpb_lib.code_hash())"],
                          cwd=tmp_path, env=dict(os.environ, PYTHONPATH=str(tmp_path)), capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    where, digest = done.stdout.split()
    assert Path(where).parent == pkg
    assert digest == zpb_lib.code_hash()


# --------------------------------------------------------------------------- sdist and wheel

def _checkout_copy(dest: Path) -> list[str]:
    """The checkout's files as they are now (tracked and new, not ignored ones), links kept as links,
    then the junk a working checkout collects. Returns the relative paths copied."""
    try:
        listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                                capture_output=True, check=True, timeout=120).stdout.decode().split("\0")
    except (OSError, subprocess.CalledProcessError):  # not a git checkout: its files, less what git ignores
        ignore = shutil.ignore_patterns(".git", ".venv", "reports", "site", "build", "dist", "*.egg-info", "node_modules",
                                        "test-artifacts", "__pycache__", ".zpb-cache", "*.sqlite*", ".pytest_cache")
        shutil.copytree(ROOT, dest, symlinks=True, ignore=ignore)
        listed = [p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file() or p.is_symlink()]
    else:
        for rel in filter(None, listed):
            src, dst = ROOT / rel, dest / rel
            if not src.exists() and not src.is_symlink():  # deleted in the work tree
                continue
            dst.parent.mkdir(parents=True, exist_ok=True)
            if src.is_symlink():
                dst.symlink_to(os.readlink(src))
            else:
                shutil.copy2(src, dst)
    for rel in JUNK:
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        (dest / rel).write_bytes(b"junk")
    return [p for p in listed if p]


def _shipped(names: list[str], prefix: str) -> dict[str, set[str]]:
    """Package files by kind, from archive member names under ``prefix`` (the package's folder)."""
    out: dict[str, set[str]] = {"data": set(), "notebooks": set(), "templates": set(), "other": set()}
    for n in names:
        if not n.startswith(prefix) or n.endswith("/"):
            continue
        kind, _, rest = n[len(prefix):].partition("/")
        if kind in out and rest:
            out[kind].add(rest)
        elif not rest:
            out["other"].add(kind)
    return out


def _expected_data(listed: list[str]) -> set[str]:
    return {p[len("data/"):] for p in listed if p.startswith("data/")}


def test_sdist_carries_the_package_data(tmp_path):
    src = tmp_path / "src"
    listed = _checkout_copy(src)
    from setuptools import build_meta

    cwd = os.getcwd()
    os.chdir(src)
    try:
        name = build_meta.build_sdist(str(tmp_path / "dist"))
    finally:
        os.chdir(cwd)
    with tarfile.open(tmp_path / "dist" / name) as tar:
        members = tar.getmembers()
    names = [m.name for m in members]
    shipped = _shipped([m.name for m in members if m.isfile()], "zpb-0.1.0/zpb_lib/")
    assert shipped["data"] == _expected_data(listed)
    assert shipped["notebooks"] == REPORT_NOTEBOOKS
    assert {"zpb/index.html.j2", "zpb/conf.json", "zpb/static/report.css"} <= shipped["templates"]
    assert not any(m.issym() or m.islnk() for m in members)  # the links became files
    assert "zpb-0.1.0/share/jupyter/kernels/zpb/kernel.json" in names
    assert not [n for n in names if ".sqlite" in n or "/." in n.split("zpb-0.1.0", 1)[1] or "__pycache__" in n]


def _run(cmd: list[str], *, cwd: Path, env: dict[str, str], timeout: int = 1200) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(map(str, cmd))}\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}"
    return done


def _clean_env(venv: Path, home: Path) -> dict[str, str]:
    """A new user's shell with the virtual environment first on PATH: no ZPB_* variables, no Python or
    Jupyter paths, nothing of the checkout (its .venv included) on PATH, an empty home."""
    drop = ("ZPB_", "PYTHON", "VIRTUAL_ENV", "JUPYTER", "IPYTHONDIR", "MPLCONFIGDIR", "CONDA", "PIP_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    path = [p for p in os.environ.get("PATH", "/usr/bin:/bin").split(os.pathsep)
            if p and not Path(p).resolve().is_relative_to(ROOT)]
    env.update(PATH=os.pathsep.join([str(venv / "bin"), *path]), HOME=str(home), PYTHONNOUSERSITE="1")
    return env


def _pins() -> str:
    """The versions of this test environment's distributions, as pip constraints: the fresh
    environment gets the same, tested ones (from pip's cache when it has them)."""
    from importlib import metadata

    pins = {}
    for dist in metadata.distributions():
        name = (dist.metadata["Name"] or "").lower()
        if name and name not in ("zpb", "pip", "setuptools", "wheel"):
            pins[name] = dist.version
    return "\n".join(f"{n}=={v}" for n, v in sorted(pins.items())) + "\n"


@pytest.mark.slow
def test_wheel_works_from_any_folder(tmp_path):
    """`pip wheel .`, installed (not editable) in a fresh virtual environment that cannot see the
    checkout; from an empty folder: --version, demo, build (HTML and PDF), init, export, notebook
    copies, and a copy run by papermill on the shipped kernel and exported with nbconvert."""
    t0 = time.monotonic()
    timings: dict[str, float] = {}

    def lap(name: str) -> None:
        timings[name] = round(time.monotonic() - t0 - sum(timings.values()), 1)

    src, dist, venv, home, work = (tmp_path / n for n in ("src", "dist", "venv", "home", "work"))
    home.mkdir()
    work.mkdir()
    listed = _checkout_copy(src)
    # --- the wheel, built as a user would: pip's isolated build from the project folder
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", ".", "-w", str(dist)], cwd=src,
         env={k: v for k, v in os.environ.items() if not k.startswith("ZPB_")})
    (wheel,) = dist.glob("zpb-*.whl")
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        meta = email.message_from_bytes(z.read(next(n for n in names if n.endswith(".dist-info/METADATA"))))
        entry_points = z.read(next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()
    shipped = _shipped(names, "zpb_lib/")
    assert shipped["data"] == _expected_data(listed)  # every reference file, nothing more
    assert {"counties.csv", "police_units.csv", "malopolska-powiaty.geojson", "rules/school.yaml",
            "catalogues/school-2.yaml", "questionnaires/students.yaml"} <= shipped["data"]
    assert shipped["notebooks"] == REPORT_NOTEBOOKS
    assert {"zpb/index.html.j2", "zpb/edition_index.html.j2", "zpb/static/report.css"} <= shipped["templates"]
    assert not [n for n in names if ".sqlite" in n or "__pycache__" in n or "/." in n or n.startswith("tests/")]
    assert any(n.endswith(".data/data/share/jupyter/kernels/zpb/kernel.json") for n in names)
    assert "zpb_html = zpb_lib.batch.exporters:ReportHTMLExporter" in entry_points
    assert "zpb_pdf = zpb_lib.batch.exporters:ReportPDFExporter" in entry_points
    lap("wheel")
    # --- a fresh environment: the wheel's dependencies, pinned to the tested versions, then the wheel
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=tmp_path, env=dict(os.environ))
    requires = [r for r in meta.get_all("Requires-Dist") or [] if "extra ==" not in r]
    (tmp_path / "requirements.txt").write_text("\n".join(requires) + "\n")
    (tmp_path / "constraints.txt").write_text(_pins())
    pip_env = {k: v for k, v in os.environ.items() if not k.startswith(("ZPB_", "PYTHONPATH", "VIRTUAL_ENV"))}
    pip = [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "-q", "--no-compile"]
    _run([*pip, "-r", "requirements.txt", "-c", "constraints.txt"], cwd=tmp_path, env=pip_env)
    _run([*pip, "--no-deps", str(wheel)], cwd=tmp_path, env=pip_env)
    lap("venv")
    env = _clean_env(venv, home)
    zpb = str(venv / "bin" / "zpb")

    # --- where it reads from: the installed package, not the checkout
    probe = _run([str(venv / "bin" / "python"), "-c", """if True:
        import json, sys, zpb_lib
        from zpb_lib import store
        from zpb_lib.core import paths
        from zpb_lib.reference import data_dir
        from nbconvert.exporters import get_export_names
        from jupyter_client.kernelspec import KernelSpecManager
        print(json.dumps({"file": zpb_lib.__file__, "data": str(data_dir()), "notebooks": str(paths.notebooks_dir()),
                          "templates": str(paths.templates_dir()), "checkout": str(paths.source_checkout()),
                          "db": str(store.default_db_path()), "sys_path": sys.path, "exporters": get_export_names(),
                          "kernel": KernelSpecManager().get_kernel_spec("zpb").resource_dir}))"""], cwd=work, env=env)
    where = json.loads(probe.stdout)
    for key in ("file", "data", "notebooks", "templates", "kernel"):
        assert Path(where[key]).resolve().is_relative_to(venv.resolve()), (key, where[key])
    assert where["checkout"] == "None" and Path(where["db"]) == work / "zpb.sqlite"
    assert not [p for p in where["sys_path"] if p and Path(p).resolve().is_relative_to(ROOT)]
    assert {"zpb_html", "zpb_pdf"} <= set(where["exporters"])

    version = _run([zpb, "--version"], cwd=work, env=env).stdout
    assert version.startswith("zpb 0.1.0\n")
    assert f"database schema version {SCHEMA_VERSION}, report cube version {CUBE_VERSION}" in version
    assert f"reference data {reference_hash(reference())} " in version  # the same files as the checkout's
    assert str(venv) in version
    lap("checks")

    # --- a new user's first commands, from an empty folder
    _run([zpb, "demo", "--scale", "0.05"], cwd=work, env=env)
    assert (work / "zpb.sqlite").is_file()
    lap("demo")
    _run([zpb, "build", "--county", "1201", "--format", "html,pdf"], cwd=work, env=env)
    lap("build")
    (county_html,) = work.glob("reports/*/powiat-1201-*.html")
    edition_dir = county_html.parent
    page = county_html.read_text(encoding="utf-8")
    assert "powiat bocheński" in page
    from zpb_lib.batch.export import external_references

    assert external_references(page) == []
    from pypdf import PdfReader

    text = "\n".join(p.extract_text() or "" for p in PdfReader(county_html.with_suffix(".pdf")).pages)
    assert "powiat bocheński" in text
    assert (edition_dir / "index.html").is_file() and list(edition_dir.glob("placowka-*.pdf"))
    manifest = json.loads((edition_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["summary"]["failed"] == 0 and manifest["summary"]["built"] >= 2
    assert {r["status"] for r in manifest["reports"].values()} == {"ok"}

    _run([zpb, "init", "--db", "wlasne.sqlite"], cwd=work, env=env)
    assert (work / "wlasne.sqlite").is_file()
    edition = edition_dir.name.replace("-", "/")
    exported = _run([zpb, "export", "--edition", edition, "--county", "1201"], cwd=work, env=env).stdout.strip()
    assert (work / exported).is_file() and exported.endswith(".xlsx")
    lap("init+export")

    # --- Jupyter: editable copies, run by plain papermill on the shipped kernel, exported by nbconvert
    _run([zpb, "notebooks", "copy", "moje"], cwd=work, env=env)
    assert {p.name for p in (work / "moje").glob("*.ipynb")} == REPORT_NOTEBOOKS
    _run([str(venv / "bin" / "papermill"), "moje/county_report.ipynb", "out.ipynb", "-p", "county", "1201",
          "--no-progress-bar"], cwd=work, env=env)
    _run([str(venv / "bin" / "jupyter"), "nbconvert", "--to", "zpb_html", "out.ipynb"], cwd=work, env=env)
    exported_page = (work / "out.html").read_text(encoding="utf-8")
    assert external_references(exported_page) == [] and "powiat bocheński" in exported_page
    assert f"<title>Raport powiatowy — powiat bocheński — {edition}</title>" in exported_page
    lap("jupyter")
    print(f"wheel test timings (s): {timings}, total {round(time.monotonic() - t0, 1)}")
    shutil.rmtree(venv)  # half a gigabyte; kept when the test fails, for a look
