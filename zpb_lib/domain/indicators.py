"""Survey indicators for the reports: counts per institution, pooled county and voivodeship figures
with Wilson intervals and disclosure control, changes between waves and editions, and the ranking of
dangerous places.

Every figure a report shows comes from :func:`indicator_table` or :func:`place_ranking` (or the
change tables built from the former), which suppress small figures themselves: a caller cannot get
a proportion based on fewer than ``threshold`` respondents out of them, nor one that can be
recovered by subtraction. County and voivodeship figures pool respondents (sums of ``n`` and ``k``),
never average school percentages (DESIGN.md, section 5).
"""
from __future__ import annotations

from typing import Iterable

import numpy as np
import pandas as pd

from zpb_lib.reference import GROUPS, WAVES, Reference, reference
from zpb_lib.domain.stats import (COMPLEMENTARY, DEFAULT_THRESHOLD, complementary_suppression, mask_suppressed, small_reason, two_proportion_test, wilson_interval)
from zpb_lib.store.backend import Connection
from zpb_lib.store.queries.surveys import answer_counts, choice_counts

LEVELS = ("voivodeship", "county", "institution")
VOIVODESHIP = "12"  # TERYT of Małopolska: the key of voivodeship rows
SIGNIFICANCE = 0.05
ALL_GROUPS = "all"

COUNT_COLUMNS = ["edition", "institution_id", "county", "wave", "group", "indicator", "n", "k"]
TABLE_COLUMNS = ["level", "key", "edition", "wave", "group", "indicator", "n", "k", "p", "lo", "hi", "suppressed"]
CHANGE_VALUES = ["n0", "k0", "p0", "n1", "k1", "p1", "diff", "z", "p_value", "significant", "direction",
                 "suppressed"]
WAVE_CHANGE_COLUMNS = ["level", "key", "edition", "group", "indicator", *CHANGE_VALUES]
EDITION_CHANGE_COLUMNS = ["level", "key", "edition", "previous_edition", "wave", "group", "indicator",
                          *CHANGE_VALUES]
PLACE_COUNT_COLUMNS = ["edition", "institution_id", "county", "wave", "group", "n", "place", "k"]
PLACE_COLUMNS = ["level", "key", "edition", "wave", "group", "place", "n", "k", "p", "lo", "hi", "rank",
                 "suppressed"]


# --------------------------------------------------------------------------- helpers

def _editions(ref: Reference, editions: Iterable[str] | None) -> list[str] | None:
    """``editions`` as the database names them (any spelling :meth:`Reference.edition` reads); None: all."""
    if editions is None:
        return None
    return [ref.edition(e).edition for e in ([editions] if isinstance(editions, str) else editions)]


def _sort(frame: pd.DataFrame, orders: dict[str, list | None]) -> pd.DataFrame:
    """Sort by the given columns, each in the listed value order (levels, waves, groups and
    indicators in reference order) or in natural order (None). Institution keys sort by number."""
    sorter = {}
    for col, values in orders.items():
        if col == "key":
            sorter["_number"] = pd.to_numeric(frame["key"], errors="coerce").where(frame["level"] == "institution")
            sorter["key"] = frame["key"]
        elif values is None:
            sorter[col] = frame[col]
        else:
            sorter[col] = frame[col].map({v: i for i, v in enumerate(values)})
    sorter = pd.DataFrame(sorter, index=frame.index)
    order = sorter.sort_values(list(sorter.columns), kind="stable").index
    return frame.loc[order].reset_index(drop=True)


def _long(wide: pd.DataFrame, name: str, names: list[str], values: dict[str, list[str]],
          repeat: Iterable[str] = ()) -> pd.DataFrame:
    """Reshape one row per (edition, institution, wave, group) with one column per item into one
    row per item, in the order edition, institution, wave, group (reference orders), item."""
    wide = wide.assign(_wave=wide["wave"].map({w: i for i, w in enumerate(WAVES)}),
                       _group=wide["grp"].map({g: i for i, g in enumerate(GROUPS)}))
    wide = wide.sort_values(["edition", "institution_id", "_wave", "_group"], kind="stable")
    m = len(names)
    out = {c: np.repeat(wide[c].to_numpy(dtype=object), m) for c in ("edition", "county", "wave")}
    out["institution_id"] = np.repeat(wide["institution_id"].to_numpy(dtype=np.int64), m)
    out["group"] = np.repeat(wide["grp"].to_numpy(dtype=object), m)
    for c in repeat:
        out[c] = np.repeat(wide[c].to_numpy(dtype=np.int64), m)
    out[name] = np.tile(np.array(names, dtype=object), len(wide))
    for c, cols in values.items():
        out[c] = wide[cols].to_numpy(dtype=np.int64).ravel()
    tidy = pd.DataFrame(out)
    for c in ("edition", "county", "wave", "group", name):
        tidy[c] = tidy[c].astype("str")
    return tidy


def _hierarchy(counts: pd.DataFrame, cells: list[str], sums: list[str]) -> pd.DataFrame:
    """Institution rows plus pooled county and voivodeship rows, with node/parent names for the
    suppression tree. ``counts`` has institution_id and county columns."""
    inst = counts.assign(level="institution", key=counts["institution_id"].astype("int64").astype(str),
                         node="i:" + counts["institution_id"].astype("int64").astype(str),
                         parent="c:" + counts["county"].astype(str))
    county = counts.groupby(["county", *cells], sort=False, observed=True)[sums].sum().reset_index()
    county = county.assign(level="county", key=county["county"].astype(str), node="c:" + county["county"].astype(str),
                           parent="v:" + VOIVODESHIP)
    voiv = counts.groupby(cells, sort=False, observed=True)[sums].sum().reset_index()
    voiv = voiv.assign(level="voivodeship", key=VOIVODESHIP, node="v:" + VOIVODESHIP, parent=None)
    cols = ["level", "key", "node", "parent", *cells, *sums]
    return pd.concat([voiv[cols], county[cols], inst[cols]], ignore_index=True)


def _proportions(frame: pd.DataFrame) -> pd.DataFrame:
    n = frame["n"].to_numpy(dtype=float)
    k = frame["k"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        frame["p"] = np.where(n > 0, k / n, np.nan)
    frame["lo"], frame["hi"] = wilson_interval(k, n)
    return frame


# --------------------------------------------------------------------------- indicators

def indicator_counts(con: Connection, ref: Reference, editions: Iterable[str] | None = None) -> pd.DataFrame:
    """Respondents (``n``: answered the item) and positive answers (``k``: answer in the indicator's
    ``positive`` values) per edition, institution, wave, group and indicator.

    One aggregate query over ``survey_responses`` (:func:`zpb_lib.store.queries.surveys.answer_counts`:
    it scans the (edition, institution, group, wave) index once, linear in the number of responses). Pairs of group and indicator
    whose item is not in the group's questionnaire and that nobody answered are left out.
    Columns: ``COUNT_COLUMNS``.
    """
    indicators = list(ref.indicators.values())
    wide = answer_counts(con, [(ind.item, ind.positive) for ind in indicators], _editions(ref, editions))
    ids = [ind.id for ind in indicators]
    tidy = _long(wide, "indicator", ids, {"n": [f"n{i}" for i in range(len(ids))],
                                          "k": [f"k{i}" for i in range(len(ids))]})
    asked = np.array([[ind.item in {item.id for item in ref.questionnaires[g].items} for ind in indicators]
                      for g in GROUPS])
    group_idx = tidy["group"].map({g: i for i, g in enumerate(GROUPS)}).to_numpy(dtype=np.int64)
    keep = asked[group_idx, np.tile(np.arange(len(ids)), len(wide))] | (tidy["n"].to_numpy() > 0)
    return tidy[keep].reset_index(drop=True)[COUNT_COLUMNS]


def indicator_table(counts: pd.DataFrame, ref: Reference, threshold: int = DEFAULT_THRESHOLD) -> pd.DataFrame:
    """Indicators at institution, county and voivodeship level with Wilson 95% intervals, suppressed.

    ``counts`` is the frame of :func:`indicator_counts` (complete, so that pooled figures are right).
    County and voivodeship rows pool respondents: ``n`` and ``k`` are sums over institutions. Rows
    with ``n < threshold`` and the complementary rows needed to protect them (see
    :func:`zpb_lib.domain.stats.complementary_suppression`; cells are edition, wave, group, indicator) have
    ``k``, ``p``, ``lo``, ``hi`` missing and a ``suppressed`` reason; ``n`` stays visible.
    Keys: institution id as text, county TERYT, ``"12"`` for the voivodeship. Columns: ``TABLE_COLUMNS``.
    """
    unknown = set(counts["county"].astype(str)) - set(ref.counties)
    if unknown:
        raise ValueError(f"counts name unknown counties: {', '.join(sorted(unknown))}")
    cells = ["edition", "wave", "group", "indicator"]
    tree = _proportions(_hierarchy(counts, cells, ["n", "k"]))
    # Frame order breaks ties in complementary suppression: make it deterministic.
    tree = _sort(tree, {"level": list(LEVELS), "key": None, "edition": None, "wave": list(WAVES),
                        "group": list(GROUPS), "indicator": list(ref.indicators)})
    tree = complementary_suppression(tree, cells, threshold)
    tree["n"] = tree["n"].astype("int64")
    return tree[TABLE_COLUMNS]


# --------------------------------------------------------------------------- changes

def _compare(early: pd.DataFrame, late: pd.DataFrame, on: list[str], ref: Reference,
             labels: tuple[str, str], carry: list[str] = ()) -> pd.DataFrame:
    """Join two slices of an indicator table and test the change from ``early`` (0) to ``late`` (1).
    ``carry`` are further columns of ``late`` to keep."""
    cols = ["n", "k", "p", "suppressed"]
    m = early[on + cols].merge(late[on + list(carry) + cols], on=on, suffixes=("0", "1"), how="inner")
    m["diff"] = m["p1"] - m["p0"]
    m["z"], m["p_value"] = two_proportion_test(m["k1"], m["n1"], m["k0"], m["n0"])
    hidden = (m["suppressed0"].notna() | m["suppressed1"].notna()).to_numpy()
    texts = [(label + ": " + m[f"suppressed{side}"]) for side, label in zip("01", labels)]
    joined = texts[0].fillna("") + np.where(texts[0].notna() & texts[1].notna(), "; ", "") + texts[1].fillna("")
    m["suppressed"] = joined.where(joined != "").astype("str")
    sig = pd.array(m["p_value"].to_numpy() < SIGNIFICANCE, dtype="boolean")
    sig[hidden] = pd.NA
    m["significant"] = sig
    better = m["indicator"].map({i.id: (1.0 if i.better == "higher" else -1.0) for i in ref.indicators.values()})
    good = (np.sign(m["diff"]) * better) > 0
    direction = pd.Series(np.where(good, "better", "worse"), index=m.index, dtype="str")
    m["direction"] = direction.where(m["significant"].fillna(False).astype(bool))
    for col in ("diff", "z", "p_value"):
        m[col] = m[col].mask(hidden)
    return m


def changes_between_waves(table: pd.DataFrame, ref: Reference | None = None) -> pd.DataFrame:
    """Baseline -> follow-up change of every indicator row present in both waves.

    ``0`` is the baseline, ``1`` the follow-up; ``diff = p1 - p0``; ``z`` and ``p_value`` from
    :func:`zpb_lib.domain.stats.two_proportion_test` (``z > 0`` when the follow-up is higher);
    ``significant`` is ``p_value < 0.05``; ``direction`` is ``"better"`` or ``"worse"`` by the
    indicator's ``better`` for a significant change and missing otherwise (the sign of ``diff`` is
    always there). If either side is suppressed, its figures are missing and so are ``diff``, ``z``,
    ``p_value``, ``significant`` and ``direction``; ``suppressed`` says which side and why.
    ``ref`` defaults to the project reference (for ``better``). Columns: ``WAVE_CHANGE_COLUMNS``.
    """
    ref = ref or reference()
    on = ["level", "key", "edition", "group", "indicator"]
    m = _compare(table[table["wave"] == "baseline"], table[table["wave"] == "follow-up"], on, ref,
                 ("baseline", "follow-up"))
    return m[WAVE_CHANGE_COLUMNS].reset_index(drop=True)


def changes_between_editions(table: pd.DataFrame, ref: Reference) -> pd.DataFrame:
    """Change of every indicator row from the previous HELD edition to this one (same level, key,
    wave, group, indicator). Suspended editions are skipped: 2022/2023 compares with 2018/2019.
    Rows of non-held editions (which should not exist) are ignored. Only rows present in both
    editions appear. ``0`` is ``previous_edition``, ``1`` is ``edition``; the other columns as in
    :func:`changes_between_waves`. Columns: ``EDITION_CHANGE_COLUMNS``.
    """
    held = [e.edition for e in ref.held_editions()]
    previous = dict(zip(held[1:], held[:-1]))
    late = table[table["edition"].isin(list(previous))].copy()
    late["previous_edition"] = late["edition"].map(previous).astype("str")
    early = table[table["edition"].isin(held)].rename(columns={"edition": "previous_edition"})
    on = ["level", "key", "previous_edition", "wave", "group", "indicator"]
    m = _compare(early, late, on, ref, ("previous edition", "edition"), carry=["edition"])
    return m[EDITION_CHANGE_COLUMNS].reset_index(drop=True)


# --------------------------------------------------------------------------- dangerous places

def place_counts(con: Connection, ref: Reference, editions: Iterable[str] | None = None) -> pd.DataFrame:
    """Respondents who answered the places question (``n``: at least one ``place_*`` column not
    NULL — „Nowhere — there are no such places” is an answer that names no place) and how many named
    each place (``k``), per edition, institution, wave and group. A skipped question (every column
    NULL) counts in neither: shares are of those who answered. "Nowhere" itself is not a place and
    has no row. One aggregate query. Columns: ``PLACE_COUNT_COLUMNS``."""
    places = list(ref.named_place_codes())
    wide = choice_counts(con, [f"place_{p}" for p in ref.place_codes()], [f"place_{p}" for p in places],
                         _editions(ref, editions))
    wide = wide[wide["n"] > 0]
    tidy = _long(wide, "place", places, {"k": [f"k{i}" for i in range(len(places))]},
                 repeat=["n"])
    return tidy[PLACE_COUNT_COLUMNS]


def place_table(counts: pd.DataFrame, ref: Reference, threshold: int = DEFAULT_THRESHOLD) -> pd.DataFrame:
    """Share of respondents naming each dangerous place, per level, key, edition, wave and group,
    with Wilson intervals and a rank (1 = named most often; ties share the lower rank).

    ``counts`` is the frame of :func:`place_counts`. County and voivodeship rows pool respondents.
    Suppression depends on ``n`` only (every place of a group shares it): each group is suppressed
    as in :func:`indicator_table`. Group ``"all"`` pools the three groups; it is published only
    where every group with respondents at that node is published, because "all" minus the
    published groups would otherwise reveal a suppressed group (and, across levels, more).
    Suppressed rows have ``k``, ``p``, ``lo``, ``hi`` and ``rank`` missing. Columns: ``PLACE_COLUMNS``.
    """
    places = list(ref.named_place_codes())
    cells = ["edition", "wave", "group"]
    node_cols = ["level", "key", "node", "parent"]
    blocks = counts.drop_duplicates(["edition", "institution_id", "wave", "group"])
    sizes = _hierarchy(blocks, cells, ["n"])
    sizes = _sort(sizes, {"level": list(LEVELS), "key": None, "edition": None, "wave": list(WAVES),
                          "group": list(GROUPS)})
    sizes = complementary_suppression(sizes, cells, threshold, values=())
    pooled = (sizes.assign(hidden=sizes["suppressed"].notna())
              .groupby(node_cols[:2] + ["edition", "wave"], sort=False)
              .agg(n=("n", "sum"), any_hidden=("hidden", "any")).reset_index())
    pooled["group"] = ALL_GROUPS
    reason = np.where(pooled["n"] < threshold, small_reason(threshold),
                      np.where(pooled["any_hidden"], COMPLEMENTARY, None))
    pooled["suppressed"] = pd.Series(reason, index=pooled.index, dtype="str")
    sizes = pd.concat([sizes[node_cols[:2] + cells + ["n", "suppressed"]],
                       pooled[node_cols[:2] + cells + ["n", "suppressed"]]], ignore_index=True)
    named = _hierarchy(counts, cells + ["place"], ["k"])[node_cols[:2] + cells + ["place", "k"]]
    named_all = named.groupby(node_cols[:2] + ["edition", "wave", "place"], sort=False)["k"].sum().reset_index()
    named = pd.concat([named, named_all.assign(group=ALL_GROUPS)], ignore_index=True)
    out = named.merge(sizes, on=node_cols[:2] + cells, how="left", validate="many_to_one")
    out = _proportions(out)
    out = mask_suppressed(out, values=("k", "p", "lo", "hi"))
    out["rank"] = (out.groupby(node_cols[:2] + cells, sort=False)["k"]
                   .rank(method="min", ascending=False).astype("Int64"))
    out["n"] = out["n"].astype("int64")
    out = _sort(out, {"level": list(LEVELS), "key": None, "edition": None, "wave": list(WAVES),
                      "group": [*GROUPS, ALL_GROUPS], "place": places})
    return out[PLACE_COLUMNS]


def place_ranking(con: Connection, ref: Reference, threshold: int = DEFAULT_THRESHOLD,
                  editions: Iterable[str] | None = None) -> pd.DataFrame:
    """The dangerous places named most often: :func:`place_table` of :func:`place_counts`."""
    return place_table(place_counts(con, ref, editions), ref, threshold)
