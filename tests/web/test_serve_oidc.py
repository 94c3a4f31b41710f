"""``zpb serve --auth oidc`` against a real OpenID Connect provider started here (oidc-provider-mock:
its own login form, its own keys, real authorization codes and signed ID tokens) and the shared
PostgreSQL database. The coordinator of KPP Bochnia logs in through the provider's form and sees only
her county's institutions; the analyst sees every one; a user whose groups hold no zpb role gets
„Brak dostępu”; a user with two zpb roles too. The app's pages load nothing from outside their own
origin (the provider's pages are the provider's)."""
from __future__ import annotations

import psycopg
import pytest

from support.browser import artifact, chromium_browser
from support.web import axe_violations, same_origin_guard, wait_text, zpb_serve

oidc_provider_mock = pytest.importorskip("oidc_provider_mock")

USERS = {
    "anna": {"preferred_username": "anna", "name": "Anna Nowak", "groups": ["/zpb/zpb_unit_kpp_bochnia", "staff"]},
    "olek": {"preferred_username": "olek", "name": "Olek Analityk", "groups": ["zpb_analyst"]},
    "gosc": {"preferred_username": "gosc", "name": "Gość", "groups": ["staff"]},
    "dwa": {"preferred_username": "dwa", "name": "Dwie Role", "groups": ["zpb_analyst", "zpb_reader"]},
}


@pytest.fixture(scope="module")
def provider():
    users = [oidc_provider_mock.User(sub=sub, claims=claims) for sub, claims in USERS.items()]
    with oidc_provider_mock.run_server_in_thread(user_claims=users, require_nonce=True) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture(scope="module")
def app(team_db, provider, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("serve-oidc")
    (tmp / "oidc-secret").write_text("the-client-secret")
    with zpb_serve(["--db", team_db[1], "--auth", "oidc", "--oidc-issuer", provider, "--oidc-client-id", "zpb",
                    "--oidc-secret-file", str(tmp / "oidc-secret"), "--insecure-cookies"], tmp) as url:
        yield url


def log_in(page, app: str, sub: str) -> None:
    """Through the provider's own form: the subject typed, "Authorize" pressed."""
    page.goto(app + "/")
    page.get_by_placeholder("sub").fill(sub)
    page.get_by_role("button", name="Authorize").click()


def count_of(owner: str, unit: str | None) -> int:
    with psycopg.connect(owner) as con:
        return con.execute("SELECT COUNT(*) FROM institutions i JOIN counties c ON c.teryt = i.county "
                           "WHERE %(u)s::text IS NULL OR c.police_unit = %(u)s", {"u": unit}).fetchone()[0]


@pytest.mark.parametrize("sub, unit", [("anna", "KPP-BOCHNIA"), ("olek", None)])
def test_login_through_the_provider_gives_the_roles_view(app, provider, team_db, sub, unit):
    with chromium_browser() as b:
        page = b.new_page(viewport={"width": 1280, "height": 900})
        outside = same_origin_guard(page, app, allow=(provider,))
        log_in(page, app, sub)
        wait_text(page, "Placówek:")
        page.screenshot(path=str(artifact(f"web-oidc-{sub}.png")))
        assert page.get_by_text("Placówek:").first.inner_text().startswith(f"Placówek: {count_of(team_db[0], unit)} ")
        assert USERS[sub]["name"] in page.locator(".zpb-header").inner_text()
        page.goto(app + "/logout")
        wait_text(page, "Wylogowano.")
        page.goto(app + "/")
        page.get_by_placeholder("sub").wait_for()  # back at the provider
        assert outside == []
    role = "zpb_unit_kpp_bochnia" if unit else "zpb_analyst"
    with psycopg.connect(team_db[0]) as con:
        actions = [a for (a,) in con.execute("SELECT action FROM journal WHERE login = %s AND role = %s AND "
                                             "(detail = 'oidc' OR action = 'logout') ORDER BY id", (sub, role))]
    assert actions[-2:] == ["login", "logout"]


@pytest.mark.parametrize("sub, words", [("gosc", "nie ma roli"), ("dwa", "kilka ról ZPB (zpb_analyst, zpb_reader)")])
def test_no_role_or_several_roles_get_no_access(app, team_db, sub, words):
    with chromium_browser() as b:
        ctx = b.new_context(bypass_csp=True)
        page = ctx.new_page()
        log_in(page, app, sub)
        wait_text(page, "Brak dostępu")
        wait_text(page, words)
        assert page.get_by_text("Placówek:").count() == 0
        page.screenshot(path=str(artifact(f"web-oidc-{sub}.png")))
        assert axe_violations(page) == []
        ctx.close()
    with psycopg.connect(team_db[0]) as con:
        refused = con.execute("SELECT role, detail FROM journal WHERE login = %s AND action = 'login_failed'",
                              (sub,)).fetchall()
    assert refused and refused[-1][0] == "zpb_reader" and refused[-1][1].startswith("oidc: ")


def test_a_login_answer_that_does_not_match_its_request_is_refused(app):
    """A code and state that this browser's login did not ask for (a forged callback)."""
    with chromium_browser() as b:
        page = b.new_page()
        page.goto(app + "/login?code=stolen&state=whatever")
        wait_text(page, "state does not match")
        page.goto(app + "/")
        page.get_by_placeholder("sub").wait_for()  # still not logged in


def test_the_coordinator_logged_in_by_the_provider_stores_a_survey(app, provider, team_db, ref, tmp_path):
    """The issue's first scenario end to end with the provider's login: the coordinator of KPP
    Bochnia checks and saves a Google Forms export for one of her schools; the imports list shows it
    under her login; the database holds exactly those rows, recorded as hers, in her unit."""
    from support.surveys import answers, expected_counts, write_google_csv
    from support.web import check_survey, cleared_school, imports_listed

    owner = team_db[0]
    rspo, _ = cleared_school(owner, "1201")
    rows = answers(ref, "students", 25, seed=21)
    export = write_google_csv(tmp_path / "ankieta oidc.csv", ref, "students", rows)
    with chromium_browser() as b:
        page = b.new_page(viewport={"width": 1280, "height": 900})
        outside = same_origin_guard(page, app, allow=(provider,))
        log_in(page, app, "anna")
        wait_text(page, "Placówek:")
        check_survey(page, rspo, export)
        wait_text(page, "Po zapisaniu w bazie znajdzie się")
        page.get_by_role("button", name="Zapisz").click()
        wait_text(page, "Zapisano jako import nr")
        assert "anna" in imports_listed(page, "ankieta oidc.csv")
        assert outside == []
    with psycopg.connect(owner) as con:
        (iid, unit, by, person), = con.execute(
            "SELECT id, unit, imported_by, person FROM imports WHERE file_name = 'ankieta oidc.csv'").fetchall()
        n, lo, hi = con.execute("SELECT COUNT(*), MIN(i.rspo), MAX(i.rspo) FROM survey_responses r JOIN institutions i "
                                "ON i.id = r.institution_id WHERE r.import_id = %s", (iid,)).fetchone()
    assert (unit, by, person) == ("KPP-BOCHNIA", "web_app", "anna")
    assert (n, lo, hi) == (expected_counts(rows)["n"], rspo, rspo)
