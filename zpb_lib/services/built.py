"""The reports a build left in the reports folder, as the web app lists and serves them: a language's
finished build by its manifest (its time, data version and reports), narrowed to one police unit's
counties and their institutions; the file of one of them, found only among the names that manifest
gives; and how far the data has moved on since (imports stored after the build read it)."""
from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zpb_lib import store
from zpb_lib.batch.pipeline import MANIFEST, lang_dir
from zpb_lib.core.errors import ZpbError
from zpb_lib.core.files import LinkRefused, read_regular
from zpb_lib.domain.labels import LANGS
from zpb_lib.reference import Reference, reference
from zpb_lib.store.freshness import imports_after

# what the app serves of a build: the reports themselves, never its notebooks, cube or manifest
SERVED = (".html", ".pdf")


class NoSuchReport(ZpbError, LookupError):
    """No report by that name that this person may have: the same answer whatever the reason, so
    that a refusal tells nothing of what exists."""


@dataclass(frozen=True)
class BuiltReport:
    stem: str
    kind: str  # voivodeship, county or school
    title: str
    county: str | None  # TERYT
    county_name: str | None
    police_unit: str | None  # the unit serving the report's county (None: the voivodeship's)
    html: str | None  # file names in the language's folder; None: not built in that format
    pdf: str | None
    key: str | None = None  # what the report is of: a county's TERYT code, an institution's RSPO number or POL-on id


@dataclass(frozen=True)
class BuiltEdition:
    """The last finished build of an edition in one language."""
    edition: str
    lang: str
    folder: Path
    generated_at: str
    data_version: str | None  # of the data the build read
    last_import: int | None  # the newest import that data held (None: a build that did not record it)
    reports: tuple[BuiltReport, ...]


@dataclass(frozen=True)
class Freshness:
    """The data a build read against the data stored now."""
    built_version: str | None
    current_version: str
    imports: int | None  # imports stored since the build read its data; None: not known

    @property
    def current(self) -> bool:
        return self.built_version == self.current_version


def edition_folder(edition: str) -> str:
    """An edition's folder name in the reports folder (2025/2026 → 2025-2026)."""
    return edition.replace("/", "-")


def _manifest(folder: Path) -> dict[str, Any]:
    try:
        data = json.loads(read_regular(folder / MANIFEST).decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _plain(name: object, suffix: str) -> str | None:
    """``name`` when it is a plain file name ending in ``suffix`` (no folder, not hidden), else None."""
    if not isinstance(name, str) or not name.endswith(suffix) or name.startswith(".") or "\x00" in name:
        return None
    if "/" in name or "\\" in name or os.sep in name or (os.altsep and os.altsep in name):
        return None
    return name


def _regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.lstat().st_mode)  # a link is not a file the build wrote
    except OSError:
        return False


def built(out: "str | os.PathLike[str]", edition: str, lang: str, unit: str | None = None,
          ref: Reference | None = None) -> BuiltEdition | None:
    """The last finished build of ``edition`` in ``lang`` under the reports folder ``out``, its
    reports narrowed to those of police unit ``unit`` (None: all) that were built and whose files are
    there; None when no build of it finished."""
    ref = ref or reference()
    edition = ref.edition_of(edition)
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r} ({', '.join(LANGS)})")
    folder = lang_dir(Path(out) / edition_folder(edition), lang)
    m = _manifest(folder)
    if not m.get("generated_at") or not isinstance(m.get("reports"), dict):
        return None
    inputs = m.get("inputs") if isinstance(m.get("inputs"), dict) else {}
    reports = []
    for stem, r in sorted(m["reports"].items()):
        if not isinstance(r, dict) or r.get("status") != "ok" or (unit is not None and r.get("police_unit") != unit):
            continue
        html, pdf = _plain(r.get("html"), ".html"), _plain(r.get("pdf"), ".pdf")
        html = html if html and _regular(folder / html) else None
        pdf = pdf if pdf and _regular(folder / pdf) else None
        if html or pdf:
            reports.append(BuiltReport(str(stem), str(r.get("kind", "")), str(r.get("title", stem)), r.get("county"),
                                       r.get("county_name"), r.get("police_unit"), html, pdf,
                                       str(r["key"]) if r.get("key") is not None else None))
    last = inputs.get("last_import")
    return BuiltEdition(edition, lang, folder, str(m["generated_at"]),
                        str(inputs["data_hash"]) if inputs.get("data_hash") else None,
                        int(last) if isinstance(last, int) and not isinstance(last, bool) else None, tuple(reports))


def report_file(out: "str | os.PathLike[str]", folder_name: str, lang: str, name: str, unit: str | None = None,
                ref: Reference | None = None) -> Path:
    """The file ``name`` of the build in ``out/<folder_name>`` (``2025-2026``) in ``lang``: only a
    report's HTML or PDF that the build's manifest names, a regular file in that folder (no other
    path, no link, nothing else the folder holds), of police unit ``unit``'s counties unless None.
    :class:`NoSuchReport` otherwise."""
    ref = ref or reference()
    editions = {edition_folder(e): e for e in ref.editions}
    suffix = os.path.splitext(name)[1] if isinstance(name, str) else ""
    if folder_name not in editions or lang not in LANGS or suffix not in SERVED or _plain(name, suffix) is None:
        raise NoSuchReport(name)
    b = built(out, editions[folder_name], lang, unit, ref)
    if b is None or not any(name in (r.html, r.pdf) for r in b.reports):
        raise NoSuchReport(name)
    return b.folder / name


def read_report(path: Path) -> bytes:
    """A report's bytes, never through a link that appeared since it was found."""
    try:
        return read_regular(path)
    except (FileNotFoundError, LinkRefused):
        raise NoSuchReport(path.name) from None


def freshness(db: "str | os.PathLike[str] | None", build: BuiltEdition) -> Freshness:
    """How the data stored now compares with what ``build`` read: the same version, or how many
    imports were stored since (None when the build names another database or no last import)."""
    with store.snapshot(store.locate(db)) as (con, version):
        if build.data_version == version:
            return Freshness(build.data_version, version, 0)
        same_db = build.data_version is not None and build.data_version.split("-")[0] == version.split("-")[0]
        if not same_db or build.last_import is None:
            return Freshness(build.data_version, version, None)
        return Freshness(build.data_version, version, imports_after(con, build.last_import))
