"""Scoring, decisions, explanations and lifecycle on hand-made cases: every rule and its boundaries.

The catalogue and rule set here are built in the test with their own numbers, so the expectations
do not depend on the documented defaults in data/.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from zpb_lib.reference import Area, Catalogue, Criterion
from zpb_lib.domain.scoring import decide, score_audit, valid_until, years_in_programme
from zpb_lib.domain.scoring.explain import describe_next_step, gap_list, next_step
from zpb_lib.domain.scoring.lifecycle import Frames, rank_audits, renewals_due, status_on
from zpb_lib.domain.scoring.rules import AwardRule, RuleSet

CAT = Catalogue(
    "t", 1, "school", "2004/2005",
    (Area("org", "Organizacja", "Organisation"), Area("impl", "Realizacja", "Implementation")),
    (Criterion("M1", "org", 5, True, "Koordynator", "Coordinator"),
     Criterion("O1", "org", 5, False, "Partnerzy", "Partners"),
     Criterion("I1", "impl", 10, False, "Realizacja planu", "Implementation of the plan"),
     Criterion("I2", "impl", 4, False, "Ankieta nauczycieli", "Teachers' survey")),
    True)  # maximum 24
RS = RuleSet("school", "2004/2005", {
    "certificate": AwardRule("certificate", "certificate", "certification", 16, 2),
    "extension": AwardRule("extension", "extension", "reaudit", 18, 5, ("certificate", "extension")),
    "leader": AwardRule("leader", "leader", "leader", 20, None, ("extension",), 7, 1),
}, control_min_points=15, mandatory_min_points=1, source="test")
RS_NO_LEADER = RuleSet("school", "2004/2005", {k: v for k, v in RS.awards.items() if k != "leader"},
                       15, 1, "test")


def pts(m1=5, o1=5, i1=10, i2=4):
    return {"M1": m1, "O1": o1, "I1": i1, "I2": i2}


def test_score_totals_areas_and_mandatory():
    s = score_audit(CAT, pts(m1=0, o1=3, i1=7, i2=2))
    assert (s.total, s.max_total) == (12, 24)
    assert s.by_area == {"org": (3, 10), "impl": (9, 14)}
    assert s.mandatory_failed == ("M1",)
    s = score_audit(CAT, {"M1": 2})
    assert s.missing == ("O1", "I1", "I2") and s.total == 2
    with pytest.raises(KeyError):
        score_audit(CAT, {"X9": 1})


def test_certificate_exactly_at_threshold_and_one_below():
    at = decide(RS, "certification", score_audit(CAT, pts(o1=0, i1=7, i2=4)))          # 5+0+7+4 = 16
    assert at.granted and at.award_kind == "certificate" and at.valid_years == 2
    below = decide(RS, "certification", score_audit(CAT, pts(o1=0, i1=6, i2=4)))       # 15
    assert not below.granted and below.points_short == 1
    assert [r.code for r in below.reasons] == ["points_short"]


def test_failed_mandatory_with_high_total():
    d = decide(RS, "certification", score_audit(CAT, pts(m1=0)))                      # 19 ≥ 16, M1 = 0
    assert not d.granted
    assert [(r.code, r.items) for r in d.reasons] == [("mandatory_failed", ("M1",))]


def test_extension_needs_a_valid_certificate():
    s = score_audit(CAT, pts())
    assert decide(RS, "reaudit", s, held=frozenset({"certificate"})).granted
    d = decide(RS, "reaudit", s, held=frozenset())                                     # expired certificate
    assert not d.granted and d.reasons[0].code == "requires"
    assert decide(RS, "reaudit", s, held=frozenset({"extension"})).valid_years == 5   # renewal of an extension


@pytest.mark.parametrize("years, granted", [(6, False), (7, True)])
def test_leader_six_versus_seven_years(years, granted):
    d = decide(RS, "leader", score_audit(CAT, pts()), held=frozenset({"extension"}), years=years,
               positive_controls=1)
    assert d.granted is granted
    if not granted:
        assert [(r.code, r.value) for r in d.reasons] == [("years_short", 1)]
    else:
        assert d.valid_years is None


def test_leader_needs_positive_control_and_exists_only_where_the_rules_have_it():
    s = score_audit(CAT, pts())
    d = decide(RS, "leader", s, held=frozenset({"extension"}), years=9, positive_controls=0)
    assert [r.code for r in d.reasons] == ["controls_short"]
    assert decide(RS_NO_LEADER, "leader", s, held=frozenset({"extension"}), years=9,
                  positive_controls=2).reasons[0].code == "no_rule"


def test_control_audit_positive_at_its_threshold():
    assert decide(RS, "control", score_audit(CAT, pts(o1=0, i1=6, i2=4))).granted          # 15
    assert not decide(RS, "control", score_audit(CAT, pts(o1=0, i1=5, i2=4))).granted      # 14


def test_years_in_programme_counts_full_years_from_september():
    assert years_in_programme(2010, dt.date(2017, 8, 31)) == 6
    assert years_in_programme(2010, dt.date(2017, 9, 1)) == 7
    assert years_in_programme(2010, dt.date(2017, 6, 1)) == 6


def test_valid_until():
    assert valid_until(dt.date(2014, 9, 24), 2) == dt.date(2016, 9, 24)
    assert valid_until(dt.date(2016, 2, 29), 5) == dt.date(2021, 2, 28)
    assert valid_until(dt.date(2016, 2, 29), None) is None


def test_gap_list_and_next_step():
    s = score_audit(CAT, pts(o1=4, i1=8, i2=1))          # 5+4+8+1 = 18: certified school aiming at extension
    gaps = gap_list(CAT, s)
    assert list(gaps["criterion"]) == ["I2", "I1", "O1"] and list(gaps["lost"]) == [3, 2, 1]
    step = next_step(RS, "extended", CAT, s, years=7, positive_controls=1)           # leader needs 20
    assert (step.rule, step.points_short, step.criteria, step.within_reach) == ("leader", 2, ("I2",), True)
    text = describe_next_step(step, CAT, {"leader": "leader title"}, "en")
    assert text == "2 points short of the leader title: Teachers' survey."
    step = next_step(RS, "certified", CAT, s)
    assert step.rule == "extension" and step.points_short == 0
    failing = score_audit(CAT, pts(m1=0, o1=0, i1=5, i2=0))                           # 5 points, M1 failed
    step = next_step(RS, "stage1", CAT, failing)
    assert step.criteria[0] == "M1" and step.points_short == 11 and not step.within_reach
    assert sum(dict(zip(gap_list(CAT, failing)["criterion"], gap_list(CAT, failing)["lost"]))[c]
               for c in step.criteria) >= 11
    assert next_step(RS, "leader", CAT, s).rule is None


def test_ranking_ties_share_rank():
    df = pd.DataFrame({"edition": ["E"] * 5, "institution_id": [1, 2, 3, 4, 5], "kind": ["certification"] * 4 + ["control"],
                       "total": [30, 32, 30, 28, 35]})
    r = rank_audits(df)
    assert list(r["institution_id"]) == [2, 1, 3, 4]
    assert list(r["rank"]) == [1, 2, 2, 4] and list(r["tied"]) == [False, True, True, False]


def _frames(awards, joined="2010/2011", left=None, periods=None):
    """One institution; ``periods`` (joined, left) pairs replace the single ``joined``/``left``."""
    inst = pd.DataFrame({"id": [1], "name": ["A"], "kind": ["gimnazjum"], "county": ["1201"]})
    periods = periods or [(joined, left)]
    part = pd.DataFrame({"institution_id": [1] * len(periods), "joined_edition": [j for j, _ in periods],
                         "left_edition": [x for _, x in periods]})
    aw = pd.DataFrame(awards, columns=["id", "institution_id", "kind", "edition", "audit_id", "awarded_on", "valid_until"])
    aw["awarded_on"] = pd.to_datetime(aw["awarded_on"])
    aw["valid_until"] = pd.to_datetime(aw["valid_until"])
    return Frames(inst, part, pd.DataFrame(), pd.DataFrame(), aw)


@pytest.mark.parametrize("on, status", [
    ("2010-08-31", "not_participating"), ("2010-09-01", "stage1"), ("2011-10-15", "certified"),
    ("2013-10-14", "certified"), ("2013-10-15", "expired"), ("2014-10-15", "extended"), ("2019-10-14", "extended"),
    ("2019-10-15", "expired"),
])
def test_status_on_dates(on, status):
    f = _frames([(1, 1, "certificate", "2010/2011", None, "2011-10-15", "2013-10-15"),
                 (2, 1, "extension", "2013/2014", None, "2014-10-15", "2019-10-15")])
    assert str(status_on(f, dt.date.fromisoformat(on)).loc[0, "status"]) == status


def test_leader_is_indefinite_and_leaving_ends_participation():
    f = _frames([(1, 1, "leader", "2016/2017", None, "2017-10-15", None)], left="2019/2020")
    assert str(status_on(f, dt.date(2019, 8, 31)).loc[0, "status"]) == "leader"
    assert str(status_on(f, dt.date(2020, 9, 1)).loc[0, "status"]) == "left"


@pytest.mark.parametrize("on, status", [
    ("2012-06-01", "certified"), ("2014-09-01", "left"), ("2016-08-31", "left"),
    # rejoined for 2016/2017: taking part again, its certificate has lapsed meanwhile
    ("2016-09-01", "expired"), ("2019-06-01", "expired"), ("2020-09-01", "left"),
])
def test_a_school_that_rejoins_takes_part_again(on, status):
    # Periods listed out of order on purpose: the order of rows must not matter.
    f = _frames([(1, 1, "certificate", "2010/2011", None, "2011-10-15", "2013-10-15")],
                periods=[("2016/2017", "2019/2020"), ("2010/2011", "2013/2014")])
    st_ = status_on(f, dt.date.fromisoformat(on))
    assert str(st_.loc[0, "status"]) == status
    assert st_.loc[0, "joined_edition"] == "2010/2011"  # in the programme since its first join


def test_a_school_that_rejoins_for_good_is_not_left():
    f = _frames([], periods=[("2010/2011", "2013/2014"), ("2016/2017", None)])
    assert str(status_on(f, dt.date(2015, 6, 1)).loc[0, "status"]) == "left"
    assert str(status_on(f, dt.date(2025, 6, 1)).loc[0, "status"]) == "stage1"


def test_renewals_due_by_county_and_unit(ref):
    f = _frames([(1, 1, "certificate", "2024/2025", None, "2025-10-15", "2027-10-15")])
    st_ = status_on(f, dt.date(2026, 10, 15))
    due = renewals_due(st_, dt.date(2026, 10, 15), months=12, ref=ref)
    assert list(due["institution_id"]) == [1] and due.loc[0, "police_unit"] == "KPP-BOCHNIA"
    assert due.loc[0, "days_left"] == 365
    assert renewals_due(st_, dt.date(2026, 10, 15), months=11, ref=ref).empty


# ------------------------------------------------------------------ properties

points_strategy = st.fixed_dictionaries({c.id: st.integers(0, c.max_points + 5) for c in CAT.criteria})


@settings(max_examples=300, deadline=None)
@given(points_strategy)
def test_total_never_exceeds_maximum(p):
    s = score_audit(CAT, p)
    assert 0 <= s.total <= s.max_total
    assert all(0 <= got <= mx for got, mx in s.by_area.values())


@settings(max_examples=300, deadline=None)
@given(points_strategy, st.sampled_from([c.id for c in CAT.criteria]), st.integers(1, 5),
       st.sampled_from(["certification", "reaudit", "control", "leader"]), st.integers(0, 12), st.integers(0, 3))
def test_adding_points_never_worsens_a_decision(p, crit, extra, kind, years, controls):
    held = frozenset({"certificate", "extension"})
    before = decide(RS, kind, score_audit(CAT, p), held=held, years=years, positive_controls=controls)
    more = dict(p, **{crit: p[crit] + extra})
    after = decide(RS, kind, score_audit(CAT, more), held=held, years=years, positive_controls=controls)
    assert after.granted >= before.granted
    assert after.points_short <= before.points_short
