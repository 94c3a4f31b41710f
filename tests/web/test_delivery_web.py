"""The „Wysyłka” tab of ``zpb serve --auth password``: reports sent to the schools by e-mail through a
real SMTP server started here (aiosmtpd), whose address reaches the server process by its
``ZPB_SMTP_*`` environment, from school reports built by `zpb build` on the shared database.

Three of KPP Bochnia's four schools taking part and one of KMP Tarnów's have a built report; one of
Bochnia's built ones has no address (see ``built``). The coordinator of KPP Bochnia previews (the
school without an address listed), sends, and downloads the zip: the server received one message per school of hers with an
address and a report, each with that school's PDF, none for Tarnów's; the database recorded each
sending as hers; the zip holds her unit's PDFs only. What is expected is read here with plain SQL
and from the build's manifest. axe-core finds nothing on the tab; nothing leaves the app's origin."""
from __future__ import annotations

import zipfile
from pathlib import Path

import psycopg
import pytest

from support.browser import artifact, chromium_browser
from support.smtp import Inbox, build_school_reports, report_of, smtp_server
from support.web import axe_violations, log_in, password_app, same_origin_guard, wait_text

EDITION = "2025/2026"
BOCHNIA, TARNOW = "KPP-BOCHNIA", "KMP-TARNOW"
SENDER = "zpb@bochnia.policja.gov.pl"
TAKING_PART = (  # (id, RSPO number, name) of a unit's institutions with a participation covering the edition
    "SELECT i.id, i.rspo, i.name FROM institutions i JOIN counties c ON c.teryt = i.county "
    "WHERE c.police_unit = %s AND i.rspo IS NOT NULL AND EXISTS (SELECT 1 FROM participation p "
    "WHERE p.institution_id = i.id AND p.joined_edition <= %s AND (p.left_edition IS NULL OR p.left_edition >= %s)) "
    "ORDER BY i.id")
NEVER_TOOK_PART = (  # (id, RSPO number, name) of a unit's existing schools that never took part
    "SELECT i.id, i.rspo, i.name FROM institutions i JOIN counties c ON c.teryt = i.county "
    "JOIN institution_kinds k ON k.code = i.kind WHERE c.police_unit = %s AND i.rspo IS NOT NULL "
    "AND k.exists_to IS NULL AND i.closed_year IS NULL AND k.family = 'school' "
    "AND NOT EXISTS (SELECT 1 FROM participation p WHERE p.institution_id = i.id) ORDER BY i.id LIMIT 2")


@pytest.fixture(scope="module")
def inbox():
    """The SMTP server of the module's app; yields (its inbox, its port)."""
    box = Inbox()
    with smtp_server(box) as controller:
        yield box, controller.port


@pytest.fixture(scope="module")
def built(team_db, tmp_path_factory):
    """Bochnia's four schools taking part (the demo's two and two more joined in the edition here),
    A, B, C and D by id: A, C and D have an address, B's is cleared; A, B and C have a built report,
    D none. Tarnów's first school T has both. Set and built by the database's owner."""
    owner, _ = team_db
    with psycopg.connect(owner) as con:
        extra = con.execute(NEVER_TOOK_PART, (BOCHNIA,)).fetchall()
        for iid, _, _ in extra:
            con.execute("INSERT INTO participation (institution_id, joined_edition) VALUES (%s, %s)", (iid, EDITION))
        mine = con.execute(TAKING_PART, (BOCHNIA, EDITION, EDITION)).fetchall()
        other = con.execute(TAKING_PART, (TARNOW, EDITION, EDITION)).fetchall()
        assert len(mine) == 4 and len(extra) == 2 and other
        a, b, c, d = mine
        t = other[0]
        addresses = {a[0]: "sekretariat@sp1.bochnia.pl", b[0]: "szkola@zs2.bochnia.pl",
                     c[0]: "dyrektor@technikum.bochnia.pl", d[0]: "sekretariat@sp-lipnica.pl",
                     t[0]: "sekretariat@tarnow.edu.pl"}
        for iid, email in addresses.items():
            con.execute("UPDATE institutions SET email = %s WHERE id = %s", (email, iid))
        con.execute("UPDATE institutions SET email = NULL WHERE id = %s", (b[0],))
    reports = tmp_path_factory.mktemp("delivery-web") / "reports"
    manifest = build_school_reports(owner, reports, EDITION, [str(r[1]) for r in (a, b, c, t)])
    return {"reports": reports, "folder": reports / EDITION.replace("/", "-"), "manifest": manifest,
            "a": a, "b": b, "c": c, "d": d, "t": t, "addresses": addresses}


@pytest.fixture(scope="module")
def app(team_db, users, built, inbox, tmp_path_factory):
    env = {"ZPB_SMTP_HOST": "127.0.0.1", "ZPB_SMTP_PORT": str(inbox[1]), "ZPB_SMTP_TLS": "none",
           "ZPB_SMTP_FROM": SENDER, "ZPB_SMTP_USER": "", "ZPB_SMTP_PASSWORD": ""}
    with password_app(team_db[1], users, tmp_path_factory.mktemp("serve"), "--reports", str(built["reports"]),
                      env=env) as url:
        yield url


def open_tab(page, app: str, login: str) -> None:
    log_in(page, app, login)
    wait_text(page, "Placówek:")
    page.get_by_text("Wysyłka", exact=True).first.click()
    page.get_by_role("button", name="Podgląd").wait_for()


def download(page, button: str, folder: Path) -> Path:
    with page.expect_download(timeout=60_000) as d:
        page.get_by_role("button", name=button).click()
    path = folder / d.value.suggested_filename
    d.value.save_as(path)
    return path


def test_the_coordinator_previews_sends_and_downloads_her_units_reports(app, team_db, built, inbox, tmp_path):
    owner, _ = team_db
    box, _ = inbox
    a, b, c, d, t, addresses = (built[k] for k in ("a", "b", "c", "d", "t", "addresses"))
    with chromium_browser() as browser:
        ctx = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})  # axe-core is injected
        page = ctx.new_page()
        outside = same_origin_guard(page, app)
        open_tab(page, app, "anna")
        send = page.get_by_role("button", name="Wyślij", exact=True)
        assert send.is_disabled()  # until a preview was made
        assert page.get_by_label("Temat").input_value() == "Raport programu ZPB, edycja {edition}: {name}"
        page.get_by_role("button", name="Podgląd").click()
        wait_text(page, "Bez adresu e-mail w rejestrze RSPO")
        shown = page.get_by_role("status").filter(has_text="Do wysłania").inner_text()
        to_send, rest = shown.split("Bez adresu e-mail w rejestrze RSPO")
        no_address, no_report = rest.split("Bez raportu PDF")
        for iid, rspo, _ in (a, c):
            pdf, _ = report_of(built["folder"], built["manifest"], rspo)
            assert addresses[iid] in to_send and pdf.name in to_send and f"RSPO {rspo}" in to_send
        assert f"RSPO {b[1]}" in no_address and f"RSPO {b[1]}" not in to_send + no_report
        assert f"RSPO {d[1]}" in no_report and f"RSPO {d[1]}" not in to_send + no_address
        assert f"RSPO {t[1]}" not in shown and addresses[t[0]] not in shown
        found = axe_violations(page)
        page.screenshot(path=str(artifact("web-delivery.png")), full_page=True)
        send.and_(page.locator(":enabled")).wait_for()
        send.click()
        wait_text(page, "Wiadomości do wysłania: 2")
        page.get_by_role("button", name="Tak, wyślij").click()
        wait_text(page, "Wysłano: 2; nie wysłano: 0.")
        wait_text(page, "Wysyłki jednostki, od najnowszej (2)")
        history = page.locator("table").filter(has_text="Wysyłki jednostki").inner_text()
        assert history.count("anna") == 2 and addresses[a[0]] in history and addresses[c[0]] in history
        assert history.count(built["manifest"]["inputs"]["data_hash"]) == 2  # the version each school got
        zipped = download(page, "Pobierz wszystkie (zip)", tmp_path)
        wait_text(page, f"Przygotowano plik „{zipped.name}”.")
        assert page.get_by_text("Wysłano: 2; nie wysłano: 0.").is_visible()  # the sending's result stays
        found += axe_violations(page)
        page.screenshot(path=str(artifact("web-delivery-sent.png")), full_page=True)
        ctx.close()
    assert found == []
    assert outside == []
    # one message per school of hers with an address and a report, each with that school's own PDF
    expected = {addresses[iid]: rspo for iid, rspo, _ in (a, c)}
    assert sorted(rcpt[0] for rcpt, _ in box.messages) == sorted(expected)
    for recipients, msg in box.messages:
        assert recipients == [msg["To"]] and msg["From"] == SENDER
        pdf, entry = report_of(built["folder"], built["manifest"], expected[msg["To"]])
        (part,) = list(msg.iter_attachments())
        assert part.get_filename() == pdf.name and part.get_content() == pdf.read_bytes()
        assert entry["title"] in msg["Subject"] and EDITION in msg["Subject"]
    # each sending recorded as hers, in her unit's role
    with psycopg.connect(owner) as con:
        recorded = con.execute("SELECT login, role, institution_id, edition, recipient, report_file, data_version, "
                               "outcome FROM deliveries ORDER BY id").fetchall()
    assert sorted(recorded) == sorted(
        ("anna", "zpb_unit_kpp_bochnia", iid, EDITION, addresses[iid],
         report_of(built["folder"], built["manifest"], rspo)[0].name, built["manifest"]["inputs"]["data_hash"], "sent")
        for iid, rspo, _ in (a, c))
    # the zip: her unit's three PDFs (B's too, though it has no address), none of Tarnów's
    with zipfile.ZipFile(zipped) as z:
        pdfs = [report_of(built["folder"], built["manifest"], r[1])[0] for r in (a, b, c)]
        assert sorted(z.namelist()) == sorted(p.name for p in pdfs)
        assert all(z.read(p.name) == p.read_bytes() for p in pdfs)


def test_the_analyst_picks_a_unit_and_the_reader_has_no_tab(app, built):
    other = built["t"]
    with chromium_browser() as b:
        page = b.new_page(viewport={"width": 1280, "height": 900})
        outside = same_origin_guard(page, app)
        open_tab(page, app, "olek")
        page.get_by_label("Jednostka Policji").select_option(label="Komenda Miejska Policji w Tarnowie")
        page.get_by_role("button", name="Podgląd").click()
        wait_text(page, "Bez adresu e-mail w rejestrze RSPO")
        shown = page.get_by_role("status").filter(has_text="Do wysłania").inner_text()
        assert f"RSPO {other[1]}" in shown.split("Bez adresu")[0] and built["addresses"][other[0]] in shown
        assert f"RSPO {built['a'][1]}" not in shown
        page.get_by_role("button", name="Wyślij", exact=True).and_(page.locator(":enabled")).wait_for()
        assert outside == []
        reader = b.new_page()
        log_in(reader, app, "rita")
        wait_text(reader, "Placówek:")
        assert reader.get_by_text("Wysyłka", exact=True).count() == 0


def test_without_an_smtp_server_the_tab_says_so_and_offers_no_sending(local_app):
    with chromium_browser() as b:
        page = b.new_page(viewport={"width": 1280, "height": 900})
        outside = same_origin_guard(page, local_app)
        page.goto(local_app + "/")
        wait_text(page, "Placówek:")
        page.get_by_text("Wysyłka", exact=True).first.click()
        wait_text(page, "Serwer poczty (SMTP) nie jest ustawiony")
        assert page.get_by_role("button", name="Wyślij", exact=True).count() == 0
        assert page.get_by_role("button", name="Podgląd").count() == 1
        assert outside == []
