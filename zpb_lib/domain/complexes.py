"""School complexes (zespoły szkół): who counts as one participant in an edition.

The RSPO register lists a complex and each of its schools as institutions of their own; a school
inside a complex names it in „RSPO podmiotu nadrzędnego” (``institutions.parent_rspo``). The
programme certifies a school or a complex as a whole, so the participant — what takes part, is
audited and holds a certificate — is one of:

* a school outside any complex (or a university);
* a complex, together with its schools that do not take part on their own (they are *represented*
  by it: its participation, audits, surveys, action plan and awards are theirs);
* a school of a complex that the register lists as taking part on its own in the edition (its own
  participation covers the edition): a participant of its own.

Counts (institutions, participating, certificates) count participants, so a complex and its
represented schools are one institution. A complex whose schools all take part on their own, and
which itself does not, is no participant: its schools are. A complex none of whose schools are in
the database (an older or filtered RSPO export) is one participant, standing for its schools.

Only a parent of kind ``complex`` makes a school a member: any other parent (or an RSPO number not
in the database) leaves the school a participant of its own. This module holds the rule; the cube,
the reports, the explorer, the export and ``zpb db check`` apply it from here.
"""
from __future__ import annotations

from typing import Iterable

import numpy as np
import pandas as pd

from zpb_lib.domain.scoring.lifecycle import participating_in

COMPLEX = "complex"
# Statuses that mean a valid award: a member without one of its own shows its complex's.
AWARD_STATUSES = ("certified", "extended", "leader")


def complex_of(institutions: pd.DataFrame) -> pd.Series:
    """The internal id of each institution's complex (index: institution id; missing for a school
    outside any complex stored here). ``institutions`` needs ``id``, ``rspo``, ``kind`` and
    ``parent_rspo``."""
    inst = institutions.assign(kind=institutions["kind"].astype(str))
    ids = inst["id"].astype("int64")
    complexes = inst[(inst["kind"] == COMPLEX) & inst["rspo"].notna()]
    by_rspo = pd.Series(complexes["id"].astype("int64").to_numpy(), index=complexes["rspo"].astype("int64").to_numpy())
    parent = pd.to_numeric(inst["parent_rspo"], errors="coerce").astype("Int64") if "parent_rspo" in inst \
        else pd.Series(pd.NA, index=inst.index, dtype="Int64")
    found = parent.map(by_rspo).astype("Int64")
    # A complex inside a complex, or a row naming itself, is not a membership the rule knows.
    found = found.where((inst["kind"] != COMPLEX) & (found != ids.astype("Int64")))
    return pd.Series(found.to_numpy(), index=ids.to_numpy(), dtype="Int64", name="complex_id")


def exists_in(institutions: pd.DataFrame, start_year: int) -> pd.Series:
    """Whether each institution exists in the school year beginning in ``start_year`` (bool, same
    index): opened by then and not closed before its end. An unknown opening year (a register row
    without one) counts as existing."""
    opened, closed = institutions["opened_year"], institutions["closed_year"]
    return ((opened.isna() | (opened <= start_year)) & (closed.isna() | (closed > start_year))).astype(bool)


def units(institutions: pd.DataFrame, participation: pd.DataFrame, edition: str) -> pd.DataFrame:
    """Who is one participant in ``edition``: per institution (index: id) its ``complex_id``, the
    number of its ``members`` in the database (complexes), whether it takes part ``on_own`` (a
    member with its own participation covering the edition), whether it is ``represented`` by its
    complex, the ``unit_id`` it counts under (its complex's id when represented, else its own) and
    whether it is ``counted`` as an institution of its own. A member whose complex does not exist
    in the edition (opened later, closed) is a participant of its own."""
    cx = complex_of(institutions)
    ids = cx.index
    member = cx.notna().to_numpy()
    parent = cx.fillna(-1).astype("int64").to_numpy()
    own_part = ids.isin(list(participating_in(participation, edition)))
    exists = dict(zip(ids, exists_in(institutions, int(str(edition)[:4])).to_numpy()))
    complex_exists = np.array([bool(exists.get(c, False)) for c in parent])
    on_own = member & own_part
    represented = member & ~on_own & complex_exists
    unit = np.where(represented, parent, ids.to_numpy())
    members = pd.Series(parent[member]).value_counts()
    with_them = pd.Series(parent[represented]).value_counts()
    n_members = ids.map(members).fillna(0).astype("int64").to_numpy()
    n_represented = ids.map(with_them).fillna(0).astype("int64").to_numpy()
    is_complex = institutions["kind"].astype(str).to_numpy() == COMPLEX
    # A complex whose schools all take part on their own, and which does not, is counted in them.
    empty_shell = is_complex & (n_members > 0) & (n_represented == 0) & ~own_part
    return pd.DataFrame({"complex_id": cx, "members": n_members, "on_own": on_own, "represented": represented,
                         "unit_id": unit.astype("int64"), "counted": ~represented & ~empty_shell}, index=ids)


def unit_keys(institutions: pd.DataFrame, participation: pd.DataFrame,
              editions: Iterable[str]) -> pd.DataFrame:
    """``edition``, ``institution_id``, ``unit_id``, ``unit_county`` of every represented school in
    each of ``editions``: whose survey answers count as its complex's there."""
    counties = pd.Series(institutions["county"].astype(str).to_numpy(),
                         index=institutions["id"].astype("int64").to_numpy())
    frames = []
    for edition in editions:
        u = units(institutions, participation, edition)
        rep = u[u["represented"]]
        frames.append(pd.DataFrame({"edition": edition, "institution_id": rep.index.astype("int64"),
                                    "unit_id": rep["unit_id"].to_numpy(),
                                    "unit_county": rep["unit_id"].map(counties).to_numpy()}))
    cols = ["edition", "institution_id", "unit_id", "unit_county"]
    return pd.concat(frames, ignore_index=True)[cols] if frames else pd.DataFrame(columns=cols)


def pool_units(counts: pd.DataFrame, keys: pd.DataFrame, sums: list[str]) -> pd.DataFrame:
    """Survey counts (rows by edition and institution, as :mod:`zpb_lib.domain.indicators` makes them)
    with a represented school's rows moved to its complex (``keys`` from :func:`unit_keys`) and
    added up there: the complex's figures are those of all the schools taking part with it, and a
    county's pooled figures are unchanged (each respondent still counts once)."""
    if keys.empty or counts.empty:
        return counts
    cols = list(counts.columns)
    m = counts.assign(edition=counts["edition"].astype(str)).merge(
        keys.assign(edition=keys["edition"].astype(str)), on=["edition", "institution_id"], how="left")
    moved = m["unit_id"].notna()
    if not moved.any():
        return counts
    m.loc[moved, "institution_id"] = m.loc[moved, "unit_id"].astype("int64")
    m.loc[moved, "county"] = m.loc[moved, "unit_county"]
    m["institution_id"] = m["institution_id"].astype("int64")
    others = [c for c in cols if c not in sums]
    out = m.groupby(others, sort=False, observed=True)[sums].sum().reset_index()
    return out[cols]
