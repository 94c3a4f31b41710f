"""Wilson intervals and the two-proportion test agree with statsmodels and with hand computations;
suppression hides every small figure, including those recoverable by subtraction."""
from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from statsmodels.stats.proportion import proportion_confint, proportions_ztest

from zpb_lib.domain.stats import (COMPLEMENTARY, DEFAULT_THRESHOLD, complementary_suppression, suppress_small, two_proportion_test, wilson_interval)

Z95 = 1.959963984540054  # standard normal 97.5% quantile


def wilson_by_hand(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The closed form, written independently of the code under test."""
    p = k / n
    centre = (k + z * z / 2) / (n + z * z)
    half = z * math.sqrt(n * p * (1 - p) + z * z / 4) / (n + z * z)
    return max(0.0, centre - half), min(1.0, centre + half)


# --------------------------------------------------------------------------- Wilson

def test_wilson_matches_statsmodels_on_a_grid():
    n = np.concatenate([np.repeat(np.arange(1, 81), np.arange(2, 82))])
    k = np.concatenate([np.arange(0, m + 1) for m in range(1, 81)])
    rng = np.random.default_rng(1)
    big_n = rng.integers(81, 2_000_000, 500)
    n = np.concatenate([n, big_n])
    k = np.concatenate([k, rng.integers(0, big_n + 1)])
    for confidence in (0.8, 0.9, 0.95, 0.99):
        lo, hi = wilson_interval(k, n, confidence)
        ref_lo, ref_hi = proportion_confint(k, n, alpha=1 - confidence, method="wilson")
        np.testing.assert_allclose(lo, ref_lo, rtol=0, atol=1e-9)
        np.testing.assert_allclose(hi, ref_hi, rtol=0, atol=1e-9)


def test_wilson_worked_example_newcombe_1998():
    # Newcombe (1998), Stat Med 17:857-872, example 81/263: score interval 0.2553 to 0.3662.
    lo, hi = wilson_interval(81, 263)
    assert (round(lo, 4), round(hi, 4)) == (0.2553, 0.3662)
    assert (lo, hi) == pytest.approx(wilson_by_hand(81, 263), abs=1e-12)


@pytest.mark.parametrize("k, n", [(0, 1), (0, 12), (12, 12), (9, 12), (1, 1000), (999, 1000)])
def test_wilson_closed_form(k, n):
    assert wilson_interval(k, n) == pytest.approx(wilson_by_hand(k, n), abs=1e-12)


def test_wilson_edges():
    lo, hi = wilson_interval(np.array([0, 5, 5]), np.array([0, 5, 10]))
    assert np.isnan(lo[0]) and np.isnan(hi[0])
    assert hi[1] == 1.0
    lo0, _ = wilson_interval(0, 7)
    assert lo0 == 0.0


def test_wilson_keeps_the_container():
    idx = pd.Index(["a", "b", "c"])
    k = pd.Series([3, pd.NA, 0], index=idx, dtype="Int64")
    n = pd.Series([10, 10, 0], index=idx)
    lo, hi = wilson_interval(k, n)
    assert isinstance(lo, pd.Series) and list(lo.index) == list(idx)
    assert lo["a"] == pytest.approx(wilson_by_hand(3, 10)[0])
    assert np.isnan(lo["b"]) and np.isnan(hi["c"])
    assert isinstance(wilson_interval(np.array([1]), np.array([4]))[0], np.ndarray)
    assert isinstance(wilson_interval(1, 4)[0], float)


def test_wilson_refuses_impossible_counts():
    with pytest.raises(ValueError):
        wilson_interval(5, 4)
    with pytest.raises(ValueError):
        wilson_interval(-1, 4)
    with pytest.raises(ValueError):
        wilson_interval(1, 4, confidence=1.2)


# --------------------------------------------------------------------------- two-proportion test

def test_two_proportion_test_matches_statsmodels():
    rng = np.random.default_rng(2)
    n1 = rng.integers(1, 400, 1500)
    n2 = rng.integers(1, 400, 1500)
    k1 = rng.integers(0, n1 + 1)
    k2 = rng.integers(0, n2 + 1)
    z, p = two_proportion_test(k1, n1, k2, n2)
    for i in range(len(n1)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref_z, ref_p = proportions_ztest([k1[i], k2[i]], [n1[i], n2[i]])
        if np.isnan(ref_z):
            assert np.isnan(z[i]) and np.isnan(p[i])
        else:
            assert z[i] == pytest.approx(ref_z, abs=1e-9)
            assert p[i] == pytest.approx(ref_p, abs=1e-9)


def test_two_proportion_test_by_hand():
    # 45/100 vs 30/100: pooled 0.375, se = sqrt(0.375 * 0.625 * 0.02), two-sided normal p-value.
    se = math.sqrt(0.375 * 0.625 * (1 / 100 + 1 / 100))
    z_hand = (0.45 - 0.30) / se
    p_hand = math.erfc(z_hand / math.sqrt(2))
    z, p = two_proportion_test(45, 100, 30, 100)
    assert z == pytest.approx(z_hand, abs=1e-12) and p == pytest.approx(p_hand, abs=1e-12)
    assert z == pytest.approx(2.1909, abs=1e-4) and p == pytest.approx(0.0285, abs=1e-4)
    z_rev, p_rev = two_proportion_test(30, 100, 45, 100)
    assert z_rev == pytest.approx(-z) and p_rev == pytest.approx(p)


@pytest.mark.parametrize("k1, n1, k2, n2", [(0, 0, 3, 10), (3, 10, 0, 0), (0, 10, 0, 25), (10, 10, 25, 25)])
def test_two_proportion_test_undefined_is_nan(k1, n1, k2, n2):
    z, p = two_proportion_test(k1, n1, k2, n2)
    assert np.isnan(z) and np.isnan(p)


def test_two_proportion_test_series():
    idx = pd.Index([10, 20])
    z, p = two_proportion_test(pd.Series([45, 0], index=idx), pd.Series([100, 5], index=idx),
                               pd.Series([30, 0], index=idx), pd.Series([100, 5], index=idx))
    assert isinstance(z, pd.Series) and list(p.index) == [10, 20]
    assert p[10] == pytest.approx(0.0285, abs=1e-4) and np.isnan(p[20])


# --------------------------------------------------------------------------- primary suppression

def test_suppress_small_hides_values_but_not_n():
    df = pd.DataFrame({"n": [9, 10, 0], "k": [3, 4, 0], "p": [1 / 3, 0.4, np.nan],
                       "lo": [0.1, 0.2, np.nan], "hi": [0.6, 0.7, np.nan]})
    out = suppress_small(df)
    assert list(out["n"]) == [9, 10, 0]
    assert out["k"].isna().tolist() == [True, False, True]
    assert out[["p", "lo", "hi"]].iloc[[0, 2]].isna().all().all()
    assert out["suppressed"].tolist()[0] == "n<10" and pd.isna(out["suppressed"][1])
    assert DEFAULT_THRESHOLD == 10
    five = suppress_small(df, threshold=5)
    assert five["suppressed"].fillna("").tolist() == ["", "", "n<5"]
    assert df["k"].notna().all()  # the input is not modified


@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_threshold_must_be_a_positive_whole_number(bad):
    with pytest.raises(ValueError):
        suppress_small(pd.DataFrame({"n": [1], "k": [1]}), threshold=bad)


# --------------------------------------------------------------------------- complementary suppression

def _tree(rows, cell="x"):
    """rows: (node, parent, n) of leaves; parents are pooled here, the way the indicators pool."""
    df = pd.DataFrame(rows, columns=["node", "parent", "n"])
    counties = df.groupby("parent", sort=False)["n"].sum().reset_index()
    counties = counties.rename(columns={"parent": "node"}).assign(parent="V")
    out = pd.concat([pd.DataFrame({"node": ["V"], "parent": [None], "n": [df["n"].sum()]}), counties, df],
                    ignore_index=True)
    out["k"] = out["n"] // 2
    out["cell"] = cell
    return out


def _reasons(out):
    return dict(zip(out["node"], out["suppressed"].fillna("")))


def test_complementary_hides_the_smallest_other_child():
    out = complementary_suppression(_tree([("A", "C1", 7), ("B", "C1", 50), ("D", "C1", 30), ("E", "C2", 200)]), ["cell"])
    r = _reasons(out)
    assert r["A"] == "n<10" and r["D"] == COMPLEMENTARY and r["B"] == "" and r["C1"] == ""
    assert out.set_index("node").loc["D", "k"] is pd.NA


def test_no_complementary_when_suppressed_children_reach_the_threshold():
    out = complementary_suppression(_tree([("A", "C1", 7), ("B", "C1", 5), ("D", "C1", 30)]), ["cell"])
    assert _reasons(out) == {"V": "", "C1": "", "A": "n<10", "B": "n<10", "D": ""}


def test_complementary_ties_go_to_the_first_row():
    out = complementary_suppression(_tree([("A", "C1", 3), ("B", "C1", 20), ("D", "C1", 20)]), ["cell"])
    assert _reasons(out)["B"] == COMPLEMENTARY and _reasons(out)["D"] == ""


def test_complementary_across_levels():
    # County C1 has one school of 7: it is hidden. Hiding the county C2 alone would not help: its
    # schools stay published, and V - C3 - (schools of C2) would give C1. A school must go too.
    out = complementary_suppression(_tree([("A", "C1", 7), ("B", "C2", 25), ("D", "C2", 30), ("E", "C3", 100)]),
                                    ["cell"])
    r = _reasons(out)
    assert r["C1"] == "n<10" and r["A"] == "n<10"
    assert r["C2"] == COMPLEMENTARY and r["B"] == COMPLEMENTARY
    assert r["D"] == "" and r["C3"] == "" and r["E"] == "" and r["V"] == ""


def test_cells_are_independent():
    df = pd.concat([_tree([("A", "C1", 7), ("B", "C1", 50)], "x"),
                    _tree([("A", "C1", 70), ("B", "C1", 50)], "y")], ignore_index=True)
    out = complementary_suppression(df, ["cell"])
    assert out["suppressed"].notna().sum() == 2
    assert out[out["cell"] == "y"]["suppressed"].isna().all()


# --------------------------------------------------------------------------- properties

@st.composite
def trees(draw, max_counties=4, max_schools=4, max_n=40):
    counties = draw(st.integers(1, max_counties))
    rows = []
    for c in range(counties):
        for s in range(draw(st.integers(1, max_schools))):
            rows.append((f"S{c}.{s}", f"C{c}", draw(st.integers(0, max_n))))
    return rows


def _check_published_parents(out, threshold):
    """Brief's rule: parent n minus published children n is 0 or at least threshold, for every
    published parent; and the same with the published schools of hidden counties subtracted too."""
    pub = out[out["suppressed"].isna()]
    nodes = out.set_index("node")
    for parent, children in out[out["parent"].notna()].groupby("parent"):
        if parent not in set(pub["node"]):
            continue
        hidden = nodes.loc[parent, "n"] - children[children["suppressed"].isna()]["n"].sum()
        assert hidden == 0 or hidden >= threshold, (parent, hidden)
    if "V" in set(pub["node"]):
        hidden_counties = out[(out["parent"] == "V") & out["suppressed"].notna()]["node"]
        exposed = out[out["parent"].isin(hidden_counties) & out["suppressed"].notna()]["n"].sum()
        assert exposed == 0 or exposed >= threshold


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=trees(), threshold=st.integers(1, 25))
def test_suppression_properties(rows, threshold):
    out = complementary_suppression(_tree(rows), ["cell"], threshold)
    small = out["n"] < threshold
    assert out.loc[small, "suppressed"].notna().all()
    assert (out.loc[small, "suppressed"] == f"n<{threshold}").all()
    assert (out["k"].isna() == out["suppressed"].notna()).all()
    _check_published_parents(out, threshold)
    if not small.any():
        assert out["suppressed"].isna().all()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=trees(max_counties=3, max_schools=3, max_n=25), threshold=st.integers(2, 15))
def test_no_small_group_is_recoverable_from_published_figures(rows, threshold):
    """Exact audit: a set of schools is disclosed when its total is a linear combination of
    published totals. No such set may have 1..threshold-1 respondents."""
    out = complementary_suppression(_tree(rows), ["cell"], threshold)
    leaves = [r[0] for r in rows]
    sizes = np.array([r[2] for r in rows])
    parents = {r[0]: r[1] for r in rows}

    def members(node):
        if node == "V":
            return set(leaves)
        if node in parents:
            return {node}
        return {leaf for leaf in leaves if parents[leaf] == node}

    published = [members(node) for node in out.loc[out["suppressed"].isna(), "node"]]
    published += [{leaf} for leaf, size in zip(leaves, sizes) if size == 0]  # nobody: nothing to hide
    if not published:
        return
    a = np.array([[leaf in m for leaf in leaves] for m in published], dtype=float)
    projector = np.linalg.pinv(a) @ a
    subsets = np.array(list(itertools.product([0.0, 1.0], repeat=len(leaves)))[1:])
    determined = np.abs(subsets - subsets @ projector).max(axis=1) < 1e-8
    totals = subsets @ sizes
    leaks = determined & (totals > 0) & (totals < threshold)
    assert not leaks.any(), subsets[leaks]
