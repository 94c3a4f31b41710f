"""The web app's cube service: a build's cube while current, the cache otherwise, one read per data version."""
from __future__ import annotations

import shutil

from zpb_lib import store
from zpb_lib.services import cubes
from zpb_lib.services.cubes import edition_data


def test_the_cube_is_read_once_per_data_version_and_anew_after_an_import(small_sqlite, tmp_path):
    db = tmp_path / "zpb.sqlite"
    shutil.copy(small_sqlite, db)
    edition = "2025/2026"
    first = edition_data(db, edition)
    assert edition_data(db, edition) is first  # in memory: nothing read again
    with store.connect(db) as con, store.transaction(con):
        con.execute("UPDATE institutions SET name = name || ' (zmiana)' WHERE id = :id",
                    {"id": int(first.institutions["id"].iloc[0])})
    second = edition_data(db, edition)
    assert second is not first
    assert second.cube.meta["data_hash"] != first.cube.meta["data_hash"]
    assert second.cube.meta["data_hash"] == store.data_version(db)
    changed = second.institutions["name"].str.endswith(" (zmiana)").sum()
    assert changed == 1 and first.institutions["name"].str.endswith(" (zmiana)").sum() == 0


def test_a_current_build_cube_is_used_and_a_stale_one_is_not(small_sqlite, tmp_path):
    db = tmp_path / "zpb.sqlite"
    shutil.copy(small_sqlite, db)
    edition = "2025/2026"
    cached = edition_data(db, edition)
    reports = tmp_path / "reports"
    built = cubes.build_cube(reports, edition)
    built.parent.mkdir(parents=True)
    shutil.copy(cubes._held[(str(db), edition)][0], built)  # a build's cube of the same data
    assert edition_data(db, edition, reports) is not cached
    assert cubes._held[(str(db), edition)][0] == built
    with store.connect(db) as con, store.transaction(con):
        con.execute("UPDATE institutions SET name = name || '!' WHERE id = (SELECT min(id) FROM institutions)")
    edition_data(db, edition, reports)
    assert cubes._held[(str(db), edition)][0] != built  # the build is stale: the cache is used
