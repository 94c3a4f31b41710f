"""One edition's data as the explorer and the web app read it: the edition's report cube, read from
a current cube file (a build's, or the cache next to the database; computed there when there is
none) and kept in memory, and the pure functions that turn a selection (edition, county, police unit, kind, status) into the
figures the views show.

Every interaction re-filters these frames; nothing here reads the database again. Survey figures
come only from the cube's ``indicators`` table, which :mod:`zpb_lib.domain.indicators` has already
suppressed, so no view can show a figure based on fewer respondents than the threshold.
"""
from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from zpb_lib.domain import cube as cube_mod
from zpb_lib.reference import Reference
from zpb_lib.domain.stats import DEFAULT_THRESHOLD
from zpb_lib.store.backend import Connection
from zpb_lib.store.queries.meta import is_synthetic  # noqa: F401  (the explorer's, from here as before)

ALL = ""  # the "no filter" value of the county, police unit and kind controls
IN_EDITION = "in_edition"  # status filter: taking part in (or audited in) the edition
ALL_STATUSES = "all"  # status filter: every institution that exists in the edition
STATUS_ORDER = ("leader", "extended", "certified", "stage1", "expired", "left", "not_participating")

PROGRAMME_MEASURES = ("participation_rate", "participating", "institutions", "valid_awards", "leaders", "audits",
                      "granted", "mean_share")
PERCENT_MEASURES = frozenset({"participation_rate", "mean_share"})
SURVEY = "survey:"  # prefix of survey measures: "survey:safe_school"
DEFAULT_SURVEY = "safe_school"
WAVE = "follow-up"  # survey figures shown are the follow-up wave (after the plan), as in the reports

# Polish alphabetical order (ą after a, ł after l, ś after s…), for sorting names as readers expect.
_PL_ALPHABET = "aąbcćdeęfghijklłmnńoópqrsśtuvwxyzźż"
_PL_RANK = {ch: i for i, ch in enumerate(_PL_ALPHABET)}


def polish_key(text: Any) -> tuple:
    """Sort key for Polish text (case-insensitive, diacritics in alphabet order, digits first)."""
    s = "" if text is None or (isinstance(text, float) and np.isnan(text)) else str(text).lower()
    return tuple(_PL_RANK.get(ch, -1000 + ord(ch) if ch < "a" else 1000 + ord(ch)) for ch in s)


def _sort_polish(series: pd.Series) -> pd.Series:
    """A sortable stand-in for a text column: dense ranks in Polish order (equal texts share a
    rank, so that a second sort key can break the tie)."""
    values = series.astype(object).tolist()
    keys = [polish_key(v) for v in values]
    rank = {k: i for i, k in enumerate(sorted(set(keys)))}
    return pd.Series([rank[k] for k in keys], index=series.index, dtype="int64")


# --------------------------------------------------------------------------- the cube in memory

class MemoryCube:
    """A report cube held in memory, with the read interface of :class:`zpb_lib.domain.cube.Cube`
    (``table(name, **filters)`` and ``meta``), so that the report classes' sections can be reused.

    The frames went through the cube file once (written, read back), so their types are exactly
    those a report notebook sees. Filtering uses an index on the first filter column.
    """

    def __init__(self, tables: dict[str, pd.DataFrame], meta: dict[str, Any]):
        self._tables = tables
        self.meta = dict(meta)
        self._index: dict[tuple[str, str], dict[Any, np.ndarray]] = {}

    def tables(self) -> list[str]:
        return list(self._tables)

    def frame(self, name: str) -> pd.DataFrame:
        """The whole table, not copied: callers must not modify it."""
        if name not in self._tables:
            raise KeyError(f"the cube has no table {name!r} (tables: {', '.join(self._tables)})")
        return self._tables[name]

    def _positions(self, name: str, col: str, values: list) -> np.ndarray:
        key = (name, col)
        if key not in self._index:
            self._index[key] = self._tables[name].groupby(col, sort=False, observed=True, dropna=True).indices
        idx = self._index[key]
        found = [idx[v] for v in values if v in idx]
        return np.sort(np.concatenate(found)) if found else np.array([], dtype=np.int64)

    def table(self, name: str, **filters: Any) -> pd.DataFrame:
        """Rows of table ``name`` where each ``column=value`` holds (a list/tuple value means IN)."""
        df = self.frame(name)
        if not filters:
            return df.copy()
        conds = []
        for col, val in filters.items():
            if col not in df.columns:
                raise KeyError(f"table {name!r} has no column {col!r}")
            vals = list(val) if isinstance(val, (list, tuple, set)) else [val]
            conds.append((col, [_coerce(df[col], v) for v in vals]))
        col0, vals0 = conds[0]
        sub = df.iloc[self._positions(name, col0, vals0)]
        for col, vals in conds[1:]:
            sub = sub[sub[col].isin(vals)]
        return sub.reset_index(drop=True)


def _coerce(column: pd.Series, value: Any) -> Any:
    """A filter value in the column's type (the file cube compares in SQL, where '1201' = '1201')."""
    if pd.api.types.is_bool_dtype(column):
        return bool(value)
    if pd.api.types.is_numeric_dtype(column):
        return int(value) if float(value).is_integer() else float(value)
    return str(value)


def load_cube(con: Connection, edition: str, ref: Reference, *, synthetic: bool,
              threshold: int = DEFAULT_THRESHOLD) -> MemoryCube:
    """Compute the cube of ``edition`` (:func:`zpb_lib.domain.cube.compute`) and read it back through a
    temporary cube file, so that the frames have the types the reports see."""
    t0 = time.perf_counter()
    tables = cube_mod.compute(con, edition, ref=ref, threshold=threshold)
    e = ref.edition(edition)
    meta = {"cube_version": cube_mod.CUBE_VERSION, "edition": edition, "edition_roman": e.roman,
            "as_of": cube_mod.as_of_date(ref, edition).isoformat(), "threshold": threshold,
            "renewal_months": 12, "synthetic": synthetic}
    with tempfile.TemporaryDirectory(prefix="zpb-explore-") as tmp:
        path = cube_mod.write(tables, Path(tmp) / "cube.sqlite", meta)
        with cube_mod.Cube(path) as c:
            read = {name: c.table(name) for name in c.tables()}
    meta["compute_seconds"] = round(time.perf_counter() - t0, 3)
    return MemoryCube(read, meta)


def read_cube(path: str | Path) -> MemoryCube:
    """A saved cube file (a build's, or the cache next to the database) read into memory: the same
    frames :func:`load_cube` gives, without computing anything."""
    t0 = time.perf_counter()
    with cube_mod.Cube(path) as c:
        tables = {name: c.table(name) for name in c.tables()}
        meta = dict(c.meta)
    meta["read_seconds"] = round(time.perf_counter() - t0, 3)
    return MemoryCube(tables, meta)


# --------------------------------------------------------------------------- selection

@dataclass(frozen=True)
class Selection:
    """What the controls select. Empty strings mean "all"."""
    edition: str
    county: str = ALL
    police_unit: str = ALL
    kind: str = ALL
    status: str = IN_EDITION


class EditionData:
    """One edition's cube plus the per-institution frame the explorer filters (each institution
    with its main audit of the edition)."""

    def __init__(self, cube: MemoryCube, ref: Reference):
        self.cube = cube
        self.ref = ref
        self.edition: str = cube.meta["edition"]
        self.threshold = int(cube.meta.get("threshold", DEFAULT_THRESHOLD))
        inst = cube.frame("institutions")
        # Shown at all: institutions that exist in the edition or took part / were audited in it.
        base = inst[inst["exists"] | inst["in_edition"]].copy()
        audits = cube.frame("audits")
        self.audits = audits[audits["edition"] == self.edition].copy()
        self.audits["inst_kind"] = self.audits["institution_id"].map(inst.set_index("id")["kind"])
        main = self.main_audits()
        cols = ["audit_id", "kind", "audit_date", "catalogue", "total", "max_total", "share", "threshold",
                "granted", "award_kind", "reasons", "points_short"]
        main = main.set_index("institution_id")[cols].add_prefix("audit_")
        self.institutions = base.merge(main, left_on="id", right_index=True, how="left").reset_index(drop=True)
        self.institutions["audit_granted"] = self.institutions["audit_granted"].astype("boolean")
        self._survey: dict[tuple[str, str, str], pd.DataFrame] = {}
        self._counties: dict[str, pd.DataFrame] = {}

    def main_audits(self) -> pd.DataFrame:
        """Per institution the audit of the edition that decides its award: the latest non-control
        audit, else the latest control audit."""
        a = self.audits.assign(_control=self.audits["kind"] == "control")
        a = a.sort_values(["institution_id", "audit_date", "audit_id"])
        only_controls = a.groupby("institution_id")["_control"].transform("all")
        a = a[~a["_control"] | only_controls]
        return a.groupby("institution_id").tail(1).drop(columns="_control")

    # ------------------------------------------------------------------ filters
    def counties_of_unit(self, unit: str) -> list[str]:
        return [t for t, c in self.ref.counties.items() if c.police_unit == unit]

    def geo_mask(self, frame: pd.DataFrame, sel: Selection, county_col: str = "county") -> pd.Series:
        mask = pd.Series(True, index=frame.index)
        if sel.county:
            mask &= frame[county_col] == sel.county
        if sel.police_unit:
            mask &= frame[county_col].isin(self.counties_of_unit(sel.police_unit))
        return mask

    def population(self, sel: Selection) -> pd.DataFrame:
        """Institutions of the selected area and kind (the status filter not applied)."""
        inst = self.institutions
        mask = self.geo_mask(inst, sel)
        if sel.kind:
            mask &= inst["kind"] == sel.kind
        return inst[mask]

    def rows(self, sel: Selection) -> pd.DataFrame:
        """The institutions the table lists: the population filtered by status."""
        pop = self.population(sel)
        if sel.status == IN_EDITION:
            return pop[pop["in_edition"]]
        if sel.status in ("", ALL_STATUSES):
            return pop
        return pop[pop["status"] == sel.status]

    def edition_audits(self, sel: Selection) -> pd.DataFrame:
        """The edition's audits in the selected area and of the selected kind."""
        a = self.audits
        mask = self.geo_mask(a, sel)
        if sel.kind:
            mask &= a["inst_kind"] == sel.kind
        return a[mask]

    def kinds(self) -> list[str]:
        """Institution kinds present in the edition, in reference order."""
        present = set(self.institutions["kind"])
        return [k for k in self.ref.kinds if k in present]

    # ------------------------------------------------------------------ figures
    @staticmethod
    def figures(institutions: pd.DataFrame, audits: pd.DataFrame) -> dict[str, float]:
        """Key figures as the cube's county summary defines them: over institutions existing in
        the edition and counted as participants (a complex with the schools taking part with it
        once, :mod:`zpb_lib.domain.complexes`), certificates once, for their holders; audits and awards
        granted of the edition (control audits are audits too, but give no award)."""
        ex = institutions[institutions["exists"] & institutions["counted"]]
        n = len(ex)
        part = int(ex["participating"].sum())
        status = ex["own_status"]
        return {"institutions": n, "participating": part, "participation_rate": part / n if n else np.nan,
                "valid_awards": int(status.isin(["certified", "extended", "leader"]).sum()),
                "leaders": int((status == "leader").sum()), "audits": len(audits),
                "granted": int((audits["granted"] & (audits["kind"] != "control")).sum()),
                "mean_share": float(audits["share"].mean()) if len(audits) else np.nan}

    def key_figures(self, sel: Selection) -> dict[str, float]:
        return self.figures(self.population(sel), self.edition_audits(sel))

    def county_values(self, measure: str, kind: str = ALL, group: str = "students") -> pd.Series:
        """TERYT → value of ``measure`` for every county (NaN: no data or suppressed)."""
        if measure.startswith(SURVEY):
            s = self.survey("county", measure[len(SURVEY):], group).set_index("key")["p"]
            return s.reindex(list(self.ref.counties)).astype(float)
        if measure not in PROGRAMME_MEASURES:
            raise KeyError(f"unknown measure {measure!r}")
        return self.county_table(kind)[measure]

    def county_table(self, kind: str = ALL) -> pd.DataFrame:
        """Key figures of every county (index: TERYT), for one institution kind or all."""
        if kind not in self._counties:
            rows = {teryt: self.key_figures(Selection(self.edition, county=teryt, kind=kind))
                    for teryt in self.ref.counties}
            self._counties[kind] = pd.DataFrame.from_dict(rows, orient="index").astype(float)
        return self._counties[kind]

    def survey(self, level: str, indicator: str, group: str) -> pd.DataFrame:
        """Suppressed indicator rows of the edition's follow-up wave at ``level`` for one indicator
        and group: key, n, p, lo, hi, suppressed."""
        cache_key = (level, indicator, group)
        if cache_key not in self._survey:
            t = self.cube.table("indicators", level=level, edition=self.edition, wave=WAVE, group=group,
                                indicator=indicator)
            self._survey[cache_key] = t[["key", "n", "p", "lo", "hi", "suppressed"]].reset_index(drop=True)
        return self._survey[cache_key]

    def survey_for(self, sel: Selection, indicator: str, group: str) -> tuple[str, str] | None:
        """(level, key) of the pooled survey figure for the selected area: the county, the police
        unit's only county, or the voivodeship; None for a unit serving two counties (the cube
        pools counties and the voivodeship only)."""
        if sel.county:
            return "county", sel.county
        if sel.police_unit:
            counties = self.counties_of_unit(sel.police_unit)
            return ("county", counties[0]) if len(counties) == 1 else None
        return "voivodeship", "12"

    def with_survey(self, rows: pd.DataFrame, indicator: str, group: str) -> pd.DataFrame:
        """``rows`` with the institution's survey figure (columns survey_n, survey_p, survey_lo,
        survey_hi, survey_suppressed); missing where the institution has no such survey."""
        s = self.survey("institution", indicator, group).set_index("key")
        keys = rows["id"].astype("int64").astype(str)
        out = rows.copy()
        for col in ("n", "p", "lo", "hi", "suppressed"):
            out[f"survey_{col}"] = keys.map(s[col]).to_numpy()
        out["survey_n"] = out["survey_n"].astype("Int64")
        return out


def sort_rows(rows: pd.DataFrame, by: str, descending: bool = False) -> pd.DataFrame:
    """Sort the table: text in Polish order, numbers and dates with missing values last; the name
    breaks ties."""
    if by == "status":
        key = rows["status"].map({s: i for i, s in enumerate(STATUS_ORDER)})
    elif by == "county_name":  # cities by their name: "m. Kraków" among the K's
        key = _sort_polish(rows[by].astype(str).str.removeprefix("m. "))
    elif by in ("name", "kind_pl", "kind_en", "locality"):
        key = _sort_polish(rows[by])
    else:
        key = rows[by]
    tie = _sort_polish(rows["name"])
    frame = pd.DataFrame({"k": key, "t": tie}, index=rows.index)
    order = frame.sort_values(["k", "t"], ascending=[not descending, True], na_position="last", kind="stable").index
    return rows.loc[order]
