"""The built reports the web app lists and serves (:mod:`zpb_lib.services.built`): a build's reports
narrowed to a unit, the only files a name may mean, and the imports stored since a build read its
data — counted with SQL on the file itself, not with the code under test."""
from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from zpb_lib.services import build_jobs, built, builds
from zpb_lib.services.jobs import JobRefused

from support.reports import BOCHNIA, EDITION, FOLDER, KRAKOW, hand_build as _build


def test_built_lists_the_reports_whose_files_are_there_narrowed_to_a_unit(tmp_path):
    _build(tmp_path / "r", tmp_path)
    every = built.built(tmp_path / "r", "2025/2026", "pl")
    assert [r.stem for r in every.reports] == [BOCHNIA, KRAKOW, "wojewodztwo"]  # not the failed one, not the links
    assert (every.generated_at, every.data_version, every.last_import) == ("2026-03-01T10:00:00+01:00", "abcdef12-5", 3)
    mine = built.built(tmp_path / "r", "XIX", "pl", unit="KPP-BOCHNIA")
    assert [(r.stem, r.html, r.pdf) for r in mine.reports] == [(BOCHNIA, f"{BOCHNIA}.html", f"{BOCHNIA}.pdf")]
    assert built.built(tmp_path / "r", EDITION, "en") is None  # no English build
    assert built.built(tmp_path / "nothing", EDITION, "pl") is None


def test_report_file_serves_only_the_manifests_reports_of_the_unit(tmp_path):
    out = tmp_path / "r"
    folder = _build(out, tmp_path)
    assert built.report_file(out, FOLDER, "pl", f"{BOCHNIA}.html", "KPP-BOCHNIA") == folder / f"{BOCHNIA}.html"
    assert built.report_file(out, FOLDER, "pl", f"{KRAKOW}.pdf") == folder / f"{KRAKOW}.pdf"  # an analyst: any
    assert built.read_report(folder / f"{KRAKOW}.pdf") == b"%PDF-1.4 " + KRAKOW.encode()
    refused = [
        (FOLDER, "pl", f"{KRAKOW}.html", "KPP-BOCHNIA"),  # another unit's county
        (FOLDER, "pl", "wojewodztwo.html", "KPP-BOCHNIA"),  # not one of the unit's counties
        (FOLDER, "pl", "..", None), (FOLDER, "pl", "../secret.txt", None), (FOLDER, "pl", f"../{FOLDER}/{BOCHNIA}.html", None),
        (FOLDER, "pl", str(folder / f"{BOCHNIA}.html"), None),  # an absolute path
        (FOLDER, "pl", f"notebooks/{BOCHNIA}.ipynb", None), (FOLDER, "pl", f"{BOCHNIA}.ipynb", None),
        (FOLDER, "pl", "manifest.json", None), (FOLDER, "pl", "cube.sqlite", None),  # files of other kinds
        (FOLDER, "pl", "other.html", None),  # in the folder, but no report of the build
        (FOLDER, "pl", "powiat-1203-chrzanowski.html", None),  # a link out of the folder
        (FOLDER, "pl", "powiat-1202-brzeski.pdf", None),  # a report that failed
        (FOLDER, "pl", f".{BOCHNIA}.html", None), (FOLDER, "pl", f"{BOCHNIA}.html\x00.pdf", None),
        ("..", "pl", f"{BOCHNIA}.html", None), ("2099-2100", "pl", f"{BOCHNIA}.html", None),
        (FOLDER, "..", f"{BOCHNIA}.html", None), (FOLDER, "de", f"{BOCHNIA}.html", None),
    ]
    for args in refused:
        with pytest.raises(built.NoSuchReport):
            built.report_file(out, *args[:3], unit=args[3])
    (folder / f"{BOCHNIA}.html").unlink()
    os.symlink(tmp_path / "secret.txt", folder / f"{BOCHNIA}.html")  # a link put there since the check
    with pytest.raises(built.NoSuchReport):
        built.read_report(folder / f"{BOCHNIA}.html")


def _sql(db: Path, query: str, *args) -> list[tuple]:
    with sqlite3.connect(db) as con:
        return con.execute(query, args).fetchall()


def _version(db: Path) -> str:
    db_id, version = _sql(db, "SELECT db_id, version FROM data_version")[0]
    return f"{db_id[:8]}-{version}"


def _add_imports(db: Path, n: int) -> None:
    with sqlite3.connect(db) as con:
        for i in range(n):
            con.execute("INSERT INTO imports(kind, file_name, content_hash, imported_at, rows) "
                        "VALUES ('audit', ?, ?, '2026-03-02T10:00:00+00:00', 0)", (f"f{i}.xlsx", f"h{i}"))


def test_freshness_counts_the_imports_stored_since_the_build_read_its_data(small_copy, tmp_path):
    last = _sql(small_copy, "SELECT COALESCE(MAX(id), 0) FROM imports")[0][0]
    _build(tmp_path / "r", tmp_path, data_hash=_version(small_copy), last_import=last)
    b = built.built(tmp_path / "r", EDITION, "pl")
    f = built.freshness(small_copy, b)
    assert (f.current, f.imports, f.built_version, f.current_version) == (True, 0, b.data_version, b.data_version)

    _add_imports(small_copy, 3)
    f = built.freshness(small_copy, b)
    assert (f.current, f.imports, f.current_version) == (False, 3, _version(small_copy))
    newest = _sql(small_copy, "SELECT COALESCE(MAX(id), 0) FROM imports")[0][0]
    _sql(small_copy, "DELETE FROM imports WHERE id = ?", newest)  # an import undone is no longer counted
    assert built.freshness(small_copy, b).imports == 2


def test_freshness_is_unknown_for_another_database_or_a_build_without_its_last_import(small_copy, tmp_path):
    _build(tmp_path / "a", tmp_path, data_hash="00000000-1", last_import=0)
    f = built.freshness(small_copy, built.built(tmp_path / "a", EDITION, "pl"))
    assert (f.current, f.imports) == (False, None)
    db_id = _version(small_copy).split("-")[0]
    (tmp_path / "b").mkdir()
    _build(tmp_path / "b", tmp_path / "b", data_hash=f"{db_id}-1", last_import=None)
    f = built.freshness(small_copy, built.built(tmp_path / "b", EDITION, "pl"))
    assert (f.current, f.imports) == (False, None)


def test_a_build_records_the_newest_import_its_data_held(small_copy, tmp_path):
    _add_imports(small_copy, 2)
    newest = _sql(small_copy, "SELECT COALESCE(MAX(id), 0) FROM imports")[0][0]
    builds.run(builds.BuildOptions(db=str(small_copy), edition=EDITION, out=str(tmp_path / "r"), formats=("html",),
                                   jobs=1, only=("county",), counties=("1201",), progress=False))
    b = built.built(tmp_path / "r", EDITION, "pl")
    assert (b.last_import, b.data_version) == (newest, _version(small_copy))
    assert [r.stem for r in b.reports] == [BOCHNIA]
    assert built.freshness(small_copy, b).current


def test_submit_build_takes_the_counties_the_role_may_build(small_copy, tmp_path):
    """A SQLite file's user has every right: the whole edition, or one unit's counties; a unit's
    counties come from the reference data (KPP Bochnia: powiat bocheński alone)."""
    job = build_jobs.submit_build(small_copy, tmp_path / "r", edition=EDITION, lang="pl", unit="KPP-BOCHNIA",
                                  login="olek", role="zpb_analyst", counties_only=True)
    assert (job.counties, job.only, job.state) == (("1201",), ("county",), "queued")
    job = build_jobs.submit_build(small_copy, tmp_path / "r", edition=EDITION, lang="en", unit=None,
                                  login="olek", role="zpb_analyst")
    assert (job.counties, job.only, job.langs) == ((), ("voivodeship", "county", "school"), ("en",))
    assert build_jobs.unit_of_role("zpb_unit_kpp_bochnia") == "KPP-BOCHNIA"
    assert build_jobs.unit_of_role("zpb_analyst") is None


@pytest.mark.postgresql_only
def test_a_coordinator_may_build_her_units_counties_and_nothing_else(rights, tmp_path):
    out = tmp_path / "r"
    job = build_jobs.submit_build(rights["ala"], out, edition=EDITION, lang="pl", unit="KPP-BOCHNIA",
                                  login="ala", role="zpb_unit_kpp_bochnia")
    assert (job.counties, job.only) == (("1201",), ("county", "school"))
    for login, unit in (("ala", "KMP-KRAKOW"), ("ala", None), ("rita", "KPP-BOCHNIA"), ("rita", None)):
        with pytest.raises(JobRefused):
            build_jobs.submit_build(rights[login], out, edition=EDITION, lang="pl", unit=unit, login=login,
                                    role="zpb_unit_kpp_bochnia")
    job = build_jobs.submit_build(rights["olek"], out, edition=EDITION, lang="pl", unit=None, login="olek",
                                  role="zpb_analyst")
    assert job.counties == ()
    assert len(list((out / ".jobs").glob("*.json"))) == 2  # nothing refused was queued
