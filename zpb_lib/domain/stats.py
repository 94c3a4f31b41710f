"""Survey statistics: Wilson intervals, the two-proportion test and disclosure control.

Conventions (DESIGN.md, sections 4 and 5): an indicator is a proportion ``k / n`` with a Wilson 95%
interval; a change is significant when the pooled two-proportion z-test gives p < 0.05; a figure
based on fewer than ``threshold`` respondents (default 10) is never shown, and enough further
figures are hidden (complementary suppression) that no small figure can be recovered by
subtracting published figures from a published total.

The numeric functions are vectorised: they take scalars, numpy arrays or pandas Series and return
the same kind (a Series keeps the index of the first Series argument). The suppression functions
work on tidy DataFrames.
"""
from __future__ import annotations

import math
from statistics import NormalDist
from typing import Iterable, Sequence, TypeVar

import numpy as np
import pandas as pd

DEFAULT_THRESHOLD = 10
COMPLEMENTARY = "complementary"
#: The columns whose values a suppressed row must not show (``n`` stays visible).
SUPPRESSED_VALUES = ("k", "p", "lo", "hi")

Numeric = TypeVar("Numeric", float, np.ndarray, pd.Series)


# --------------------------------------------------------------------------- array helpers

def _as_float(x) -> np.ndarray:
    """A float array; pandas missing values (``pd.NA`` in Int64 columns) become NaN."""
    if isinstance(x, (pd.Series, pd.Index)):
        return x.to_numpy(dtype=float, na_value=np.nan)
    return np.asarray(x, dtype=float)


def _template(*args):
    """The first Series among the arguments (its index is reused), else whether any is an array."""
    for a in args:
        if isinstance(a, pd.Series):
            return a
    return any(np.ndim(a) > 0 for a in args)


def _wrap(values: np.ndarray, template):
    if isinstance(template, pd.Series):
        return pd.Series(values, index=template.index)
    if template is True:
        return values
    return float(values)


def _check_counts(k: np.ndarray, n: np.ndarray, what: str = "k") -> None:
    with np.errstate(invalid="ignore"):
        bad = (k < 0) | (n < 0) | (k > n)
    if np.any(bad):
        raise ValueError(f"counts must satisfy 0 <= {what} <= n")


def _z_critical(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence!r}")
    return NormalDist().inv_cdf(0.5 + confidence / 2)


_erfc = np.frompyfunc(math.erfc, 1, 1)


# --------------------------------------------------------------------------- intervals and tests

def wilson_interval(k: Numeric, n: Numeric, confidence: float = 0.95) -> tuple[Numeric, Numeric]:
    """Wilson score interval for the proportion ``k / n``.

    Wilson rather than the textbook Wald interval because school samples are small and many
    indicators are near 0% or 100%, where Wald intervals collapse or leave [0, 1]. ``lo`` is exactly
    0 when ``k == 0`` and ``hi`` exactly 1 when ``k == n`` (as the formula gives without rounding).
    ``lo`` and ``hi`` are NaN where ``n == 0`` or a count is missing.
    """
    template = _template(k, n)
    k_, n_ = np.broadcast_arrays(_as_float(k), _as_float(n))
    _check_counts(k_, n_)
    z = _z_critical(confidence)
    z2 = z * z
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k_ / n_
        denom = 1.0 + z2 / n_
        centre = (p + z2 / (2.0 * n_)) / denom
        half = z * np.sqrt(p * (1.0 - p) / n_ + z2 / (4.0 * n_ * n_)) / denom
        # Exact at the edges (rounding would give 1e-17 instead of 0 for k = 0).
        lo = np.where(k_ == 0, 0.0, np.clip(centre - half, 0.0, 1.0))
        hi = np.where(k_ == n_, 1.0, np.clip(centre + half, 0.0, 1.0))
    undefined = ~(n_ > 0)
    lo = np.where(undefined, np.nan, lo)
    hi = np.where(undefined, np.nan, hi)
    return _wrap(lo, template), _wrap(hi, template)


def two_proportion_test(k1: Numeric, n1: Numeric, k2: Numeric, n2: Numeric) -> tuple[Numeric, Numeric]:
    """Two-sided z-test of ``k1/n1 == k2/n2`` with the pooled variance, no continuity correction.

    This is what ``statsmodels.stats.proportion.proportions_ztest([k1, k2], [n1, n2])`` computes:
    ``z = (p1 - p2) / sqrt(P (1 - P) (1/n1 + 1/n2))`` with the pooled ``P = (k1 + k2) / (n1 + n2)``,
    and ``p_value = 2 * (1 - Phi(|z|))``. ``z`` is positive when the first proportion is larger.

    Both ``z`` and ``p_value`` are NaN where the test is undefined:

    * ``n1 == 0`` or ``n2 == 0`` (or a count is missing): a proportion does not exist;
    * the pooled proportion is 0 or 1 (every respondent on both sides answered alike): the
      estimated standard error is 0 and ``z`` is 0/0. The two proportions are then equal, so there
      is no evidence of a change, but "p = 1" would claim a test that cannot be carried out;
      callers should read NaN as "no significant change" (``p_value < 0.05`` is False for NaN).
      statsmodels returns NaN here too.
    """
    template = _template(k1, n1, k2, n2)
    k1_, n1_, k2_, n2_ = np.broadcast_arrays(_as_float(k1), _as_float(n1), _as_float(k2), _as_float(n2))
    _check_counts(k1_, n1_, "k1")
    _check_counts(k2_, n2_, "k2")
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled = (k1_ + k2_) / (n1_ + n2_)
        se = np.sqrt(pooled * (1.0 - pooled) * (1.0 / n1_ + 1.0 / n2_))
        z = (k1_ / n1_ - k2_ / n2_) / se
    undefined = ~((n1_ > 0) & (n2_ > 0) & (pooled > 0) & (pooled < 1))
    z = np.where(undefined, np.nan, z)
    p_value = np.asarray(_erfc(np.abs(np.atleast_1d(z)) / math.sqrt(2.0)), dtype=float).reshape(np.shape(z))
    return _wrap(z, template), _wrap(p_value, template)


# --------------------------------------------------------------------------- suppression

def small_reason(threshold: int) -> str:
    """The ``suppressed`` reason of a figure from too few respondents, e.g. ``"n<10"``."""
    return f"n<{threshold}"


def _check_threshold(threshold: int) -> None:
    if not isinstance(threshold, (int, np.integer)) or isinstance(threshold, bool) or threshold < 1:
        raise ValueError(f"threshold must be a positive whole number, got {threshold!r}")


def mask_suppressed(frame: pd.DataFrame, *, values: Iterable[str] = SUPPRESSED_VALUES,
                    reason: str = "suppressed") -> pd.DataFrame:
    """Blank ``values`` in every row that has a ``reason``: integer columns become nullable
    (``<NA>``), float columns NaN. Returns a copy."""
    out = frame.copy()
    hidden = out[reason].notna().to_numpy()
    for col in values:
        if col not in out.columns:
            continue
        if pd.api.types.is_integer_dtype(out[col]) and not isinstance(out[col].dtype, pd.Int64Dtype):
            out[col] = out[col].astype("Int64")
        out[col] = out[col].mask(hidden)
    return out


def suppress_small(frame: pd.DataFrame, threshold: int = DEFAULT_THRESHOLD, *, n: str = "n",
                   values: Iterable[str] = SUPPRESSED_VALUES, reason: str = "suppressed") -> pd.DataFrame:
    """Primary suppression: rows whose ``n`` is below ``threshold`` lose ``values`` and get the reason
    ``"n<threshold"``. ``n`` itself stays visible (the number of respondents is not sensitive; what
    they answered is). An existing reason is kept. Returns a copy."""
    _check_threshold(threshold)
    out = frame.copy()
    if reason not in out.columns:
        out[reason] = pd.Series(np.nan, index=out.index, dtype="str")
    small = (out[n] < threshold).to_numpy() & out[reason].isna().to_numpy()
    out.loc[small, reason] = small_reason(threshold)
    return mask_suppressed(out, values=values, reason=reason)


def complementary_suppression(frame: pd.DataFrame, cells: Sequence[str], threshold: int = DEFAULT_THRESHOLD,
                              *, node: str = "node", parent: str = "parent", n: str = "n",
                              values: Iterable[str] = SUPPRESSED_VALUES,
                              reason: str = "suppressed") -> pd.DataFrame:
    """Primary and complementary suppression of pooled figures in a hierarchy.

    ``frame`` holds one row per ``node`` and cell (``cells``, e.g. edition, wave, group, indicator);
    ``parent`` names the node's parent (missing for the root, e.g. institution -> county ->
    voivodeship). Node names must be unique across levels. A parent's ``n`` must be the sum of its
    children's ``n`` (pooled figures). Rows in which a node has no respondents may be absent.

    Rule. First every figure with ``n < threshold`` is suppressed (reason ``"n<threshold"``). Then,
    for each cell and each published parent, the respondents that parent-minus-published-figures
    would expose are counted: the leaves under the parent not covered by a published node below
    it. With two levels these are just the parent's suppressed children (the rule of the brief:
    institutions in a county). While that count is above 0 but below ``threshold``, the published
    node directly below the parent with the smallest ``n`` is suppressed too (reason
    ``"complementary"``; nodes whose suppression actually adds exposed respondents go first, ties
    keep frame order), until the count reaches ``threshold`` or nothing is left to suppress.

    Why not only child-by-child per level: if a county is suppressed only as a complement, its
    published schools are still known, so voivodeship minus published counties minus those schools
    would reveal the county's small suppressed school. Counting exposed leaves closes that hole.
    After this function, for every published parent, ``parent n - sum of n of its published
    children`` is 0 or at least ``threshold``, and so is the number of respondents behind any
    difference of published figures. Returns a copy with ``values`` masked.
    """
    out = suppress_small(frame, threshold, n=n, values=(), reason=reason)
    if out.empty:
        return mask_suppressed(out, values=values, reason=reason)
    cells = list(cells)
    cell = (out.groupby(cells, sort=False, dropna=False).ngroup().to_numpy().astype(np.int64)
            if cells else np.zeros(len(out), dtype=np.int64))
    n_cells = int(cell.max()) + 1
    codes, uniques = pd.factorize(pd.concat([out[node], out[parent].dropna()], ignore_index=True))
    node_code = codes[:len(out)].astype(np.int64)
    parent_code = np.full(len(out), -1, dtype=np.int64)
    has_parent = out[parent].notna().to_numpy()
    parent_code[has_parent] = codes[len(out):]
    parent_of = np.full(len(uniques), -1, dtype=np.int64)
    parent_of[node_code] = parent_code
    if np.any(parent_of[node_code] != parent_code):
        raise ValueError("a node has two different parents")
    is_parent = np.zeros(len(uniques), dtype=bool)
    is_parent[parent_code[parent_code >= 0]] = True
    row_key = node_code * n_cells + cell
    index = pd.Index(row_key)
    if not index.is_unique:
        raise ValueError("duplicate rows for a node and cell")
    n_vals = out[n].to_numpy(dtype=float)
    leaf = ~is_parent[node_code]
    order = np.arange(len(out))

    def nearest_published(start: np.ndarray, cell_of: np.ndarray, published: np.ndarray) -> np.ndarray:
        """For each start node, itself or its nearest ancestor published in the same cell (-1: none)."""
        result = np.full(len(start), -1, dtype=np.int64)
        cur = start.copy()
        open_ = cur >= 0
        while open_.any():
            pos = np.full(len(cur), -1, dtype=np.int64)
            pos[open_] = index.get_indexer(cur[open_] * n_cells + cell_of[open_])
            hit = open_ & (pos >= 0)
            hit[hit] = published[pos[hit]]
            result[hit] = cur[hit]
            open_ &= ~hit
            cur = np.where(open_, parent_of[np.maximum(cur, 0)], -1)
            open_ &= cur >= 0
        return result

    while True:
        published = out[reason].isna().to_numpy()
        # Exposed respondents of a published node: leaves whose nearest published ancestor-or-self it is.
        owner = nearest_published(node_code[leaf], cell[leaf], published)
        keep = owner >= 0
        exposed = pd.Series(n_vals[leaf][keep]).groupby(owner[keep] * n_cells + cell[leaf][keep]).sum()
        exposed_of_row = exposed.reindex(row_key).fillna(0.0).to_numpy()
        violating = published & ~leaf & (exposed_of_row > 0) & (exposed_of_row < threshold)
        if not violating.any():
            break
        # Candidates: published nodes whose nearest published proper ancestor is a violating node.
        up = nearest_published(parent_code, cell, published)
        up_pos = np.full(len(out), -1, dtype=np.int64)
        has_up = up >= 0
        up_pos[has_up] = index.get_indexer(up[has_up] * n_cells + cell[has_up])
        cand = published & (up_pos >= 0)
        cand[cand] = violating[up_pos[cand]]
        if not cand.any():
            break
        gain = np.where(leaf, n_vals, exposed_of_row)
        chosen = (pd.DataFrame({"grp": up_pos[cand], "no_gain": gain[cand] <= 0, "n": n_vals[cand],
                                "order": order[cand], "row": np.flatnonzero(cand)})
                  .sort_values(["grp", "no_gain", "n", "order"]).drop_duplicates("grp")["row"].to_numpy())
        out.iloc[chosen, out.columns.get_loc(reason)] = COMPLEMENTARY
    return mask_suppressed(out, values=values, reason=reason)
