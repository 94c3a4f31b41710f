"""What-if scoring: the decisions of one edition's audits replayed under changed thresholds or
criterion maxima, in memory, from the stored audit points. Nothing is written anywhere.

The changed rules are modified copies of the rule set and catalogue in force (``dataclasses.replace``
on the frozen rule and catalogue classes), and the edition's audits are replayed by the same
:func:`zpb_lib.domain.scoring.lifecycle.replay` the reports use, with each institution's history up to the
edition: awards held, years in the programme and positive control audits count as they do for real.
Earlier editions keep their own rules and catalogues (the change applies from this edition on).
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field, replace
from typing import Mapping

import pandas as pd

from zpb_lib.reference import Catalogue, Reference, edition_start
from zpb_lib.domain.scoring.lifecycle import Frames, replay
from zpb_lib.domain.scoring.rules import RuleSet, Rules

WHATIF_SUFFIX = "~whatif"


@dataclass(frozen=True)
class Scenario:
    """Changes to the rules in force in an edition. Hashable, so that outcomes can be cached.

    ``thresholds``: (family, award rule name) → min_points; ``control``: family → min_points of a
    positive control audit; ``maxima``: (catalogue key, criterion) → max_points.
    """
    thresholds: tuple[tuple[str, str, int], ...] = ()
    control: tuple[tuple[str, int], ...] = ()
    maxima: tuple[tuple[str, str, int], ...] = ()

    @classmethod
    def of(cls, thresholds: Mapping[tuple[str, str], int] | None = None, control: Mapping[str, int] | None = None,
           maxima: Mapping[tuple[str, str], int] | None = None) -> "Scenario":
        return cls(tuple(sorted((f, r, int(v)) for (f, r), v in (thresholds or {}).items())),
                   tuple(sorted((f, int(v)) for f, v in (control or {}).items())),
                   tuple(sorted((c, k, int(v)) for (c, k), v in (maxima or {}).items())))

    @property
    def empty(self) -> bool:
        return not (self.thresholds or self.control or self.maxima)


@dataclass
class Outcome:
    """Every audit of the edition with its decision under the rules in force (``…_before``) and
    under the scenario (``…_after``)."""
    edition: str
    scenario: Scenario
    audits: pd.DataFrame
    # (family, award rule name or "control", min_points, catalogue maximum): thresholds nobody can reach
    warnings: tuple[tuple[str, str, int, int], ...] = field(default_factory=tuple)


class WhatIf:
    """Replays editions under changed rules. ``frames`` are the programme tables, loaded once."""

    def __init__(self, frames: Frames, ref: Reference, rules: Rules, cache_size: int = 64):
        self.frames = frames
        self.ref = ref
        self.rules = rules
        self._subsets: dict[str, Frames] = {}
        self._baseline: dict[str, pd.DataFrame] = {}
        self._outcomes: OrderedDict[tuple[str, Scenario], Outcome] = OrderedDict()
        self._cache_size = cache_size
        self._family = frames.institutions.set_index("id")["kind"].astype(str).map(
            {k: v.family for k, v in ref.kinds.items()})
        self._county = frames.institutions.set_index("id")["county"].astype(str)

    # ------------------------------------------------------------------ rules in force
    def rule_set(self, family: str, edition: str) -> RuleSet:
        return self.rules.for_edition(family, edition)

    def catalogue(self, family: str, edition: str) -> Catalogue:
        return self.ref.catalogue_for(family, edition)

    def families(self) -> list[str]:
        return list(dict.fromkeys(k.family for k in self.ref.kinds.values()))

    # ------------------------------------------------------------------ replay
    def _subset(self, edition: str) -> Frames:
        """The institutions audited in ``edition``, with their audits up to it."""
        if edition not in self._subsets:
            f = self.frames
            start = edition_start(edition)
            audits = f.audits[f.audits["edition"].astype(str).map(edition_start) <= start]
            ids = set(audits.loc[audits["edition"].astype(str) == edition, "institution_id"])
            audits = audits[audits["institution_id"].isin(ids)].copy()
            audits["catalogue"] = audits["catalogue"].astype(str)
            self._subsets[edition] = Frames(
                f.institutions[f.institutions["id"].isin(ids)], f.participation[f.participation["institution_id"].isin(ids)],
                audits, f.audit_items[f.audit_items["audit_id"].isin(audits["id"])],
                f.awards[f.awards["institution_id"].isin(ids)])
        return self._subsets[edition]

    def _replay(self, edition: str, frames: Frames, ref: Reference, rules: Rules) -> pd.DataFrame:
        out = replay(frames, ref, rules)
        if out.empty:
            return pd.DataFrame(columns=["audit_id", "institution_id", "kind", "total", "max_total", "granted",
                                         "threshold", "award_kind", "rule", "reasons", "catalogue"])
        return out[out["edition"] == edition].reset_index(drop=True)

    def baseline(self, edition: str) -> pd.DataFrame:
        if edition not in self._baseline:
            self._baseline[edition] = self._replay(edition, self._subset(edition), self.ref, self.rules)
        return self._baseline[edition]

    def modified(self, edition: str, scenario: Scenario
                 ) -> tuple[Reference, Rules, dict[str, str], list[tuple[str, str, int, int]]]:
        """Copies of the reference data and rules with the scenario applied in ``edition``; the
        map of changed catalogue keys to their what-if keys; warnings (e.g. a threshold above the
        new maximum)."""
        warnings: list[tuple[str, str, int, int]] = []
        by_family_t: dict[str, dict[str, int]] = {}
        for fam, name, value in scenario.thresholds:
            by_family_t.setdefault(fam, {})[name] = value
        by_family_c = dict(scenario.control)
        by_cat: dict[str, dict[str, int]] = {}
        for key, crit, value in scenario.maxima:
            by_cat.setdefault(key, {})[crit] = value
        catalogues = dict(self.ref.catalogues)
        remap: dict[str, str] = {}
        for key, changes in by_cat.items():
            cat = self.ref.catalogues[key]
            unknown = set(changes) - {c.id for c in cat.criteria}
            if unknown:
                raise KeyError(f"criteria not in catalogue {key}: {', '.join(sorted(unknown))}")
            if any(v < 1 for v in changes.values()):
                raise ValueError("a criterion's maximum must be at least 1 point")
            new = replace(cat, id=cat.id + WHATIF_SUFFIX,
                          criteria=tuple(replace(c, max_points=changes.get(c.id, c.max_points)) for c in cat.criteria))
            catalogues[new.key] = new
            remap[key] = new.key
        rule_sets = dict(self.rules.rule_sets)
        for fam in set(by_family_t) | set(by_family_c):
            rs = self.rule_set(fam, edition)
            awards = dict(rs.awards)
            for name, value in by_family_t.get(fam, {}).items():
                if name not in awards:
                    raise KeyError(f"no award rule {name!r} for {fam} in {edition}")
                awards[name] = replace(awards[name], min_points=int(value))
            new_rs = replace(rs, valid_from=edition, awards=awards,
                             control_min_points=int(by_family_c.get(fam, rs.control_min_points)),
                             source=f"{rs.source} (what-if)")
            # Earlier rule sets stay for the history; the edition's audits are the last replayed.
            earlier = [x for x in rule_sets.get(fam, ()) if edition_start(x.valid_from) < edition_start(edition)]
            rule_sets[fam] = tuple(earlier) + (new_rs,)
        for fam in self.families():
            try:
                cat = catalogues.get(remap.get(self.catalogue(fam, edition).key, ""), self.catalogue(fam, edition))
            except KeyError:
                continue
            rs_sets = rule_sets.get(fam, ())
            rs = next((x for x in reversed(rs_sets) if edition_start(x.valid_from) <= edition_start(edition)), None)
            if rs is None:
                continue
            for rule in rs.awards.values():
                if rule.min_points > cat.max_total:
                    warnings.append((fam, rule.name, rule.min_points, cat.max_total))
            if rs.control_min_points > cat.max_total:
                warnings.append((fam, "control", rs.control_min_points, cat.max_total))
        return replace(self.ref, catalogues=catalogues), replace(self.rules, rule_sets=rule_sets), remap, warnings

    def run(self, edition: str, scenario: Scenario) -> Outcome:
        """The edition's audits decided under the rules in force and under ``scenario``."""
        key = (edition, scenario)
        if key in self._outcomes:
            self._outcomes.move_to_end(key)
            return self._outcomes[key]
        before = self.baseline(edition)
        warnings: list[tuple[str, str, int, int]] = []
        if scenario.empty:
            after = before
        else:
            ref, rules, remap, warnings = self.modified(edition, scenario)
            frames = self._subset(edition)
            if remap:
                audits = frames.audits.copy()
                this = audits["edition"].astype(str) == edition
                audits.loc[this, "catalogue"] = audits.loc[this, "catalogue"].map(lambda k: remap.get(k, k))
                frames = replace(frames, audits=audits)
            after = self._replay(edition, frames, ref, rules)
            back = {v: k for k, v in remap.items()}
            after = after.assign(catalogue=after["catalogue"].map(lambda k: back.get(k, k)))
        cols = ["audit_id", "total", "max_total", "threshold", "granted", "award_kind", "rule", "reasons",
                "points_short"]
        merged = before[["audit_id", "institution_id", "kind", "catalogue", *cols[1:]]].merge(
            after[cols], on="audit_id", suffixes=("_before", "_after"), how="left", validate="one_to_one")
        merged["family"] = merged["institution_id"].map(self._family)
        merged["county"] = merged["institution_id"].map(self._county)
        merged["flipped"] = merged["granted_before"] != merged["granted_after"]
        outcome = Outcome(edition, scenario, merged, tuple(warnings))
        self._outcomes[key] = outcome
        while len(self._outcomes) > self._cache_size:
            self._outcomes.popitem(last=False)
        return outcome


# --------------------------------------------------------------------------- summaries

AWARD_ORDER = ("certificate", "extension", "leader", "university_certificate")


def award_counts(audits: pd.DataFrame) -> pd.DataFrame:
    """Awards granted before and after, by award kind (non-control audits), and positive control
    audits (row ``control``). Columns: before, after, change."""
    main = audits[audits["kind"] != "control"]
    rows = {}
    for kind in AWARD_ORDER:
        m = main[main["award_kind_after"].fillna(main["award_kind_before"]) == kind]
        if len(m):
            rows[kind] = (int(m["granted_before"].sum()), int(m["granted_after"].sum()))
    controls = audits[audits["kind"] == "control"]
    if len(controls):
        rows["control"] = (int(controls["granted_before"].sum()), int(controls["granted_after"].sum()))
    out = pd.DataFrame.from_dict(rows, orient="index", columns=["before", "after"])
    out["change"] = out["after"] - out["before"]
    return out


def per_county(audits: pd.DataFrame) -> pd.DataFrame:
    """Awards granted (non-control audits) per county before and after, with the audits counted."""
    main = audits[audits["kind"] != "control"]
    g = main.groupby("county").agg(audits=("audit_id", "size"), before=("granted_before", "sum"),
                                   after=("granted_after", "sum"))
    g = g.astype(int)
    g["change"] = g["after"] - g["before"]
    return g.reset_index()
