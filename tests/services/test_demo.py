"""The demo generator: deterministic, of the promised magnitudes, consistent with the rules, and
carrying the effects reports should find."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from zpb_lib.services import demo
from zpb_lib import store
from zpb_lib.domain.checks import check


def test_same_seed_same_database(tmp_path, small_db, content_hash):
    again = demo.generate(tmp_path / "again.sqlite", seed=7, scale=0.1)
    assert content_hash(again) == content_hash(small_db)
    other = demo.generate(tmp_path / "other.sqlite", seed=8, scale=0.1)
    assert content_hash(other) != content_hash(small_db)


def test_small_demo_passes_check(small_db):
    con = store.connect(small_db, readonly=True)
    assert [str(p) for p in check(con)] == []
    con.close()


@pytest.fixture(scope="module")
def frames(default_db):
    con = store.connect(default_db, readonly=True)
    out = {t: store.load(con, t) for t in ("institutions", "participation", "audits", "awards", "meta")}
    out["surveys"] = con.frame(
        "SELECT institution_id, edition, wave, grp, COUNT(*) n, AVG(safe_school >= 4) safe FROM survey_responses "
        "GROUP BY 1, 2, 3, 4")
    out["actions"] = con.frame(
        "SELECT institution_id, edition, AVG(status = 'done') done FROM action_items GROUP BY 1, 2")
    out["problems"] = check(con)
    con.close()
    return out


def test_default_demo_magnitudes(frames):
    inst = frames["institutions"]
    assert 2300 <= len(inst) <= 2700
    per_county = inst.groupby("county", observed=True).size()
    assert per_county.idxmax() == "1261" and len(per_county) == 22      # Kraków largest, every county
    assert (inst["kind"] == "university").sum() >= 6
    part = frames["participation"]
    ever_by_2022 = part[part["joined_edition"] <= "2021/2022"]["institution_id"].nunique()
    assert 330 <= ever_by_2022 <= 480                                     # ~400 took part up to 2022
    active_last = part[part["left_edition"].isna()]
    assert 300 <= len(active_last) <= 500
    meta = dict(zip(frames["meta"]["key"], frames["meta"]["value"]))
    assert meta["synthetic"] == "1"


def test_default_demo_passes_check(frames):
    assert [str(p) for p in frames["problems"]] == []


def test_awards_follow_the_rules(frames, ref):
    awards, audits, part = frames["awards"], frames["audits"].set_index("id"), frames["participation"]
    years = {"certificate": 2, "extension": 5, "university_certificate": 4}
    for a in awards.itertuples():
        if a.kind == "leader":
            assert pd.isna(a.valid_until)
        else:
            expected = a.awarded_on + pd.DateOffset(years=years[a.kind])
            assert a.valid_until == expected, a
    kinds = frames["institutions"].set_index("id")["kind"]
    assert set(awards[awards["kind"] == "university_certificate"]["institution_id"].map(kinds)) == {"university"}
    assert "university" not in set(awards[awards["kind"] != "university_certificate"]["institution_id"].map(kinds))
    # Leader titles only after at least 7 full years from 1 September of the joining school year.
    joined = part.set_index("institution_id")["joined_edition"]
    leaders = awards[awards["kind"] == "leader"]
    assert len(leaders) > 0
    for a in leaders.itertuples():
        start = dt.date(int(str(joined[a.institution_id])[:4]), 9, 1)
        audit_date = audits.loc[a.audit_id, "audit_date"].date()
        assert (audit_date - start).days >= 7 * 365, a
        assert a.edition >= "2013/2014"                                # introduced by the 2013 annex


def test_gimnazja_in_historical_editions_only(frames):
    inst = frames["institutions"].set_index("id")
    audits = frames["audits"]
    gim = audits[audits["institution_id"].map(inst["kind"]) == "gimnazjum"]
    assert len(gim) > 0
    assert gim["edition"].astype(str).max() <= "2018/2019"


def test_some_survey_groups_are_small(frames):
    s = frames["surveys"]
    small = s[s["n"] < 10]
    assert len(small) > 0 and set(small["grp"]) <= {"parents", "teachers"}
    schools = set(frames["institutions"].query("kind != 'university'")["id"])
    students = s[(s["grp"] == "students") & s["institution_id"].isin(schools)]
    base = students[students["wave"] == "baseline"]["n"]
    assert base.min() >= 50 and base.max() <= 300                      # students 50–300 per school
    assert students["n"].min() >= 40                                  # follow-up: a few fewer


def test_plan_implementation_improves_safety(frames):
    s = frames["surveys"]
    st = s[s["grp"] == "students"].pivot_table(index=["institution_id", "edition"], columns="wave", values="safe")
    change = (st["follow-up"] - st["baseline"]).rename("change").reset_index()
    merged = change.merge(frames["actions"], on=["institution_id", "edition"])
    merged["edition"] = merged["edition"].astype(str)
    r = np.corrcoef(merged["done"], merged["change"])[0, 1]
    assert r > 0.3, r
    hi = merged[merged["done"] >= 0.75]["change"].mean()
    lo = merged[merged["done"] <= 0.25]["change"].mean()
    assert hi > lo + 0.05


def test_lagging_counties_lag(frames):
    part, inst = frames["participation"], frames["institutions"].set_index("id")
    rate = (part.assign(county=part["institution_id"].map(inst["county"]).astype(str))
            .groupby("county").size() / inst.groupby(inst["county"].astype(str)).size())
    lag = rate.reindex(list(demo.LAGGING_COUNTIES))
    assert lag.max() < rate.drop(list(demo.LAGGING_COUNTIES)).median()


def test_identifiers_are_plausible_and_unique(frames):
    """Demo institutions carry identifiers of the real kinds: a six-digit RSPO number for each school,
    a version-4 UUID for each university, never both, never repeated."""
    import re
    import uuid

    inst = frames["institutions"]
    schools, unis = inst[inst["kind"] != "university"], inst[inst["kind"] == "university"]
    assert schools["rspo"].notna().all() and schools["polon"].isna().all()
    assert unis["polon"].notna().all() and unis["rspo"].isna().all() and len(unis) == 7
    assert schools["rspo"].between(10_000, 299_999).all() and schools["rspo"].is_unique
    assert all(uuid.UUID(p).version == 4 and re.fullmatch(r"[0-9a-f-]{36}", p) for p in unis["polon"])
    assert unis["polon"].is_unique
    # Identifiers do not follow the internal ids (nobody could guess one from the other).
    assert (schools["rspo"] != schools["id"]).all()
    assert not schools.sort_values("id")["rspo"].is_monotonic_increasing


def test_action_titles_are_unique_within_a_plan(default_db):
    """The register keys an action by institution, edition and title."""
    con = store.connect(default_db, readonly=True)
    dup = con.execute("SELECT COUNT(*) FROM (SELECT 1 FROM action_items GROUP BY institution_id, edition, title "
                      "HAVING COUNT(*) > 1)").fetchone()[0]
    con.close()
    assert dup == 0


PLACES = ("toilets", "corridors", "cloakroom", "playground", "surroundings", "bus_stop", "crossing", "way", "other")


def test_some_respondents_answer_nowhere_and_it_excludes_the_places(small_db):
    con = store.connect(small_db, readonly=True)
    named = " + ".join(f"COALESCE(place_{p}, 0)" for p in PLACES)
    any_null = " OR ".join(f"place_{p} IS NULL" for p in (*PLACES, "nowhere"))
    all_null = " AND ".join(f"place_{p} IS NULL" for p in (*PLACES, "nowhere"))
    answered, nowhere, both, partial, skipped = con.execute(
        f"SELECT SUM(NOT ({all_null})), SUM(place_nowhere = 1), SUM(place_nowhere = 1 AND {named} > 0), "
        f"SUM(({any_null}) AND NOT ({all_null})), SUM({all_null}) FROM survey_responses").fetchone()
    con.close()
    assert 0.05 * answered < nowhere < 0.5 * answered  # some, not most
    assert both == 0 and partial == 0  # an answer is „nowhere” or places, or the question was skipped
    assert skipped > 0


def test_nowhere_leaves_the_rest_of_the_demo_as_it_was(tmp_path):
    """The „nowhere” column draws no random numbers: a demo database made now holds the same survey
    answers as one made before schema version 3 (tests/fixtures/schema-v2.sql.gz: seed 5, scale 0.03)."""
    import gzip
    import sqlite3
    from pathlib import Path

    old = sqlite3.connect(":memory:")
    old.executescript(gzip.open(Path(__file__).parents[1] / "fixtures" / "schema-v2.sql.gz", "rt", encoding="utf-8").read())
    cols = [r[1] for r in old.execute("PRAGMA table_info(survey_responses)")]
    new = sqlite3.connect(demo.generate(tmp_path / "demo.sqlite", seed=5, scale=0.03))
    sql = f"SELECT {', '.join(cols)} FROM survey_responses WHERE import_id IS NULL ORDER BY id"
    before, after = old.execute(sql).fetchall(), new.execute(sql).fetchall()
    assert len(before) > 1000 and after == before
    named = " + ".join(f"place_{p}" for p in PLACES)
    assert new.execute(f"SELECT COUNT(*) FROM survey_responses WHERE place_nowhere IS NOT ({named} = 0)"
                       ).fetchone()[0] == 0
    old.close()
    new.close()
