"""``zpb build``: plan → compute the cube once → execute and export in workers → index and manifest.

A report whose inputs (data, reference files, library code, notebook, parameters, formats) did not
change since the last build is skipped. One failing report never stops the others; the summary lists
failures and the exit status says whether anything failed.
"""
from __future__ import annotations

import datetime as dt
import json
import platform
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Iterable

from .. import cube as cube_mod
from .. import store
from ..reference import Reference, reference
from ..report.labels import LANGS, label
from ..institutions import UnknownInstitution, lookup
from .plan import KINDS, Job, county_code, plan
from .files import atomic_writer
from .. import code_hash
from .runner import Result, WorkerConfig, WorkerPool

MANIFEST = "manifest.json"
CUBE_FILE = "cube.sqlite"


@dataclass
class BuildOptions:
    db: str | None = None
    edition: str | None = None
    out: str = "reports"
    formats: tuple[str, ...] = ("html", "pdf")
    jobs: int = 1
    force: bool = False
    lang: str = "pl"
    only: tuple[str, ...] = KINDS
    counties: tuple[str, ...] = ()  # TERYT codes or county names
    institutions: tuple[str, ...] = ()  # RSPO numbers / POL-on ids
    progress: bool = True
    notebooks: str = ""  # folder of the report notebooks; "" = the project's notebooks/


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

    @property
    def ok(self) -> bool:
        return not self.failed


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
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def _write_json(path: Path, data: dict[str, Any]) -> None:
    with atomic_writer(path) as fh:
        fh.write(json.dumps(data, ensure_ascii=False, indent=1, default=str).encode("utf-8"))


def data_fingerprint(db_path: Path, previous: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The data version (hash of the database file and its WAL, as in every report and export);
    reused from the last build when both have the same size and modification time, which keeps a
    no-op rebuild fast. Hashing the bytes takes a tenth of the time of hashing every row."""
    stat = {}
    for suffix in ("", "-wal"):
        p = Path(str(db_path) + suffix)
        if p.exists():
            s = p.stat()
            # SQLite touches an empty WAL whenever a connection opens it (our own cube
            # computation included): only a WAL with content can change the data.
            stat[suffix or "db"] = [s.st_size, s.st_mtime_ns if s.st_size or not suffix else 0]
    old = previous.get("inputs", {})
    if old.get("db_stat") == stat and old.get("data_hash"):
        return old["data_hash"], stat
    return store.data_version(db_path), stat


def full_title(job: Job, lang: str) -> str:
    return f"{label(f'title.{job.kind}_report', lang)} — {job.title} — {job.edition}"


def build(options: BuildOptions, ref: Reference | None = None) -> BuildSummary:
    t0 = time.perf_counter()
    ref = ref or reference()
    db_path = store.resolve_db_path(options.db).resolve()
    # "2025/2026", "2025-2026" or "XIX"; a KeyError names the known editions
    edition = ref.edition_of(options.edition) if options.edition else ref.current_edition().edition
    e = ref.edition(edition)
    if not e.held:
        raise ValueError(f"edition {edition} was not held (the programme was suspended); nothing to report")
    if options.lang not in LANGS:
        raise ValueError(f"unknown language {options.lang!r} (pl or en)")
    formats = tuple(f for f in options.formats if f)
    bad = set(formats) - {"html", "pdf"}
    if bad:
        raise ValueError(f"unknown format(s): {', '.join(sorted(bad))} (html, pdf)")
    counties = tuple(county_code(ref, c) for c in options.counties)
    wanted = _known_institutions(db_path, options.institutions)  # before the cube: a typo fails fast
    out_dir = Path(options.out) / edition.replace("/", "-")
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest_path = out_dir / MANIFEST
    previous = _read_manifest(manifest_path)
    summary = BuildSummary(edition, out_dir, None)

    # --- inputs and the cube (computed once for all reports)
    data_hash, db_stat = data_fingerprint(db_path, previous)
    ref_hash = cube_mod.reference_hash(ref)
    lib_hash = code_hash()
    inputs_key = f"{data_hash}:{ref_hash}:{lib_hash}"
    cube_path = out_dir / CUBE_FILE
    old_inputs = previous.get("inputs", {})
    config = WorkerConfig(out_dir=str(out_dir.resolve()), formats=formats)
    pool = WorkerPool(config, options.jobs)
    with pool:  # leaving it ends every worker and kernel, Ctrl-C included
        if options.force or not cube_path.exists() or old_inputs.get("cube_key") != inputs_key:
            # Inputs changed, so reports will be built: the workers start their kernels now, while the
            # cube is computed. A no-op rebuild starts no worker at all.
            pool.start()
            tc = time.perf_counter()
            con = store.connect(db_path, readonly=True)
            try:
                cube_mod.build(con, edition, cube_path, ref=ref, data_hash=data_hash, ref_hash=ref_hash)
            finally:
                con.close()
            summary.cube_seconds = time.perf_counter() - tc
            summary.cube_rebuilt = True
        with cube_mod.Cube(cube_path) as cube:
            institutions = cube.table("institutions")
            cube_meta = dict(cube.meta)

        # --- plan and skip what is current
        jobs = plan(institutions, ref, edition, lang=options.lang, only=options.only, counties=counties or None,
                    institutions_wanted=wanted or None, cube_path=str(cube_path.resolve()),
                    db_path=str(db_path), notebooks=str(Path(options.notebooks).resolve()) if options.notebooks else "")
        old_reports = previous.get("reports", {})
        todo: list[Job] = []
        entries: dict[str, dict[str, Any]] = dict(old_reports)
        for job in jobs:
            fp = job.fingerprint(inputs_key)
            old = old_reports.get(job.stem, {})
            outputs_exist = all((out_dir / f"{job.stem}.{f}").exists() for f in formats)
            current = (old.get("fingerprint") == fp and old.get("status") == "ok" and outputs_exist
                       and set(formats) <= set(old.get("formats", ())))
            if not options.force and current:
                summary.skipped += 1
                entries[job.stem] = dict(old, skipped=True)
                continue
            todo.append(job)
            for f in ("html", "pdf"):  # an output that is not rebuilt now would be stale
                if f not in formats:
                    (out_dir / f"{job.stem}.{f}").unlink(missing_ok=True)
            entries[job.stem] = {"kind": job.kind, "key": job.key, "identifier": job.identifier,
                                 "title": job.title, "county": job.county,
                                 "county_name": job.county_name, "police_unit": job.police_unit,
                                 "fingerprint": fp, "status": "pending", "skipped": False,
                                 "formats": list(formats)}
        summary.total = len(jobs)

        # --- execute and export
        payload = [dict(job.as_dict(), notebook=str(job.notebook), full_title=full_title(job, options.lang))
                   for job in todo]
        bar = _progress(len(todo), options.progress)

        def on_result(r: Result) -> None:
            entry = entries[r.stem]
            entry.update(status=r.status, error=r.error, seconds={k: round(v, 3) for k, v in r.seconds.items()},
                         kernel_mb=r.kernel_mb, kernel_peak_mb=r.kernel_peak_mb, worker_mb=r.worker_mb,
                         worker=r.worker, restarts=r.restarts,
                         notebook=f"notebooks/{r.stem}.ipynb",
                         html=f"{r.stem}.html" if "html" in formats and r.status == "ok" else None,
                         pdf=f"{r.stem}.pdf" if "pdf" in formats and r.status == "ok" else None)
            if r.status == "ok":
                summary.built += 1
            else:
                summary.failed.append((r.stem, r.error or "failed"))
            bar.update(1)
            if summary.failed:
                bar.set_postfix_str(f"błędy: {len(summary.failed)}" if options.lang == "pl" else f"failed: {len(summary.failed)}")

        interrupted = True
        try:
            if payload:
                pool.run(payload, on_result)
            interrupted = False
        finally:
            bar.close()
            for entry in entries.values():  # reports the build never reached (Ctrl-C)
                if entry.get("status") == "pending":
                    entry.update(status="interrupted", error="przerwano budowanie" if options.lang == "pl"
                                 else "build interrupted")
            # Reports of this plan only: entries of reports no longer planned are dropped.
            planned = {j.stem for j in jobs}
            kept = {k: v for k, v in entries.items() if k in planned} if _same_scope(options) else entries
            manifest = {
                "edition": edition, "generated_at": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
                "lang": options.lang, "formats": list(formats), "versions": _versions(),
                "inputs": {"db": str(db_path), "db_stat": db_stat, "data_hash": data_hash, "reference_hash": ref_hash,
                           "code_hash": lib_hash, "cube_key": inputs_key, "synthetic": cube_meta.get("synthetic")},
                "cube": {"file": CUBE_FILE, "seconds": round(summary.cube_seconds, 3), "rebuilt": summary.cube_rebuilt},
                "reports": kept,
                "summary": {"planned": summary.total, "built": summary.built, "skipped": summary.skipped,
                            "failed": len(summary.failed), "interrupted": interrupted},
            }
            summary.seconds = time.perf_counter() - t0
            manifest["summary"]["seconds"] = round(summary.seconds, 3)
            _write_json(manifest_path, manifest)  # first: the manifest must survive a failing index
            _remove_dropped(out_dir, [k for k in entries if k not in kept])
            summary.index = _write_index(out_dir, manifest, ref, options.lang)
        return summary


def _remove_dropped(out_dir: Path, stems: Iterable[str]) -> None:
    """Delete the files of reports a full build no longer plans (an institution that left, or a
    report named the way an older zpb named it, by internal id): the folder is shared, and a file
    the index does not list would look current."""
    for stem in stems:
        if "/" in stem or "\\" in stem or stem.startswith("."):  # only our own flat file names
            continue
        for path in (out_dir / f"{stem}.html", out_dir / f"{stem}.pdf", out_dir / "notebooks" / f"{stem}.ipynb"):
            path.unlink(missing_ok=True)


def _known_institutions(db_path: Path, wanted: Iterable[str | int]) -> tuple[str, ...]:
    """The identifiers people gave (RSPO numbers, POL-on ids) as the database spells them; a
    ValueError names the first that is malformed or unknown."""
    if not wanted:
        return ()
    con = store.connect(db_path, readonly=True)
    try:
        out = []
        for text in wanted:
            try:
                out.append(lookup(con, text).ident)
            except UnknownInstitution as exc:
                raise ValueError(str(exc)) from None
        return tuple(dict.fromkeys(out))
    finally:
        con.close()


def _same_scope(options: BuildOptions) -> bool:
    """A full build (no filters) decides which reports exist; a filtered one only updates."""
    return not (options.counties or options.institutions or set(options.only) != set(KINDS))


def _write_index(out_dir: Path, manifest: dict[str, Any], ref: Reference, lang: str) -> Path:
    from .index import IndexEntry, write_index

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
                             "synthetic": bool(inputs.get("synthetic"))})


class _NoBar:
    def update(self, n: int) -> None: ...
    def set_postfix_str(self, s: str) -> None: ...
    def close(self) -> None: ...


def _progress(total: int, enabled: bool):
    if not enabled or total == 0:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, unit="raport", file=sys.stderr, dynamic_ncols=True)
