"""„Mój powiat” in the browser on the hand-written database of tests/support/due_db.py, in which every
kind of due item occurs: the real `zpb serve --auth password` on the shared PostgreSQL database,
Debian's Chromium, the coordinator of KPP Bochnia. She picks the edition 2024/2025, the day 1 March
2025 and certificates expiring within 12 months; each item the page lists is the one the
programme's rules give, worked out here from the rows the database holds (read with SQL) and the
rule figures of data/rules/school.yaml — certificate 2 years, extension 5, Lider after 7 full years
and a positive control audit since the latest award — never by the desk's code."""
from __future__ import annotations

import datetime as dt

import psycopg
import pytest

from conftest import pg_database, web_login
from support.browser import artifact, chromium_browser
from support.due_db import BOCHNIA, EDITION, TODAY, build
from support.web import axe_violations, open_desk, password_app, same_origin_guard, wait_text
from zpb_lib import store
from zpb_lib.domain.labels import label

MONTHS = 12
WINDOW_OPENS, NEXT_WINDOW_OPENS = dt.date(2025, 5, 1), dt.date(2026, 5, 1)  # data/editions.yaml: audit_from
CERTIFICATE_YEARS, LEADER_YEARS = 2, 7


@pytest.fixture(scope="module")
def hand(pg, ref, users, tmp_path_factory):
    """(owner's URL, app URL) of the hand-written database served with the tests' users."""
    owner = pg_database(pg)
    con = store.create(owner)
    try:
        build(con, ref)
    finally:
        con.close()
    with password_app(web_login(pg, owner), users, tmp_path_factory.mktemp("serve-due")) as url:
        yield owner, url


def day(value: str | dt.date) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def expected_items(owner: str, max_points: int) -> set[tuple[str, str]]:
    """(kind, RSPO number) of every item due in Bochnia on TODAY, by the rules applied to the rows."""
    with psycopg.connect(owner) as con:
        schools = {r: (j, left) for r, j, left in con.execute(
            "SELECT i.rspo, p.joined_edition, p.left_edition FROM institutions i "
            "JOIN participation p ON p.institution_id = i.id WHERE i.county = %s", (BOCHNIA,))}
        awards = con.execute("SELECT i.rspo, a.kind, a.awarded_on, a.valid_until FROM awards a "
                             "JOIN institutions i ON i.id = a.institution_id WHERE i.county = %s", (BOCHNIA,)).fetchall()
        audits = con.execute(
            "SELECT i.rspo, a.edition, a.kind, a.audit_date, sum(t.points) FROM audits a "
            "JOIN institutions i ON i.id = a.institution_id JOIN audit_items t ON t.audit_id = a.id "
            "WHERE i.county = %s GROUP BY i.rspo, a.edition, a.kind, a.audit_date", (BOCHNIA,)).fetchall()
        answered = set(con.execute(
            "SELECT DISTINCT i.rspo, r.grp, r.wave FROM survey_responses r JOIN institutions i ON i.id = r.institution_id "
            "WHERE r.edition = %s", (EDITION,)).fetchall())
    awards = [(r, k, day(on), day(until)) for r, k, on, until in awards]
    audits = [(r, e, k, day(d), points) for r, e, k, d, points in audits]
    items: set[tuple[str, str]] = set()
    # a certificate's validity as the rules give it: 2 years from its award
    valid = {}
    for rspo, kind, on, until in awards:
        rule_until = on.replace(year=on.year + CERTIFICATE_YEARS) if kind == "certificate" else until
        if rule_until != until:
            items.add(("contradiction", str(rspo)))
        valid[rspo] = max(valid.get(rspo, rule_until), rule_until)
    audited_now = {r for r, e, *_ in audits if e == EDITION}
    for rspo, (joined, left) in schools.items():
        if left is not None:
            continue
        until = valid.get(rspo)
        holds = until is not None and until >= WINDOW_OPENS
        if not holds and rspo not in audited_now:
            items.add(("certification_audit", str(rspo)))
        if holds and until < NEXT_WINDOW_OPENS:
            items.add(("reaudit", str(rspo)))
        months_ahead = TODAY.replace(year=TODAY.year + MONTHS // 12)
        if until is not None and TODAY <= until <= months_ahead:
            items.add(("expiring", str(rspo)))
        years = (WINDOW_OPENS - dt.date(int(joined[:4]), 9, 1)).days // 365
        extended = [on for r, k, on, _ in awards if r == rspo and k == "extension"]
        controls = [d for r, _, k, d, points in audits if r == rspo and k == "control" and points >= 24
                    and extended and d > max(extended)]
        if years >= LEADER_YEARS and extended and valid[rspo] >= WINDOW_OPENS and controls:
            items.add(("leader_candidate", str(rspo)))
        for group in ("students", "parents", "teachers"):
            for wave in ("baseline", "follow-up"):
                if (rspo, group, wave) not in answered:
                    items.add(("survey_missing", str(rspo)))
    for rspo, edition, kind, _, points in audits:
        if edition == EDITION and kind == "certification" and points == max_points and rspo not in valid:
            items.add(("award_unconfirmed", str(rspo)))
            items.add(("contradiction", str(rspo)))  # `zpb db check`: a positive audit with no award recorded
    return items


def test_each_due_item_is_the_rules_on_the_coordinators_page(hand, ref):
    owner, app = hand
    expected = expected_items(owner, ref.catalogue_for("school", EDITION).max_total)
    assert {k for k, _ in expected} == {"certification_audit", "reaudit", "leader_candidate", "expiring",
                                        "survey_missing", "award_unconfirmed", "contradiction"}
    kinds = {label(f"due_kind.{k}", "pl"): k for k in {k for k, _ in expected}}
    with chromium_browser() as b:
        ctx = b.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})  # axe-core is injected
        page = ctx.new_page()
        outside = same_origin_guard(page, app)
        open_desk(page, app, "anna")
        page.get_by_label("Edycja").select_option(label=ref.edition(EDITION).label)
        page.get_by_label("Wygasające certyfikaty: w ciągu").select_option(label=f"{MONTHS} mies.")
        day = page.get_by_label("Stan na dzień")
        day.fill("01.03.2025")
        day.press("Enter")
        wait_text(page, f"powiat bocheński · edycja {EDITION} · stan na 01.03.2025")
        wait_text(page, "Placówki w tabeli:")
        page.screenshot(path=str(artifact("web-desk-due-items.png")), full_page=True)
        rows = [[td.inner_text() for td in tr.locator("td").all()]
                for tr in page.locator(".zpb-items-table tbody tr").all()]
        shown = {(kinds.get(r[0], r[0]), r[2]) for r in rows}
        assert shown == expected and len(rows) == len(expected)
        counts = {tile.locator("dt").inner_text(): tile.locator("dd").inner_text()
                  for tile in page.locator(".zpb-due-counts .zpb-tile").all()}
        assert {kinds[w]: int(n) for w, n in counts.items() if w in kinds} == {
            k: sum(1 for kind, _ in expected if kind == k) for k in kinds.values()}
        assert axe_violations(page) == []
        ctx.close()
    assert outside == []
