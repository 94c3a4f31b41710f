"""A real ``zpb serve`` process for the browser tests, and what they check on every page."""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Iterator

import pytest

AXE = Path(__file__).resolve().parents[1] / "a11y" / "node_modules" / "axe-core" / "axe.min.js"
ZPB = [sys.executable, "-m", "zpb_lib.cli"]

AXE_JS = """async () => {
    const r = await axe.run(document, {resultTypes: ['violations']});
    return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ': ' + n.failureSummary)}));
}"""


def require_axe() -> Path:
    if not AXE.exists():
        message = ("AXE-CORE NOT INSTALLED: run `npm ci` in tests/a11y (make test does it when "
                   "tests/a11y/node_modules is missing)")
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return AXE


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port: int, proc: subprocess.Popen, log: Path, timeout: float = 120.0) -> None:
    """Until the server accepts connections (or has died: its log is the failure's message)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"zpb serve ended with {proc.returncode}:\n{log.read_text()}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.2)
    raise AssertionError(f"zpb serve did not listen within {timeout} s:\n{log.read_text()}")


@contextlib.contextmanager
def zpb_serve(args: list[str], tmp: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """``zpb serve ARGS --port P`` as its own process group; yields its URL; stops it after."""
    port = free_port()
    log = tmp / f"serve-{port}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([*ZPB, "serve", *args, "--port", str(port)], stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, **(env or {})}, start_new_session=True)
    try:
        wait_listening(port, proc, log)
        yield f"http://localhost:{port}"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def same_origin_guard(page, origin: str, allow: tuple[str, ...] = ()) -> list[str]:
    """Abort and record every request of ``page`` that leaves ``origin`` (blob: and data: of the page
    itself aside); returns the list the guard fills. Requests to the origins of ``allow`` (an OpenID
    provider's login) go through; what those origins' own pages ask of anywhere else is aborted but
    not recorded (a provider's page may want its style from a CDN: not the app's concern)."""
    outside: list[str] = []
    allowed = tuple(a + "/" for a in allow)

    def route(r) -> None:
        url = r.request.url
        if url.startswith((origin + "/", *allowed, "data:", f"blob:{origin}/")) or url == origin:
            r.continue_()
        else:
            if not (allowed and r.request.frame.url.startswith(allowed)):
                outside.append(url)
            r.abort()
    page.route("**/*", route)
    return outside


def inject_axe(page) -> None:
    """axe-core into the page (its context must bypass the page's CSP), once per document."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(require_axe()))


def axe_violations(page, impacts: tuple[str, ...] = ()) -> list[dict]:
    """axe-core's violations of the page as it is now; only those of ``impacts`` when given."""
    inject_axe(page)
    found = page.evaluate(AXE_JS)
    return [v for v in found if not impacts or v["impact"] in impacts]


def wait_until(condition: Callable[[], bool], timeout: float = 60.0) -> bool:
    """Whether ``condition()`` comes to hold within ``timeout`` seconds, asked every tenth of a second
    (what the server does after the page has its answer, a journal note, takes a moment)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def wait_text(page, text: str, timeout: float = 120_000) -> None:
    """Until ``text`` is shown somewhere in the page (Bokeh renders inside shadow roots, which
    Playwright's text selectors pierce)."""
    page.get_by_text(text, exact=False).filter(visible=True).first.wait_for(state="visible", timeout=timeout)


def imports_listed(page, file_name: str) -> str:
    """The Importy tab opened (it is made on first opening): the text of its table once a row names
    ``file_name`` (the dry run's summary names the file too, on the Import tab)."""
    page.get_by_text("Importy", exact=True).first.click()
    table = page.locator("table").filter(has_text=file_name).filter(has_text="Kto").filter(visible=True).first
    table.wait_for(state="visible", timeout=120_000)
    return table.inner_text()


COMPLETIONS_JS = """(title) => {
    const found = [];
    for (const doc of window.Bokeh.documents)
        for (const model of doc.all_models)
            if (model.title === title && Array.isArray(model.completions)) found.push(...model.completions);
    return found;
}"""


def completions(page, label: str) -> list[str]:
    """Everything the autocomplete box labelled ``label`` may offer: the list the page was given
    (read from the page's Bokeh model, not from what a few typed keys happen to show)."""
    return page.evaluate(COMPLETIONS_JS, label)


def check_survey(page, rspo: int | str, export: Path) -> None:
    """On the Import tab: pick the school by its RSPO number, drop ``export``, press „Sprawdź” once the
    whole file has arrived (the button waits for it)."""
    page.get_by_text("Import", exact=True).first.click()
    page.get_by_label("Placówka", exact=True).press_sequentially(str(rspo), delay=20)  # the list follows keys
    page.get_by_text(f"(RSPO {rspo})").first.click()
    page.locator("input[type=file]").set_input_files(str(export))
    check = page.get_by_role("button", name="Sprawdź (bez zapisu)")
    check.and_(page.locator(":enabled")).wait_for(timeout=60_000)
    check.click()


# --------------------------------------------------------------------------- the team's logins

SECRET = "s" * 48  # the tests' cookie secret, so that a test can forge and age cookies
PASSWORDS = {"anna": "anna-hasło-123456", "rita": "rita-hasło-123456", "olek": "olek-hasło-123456"}
ROLES = {"anna": "KPP-BOCHNIA", "rita": "zpb_reader", "olek": "zpb_analyst"}  # a coordinator, the reader, an analyst
EDITION = "2025/2026"


def add_users(path: Path) -> Path:
    """The users file of :data:`PASSWORDS`, made by `zpb users add` (the password on standard input)."""
    for login, password in PASSWORDS.items():
        run = subprocess.run([*ZPB, "users", "add", login, "--role", ROLES[login], "--file", str(path),
                              "--password-stdin"], input=password + "\n", capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr
    return path


@contextlib.contextmanager
def password_app(db_url: str, users: Path, tmp: Path, *extra: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """``zpb serve --auth password`` on ``db_url`` with the tests' users and cookie secret (``env``:
    more of the server's environment)."""
    (tmp / "secret").write_text(SECRET)
    with zpb_serve(["--db", db_url, "--auth", "password", "--users", str(users), "--insecure-cookies",
                    "--cookie-secret-file", str(tmp / "secret"), *extra], tmp, env) as url:
        yield url


def log_in(page, app: str, login: str, password: str | None = None) -> None:
    """Through the login form (the right password unless ``password`` is given)."""
    page.goto(app + "/")
    page.get_by_label("Login").fill(login)
    page.get_by_label("Hasło").fill(password or PASSWORDS[login])
    page.get_by_role("button", name="Zaloguj").click()


def cleared_school(owner: str, county: str) -> tuple[int, str]:
    """(RSPO number, name) of a school of ``county`` taking part in the edition, its students'
    baseline responses of the edition cleared (by the owner) so that a new export for them is the only one."""
    import psycopg

    with psycopg.connect(owner) as con:
        iid, rspo, name = con.execute(
            "SELECT i.id, i.rspo, i.name FROM institutions i JOIN institution_kinds k ON k.code = i.kind "
            "WHERE i.county = %s AND i.rspo IS NOT NULL AND k.exists_to IS NULL AND i.closed_year IS NULL "
            "AND k.family = 'school' AND EXISTS (SELECT 1 FROM participation p WHERE p.institution_id = i.id "
            "AND p.joined_edition <= %s AND (p.left_edition IS NULL OR p.left_edition >= %s)) ORDER BY i.id LIMIT 1",
            (county, EDITION, EDITION)).fetchone()
        con.execute("DELETE FROM survey_responses WHERE institution_id = %s AND edition = %s AND grp = 'students' "
                    "AND wave = 'baseline'", (iid, EDITION))
        return rspo, name


def open_desk(page, app: str, login: str, lang: str = "pl") -> None:
    """Logged in as ``login`` (the page in ``lang``), „Mój powiat” opened and read."""
    log_in(page, app, login)
    if lang == "en":
        page.goto(app + "/?lang=en")
    wait_text(page, "Placówek:" if lang == "pl" else "Institutions:")
    page.get_by_text("Mój powiat" if lang == "pl" else "My county", exact=True).first.click()
    wait_text(page, "Placówki w tabeli:" if lang == "pl" else "Institutions in the table:")
