"""The certificate lifecycle: every audit replayed under the rules in force, the status of every
institution on any date, renewals due, and where recorded awards differ from what the rules give.

The replay uses the awards as recorded (they are the legal fact); the rules say whether each award
was due. That is what lets the data-quality list name an award that should not exist, and a
positive audit whose award was never recorded.
"""
from __future__ import annotations

import datetime as dt
from typing import Callable

import numpy as np
import pandas as pd

from zpb_lib.reference import Reference, reference
from zpb_lib.domain.scoring.decisions import decide, score_audit, valid_until, years_in_programme
from zpb_lib.domain.scoring.rules import Rules, rules as load_rules
from zpb_lib.store.frames import Frames  # the store's read model; importable from here as before

STATUSES = ("not_participating", "stage1", "certified", "extended", "expired", "leader", "left")
STAGE_OF_AWARD = {"certificate": "certified", "university_certificate": "certified", "extension": "extended",
                  "leader": "leader"}


def _start_year(edition) -> int:
    return int(str(edition)[:4])


def edition_start_date(edition) -> dt.date:
    """A school year begins on 1 September."""
    return dt.date(_start_year(edition), 9, 1)


def edition_end_date(edition) -> dt.date:
    return dt.date(_start_year(edition) + 1, 8, 31)


def replay(frames: Frames, ref: Reference | None = None, rules: Rules | None = None) -> pd.DataFrame:
    """Every audit scored and decided under the rules of its edition, in each institution's history.

    Columns: audit_id, institution_id, edition, kind, audit_date, catalogue, total, max_total, share,
    mandatory_failed, missing, years, held, positive_controls, rule, award_kind, granted, threshold,
    points_short, reasons (``code:value:items`` joined by ``|``), award_id (the award recorded for
    this audit, if any).
    """
    ref = ref or reference()
    rules = rules or load_rules(ref.directory)
    inst_kind = frames.institutions.set_index("id")["kind"].astype(str)
    family = inst_kind.map({k: v.family for k, v in ref.kinds.items()})
    joined = frames.participation.groupby("institution_id")["joined_edition"].min()
    items = frames.audit_items
    points: dict[int, dict[str, int]] = {}
    for aid, crit, p in zip(items["audit_id"].to_numpy(), items["criterion"].astype(str).to_numpy(),
                            items["points"].to_numpy()):
        points.setdefault(int(aid), {})[crit] = int(p)
    awards = frames.awards.sort_values(["institution_id", "awarded_on", "id"])
    # Plain tuples per institution: the replay visits every audit, pandas filtering there is slow.
    by_inst_awards: dict[int, list[tuple[pd.Timestamp, pd.Timestamp | None, str]]] = {}
    for inst_id, on, until, kind in zip(awards["institution_id"], awards["awarded_on"], awards["valid_until"],
                                        awards["kind"].astype(str)):
        by_inst_awards.setdefault(int(inst_id), []).append((on, None if pd.isna(until) else until, kind))
    award_of_audit = {int(a): int(i) for a, i in zip(awards["audit_id"], awards["id"]) if not pd.isna(a)}
    criteria_of = {key: {c.id for c in cat.criteria} for key, cat in ref.catalogues.items()}
    rows = []
    audits = frames.audits.sort_values(["institution_id", "audit_date", "id"])
    for inst, group in audits.groupby("institution_id", sort=False):
        fam = family.get(inst)
        j = joined.get(inst)
        join_year = _start_year(j) if j is not None and not pd.isna(j) else None
        mine = by_inst_awards.get(int(inst), [])
        controls: list[tuple[pd.Timestamp, bool]] = []
        for a in group.itertuples(index=False):
            date = a.audit_date
            cat = ref.catalogues[str(a.catalogue)]
            rs = rules.for_edition(fam, str(a.edition))
            own = {k: v for k, v in points.get(int(a.id), {}).items() if k in criteria_of[cat.key]}
            score = score_audit(cat, own, rs.mandatory_min_points)
            held = frozenset(k for on, until, k in mine if on <= date and (until is None or until > date))
            earlier = [on for on, _, _ in mine if on < date]
            last_award = max(earlier) if earlier else pd.Timestamp.min
            n_controls = sum(ok for t, ok in controls if t > last_award)
            years = years_in_programme(join_year, date.date()) if join_year is not None else 0
            d = decide(rs, str(a.kind), score, held=held, years=years, positive_controls=n_controls)
            if a.kind == "control":
                controls.append((date, d.granted))
            rows.append({
                "audit_id": int(a.id), "institution_id": int(inst), "edition": str(a.edition), "kind": str(a.kind),
                "audit_date": date, "catalogue": cat.key, "total": score.total, "max_total": score.max_total,
                "share": score.total / score.max_total, "mandatory_failed": ",".join(score.mandatory_failed),
                "missing": ",".join(score.missing), "years": years, "held": ",".join(sorted(held)),
                "positive_controls": n_controls, "rule": d.rule, "award_kind": d.award_kind,
                "granted": d.granted, "threshold": d.threshold, "points_short": d.points_short,
                "reasons": "|".join(f"{r.code}:{'' if r.value is None else r.value}:{','.join(r.items)}"
                                    for r in d.reasons),
                "award_id": award_of_audit.get(int(a.id)),
            })
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    out["award_id"] = out["award_id"].astype("Int64")
    return out


def participating_in(participation: pd.DataFrame, edition: str) -> set[int]:
    """Institutions taking part in ``edition``: joined in it or before and not left before it (a
    school that leaves after an edition still took part in it)."""
    joined = participation["joined_edition"].astype(str)
    left = participation["left_edition"]
    active = (joined <= edition) & (left.isna() | (left.astype(str) >= edition))
    return set(participation.loc[active, "institution_id"].astype(int))


def rank_audits(scored: pd.DataFrame) -> pd.DataFrame:
    """Ranking of an edition's audits for the ceremony (control audits excluded), per institution
    family since their maxima differ. Ties share the best rank ("1, 2, 2, 4") and are flagged:
    the rules give no tie-break, so the report must show the tie rather than invent an order."""
    r = scored[scored["kind"] != "control"].copy()
    if r.empty:
        return r.assign(rank=pd.Series(dtype="Int64"), tied=pd.Series(dtype=bool))
    keys = ["edition", "family"] if "family" in r.columns else ["edition"]
    r["rank"] = r.groupby(keys)["total"].rank(method="min", ascending=False).astype(int)
    r["tied"] = r.groupby(keys + ["total"])["total"].transform("size") > 1
    return r.sort_values(keys + ["rank", "institution_id"]).reset_index(drop=True)


def _dates(editions: pd.Series, day: Callable[[str], dt.date]) -> pd.Series:
    """``day(edition)`` for each edition, as timestamps (NaT where there is no edition)."""
    return pd.to_datetime(editions.astype(object).map(lambda e: pd.Timestamp(day(e)) if not pd.isna(e) else pd.NaT))


def status_on(frames: Frames, on: dt.date) -> pd.DataFrame:
    """Status of every institution on date ``on``: one of STATUSES, with the award that gives it.

    A school that joined in a school year counts from 1 September of it; one that left counts as
    left after 31 August closing that period's last edition, until it joins again (a school may take
    part in several periods; ``joined_edition`` is its first). The leader title is indefinite;
    otherwise the latest award valid on ``on`` decides (extension over certificate); an institution
    whose awards have all lapsed is "expired" while it still takes part.
    """
    ts = pd.Timestamp(on)
    inst = frames.institutions[["id", "name", "kind", "county"]].rename(columns={"id": "institution_id"})
    periods = frames.participation.sort_values(["institution_id", "joined_edition"])
    first = periods.groupby("institution_id")["joined_edition"].first().rename("joined_edition")
    # The period that decides: the latest one begun by ``on`` (a later join replaces an earlier leave).
    begun = _dates(periods["joined_edition"], edition_start_date) <= ts
    latest = periods[begun].groupby("institution_id").tail(1).set_index("institution_id")["left_edition"]
    out = inst.merge(first, how="left", left_on="institution_id", right_index=True).merge(
        latest, how="left", left_on="institution_id", right_index=True)
    joined_on = _dates(out["joined_edition"], edition_start_date)
    left_on = _dates(out["left_edition"], edition_end_date)
    aw = frames.awards[frames.awards["awarded_on"] <= ts]
    valid = aw[aw["valid_until"].isna() | (aw["valid_until"] > ts)].copy()
    valid["prio"] = valid["kind"].astype(str).map({"leader": 3, "extension": 2, "certificate": 1,
                                                   "university_certificate": 1})
    best = valid.sort_values(["institution_id", "prio", "awarded_on"]).groupby("institution_id").tail(1)
    best = best[["institution_id", "id", "kind", "awarded_on", "valid_until"]].rename(
        columns={"id": "award_id", "kind": "award_kind"})
    best["award_kind"] = best["award_kind"].astype(str)
    ever = set(aw["institution_id"])
    out = out.merge(best, on="institution_id", how="left")
    out["award_id"] = out["award_id"].astype("Int64")
    status = np.where(joined_on.isna() | (joined_on > ts), "not_participating", "stage1").astype(object)
    has_award = out["award_kind"].notna().to_numpy()
    participating = status == "stage1"
    status[participating & has_award] = out.loc[participating & has_award, "award_kind"].map(STAGE_OF_AWARD)
    lapsed = participating & ~has_award & out["institution_id"].isin(ever).to_numpy()
    status[lapsed] = "expired"
    gone = (left_on.notna() & (left_on < ts)).to_numpy()
    status[gone] = "left"
    out["status"] = pd.Categorical(status, categories=list(STATUSES))
    out["years_in_programme"] = [years_in_programme(_start_year(e), on) if not pd.isna(e) else pd.NA
                                 for e in out["joined_edition"]]
    out["years_in_programme"] = out["years_in_programme"].astype("Int64")
    return out


def renewals_due(status: pd.DataFrame, on: dt.date, months: int = 12, ref: Reference | None = None) -> pd.DataFrame:
    """Certificates and extensions valid on ``on`` that expire within ``months`` months, with the
    county and the police unit responsible, soonest first."""
    ref = ref or reference()
    ts = pd.Timestamp(on)
    limit = ts + pd.DateOffset(months=months)
    due = status[status["status"].isin(["certified", "extended"]) & status["valid_until"].notna()
                 & (status["valid_until"] > ts) & (status["valid_until"] <= limit)].copy()
    due["police_unit"] = due["county"].astype(str).map({t: c.police_unit for t, c in ref.counties.items()})
    due["days_left"] = (due["valid_until"] - ts).dt.days
    return due.sort_values(["valid_until", "institution_id"]).reset_index(drop=True)


def data_quality(frames: Frames, scored: pd.DataFrame, ref: Reference | None = None,
                 rules: Rules | None = None, as_of: dt.date | None = None) -> pd.DataFrame:
    """Differences between recorded awards and what the rules give. Columns: table, key,
    institution_id, problem (code), message (English, one line)."""
    ref = ref or reference()
    rules = rules or load_rules(ref.directory)
    family = frames.institutions.set_index("id")["kind"].astype(str).map({k: v.family for k, v in ref.kinds.items()})
    audits = frames.audits.set_index("id")
    by_audit = scored.set_index("audit_id") if len(scored) else scored
    out: list[dict] = []

    def add(key: str, inst: int, problem: str, message: str, table: str = "awards",
            expected: dt.date | None = None) -> None:
        out.append({"table": table, "key": key, "institution_id": int(inst), "problem": problem, "message": message,
                    "expected_until": pd.Timestamp(expected) if expected else pd.NaT})

    for a in frames.awards.sort_values(["institution_id", "awarded_on", "id"]).itertuples(index=False):
        key = f"id {a.id}"
        fam = family.get(a.institution_id)
        if fam is None or pd.isna(fam):
            continue  # the foreign-key check reports it
        if pd.isna(a.audit_id) or int(a.audit_id) not in audits.index:
            # Recorded from the register without an audit in the database (most of the programme's
            # history): the official record, checked against what the rules say without points.
            for problem, message, expected in _unaudited_award(a, fam, rules, frames, ref):
                add(key, a.institution_id, problem, message, expected=expected)
            continue
        audit = audits.loc[int(a.audit_id)]
        if audit.institution_id != a.institution_id or str(audit.edition) != str(a.edition):
            add(key, a.institution_id, "audit_mismatch", f"its audit {a.audit_id} is of another institution or edition")
            continue
        rs = rules.for_edition(fam, str(a.edition))
        rule = rs.rule_for_award(str(a.kind), str(audit.kind))
        if rule is None:
            add(key, a.institution_id, "wrong_kind", f"a {audit.kind} audit cannot give a {a.kind} "
                f"under the rules valid from {rs.valid_from}")
            continue
        d = by_audit.loc[int(a.audit_id)]
        if not d["granted"]:
            add(key, a.institution_id, "not_granted",
                f"{a.kind} without a positive audit: " + "; ".join(reason_texts(d["reasons"])))
        awarded_on = a.awarded_on.date()
        expected = valid_until(awarded_on, rule.valid_years)
        actual = None if pd.isna(a.valid_until) else a.valid_until.date()
        if expected != actual:
            add(key, a.institution_id, "validity", f"valid until {actual or 'indefinitely'}, the rules give "
                f"{expected or 'indefinitely'} ({rule.valid_years or 'no'} years from {awarded_on})", expected=expected)
    # Positive audits whose award was never recorded (once the edition's ceremony has passed).
    if len(scored):
        cutoff = pd.Timestamp(as_of or dt.date.today())
        ceremony = {e: pd.Timestamp(x.ceremony) for e, x in ref.editions.items() if x.ceremony}
        missing = scored[(scored["kind"] != "control") & scored["granted"] & scored["award_id"].isna()]
        for m in missing.itertuples(index=False):
            if ceremony.get(m.edition, pd.Timestamp.max) <= cutoff:
                add(f"id {m.audit_id}", m.institution_id, "award_missing",
                    f"{m.kind} audit of {m.edition} gives a {m.award_kind} ({m.total} points), "
                    f"but no award is recorded (record it with `zpb awards confirm --edition {m.edition}`)",
                    table="audits")
    return pd.DataFrame(out, columns=["table", "key", "institution_id", "problem", "message", "expected_until"])


# Problems that deny an award is due (it does not count towards a status); the others — not linked
# to its audit, a validity other than the rules give — are about how it is recorded.
CONTESTING = ("wrong_kind", "not_granted", "not_participating", "requires", "years_short", "audit_mismatch")


def award_verdicts(awards: pd.DataFrame, quality: pd.DataFrame) -> pd.DataFrame:
    """Per award (``id``): ``contest`` (the codes of :data:`CONTESTING` that `zpb db check` reports for
    it, comma-joined; empty when none), ``contested`` and ``rules_until`` (the end of validity the
    rules give, where the recorded one differs; NaT otherwise)."""
    q = quality[quality["table"] == "awards"]
    ids = q["key"].str.split().str[-1].astype(int) if len(q) else pd.Series(dtype=int)
    q = q.assign(award_id=ids.to_numpy())
    contest = (q[q["problem"].isin(CONTESTING)].groupby("award_id")["problem"]
               .agg(lambda p: ",".join(dict.fromkeys(p))))
    until = q[q["problem"] == "validity"].groupby("award_id")["expected_until"].first()
    out = pd.DataFrame({"id": awards["id"].astype(int).to_numpy()})
    out["contest"] = [str(contest.get(i, "")) for i in out["id"]]
    out["contested"] = out["contest"] != ""
    out["rules_until"] = pd.to_datetime(pd.Series([until.get(i, pd.NaT) for i in out["id"]], dtype=object))
    return out


def accepted_awards(awards: pd.DataFrame, quality: pd.DataFrame) -> pd.DataFrame:
    """The awards a status may count: recorded ones the rules do not deny (see :data:`CONTESTING`),
    each valid as long as the rules give where its record says otherwise — so that no report shows as
    valid what `zpb db check` calls invalid."""
    v = award_verdicts(awards, quality).set_index("id")
    ids = awards["id"].astype(int)
    kept = awards[~ids.map(v["contested"]).to_numpy()].copy()
    fix = kept["id"].astype(int).map(v["rules_until"])
    has_fix = fix.notna().to_numpy()
    if has_fix.any():
        kept.loc[has_fix, "valid_until"] = fix[has_fix].to_numpy()
    return kept


def _unaudited_award(a, family: str, rules: Rules, frames: Frames,
                     ref: Reference) -> list[tuple[str, str, dt.date | None]]:
    """What contradicts the rules in an award recorded without an audit: the institution must take
    part in the edition, hold what the award requires and have the years in the programme it needs;
    its validity must be the one the rules give. An audit of that edition which should have given it
    and did not is a contradiction too."""
    out: list[tuple[str, str, dt.date | None]] = []
    edition, kind = str(a.edition), str(a.kind)
    rs = rules.for_edition(family, edition)
    rule = rs.rule_for_award(kind)
    if rule is None:
        return [("wrong_kind", f"the rules valid from {rs.valid_from} give no {kind} to a {family}", None)]
    if a.institution_id not in participating_in(
            frames.participation[frames.participation["institution_id"] == a.institution_id], edition):
        out.append(("not_participating", f"{kind} in {edition}, an edition the institution does not take part in",
                    None))
    on = a.awarded_on
    # What the institution held when its audit would have taken place (the end of the audit window),
    # as the replay of an audited award judges it.
    audit_day = pd.Timestamp(ref.editions[edition].audit_to)
    mine = frames.awards[(frames.awards["institution_id"] == a.institution_id)
                         & (frames.awards["awarded_on"] <= audit_day)]
    valid = mine[mine["valid_until"].isna() | (mine["valid_until"] > audit_day)]
    if rule.requires and not set(valid["kind"].astype(str)) & set(rule.requires):
        out.append(("requires", f"{kind} requires a valid {' or '.join(rule.requires)}, which the institution did "
                                f"not hold in {edition}'s audit period", None))
    if rule.min_years_in_programme:
        joined = frames.participation.loc[frames.participation["institution_id"] == a.institution_id, "joined_edition"]
        years = years_in_programme(_start_year(joined.min()), audit_day.date()) if len(joined.dropna()) else 0
        if years < rule.min_years_in_programme:
            out.append(("years_short", f"{kind} needs {rule.min_years_in_programme} years in the programme; the "
                                       f"institution had {years} by {audit_day.date()}", None))
    audits = frames.audits[(frames.audits["institution_id"] == a.institution_id)
                           & (frames.audits["edition"].astype(str) == edition)
                           & (frames.audits["kind"].astype(str) == rule.audit)]
    if len(audits):
        out.append(("audit_not_linked", f"{kind} in {edition} is not linked to the {rule.audit} audit of that edition "
                                         f"(audit {int(audits['id'].iloc[0])}); record it again through the register "
                                         "or `zpb awards confirm`", None))
    expected = valid_until(on.date(), rule.valid_years)
    actual = None if pd.isna(a.valid_until) else a.valid_until.date()
    if expected != actual:
        out.append(("validity", f"valid until {actual or 'indefinitely'}, the rules give {expected or 'indefinitely'} "
                                f"({rule.valid_years or 'no'} years from {on.date()})", expected))
    return out


REASON_TEXT_EN = {
    "mandatory_failed": "mandatory criteria not met: {items}",
    "required_failed": "required criteria not met: {items}",
    "points_short": "{value} points short of the threshold",
    "years_short": "{value} year(s) short of the years in the programme required",
    "controls_short": "{value} positive control audit(s) missing",
    "requires": "requires a valid {items_or}",
    "no_rule": "no rule for this audit kind",
}


def parse_reasons(encoded: str) -> list[tuple[str, int | None, tuple[str, ...]]]:
    """Decode the ``reasons`` column of :func:`replay`."""
    out = []
    for part in filter(None, (encoded or "").split("|")):
        code, value, items = part.split(":")
        out.append((code, int(value) if value else None, tuple(filter(None, items.split(",")))))
    return out


def reason_texts(encoded: str, templates: dict[str, str] | None = None) -> list[str]:
    templates = templates or REASON_TEXT_EN
    return [templates.get(code, code).format(value=value, items=", ".join(items), items_or=" or ".join(items))
            for code, value, items in parse_reasons(encoded)]
