"""The school page's service (zpb_lib.services.school_page) on a shared PostgreSQL database, as the
coordinator of KPP Bochnia (login "ala"): her school's report made live by the report's code shows the
points per criterion and the survey indicators that plain SQL on the database gives; the imports for
the school and the sendings of its report are those the database holds for it, no other school's;
its report built by `zpb build` is linked with the build's data version and, after imports, as stale
by as many imports as the database stored since. A school of another county is refused."""
from __future__ import annotations

import json

import pytest
from bs4 import BeautifulSoup

from support.surveys import answers, write_google_csv
from zpb_lib import store
from zpb_lib.cli import main
from zpb_lib.core import fmt
from zpb_lib.services import imports as import_service
from zpb_lib.services.school_page import NotYourSchool, school_facts, school_page, school_report
from zpb_lib.store.queries import deliveries

pytestmark = pytest.mark.postgresql_only
EDITION = "2025/2026"
# A school of powiat bocheński on its own (no complex), audited once, with students' responses in the edition.
OWN_SCHOOL = (
    "SELECT i.id, i.rspo FROM institutions i JOIN institution_kinds k ON k.code = i.kind "
    "WHERE i.county = ? AND i.rspo IS NOT NULL AND i.parent_rspo IS NULL AND k.family = 'school' "
    "AND (SELECT COUNT(*) FROM audits a WHERE a.institution_id = i.id) = 1 "
    "AND EXISTS (SELECT 1 FROM survey_responses r WHERE r.institution_id = i.id AND r.edition = ? AND r.grp = 'students') "
    "ORDER BY i.id LIMIT 1")


def sql(db, query: str, params=()) -> list[tuple]:
    with store.connect(db, readonly=True) as con:
        return [tuple(r) for r in con.execute(query, params).fetchall()]


def section(page, key: str) -> BeautifulSoup:
    return BeautifulSoup(next(s.html for s in page.report.sections if s.key == key), "html.parser")


def criteria_shown(page) -> dict[str, str]:
    """Criterion → points of the audit result's table (the one with a „Kryterium” column)."""
    table = next(t for t in section(page, "audit_result").find_all("table")
                 if [th.get_text() for th in t.thead.find_all("th")][:1] == ["Kryterium"])
    heads = [th.get_text() for th in table.thead.find_all("th")]
    at = heads.index("Punkty")
    return {cells[0].get_text(): cells[at].get_text()
            for cells in (tr.find_all(["th", "td"]) for tr in table.tbody.find_all("tr"))}


def indicator_shown(page, group_heading: str, title: str) -> dict[str, str]:
    """The row of indicator ``title`` in the table under the group's heading: column → text."""
    h = next(h for h in section(page, "indicators").find_all("h4") if h.get_text() == group_heading)
    table = h.find_next("table")
    heads = [th.get_text() for th in table.thead.find_all("th")]
    for tr in table.tbody.find_all("tr"):
        cells = [c.get_text() for c in tr.find_all(["th", "td"])]
        if cells[0] == title:
            return dict(zip(heads, cells))
    raise AssertionError(f"no row {title!r}")


def survey_import(db, rspo: int, group: str, tmp_path, seed: int) -> int:
    ref_rows = answers(_ref(), group, 12, seed=seed)
    path = write_google_csv(tmp_path / f"{group}-{rspo}-{seed}.csv", _ref(), group, ref_rows)
    outcome = import_service.commit(db, import_service.SurveyImport(path, str(rspo), EDITION, group, "baseline",
                                                                    append=True))
    assert not outcome.refused, outcome.refusal
    return outcome.import_id


def _ref():
    from zpb_lib.reference import reference

    return reference()


def test_the_page_shows_what_the_database_holds_for_her_school_only(rights, tmp_path):
    owner, ala = rights["admin"], rights["ala"]
    iid, rspo = sql(owner, OWN_SCHOOL, ("1201", EDITION))[0]
    other_id, other = sql(owner, "SELECT id, rspo FROM institutions WHERE county = '1201' AND rspo IS NOT NULL "
                                 "AND id <> ? ORDER BY id LIMIT 1", (iid,))[0]
    ident = str(rspo)

    # nothing built: both languages say so
    out = tmp_path / "reports"
    facts = school_facts(ala, ident, out)
    assert [(r.lang, r.built) for r in facts.reports] == [("pl", False), ("en", False)]

    # her report built in Polish (HTML), then a survey import for her school and one for another
    assert main(["build", "--db", owner, "--edition", EDITION, "--only", "school", "--format", "html", "--jobs", "1",
                 "--lang", "pl", "--out", str(out), "--quiet", "--institution", ident]) == 0
    manifest = json.loads((out / "2025-2026" / "manifest.json").read_text(encoding="utf-8"))
    mine = survey_import(ala, rspo, "teachers", tmp_path, 1)
    survey_import(ala, other, "teachers", tmp_path, 2)
    # a sending of her school's report and one of the other's, recorded as the delivery service records them
    with store.connect(ala) as con, store.transaction(con):
        for target, to in ((iid, "sekretariat@szkola.example"), (other_id, "inna@szkola.example")):
            deliveries.record(con, login="ala", role="zpb_unit_kpp_bochnia", institution_id=target, edition=EDITION,
                              report_file=f"{target}.pdf", data_version="v1", fingerprint=None, recipient=to,
                              subject="Raport", outcome="sent")

    page = school_page(ala, ident, "pl", out)

    # the imports that named the school, by the imports table's own details
    expected = sorted((i for i, kind, details in sql(owner, "SELECT id, kind, details FROM imports")
                       if kind in ("survey", "audit") and str(json.loads(details or "{}").get("institution")) == ident),
                      reverse=True)
    assert [r.id for r in page.facts.imports] == expected and mine in expected
    # the sendings of the school's report, newest first
    sent = sql(owner, "SELECT recipient FROM deliveries WHERE institution_id = ? ORDER BY at DESC, id DESC", (iid,))
    assert [s.recipient for s in page.facts.sendings] == [r[0] for r in sent] == ["sekretariat@szkola.example"]

    # the built report: the manifest's file and data version; stale by the imports stored since
    pl, en = page.facts.reports
    entry = next(e for e in manifest["reports"].values() if e.get("key") == ident and e["kind"] == "school")
    assert (pl.html, pl.pdf, pl.data_version) == (entry["html"], None, manifest["inputs"]["data_hash"])
    since = sql(owner, "SELECT COUNT(*) FROM imports WHERE id > ?", (manifest["inputs"]["last_import"],))[0][0]
    assert since == 2 and pl.freshness is not None and not pl.freshness.current and pl.freshness.imports == since
    assert not en.built

    # the audit's points per criterion, as stored
    points = dict(sql(owner, "SELECT t.criterion, t.points FROM audit_items t JOIN audits a ON a.id = t.audit_id "
                             "WHERE a.institution_id = ?", (iid,)))
    assert len(points) > 5 and criteria_shown(page) == {c: fmt.integer(p, "pl") for c, p in points.items()}

    # the students' „feels safe at school”: the share answering 4 or 5 of those who answered, in the
    # wave the report shows (the follow-up when there is one)
    waves = {w for (w,) in sql(owner, "SELECT DISTINCT wave FROM survey_responses WHERE institution_id = ? "
                                      "AND edition = ? AND grp = 'students'", (iid, EDITION))}
    wave = "follow-up" if "follow-up" in waves else "baseline"
    yes, n = sql(owner, "SELECT SUM(CASE WHEN safe_school IN (4, 5) THEN 1 ELSE 0 END), COUNT(safe_school) "
                        "FROM survey_responses WHERE institution_id = ? AND edition = ? AND grp = 'students' "
                        "AND wave = ?", (iid, EDITION, wave))[0]
    row = indicator_shown(page, "Uczniowie", "Czuje się bezpiecznie w szkole")
    assert n >= 10 and (row["Respondenci"], row["Wynik"]) == (fmt.integer(n, "pl"), fmt.percent(yes / n, 1, "pl"))
    # the page's report reads the data stored now
    assert page.report.data_version == store.data_version(owner)
    # the report's headings sit one level under the page's (the school's name is its h2)
    assert not section(page, "status").find("h2") and section(page, "status").find("h3")


def test_a_school_of_another_county_is_refused(rights, tmp_path):
    owner, ala = rights["admin"], rights["ala"]
    (tarnow,) = sql(owner, "SELECT rspo FROM institutions WHERE county = '1263' AND rspo IS NOT NULL "
                           "ORDER BY id LIMIT 1")[0]
    for ident in (str(tarnow), "999999999"):
        with pytest.raises(NotYourSchool):
            school_facts(ala, ident, tmp_path)
        with pytest.raises(NotYourSchool):
            school_report(ala, ident, "pl", tmp_path)
    # the analyst may open it
    assert school_facts(rights["olek"], str(tarnow), tmp_path).school.ident == str(tarnow)
