"""The report cube: one file per edition, read by slice, consistent with the store and suppressed."""
from __future__ import annotations

import pandas as pd
import pytest

from zpb_lib.domain import cube
from zpb_lib import store

EDITION = "2025/2026"
pytestmark = pytest.mark.both_backends


@pytest.fixture(scope="module")
def small_cube(small_db, tmp_path_factory):
    con = store.connect(small_db, readonly=True)
    path = cube.build(con, EDITION, tmp_path_factory.mktemp("cube") / "cube.sqlite")
    con.close()
    c = cube.Cube(path)
    yield c
    c.close()


def test_meta(small_cube, small_db, data_version):
    m = small_cube.meta
    assert m["edition"] == EDITION and m["edition_roman"] == "XIX" and m["synthetic"] is True
    assert m["as_of"] == "2026-10-15" and m["threshold"] == 10 and m["data_hash"] == data_version(small_db)


def test_slices_and_dtypes(small_cube):
    inst = small_cube.table("institutions", county="1201")
    assert len(inst) > 0 and set(inst["county"]) == {"1201"}
    assert inst["participating"].dtype == bool
    assert pd.api.types.is_datetime64_any_dtype(small_cube.table("awards")["awarded_on"])
    both = small_cube.table("institutions", county=["1201", "1261"])
    assert set(both["county"]) == {"1201", "1261"}
    with pytest.raises(KeyError):
        small_cube.table("institutions", nosuch=1)


def test_audits_match_the_store(small_db, small_cube):
    con = store.connect(small_db, readonly=True)
    totals = dict(con.execute("SELECT a.id, SUM(i.points) FROM audits a JOIN audit_items i ON i.audit_id = a.id "
                              "WHERE a.edition <= ? GROUP BY a.id", (EDITION,)).fetchall())
    con.close()
    audits = small_cube.table("audits")
    assert dict(zip(audits["audit_id"], audits["total"])) == totals
    this = audits[audits["edition"] == EDITION]
    ranked = this[this["kind"] != "control"]
    assert ranked["rank"].notna().all() and ranked["rank"].min() == 1


def test_county_summary_adds_up(small_cube):
    s = small_cube.table("county_summary").set_index("county")
    counties, total = s.drop(index="12"), s.loc["12"]
    for col in ("institutions", "participating", "valid_awards", "leaders", "audits", "granted"):
        assert counties[col].sum() == total[col], col
    inst = small_cube.table("institutions")
    # A school taking part with its complex is in the complex's count (zpb_lib.domain.complexes).
    assert total["participating"] == int((inst["exists"] & inst["counted"] & inst["participating"]).sum())
    assert int((inst["exists"] & inst["participating"]).sum()) > total["participating"]  # the demo has such schools


def test_no_small_figure_in_any_survey_table(small_cube):
    for name in ("indicators", "places"):
        t = small_cube.table(name)
        small = t["n"] < 10
        assert len(t) > 0 and small.any(), name
        assert t.loc[small, ["k", "p", "lo", "hi"]].isna().all().all(), name
        assert t.loc[small, "suppressed"].notna().all(), name
    for name in ("wave_changes", "edition_changes"):
        t = small_cube.table(name)
        for side in ("0", "1"):
            small = t[f"n{side}"] < 10
            assert t.loc[small, [f"k{side}", f"p{side}"]].isna().all().all(), (name, side)
        either = (t["n0"] < 10) | (t["n1"] < 10)
        assert either.any() and t.loc[either, ["diff", "p_value"]].isna().all().all(), name
        assert t.loc[either, "suppressed"].notna().all(), name


def test_pooled_county_counts_equal_sum_of_institutions(small_cube):
    ind = small_cube.table("indicators", edition=EDITION, wave="follow-up", group="students", indicator="safe_school")
    inst = ind[ind["level"] == "institution"]
    cube_inst = small_cube.table("institutions").set_index("id")
    inst = inst.assign(county=inst["key"].astype(int).map(cube_inst["county"]))
    by_county = inst.groupby("county")["n"].sum()
    county = ind[ind["level"] == "county"].set_index("key")["n"]
    assert (by_county == county.reindex(by_county.index)).all()


def test_next_steps_are_phrased(small_cube):
    steps = small_cube.table("next_steps")
    assert len(steps) > 0
    assert steps["text_pl"].str.len().gt(10).all() and steps["text_en"].str.len().gt(10).all()
    short = steps[steps["points_short"] > 0]
    assert all(f"{n} " in t for n, t in zip(short["points_short"], short["text_en"]))


# --------------------------------------------------------------------------- identity people use

def _db_identity(db) -> dict[int, tuple]:
    """Internal id → (rspo, polon, in_register) straight from the database."""
    con = store.connect(db, readonly=True)
    try:
        return {r[0]: tuple(r[1:]) for r in con.execute("SELECT id, rspo, polon, in_register FROM institutions")}
    finally:
        con.close()


def test_institutions_carry_rspo_and_polon(small_db, small_cube):
    db = _db_identity(small_db)
    inst = small_cube.table("institutions")
    assert len(inst) == len(db)
    for r in inst.itertuples(index=False):
        rspo, polon, in_register = db[int(r.id)]
        assert (None if pd.isna(r.rspo) else int(r.rspo)) == rspo
        assert (None if pd.isna(r.polon) else r.polon) == polon
        assert r.ident == (str(rspo) if rspo is not None else polon)
        assert bool(r.in_register) == bool(in_register)
    assert inst["rspo"].notna().any() and inst["polon"].notna().any()  # schools and universities both
    # Read by identifier, as the school report does.
    some = inst[inst["rspo"].notna()].iloc[0]
    assert small_cube.table("institutions", rspo=int(some["rspo"]))["id"].tolist() == [some["id"]]
    uni = inst[inst["polon"].notna()].iloc[0]
    assert small_cube.table("institutions", polon=uni["polon"])["ident"].tolist() == [uni["polon"]]


@pytest.mark.parametrize("table", ["audits", "awards", "renewals", "next_steps", "plan"])
def test_tables_listing_institutions_carry_their_identifier(small_db, small_cube, table):
    db = _db_identity(small_db)
    t = small_cube.table(table)
    assert len(t) > 0
    expected = [str(db[int(i)][0]) if db[int(i)][0] is not None else db[int(i)][1] for i in t["institution_id"]]
    assert t["ident"].tolist() == expected
    assert t["in_register"].tolist() == [bool(db[int(i)][2]) for i in t["institution_id"]]


def test_unknown_opening_year_counts_as_existing_and_register_flag(small_copy):
    con = store.connect(small_copy)
    target, gone = [r[0] for r in con.execute(
        "SELECT i.id FROM institutions i JOIN institution_kinds k ON k.code = i.kind "
        "WHERE k.family = 'school' AND i.closed_year IS NULL ORDER BY i.id LIMIT 2")]
    con.execute("UPDATE institutions SET opened_year = NULL WHERE id = ?", (target,))
    con.execute("UPDATE institutions SET in_register = 0 WHERE id = ?", (gone,))
    con.commit()
    tables = cube.compute(con, EDITION)
    con.close()
    inst = tables["institutions"].set_index("id")
    assert bool(inst.at[target, "exists"])
    assert not bool(inst.at[gone, "in_register"]) and bool(inst.at[target, "in_register"])


def test_a_cube_of_another_version_is_refused(small_cube, tmp_path):
    path = cube.write({"institutions": pd.DataFrame({"id": [1]})}, tmp_path / "old.sqlite", {"cube_version": 1})
    with pytest.raises(ValueError, match="rebuild it with `zpb build`"):
        cube.Cube(path)
