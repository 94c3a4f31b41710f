"""Survey figures in the reports during the school year and after it.

With only the autumn baseline („diagnoza”) of an edition, a school's report shows that baseline,
labelled as such, beside the county's and the voivodeship's baseline (pooled respondents), and the
county and voivodeship reports do the same; with both waves, the follow-up with the change since the
baseline. The dangerous places are shares of the respondents who answered the question. Surveys
are imported as real files (as `tests/ingest/test_ingest_survey.py` writes them); every expected figure is
computed here from the rows the test wrote or with SQL over the stored answers."""
from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from zpb_lib.store.write import transaction
from zpb_lib.domain import cube
from zpb_lib import store
from zpb_lib.ingest.survey import ingest_survey
from zpb_lib.report.county import CountyReport
from zpb_lib.report.school import SchoolReport
from zpb_lib.report.voivodeship import VoivodeshipReport
from support.surveys import answers, write_google_csv, write_msforms_xlsx

EDITION = "2025/2026"
SAFE = "Czuje się bezpiecznie w szkole"


# --------------------------------------------------------------------------- worlds

class World:
    def __init__(self, db: Path, cube_path: Path, rspo: int, iid: int, county: str, rows: dict):
        self.db, self.cube_path, self.rspo, self.iid, self.county, self.rows = db, cube_path, rspo, iid, county, rows

    def sql(self, query: str, *args):
        con = sqlite3.connect(self.db)
        try:
            return con.execute(query, args).fetchall()
        finally:
            con.close()

    def pooled(self, group: str, wave: str, county: str | None = None) -> tuple[int, int]:
        """Respondents who answered safe_school and those answering 4–5, pooled over every
        institution (of ``county``) — as a county or voivodeship figure must be."""
        where = " AND i.county = ?" if county else ""
        return self.sql("SELECT COUNT(s.safe_school), COALESCE(SUM(s.safe_school IN (4, 5)), 0) FROM survey_responses s "
                        "JOIN institutions i ON i.id = s.institution_id WHERE s.edition = ? AND s.grp = ? AND "
                        f"s.wave = ?{where}", EDITION, group, wave, *([county] if county else []))[0]


def _target(con) -> tuple[int, int, str]:
    """A primary school taking part in the edition with no survey in it (RSPO, id, county), in the
    county with the most students' baseline answers of the edition (so that the county's figure is
    not the school's own)."""
    return con.execute(
        "SELECT i.rspo, i.id, i.county FROM institutions i WHERE i.kind = 'primary' AND i.closed_year IS NULL AND NOT "
        "EXISTS (SELECT 1 FROM survey_responses r WHERE r.institution_id = i.id AND r.edition = :e) AND EXISTS "
        "(SELECT 1 FROM participation p WHERE p.institution_id = i.id AND p.joined_edition <= :e AND "
        "(p.left_edition IS NULL OR p.left_edition >= :e)) ORDER BY (SELECT COUNT(*) FROM survey_responses s JOIN "
        "institutions j ON j.id = s.institution_id WHERE j.county = i.county AND s.edition = :e AND "
        "s.grp = 'students' AND s.wave = 'baseline') DESC, i.id LIMIT 1", {"e": EDITION}).fetchone()


def _world(small_db: Path, folder: Path, *, follow_up: bool, ref) -> World:
    db = folder / "zpb.sqlite"
    shutil.copy(small_db, db)
    con = store.connect(db)
    if not follow_up:
        # The school year is under way: nobody has a follow-up in this edition yet.
        with transaction(con):
            con.execute("DELETE FROM survey_responses WHERE edition = ? AND wave = 'follow-up'", (EDITION,))
    rspo, iid, county = _target(con)
    rows = {("students", "baseline"): answers(ref, "students", 40, seed=41, empty_share=0.1),
            ("parents", "baseline"): answers(ref, "parents", 6, seed=42)}  # fewer than 10: suppressed
    if follow_up:  # after the action plan: most students feel safe
        later = answers(ref, "students", 36, seed=43, empty_share=0.1)
        for i, r in enumerate(later):
            r["safe_school"] = 5 if i % 4 else r["safe_school"]
        rows[("students", "follow-up")] = later
    for (group, wave), r in rows.items():
        path = folder / f"{group}-{wave}.csv"
        if group == "parents":
            path = write_msforms_xlsx(path.with_suffix(".xlsx"), ref, group, r, lang="pl")
        else:
            write_google_csv(path, ref, group, r)
        ingest_survey(con, path, institution=rspo, edition=EDITION, group=group, wave=wave)
    path = cube.build(con, EDITION, folder / "cube.sqlite")
    con.close()
    return World(db, path, rspo, iid, county, rows)


@pytest.fixture(scope="module")
def autumn(small_db, tmp_path_factory, ref) -> World:
    """Only baselines in the edition; the school: students 40, parents 6."""
    return _world(small_db, tmp_path_factory.mktemp("autumn"), follow_up=False, ref=ref)


@pytest.fixture(scope="module")
def summer(small_db, tmp_path_factory, ref) -> World:
    """The demo's follow-ups kept; the school: students in both waves, parents 6 in the baseline."""
    return _world(small_db, tmp_path_factory.mktemp("summer"), follow_up=True, ref=ref)


@pytest.fixture(scope="module")
def autumn_cube(autumn):
    c = cube.Cube(autumn.cube_path)
    yield c
    c.close()


@pytest.fixture(scope="module")
def summer_cube(summer):
    c = cube.Cube(summer.cube_path)
    yield c
    c.close()


# --------------------------------------------------------------------------- reading the HTML

def soup(markup) -> BeautifulSoup:
    return BeautifulSoup(str(markup), "html.parser")


def text_of(node) -> str:
    return " ".join(node.get_text(" ", strip=True).replace("\u00a0", " ").split())


def table_after(doc: BeautifulSoup, heading: str):
    """The table that follows the <h3> ``heading``."""
    h = next((h for h in doc.find_all("h3") if text_of(h) == heading), None)
    assert h is not None, f"no heading {heading!r}"
    return h.find_next("table")


def rows_of(table) -> list[dict[str, str]]:
    head = [text_of(th) for th in table.select("thead th")]
    return [dict(zip(head, (text_of(c) for c in tr.find_all(["td", "th"])))) for tr in table.select("tbody tr")]


def row(table, indicator: str) -> dict[str, str]:
    return next(r for r in rows_of(table) if next(iter(r.values())) == indicator)


def pct(k: int, n: int) -> str:
    return f"{100 * k / n:.1f}".replace(".", ",") + "%"


def written(rows: list[dict]) -> tuple[int, int]:
    """(answered, answers 4–5) of safe_school among the rows the test wrote."""
    answered = [r["safe_school"] for r in rows if r["safe_school"] is not None]
    return len(answered), sum(1 for v in answered if v in (4, 5))


# --------------------------------------------------------------------------- a school with its baseline only

def test_school_with_only_its_baseline_sees_it_labelled(autumn, autumn_cube):
    report = SchoolReport(autumn_cube, autumn.rspo)
    doc = soup(report.indicators())
    text = text_of(doc)
    assert "Brak ankiet" not in text
    assert text.startswith("Wskaźniki z ankiet Diagnoza (jesień): odsetki respondentów")
    table = table_after(doc, "Uczniowie")
    assert text_of(table.caption) == f"Diagnoza (jesień), {EDITION}"  # the group is the heading's, not repeated
    r = row(table, SAFE)
    n, k = written(autumn.rows[("students", "baseline")])
    assert r["Respondenci"] == str(n) and r["Wynik"] == pct(k, n)
    # Compared with the county's and the voivodeship's baseline, pooled over their respondents.
    county_n, county_k = autumn.pooled("students", "baseline", autumn.county)
    voiv_n, voiv_k = autumn.pooled("students", "baseline")
    assert county_n > n and voiv_n > county_n
    assert r[report.county_label] == pct(county_k, county_n)
    assert r["Województwo"] == pct(voiv_k, voiv_n)
    # No change to show before the follow-up.
    assert "Zmiana" not in r and "Diagnoza" not in r
    assert "istotna statystycznie zmiana" not in text_of(table.find_parent("div"))


def test_baseline_below_ten_respondents_is_suppressed(autumn, autumn_cube):
    doc = soup(SchoolReport(autumn_cube, autumn.rspo).indicators())
    table = table_after(doc, "Rodzice")
    assert text_of(table.caption) == f"Diagnoza (jesień), {EDITION}"
    r = row(table, SAFE)
    assert r["Respondenci"] == "6" and r["Wynik"] == "—" and r["Przedział ufności 95%"] == "—"
    assert "mniej niż 10 respondentów" in text_of(table.find_parent("div"))
    assert table_after(doc, "Uczniowie") is not None
    assert "Nauczyciele" not in [text_of(h) for h in doc.find_all("h3")]  # no teachers' survey: no table


def test_school_baseline_in_english(autumn, autumn_cube):
    doc = soup(SchoolReport(autumn_cube, autumn.rspo, lang="en").indicators())
    table = table_after(doc, "Students")
    assert text_of(table.caption) == f"Baseline (autumn), {EDITION}"
    assert "This edition has no follow-up survey yet" in text_of(doc)
    n, k = written(autumn.rows[("students", "baseline")])
    r = row(table, "Feels safe at school")
    assert r["Respondents"] == str(n) and r["Result"] == f"{100 * k / n:.1f}%"


def test_school_places_of_the_baseline_over_those_who_answered(autumn, autumn_cube):
    doc = soup(SchoolReport(autumn_cube, autumn.rspo).places())
    table = doc.find("table")
    # Parents are suppressed (6), so „all respondents” is too: the students' figures are shown.
    assert text_of(table.caption) == f"Miejsca wskazywane jako niebezpieczne — uczniowie, diagnoza (jesień) {EDITION}"
    rows = autumn.rows[("students", "baseline")]
    answered = [r["dangerous_places"] for r in rows if r["dangerous_places"]]
    assert any(a == {"nowhere"} for a in answered) and len(answered) < len(rows)  # both kinds are there
    shown = {r["Miejsce niebezpieczne"]: r for r in rows_of(table)}
    assert "Nigdzie — nie ma takich miejsc" not in shown
    for code, label in (("toilets", "Toalety"), ("way", "Droga do szkoły"), ("corridors", "Korytarze")):
        k = sum(1 for a in answered if code in a)
        assert shown[label]["Respondenci"] == str(len(answered))
        assert shown[label]["Wynik"] == pct(k, len(answered)), label
    note = text_of(table.find_parent("div"))
    assert f"odpowiedzieli na pytanie o miejsca ({len(answered)})" in note and "Nigdzie" in note


def test_county_and_voivodeship_show_the_baseline_not_no_data(autumn, autumn_cube):
    county = CountyReport(autumn_cube, autumn.county)
    doc = soup(county.indicators())
    text = text_of(doc)
    assert "Diagnoza (jesień): odsetki respondentów" in text
    table = table_after(doc, "Uczniowie")
    assert "diagnoza (jesień)" in text_of(table.caption)
    n, k = autumn.pooled("students", "baseline", autumn.county)
    vn, vk = autumn.pooled("students", "baseline")
    r = row(table, SAFE)
    assert r["Respondenci"] == f"{n:,}".replace(",", " ") and r["Wynik"] == pct(k, n)
    assert r["Województwo"] == pct(vk, vn)
    assert "Zmiana" not in r
    voiv = soup(VoivodeshipReport(autumn_cube).indicators())
    table = table_after(voiv, "Uczniowie")
    assert text_of(table.caption).endswith("diagnoza (jesień)")
    r = row(table, SAFE)
    assert r["Wynik"] == pct(vk, vn) and r["Respondenci"] == f"{vn:,}".replace(",", " ")
    assert "Uczniowie czujący się bezpiecznie w szkole, według powiatów — diagnoza (jesień)" in str(voiv)


# --------------------------------------------------------------------------- both waves

def test_school_with_both_waves_shows_the_follow_up_and_the_change(summer, summer_cube):
    report = SchoolReport(summer_cube, summer.rspo)
    doc = soup(report.indicators())
    text = text_of(doc)
    # Students have both waves, parents only the baseline: each table's caption says which.
    assert "w diagnozie (jesień) — rodzaj badania podaje podpis każdej tabeli" in text
    table = table_after(doc, "Uczniowie")
    assert text_of(table.caption) == f"Ewaluacja (po realizacji planu), {EDITION}"
    n1, k1 = written(summer.rows[("students", "follow-up")])
    n0, k0 = written(summer.rows[("students", "baseline")])
    r = row(table, SAFE)
    assert r["Respondenci"] == str(n1) and r["Wynik"] == pct(k1, n1)
    assert r["Diagnoza"] == pct(k0, n0)
    diff = 100 * (k1 / n1 - k0 / n0)
    assert diff > 20 and r["Zmiana"].startswith(f"{diff:+.1f}".replace(".", ",") + " p.p.")
    from statsmodels.stats.proportion import proportions_ztest

    assert proportions_ztest([k1, k0], [n1, n0])[1] < 0.05
    assert "▲" in r["Zmiana"]  # marked significant
    cn, ck = summer.pooled("students", "follow-up", summer.county)
    assert r[report.county_label] == pct(ck, cn)
    assert text_of(table_after(doc, "Rodzice").caption) == f"Diagnoza (jesień), {EDITION}"
    places = soup(report.places())
    assert "ewaluacja (po realizacji planu)" in text_of(places.find("table").caption)
