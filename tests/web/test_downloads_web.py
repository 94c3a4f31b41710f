"""The „Pobierz” tab of ``zpb serve``, a real server process driven by Debian's Chromium: each file
downloaded, opened and compared with what the test computes on its own — the audit protocol names
the school, the register workbook lists exactly the unit's institutions (SQL), the survey forms hold
the questionnaire of the reference data. Locally (SQLite, the analyst) and on PostgreSQL as the
coordinator of KPP Bochnia, who cannot pick another unit's school, and as the reader. axe-core finds
nothing on the tab; nothing leaves the app's origin."""
from __future__ import annotations

import csv
import io
import sqlite3
from pathlib import Path

import psycopg
import pytest
from openpyxl import load_workbook

from support.browser import artifact, chromium_browser
from support.web import (axe_violations, completions, log_in, password_app, same_origin_guard, wait_text,
                         wait_until)

EDITION = "2025/2026"
BOCHNIA = "Komenda Powiatowa Policji w Bochni"
TAKING_PART = (  # a school of a kind that exists, taking part in the edition
    "SELECT i.rspo, i.name, c.name, c.teryt, k.family FROM institutions i "
    "JOIN institution_kinds k ON k.code = i.kind JOIN counties c ON c.teryt = i.county "
    "WHERE i.county = {p} AND i.rspo IS NOT NULL AND k.exists_to IS NULL AND i.closed_year IS NULL "
    "AND k.family = 'school' AND EXISTS (SELECT 1 FROM participation p WHERE p.institution_id = i.id "
    "AND p.joined_edition <= {p} AND (p.left_edition IS NULL OR p.left_edition >= {p})) ORDER BY i.id LIMIT 1")
UNIT_IDENTS = ("SELECT COALESCE(CAST(i.rspo AS TEXT), i.polon) FROM institutions i JOIN counties c ON c.teryt = i.county "
               "WHERE c.police_unit = {p}")
UNIT_PARTICIPATION = ("SELECT COUNT(*) FROM participation t JOIN institutions i ON i.id = t.institution_id "
                      "JOIN counties c ON c.teryt = i.county WHERE c.police_unit = {p}")


def download(page, button: str, folder: Path) -> Path:
    """Click the download button named ``button``; the file the browser received, saved."""
    with page.expect_download(timeout=60_000) as d:
        page.get_by_role("button", name=button).click()
    path = folder / d.value.suggested_filename
    d.value.save_as(path)
    return path


def pick_school(page, rspo: int) -> None:
    box = page.get_by_label("Placówka audytowana", exact=True)
    box.fill("")
    box.press_sequentially(str(rspo), delay=20)  # the list follows key presses
    page.get_by_text(f"(RSPO {rspo})").first.click()


def protocol_fields(path: Path) -> dict[str, object]:
    """The protocol's fields at the top: label in column A -> value in column D."""
    ws = load_workbook(path)["Protokół audytu"]
    return {ws.cell(r, 1).value: ws.cell(r, 4).value for r in range(4, 11)}


def criteria_ids(path: Path) -> list[str]:
    ws = load_workbook(path)["Protokół audytu"]
    header = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "Lp.")
    out = []
    for r in range(header + 1, ws.max_row + 1):
        if not isinstance(ws.cell(r, 1).value, int):
            break
        out.append(ws.cell(r, 2).value)
    return out


def listed_institutions(path: Path) -> list[str]:
    ws = load_workbook(path, read_only=True)["Placówki"]
    return [str(row[0]) for row in ws.iter_rows(min_row=2, values_only=True) if row[0] is not None]


def data_rows(path: Path, sheet: str) -> int:
    ws = load_workbook(path, read_only=True)[sheet]
    return sum(1 for row in ws.iter_rows(min_row=2, values_only=True) if any(v is not None for v in row))


def check_survey_forms(page, ref, folder: Path) -> None:
    """The parents' questionnaire in English: its questions and answers, as the reference data word them."""
    page.get_by_label("Grupa", exact=True).last.select_option(label="rodzice")
    page.get_by_label("Język ankiety").select_option(label="angielski")
    items = ref.questionnaires["parents"].items
    md = download(page, "Pytania i instrukcja do Formularzy Google i Microsoft Forms (.md)", folder)
    text = md.read_text(encoding="utf-8")
    assert md.suffix == ".md" and "parents" in md.name and md.name.endswith("-en.md")
    assert text.startswith(f"# {ref.questionnaires['parents'].title_en}\n")
    assert "Google" in text and "Microsoft" in text  # the set-up instructions for both
    assert [line.split(". ", 1)[1] for line in text.splitlines() if line.startswith("## ") and ". " in line] == \
        [item.text_en for item in items]
    table = download(page, "Pytania i odpowiedzi w tabeli (.csv)", folder)
    rows = list(csv.reader(io.StringIO(table.read_text(encoding="utf-8-sig")), delimiter=";"))[1:]
    assert [(r[1], r[3]) for r in rows] == [(item.id, item.text_en) for item in items]
    for r, item in zip(rows, items):
        assert [a for a in r[4:] if a] == [o.label_en for o in ref.scales[item.scale].options]
    pdf = download(page, "Ankieta do druku (.pdf)", folder)
    assert pdf.read_bytes().startswith(b"%PDF-")
    wait_text(page, f"Przygotowano plik „{pdf.name}”.")


# --------------------------------------------------------------------------- on the analyst's machine

# local_app and local_db: the session's (tests/conftest.py); these tests only read.

def lite(db: Path, query: str, *params: object) -> list[tuple]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return con.execute(query.replace("{p}", "?"), params).fetchall()
    finally:
        con.close()


def test_local_downloads(local_app, local_db, ref, tmp_path):
    (bochnia,), = lite(local_db, "SELECT teryt FROM counties WHERE name = 'bocheński'")
    rspo, name, county, teryt, family = lite(local_db, TAKING_PART, bochnia, EDITION, EDITION)[0]
    with chromium_browser() as b:
        page = b.new_page(viewport={"width": 1280, "height": 900})
        outside = same_origin_guard(page, local_app)
        page.goto(local_app + "/")
        wait_text(page, "Placówek:")
        page.get_by_text("Pobierz", exact=True).first.click()
        # the audit protocol of the school, kind chosen
        pick_school(page, rspo)
        page.get_by_label("Rodzaj audytu").select_option(label="kontrolny")
        protocol = download(page, "Pobierz protokół audytu (XLSX)", tmp_path)
        page.screenshot(path=str(artifact("web-downloads-local.png")), full_page=True)
        assert protocol.name == f"protokol-audytu-{rspo}-{EDITION.replace('/', '-')}.xlsx"
        fields = protocol_fields(protocol)
        assert (fields["Placówka (RSPO / POL-on)"], fields["Placówka"], fields["Powiat"], fields["Edycja"],
                fields["Rodzaj audytu"]) == (rspo, name, f"{county} ({teryt})", EDITION, "kontrolny")
        assert criteria_ids(protocol) == [c.id for c in ref.catalogue_for(family, EDITION).criteria]
        # the register of one unit the analyst picks
        page.get_by_label("Placówki jednostki Policji").select_option(label=BOCHNIA)
        register = download(page, "Pobierz rejestr programu (XLSX)", tmp_path)
        assert register.name == "rejestr-zpb-kpp-bochnia.xlsx"
        assert sorted(listed_institutions(register)) == sorted(r[0] for r in lite(local_db, UNIT_IDENTS, "KPP-BOCHNIA"))
        assert data_rows(register, "Udział") == lite(local_db, UNIT_PARTICIPATION, "KPP-BOCHNIA")[0][0]
        check_survey_forms(page, ref, tmp_path)
        assert outside == []


def test_local_refusals_are_said_on_the_page(local_app, local_db):
    never, = lite(local_db, "SELECT i.rspo FROM institutions i JOIN institution_kinds k ON k.code = i.kind "
                            "WHERE i.rspo IS NOT NULL AND k.family = 'school' AND NOT EXISTS "
                            "(SELECT 1 FROM participation p WHERE p.institution_id = i.id) ORDER BY i.id LIMIT 1")[0]
    with chromium_browser() as b:
        page = b.new_page(viewport={"width": 1280, "height": 900})
        page.goto(local_app + "/")
        wait_text(page, "Placówek:")
        page.get_by_text("Pobierz", exact=True).first.click()
        page.get_by_role("button", name="Pobierz protokół audytu (XLSX)").click()
        wait_text(page, "Wybierz placówkę z listy.")
        pick_school(page, never)
        page.get_by_role("button", name="Pobierz protokół audytu (XLSX)").click()
        wait_text(page, "has no participation in the programme recorded")
        assert str(never) in page.get_by_role("alert").inner_text()


def test_local_axe_on_the_tab(local_app):
    with chromium_browser() as b:
        ctx = b.new_context(bypass_csp=True)  # axe-core is injected
        page = ctx.new_page()
        outside = same_origin_guard(page, local_app)
        page.goto(local_app + "/")
        wait_text(page, "Placówek:")
        page.get_by_text("Pobierz", exact=True).first.click()
        page.get_by_role("button", name="Pobierz rejestr programu (XLSX)").wait_for()
        found = axe_violations(page)
        ctx.close()
    assert found == []
    assert outside == []


# --------------------------------------------------------------------------- for a team, on PostgreSQL



@pytest.fixture(scope="module")
def team_app(team_db, users, tmp_path_factory):
    with password_app(team_db[1], users, tmp_path_factory.mktemp("serve")) as url:
        yield url


def open_downloads(page, app: str, login: str) -> None:
    log_in(page, app, login)
    wait_text(page, "Placówek:")
    page.get_by_text("Pobierz", exact=True).first.click()
    page.get_by_label("Placówka audytowana", exact=True).wait_for()  # the tab is made when first opened


def pg(owner: str, query: str, *params: object) -> list[tuple]:
    with psycopg.connect(owner) as con:
        return con.execute(query.replace("{p}", "%s"), params).fetchall()


def test_the_coordinator_downloads_for_her_unit_only(team_app, team_db, ref, tmp_path):
    owner, _ = team_db
    rspo, name, county, teryt, family = pg(owner, TAKING_PART, "1201", EDITION, EDITION)[0]
    other = pg(owner, TAKING_PART, "1216", EDITION, EDITION)[0][0]
    with chromium_browser() as b:
        page = b.new_page(viewport={"width": 1280, "height": 900})
        outside = same_origin_guard(page, team_app)
        open_downloads(page, team_app, "anna")
        # another unit's school is not in her list (what the box offers, as the page was given it)
        offered = completions(page, "Placówka audytowana")
        assert [c for c in offered if f"(RSPO {other})" in c] == []
        assert [c for c in offered if f"(RSPO {rspo})" in c] != []
        pick_school(page, rspo)
        protocol = download(page, "Pobierz protokół audytu (XLSX)", tmp_path)
        fields = protocol_fields(protocol)
        assert (fields["Placówka (RSPO / POL-on)"], fields["Placówka"], fields["Powiat"], fields["Edycja"],
                fields["Rodzaj audytu"]) == (rspo, name, f"{county} ({teryt})", EDITION, None)
        assert criteria_ids(protocol) == [c.id for c in ref.catalogue_for(family, EDITION).criteria]
        # her unit's register: no unit to pick
        assert page.get_by_label("Placówki jednostki Policji").count() == 0
        wait_text(page, f"Placówki: {BOCHNIA}")
        register = download(page, "Pobierz rejestr programu (XLSX)", tmp_path)
        page.screenshot(path=str(artifact("web-downloads-coordinator.png")), full_page=True)
        assert register.name == "rejestr-zpb-kpp-bochnia.xlsx"
        assert sorted(listed_institutions(register)) == sorted(r[0] for r in pg(owner, UNIT_IDENTS, "KPP-BOCHNIA"))
        assert data_rows(register, "Udział") == pg(owner, UNIT_PARTICIPATION, "KPP-BOCHNIA")[0][0]
        check_survey_forms(page, ref, tmp_path)
        assert outside == []
    # each download is in the journal, as hers, in her unit's role (written after the file is sent)
    wanted = {protocol.name, register.name}

    def noted() -> set[str]:
        return {d for (d,) in pg(owner, "SELECT detail FROM journal WHERE action = 'download' AND login = 'anna' "
                                        "AND role = 'zpb_unit_kpp_bochnia'")}
    wait_until(lambda: wanted <= noted())
    assert wanted <= noted()


def test_the_reader_downloads_the_whole_register(team_app, team_db, tmp_path):
    owner, _ = team_db
    with chromium_browser() as b:
        page = b.new_page(viewport={"width": 1280, "height": 900})
        open_downloads(page, team_app, "rita")
        register = download(page, "Pobierz rejestr programu (XLSX)", tmp_path)
    assert register.name == "rejestr-zpb.xlsx"
    assert sorted(listed_institutions(register)) == sorted(
        r[0] for r in pg(owner, "SELECT COALESCE(CAST(rspo AS TEXT), polon) FROM institutions"))


def test_axe_on_the_coordinators_tab(team_app):
    with chromium_browser() as b:
        ctx = b.new_context(bypass_csp=True)
        page = ctx.new_page()
        outside = same_origin_guard(page, team_app)
        open_downloads(page, team_app, "anna")
        page.get_by_role("button", name="Pobierz rejestr programu (XLSX)").wait_for()
        found = axe_violations(page)
        ctx.close()
    assert found == []
    assert outside == []
