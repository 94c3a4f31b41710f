"""Certificate rules as data: ``data/rules/<family>.yaml``, one rule set per valid-from edition.

Nothing numeric about certification lives in Python: thresholds, validity periods, the leader
title's years in the programme all come from these files, validated on load against the criteria
catalogues in force while each rule set applies.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from zpb_lib.reference import (Reference, ReferenceDataError, _need, _yaml, data_dir, edition_start,
                         reference)
from zpb_lib.store.schema import AUDIT_KINDS, AWARD_KINDS


@dataclass(frozen=True)
class AwardRule:
    name: str  # key in the rule file, e.g. "extension" or "university_renewal"
    award_kind: str  # what is stored in awards.kind
    audit: str  # audit kind that can earn it
    min_points: int
    valid_years: int | None  # None: indefinite (leader title)
    requires: tuple[str, ...] = ()  # award kinds of which one must be held (valid) when audited
    min_years_in_programme: int = 0
    min_positive_controls: int = 0
    required_criteria: tuple[str, ...] = ()


@dataclass(frozen=True)
class RuleSet:
    family: str
    valid_from: str
    awards: dict[str, AwardRule]
    control_min_points: int
    mandatory_min_points: int  # a mandatory criterion is met at this many points or more
    source: str

    def rule_for_audit(self, audit_kind: str) -> AwardRule | None:
        for rule in self.awards.values():
            if rule.audit == audit_kind:
                return rule
        return None

    def rule_for_award(self, award_kind: str, audit_kind: str | None = None) -> AwardRule | None:
        for rule in self.awards.values():
            if rule.award_kind == award_kind and (audit_kind is None or rule.audit == audit_kind):
                return rule
        return None


@dataclass(frozen=True)
class Rules:
    rule_sets: dict[str, tuple[RuleSet, ...]]  # family -> rule sets sorted by valid_from

    def for_edition(self, family: str, edition: str) -> RuleSet:
        year = edition_start(edition)
        chosen = None
        for rs in self.rule_sets.get(family, ()):
            if edition_start(rs.valid_from) <= year:
                chosen = rs
        if chosen is None:
            raise KeyError(f"no {family} rules in force in {edition}")
        return chosen


def _kinds(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(str(v) for v in value)  # type: ignore[union-attr]


def _catalogues_in_force(ref: Reference, family: str, start: str, end: str | None) -> list:
    """Catalogues of ``family`` that apply at some edition in [start, end)."""
    lo, hi = edition_start(start), edition_start(end) if end else 10 ** 6
    out = []
    for e in ref.editions.values():
        if lo <= e.start_year < hi:
            try:
                cat = ref.catalogue_for(family, e.edition)
            except KeyError:
                continue
            if cat not in out:
                out.append(cat)
    return out


def load_rules_file(path: Path, ref: Reference) -> tuple[str, tuple[RuleSet, ...]]:
    doc = _yaml(path)
    family = _need(path, "family", doc, "family", str)
    if family not in {k.family for k in ref.kinds.values()}:
        raise ReferenceDataError(path, "family", f"unknown institution family {family!r}")
    raw_sets = doc.get("rule_sets") if isinstance(doc, dict) else None
    if not isinstance(raw_sets, list) or not raw_sets:
        raise ReferenceDataError(path, None, "expected a non-empty list under 'rule_sets'")
    sets: list[RuleSet] = []
    for i, rs in enumerate(raw_sets):
        entry = f"rule set #{i + 1}"
        valid_from = _need(path, entry, rs, "valid_from", str)
        entry = f"rule set valid from {valid_from}"
        if valid_from not in ref.editions:
            raise ReferenceDataError(path, entry, f"unknown edition {valid_from!r}")
        if sets and edition_start(valid_from) <= edition_start(sets[-1].valid_from):
            raise ReferenceDataError(path, entry, f"validity overlaps the rule set valid from {sets[-1].valid_from} "
                                     "(rule sets must be listed in increasing valid_from order, one per edition)")
        awards_raw = _need(path, entry, rs, "awards", dict)
        control = _need(path, entry, rs, "control", dict)
        control_min = _need(path, f"{entry}, control", control, "min_points", int)
        awards: dict[str, AwardRule] = {}
        for name, a in awards_raw.items():
            aentry = f"{entry}, award {name}"
            award_kind = a.get("award_kind", name) if isinstance(a, dict) else name
            if award_kind not in AWARD_KINDS:
                raise ReferenceDataError(path, aentry, f"unknown award kind {award_kind!r} (known: {', '.join(AWARD_KINDS)})")
            audit = _need(path, aentry, a, "audit", str)
            if audit not in AUDIT_KINDS:
                raise ReferenceDataError(path, aentry, f"unknown audit kind {audit!r} (known: {', '.join(AUDIT_KINDS)})")
            if "valid_years" not in a:
                raise ReferenceDataError(path, aentry, "missing 'valid_years' (null for an indefinite title)")
            valid_years = a["valid_years"]
            if valid_years is not None and (not isinstance(valid_years, int) or valid_years <= 0):
                raise ReferenceDataError(path, aentry, f"valid_years must be a positive whole number or null, got {valid_years!r}")
            if (valid_years is None) != (award_kind == "leader"):
                raise ReferenceDataError(path, aentry, "only the leader title is indefinite (valid_years: null)")
            awards[name] = AwardRule(
                name, award_kind, audit, _need(path, aentry, a, "min_points", int), valid_years,
                _kinds(a.get("requires")), int(a.get("min_years_in_programme", 0)),
                int(a.get("min_positive_controls", 0)), tuple(a.get("required_criteria") or ()))
        rule_set = RuleSet(family, valid_from, awards, control_min, int(rs.get("mandatory_min_points", 1)), path.name)
        sets.append(rule_set)
    # Check each rule set against every catalogue in force while it applies.
    for i, rs in enumerate(sets):
        end = sets[i + 1].valid_from if i + 1 < len(sets) else None
        cats = _catalogues_in_force(ref, family, rs.valid_from, end)
        if not cats:
            raise ReferenceDataError(path, f"rule set valid from {rs.valid_from}", f"no {family} catalogue is in force")
        kinds = {a.award_kind for a in rs.awards.values()}
        for rule in rs.awards.values():
            aentry = f"rule set valid from {rs.valid_from}, award {rule.name}"
            missing = [k for k in rule.requires if k not in kinds]
            if missing:
                raise ReferenceDataError(path, aentry, f"requires {', '.join(missing)}, which no award of this rule set gives")
            for cat in cats:
                if not 0 < rule.min_points <= cat.max_total:
                    raise ReferenceDataError(path, aentry, f"min_points {rule.min_points} is outside 1–{cat.max_total}, "
                                             f"the maximum of catalogue {cat.key}")
                ids = {c.id for c in cat.criteria}
                unknown = [c for c in rule.required_criteria if c not in ids]
                if unknown:
                    raise ReferenceDataError(path, aentry, f"unknown criterion id(s) {', '.join(unknown)} "
                                             f"in catalogue {cat.key}")
        for cat in cats:
            if not 0 < rs.control_min_points <= cat.max_total:
                raise ReferenceDataError(path, f"rule set valid from {rs.valid_from}, control",
                                         f"min_points {rs.control_min_points} is outside 1–{cat.max_total}, "
                                         f"the maximum of catalogue {cat.key}")
    return family, tuple(sets)


def load_rules(directory: Path | str | None = None, ref: Reference | None = None) -> Rules:
    d = Path(directory) if directory else data_dir()
    ref = ref or reference(d)
    out: dict[str, tuple[RuleSet, ...]] = {}
    for path in sorted((d / "rules").glob("*.yaml")):
        family, sets = load_rules_file(path, ref)
        if family in out:
            raise ReferenceDataError(path, "family", f"rules for {family!r} are defined in two files")
        out[family] = sets
    for fam in {k.family for k in ref.kinds.values()}:
        if fam not in out:
            raise ReferenceDataError(d / "rules", None, f"no rules file for institution family {fam!r}")
    return Rules(out)


@functools.lru_cache(maxsize=4)
def _cached(directory: str) -> Rules:
    return load_rules(directory)


def rules(directory: Path | str | None = None) -> Rules:
    """The certificate rules, loaded once per process."""
    return _cached(str(Path(directory) if directory else data_dir()))
