"""The school page of ``zpb serve --auth password`` on the shared PostgreSQL database — the real server
process, Debian's Chromium. The coordinator of KPP Bochnia opens a school of her county from the
„Mój powiat” tab and reads its report made live: the audit's points per criterion are those plain SQL
reads from the database; „← Wszystkie placówki” goes back to the list, whose names open the page
again. A school of another county is refused in words. axe-core finds nothing on the page; nothing
leaves the app's origin (the charts are data: images of the page itself)."""
from __future__ import annotations

import psycopg
import pytest

from support.browser import artifact, chromium_browser
from support.web import axe_violations, open_desk, password_app, same_origin_guard, wait_text

# A school of powiat bocheński on its own (no complex) audited once: its one audit is the report's.
AUDITED_ONCE = (
    "SELECT i.id, i.rspo, i.name FROM institutions i JOIN institution_kinds k ON k.code = i.kind "
    "WHERE i.county = '1201' AND i.rspo IS NOT NULL AND i.parent_rspo IS NULL AND k.family = 'school' "
    "AND (SELECT COUNT(*) FROM audits a WHERE a.institution_id = i.id) = 1 ORDER BY i.id LIMIT 1")


@pytest.fixture(scope="module")
def app(team_db, users, tmp_path_factory):
    with password_app(team_db[1], users, tmp_path_factory.mktemp("serve")) as url:
        yield url


def criteria_points(page) -> dict[str, str]:
    """Criterion → points of the page's „Punkty według kryteriów” table."""
    table = page.locator("table", has=page.locator("caption", has_text="Punkty według kryteriów"))
    heads = [th.inner_text() for th in table.locator("thead th").all()]
    at = heads.index("Punkty")
    return {cells[0]: cells[at] for cells in
            ([c.inner_text() for c in tr.locator("th, td").all()] for tr in table.locator("tbody tr").all())}


def test_the_coordinator_opens_her_school_and_is_refused_another_countys(app, team_db):
    owner, _ = team_db
    with psycopg.connect(owner) as con:
        iid, rspo, name = con.execute(AUDITED_ONCE).fetchone()
        points = dict(con.execute("SELECT t.criterion, t.points FROM audit_items t JOIN audits a ON a.id = t.audit_id "
                                  "WHERE a.institution_id = %s", (iid,)).fetchall())
        (tarnow, tarnow_name) = con.execute("SELECT rspo, name FROM institutions WHERE county = '1263' "
                                            "AND rspo IS NOT NULL ORDER BY id LIMIT 1").fetchone()
    assert len(points) > 5
    with chromium_browser() as b:
        ctx = b.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})  # axe-core is injected
        page = ctx.new_page()
        outside = same_origin_guard(page, app)
        open_desk(page, app, "anna")
        page.get_by_role("link", name=name, exact=True).first.click()
        # the page: its name as a heading at once, the report when it is made
        page.get_by_role("heading", name=name, level=2).wait_for(timeout=60_000)
        wait_text(page, "Punkty według kryteriów")
        assert criteria_points(page) == {c: str(p) for c, p in points.items()}
        for heading in ("Status i historia udziału w programie", "Wynik audytu", "Wskaźniki z ankiet",
                        "Zbudowane raporty placówki", "Importy dla tej placówki", "Wysyłki raportów placówki"):
            assert page.get_by_role("heading", name=heading, level=3).count() == 1, heading
        assert page.get_by_role("cell", name="jeszcze nie zbudowano").count() == 2
        charts = page.locator("figure img").all()
        assert charts and all(img.get_attribute("src").startswith("data:image/svg+xml;base64,") for img in charts)
        page.screenshot(path=str(artifact("web-school-page.png")), full_page=True)
        assert axe_violations(page) == []
        # back to the list, whose name opens the page again
        page.get_by_role("link", name="← Wszystkie placówki").click()
        wait_text(page, "Placówek:")
        page.get_by_label("Szukaj (nazwa, miejscowość, RSPO)").press_sequentially(str(rspo), delay=20)
        wait_text(page, "Placówek: 1 ")
        page.get_by_role("link", name=name, exact=True).click()
        wait_text(page, "Punkty według kryteriów")
        # another county's school: refused in words, no report
        page.goto(f"{app}/?school={tarnow}&lang=pl")
        wait_text(page, f"Nie ma placówki „{tarnow}” wśród placówek, które możesz przeglądać")
        assert page.get_by_role("heading", name=tarnow_name).count() == 0
        assert page.get_by_text("Punkty według kryteriów").count() == 0
        ctx.close()
    assert outside == []
