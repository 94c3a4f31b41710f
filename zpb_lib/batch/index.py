"""The edition index page `reports/<edition>/index.html`: every report by county, offline search.

Coordinators open it from a shared drive or an e-mail attachment folder, so it is one file with
relative links, the stylesheet inlined and a small inline search script that only narrows the list:
without JavaScript every report is still listed. A Content-Security-Policy allows that one script
(by hash) and nothing else, so no injected markup could ever run or load anything.
"""
from __future__ import annotations

import base64
import hashlib
import os
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from zpb_lib.domain.labels import LANGS, labels_for
from zpb_lib.core.files import atomic_write
from zpb_lib.batch.files import TEMPLATE_BASEDIR, TEMPLATE_NAME

Kind = Literal["county", "school", "voivodeship"]
Status = Literal["ok", "failed", "skipped"]

_TEMPLATE_DIR = TEMPLATE_BASEDIR / TEMPLATE_NAME


@dataclass(frozen=True)
class IndexEntry:
    """One report of the edition as the build left it; the index lists every entry it is given.

    kind         "county", "school" (any institution, universities included) or "voivodeship".
    title        what the reader looks for: the institution's name for a school report, e.g.
                 "Raport powiatu bocheńskiego" for a county report. Plain text (escaped here).
    county       4-digit county TERYT code ("1201"); None for the voivodeship report.
    county_name  the county as its section heading should read, e.g. "powiat bocheński",
                 "m. Kraków" (or "Bochnia County" in English); None for the voivodeship.
    police_unit  the police unit serving the county, e.g. "KPP Bochnia"; None for the voivodeship.
    html, pdf    the report's files, or None when not produced. A relative path is relative to the
                 index's directory (as a manifest stores it); an absolute one is made relative.
    status       "ok"; "skipped" (inputs unchanged: the files of the previous build stand and are
                 linked); "failed" (listed with `error`, never linked, so that a stale file from an
                 older build is not offered as current).
    error        short reason for a failure shown to the reader (no traceback), e.g. "KeyError".
    identifier   a school report's institution as people identify it, "RSPO 123456" or
                 "POL-on 8c4e…" (shown next to the title and found by the search box); None for
                 county and voivodeship reports.
    """

    kind: Kind
    title: str
    county: str | None
    county_name: str | None
    police_unit: str | None
    html: Path | str | None = None
    pdf: Path | str | None = None
    status: Status = "ok"
    error: str | None = None
    identifier: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("county", "school", "voivodeship"):
            raise ValueError(f"IndexEntry {self.title!r}: kind must be county|school|voivodeship, "
                             f"not {self.kind!r}")
        if self.status not in ("ok", "failed", "skipped"):
            raise ValueError(f"IndexEntry {self.title!r}: status must be ok|failed|skipped, "
                             f"not {self.status!r}")


@dataclass(frozen=True)
class IndexMeta:
    """What the edition's reports were made from, shown at the top of the index."""

    data_hash: str
    generated_at: datetime
    synthetic: bool = False

    @classmethod
    def coerce(cls, meta: IndexMeta | Mapping[str, Any]) -> IndexMeta:
        """An IndexMeta from itself or a manifest-style mapping (`generated_at` may be ISO text)."""
        if isinstance(meta, IndexMeta):
            return meta
        when = meta["generated_at"]
        if isinstance(when, str):
            when = datetime.fromisoformat(when)
        return cls(str(meta["data_hash"]), when, bool(meta.get("synthetic", False)))


# User-visible text of the index page by language (to join the report labels when those exist).
# The index page's texts live with every other label, under "index.*".
LABELS: dict[str, dict[str, str]] = {lang: labels_for("index", lang) for lang in LANGS}

# Narrows the list as the reader types; accent- and case-insensitive like the data-search text.
_SEARCH_JS = """
(function () {
  var box = document.getElementById("zpb-search"), q = document.getElementById("zpb-q");
  var count = document.getElementById("zpb-count"), none = document.getElementById("zpb-none");
  var items = document.querySelectorAll("li[data-search]");
  var groups = document.querySelectorAll("section.zpb-county");
  function norm(s) {
    return s.toLowerCase().normalize("NFD").replace(/[\\u0300-\\u036f]/g, "").replace(/\\u0142/g, "l");
  }
  function apply() {
    var words = norm(q.value).split(/\\s+/).filter(Boolean), shown = 0;
    items.forEach(function (li) {
      var text = li.getAttribute("data-search");
      var ok = words.every(function (w) { return text.indexOf(w) !== -1; });
      li.hidden = !ok;
      if (ok) { shown += 1; }
    });
    groups.forEach(function (g) { g.hidden = !g.querySelector("li[data-search]:not([hidden])"); });
    none.hidden = shown > 0;
    count.textContent = words.length ? count.getAttribute("data-found").replace("{n}", shown) : "";
  }
  box.hidden = false;
  q.addEventListener("input", apply);
})();
"""


def search_key(text: str) -> str:
    """Lower case without diacritics ("Łącko" -> "lacko"), as the page's script folds queries."""
    folded = unicodedata.normalize("NFD", text.lower())
    return "".join(c for c in folded if not unicodedata.combining(c)).replace("ł", "l")


_PL_ORDER = str.maketrans({"ą": "a\uffff", "ć": "c\uffff", "ę": "e\uffff", "ł": "l\uffff",
                           "ń": "n\uffff", "ó": "o\uffff", "ś": "s\uffff", "ź": "z\uffff",
                           "ż": "z\uffff\uffff"})


def polish_sort_key(text: str) -> str:
    """Approximate Polish alphabetical order (l < ł, z < ź < ż) without relying on system locales."""
    return text.casefold().translate(_PL_ORDER)


def _href(target: Path | str, index_dir: Path) -> str:
    path = Path(target)
    if path.is_absolute():
        path = Path(os.path.relpath(path.resolve(), index_dir.resolve()))
    return quote(path.as_posix(), safe="/")


def _format_time(when: datetime, lang: str) -> str:
    text = when.strftime("%d.%m.%Y %H:%M" if lang == "pl" else "%Y-%m-%d %H:%M")
    zone = when.strftime("%Z")
    return f"{text} {zone}" if zone else text


def _item(entry: IndexEntry, index_dir: Path, L: dict[str, str]) -> dict[str, object]:
    links: list[tuple[str, str]] = []
    status, status_class = "", ""
    if entry.status == "failed":
        status, status_class = L["status_failed"], "failed"
    else:
        links = [(label, _href(p, index_dir)) for label, p in (("HTML", entry.html), ("PDF", entry.pdf))
                 if p is not None]
        if not links:
            status, status_class = L["status_missing"], "failed"
    searchable = " ".join(
        x for x in (entry.title, entry.identifier, entry.county_name, entry.county, entry.police_unit) if x
    )
    return {
        "title": entry.title,
        "identifier": entry.identifier,
        "kind": L[f"kind_{entry.kind}"],
        "links": links,
        "status": status,
        "status_class": status_class,
        "search": search_key(searchable),
    }


def _groups(entries: Sequence[IndexEntry], index_dir: Path, L: dict[str, str]) -> list[dict]:
    """Voivodeship first, then counties by TERYT; in a county its report, then institutions A–Z."""
    kind_rank = {"voivodeship": 0, "county": 1, "school": 2}
    ordered = sorted(entries, key=lambda e: (kind_rank[e.kind], polish_sort_key(e.title)))
    groups: dict[str, dict] = {}
    for e in ordered:
        key = "" if e.kind == "voivodeship" else (e.county or "~")
        if key not in groups:
            groups[key] = _group_header(e, key, L)
        groups[key]["reports"].append(_item(e, index_dir, L))
    return [groups[k] for k in sorted(groups)]


def _group_header(e: IndexEntry, key: str, L: dict[str, str]) -> dict:
    if key == "":
        return {"teryt": None, "heading": L["voivodeship"], "details": "", "reports": []}
    if key == "~":
        return {"teryt": None, "heading": L["other"], "details": "", "reports": []}
    details = L["county_details"].format(teryt=e.county, unit=e.police_unit or "—")
    return {"teryt": key, "heading": e.county_name or key, "details": details, "reports": []}


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(_TEMPLATE_DIR)),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=False,
    )


@lru_cache(maxsize=1)
def _css() -> str:
    return (_TEMPLATE_DIR / "static" / "report.css").read_text(encoding="utf-8")


def _csp(script: str) -> str:
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    return (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        f"script-src 'sha256-{digest}'; base-uri 'none'; form-action 'none'"
    )


def render_index(
    entries: Iterable[IndexEntry],
    index_dir: str | os.PathLike[str],
    edition: str,
    lang: str = "pl",
    *,
    meta: IndexMeta | Mapping[str, Any],
    alternate: Mapping[str, Path | str] | None = None,
) -> str:
    """The index page as a string; links are relative to `index_dir`.

    `meta` is an IndexMeta or a mapping with `data_hash`, `generated_at` (datetime or ISO text)
    and optionally `synthetic`. `alternate` maps another language to its index page of the same
    edition (e.g. ``{"en": "en/index.html"}``), linked at the top of the page.
    """
    if lang not in LABELS:
        raise ValueError(f"lang must be one of {sorted(LABELS)}, not {lang!r}")
    L = LABELS[lang]
    meta = IndexMeta.coerce(meta)
    entries = list(entries)
    failed = [e for e in entries if e.status == "failed"]
    return _environment().get_template("edition_index.html.j2").render(
        lang=lang,
        L=L,
        css=Markup(_css()),  # noqa: S704 - our own stylesheet, not data
        script=Markup(_SEARCH_JS),  # noqa: S704 - constant code, allowed by hash in the CSP
        csp=Markup(_csp(_SEARCH_JS)),  # noqa: S704 - constant policy and a base64 digest
        page_title=L["title"].format(edition=edition),
        meta=meta,
        generated=_format_time(meta.generated_at, lang),
        generated_iso=meta.generated_at.isoformat(timespec="seconds"),
        summary=L["summary"].format(total=len(entries), failed=len(failed)),
        failed=failed,
        groups=_groups(entries, Path(index_dir), L),
        alternates=[{"lang": other, "href": _href(path, Path(index_dir)), "text": LABELS[other]["this_language"]}
                    for other, path in sorted((alternate or {}).items()) if other != lang and other in LABELS],
    )


def write_index(
    entries: Iterable[IndexEntry],
    path: str | os.PathLike[str],
    edition: str,
    lang: str = "pl",
    *,
    meta: IndexMeta | Mapping[str, Any],
    alternate: Mapping[str, Path | str] | None = None,
) -> Path:
    """Write the edition's index page atomically at `path` (usually reports/<edition>/index.html)."""
    target = Path(path)
    html = render_index(entries, target.parent, edition, lang, meta=meta, alternate=alternate)
    with atomic_write(target) as f:
        f.write(html.encode("utf-8"))
    return target
