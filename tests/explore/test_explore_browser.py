"""The explorer in a real JupyterLab, in headless Chromium: JupyterLab runs as a subprocess on
127.0.0.1 (a random free port, a token) over a temporary folder holding a copy of
notebooks/explore.ipynb; ZPB_DB points at the small demo database. The test runs all cells, waits
for the explorer, changes the county and sees the table follow; it saves a screenshot under
test-artifacts/. Every request other than to that server is recorded and aborted, and the server
and its kernel are shut down whatever happens.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from support.browser import Guard, artifact, browser, require_chromium
from zpb_lib.domain.labels import county_name

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "explore.ipynb"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def processes_mentioning(text: str) -> list[int]:
    """Process ids whose command line contains ``text`` (our kernels name our runtime folder)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmd:
            found.append(int(entry.name))
    return found


class JupyterLab:
    """A JupyterLab server of our own: started, waited for, and shut down with its kernels."""

    def __init__(self, root: Path, home: Path, env: dict[str, str]):
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.root = root
        self.runtime = home / "runtime"
        self.log_path = home / "jupyterlab.log"
        cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.open_browser=False",
               "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0",
               f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={root}",
               # Nothing leaves the machine: no news, no update check, no extension index.
               "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
               "--LabApp.extension_manager=readonly", "--ServerApp.terminals_enabled=False"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-root")  # CI runs as root
        full_env = dict(os.environ, **env, JUPYTER_CONFIG_DIR=str(home / "config"),
                        JUPYTER_RUNTIME_DIR=str(self.runtime), JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
                        JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"), IPYTHONDIR=str(home / "ipython"),
                        MPLBACKEND="Agg", PYTHONUNBUFFERED="1")
        full_env.pop("JUPYTER_TOKEN", None)
        # No "get Jupyter news?" prompt, and no news or update requests either.
        notes = home / "settings" / "@jupyterlab" / "apputils-extension"
        notes.mkdir(parents=True, exist_ok=True)
        (notes / "notification.jupyterlab-settings").write_text(
            json.dumps({"fetchNews": "false", "checkForUpdates": False}), encoding="utf-8")
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, cwd=root, env=full_env, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def api(self, path: str, method: str = "GET") -> bytes:
        req = urllib.request.Request(f"{self.url}{path}", method=method,
                                     headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.read()

    def wait_ready(self, timeout: float = 90) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with {self.proc.returncode}:\n{self.log_text()}")
            try:
                json.loads(self.api("/api/status"))
                return
            except (urllib.error.URLError, ConnectionError, json.JSONDecodeError, TimeoutError):
                time.sleep(0.5)
        raise TimeoutError(f"JupyterLab did not start within {timeout} s:\n{self.log_text()}")

    def log_text(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")[-4000:]

    def shutdown(self) -> list[int]:
        """Stop the server (its API first, then signals) and any kernel of ours still running;
        returns the ids of processes that had to be killed afterwards (should be none)."""
        if self.proc.poll() is None:
            try:
                self.api("/api/shutdown", method="POST")
            except Exception:
                pass
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGTERM)
                try:
                    self.proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    self._signal(signal.SIGKILL)
                    self.proc.wait(timeout=15)
        self.log.close()
        leftovers = processes_mentioning(str(self.runtime))
        for pid in leftovers:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return leftovers

    def _signal(self, sig: int) -> None:
        try:
            os.killpg(self.proc.pid, sig)  # the server's own process group (start_new_session)
        except ProcessLookupError:
            pass


@pytest.fixture(scope="module")
def lab(small_db, tmp_path_factory):
    require_chromium()
    root = tmp_path_factory.mktemp("lab-root")
    home = tmp_path_factory.mktemp("lab-home")
    shutil.copy(NOTEBOOK, root / NOTEBOOK.name)
    server = JupyterLab(root, home, {"ZPB_DB": str(small_db)})
    try:
        server.wait_ready()
        yield server
    finally:
        leftovers = server.shutdown()
        assert server.proc.poll() is not None, "the JupyterLab server is still running"
        assert not leftovers, f"processes of the test's kernels were left running: {leftovers}"


def test_explorer_in_jupyterlab(lab, small_db):
    from playwright.sync_api import expect

    import sqlite3

    con = sqlite3.connect(f"{small_db.resolve().as_uri()}?mode=ro", uri=True)
    edition = con.execute("SELECT edition FROM editions WHERE held = 1 ORDER BY start_year DESC LIMIT 1").fetchone()[0]
    ident = "COALESCE(CAST(i.rspo AS TEXT), i.polon)"  # the identifier people use
    taking_part = (f"SELECT i.id, i.name, i.county, {ident} FROM participation p JOIN institutions i "
                   "ON i.id = p.institution_id "
                   "WHERE p.joined_edition <= :e AND (p.left_edition IS NULL OR p.left_edition > :e) UNION "
                   f"SELECT i.id, i.name, i.county, {ident} FROM audits a JOIN institutions i ON i.id = a.institution_id "
                   "WHERE a.edition = :e")
    rows = con.execute(taking_part, {"e": edition}).fetchall()
    con.close()
    per_county: dict[str, set[str]] = {}
    for _, nm, c, _ in rows:
        per_county.setdefault(c, set()).add(nm)
    county = max(sorted(per_county), key=lambda c: len(per_county[c]))
    name = county_name(county)
    guard = Guard(allow=(f"{lab.url}/",))
    with browser() as ctx:
        guard.attach(ctx)
        page = ctx.new_page()
        page.set_viewport_size({"width": 1500, "height": 2200})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{lab.url}/lab/tree/{NOTEBOOK.name}?token={lab.token}", wait_until="domcontentloaded")
        # The notebook is open with its kernel ("Python (zpb)") idle.
        expect(page.locator(".jp-NotebookPanel .jp-Cell").first).to_be_visible(timeout=90_000)
        expect(page.get_by_text("Python (zpb) | Idle")).to_be_visible(timeout=90_000)
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        explorer = page.locator(".zpb-explorer")
        expect(explorer).to_be_visible(timeout=120_000)
        # The kernel runs with the test's runtime folder on its command line: what the
        # clean-up check looks for after shutdown.
        assert processes_mentioning(str(lab.runtime)), "no kernel process found for this server"
        table = explorer.locator(".zpb-x-table table.zpb-table")
        expect(table).to_be_visible(timeout=60_000)
        expect(table.locator("caption")).to_contain_text("całe województwo")
        page_size = min(20, len(rows))
        expect(table.locator("tbody tr")).to_have_count(page_size)
        before = table.locator("tbody tr th").all_inner_texts()
        # Change the county: the table follows (caption, rows: that county's institutions).
        explorer.locator(".zpb-x-county select").select_option(label=name)
        expect(table.locator("caption")).to_contain_text(name, timeout=30_000)
        expect(table.locator("tbody tr")).to_have_count(min(20, len(per_county[county])))
        after = table.locator("tbody tr th").all_inner_texts()
        assert set(after) <= per_county[county] and after != before, (after, before)
        # Each row names its institution by RSPO number / POL-on id, the one the database holds.
        expect(table.locator("thead th").nth(1)).to_have_text("RSPO / POL-on")
        idents = {nm: i for _, nm, c, i in rows if c == county}
        shown = table.locator("tbody tr td:first-of-type").all_inner_texts()
        assert [x.rstrip("*") for x in shown] == [idents[nm] for nm in after]
        expect(explorer.locator(".zpb-x-tiles")).to_contain_text(name)
        # The map tab draws the map with the county highlighted.
        explorer.get_by_role("tab", name="Mapa", exact=True).click()
        expect(explorer.locator(".zpb-x-map img")).to_have_attribute("alt", re.compile(re.escape(name)),
                                                                        timeout=30_000)
        explorer.get_by_role("tab", name="Placówki", exact=True).click()
        expect(table).to_be_visible()
        explorer.scroll_into_view_if_needed()
        shot = artifact("explore-jupyterlab.png")
        page.screenshot(path=str(shot), full_page=True)
        explorer.screenshot(path=str(artifact("explore-widget.png")))
        assert shot.stat().st_size > 10_000
        assert not [e for e in errors if "zpb" in e.lower()], errors
    assert guard.blocked == [], f"requests leaving the test server were made (and aborted): {guard.blocked}"
