"""The explorer opens an edition from a current report cube — the one `zpb build` leaves in
``reports/<edition>/cube.sqlite``, else the cache next to the database that the notebooks share —
instead of computing it from the database, and shows exactly the same figures either way. A cube
made from other data, other reference files or other code is not current and is not used."""
from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from zpb_lib import code_hash
from zpb_lib.domain import cube as cube_mod
from zpb_lib import store
from zpb_lib.explore import Explorer
from zpb_lib.domain.edition_data import ALL_STATUSES
from zpb_lib.report import context

EDITION = "2025/2026"


@pytest.fixture
def db(small_db, tmp_path) -> Path:
    """A private copy of the small database in a folder of its own (no cache next to it yet)."""
    path = tmp_path / "db" / "zpb.sqlite"
    path.parent.mkdir()
    shutil.copy(small_db, path)
    return path


def build_cube(db: Path, out: Path, edition: str = EDITION) -> Path:
    """The cube as `zpb build --out OUT` computes and saves it (build/pipeline.py)."""
    path = out / edition.replace("/", "-") / "cube.sqlite"
    con = store.connect(db, readonly=True)
    try:
        cube_mod.build(con, edition, path, data_hash=store.data_version(db))
    finally:
        con.close()
    return path


def cache_files(db: Path) -> list[Path]:
    return sorted((db.parent / context.CACHE_DIR).glob("*.sqlite"))


def views(x: Explorer) -> dict:
    """Everything the explorer shows for a few selections: tiles, table (all pages), map values,
    the county figures, a drill-down and a what-if."""
    out = {}
    d = x.data()
    county = d.institutions.groupby("county").size().idxmax()
    rows = x.table_rows()
    inst = rows.loc[rows["kind"] == d.kinds()[0], "ident"].iloc[0]  # still in the table after the last filter
    for name, setting in [("all", {}), ("county", {"county": county}), ("status", {"status": ALL_STATUSES}),
                          ("kind", {"kind": d.kinds()[0]})]:
        with x._hold():
            x.county.value, x.kind.value, x.status.value = "", "", "in_edition"
        for widget, value in setting.items():
            getattr(x, widget).value = value
        x.show("table")
        out[name] = {"tiles": x.tiles.value, "table": x.table_rows().reset_index(drop=True),
                     "key": d.key_figures(x.selection)}
    x.county.value = ""
    x.measure.value = "survey:safe_school"
    x.show("map")
    out["map"] = x.map_values.copy()
    out["counties"] = d.county_table().copy()
    x.select_institution(inst)
    x.show("detail")
    out["detail"] = x.detail.value
    x.show("whatif")
    out["whatif"] = x.whatif_view.value
    return out


def assert_same(a: dict, b: dict) -> None:
    for name in ("all", "county", "status", "kind"):
        assert a[name]["tiles"] == b[name]["tiles"], name
        assert a[name]["key"] == pytest.approx(b[name]["key"], nan_ok=True), name
        pd.testing.assert_frame_equal(a[name]["table"], b[name]["table"], obj=name)
    pd.testing.assert_series_equal(a["map"], b["map"])
    pd.testing.assert_frame_equal(a["counties"], b["counties"])
    assert a["detail"] == b["detail"] and a["whatif"] == b["whatif"]


def test_explorer_from_the_build_cube_shows_what_the_database_gives(db, tmp_path):
    built = build_cube(db, tmp_path / "reports")
    from_cube = Explorer(db, out=tmp_path / "reports")
    assert from_cube.cube_paths[EDITION] == built and cache_files(db) == []  # nothing computed
    shown_from_cube = views(from_cube)

    computed = Explorer(db, out=tmp_path / "elsewhere")  # no build cube there: computed from the database
    assert computed.cube_paths[EDITION] in cache_files(db)
    assert_same(shown_from_cube, views(computed))
    # The computed cube went to the notebooks' cache: the next session reads it.
    again = Explorer(db, out=tmp_path / "elsewhere")
    assert again.cube_paths[EDITION] == computed.cube_paths[EDITION]
    # …as does a report notebook run alone on the same database.
    with context.open_cube(db=str(db), edition="XIX") as c:
        assert c.path == computed.cube_paths[EDITION]


def test_a_cube_of_other_data_is_not_used(db, tmp_path):
    built = build_cube(db, tmp_path / "reports")
    con = sqlite3.connect(db)
    with con:  # a later import: a school renamed
        con.execute("UPDATE institutions SET name = name || ' (nowa nazwa)' WHERE id = (SELECT MIN(id) FROM institutions)")
    con.close()
    x = Explorer(db, out=tmp_path / "reports")
    assert x.cube_paths[EDITION] != built and x.cube_paths[EDITION] in cache_files(db)
    assert x.data().cube.meta["data_hash"] == store.data_version(db) != cube_mod.Cube(built).meta["data_hash"]


def rewrite_meta(path: Path, **changes) -> None:
    con = sqlite3.connect(path)
    with con:
        for key, value in changes.items():
            if value is None:
                con.execute("DELETE FROM _meta WHERE key = ?", (key,))
            else:
                con.execute("INSERT OR REPLACE INTO _meta VALUES (?, ?)", (key, json.dumps(value)))
    con.close()


@pytest.mark.parametrize("key", ["code_hash", "reference_hash", "data_hash", "edition", "threshold"])
def test_a_cube_of_other_code_reference_or_settings_is_not_current(db, tmp_path, ref, key):
    built = build_cube(db, tmp_path / "reports")
    data_hash = store.data_version(db)
    assert context.is_current(built, EDITION, data_hash, ref)
    rewrite_meta(built, **{key: {"threshold": 5, "edition": "2024/2025"}.get(key, "0" * 16)})
    assert not context.is_current(built, EDITION, data_hash, ref)


def test_an_older_cube_without_code_hash_counts_by_the_build_manifest(db, tmp_path, ref):
    built = build_cube(db, tmp_path / "reports")
    rewrite_meta(built, code_hash=None)
    data_hash = store.data_version(db)
    assert not context.is_current(built, EDITION, data_hash, ref)  # no manifest: unknown code
    manifest = built.parent / "manifest.json"
    key = f"{data_hash}:{cube_mod.reference_hash(ref)}:{code_hash()}"
    manifest.write_text(json.dumps({"inputs": {"cube_key": key}}), encoding="utf-8")
    assert context.is_current(built, EDITION, data_hash, ref)
    manifest.write_text(json.dumps({"inputs": {"cube_key": key[:-1] + "x"}}), encoding="utf-8")
    assert not context.is_current(built, EDITION, data_hash, ref)


def test_a_read_only_database_folder_still_opens(db, tmp_path, monkeypatch):
    """Nowhere to keep the cube: it is computed in memory, as before."""
    write = cube_mod.write

    def refuse(tables, path, meta):
        if Path(path).parent == db.parent / context.CACHE_DIR:
            raise PermissionError(13, "Permission denied", str(path))
        return write(tables, path, meta)

    monkeypatch.setattr(cube_mod, "write", refuse)
    x = Explorer(db, out=tmp_path / "reports")
    assert x.cube_paths[EDITION] is None and cache_files(db) == []
    in_memory = views(x)
    monkeypatch.undo()
    build_cube(db, tmp_path / "reports")
    from_cube = Explorer(db, out=tmp_path / "reports")
    assert from_cube.cube_paths[EDITION] is not None
    assert_same(in_memory, views(from_cube))
