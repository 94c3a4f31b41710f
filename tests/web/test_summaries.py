"""The import page's summaries in Polish and English, from real results: an audit protocol's dry run
(its target, points and what the rules give), an undo's rows, and a refusal's problems — each value
checked against what the test put in or the database holds."""
from __future__ import annotations

from bs4 import BeautifulSoup
from support.audits import EDITION, fill, full_points, school

from zpb_lib.ingest.audit import ingest_audit, write_template
from zpb_lib.store.history import undo
from zpb_lib.web.summaries import audit_summary, problems_table, undo_summary


def facts(html: str) -> dict[str, str]:
    soup = BeautifulSoup(html, "html.parser")
    return {dt.get_text(): dd.get_text() for dt, dd in zip(soup.find_all("dt"), soup.find_all("dd"))}


def test_audit_dry_run_in_both_languages(con, ref, tmp_path):
    rspo = school(con)
    template = write_template(con, rspo, EDITION, tmp_path / "szablon.xlsx")
    cat = ref.catalogue_for("school", EDITION)
    points = full_points(cat)
    result = ingest_audit(con, fill(template, tmp_path / "protokół.xlsx", points), dry_run=True)
    pl, en = facts(audit_summary(result, "pl")), facts(audit_summary(result, "en"))
    assert pl["Punkty"] == f"{sum(points.values())} z {cat.max_total}"
    assert en["Points"] == f"{sum(points.values())} of {cat.max_total}"
    assert f"RSPO {rspo}" in pl["Dla"] and "edycja 2025/2026" in pl["Dla"] and "kontrolny" in pl["Dla"]
    assert "edition 2025/2026" in en["For"] and "control audit" in en["For"]
    assert "wynik: audyt kontrolny" in audit_summary(result, "pl")
    assert "outcome: a " in audit_summary(result, "en")


def test_undo_dry_run_in_both_languages(con, ref, tmp_path):
    rspo = school(con)
    template = write_template(con, rspo, EDITION, tmp_path / "szablon.xlsx")
    points = full_points(ref.catalogue_for("school", EDITION))
    stored = ingest_audit(con, fill(template, tmp_path / "protokół.xlsx", points))
    result = undo(con, stored.import_id, dry_run=True)
    pl, en = facts(undo_summary(result, "pl")), facts(undo_summary(result, "en"))
    assert f"{len(points)} audit_items" in pl["Zostanie usunięte"] and "1 audits" in pl["Zostanie usunięte"]
    assert pl["Zostanie usunięte"] == en["Would delete"]
    assert f"Import nr {stored.import_id} (audyt, „protokół.xlsx”" in undo_summary(result, "pl")


def test_problems_in_polish_keep_the_english_beneath():
    from zpb_lib.ingest import Problem

    html = problems_table([Problem("the file is empty"), Problem("something new", 3, "Q", "B")], "pl")
    cells = [[td.get_text(" ") for td in tr.find_all("td")] for tr in BeautifulSoup(html, "html.parser").select("tbody tr")]
    assert cells == [["", "", "", "plik jest pusty the file is empty"], ["", "3", "B „Q”", "something new"]]
    assert "plik jest pusty" not in problems_table([Problem("the file is empty")], "en")
