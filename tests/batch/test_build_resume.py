"""Builds that survive Ctrl-C and crashes, write every file one way, and serve both languages.

All with real processes and real kernels. A test brings the build to a named phase with its
test-only pause points (:mod:`zpb_lib.core.hooks`: the build writes ``<phase>.reached`` and waits)
and waits on conditions — a marker file, the journal's records, processes gone — never on delays;
the deadlines below only turn a hang into a failure.
"""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from zpb_lib.domain import cube as cube_mod
from zpb_lib.core import files
from zpb_lib.cli import main

from support.builds import _kernels, _wait_gone

EDITION = "2025/2026"
ROOT = Path(__file__).resolve().parents[2]
HANG = 600  # seconds after which a wait is a failure, not a timing assumption
KRAKOW = "1261"  # 1 county report + about 10 institutions in the small demo database
BOCHNIA = "1201"  # 1 county report + a few


# ------------------------------------------------------------------ helpers

def _env(tag: str, pause: Path | None = None, at: tuple[str, ...] = ()) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZPB_TEST_PAUSE")}
    env["ZPB_TEST_TAG"] = tag
    if pause is not None:
        env["ZPB_TEST_PAUSE_DIR"] = str(pause)
        env["ZPB_TEST_PAUSE_AT"] = ",".join(at)
    return env


def _cmd(db: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "zpb_lib.cli", "build", "--db", str(db), "--edition", EDITION, "--out", str(out),
            "--format", "html", "--quiet", *extra]


def _start(cmd: list[str], env: dict[str, str], logs: Path) -> subprocess.Popen:
    logs.mkdir(parents=True, exist_ok=True)
    # Output to files, not pipes: a full pipe would stop the build, and nobody reads it meanwhile.
    return subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=open(logs / "stdout", "wb"),
                            stderr=open(logs / "stderr", "wb"), start_new_session=True)


def _wait_until(condition, proc: subprocess.Popen, what: str, logs: Path) -> None:
    deadline = time.monotonic() + HANG
    while not condition():
        if proc.poll() is not None:
            pytest.fail(f"the build ended ({proc.returncode}) before {what}:\n"
                        f"{(logs / 'stderr').read_text(errors='replace')[-3000:]}")
        if time.monotonic() > deadline:
            pytest.fail(f"no sign of {what} after {HANG} s")
        time.sleep(0.05)


def _finish(proc: subprocess.Popen) -> int:
    try:
        return proc.wait(timeout=HANG)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _hidden(folder: Path) -> list[Path]:
    """Hidden files anywhere under ``folder``: a build writes none but its temporary files."""
    return sorted(p for p in folder.rglob(".*") if p.is_file())


def _manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))


# ------------------------------------------------------------------ Ctrl-C

@pytest.mark.parametrize("phase", ["cube", "plan", "index"])
def test_ctrl_c_ends_130_at_every_phase(small_db, tmp_path, phase):
    """SIGINT to the build's process group (what Ctrl-C does) while the cube is half-way to disk
    (the workers warming their kernels meanwhile), after planning, and while the index is written:
    exit status 130, no worker or kernel left, no temporary file, and a manifest that says what was
    not built. (During execution: tests/batch/test_warm_build.py::test_no_kernel_left_after_ctrl_c.)"""
    tag, pause, out = uuid.uuid4().hex, tmp_path / "pause", tmp_path / "r"
    proc = _start(_cmd(small_db, out, "--county", KRAKOW, "--jobs", "2"), _env(tag, pause, (phase,)), tmp_path)
    _wait_until((pause / f"{phase}.reached").exists, proc, f"the {phase} phase", tmp_path)
    os.killpg(proc.pid, signal.SIGINT)
    assert _finish(proc) == 130, (tmp_path / "stderr").read_text(errors="replace")
    assert _wait_gone(tag) == []
    assert _hidden(out) == []
    folder = out / "2025-2026"
    if phase == "cube":  # nothing was planned yet: no cube, no manifest, the temporary cube gone
        assert sorted(p.name for p in folder.iterdir()) == []
        return
    m = _manifest(folder)
    statuses = Counter(r["status"] for r in m["reports"].values())
    assert m["summary"]["planned"] == sum(statuses.values()) == 9
    if phase == "plan":
        assert statuses == {"interrupted": 9} and m["summary"]["interrupted"] is True
        assert (folder / "index.html").exists()
    else:  # every report was built when Ctrl-C came: the index is still written, and the status is 130
        assert statuses == {"ok": 9} and m["summary"]["interrupted"] is False
        index = (folder / "index.html").read_text(encoding="utf-8")
        assert index.count(".html\">HTML") == 9
    assert not (folder / "journal.jsonl").exists()  # folded into the manifest


# ------------------------------------------------------------------ SIGKILL and resume

def test_killed_build_resumes_with_only_what_is_missing(small_db, tmp_path):
    """SIGKILL to the whole build (as a crash or power cut would end it) once three of twelve
    reports are journalled; the next build builds exactly the other nine — counted from its manifest
    and from the files' modification times — reuses the cube, and sweeps the temporary files a crash
    leaves, and only those."""
    tag, pause, out = uuid.uuid4().hex, tmp_path / "pause", tmp_path / "r"
    cmd = _cmd(small_db, out, "--county", KRAKOW, "--county", BOCHNIA, "--jobs", "2")
    proc = _start(cmd, _env(tag, pause, ("journal-3",)), tmp_path)
    _wait_until((pause / "journal-3.reached").exists, proc, "three journalled reports", tmp_path)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert _wait_gone(tag) == []  # kernels end when their worker is gone, even killed
    folder = out / "2025-2026"
    assert not (folder / "manifest.json").exists()  # the killed build never wrote it
    records = [json.loads(line) for line in (folder / "journal.jsonl").read_text(encoding="utf-8").splitlines()]
    done = {r["stem"] for r in records if r["t"] == "report" and r["entry"]["status"] == "ok"}
    assert len(done) == 3
    # What a crash leaves half-written — zpb's temporaries — and files that are not the build's, which
    # must stay: among them names older zpb versions gave their temporaries, which cannot be told from
    # a user's files, and a temporary in a folder that is not the build's.
    planted = [folder / files.temp_name("powiat-1261-krakow.html"), folder / f"{files.temp_name('cube.sqlite')}-journal",
               folder / "notebooks" / files.temp_name("powiat-1201-bochenski.ipynb")]
    kept = [folder / "notatki.tmp", folder / ".ukryte.ipynb", folder / "notebooks" / "moje.ipynb",
            folder / ".powiat-1201-bochenski.pdf.k2j3h4g5.tmp", folder / "cube.sqlite.a1b2c3d4.tmp",
            folder / "notebooks" / ".powiat-1201-bochenski.x7y8z9w0.ipynb",
            folder / "archiwum" / files.temp_name("stary.html")]
    for p in planted + kept:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"half")
    before = {p.name: p.stat().st_mtime_ns for p in folder.glob("*.html")}

    again = subprocess.run(cmd, env=_env(uuid.uuid4().hex), cwd=ROOT, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    m = _manifest(folder)
    # The two county reports and the report of every institution of the two counties in the edition,
    # as the cube the first build computed lists them.
    with cube_mod.Cube(folder / "cube.sqlite") as c:
        inst = c.table("institutions")
    planned = 2 + int((inst["in_edition"] & inst["county"].astype(str).isin([KRAKOW, BOCHNIA])).sum())
    assert m["summary"]["planned"] == planned and m["summary"]["built"] == planned - 3
    assert m["summary"]["skipped"] == 3
    assert m["cube"]["rebuilt"] is False  # the journal says the cube was current
    assert {s for s, r in m["reports"].items() if r.get("skipped")} == done
    after = {p.name: p.stat().st_mtime_ns for p in folder.glob(f"*.html") if p.name != "index.html"}
    assert len(after) == planned
    unchanged = {name[:-5] for name, t in after.items() if before.get(name) == t}
    assert unchanged == done  # built again: exactly those the journal did not record
    assert not any(p.exists() for p in planted)
    assert all(p.read_bytes() == b"half" for p in kept)
    assert not (folder / "journal.jsonl").exists()
    assert _hidden(out) == sorted(p for p in kept if p.name.startswith("."))


def test_workers_end_when_the_build_process_is_killed(small_db, tmp_path):
    """SIGKILL to the build process alone (its workers live on, each holding a kernel): the workers
    notice that their build is gone, end their kernels and exit."""
    tag, pause, out = uuid.uuid4().hex, tmp_path / "pause", tmp_path / "r"
    proc = _start(_cmd(small_db, out, "--county", KRAKOW, "--jobs", "2"), _env(tag, pause, ("journal-1", "report-2")),
                  tmp_path)
    _wait_until(lambda: (pause / "journal-1.reached").exists() and (pause / "report-2.reached").exists(), proc,
                "a worker holding its kernel", tmp_path)
    assert _kernels(tag)
    proc.kill()  # the build process only, not its group
    proc.wait()
    assert _wait_gone(tag) == []


def test_a_torn_journal_line_is_ignored(small_db, tmp_path):
    """A kill in the middle of a journal write leaves half a line: the next build reads the records
    before it and appends after it on a line of its own."""
    out = tmp_path / "r"
    args = ["build", "--db", str(small_db), "--edition", EDITION, "--out", str(out), "--format", "html", "--quiet",
            "--county", BOCHNIA, "--only", "county", "--jobs", "1"]
    assert main(args) == 0
    folder = out / "2025-2026"
    m = _manifest(folder)
    (stem, entry), = m["reports"].items()
    (folder / "manifest.json").unlink()  # as if the build had been killed before writing it
    line = json.dumps({"t": "report", "stem": stem, "entry": entry})
    (folder / "journal.jsonl").write_text(line + "\n" + line[: len(line) // 2], encoding="utf-8")
    assert main(args) == 0
    m = _manifest(folder)
    assert m["summary"]["built"] == 0 and m["summary"]["skipped"] == 1
    # and a record appended after a torn line is a line of its own
    from zpb_lib.batch.pipeline import Journal

    path = tmp_path / "journal.jsonl"
    path.write_text(line + "\n" + line[:10], encoding="utf-8")
    journal = Journal(path)
    journal.append({"t": "report", "stem": "x", "entry": {}})
    journal.close()
    assert [r["stem"] for r in Journal.read(path)] == [stem, "x"]


# ------------------------------------------------------------------ one atomic writer

def _all_files(*folders: Path) -> list[Path]:
    return sorted(p for f in folders for p in f.rglob("*") if p.is_file())


def test_every_file_written_has_one_mode(small_db, tmp_path):
    """Reports (HTML, PDF), executed notebooks, manifest, index, cube, `zpb export`, both templates,
    the survey forms, `zpb match` and the explorer's Excel export: every file gets 0666 less the umask
    (0640 under umask 027), and a file that is replaced keeps the mode it had."""
    con = sqlite3.connect(f"file:{small_db}?mode=ro", uri=True)
    rspo, name = con.execute(  # a school taking part in the edition: it can be audited
        "SELECT i.rspo, i.name FROM participation p JOIN institutions i ON i.id = p.institution_id "
        "WHERE p.joined_edition <= ? AND (p.left_edition IS NULL OR p.left_edition >= ?) AND i.rspo IS NOT NULL "
        "ORDER BY i.rspo LIMIT 1", (EDITION, EDITION)).fetchone()
    con.close()
    out, other = tmp_path / "reports", tmp_path / "files"
    (tmp_path / "lista.txt").write_text(f"1. {name},\n", encoding="utf-8")
    db = ["--db", str(small_db)]
    commands = [
        ["build", "--edition", EDITION, "--out", str(out), "--county", BOCHNIA, "--only", "county", "--format", "html,pdf",
         "--jobs", "1", "--quiet", *db],
        ["export", "--edition", EDITION, "--county", BOCHNIA, "--out", str(other / "wyniki.xlsx"), *db],
        ["template", "register", "--out", str(other / "rejestr.xlsx"), *db],
        ["template", "audit", "--institution", str(rspo), "--edition", EDITION, "--out", str(other / "protokol.xlsx"), *db],
        ["survey", "form", "--group", "students", "--out", str(other / "ankieta")],
        ["match", str(tmp_path / "lista.txt"), "--edition", EDITION, "--kind", "certyfikat",
         "--out", str(other / "dopasowanie.xlsx"), *db],
    ]
    for argv in commands:
        done = subprocess.run(["sh", "-c", 'umask 027 && exec "$@"', "sh", sys.executable, "-m", "zpb_lib.cli", *argv],
                              cwd=ROOT, capture_output=True, text=True)
        assert done.returncode == 0, (argv[:2], done.stderr)
    previous = os.umask(0o027)
    try:
        from zpb_lib.explore import Explorer

        exported = Explorer(small_db, out=other / "explorer").export_table()
    finally:
        os.umask(previous)
    written = _all_files(out, other)
    kinds = {p.suffix for p in written}
    assert {".html", ".pdf", ".ipynb", ".json", ".sqlite", ".xlsx", ".md", ".csv"} <= kinds, kinds
    assert exported in written and len([p for p in written if p.suffix == ".xlsx"]) == 5
    assert {p.relative_to(tmp_path).as_posix(): oct(p.stat().st_mode & 0o777) for p in written} == \
        {p.relative_to(tmp_path).as_posix(): "0o640" for p in written}
    # A report someone made private stays private when it is built again.
    report = next((out / "2025-2026").glob("powiat-*.html"))
    report.chmod(0o600)
    assert main(["build", "--edition", EDITION, "--out", str(out), "--county", BOCHNIA, "--only", "county",
                 "--format", "html", "--jobs", "1", "--force", "--quiet", *db]) == 0
    assert report.stat().st_mode & 0o777 == 0o600


def _tables() -> dict[str, pd.DataFrame]:
    return {"institutions": pd.DataFrame({"id": [1, 2], "county": ["1201", "1261"], "name": ["A", "B"]}),
            "audits": pd.DataFrame({"edition": ["2025/2026"], "county": ["1201"], "institution_id": [1]}),
            "trends": pd.DataFrame({"county": ["1201"], "value": [0.5]})}


@pytest.mark.parametrize("error", [OSError("disk full"), KeyboardInterrupt()])
def test_a_failing_cube_write_leaves_the_old_cube_and_nothing_else(tmp_path, monkeypatch, error):
    path = tmp_path / "cube.sqlite"
    cube_mod.write(_tables(), path, {"cube_version": cube_mod.CUBE_VERSION, "edition": EDITION})
    old = path.read_bytes()
    calls = []
    to_sql = pd.DataFrame.to_sql

    def broken(self, *args, **kwargs):  # the second table: half of the new cube is on disk
        calls.append(1)
        if len(calls) == 2:
            raise error
        return to_sql(self, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_sql", broken)
    with pytest.raises(type(error)):
        cube_mod.write(_tables(), path, {"cube_version": cube_mod.CUBE_VERSION, "edition": "2024/2025"})
    assert len(calls) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cube.sqlite"]
    assert path.read_bytes() == old
    with cube_mod.Cube(path) as c:
        assert c.meta["edition"] == EDITION


def test_atomic_write_rules(tmp_path):
    target = tmp_path / "raport.html"
    with pytest.raises(KeyboardInterrupt):
        with files.atomic_write(target) as fh:
            fh.write(b"half")
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []
    previous = os.umask(0o002)
    try:
        files.write_bytes(target, b"one")
        assert target.stat().st_mode & 0o777 == 0o664  # new: 0666 less the umask
        target.chmod(0o600)
        with files.atomic_path(target) as tmp:
            assert tmp.parent == tmp_path and tmp.name.startswith(".zpb-tmp-") and tmp.name.endswith(".raport.html")
            tmp.write_bytes(b"two")
        assert target.read_bytes() == b"two" and target.stat().st_mode & 0o777 == 0o600  # replaced: kept
    finally:
        os.umask(previous)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["raport.html"]


def test_sweep_removes_only_temporary_files(tmp_path):
    ours = [files.temp_name("raport.html"), f"{files.temp_name('cube.sqlite')}-journal",
            files.temp_name("x" * 300 + ".html")]  # a long name: its end is kept, and still recognised
    theirs = ["raport.html", ".zpb-tmp-raport.html", ".zpb-tmp-abcd1234.raport.html", "notatki.tmp", ".raport.pdf.tmp",
              ".raport.abcd1234.ipynb", ".raport.pdf.k2j3h4g5.tmp", "cube.sqlite.a1b2c3d4.tmp", ".git",
              # the structure without zpb's check: a name someone made up
              ".zpb-tmp-0123456789abcdef-01234567.raport.html"]
    for name in ours + theirs:
        (tmp_path / name).write_bytes(b"x")
    assert sorted(p.name for p in files.sweep(tmp_path)) == sorted(ours)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(theirs)


# ------------------------------------------------------------------ both languages

def test_both_languages_side_by_side(small_db, tmp_path):
    """``--lang pl,en``: Polish at the edition folder's root, English in en/, one cube, one manifest
    each, indexes linking each other; a later English-only build leaves the Polish files as they are."""
    out = tmp_path / "reports"
    base = ["build", "--db", str(small_db), "--edition", EDITION, "--out", str(out), "--county", BOCHNIA,
            "--only", "county", "--format", "html", "--jobs", "1", "--quiet"]
    assert main([*base, "--lang", "pl,en"]) == 0
    pl, en = out / "2025-2026", out / "2025-2026" / "en"
    (pl_report,), (en_report,) = pl.glob("powiat-1201-*.html"), en.glob("powiat-1201-*.html")
    assert '<html lang="pl">' in pl_report.read_text(encoding="utf-8")
    assert '<html lang="en">' in en_report.read_text(encoding="utf-8")
    assert (pl / "cube.sqlite").exists() and not (en / "cube.sqlite").exists()
    assert _manifest(pl)["lang"] == "pl" and _manifest(en)["lang"] == "en"
    assert len(_manifest(pl)["reports"]) == len(_manifest(en)["reports"]) == 1
    assert (en / "notebooks" / f"{en_report.stem}.ipynb").exists()
    assert 'href="en/index.html"' in (pl / "index.html").read_text(encoding="utf-8")
    assert 'href="../index.html"' in (en / "index.html").read_text(encoding="utf-8")

    # every Polish file but the index (which gains nothing here, it links en/ already) and the cube
    # (shared by both languages, computed again by --force)
    polish = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in _all_files(pl) if en not in p.parents
              and p.name not in ("index.html", "cube.sqlite")}
    english = en_report.stat().st_mtime_ns
    assert main([*base, "--lang", "en", "--force"]) == 0
    assert {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in polish} == polish
    assert len(polish) == 3 and (pl / "cube.sqlite").exists()  # report, its notebook, the manifest
    assert en_report.stat().st_mtime_ns != english
    assert 'href="en/index.html"' in (pl / "index.html").read_text(encoding="utf-8")


def test_an_english_build_adds_its_link_to_the_polish_index(small_db, tmp_path):
    out = tmp_path / "reports"
    base = ["build", "--db", str(small_db), "--edition", EDITION, "--out", str(out), "--county", BOCHNIA,
            "--only", "county", "--format", "html", "--jobs", "1", "--quiet"]
    assert main(base) == 0
    index = out / "2025-2026" / "index.html"
    assert "en/index.html" not in index.read_text(encoding="utf-8")
    assert main([*base, "--lang", "en"]) == 0
    assert 'href="en/index.html"' in index.read_text(encoding="utf-8")


# ------------------------------------------------------------------ --jobs

def test_jobs_default_to_the_usable_cores(small_db, tmp_path):
    """Without --jobs the build runs as many workers as the process may use cores: its CPU affinity,
    narrowed here to one core for a second build."""
    cores = sorted(os.sched_getaffinity(0))
    cmd = _cmd(small_db, tmp_path / "a", "--county", BOCHNIA, "--only", "county")
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert _manifest(tmp_path / "a" / "2025-2026")["summary"]["jobs"] == len(cores)
    one = subprocess.run(_cmd(small_db, tmp_path / "b", "--county", BOCHNIA, "--only", "county"), cwd=ROOT,
                         capture_output=True, text=True, preexec_fn=lambda: os.sched_setaffinity(0, cores[:1]))
    assert one.returncode == 0, one.stderr
    assert _manifest(tmp_path / "b" / "2025-2026")["summary"]["jobs"] == 1
    from zpb_lib.cli import build_parser

    assert build_parser().parse_args(["build"]).jobs is None  # resolved by the build, not frozen in the parser


def test_lang_takes_both_languages_in_any_spelling():
    from zpb_lib import cli
    from zpb_lib.cli import options

    args = cli.build_parser().parse_args(["build", "--lang", "polski, EN"])
    options.refuse(args)
    assert args.lang == "pl,en"
    args = cli.build_parser().parse_args(["export", "--edition", EDITION, "--lang", "pl,en"])
    with pytest.raises(ValueError, match="pl,en"):  # one workbook has one language
        options.refuse(args)
