"""Survey indicators, changes and dangerous places: a hand-made database whose answers we know,
properties over random counts, and a generated demo database."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from zpb_lib import store
from zpb_lib.domain.indicators import (EDITION_CHANGE_COLUMNS, PLACE_COLUMNS, TABLE_COLUMNS, WAVE_CHANGE_COLUMNS, changes_between_editions, changes_between_waves, indicator_counts, indicator_table, place_counts, place_ranking, place_table)
from zpb_lib.reference import GROUPS, WAVES
from zpb_lib.store.write import insert_rows, transaction

Z95 = 1.959963984540054
E17, E18, E22 = "2017/2018", "2018/2019", "2022/2023"
A, B, C, D = 1, 2, 3, 4  # A, B, C in county 1201 (bocheński), D in 1202 (brzeski)


def wilson_by_hand(k: int, n: int) -> tuple[float, float]:
    p, z2 = k / n, Z95 * Z95
    centre = (k + z2 / 2) / (n + z2)
    half = Z95 * math.sqrt(n * p * (1 - p) + z2 / 4) / (n + z2)
    return centre - half, centre + half


def ztest_by_hand(k1: int, n1: int, k2: int, n2: int) -> tuple[float, float]:
    pooled = (k1 + k2) / (n1 + n2)
    z = (k1 / n1 - k2 / n2) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return z, math.erfc(abs(z) / math.sqrt(2))


# --------------------------------------------------------------------------- hand-made database

def _people(inst, edition, wave, grp, count, **columns):
    """``count`` respondents; each keyword gives a column's answers (a list of length ``count``)."""
    rows = []
    for i in range(count):
        row = {"institution_id": inst, "edition": edition, "wave": wave, "grp": grp}
        row.update({col: values[i] for col, values in columns.items()})
        rows.append(row)
    return rows


def _places(count, **named):
    """Every respondent answered the places question; ``named[place]`` = indexes naming it."""
    return {f"place_{p}": [int(i in named.get(p, ())) for i in range(count)]
            for p in ("toilets", "corridors", "cloakroom", "playground", "surroundings", "bus_stop",
                      "crossing", "way", "other")}


@pytest.fixture(scope="module")
def hand_db(tmp_path_factory, ref):
    path = tmp_path_factory.mktemp("hand") / "hand.sqlite"
    con = store.create(path)
    people = []
    # School A: 12 students answered safe_school, 9 of them 4 or 5; a 13th skipped it.
    # All 13 answered the places question: toilets 6, corridors 6, way 3.
    people += _people(A, E17, "baseline", "students", 13,
                      safe_school=[5, 5, 5, 4, 4, 4, 4, 4, 4, 3, 2, 1, None],
                      **_places(13, toilets=range(0, 6), corridors=range(6, 12), way=range(0, 3)))
    # Parents: 15 at A (6 feel safe, 5 name toilets), 7 at B (all feel safe, all name toilets).
    people += _people(A, E17, "baseline", "parents", 15, safe_school=[4] * 6 + [2] * 9,
                      **_places(15, toilets=range(5)))
    people += _people(B, E17, "baseline", "parents", 7, safe_school=[5] * 7, **_places(7, toilets=range(7)))
    # School C: 20 students in both waves, three indicators, no places answers.
    people += _people(C, E17, "baseline", "students", 20, safe_school=[5] * 5 + [1] * 15,
                      victim_verbal=[1] * 15 + [0] * 5, trust_police=[4] * 10 + [2] * 10)
    people += _people(C, E17, "follow-up", "students", 20, safe_school=[4] * 17 + [2] * 3,
                      victim_verbal=[2] * 4 + [0] * 16, trust_police=[5] * 11 + [1] * 9)
    # School D (another county): 30 students, 21 safe; 12 teachers, 10 safe.
    people += _people(D, E17, "baseline", "students", 30, safe_school=[5] * 21 + [3] * 9,
                      **_places(30, toilets=range(10)))
    people += _people(D, E17, "baseline", "teachers", 12, safe_school=[4] * 10 + [1] * 2,
                      **_places(12, toilets=range(3)))
    # D in later editions: 2018/2019 baseline 20/40 safe (follow-up only 6 students),
    # 2022/2023 (after the suspension) 32/40.
    people += _people(D, E18, "baseline", "students", 40, safe_school=[5] * 20 + [2] * 20)
    people += _people(D, E18, "follow-up", "students", 6, safe_school=[5] * 6)
    people += _people(D, E22, "baseline", "students", 40, safe_school=[4] * 32 + [2] * 8)
    columns = ["institution_id", "edition", "wave", "grp", *ref.survey_columns()]
    with transaction(con):
        insert_rows(con, "institutions", ("id", "rspo", "name", "kind", "county", "municipality", "locality",
                                          "opened_year"),
                    [(A, 10001, "Szkoła A", "primary", "1201", "Bochnia", "Bochnia", 1960),
                     (B, 10002, "Szkoła B", "primary", "1201", "Bochnia", "Bochnia", 1960),
                     (C, 10003, "Szkoła C", "primary", "1201", "Bochnia", "Bochnia", 1960),
                     (D, 10004, "Szkoła D", "primary", "1202", "Brzesko", "Brzesko", 1960)])
        insert_rows(con, "survey_responses", columns, [[p.get(c) for c in columns] for p in people])
    con.close()
    return path


@pytest.fixture(scope="module")
def hand(hand_db, ref):
    con = store.connect(hand_db, readonly=True)
    counts = indicator_counts(con, ref)
    places = place_ranking(con, ref)
    con.close()
    return counts, indicator_table(counts, ref), places


def _row(frame, **where):
    mask = np.ones(len(frame), dtype=bool)
    for col, value in where.items():
        mask &= (frame[col] == value).to_numpy()
    rows = frame[mask]
    assert len(rows) == 1, (where, rows)
    return rows.iloc[0]


def test_counts_by_hand(hand):
    counts, _, _ = hand
    assert list(counts.columns) == ["edition", "institution_id", "county", "wave", "group", "indicator", "n", "k"]
    r = _row(counts, institution_id=A, edition=E17, wave="baseline", group="students", indicator="safe_school")
    assert (r["n"], r["k"], r["county"]) == (12, 9, "1201")
    r = _row(counts, institution_id=B, group="parents", indicator="safe_school")
    assert (r["n"], r["k"]) == (7, 7)
    r = _row(counts, institution_id=C, wave="follow-up", indicator="victim_verbal")
    assert (r["n"], r["k"]) == (20, 4)
    # Items a group is not asked do not appear; items asked but unanswered do, with n = 0.
    assert counts[(counts["group"] == "teachers") & (counts["indicator"] == "victim_physical")].empty
    r = _row(counts, institution_id=D, edition=E17, group="teachers", indicator="trust_police")
    assert (r["n"], r["k"]) == (0, 0)


def test_editions_filter(hand_db, ref):
    con = store.connect(hand_db, readonly=True)
    only = indicator_counts(con, ref, editions=[E22])
    assert set(only["edition"]) == {E22} and set(only["institution_id"]) == {D}
    assert set(place_counts(con, ref, editions=E17)["edition"]) == {E17}
    with pytest.raises(KeyError):
        indicator_counts(con, ref, editions=["1999/2000"])
    con.close()


def test_school_proportion_and_wilson_interval(hand):
    _, table, _ = hand
    assert list(table.columns) == TABLE_COLUMNS
    r = _row(table, level="institution", key=str(A), edition=E17, wave="baseline", group="students",
             indicator="safe_school")
    assert (r["n"], r["k"], r["p"]) == (12, 9, 0.75)
    assert (r["lo"], r["hi"]) == pytest.approx(wilson_by_hand(9, 12), abs=1e-12)
    assert pd.isna(r["suppressed"])


def test_small_school_suppressed_and_its_neighbour_too(hand):
    _, table, _ = hand
    b = _row(table, level="institution", key=str(B), group="parents", indicator="safe_school")
    assert b["n"] == 7 and b["suppressed"] == "n<10"
    assert pd.isna(b["k"]) and all(np.isnan(b[c]) for c in ("p", "lo", "hi"))
    # County 1201 shows 22 parents; without hiding A (15), 1201 minus A would give B's 7 parents.
    a = _row(table, level="institution", key=str(A), group="parents", indicator="safe_school")
    assert a["n"] == 15 and a["suppressed"] == "complementary" and pd.isna(a["k"])
    county = _row(table, level="county", key="1201", group="parents", indicator="safe_school")
    assert (county["n"], county["k"]) == (22, 13) and pd.isna(county["suppressed"])


def test_pooled_figures_are_sums_not_averages(hand):
    _, table, _ = hand
    cell = dict(edition=E17, wave="baseline", group="students", indicator="safe_school")
    county = _row(table, level="county", key="1201", **cell)
    assert (county["n"], county["k"]) == (12 + 20, 9 + 5)
    assert county["p"] == pytest.approx(14 / 32)  # not (0.75 + 0.25) / 2
    assert (county["lo"], county["hi"]) == pytest.approx(wilson_by_hand(14, 32), abs=1e-12)
    voiv = _row(table, level="voivodeship", key="12", **cell)
    assert (voiv["n"], voiv["k"]) == (12 + 20 + 30, 9 + 5 + 21)


def test_threshold_is_configurable(hand, ref):
    counts, _, _ = hand
    table = indicator_table(counts, ref, threshold=5)
    b = _row(table, level="institution", key=str(B), group="parents", indicator="safe_school")
    assert pd.isna(b["suppressed"]) and b["k"] == 7
    strict = indicator_table(counts, ref, threshold=25)
    a = _row(strict, level="institution", key=str(A), edition=E17, wave="baseline", group="students",
             indicator="safe_school")
    assert a["suppressed"] == "n<25"


def test_changes_between_waves_by_hand(hand, ref):
    _, table, _ = hand
    changes = changes_between_waves(table, ref)
    assert list(changes.columns) == WAVE_CHANGE_COLUMNS
    cell = dict(level="institution", key=str(C), edition=E17, group="students")
    safe = _row(changes, indicator="safe_school", **cell)
    z, p = ztest_by_hand(17, 20, 5, 20)
    assert (safe["p0"], safe["p1"]) == (0.25, 0.85) and safe["diff"] == pytest.approx(0.6)
    assert safe["z"] == pytest.approx(z, abs=1e-12) and safe["p_value"] == pytest.approx(p, abs=1e-12)
    assert bool(safe["significant"]) and safe["direction"] == "better"
    verbal = _row(changes, indicator="victim_verbal", **cell)  # less violence is better
    assert verbal["diff"] == pytest.approx(-0.55) and bool(verbal["significant"]) and verbal["direction"] == "better"
    police = _row(changes, indicator="trust_police", **cell)
    assert police["p_value"] == pytest.approx(ztest_by_hand(11, 20, 10, 20)[1], abs=1e-12)
    assert not bool(police["significant"]) and pd.isna(police["direction"])
    # The county compares its pooled baseline (A and C) with its pooled follow-up (C only).
    county = _row(changes, level="county", key="1201", edition=E17, group="students", indicator="safe_school")
    assert (county["n0"], county["k0"], county["n1"], county["k1"]) == (32, 14, 20, 17)
    # A side below the threshold: no change is computed.
    small = _row(changes, level="institution", key=str(D), edition=E18, group="students", indicator="safe_school")
    assert small["n1"] == 6 and small["p0"] == 0.5 and pd.isna(small["p1"])
    assert all(pd.isna(small[c]) for c in ("k1", "diff", "z", "p_value", "significant", "direction"))
    assert small["suppressed"] == "follow-up: n<10"


def test_changes_between_editions_skip_the_suspension(hand, ref):
    _, table, _ = hand
    changes = changes_between_editions(table, ref)
    assert list(changes.columns) == EDITION_CHANGE_COLUMNS
    r = _row(changes, level="institution", key=str(D), edition=E22, wave="baseline", group="students",
             indicator="safe_school")
    assert r["previous_edition"] == E18 and (r["p0"], r["p1"]) == (0.5, 0.8)
    assert r["p_value"] == pytest.approx(ztest_by_hand(32, 40, 20, 40)[1], abs=1e-12)
    assert bool(r["significant"]) and r["direction"] == "better"
    r = _row(changes, level="county", key="1202", edition=E18, wave="baseline", group="students",
             indicator="safe_school")
    assert r["previous_edition"] == E17 and (r["n0"], r["k0"], r["n1"], r["k1"]) == (30, 21, 40, 20)
    assert r["direction"] == "worse" if bool(r["significant"]) else pd.isna(r["direction"])
    assert set(changes["previous_edition"]) <= {E17, E18}
    held = {e.edition for e in ref.held_editions()}
    assert set(changes["edition"]) <= held and set(changes["previous_edition"]) <= held


def test_place_ranking_by_hand(hand):
    _, _, places = hand
    assert list(places.columns) == PLACE_COLUMNS
    a = places[(places["level"] == "institution") & (places["key"] == str(A)) & (places["group"] == "students")]
    a = a.set_index("place")
    assert (a["n"] == 13).all()
    assert a.loc["toilets", "k"] == 6 and a.loc["toilets", "p"] == pytest.approx(6 / 13)
    assert (a.loc["toilets", "lo"], a.loc["toilets", "hi"]) == pytest.approx(wilson_by_hand(6, 13), abs=1e-12)
    assert a["rank"].to_dict() == {"toilets": 1, "corridors": 1, "way": 3, "cloakroom": 4, "playground": 4,
                                   "surroundings": 4, "bus_stop": 4, "crossing": 4, "other": 4}
    b = places[(places["key"] == str(B)) & (places["level"] == "institution")]
    assert (b["suppressed"] == "n<10").all() and b["k"].isna().all() and b["rank"].isna().all()
    # A's parents are hidden as a complement of B's, so "all" at A would give them away.
    a_all = places[(places["level"] == "institution") & (places["key"] == str(A)) & (places["group"] == "all")]
    assert (a_all["n"] == 13 + 15).all() and (a_all["suppressed"] == "complementary").all()
    assert a_all["k"].isna().all()
    # At D every group is published, so "all" pools them.
    d_all = _row(places, level="institution", key=str(D), edition=E17, wave="baseline", group="all", place="toilets")
    assert (d_all["n"], d_all["k"], d_all["rank"]) == (42, 13, 1) and pd.isna(d_all["suppressed"])
    county = _row(places, level="county", key="1201", edition=E17, wave="baseline", group="all", place="toilets")
    assert (county["n"], county["k"]) == (13 + 15 + 7, 6 + 5 + 7)


def test_place_shares_count_nowhere_as_an_answer_and_skip_the_skipped(tmp_path, ref):
    """Of 17 students: 4 answered „Nowhere” (every place 0), 7 named places, 2 answered before
    schema version 3 naming none (places 0, place_nowhere empty), 4 skipped the question (all
    empty). Shares are of the 13 who answered; „nowhere” is not a place of the ranking."""
    con = store.create(tmp_path / "nowhere.sqlite")
    people = []
    nowhere = {f"place_{p}": [0] * 4 for p in ref.named_place_codes()} | {"place_nowhere": [1] * 4}
    people += _people(A, E22, "baseline", "students", 4, **nowhere)
    named = _places(7, toilets=range(7), way=[0])
    named["place_nowhere"] = [0] * 7
    people += _people(A, E22, "baseline", "students", 7, **named)
    people += _people(A, E22, "baseline", "students", 2, **_places(2))  # no place_nowhere: as stored before v3
    people += _people(A, E22, "baseline", "students", 4, safe_school=[4] * 4)
    columns = ["institution_id", "edition", "wave", "grp", *ref.survey_columns()]
    with transaction(con):
        insert_rows(con, "institutions", ("id", "rspo", "name", "kind", "county", "municipality", "locality",
                                          "opened_year"), [(A, 10001, "Szkoła A", "primary", "1201", "Bochnia",
                                                            "Bochnia", 1960)])
        insert_rows(con, "survey_responses", columns, [[p.get(c) for c in columns] for p in people])
    counts = place_counts(con, ref)
    places = place_ranking(con, ref)
    con.close()
    assert set(counts["place"]) == set(ref.named_place_codes()) and (counts["n"] == 13).all()
    a = places[(places["level"] == "institution") & (places["group"] == "students")].set_index("place")
    assert (a["n"] == 13).all() and "nowhere" not in a.index
    assert (a.loc["toilets", "k"], a.loc["way", "k"], a.loc["corridors", "k"]) == (7, 1, 0)
    assert a.loc["toilets", "p"] == pytest.approx(7 / 13) and a.loc["way", "p"] == pytest.approx(1 / 13)
    # A „nowhere” together with a place cannot be stored at all.
    con = store.connect(tmp_path / "nowhere.sqlite")
    with pytest.raises(Exception, match="CHECK constraint failed"):
        con.execute("INSERT INTO survey_responses (institution_id, edition, wave, grp, place_nowhere, place_toilets) "
                    "VALUES (?, ?, 'baseline', 'students', 1, 1)", (A, E22))
    con.close()


# --------------------------------------------------------------------------- properties

EDITIONS = [E17, E18]
COUNTIES = ["1201", "1202", "1261"]
INDICATORS = ["safe_school", "victim_verbal"]


@st.composite
def count_frames(draw, item="indicator", items=INDICATORS):
    """Random counts in the shape of indicator_counts (or place_counts with item='place')."""
    n_inst = draw(st.integers(1, 7))
    counties = [draw(st.sampled_from(COUNTIES)) for _ in range(n_inst)]
    rows = []
    for inst, county in enumerate(counties, start=1):
        for edition in EDITIONS:
            for wave in WAVES:
                for group in GROUPS:
                    if not draw(st.booleans()):
                        continue
                    block_n = draw(st.integers(0, 30))
                    for it in items:
                        n = block_n if item == "place" else draw(st.integers(0, 30))
                        k = draw(st.integers(0, n))
                        rows.append((edition, inst, county, wave, group, it, n, k))
    cols = ["edition", "institution_id", "county", "wave", "group", item, "n", "k"]
    frame = pd.DataFrame(rows, columns=cols).astype({"institution_id": "int64", "n": "int64", "k": "int64"})
    if item == "place":
        frame = frame[frame["n"] > 0]
    return frame


def _assert_no_small_figures(frame, threshold, n="n", values=("k", "p", "lo", "hi")):
    small = frame[n] < threshold
    for col in values:
        assert frame.loc[small, col].isna().all(), col
    assert frame.loc[small, "suppressed"].notna().all() if "suppressed" in frame else True


def _assert_parents_protected(table, counts, cells, threshold):
    """For every published county and voivodeship figure: parent n minus published children n is
    0 or at least the threshold."""
    inst_county = counts.drop_duplicates("institution_id").set_index("institution_id")["county"]
    inst = table[table["level"] == "institution"].assign(
        parent=lambda t: t["key"].astype(int).map(inst_county))
    county = table[table["level"] == "county"].assign(parent="12")
    for children, parents in ((inst, table[table["level"] == "county"]), (county, table[table["level"] == "voivodeship"])):
        published = children[children["suppressed"].isna()].groupby(["parent", *cells])["n"].sum()
        for _, row in parents[parents["suppressed"].isna()].iterrows():
            hidden = row["n"] - published.get((row["key"], *[row[c] for c in cells]), 0)
            assert hidden == 0 or hidden >= threshold, (row.to_dict(), hidden)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(counts=count_frames(), threshold=st.integers(1, 25))
def test_indicator_table_properties(ref, counts, threshold):
    table = indicator_table(counts, ref, threshold)
    cells = ["edition", "wave", "group", "indicator"]
    # Pooled counts equal the sums of their parts (n always; k where shown).
    for level, keys in (("county", ["county"]), ("voivodeship", [])):
        sums = counts.groupby(keys + cells)[["n", "k"]].sum()
        got = table[table["level"] == level].copy()
        got["county"] = got["key"]
        got = got.set_index(keys + cells)
        assert len(got) == len(sums)
        assert (got["n"] == sums.loc[got.index, "n"]).all()
        shown = got["k"].notna()
        assert (got.loc[shown, "k"] == sums.loc[got.index[shown], "k"]).all()
    _assert_no_small_figures(table, threshold)
    assert (table["k"].isna() == table["suppressed"].notna()).all()
    _assert_parents_protected(table, counts, cells, threshold)
    for changes in (changes_between_waves(table, ref), changes_between_editions(table, ref)):
        for side in "01":
            _assert_no_small_figures(changes, threshold, n=f"n{side}", values=(f"k{side}", f"p{side}"))
            small = changes[f"n{side}"] < threshold
            assert changes.loc[small, ["diff", "z", "p_value", "significant", "direction"]].isna().all().all()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(counts=count_frames(item="place", items=["toilets", "way"]), threshold=st.integers(1, 25))
def test_place_table_properties(ref, counts, threshold):
    places = place_table(counts, ref, threshold)
    _assert_no_small_figures(places, threshold, values=("k", "p", "lo", "hi", "rank"))
    groups = places[places["group"] != "all"]
    _assert_parents_protected(groups.assign(indicator=groups["place"]), counts.rename(columns={"place": "indicator"}),
                              ["edition", "wave", "group", "indicator"], threshold)
    # "all" pools the groups, and is shown only where every group of that node is shown.
    keys = ["level", "key", "edition", "wave", "place"]
    parts = groups.groupby(keys).agg(n=("n", "sum"), hidden=("suppressed", lambda s: bool(s.notna().any())))
    whole = places[places["group"] == "all"].set_index(keys)
    assert (whole["n"] == parts.loc[whole.index, "n"]).all()
    assert not (whole["suppressed"].isna() & parts.loc[whole.index, "hidden"].astype(bool)).any()
    # Ranks: 1 for the most named place of each shown group.
    shown = places[places["suppressed"].isna()]
    if not shown.empty:
        top = shown.groupby(["level", "key", "edition", "wave", "group"])["k"].transform("max")
        assert ((shown["rank"] == 1) == (shown["k"] == top)).all()


# --------------------------------------------------------------------------- generated demo database

def test_demo_database(small_db, ref):
    con = store.connect(small_db, readonly=True)
    counts = indicator_counts(con, ref)
    places = place_ranking(con, ref)
    edition = counts["edition"].iloc[len(counts) // 2]
    raw = store.load(con, "survey_responses", "edition = ?", (edition,))
    con.close()
    # The SQL counts agree with pandas on the raw responses.
    for ind in ref.indicators.values():
        answered = raw[ind.item].notna()
        expect = (raw.assign(n=answered, k=raw[ind.item].isin(list(ind.positive)) & answered,
                             wave=raw["wave"].astype(str), group=raw["grp"].astype(str),
                             institution_id=raw["institution_id"].astype("int64"))
                  .groupby(["institution_id", "wave", "group"])[["n", "k"]].sum())
        got = counts[(counts["edition"] == edition) & (counts["indicator"] == ind.id)]
        got = got.set_index(["institution_id", "wave", "group"])[["n", "k"]]
        expect, got = expect[expect["n"] > 0], got[got["n"] > 0]
        assert len(got) == len(expect) > 0
        assert (got.to_numpy() == expect.loc[got.index].to_numpy()).all()
    table = indicator_table(counts, ref)
    shown = table[table["suppressed"].isna()]
    assert ((shown["lo"] <= shown["p"]) & (shown["p"] <= shown["hi"])).all()
    assert (shown["n"] >= 10).all() and table.loc[table["n"] < 10, "k"].isna().all()
    voiv = table[table["level"] == "voivodeship"].set_index(["edition", "wave", "group", "indicator"])["n"]
    assert (voiv == counts.groupby(["edition", "wave", "group", "indicator"])["n"].sum().loc[voiv.index]).all()
    _assert_parents_protected(table, counts, ["edition", "wave", "group", "indicator"], 10)
    # Significant changes point the way the difference and the indicator say.
    changes = changes_between_waves(table, ref)
    sig = changes[changes["significant"].fillna(False).astype(bool)]
    assert (sig["p_value"] < 0.05).all() and not sig.empty
    better = sig["indicator"].map({i.id: i.better for i in ref.indicators.values()})
    expected = np.where((sig["diff"] > 0) == (better == "higher"), "better", "worse")
    assert (sig["direction"].to_numpy() == expected).all()
    # Places: n is shared by every place of a group; figures shown only from 10 respondents.
    assert (places.groupby(["level", "key", "edition", "wave", "group"])["n"].nunique() == 1).all()
    assert places.loc[places["n"] < 10, ["k", "p", "rank"]].isna().all().all()
    assert set(places["group"]) == {*GROUPS, "all"}
