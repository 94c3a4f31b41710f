"""The web app under a bounded load on loopback: 20 coordinators at once, each logging in, opening the
school list, dry-running a 500-row survey export, saving it and listing the unit's imports, in the
real `zpb serve --auth password` (a process of its own, once with --processes 1 and once with 2).

    nice .venv/bin/python benchmarks/bench_serve.py [--users 20] [--rows 500] [--scale 1] [--processes 1 2]
                                                    [--client protocol|browser] [--alone 3] [--profile FILE]
                                                    [--scenario imports|desk]

What it starts itself: a PostgreSQL server (tests/support/pg_server.py), a `zpb demo --scale 1`
database there (KMP Kraków, the largest unit, then lists 470 institutions; the tests' scale 0.1
would give it 47, too few to load the list and the school picker as a city's unit does),
`zpb db roles --web-login web_app`, the users
(`zpb users add`: coordinators of eight units, six of them KMP Kraków's) and, per user, a Google
Forms export of its own school of its unit (tests/support/surveys.py). Each run works on a fresh
copy of that database.

Two kinds of client. `--client protocol` (the default): each user is a tab without a browser
(bokeh_tab.py), which sends the HTTP requests and websocket messages Bokeh's JavaScript sends for
the same clicks; what is timed is the server's answer, with a few ms of client CPU per action — the
server's own times. `--client browser`: each user a context of Debian's Chromium driven by
Playwright — the times as a person sees them, but 20 browsers on the server's two cores take most
of the CPU themselves (measured: about nine tenths), so every time is an upper bound.

Per action it prints n, p50, p95 and max of the 20, the same action of one user alone (the median of
--alone passes in the same run, before the 20) and p95(20) / alone. The actions, each from the click
that starts it: "login" (the login form submitted → its redirect: the password's argon2 check), "school list"
(the app's page requested → the list's count shown), "upload"
(the file given to the drop zone → „Sprawdź” enabled: the file has reached the server), "dry run"
(„Sprawdź” → the summary), "save" („Zapisz” → „Zapisano”), "imports list" („Importy” → the table
naming the file; the tab is built when first opened). Targets (the issue): p95 < 1 s for pages
(school list, imports list) and < 2 s for a dry run;
the upload and the save are held to the dry run's. Memory: the RSS of the serve process (with
--processes 2 the parent and its workers, summed: shared pages count twice) before the users, once
all 20 are logged in, and its peak; (all logged in − before) / 20 is the memory per session.
The CPU time of zpb serve, of PostgreSQL (its ended backends too) and of the clients per action of
the user alone, and over the 20, says how much of a time is work and how much waiting for a core.

`--scenario desk`: the coordinator's desk instead. All the users are KMP Kraków's (the largest unit:
470 institutions at scale 1), each logging in and opening „Mój powiat” ("desk": the tab chosen → its
table's count shown), while a build of the unit's reports (its county's and schools', HTML and
PDF) runs as the web app runs it: a job of the reports folder, its runner niced. First one user
opens it once after the server starts ("desk, first": computed from the database), then the users
alone, then the 20: they log in at once, and once all have the app's page, open the desk at once (the
desk kept per data version). Target: p95 < 1 s. The script lowers its own priority by 5 once the
server runs, so that its clients' CPU (a tab's parsing of the desk's document is about a quarter of
a second) does not come before the server's. The build must still
be running when the last user's desk is shown (it is cancelled then), else the run failed.

Chromium raises its own processes' priority; they are put back to the script's niceness, so that
under `nice` they do not come before the server. Afterwards the
database must hold one new import per pass, each of --rows responses for its school, recorded for
its person in its unit: a run that silently failed measures nothing, so any failure ends the script
with status 1. --profile runs the server (one process) under pyinstrument: where its event loop,
which builds every page and handles every websocket message, spends its time.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]  # the tests' PostgreSQL server, exports and browser flags

from support.browser import CHROMIUM_FLAGS  # noqa: E402
from support.pg_server import Server, find_bindir  # noqa: E402
from support.surveys import answers, write_google_csv  # noqa: E402
from support.web import ZPB, free_port, wait_listening  # noqa: E402
from zpb_lib.batch.pdf.chromium import chromium_executable  # noqa: E402
from zpb_lib.reference import reference  # noqa: E402
from zpb_lib.services.lookups import current_edition  # noqa: E402

WEB_LOGIN = "web_app"
# Whose coordinators log in, in turn: KMP Kraków (the largest list) three times in ten.
UNITS = ["KMP-KRAKOW", "KMP-TARNOW", "KMP-KRAKOW", "KMP-NOWY-SACZ", "KPP-KRAKOW", "KMP-KRAKOW", "KPP-NOWY-TARG",
         "KPP-WADOWICE", "KPP-BOCHNIA", "KPP-OSWIECIM"]
ALONE_UNIT = "KMP-KRAKOW"  # the user alone: the largest list, the worst case of the 20
ACTIONS = ["login", "school list", "upload", "dry run", "save", "imports list"]
TARGETS = {"login": 1.0, "school list": 1.0, "upload": 2.0, "dry run": 2.0, "save": 2.0, "imports list": 1.0}
DESK_ACTIONS = ["login", "desk"]
TARGETS.update({"desk": 1.0, "desk, first": float("inf")})
TIMEOUT_MS = 300_000  # an action that takes longer has failed, whatever the load


@dataclass
class User:
    login: str
    unit: str
    rspo: str = ""
    export: Path | None = None
    password: str = field(default_factory=lambda: secrets.token_urlsafe(12))

    @property
    def file_name(self) -> str:
        return self.export.name if self.export else ""


@dataclass
class Pass:
    """One user's way through the app: the seconds of each action, the import it stored."""
    user: User
    seconds: dict[str, float] = field(default_factory=dict)
    # CPU seconds per action (alone only) of zpb serve, PostgreSQL and the browsers
    cpu: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    import_id: int | None = None
    error: str = ""


# --------------------------------------------------------------------------- set-up

def zpb(*args: str, stdin: str | None = None) -> None:
    run = subprocess.run([*ZPB, *args], input=stdin, capture_output=True, text=True, cwd=ROOT)
    if run.returncode != 0:
        raise SystemExit(f"zpb {' '.join(args[:2])} failed:\n{run.stdout}{run.stderr}")


def make_users(n: int, alone: int) -> tuple[list[User], list[User]]:
    crowd = [User(f"koord{i + 1:02d}", UNITS[i % len(UNITS)]) for i in range(n)]
    solo = [User(f"sam{i + 1}", ALONE_UNIT) for i in range(alone)]
    return crowd, solo


def add_users(users: list[User], path: Path) -> None:
    for u in users:
        zpb("users", "add", u.login, "--role", u.unit, "--file", str(path), "--password-stdin", stdin=u.password + "\n")


def pick_schools(owner: str, users: list[User], edition: str) -> None:
    """For each user a school of its unit taking part in the edition, its own; the students'
    baseline responses of the edition cleared there, so that the new export is the only one."""
    taken: dict[str, int] = {}
    with psycopg.connect(owner) as con:
        for u in users:
            k = taken.get(u.unit, 0)
            taken[u.unit] = k + 1
            row = con.execute(
                "SELECT i.id, i.rspo FROM institutions i JOIN institution_kinds k ON k.code = i.kind "
                "JOIN counties c ON c.teryt = i.county WHERE c.police_unit = %s AND i.rspo IS NOT NULL "
                "AND k.exists_to IS NULL AND i.closed_year IS NULL AND k.family = 'school' AND EXISTS "
                "(SELECT 1 FROM participation p WHERE p.institution_id = i.id AND p.joined_edition <= %s "
                "AND (p.left_edition IS NULL OR p.left_edition >= %s)) ORDER BY i.id LIMIT 1 OFFSET %s",
                (u.unit, edition, edition, k)).fetchone()
            if row is None:
                raise SystemExit(f"{u.unit} has fewer than {k + 1} schools taking part in {edition}: "
                                 "a larger --scale, or fewer users")
            con.execute("DELETE FROM survey_responses WHERE institution_id = %s AND edition = %s "
                        "AND grp = 'students' AND wave = 'baseline'", (row[0], edition))
            u.rspo = str(row[1])


def list_sizes(owner: str) -> dict[str, int]:
    """The number of institutions each unit's list should show (its counties' institutions)."""
    with psycopg.connect(owner) as con:
        return dict(con.execute("SELECT c.police_unit, COUNT(*) FROM institutions i JOIN counties c "
                                "ON c.teryt = i.county GROUP BY c.police_unit").fetchall())


def write_exports(users: list[User], rows: int, folder: Path) -> None:
    ref = reference()
    for i, u in enumerate(users):
        u.export = write_google_csv(folder / f"ankieta-{u.login}.csv", ref, "students",
                                    answers(ref, "students", rows, seed=100 + i))


@contextlib.contextmanager
def serve(args: list[str], log: Path, profile: Path | None = None) -> Iterator[tuple[str, int]]:
    """`zpb serve ARGS` as its own process group: (its URL, its process id); stopped after. With
    ``profile``, under pyinstrument (its main thread: the event loop), whose report Ctrl-C writes."""
    port = free_port()
    command = [*ZPB, "serve", *args, "--port", str(port)]
    if profile is not None:
        command = [sys.executable, "-m", "pyinstrument", "-r", "text", "--show-all", "-o", str(profile), *command[1:]]
    with open(log, "wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True)
    try:
        wait_listening(port, proc, log)
        yield f"http://localhost:{port}", proc.pid
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGINT if profile else signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


# --------------------------------------------------------------------------- memory

def rss_mb(pid: int) -> float:
    """The resident memory of ``pid`` and its descendants (the workers of --processes 2), in MB."""
    try:
        import psutil
    except ImportError:
        return _proc_rss_kb(pid) / 1024
    proc = psutil.Process(pid)
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += p.memory_info().rss
    return total / 2 ** 20


def cpu_seconds(pid: int) -> float:
    """The CPU time (user + system, every thread) ``pid`` and its descendants have used so far,
    those that have ended too (PostgreSQL's backend of a connection ends with it)."""
    return sum(_proc_cpu(p) for p in _tree(pid)) + _proc_cpu(pid, ended_children=True)


def cpu_meter(serve: int, postmaster: int) -> Callable[[], tuple[float, float, float]]:
    """CPU seconds so far of zpb serve, of PostgreSQL and of the clients (this script with its other
    descendants: Playwright's driver and Chromium, or the tabs without a browser)."""
    def read() -> tuple[float, float, float]:
        server = _tree(serve)
        browsers = _tree(os.getpid()) - server
        return (sum(map(_proc_cpu, server)), cpu_seconds(postmaster), sum(map(_proc_cpu, browsers)))
    return read


def _proc_cpu(pid: int, ended_children: bool = False) -> float:
    """utime + stime of ``pid``, or (``ended_children``) of its children that have ended and been waited for."""
    with contextlib.suppress(OSError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        first = 13 if ended_children else 11  # cutime, cstime / utime, stime
        return (int(fields[first]) + int(fields[first + 1])) / os.sysconf("SC_CLK_TCK")
    return 0.0


def _tree(pid: int) -> set[int]:
    """``pid`` and its descendants, by the PPid of /proc/*/status."""
    parents: dict[int, int] = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        with contextlib.suppress(OSError, KeyError, ValueError):
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
            parents[int(status.parent.name)] = int(fields["PPid"])
    tree, frontier = {pid}, [pid]
    while frontier:
        kids = [c for c, p in parents.items() if p in frontier]
        tree.update(kids)
        frontier = kids
    return tree


def _proc_rss_kb(pid: int) -> int:
    """Without psutil: VmRSS of /proc/PID/status, over the process tree."""
    total = 0
    for p in _tree(pid):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total


def browsers_at_our_priority() -> None:
    """Chromium raises its own processes' priority (as root it may: its browser process at nice −8
    under `nice`): brought back to this script's niceness, so that the browsers do not take the
    cores from the server ahead of it."""
    try:
        import psutil
    except ImportError:
        return
    mine = os.getpriority(os.PRIO_PROCESS, 0)
    for p in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if p.nice() < mine:
                p.nice(mine)


async def keep_browsers_at_our_priority(period: float = 0.5) -> None:
    while True:  # new renderers come with each context
        browsers_at_our_priority()
        await asyncio.sleep(period)


class Meter:
    """The server's RSS at named moments and its peak (sampled meanwhile); its CPU time while the users ran."""

    def __init__(self, pid: int):
        self.pid, self.at, self.peak = pid, {}, 0.0
        # the CPU seconds of zpb serve, PostgreSQL and the browsers while the users ran, and their span
        self.crowd_cpu, self.crowd_wall = (0.0, 0.0, 0.0), 0.0
        self.build_progress = ""  # --scenario desk: how far the build running beside the users got

    def take(self, name: str) -> float:
        self.at[name] = rss_mb(self.pid)
        self.peak = max(self.peak, self.at[name])
        return self.at[name]

    async def sample(self, period: float = 0.25) -> None:
        while True:
            self.peak = max(self.peak, rss_mb(self.pid))
            await asyncio.sleep(period)


# --------------------------------------------------------------------------- one user

async def shown(page, text: str) -> None:
    await page.get_by_text(text, exact=False).filter(visible=True).first.wait_for(state="visible", timeout=TIMEOUT_MS)


async def outcome(page, ok: str) -> str:
    """Until the import's answer shows: ``ok``'s text, or the refusal (raised, with its text)."""
    answer = page.get_by_text(ok, exact=False).or_(page.locator(".zpb-refused")).filter(visible=True).first
    await answer.wait_for(state="visible", timeout=TIMEOUT_MS)
    text = await answer.inner_text()
    if ok not in text:
        raise RuntimeError(f"refused: {text}")
    return text


def stopwatch(done: Pass, meter: Callable[[], tuple[float, float, float]] | None):
    """(begin, end(action)): the seconds of each action into ``done``, and with ``meter`` the CPU
    time each process spent on it."""
    t, c = 0.0, (0.0, 0.0, 0.0)

    def begin() -> None:
        nonlocal t, c
        if meter:
            c = meter()
        t = time.perf_counter()

    def end(action: str) -> None:
        done.seconds[action] = time.perf_counter() - t
        if meter:
            done.cpu[action] = tuple(b - a for a, b in zip(c, meter()))
    return begin, end


async def walk(browser, url: str, user: User, expected_list: int, start: asyncio.Barrier | None = None,
               logged_in=None, meter: Callable[[], tuple[float, float, float]] | None = None) -> tuple[Pass, object]:
    """One user's way through the app in a context of its own, left open (its session lives on);
    with ``meter`` (:func:`cpu_meter`), the CPU time each process spent on each action too."""
    done = Pass(user)
    begin, end = stopwatch(done, meter)

    ctx = await browser.new_context(viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(TIMEOUT_MS)  # a click that navigates waits for the server's answer too
    page = await ctx.new_page()
    action = "login page"
    try:
        await page.goto(url + "/")
        await page.get_by_label("Login").fill(user.login)
        await page.get_by_label("Hasło").fill(user.password)
        if start is not None:
            await start.wait()
        action = ACTIONS[0]
        begin()
        await page.get_by_role("button", name="Zaloguj").click()
        await page.wait_for_url(lambda u: "/login" not in u, wait_until="commit")
        end(action)
        action = ACTIONS[1]
        begin()
        await shown(page, "Placówek:")
        end(action)
        if logged_in is not None:
            logged_in()
            logged_in = None
        count = await page.get_by_text("Placówek:").first.inner_text()
        if not count.startswith(f"Placówek: {expected_list} "):
            raise RuntimeError(f"{user.unit}'s list shows „{count}”, not its {expected_list} institutions")
        action = "picking the school"
        await page.get_by_text("Import", exact=True).first.click()
        await page.get_by_label("Placówka", exact=True).press_sequentially(user.rspo, delay=20)
        await page.get_by_text(f"(RSPO {user.rspo})").first.click()
        action = ACTIONS[2]
        begin()
        await page.locator("input[type=file]").set_input_files(str(user.export))
        check = page.get_by_role("button", name="Sprawdź (bez zapisu)")
        await check.and_(page.locator(":enabled")).wait_for(timeout=TIMEOUT_MS)
        end(action)
        action = ACTIONS[3]
        begin()
        await check.click()
        await outcome(page, "Po zapisaniu w bazie znajdzie się")
        end(action)
        action = ACTIONS[4]
        begin()
        await page.get_by_role("button", name="Zapisz").click()
        saved = await outcome(page, "Zapisano jako import nr")
        end(action)
        done.import_id = int(re.search(r"import nr (\d+)", saved).group(1))
        action = ACTIONS[5]
        begin()
        await page.get_by_text("Importy", exact=True).first.click()
        await shown(page, user.file_name)
        end(action)
    except Exception as exc:  # noqa: BLE001 — every failure is reported with its user and action
        done.error = f"{user.login} ({user.unit}), {action}: {type(exc).__name__}: {str(exc).splitlines()[0]}"
        if logged_in is not None:  # the login failed: the sessions open are all there will be
            logged_in()
    return done, ctx


async def log_in_only(browser, url: str, user: User) -> None:
    """A login and the school list, not measured: the process's first page pays its imports."""
    ctx = await browser.new_context()
    ctx.set_default_timeout(TIMEOUT_MS)
    try:
        page = await ctx.new_page()
        await page.goto(url + "/")
        await page.get_by_label("Login").fill(user.login)
        await page.get_by_label("Hasło").fill(user.password)
        await page.get_by_role("button", name="Zaloguj").click()
        await shown(page, "Placówek:")
    finally:
        await ctx.close()


async def walk_tab(_browser, url: str, user: User, expected_list: int, start: asyncio.Barrier | None = None,
                   logged_in=None, meter: Callable[[], tuple[float, float, float]] | None = None) -> tuple[Pass, object]:
    """The same way through the app as :func:`walk`, by a :class:`bokeh_tab.Tab`: the requests and
    websocket messages a browser sends, timed from the first one sent to the server's answer in the
    document (no rendering: what the server alone takes)."""
    from bokeh_tab import Tab

    done = Pass(user)
    begin, end = stopwatch(done, meter)

    tab = Tab(url, timeout=TIMEOUT_MS / 1000)
    action = "login page"
    try:
        await tab.fetch("/login")
        if start is not None:
            await start.wait()
        action = ACTIONS[0]
        begin()
        await tab.log_in(user.login, user.password)
        end(action)
        action = ACTIONS[1]
        begin()
        await tab.open("/")
        count = await tab.until(lambda: re.search(r"Placówek: \d+ ", tab.text()))
        end(action)
        if logged_in is not None:
            logged_in()
            logged_in = None
        if not count.group(0) == f"Placówek: {expected_list} ":
            raise RuntimeError(f"{user.unit}'s list shows „{count.group(0)}”, not its {expected_list} institutions")
        action = "picking the school"
        tabs = tab.find("Tabs", lambda m: True)
        await tab.set(tabs, "active", [p.title for p in tabs.tabs].index("Import"))
        school = await tab.until(lambda: tab.find_all("AutocompleteInput", lambda m: m.title == "Placówka"))
        school = school[0]
        label = next(o for o in school.completions if o.endswith(f"(RSPO {user.rspo})"))
        await tab.set(school, "value", label)
        await asyncio.sleep(0.2)  # Panel applies a property change after 50 ms; a person takes longer
        action = ACTIONS[2]
        check = tab.find("Button", lambda m: m.label == "Sprawdź (bez zapisu)")
        begin()
        await tab.upload(tab.find("FileDropper", lambda m: True), user.file_name, user.export.read_bytes(), "text/csv")
        await tab.until(lambda: not check.disabled)
        end(action)
        action = ACTIONS[3]
        begin()
        await tab.click(check)
        await tab.until_text("Po zapisaniu w bazie znajdzie się")
        end(action)
        action = ACTIONS[4]
        save = tab.find("Button", lambda m: m.label == "Zapisz")
        begin()
        await tab.click(save)
        await tab.until_text("Zapisano jako import nr")
        end(action)
        done.import_id = int(re.search(r"import nr (\d+)", tab.text()).group(1))
        action = ACTIONS[5]
        begin()
        await tab.set(tabs, "active", [p.title for p in tabs.tabs].index("Importy"))
        cell = f"<td>{user.file_name}</td>"
        await tab.until(lambda: cell in tab.text())
        end(action)
    except Exception as exc:  # noqa: BLE001 — every failure is reported with its user and action
        done.error = f"{user.login} ({user.unit}), {action}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        if logged_in is not None:
            logged_in()
    return done, tab


async def walk_desk(_browser, url: str, user: User, expected_list: int, start: asyncio.Barrier | None = None,
                    logged_in=None, meter: Callable[[], tuple[float, float, float]] | None = None,
                    first: bool = False) -> tuple[Pass, object]:
    """A coordinator logs in and opens „Mój powiat” (``first``: timed as "desk, first"), by a
    :class:`bokeh_tab.Tab`; ``expected_list``: the rows the desk's table must count."""
    from bokeh_tab import Tab

    done = Pass(user)
    begin, end = stopwatch(done, meter)
    tab = Tab(url, timeout=TIMEOUT_MS / 1000)
    action = "login page"
    try:
        await tab.fetch("/login")
        if start is not None:
            await start.wait()
        action = "login"
        begin()
        await tab.log_in(user.login, user.password)
        end(action)
        await tab.open("/")
        await tab.until(lambda: "Placówek:" in tab.text())
        if logged_in is not None:
            logged_in()
            logged_in = None
        if start is not None:  # the desk is timed with every user opening it at the same moment
            await start.wait()
        action = "desk, first" if first else "desk"
        tabs = tab.find("Tabs", lambda m: True)
        begin()
        await tab.set(tabs, "active", [p.title for p in tabs.tabs].index("Mój powiat"))
        count = await tab.until(lambda: re.search(r"Placówki w tabeli: (\d+) z (\d+)", tab.text()))
        end(action)
        if int(count.group(2)) != expected_list:
            raise RuntimeError(f"the desk counts {count.group(2)} institutions, not {expected_list}")
    except Exception as exc:  # noqa: BLE001 — every failure is reported with its user and action
        done.error = f"{user.login} ({user.unit}), {action}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        if logged_in is not None:
            logged_in()
    return done, tab


def desk_rows(owner: str, unit: str, edition: str) -> int:
    """The rows of the unit's desk: its counties' institutions that exist in the edition or take part."""
    from zpb_lib.services.due import desk

    return len(desk(owner, unit=unit, edition=edition).rows)


@contextlib.contextmanager
def unit_build(owner: str, out: Path, unit: str, edition: str) -> Iterator[str]:
    """A build of ``unit``'s county and school reports, HTML and PDF, run as the web app runs one
    (a job of ``out``, its own runner process); yields the job's id; cancelled after."""
    from zpb_lib.services import jobs
    from zpb_lib.services.builds import BuildOptions

    counties = tuple(t for t, c in reference().counties.items() if c.police_unit == unit)
    job = jobs.submit(BuildOptions(db=owner, edition=edition, out=str(out), formats=("html", "pdf"),
                                   only=("county", "school"), counties=counties, progress=False),
                      login="bench", role="zpb_analyst")
    jobs.run_next(out, edition)
    try:
        yield job.id
    finally:
        jobs.cancel(out, job.id, "bench", "zpb_analyst")
        deadline = time.monotonic() + 300
        while jobs.get(out, job.id).active and time.monotonic() < deadline:
            time.sleep(0.2)


# --------------------------------------------------------------------------- one run

@dataclass
class Run:
    processes: int
    crowd: list[Pass]
    alone: list[Pass]
    memory: Meter
    checked: list[str]  # what the database check found wrong (empty: all well)


async def drive(url: str, pid: int, postmaster: int, processes: int, crowd: list[User], solo: list[User],
                sizes: dict[str, int], client: str) -> tuple[list[Pass], list[Pass], Meter]:
    """The users alone, then all at once, through browsers or (``client`` "protocol") tabs without one."""
    if client == "protocol":
        return await _drive(url, pid, postmaster, processes, crowd, solo, sizes, None, walk_tab)
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium_executable(shell=False), headless=True,
                                          args=CHROMIUM_FLAGS)
        niced = asyncio.ensure_future(keep_browsers_at_our_priority())
        try:
            return await _drive(url, pid, postmaster, processes, crowd, solo, sizes, browser, walk)
        finally:
            niced.cancel()
            await browser.close()


async def _drive(url: str, pid: int, postmaster: int, processes: int, crowd: list[User], solo: list[User],
                 sizes: dict[str, int], browser, walker) -> tuple[list[Pass], list[Pass], Meter]:
    memory = Meter(pid)
    meter = cpu_meter(pid, postmaster)
    memory.take("at start")
    for _ in range(2 * processes):  # each worker a page or two before anything is measured
        if browser is None:
            await warm_tab(url, solo[0])
        else:
            await log_in_only(browser, url, solo[0])
    alone = []
    for u in solo:
        done, ctx = await walker(browser, url, u, sizes[u.unit], meter=meter)
        await ctx.close()
        alone.append(done)
    memory.take("before the users")
    start = asyncio.Barrier(len(crowd))
    opened = 0

    def logged_in() -> None:
        nonlocal opened
        opened += 1
        if opened == len(crowd):
            memory.take("all logged in")
    sampler = asyncio.ensure_future(memory.sample())
    cpu, wall = meter(), time.perf_counter()
    results = await asyncio.gather(*(walker(browser, url, u, sizes[u.unit], start, logged_in) for u in crowd))
    memory.take("all done")
    memory.crowd_cpu = tuple(b - a for a, b in zip(cpu, meter()))
    memory.crowd_wall = time.perf_counter() - wall
    sampler.cancel()
    for _, ctx in results:
        await ctx.close()
    return [r for r, _ in results], alone, memory


async def warm_tab(url: str, user: User) -> None:
    """A login and the school list without a browser, not measured (see :func:`log_in_only`)."""
    from bokeh_tab import Tab

    tab = Tab(url, timeout=TIMEOUT_MS / 1000)
    try:
        await tab.log_in(user.login, user.password)
        await tab.open("/")
        await tab.until(lambda: "Placówek:" in tab.text())
    finally:
        await tab.close()


def check_database(owner: str, passes: list[Pass], rows: int, before: int) -> list[str]:
    """What the database holds against what each pass said it stored; the problems found."""
    problems = [p.error for p in passes if p.error]
    with psycopg.connect(owner) as con:
        new = con.execute("SELECT COUNT(*) FROM imports WHERE id > %s", (before,)).fetchone()[0]
        if new != len(passes):
            problems.append(f"{new} new imports in the database, not {len(passes)}")
        for p in passes:
            if p.import_id is None:
                continue
            row = con.execute(
                "SELECT m.unit, m.imported_by, m.person, m.file_name, COUNT(r.*), MIN(i.rspo), MAX(i.rspo) "
                "FROM imports m LEFT JOIN survey_responses r ON r.import_id = m.id "
                "LEFT JOIN institutions i ON i.id = r.institution_id WHERE m.id = %s "
                "GROUP BY m.unit, m.imported_by, m.person, m.file_name", (p.import_id,)).fetchone()
            want = (p.user.unit, WEB_LOGIN, p.user.login, p.user.file_name, rows, int(p.user.rspo), int(p.user.rspo))
            if row != want:
                problems.append(f"import {p.import_id} of {p.user.login}: {row}, not {want}")
    return problems


def last_import(owner: str) -> int:
    with psycopg.connect(owner) as con:
        return con.execute("SELECT COALESCE(MAX(id), 0) FROM imports").fetchone()[0]


def run_once(server: Server, template: str, processes: int, crowd: list[User], solo: list[User],
             users_file: Path, secret: Path, rows: int, sizes: dict[str, int], tmp: Path, client: str,
             profile: Path | None = None) -> Run:
    name = f"run_p{processes}"
    owner = server.create_database(name, template)
    zpb("db", "roles", "--db", owner, "--web-login", WEB_LOGIN)
    before = last_import(owner)
    web = server.url(name, user=WEB_LOGIN)
    args = ["--db", web, "--auth", "password", "--users", str(users_file), "--insecure-cookies",
            "--cookie-secret-file", str(secret), "--processes", str(processes)]
    log = tmp / f"serve-p{processes}.log"
    with serve(args, log, profile) as (url, pid):
        postmaster = int((server.data / "postmaster.pid").read_text().split()[0])
        passes, alone, memory = asyncio.run(drive(url, pid, postmaster, processes, crowd, solo, sizes, client))
    problems = check_database(owner, alone + passes, rows, before)
    return Run(processes, passes, alone, memory, problems)


def run_desk(server: Server, template: str, processes: int, crowd: list[User], solo: list[User],
             users_file: Path, secret: Path, tmp: Path, edition: str) -> Run:
    """The desk scenario: the server, the unit's build running beside it, the users."""
    from zpb_lib.services import jobs

    name = f"desk_p{processes}"
    owner = server.create_database(name, template)
    zpb("db", "roles", "--db", owner, "--web-login", WEB_LOGIN)
    web = server.url(name, user=WEB_LOGIN)
    out = tmp / f"reports-p{processes}"
    args = ["--db", web, "--auth", "password", "--users", str(users_file), "--insecure-cookies",
            "--cookie-secret-file", str(secret), "--processes", str(processes), "--reports", str(out)]
    rows = {ALONE_UNIT: desk_rows(owner, ALONE_UNIT, edition)}
    problems = []
    with serve(args, tmp / f"serve-desk-p{processes}.log") as (url, pid):
        postmaster = int((server.data / "postmaster.pid").read_text().split()[0])
        with unit_build(owner, out, ALONE_UNIT, edition) as job_id:
            deadline = time.monotonic() + 120
            while jobs.get(out, job_id).state != "running" and time.monotonic() < deadline:
                time.sleep(0.1)
            os.nice(5)  # the clients after the server (its niceness stays the script's first)
            passes, alone, memory = asyncio.run(drive_desk(url, pid, postmaster, processes, crowd, solo, rows))
            job = jobs.get(out, job_id)
            if job.state != "running":
                problems.append(f"the build was {job.state} before the users were done, not running: "
                                f"{job.error or ''} (see {out / '.jobs'})")
            else:
                memory.build_progress = f"{job.progress.done} of {job.progress.planned} reports built meanwhile"
    problems += [p.error for p in alone + passes if p.error]
    return Run(processes, passes, alone, memory, problems)


async def drive_desk(url: str, pid: int, postmaster: int, processes: int, crowd: list[User], solo: list[User],
                     rows: dict[str, int]) -> tuple[list[Pass], list[Pass], Meter]:
    """One user opens the desk once (computed: "desk, first"), then as :func:`_drive` does."""
    first, tab = await walk_desk(None, url, solo[0], rows[solo[0].unit], meter=cpu_meter(pid, postmaster), first=True)
    await tab.close()
    crowd_passes, alone, memory = await _drive(url, pid, postmaster, processes, crowd, solo, rows, None, walk_desk)
    alone[0].seconds.update(first.seconds)
    alone[0].cpu.update(first.cpu)
    if first.error:
        alone[0].error = alone[0].error or first.error
    return crowd_passes, alone, memory


# --------------------------------------------------------------------------- the figures

def report(run: Run, n: int, rows: int, client: str, actions: list[str] = ACTIONS) -> None:
    by = "browsers (Chromium)" if client == "browser" else "tabs without a browser (bokeh_tab.py)"
    what = (f"{rows}-row exports" if actions == ACTIONS else
            f"KMP Kraków's desk while its build runs ({run.memory.build_progress})")
    print(f"\nzpb serve --processes {run.processes}: {n} coordinators at once through {by}, {what} "
          f"(alone: one user, median of {len(run.alone)} passes before them)")
    print(f"  {'action':<20} {'n':>3} {'p50':>7} {'p95':>7} {'max':>7} {'alone':>7} {'p95/alone':>10} "
          f"{'CPU alone: serve':>17} {'PostgreSQL':>10} {'client':>8}  target (p95)")
    for action in actions:
        xs = [p.seconds[action] for p in run.crowd if action in p.seconds]
        solo = [p.seconds[action] for p in run.alone if action in p.seconds]
        if action == "desk, first" and solo:  # once, alone: no crowd to compare with
            print(f"  {action:<20} {1:>3} {'':>7} {'':>7} {'':>7} {solo[0]:>6.2f}s {'':>10} "
                  f"{run.alone[0].cpu[action][0]:>16.2f}s {run.alone[0].cpu[action][1]:>9.2f}s")
            continue
        if not xs:
            print(f"  {action:<20} {0:>3}  (no user got this far)")
            continue
        p50, p95 = np.percentile(xs, [50, 95])
        single = statistics.median(solo) if solo else float("nan")
        serve, db, browser = (statistics.median([p.cpu[action][i] for p in run.alone if action in p.cpu]
                                                or [float("nan")]) for i in range(3))
        verdict = "met" if p95 < TARGETS[action] else "MISSED"
        print(f"  {action:<20} {len(xs):>3} {p50:>6.2f}s {p95:>6.2f}s {max(xs):>6.2f}s {single:>6.2f}s "
              f"{p95 / single:>9.1f}× {serve:>16.2f}s {db:>9.2f}s {browser:>7.2f}s  "
              f"< {TARGETS[action]:g} s: {verdict}")
    alone_cpu = sum(statistics.median([p.cpu[a][0] for p in run.alone if a in p.cpu] or [0.0])
                    for a in actions if a != "desk, first")
    cores = os.cpu_count() or 1
    serve, db, browsers = run.memory.crowd_cpu
    print(f"  CPU while the {n} ran ({run.memory.crowd_wall:.0f} s): zpb serve {serve:.1f} s "
          f"({serve / max(run.memory.crowd_wall, 1e-9):.2f} of {cores} cores), PostgreSQL {db:.1f} s, "
          f"the clients {browsers:.1f} s; one user alone cost zpb serve "
          f"{alone_cpu:.2f} s, so {n} at once need ≥ {n * alone_cpu / cores:.1f} s on {cores} cores "
          "with nothing else")
    m = run.memory.at
    opened = sum(actions[-1] in p.seconds for p in run.crowd)
    per_session = (m.get("all logged in", float("nan")) - m["before the users"]) / max(opened, 1)
    workers = "the serve process" if run.processes == 1 else f"the serve process and its {run.processes} workers"
    print(f"  memory (RSS of {workers}): at start {m['at start']:.0f} MB, before the users "
          f"{m['before the users']:.0f} MB, all {opened} logged in {m.get('all logged in', float('nan')):.0f} MB, "
          f"all done {m['all done']:.0f} MB, peak {run.memory.peak:.0f} MB")
    print(f"  memory per session: (all logged in − before) / {opened} = {per_session:.1f} MB")
    if run.checked:
        print("  FAILED:\n    " + "\n    ".join(run.checked))
    elif actions == ACTIONS:
        print(f"  database: {len(run.crowd) + len(run.alone)} new imports, each of {rows} responses for its school, "
              "recorded for its person in its unit")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--rows", type=int, default=500, help="responses per export")
    ap.add_argument("--scale", type=float, default=1.0, help="`zpb demo --scale` (1: KMP Kraków lists 470)")
    ap.add_argument("--processes", type=int, nargs="+", default=[1, 2], help="a run per value of --processes")
    ap.add_argument("--client", choices=["protocol", "browser"], default="protocol",
                    help="protocol: each user a tab without a browser (the server's own times); "
                    "browser: Debian's Chromium through Playwright (the times as people see them, "
                    "with 20 browsers on the server's cores)")
    ap.add_argument("--alone", type=int, default=3, help="passes of the user alone (their median is the baseline)")
    ap.add_argument("--profile", type=Path, help="with --processes 1: run the server under pyinstrument "
                    "(pip install pyinstrument) and write its event loop's profile to this file")
    ap.add_argument("--scenario", choices=["imports", "desk"], default="imports",
                    help="imports: log in, list, upload, check, save, list imports; desk: KMP Kraków's "
                    "coordinators open „Mój powiat” while the unit's reports build")
    args = ap.parse_args()
    if args.scenario == "desk" and args.client != "protocol":
        ap.error("--scenario desk: with --client protocol")
    if args.profile and args.processes != [1]:
        ap.error("--profile: give --processes 1 (the profiler sees one process)")
    if args.client == "browser" and chromium_executable(shell=False) is None:
        print("Chromium is not installed (Debian: apt-get install chromium)")
        return 2
    bindir = find_bindir()
    if bindir is None:
        print("PostgreSQL is not installed (Debian: apt-get install postgresql)")
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="zpb-bench-serve-"))
    server = Server(bindir)
    failed = False
    try:
        server.start()
        server.admin(f"CREATE ROLE {WEB_LOGIN} LOGIN")
        template = "bench_template"
        url = server.create_database(template)
        t = time.perf_counter()
        zpb("demo", "--db", url, "--scale", f"{args.scale:g}")
        edition = current_edition().edition
        if args.scenario == "desk":
            return desk_scenario(server, template, args, tmp, edition, t)
        crowd, solo = make_users(args.users, args.alone)
        pick_schools(url, solo + crowd, edition)
        sizes = list_sizes(url)
        users_file = tmp / "users.json"
        add_users(solo + crowd, users_file)
        write_exports(solo + crowd, args.rows, tmp)
        secret = tmp / "cookie-secret"
        secret.write_text(secrets.token_urlsafe(48))
        units = sorted({u.unit for u in crowd})
        print(f"set-up in {time.perf_counter() - t:.0f} s: `zpb demo --scale {args.scale:g}` on PostgreSQL "
              f"(KMP Kraków lists {sizes.get('KMP-KRAKOW', 0)} institutions), {len(crowd)} coordinators of "
              f"{len(units)} units ({sum(u.unit == 'KMP-KRAKOW' for u in crowd)} of KMP Kraków), "
              f"exports of {args.rows} rows ({crowd[0].export.stat().st_size / 1024:.0f} KB), edition {edition}; "
              f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
        runs = []
        for processes in args.processes:
            run = run_once(server, template, processes, crowd, solo, users_file, secret, args.rows, sizes, tmp, args.client,
                           args.profile)
            report(run, len(crowd), args.rows, args.client)
            failed |= bool(run.checked)
            runs.append(run)
        if len(runs) == 2 and not failed:
            a, b = runs
            ratios = []
            for action in ACTIONS:
                pa, pb = (np.percentile([p.seconds[action] for p in r.crowd], 95) for r in (a, b))
                ratios.append(f"{action} {pb / pa:.2f}×")
            print(f"\np95 with --processes {b.processes} / with {a.processes}: " + ", ".join(ratios))
        return 1 if failed else 0
    finally:
        server.stop()
        if failed:
            print(f"\nthe server's logs are kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def desk_scenario(server: Server, template: str, args: argparse.Namespace, tmp: Path, edition: str, t: float) -> int:
    crowd = [User(f"koord{i + 1:02d}", ALONE_UNIT) for i in range(args.users)]
    solo = [User(f"sam{i + 1}", ALONE_UNIT) for i in range(args.alone)]
    users_file = tmp / "users.json"
    add_users(solo + crowd, users_file)
    secret = tmp / "cookie-secret"
    secret.write_text(secrets.token_urlsafe(48))
    print(f"set-up in {time.perf_counter() - t:.0f} s: `zpb demo --scale {args.scale:g}` on PostgreSQL, "
          f"{len(crowd)} coordinators of KMP Kraków, edition {edition}; {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f}")
    if len(args.processes) != 1:
        raise SystemExit("--scenario desk: one --processes value (the script lowers its own priority once)")
    failed = False
    for processes in args.processes:
        run = run_desk(server, template, processes, crowd, solo, users_file, secret, tmp, edition)
        report(run, len(crowd), 0, "protocol", ["login", "desk, first", "desk"])
        failed |= bool(run.checked)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
