"""``zpb serve`` without a login: the analyst's own app on 127.0.0.1, on a SQLite file — a real
server process, Debian's Chromium driving it. A survey export is checked, then stored, through the
page; the database holds exactly its rows. Nothing leaves the app's origin; axe-core finds nothing.
It refuses to listen elsewhere without a login."""
from __future__ import annotations

import sqlite3
import subprocess

import pytest

from support.browser import artifact, chromium_browser
from support.surveys import EDITION, answers, expected_counts, free_target, write_google_csv
from support.web import ZPB, axe_violations, check_survey, same_origin_guard, wait_text, wait_until


@pytest.fixture
def app(local_app):
    """The session's local app (tests/conftest.py): these tests read, or store for a school nobody
    else writes to."""
    return local_app


def test_refuses_other_addresses_without_login(local_db):
    run = subprocess.run([*ZPB, "serve", "--db", str(local_db), "--address", "0.0.0.0"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert "127.0.0.1" in run.stderr and "--auth password" in run.stderr


def test_security_headers(app):
    import urllib.request
    with urllib.request.urlopen(app + "/") as r:
        csp = r.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert "http" not in csp  # no other origin is allowed anything


def test_survey_dry_run_then_save(app, local_db, ref, tmp_path):
    con = sqlite3.connect(local_db)
    rspo = free_target_sqlite(con)
    name = con.execute("SELECT name FROM institutions WHERE rspo = ?", (rspo,)).fetchone()[0]
    before = con.execute("SELECT COUNT(*) FROM survey_responses").fetchone()[0]
    con.close()
    rows = answers(ref, "students", 40, seed=7)
    export = write_google_csv(tmp_path / "ankieta uczniów.csv", ref, "students", rows)
    with chromium_browser() as b:
        page = b.new_page(viewport={"width": 1280, "height": 900})
        outside = same_origin_guard(page, app)
        page.goto(app + "/")
        wait_text(page, "Placówek:")
        page.screenshot(path=str(artifact("web-local-schools.png")))
        check_survey(page, rspo, export)
        try:
            wait_text(page, "Po zapisaniu w bazie znajdzie się")
        finally:
            page.screenshot(path=str(artifact("web-local-dry-run.png")), full_page=True)
        page.screenshot(path=str(artifact("web-local-dry-run.png")))
        con = sqlite3.connect(local_db)
        assert con.execute("SELECT COUNT(*) FROM survey_responses").fetchone()[0] == before  # a dry run stores nothing
        con.close()
        page.get_by_role("button", name="Zapisz").click()
        wait_text(page, "Zapisano jako import nr")
        page.screenshot(path=str(artifact("web-local-saved.png")))
        assert outside == []
    con = sqlite3.connect(local_db)
    import_id, file_name, kind = con.execute("SELECT id, file_name, kind FROM imports ORDER BY id DESC LIMIT 1").fetchone()
    assert (file_name, kind) == ("ankieta uczniów.csv", "survey")
    n = con.execute("SELECT COUNT(*) FROM survey_responses WHERE import_id = ?", (import_id,)).fetchone()[0]
    target = con.execute("SELECT DISTINCT i.rspo FROM survey_responses r JOIN institutions i ON i.id = r.institution_id "
                         "WHERE r.import_id = ?", (import_id,)).fetchall()
    con.close()
    assert n == expected_counts(rows)["n"]
    assert target == [(rspo,)]
    assert name


def free_target_sqlite(con) -> int:
    class Con:  # free_target speaks the store's named parameters; sqlite3 does too
        def execute(self, sql, params):
            return con.execute(sql, params)
    return free_target(Con(), EDITION)


def test_axe_and_origin_on_every_tab(app):
    with chromium_browser() as b:
        ctx = b.new_context(bypass_csp=True)  # axe-core is injected
        page = ctx.new_page()
        outside = same_origin_guard(page, app)
        page.goto(app + "/")
        wait_text(page, "Placówek:")
        problems = {"Szkoły": axe_violations(page)}
        for tab, shown in (("Import", "Rodzaj pliku"), ("Importy", "Importy: analityk (wszystkie powiaty)")):
            page.get_by_text(tab, exact=True).first.click()
            wait_text(page, shown)  # the tab's own content is on screen
            if tab == "Import":  # the drop zone fades in: axe-core would read its colours mid-fade
                label = page.locator(".filepond--drop-label").first
                assert wait_until(lambda: label.evaluate("e => getComputedStyle(e).opacity") == "1")
            problems[tab] = axe_violations(page)
        ctx.close()
    assert outside == []
    assert problems == {"Szkoły": [], "Import": [], "Importy": []}


def test_an_expanding_workbook_is_refused_at_once(app, local_db, ref, tmp_path):
    """A 2 MB survey workbook whose string table expands to 1.7 GB, dropped in the browser: refused
    from the sizes its zip directory declares, with the limit named; nothing stored."""
    from support.archives import MAIN, deflated, header_row, repeated, sheet, survey_xlsx

    strings = repeated("xl/sharedStrings.xml", f'<?xml version="1.0"?><sst xmlns="{MAIN}">'.encode(),
                       b"<si><t>" + b"A" * ((4 << 20) - 16) + b"</t></si>", 420, b"</sst>")
    bomb = survey_xlsx(tmp_path / "ankieta.xlsx", deflated("xl/worksheets/sheet1.xml", sheet(header_row(ref))), strings)
    con = sqlite3.connect(local_db)
    rspo = free_target_sqlite(con)
    before = con.execute("SELECT COUNT(*) FROM imports").fetchone()[0]
    con.close()
    with chromium_browser() as b:
        page = b.new_page(viewport={"width": 1280, "height": 900})
        page.goto(app + "/")
        wait_text(page, "Placówek:")
        check_survey(page, rspo, bomb)
        wait_text(page, "nie może być zapisany")
        wait_text(page, "„xl/sharedStrings.xml” expands to 1 680.0 MB")
        wait_text(page, "ZPB_MAX_SURVEY_PART_MB")
        page.screenshot(path=str(artifact("web-local-bomb.png")))
    con = sqlite3.connect(local_db)
    assert con.execute("SELECT COUNT(*) FROM imports").fetchone()[0] == before
    con.close()


def test_the_analyst_matches_a_published_list_and_downloads_the_workbook(app, local_db, tmp_path):
    """The analyst drops a published certificate list (three schools of the register by their full
    names, and one line naming no school), matches it, and downloads the workbook to review: the three
    rows carry those schools' RSPO numbers, the fourth has none."""
    import openpyxl

    from zpb_lib.ingest.published import KINDS

    con = sqlite3.connect(local_db)
    known = con.execute("SELECT i.rspo, i.name FROM institutions i JOIN institution_kinds k ON k.code = i.kind "
                        "WHERE k.family = 'school' AND i.rspo IS NOT NULL AND i.closed_year IS NULL "
                        "AND i.name LIKE 'Szkoła Podstawowa nr % w %' ORDER BY i.rspo LIMIT 3").fetchall()
    names = {n for (n,) in con.execute("SELECT name FROM institutions")}
    con.close()
    assert len(known) == 3 and all(sum(1 for n in names if n == name) == 1 for _, name in known)
    lines = [f"{name}," for _, name in known] + ["Przedszkole Niebieskie Migdały w Atlantydzie."]
    text = "Komenda Wojewódzka Policji w Krakowie\n\nCertyfikaty otrzymały:\n\n"
    text += "\n".join(f"{i}. {line}" for i, line in enumerate(lines, start=1)) + "\n\nGratulujemy!\n"
    (listing := tmp_path / "certyfikaty.txt").write_text(text, encoding="utf-8")
    with chromium_browser() as b:
        page = b.new_page(viewport={"width": 1280, "height": 900})
        outside = same_origin_guard(page, app)
        page.goto(app + "/")
        wait_text(page, "Placówek:")
        page.get_by_text("Import", exact=True).first.click()
        page.get_by_label("Rodzaj pliku").select_option(label="Lista wyróżnionych opublikowana przez policję "
                                                              "(→ skoroszyt dopasowania)")
        page.locator("input[type=file]").set_input_files(str(listing))
        match = page.get_by_role("button", name="Dopasuj do rejestru")
        match.and_(page.locator(":enabled")).wait_for(timeout=60_000)
        match.click()
        wait_text(page, "Dopasowano listę „certyfikaty.txt”: pozycji 4")
        page.screenshot(path=str(artifact("web-local-match.png")), full_page=True)
        with page.expect_download() as got:
            page.get_by_role("button", name="Pobierz skoroszyt dopasowania").click()
        workbook = tmp_path / "pobrany.xlsx"
        got.value.save_as(workbook)
        assert got.value.suggested_filename == "certyfikaty-dopasowanie.xlsx"
        assert outside == []
    ws = openpyxl.load_workbook(workbook)["Nagrody"]
    rows = [r for r in ws.iter_rows(min_row=2, values_only=True)]
    assert [str(r[0]) if r[0] else None for r in rows] == [str(rspo) for rspo, _ in known] + [None]
    assert {r[3] for r in rows[:3]} == {KINDS["certyfikat"]}  # the award chosen in the page, as `zpb match` writes it


def test_english_at_a_switch(app):
    with chromium_browser() as b:
        ctx = b.new_context(bypass_csp=True)
        page = ctx.new_page()
        page.goto(app + "/")
        wait_text(page, "Placówek:")
        assert page.evaluate("document.documentElement.lang") == "pl"
        page.get_by_role("link", name="English").click()
        wait_text(page, "Institutions:")
        assert page.evaluate("document.documentElement.lang") == "en"
        for tab in ("Schools", "Import", "Imports"):
            page.get_by_text(tab, exact=True).first.click()
        wait_text(page, "Imports: analyst (every county)")
        assert axe_violations(page) == []
        page.get_by_role("link", name="Polski").click()
        wait_text(page, "Placówek:")
        ctx.close()


def test_an_audit_protocol_checked_then_stored(app, local_db, ref, tmp_path):
    """A filled control-audit protocol dropped as „Protokół audytu”: the dry run stores nothing, the
    save stores one audit of that school with each criterion's points as the auditor typed them."""
    from support.audits import fill, full_points, school
    from zpb_lib import store
    from zpb_lib.ingest.audit import write_template

    with store.connect(local_db) as con:
        rspo = school(con)
        template = write_template(con, rspo, EDITION, tmp_path / "szablon.xlsx")
    points = full_points(ref.catalogue_for("school", EDITION))
    protocol = fill(template, tmp_path / "protokół kontrolny.xlsx", points)
    with chromium_browser() as b:
        page = b.new_page(viewport={"width": 1280, "height": 900})
        page.goto(app + "/")
        wait_text(page, "Placówek:")
        page.get_by_text("Import", exact=True).first.click()
        page.get_by_label("Rodzaj pliku").select_option(label="Protokół audytu")
        page.locator("input[type=file]").set_input_files(str(protocol))
        check = page.get_by_role("button", name="Sprawdź (bez zapisu)")
        check.and_(page.locator(":enabled")).wait_for(timeout=60_000)
        check.click()
        wait_text(page, "Sprawdzono plik „protokół kontrolny.xlsx”")
        con = sqlite3.connect(local_db)
        assert con.execute("SELECT COUNT(*) FROM audits a JOIN institutions i ON i.id = a.institution_id "
                           "WHERE i.rspo = ? AND a.edition = ? AND a.kind = 'control'", (rspo, EDITION)).fetchone()[0] == 0
        con.close()
        page.get_by_role("button", name="Zapisz").click()
        wait_text(page, "Zapisano jako import nr")
        page.screenshot(path=str(artifact("web-local-audit.png")), full_page=True)
    con = sqlite3.connect(local_db)
    stored = dict(con.execute(
        "SELECT it.criterion, it.points FROM audit_items it JOIN audits a ON a.id = it.audit_id "
        "JOIN institutions i ON i.id = a.institution_id WHERE i.rspo = ? AND a.edition = ? AND a.kind = 'control'",
        (rspo, EDITION)).fetchall())
    con.close()
    assert stored == points


def test_group_and_wave_guessed_from_the_dropped_file(app, ref, tmp_path):
    export = write_google_csv(tmp_path / "rodzice-ewaluacja.csv", ref, "parents", answers(ref, "parents", 8, seed=4))
    with chromium_browser() as b:
        page = b.new_page(viewport={"width": 1280, "height": 900})
        page.goto(app + "/")
        wait_text(page, "Placówek:")
        page.get_by_text("Import", exact=True).first.click()
        page.locator("input[type=file]").set_input_files(str(export))
        wait_text(page, "Rozpoznano z pliku: rodzice, ewaluacja")
        assert page.get_by_label("Grupa", exact=True).filter(visible=True).input_value() == "rodzice"
        assert page.get_by_label("Pomiar", exact=True).filter(visible=True).input_value() == "ewaluacja"


@pytest.mark.parametrize("lang", ["pl", "en"])
def test_refusals_and_an_audit_summary_in_the_page_language(app, local_db, ref, tmp_path, lang):
    """A PDF saved as .csv dropped as a survey export is refused in the page's language; an audit
    protocol's dry run says its points and outcome in it too."""
    from support.audits import fill, full_points, school
    from zpb_lib import store
    from zpb_lib.ingest.audit import write_template

    words = {"pl": dict(kind="Rodzaj pliku", audit="Protokół audytu", check="Sprawdź (bez zapisu)", school="Placówka",
                        refused="plik to dokument PDF, a nie eksport ankiety", points="Punkty", outcome="wynik: audyt kontrolny"),
             "en": dict(kind="Kind of file", audit="Audit protocol", check="Check (store nothing)", school="Institution",
                        refused="the file is a PDF document, not a survey export", points="Points",
                        outcome="outcome: a ")}[lang]
    (pdf := tmp_path / "ankieta.csv").write_bytes(b"%PDF-1.4\n" + b"\x00" * 64)
    with store.connect(local_db) as con:
        rspo = school(con, offset=3 if lang == "en" else 2)
        target = free_target(con)
        template = write_template(con, rspo, EDITION, tmp_path / "szablon.xlsx")
    protocol = fill(template, tmp_path / "protokół.xlsx", full_points(ref.catalogue_for("school", EDITION)))
    with chromium_browser() as b:
        page = b.new_page(viewport={"width": 1280, "height": 900})
        page.goto(app + f"/?lang={lang}")
        wait_text(page, "Placówek:" if lang == "pl" else "Institutions:")
        page.get_by_text("Import", exact=True).first.click()
        page.get_by_label(words["school"], exact=True).press_sequentially(str(target), delay=20)
        page.get_by_text(f"(RSPO {target})").first.click()
        page.locator("input[type=file]").set_input_files(str(pdf))
        check = page.get_by_role("button", name=words["check"])
        check.and_(page.locator(":enabled")).wait_for(timeout=60_000)
        check.click()
        try:
            wait_text(page, words["refused"])
        finally:
            page.screenshot(path=str(artifact(f"web-local-refused-{lang}.png")), full_page=True)
        page.goto(app + f"/?lang={lang}")  # a new tab's page: no file dropped yet
        page.get_by_text("Import", exact=True).first.click()
        page.get_by_label(words["kind"]).select_option(label=words["audit"])
        page.locator("input[type=file]").set_input_files(str(protocol))
        check = page.get_by_role("button", name=words["check"])
        check.and_(page.locator(":enabled")).wait_for(timeout=60_000)
        check.click()
        try:
            wait_text(page, words["outcome"])
            wait_text(page, words["points"])
        finally:
            page.screenshot(path=str(artifact(f"web-local-audit-{lang}.png")), full_page=True)
