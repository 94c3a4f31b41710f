"""``zpb build``: plan → compute the cube once → execute and export in workers → index and manifest.

A report whose inputs (data, reference files, library code, notebook, parameters, formats) did not
change since the last build is skipped. One failing report never stops the others; the summary lists
failures and the exit status says whether anything failed.

Output layout of an edition (``reports/2025-2026/``): the Polish reports at the edition folder's
root, as every zpb has written them, each other language in a subfolder named after it (``en/``),
with its own reports, ``notebooks/``, ``index.html``, ``manifest.json`` and journal. The cube is
computed once per edition, at the root, and serves every language. Each index links the other
languages' indexes that exist.

Crashes: as each report finishes, the build appends a line to ``journal.jsonl`` next to the manifest
and flushes it to disk; at the end the manifest is rewritten atomically with everything the journal
holds and the journal is removed. A build that was killed (SIGKILL, power cut) or interrupted leaves
the journal behind, and the next build reads it back: a report counts as done when its record says
so, its fingerprint is still the current one and its files are there with the recorded sizes; only
the rest are built. Every build first removes the temporary files a killed build left in its
folders (:func:`zpb_lib.core.files.sweep`: zpb's own temporaries only, never a user's file), holding a
lock on the edition folder so that two builds never write there at once. Its folders are checked
before anything is computed (:mod:`.folders`: writable, not a link to someone else's folder).
"""
from __future__ import annotations

import contextlib
import datetime as dt
import errno
import json
import os
import platform
import re
import stat
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Iterable

from tqdm import tqdm

from zpb_lib import code_hash
from zpb_lib.domain import cube as cube_mod
from zpb_lib import store
from zpb_lib.store.freshness import last_import
from zpb_lib.core.files import LinkRefused, atomic_write, fsync_dir, output_error, read_regular, sweep
from zpb_lib.domain.institutions import UnknownInstitution, lookup
from zpb_lib.reference import Reference, reference
from zpb_lib.domain.labels import LANGS, page_title
from zpb_lib.core import interrupt
from zpb_lib.core.hooks import pause_point
from zpb_lib.batch import backend
from zpb_lib.batch.folders import prepare, sweep_build_folder
from zpb_lib.batch import pdf
from zpb_lib.batch.plan import KINDS, Job, county_code, plan
from zpb_lib.batch.tasks import ReportResult, ReportTask
from zpb_lib.batch.worker import WorkerConfig
from zpb_lib.batch.index import IndexEntry, write_index

MANIFEST = "manifest.json"
JOURNAL = "journal.jsonl"
CUBE_FILE = "cube.sqlite"
PRIMARY_LANG = "pl"  # its reports sit at the edition folder's root; other languages in subfolders


@dataclass
class BuildOptions:
    db: str | None = None
    edition: str | None = None
    out: str = "reports"
    formats: tuple[str, ...] = ("html", "pdf")
    pdf_engine: str = ""  # a name of zpb_lib.batch.pdf.engines(); "" = $ZPB_PDF_ENGINE, else the default
    jobs: int | None = None  # worker processes; None: the CPU cores this process may use
    cluster: str = ""  # "" = this machine's process pool; "tcp://HOST:8786" or "local:N" = Dask
    force: bool = False
    lang: str | tuple[str, ...] = "pl"  # "pl", "en", "pl,en" or ("pl", "en")
    only: tuple[str, ...] = KINDS
    counties: tuple[str, ...] = ()  # TERYT codes or county names
    institutions: tuple[str, ...] = ()  # RSPO numbers / POL-on ids
    progress: bool = True
    notebooks: str = ""  # folder of the report notebooks; "" = the shipped ones (paths.notebooks_dir)
    # Told of each finished report, beside the progress bar: a caller other than the command line
    # shows its own progress.
    on_report: Callable[["ReportDone"], None] | None = None


@dataclass(frozen=True)
class ReportDone:
    """One report finished (built or failed) in a running build."""
    stem: str
    lang: str
    status: str  # ok or failed
    done: int  # reports finished so far in this build, every language
    total: int  # reports this build runs (those skipped as current not counted)
    failed: int  # failures so far


@dataclass
class BuildSummary:
    edition: str
    out_dir: Path
    index: Path | None
    total: int = 0
    built: int = 0
    skipped: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    cube_seconds: float = 0.0
    cube_rebuilt: bool = False
    lang: str = PRIMARY_LANG
    jobs: int = 1
    # A build of several languages: one summary per language (this one adds them up, its failures
    # named "<lang>/<stem>"); empty for a build of one language.
    languages: list["BuildSummary"] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed


def lang_dir(edition_dir: Path, lang: str) -> Path:
    """The folder of one language's reports: the edition folder for Polish, ``<edition>/<lang>/`` else."""
    return edition_dir if lang == PRIMARY_LANG else edition_dir / lang


def parse_langs(value: str | Iterable[str]) -> tuple[str, ...]:
    """``"pl"``, ``"pl,en"`` or ``("pl", "en")`` → the languages in the order given, once each."""
    parts = value.split(",") if isinstance(value, str) else [p for v in value for p in str(v).split(",")]
    langs = tuple(dict.fromkeys(p.strip() for p in parts if p.strip()))
    bad = [x for x in langs if x not in LANGS]
    if bad or not langs:
        raise ValueError(f"unknown language {', '.join(map(repr, bad)) or repr(value)} (pl, en or pl,en)")
    return langs


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("zpb", "pandas", "numpy", "matplotlib", "nbconvert", "nbclient", "papermill", "weasyprint",
                "ipykernel"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    return out


def _read_manifest(path: Path) -> dict[str, Any]:
    """A language's manifest; none when absent, unreadable, or not a regular file of its own (a
    symbolic link there is no record of this folder; the manifest written at the end replaces it)."""
    try:
        data = json.loads(read_regular(path).decode("utf-8"))
    except (FileNotFoundError, LinkRefused, UnicodeDecodeError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_json(path: Path, data: dict[str, Any]) -> None:
    with atomic_write(path) as fh:
        fh.write(json.dumps(data, ensure_ascii=False, indent=1, default=str).encode("utf-8"))


_JOURNAL_LINK = ("is a symbolic link (or not a regular file); zpb keeps a build's journal only in a file of its "
                 "own and never writes through a link: remove it and run the build again")


class Journal:
    """The record of a build in progress, next to its manifest: one JSON object per line, appended
    and flushed to disk (fsync) before the build goes on, so that a build killed at any moment
    leaves a record of every report it finished. A torn last line (the moment of the kill) is
    ignored on reading. The manifest written at the end of a build absorbs it; then it is removed.

    The only file zpb appends to rather than replaces: it is opened with ``O_NOFOLLOW`` and must be
    a regular file, so a symbolic link planted in its place is refused (:class:`LinkRefused`), never
    followed, whether reading or appending."""

    def __init__(self, path: Path):
        self.path = path
        self._fd: int | None = None

    @staticmethod
    def read(path: Path) -> list[dict[str, Any]]:
        try:
            lines = read_regular(path).splitlines()
        except FileNotFoundError:
            return []
        except LinkRefused:
            raise LinkRefused(errno.ELOOP, _JOURNAL_LINK, str(path)) from None
        out = []
        for line in lines:
            try:
                record = json.loads(line)
            except ValueError:  # torn by a crash mid-write
                continue
            if isinstance(record, dict):
                out.append(record)
        return out

    def append(self, record: dict[str, Any]) -> None:
        line = (json.dumps(record, ensure_ascii=False, default=str) + "\n").encode("utf-8")
        try:
            if self._fd is None:
                self._fd, torn = self._open()
                if torn:
                    line = b"\n" + line  # a torn last line stays a line of its own
            view = memoryview(line)
            while view:
                view = view[os.write(self._fd, view):]
            os.fsync(self._fd)
        except OSError as exc:
            raise (output_error(exc, self.path) or exc) from None

    def _open(self) -> tuple[int, bool]:
        """The journal opened for appending (created if missing), and whether its last line is torn."""
        # 0666 less the umask, or the mode the file has: the rule of zpb_lib.core.files. O_NONBLOCK: a FIFO
        # planted here is refused below instead of stopping the build.
        flags = (os.O_RDWR | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
                 | getattr(os, "O_NONBLOCK", 0))
        try:
            fd = os.open(self.path, flags, 0o666)
        except OSError as exc:
            if self.path.is_symlink():  # ELOOP from O_NOFOLLOW (EMLINK on some systems)
                raise LinkRefused(errno.ELOOP, _JOURNAL_LINK, str(self.path)) from None
            raise
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            os.close(fd)
            raise LinkRefused(errno.EINVAL, _JOURNAL_LINK, str(self.path))
        torn = st.st_size > 0 and os.pread(fd, 1, st.st_size - 1) != b"\n"
        fsync_dir(self.path.parent)  # a new journal's name is durable too
        return fd, torn

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def remove(self) -> None:
        """After the manifest holds everything: the journal goes."""
        self.close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
            fsync_dir(self.path.parent)


def load_state(folder: Path) -> dict[str, Any]:
    """What a language's folder holds according to its manifest and the journal of a build that did
    not finish (applied in order over the manifest)."""
    state = _read_manifest(folder / MANIFEST)
    for record in Journal.read(folder / JOURNAL):
        if record.get("t") == "inputs" and isinstance(record.get("inputs"), dict):
            state.setdefault("inputs", {}).update(record["inputs"])
        elif record.get("t") == "report" and isinstance(record.get("entry"), dict) and record.get("stem"):
            state.setdefault("reports", {})[str(record["stem"])] = record["entry"]
    return state


def full_title(job: Job, lang: str) -> str:
    return page_title(job.kind, job.title, job.edition, lang)


def report_task(job: Job, out_dir: Path) -> ReportTask:
    """The task of building ``job``'s report into its language's folder ``out_dir``."""
    return ReportTask(stem=job.stem, kind=job.kind, key=job.key, edition=job.edition, lang=job.lang,
                      title=full_title(job, job.lang), parameters=dict(job.parameters),
                      out_dir=str(out_dir.resolve()), notebooks=job.notebooks)


@contextlib.contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """One build at a time in an edition folder (both languages): a second build is refused with a
    message rather than have its sweep remove the first one's temporary files."""
    try:
        # fcntl: POSIX only
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no lock
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ValueError(f"another zpb build is writing to {folder}; wait until it ends") from None
        yield
    finally:
        os.close(fd)  # releases the lock


@dataclass
class _Target:
    """One language's part of a build."""
    lang: str
    out_dir: Path
    summary: BuildSummary
    previous: dict[str, Any] = field(default_factory=dict)
    journal: Journal | None = None
    jobs: list[Job] = field(default_factory=list)
    todo: list[Job] = field(default_factory=list)
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)


def build(options: BuildOptions, ref: Reference | None = None) -> BuildSummary:
    """Build the reports ``options`` ask for. Raises ``KeyboardInterrupt`` after a Ctrl-C at any
    point (the folder is left consistent: the manifest marks what was not built), ValueError for
    options that make no sense (one line)."""
    with interrupt.guard():
        return _build(options, ref or reference())


def _build(options: BuildOptions, ref: Reference) -> BuildSummary:
    t0 = time.perf_counter()
    db_path = store.locate(options.db)
    # "2025/2026", "2025-2026" or "XIX"; a KeyError names the known editions
    edition = ref.edition_of(options.edition) if options.edition else ref.current_edition().edition
    e = ref.edition(edition)
    if not e.held:
        raise ValueError(f"edition {edition} was not held (the programme was suspended); nothing to report")
    langs = parse_langs(options.lang)
    formats = tuple(f for f in options.formats if f)
    bad = set(formats) - {"html", "pdf"}
    if bad:
        raise ValueError(f"unknown format(s): {', '.join(sorted(bad))} (html, pdf)")
    # Chromium must be there before the cube is computed, not found missing by every report.
    pdf_engine = pdf.checked(options.pdf_engine or pdf.from_environment()) if "pdf" in formats else ""
    counties = tuple(county_code(ref, c) for c in options.counties)
    wanted = _known_institutions(db_path, options.institutions)  # before the cube: a typo fails fast
    edition_dir = prepare(Path(options.out) / edition.replace("/", "-"))  # a message now, not after the cube
    execution = backend.for_build(options.cluster, options.jobs)
    jobs_n = execution.planned_jobs()  # 0: a cluster's workers, known once it has started

    with _folder_lock(edition_dir):
        targets = []
        for lang in langs:
            folder = prepare(lang_dir(edition_dir, lang))
            targets.append(_Target(lang, folder, BuildSummary(edition, folder, None, lang=lang, jobs=jobs_n)))
        # What a killed build left half-written; then what it finished, from its journal.
        for folder in dict.fromkeys([edition_dir, *(t.out_dir for t in targets)]):
            sweep_build_folder(folder)
        for t in targets:
            t.previous = load_state(t.out_dir)
            t.journal = Journal(t.out_dir / JOURNAL)
        try:
            summary = _run(options, ref, edition, db_path, edition_dir, targets, formats, pdf_engine, counties, wanted,
                           execution, jobs_n)
        finally:
            for t in targets:
                t.journal.close()
    summary.seconds = time.perf_counter() - t0
    return summary


def _run(options: BuildOptions, ref: Reference, edition: str, db_path: Path, edition_dir: Path,
         targets: list[_Target], formats: tuple[str, ...], pdf_engine: str, counties: tuple[str, ...],
         wanted: tuple[str, ...], execution: backend.BackendOptions, jobs_n: int) -> BuildSummary:
    t0 = time.perf_counter()
    # --- inputs and the cube (computed once for all reports and languages), from one snapshot of the
    # data: the data version the manifest names is that of exactly the data the cube holds.
    snapshot = contextlib.ExitStack()
    con, data_hash = snapshot.enter_context(store.snapshot(db_path))
    pause_point("start")
    ref_hash = cube_mod.reference_hash(ref)
    lib_hash = code_hash()
    inputs_key = f"{data_hash}:{ref_hash}:{lib_hash}"
    inputs: dict[str, Any] = {"db": store.display(db_path), "data_hash": data_hash,
                              "reference_hash": ref_hash, "code_hash": lib_hash, "cube_key": inputs_key,
                              # the newest import the data held: what was stored since is counted against it
                              "last_import": last_import(con)}
    if pdf_engine:
        inputs["pdf_engine"] = pdf_engine
    cube_path = edition_dir / CUBE_FILE
    cube_seconds, cube_rebuilt = 0.0, False
    # Workers may start before the plan is known (their kernels warm up while the cube is
    # computed): no more than the reports the filters allow.
    config = WorkerConfig(formats=formats, pdf_engine=pdf_engine or pdf.DEFAULT)
    pool: backend.Backend = execution.open(config, edition_dir.resolve(),
                                           _most_reports(options, counties, wanted) * len(targets))
    with pool, snapshot:  # leaving the pool ends every worker and kernel, Ctrl-C included
        # What the backend must check before anything is computed (a cluster's workers must see the
        # output folder), and what it then says of itself.
        pool.check()
        jobs_n = pool.jobs
        for t in targets:
            t.summary.jobs = jobs_n
        line = pool.describe()
        if line:
            print(line, file=sys.stderr)
        if options.force or not _cube_current(cube_path, edition, inputs, targets):
            # Inputs changed, so reports will be built: the workers start their kernels now, while the
            # cube is computed. A no-op rebuild starts no worker at all.
            pool.start()
            tc = time.perf_counter()
            cube_mod.build(con, edition, cube_path, ref=ref, data_hash=data_hash, ref_hash=ref_hash)
            cube_seconds = time.perf_counter() - tc
            cube_rebuilt = True
        snapshot.close()  # the reports read the cube, not the database
        with cube_mod.Cube(cube_path) as cube:
            institutions = cube.table("institutions")
            cube_meta = dict(cube.meta)
        inputs["synthetic"] = cube_meta.get("synthetic")
        for t in targets:  # the cube is current for these inputs: a resumed build need not compute it
            t.journal.append({"t": "inputs", "inputs": inputs})
            t.summary.cube_seconds, t.summary.cube_rebuilt = cube_seconds, cube_rebuilt

        interrupted = True
        bar: Any = _NoBar()
        try:
            # --- plan and skip what is current
            notebooks = str(Path(options.notebooks).resolve()) if options.notebooks else ""
            tasks: list[ReportTask] = []
            for t in targets:
                t.jobs = plan(institutions, ref, edition, lang=t.lang, only=options.only,
                              counties=counties or None, institutions_wanted=wanted or None,
                              cube_path=str(cube_path.resolve()), db_path=store.display(db_path),
                              notebooks=notebooks)
                _skip_current(t, inputs_key, formats, pdf_engine, options.force)
                tasks += [report_task(job, t.out_dir) for job in t.todo]
            pause_point("plan")

            # --- execute and export
            by_dir = {str(t.out_dir.resolve()): t for t in targets}
            bar = _progress(len(tasks), options.progress)
            recorded = 0

            def on_result(r: ReportResult) -> None:
                nonlocal recorded
                t = by_dir.get(r.out_dir) or targets[0]
                entry = t.entries[r.stem]
                entry.update(status=r.status, error=r.error, seconds={k: round(v, 3) for k, v in r.seconds.items()},
                             kernel_mb=r.kernel_mb, kernel_peak_mb=r.kernel_peak_mb, worker_mb=r.worker_mb,
                             worker=r.worker, restarts=r.restarts,
                             notebook=f"notebooks/{r.stem}.ipynb",
                             html=f"{r.stem}.html" if "html" in formats and r.status == "ok" else None,
                             pdf=f"{r.stem}.pdf" if "pdf" in formats and r.status == "ok" else None,
                             outputs=dict(r.outputs))
                t.journal.append({"t": "report", "stem": r.stem, "entry": entry})
                if r.status == "ok":
                    t.summary.built += 1
                else:
                    t.summary.failed.append((r.stem, r.error or "failed"))
                recorded += 1
                bar.update(1)
                failed = sum(len(x.summary.failed) for x in targets)
                if failed:
                    bar.set_postfix_str(f"błędy: {failed}" if targets[0].lang == "pl" else f"failed: {failed}")
                if options.on_report:
                    options.on_report(ReportDone(r.stem, t.lang, r.status, recorded, len(tasks), failed))
                pause_point(f"journal-{recorded}")
                interrupt.check()

            if tasks:
                for result in pool.run(tasks):
                    on_result(result)
            interrupt.check()
            interrupted = False
        finally:
            # Whatever happened: stop the workers, then leave the folders consistent — manifest,
            # journal folded into it, index pages — before a Ctrl-C goes on.
            with interrupt.deferred():
                bar.close()
                pool.close(interrupted=interrupted)
                interrupted = interrupted or interrupt.requested()
                for t in targets:  # what a worker lost mid-write left (a task run twice leaves none)
                    sweep(t.out_dir)
                    sweep(t.out_dir / "notebooks")
                for t in targets:
                    t.summary.seconds = time.perf_counter() - t0
                    _finish(t, options, edition, formats, inputs, interrupted, jobs_n, pool.workers)
                pause_point("index")
                _write_indexes(edition_dir, targets, ref)
    return _combined(targets, edition_dir)


def _most_reports(options: BuildOptions, counties: tuple[str, ...], wanted: tuple[str, ...]) -> int:
    """An upper bound of the reports per language the options allow (a large number when unfiltered)."""
    only = set(options.only)
    if wanted:
        return len(wanted)
    if counties and "school" not in only:
        return len(counties) * ("county" in only)
    if only == {"voivodeship"}:
        return 1
    return 10 ** 6


def _cube_current(cube_path: Path, edition: str, inputs: dict[str, Any], targets: list[_Target]) -> bool:
    """Whether the edition's cube holds what computing it now would give: its meta names the same
    edition, data and reference hashes, and library code (a cube without a code hash in its meta: a
    manifest or journal that names the same inputs)."""
    if cube_path.is_symlink() or not cube_path.is_file():  # a link is no cube of this folder's: computed again
        return False
    try:
        with cube_mod.Cube(cube_path) as cube:
            meta = dict(cube.meta)
    except Exception:  # another cube version, not a cube at all: compute it again
        return False
    if (meta.get("edition") != edition or meta.get("data_hash") != inputs["data_hash"]
            or meta.get("reference_hash") != inputs["reference_hash"]):
        return False
    if "code_hash" in meta:
        return meta["code_hash"] == inputs["code_hash"]
    return any(t.previous.get("inputs", {}).get("cube_key") == inputs["cube_key"] for t in targets)


def _outputs_current(entry: dict[str, Any], folder: Path, stem: str, formats: tuple[str, ...]) -> bool:
    """The report's files are there, with the sizes the build that wrote them recorded."""
    sizes = entry.get("outputs") or {}
    paths = {f: folder / f"{stem}.{f}" for f in formats}
    if "ipynb" in sizes:
        paths["ipynb"] = folder / "notebooks" / f"{stem}.ipynb"
    for kind, path in paths.items():
        try:
            st = path.lstat()  # a link is not the file the build wrote
        except OSError:
            return False
        if not stat.S_ISREG(st.st_mode) or (kind in sizes and sizes[kind] != st.st_size):
            return False
    return True


def _skip_current(t: _Target, inputs_key: str, formats: tuple[str, ...], pdf_engine: str, force: bool) -> None:
    old_reports = t.previous.get("reports", {})
    t.entries = dict(old_reports)
    for job in t.jobs:
        fp = job.fingerprint(inputs_key)
        old = old_reports.get(job.stem, {})
        current = (old.get("fingerprint") == fp and old.get("status") == "ok"
                   and set(formats) <= set(old.get("formats", ())) and _outputs_current(old, t.out_dir, job.stem, formats)
                   # a PDF of the other engine is rebuilt (builds before engines were chosen: WeasyPrint)
                   and (not pdf_engine or old.get("pdf_engine", "weasyprint") == pdf_engine))
        if not force and current:
            t.summary.skipped += 1
            t.entries[job.stem] = dict(old, skipped=True)
            continue
        t.todo.append(job)
        for f in ("html", "pdf"):  # an output that is not rebuilt now would be stale
            if f not in formats:
                (t.out_dir / f"{job.stem}.{f}").unlink(missing_ok=True)
        t.entries[job.stem] = {"kind": job.kind, "key": job.key, "identifier": job.identifier,
                               "title": job.title, "county": job.county,
                               "county_name": job.county_name, "police_unit": job.police_unit,
                               "fingerprint": fp, "status": "pending", "skipped": False,
                               "formats": list(formats)}
        if pdf_engine:
            t.entries[job.stem]["pdf_engine"] = pdf_engine
    t.summary.total = len(t.jobs)


def _finish(t: _Target, options: BuildOptions, edition: str, formats: tuple[str, ...],
            inputs: dict[str, Any], interrupted: bool, jobs_n: int, workers: int) -> None:
    """The language's manifest (with the journal's records; then the journal goes)."""
    s = t.summary
    for entry in t.entries.values():  # reports the build never reached (Ctrl-C)
        if entry.get("status") == "pending":
            entry.update(status="interrupted", error="przerwano budowanie" if t.lang == "pl"
                         else "build interrupted")
    # Reports of this plan only: entries of reports no longer planned are dropped — by a full build
    # that ran to its end, never by an interrupted one (its plan may be incomplete).
    planned = {j.stem for j in t.jobs}
    drop = _same_scope(options) and not interrupted
    kept = {k: v for k, v in t.entries.items() if k in planned} if drop else t.entries
    manifest = {
        "edition": edition, "generated_at": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "lang": t.lang, "formats": list(formats), "versions": _versions(), "inputs": inputs,
        "cube": {"file": os.path.relpath(t.out_dir.parent / CUBE_FILE, t.out_dir) if t.lang != PRIMARY_LANG
                 else CUBE_FILE, "seconds": round(s.cube_seconds, 3), "rebuilt": s.cube_rebuilt},
        "reports": kept,
        "summary": {"planned": s.total, "built": s.built, "skipped": s.skipped, "failed": len(s.failed),
                    "interrupted": interrupted, "jobs": jobs_n, "workers": workers, "seconds": round(s.seconds, 3)},
    }
    _write_json(t.out_dir / MANIFEST, manifest)  # first: the manifest must survive a failing index
    t.journal.remove()
    _remove_dropped(t.out_dir, {k: v for k, v in t.entries.items() if k not in kept})
    t.previous = manifest


def _write_indexes(edition_dir: Path, targets: list[_Target], ref: Reference) -> None:
    """Each language's index page with links to the others' that exist — those built now, and
    those of languages built before (their pages are written again from their manifests, so that
    they link to this one)."""
    built = {t.lang: t for t in targets}
    pages = {lang: lang_dir(edition_dir, lang) / "index.html" for lang in LANGS}
    manifests = {lang: (built[lang].previous if lang in built else _read_manifest(lang_dir(edition_dir, lang) / MANIFEST))
                 for lang in LANGS}
    # a language's page counts only when its folder's manifest is of that language (a build of an
    # older zpb may have put English reports at the root)
    present = {lang for lang in LANGS if manifests[lang].get("lang", PRIMARY_LANG) == lang
               and manifests[lang].get("reports") is not None and (lang in built or pages[lang].exists())}
    for lang in sorted(present, key=lambda x: (x not in built, x)):
        others = {o: pages[o] for o in present if o != lang}
        if lang in built:
            built[lang].summary.index = _write_index(lang_dir(edition_dir, lang), manifests[lang], ref, lang,
                                                     alternate=others)
        elif others:
            try:
                _write_index(lang_dir(edition_dir, lang), manifests[lang], ref, lang, alternate=others)
            except (KeyError, TypeError, ValueError):  # a manifest of an older zpb this one cannot read: leave it
                pass


def _combined(targets: list[_Target], edition_dir: Path) -> BuildSummary:
    if len(targets) == 1:
        return targets[0].summary
    parts = [t.summary for t in targets]
    first = parts[0]
    return BuildSummary(
        first.edition, edition_dir, first.index, total=sum(p.total for p in parts), built=sum(p.built for p in parts),
        skipped=sum(p.skipped for p in parts), failed=[(f"{p.lang}/{stem}", err) for p in parts for stem, err in p.failed],
        cube_seconds=first.cube_seconds, cube_rebuilt=first.cube_rebuilt, lang=",".join(p.lang for p in parts),
        jobs=first.jobs, languages=parts)


# The names zpb gives reports (and gave them: schools by internal id once): nothing else is removed.
_STEM = re.compile(r"wojewodztwo|powiat-\d{4}(-[^\W_]*)*|(placowka|uczelnia)-[^\W_]+(-[^\W_]*)*")


def _remove_dropped(out_dir: Path, dropped: dict[str, dict[str, Any]]) -> None:
    """Delete the files of reports a full build no longer plans (an institution that left, or a
    report named the way an older zpb named it, by internal id): the folder is shared, and a file
    the index does not list would look current. Only what zpb provably wrote goes: a report's name
    of zpb's form, a regular file (not a link), of the size the manifest recorded when it did — a
    manifest someone edited cannot make the build delete their other files."""
    for stem, entry in dropped.items():
        if not _STEM.fullmatch(stem):
            continue
        sizes = entry.get("outputs") if isinstance(entry, dict) and isinstance(entry.get("outputs"), dict) else {}
        for kind, path in (("html", out_dir / f"{stem}.html"), ("pdf", out_dir / f"{stem}.pdf"),
                           ("ipynb", out_dir / "notebooks" / f"{stem}.ipynb")):
            try:
                st = path.lstat()
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode) and sizes.get(kind, st.st_size) == st.st_size:
                path.unlink(missing_ok=True)


def _known_institutions(db_path: Path, wanted: Iterable[str | int]) -> tuple[str, ...]:
    """:func:`known_institutions` of the database at ``db_path`` (opened only when any are wanted)."""
    if not wanted:
        return ()
    con = store.connect(db_path, readonly=True)
    try:
        return known_institutions(con, wanted)
    finally:
        con.close()


def known_institutions(con: store.Connection, wanted: Iterable[str | int]) -> tuple[str, ...]:
    """The identifiers people gave (RSPO numbers, POL-on ids) as the database spells them, each
    once; a ValueError names the first that is malformed or unknown."""
    out = []
    for text in wanted:
        try:
            out.append(lookup(con, text).ident)
        except UnknownInstitution as exc:
            raise ValueError(str(exc)) from None
    return tuple(dict.fromkeys(out))


def _same_scope(options: BuildOptions) -> bool:
    """A full build (no filters) decides which reports exist; a filtered one only updates."""
    return not (options.counties or options.institutions or set(options.only) != set(KINDS))


def _write_index(out_dir: Path, manifest: dict[str, Any], ref: Reference, lang: str,
                 alternate: dict[str, Path] | None = None) -> Path:
    entries = []
    for stem, r in sorted(manifest["reports"].items()):
        entries.append(IndexEntry(
            kind=r["kind"], title=r["title"], identifier=r.get("identifier"), county=r.get("county"),
            county_name=r.get("county_name"),
            police_unit=(ref.police_units[r["police_unit"]].name if r.get("police_unit") in ref.police_units else None),
            html=r.get("html") if (out_dir / f"{stem}.html").exists() else None,
            pdf=r.get("pdf") if (out_dir / f"{stem}.pdf").exists() else None,
            status=("skipped" if r.get("skipped") else "ok" if r.get("status") == "ok" else "failed"),
            error=r.get("error")))
    inputs = manifest["inputs"]
    return write_index(entries, out_dir / "index.html", manifest["edition"], lang=lang,
                       meta={"generated_at": manifest["generated_at"], "data_hash": inputs["data_hash"],
                             "synthetic": bool(inputs.get("synthetic"))},
                       alternate={o: p.resolve() for o, p in (alternate or {}).items()})


class _NoBar:
    def update(self, n: int) -> None: ...
    def set_postfix_str(self, s: str) -> None: ...
    def close(self) -> None: ...


def _progress(total: int, enabled: bool):
    if not enabled or total == 0:
        return _NoBar()

    return tqdm(total=total, unit="raport", file=sys.stderr, dynamic_ncols=True)
