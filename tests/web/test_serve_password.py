"""``zpb serve --auth password`` on the shared PostgreSQL database — the real server process, users
from `zpb users add`, Debian's Chromium. The coordinator of KPP Bochnia sees only her county's
institutions, checks and stores a Google Forms export for one of them; the database holds exactly
those rows, recorded as hers. The reader cannot import; logout, an expired or forged session, a form
without its XSRF token, repeated wrong passwords and an oversized file are all refused. Every page
passes axe-core and no request leaves the app's origin."""
from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

import psycopg
import pytest
from tornado.web import create_signed_value

from support.browser import artifact, chromium_browser
from support.surveys import answers, expected_counts, write_google_csv
from support.web import (PASSWORDS, SECRET, axe_violations, check_survey, cleared_school, imports_listed, log_in,
                         password_app, same_origin_guard, wait_text, zpb_serve)
from zpb_lib import store
from zpb_lib.services import imports as import_service
from zpb_lib.store.frames import table_hash, tables

EDITION = "2025/2026"


@pytest.fixture(scope="module")
def app(team_db, users, tmp_path_factory):
    with password_app(team_db[1], users, tmp_path_factory.mktemp("serve"), "--max-upload-mb", "1") as url:
        yield url


def bochnia_schools(owner: str) -> set[str]:
    with psycopg.connect(owner) as con:
        return {str(r[0] or r[1]) for r in con.execute(
            "SELECT i.rspo, i.polon FROM institutions i JOIN counties c ON c.teryt = i.county "
            "WHERE c.police_unit = 'KPP-BOCHNIA'")}


def hashes(db: str) -> dict[str, str]:
    with store.connect(db, readonly=True) as con:
        return {t: table_hash(con, t) for t in tables(con)}


def test_the_coordinator_sees_her_schools_and_stores_a_survey(app, team_db, ref, tmp_path):
    owner, _ = team_db
    rspo, name = cleared_school(owner, "1201")
    rows = answers(ref, "students", 30, seed=11)
    export = write_google_csv(tmp_path / "uczniowie SP.csv", ref, "students", rows)
    with chromium_browser() as b:
        page = b.new_page(viewport={"width": 1280, "height": 900})
        outside = same_origin_guard(page, app)
        log_in(page, app, "anna")
        wait_text(page, "Placówek:")
        page.screenshot(path=str(artifact("web-password-schools.png")))
        mine = bochnia_schools(owner)
        shown = page.get_by_text("Placówek:").first.inner_text()
        assert shown.startswith(f"Placówek: {len(mine)} ")
        assert "Komenda Powiatowa Policji w Bochni" in page.locator(".zpb-header").inner_text()
        # another unit's school is not in her list
        other, _ = cleared_school(owner, "1216")
        page.get_by_label("Szukaj (nazwa, miejscowość, RSPO)").press_sequentially(str(other), delay=20)
        wait_text(page, "Placówek: 0 ")  # another unit's school is not in her list
        check_survey(page, rspo, export)
        wait_text(page, "Po zapisaniu w bazie znajdzie się")
        page.screenshot(path=str(artifact("web-password-dry-run.png")), full_page=True)
        page.get_by_role("button", name="Zapisz").click()
        wait_text(page, "Zapisano jako import nr")
        listed = imports_listed(page, "uczniowie SP.csv")
        page.screenshot(path=str(artifact("web-password-imports.png")), full_page=True)
        assert "anna" in listed
        assert outside == []
    with psycopg.connect(owner) as con:
        imp = con.execute("SELECT id, unit, imported_by, person FROM imports WHERE file_name = 'uczniowie SP.csv'").fetchall()
        assert [(u, by, p) for _, u, by, p in imp] == [("KPP-BOCHNIA", "web_app", "anna")]
        stored = con.execute("SELECT COUNT(*), MIN(i.rspo), MAX(i.rspo) FROM survey_responses r JOIN institutions i "
                             "ON i.id = r.institution_id WHERE r.import_id = %s", (imp[0][0],)).fetchone()
    assert stored == (expected_counts(rows)["n"], rspo, rspo)


def test_a_request_for_another_units_school_is_refused_by_the_database(team_db, ref, tmp_path):
    """What the page would send for a school outside her list, sent straight to the service in her
    role: refused with a sentence, nothing stored."""
    owner, web = team_db
    other, _ = cleared_school(owner, "1216")
    export = write_google_csv(tmp_path / "cudza.csv", ref, "students", answers(ref, "students", 10, seed=3))
    before = hashes(owner)
    with store.acting_as("zpb_unit_kpp_bochnia", "anna"):
        outcome = import_service.commit(web, import_service.SurveyImport(export, other, EDITION, "students", "baseline"))
    assert outcome.refused and "Bochni" in outcome.message and "tarnowski (1216)" in outcome.message
    assert hashes(owner) == before


def test_the_reader_cannot_import(app):
    with chromium_browser() as b:
        page = b.new_page()
        log_in(page, app, "rita")
        wait_text(page, "Placówek:")
        assert page.get_by_text("Import", exact=True).count() == 0
        assert page.get_by_text("Importy", exact=True).count() == 1


def test_wrong_passwords_xsrf_logout_and_expiry(app):
    with chromium_browser() as b:
        ctx = b.new_context()
        page = ctx.new_page()
        log_in(page, app, "anna", "zle-haslo-000000")
        wait_text(page, "Nieprawidłowy login lub hasło.")
        log_in(page, app, "anna")
        wait_text(page, "Placówek:")
        page.goto(app + "/logout")
        wait_text(page, "Wylogowano.")
        page.goto(app + "/")
        page.get_by_label("Hasło").wait_for()  # back at the login form
        # a session cookie of the right shape, but idle for longer than the limit: the login form
        old = time.time() - 3600
        stale = create_signed_value(SECRET, "zpb_session", json.dumps(
            {"u": "anna", "r": "zpb_unit_kpp_bochnia", "n": "anna", "i": old, "s": old, "p": ""})).decode()
        ctx.add_cookies([{"name": "zpb_session", "value": stale, "url": app}])
        page.goto(app + "/")
        page.get_by_label("Hasło").wait_for()
        # and one signed with another secret
        forged = create_signed_value("x" * 48, "zpb_session", json.dumps(
            {"u": "anna", "r": "zpb_analyst", "n": "anna", "i": time.time(), "s": time.time(), "p": ""})).decode()
        ctx.add_cookies([{"name": "zpb_session", "value": forged, "url": app}])
        page.goto(app + "/")
        page.get_by_label("Hasło").wait_for()
        ctx.close()
    # a login form posted without its XSRF token
    data = urllib.parse.urlencode({"login": "anna", "password": PASSWORDS["anna"]}).encode()
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(urllib.request.Request(app + "/login", data=data))
    assert err.value.code == 403


def test_an_oversized_file_is_refused_at_once(app, tmp_path):
    big = tmp_path / "duzy.csv"
    big.write_bytes(b"a,b\n" + b"1,2\n" * 400_000)  # 1.6 MB; the app takes 1 MB
    with chromium_browser() as b:
        page = b.new_page()
        log_in(page, app, "anna")
        wait_text(page, "Placówek:")
        page.get_by_text("Import", exact=True).first.click()
        page.locator("input[type=file]").set_input_files(str(big))
        wait_text(page, "File is too large")
        assert page.get_by_role("button", name="Sprawdź (bez zapisu)").is_disabled()


def test_axe_and_origin_on_the_login_and_the_app(app):
    with chromium_browser() as b:
        ctx = b.new_context(bypass_csp=True)
        page = ctx.new_page()
        outside = same_origin_guard(page, app)
        page.goto(app + "/")
        page.get_by_label("Hasło").wait_for()
        found = {"login": axe_violations(page)}
        log_in(page, app, "anna")
        wait_text(page, "Placówek:")
        found["app"] = axe_violations(page)
        page.goto(app + "/logout")
        found["logout"] = axe_violations(page)
        ctx.close()
    assert found == {"login": [], "app": [], "logout": []}
    assert outside == []


def test_failed_logins_are_limited(team_db, users, tmp_path):
    """On a server of its own: the address of every test is the same, and stays refused for the window."""
    with password_app(team_db[1], users, tmp_path) as app, chromium_browser() as b:
        page = b.new_page()
        for _ in range(10):
            log_in(page, app, "rita", "zle-haslo-000000")
            page.get_by_role("alert").wait_for()
            if "Zbyt wiele" in page.get_by_role("alert").inner_text():
                break
        assert "Zbyt wiele nieudanych prób" in page.get_by_role("alert").inner_text()
        log_in(page, app, "rita")  # the right password, too soon: still refused
        assert "Zbyt wiele nieudanych prób" in page.get_by_role("alert").inner_text()


def test_several_worker_processes_share_logins(team_db, users, tmp_path):
    """`--processes 2`: the session lives in the signed cookie and the XSRF token in its own, so a
    login made by one process is good in the other; both processes serve."""
    import http.cookiejar
    import re

    (tmp_path / "secret").write_text(SECRET)
    with zpb_serve(["--db", team_db[1], "--auth", "password", "--users", str(users), "--insecure-cookies",
                    "--cookie-secret-file", str(tmp_path / "secret"), "--processes", "2"], tmp_path) as url:
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        form = opener.open(url + "/login").read().decode()
        xsrf = re.search(r'name="_xsrf" value="([^"]+)"', form).group(1)
        opener.open(url + "/login", urllib.parse.urlencode(
            {"_xsrf": xsrf, "login": "anna", "password": PASSWORDS["anna"], "next": "/"}).encode())
        pages = [opener.open(url + "/").read().decode() for _ in range(8)]
        assert all("bokeh" in p.lower() and "Hasło" not in p for p in pages)  # the app, never the login form
        serve_pid = int(subprocess.run(["pgrep", "-o", "-f", f"cli serve .*--port {url.rsplit(':', 1)[1]}"],
                                       capture_output=True, text=True).stdout.split()[0])
        workers = subprocess.run(["pgrep", "-P", str(serve_pid)], capture_output=True, text=True).stdout.split()
        assert len(workers) == 2


def test_the_users_file_holds_argon2id_hashes_only(users):
    """What `zpb users add` wrote for the logins these tests use: argon2id hashes of their passwords
    (checked with argon2's own verifier), readable by the owner only, no password in clear."""
    import stat

    from argon2 import PasswordHasher

    raw = users.read_text(encoding="utf-8")
    data = json.loads(raw)
    assert stat.S_IMODE(users.stat().st_mode) == 0o600
    for login, password in PASSWORDS.items():
        entry = data["users"][login]
        assert entry["hash"].startswith("$argon2id$v=19$") and password not in raw
        assert PasswordHasher().verify(entry["hash"], password)
