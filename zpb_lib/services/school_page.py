"""The page of one institution in the web app: what its report shows, live from the current data and
made by the report's own code (:class:`~zpb_lib.report.school.SchoolReport` over the edition's cube
held in memory, :mod:`zpb_lib.services.cubes`), with the imports that named it, the sendings of its
reports and the reports a build left of it.

Only an institution of the login's list (:func:`zpb_lib.services.schools.my_schools`: a unit's role
its counties', an analyst or the reader every one) has a page; any other is refused
(:class:`NotYourSchool`), whatever the page asked for. Every function reads under the role of the
caller's connection: the web app runs them in a worker thread under the user's role.

The facts (:func:`school_facts`) take a fraction of a second; the report (:func:`school_report`)
may take seconds the first time an edition's cube is computed, so the page asks for them apart.
"""
from __future__ import annotations

import re
from html import escape, unescape
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from zpb_lib.core.errors import ZpbError
from zpb_lib.domain.labels import LANGS
from zpb_lib.report import html
from zpb_lib.report.school import SchoolReport
from zpb_lib.services import built as built_service
from zpb_lib.services import delivery
from zpb_lib.services.cubes import edition_data
from zpb_lib.services.imports import Db, list_imports
from zpb_lib.services.lookups import current_edition
from zpb_lib.services.schools import School, my_schools
from zpb_lib.store.history import ImportRecord
from zpb_lib.store.queries.deliveries import DELIVERY_COLUMNS

# The report's sections the page shows, in the report's order: the methods of SchoolReport.
SECTIONS = ("status", "audit_result", "gaps", "indicators", "places", "plan")
# The imports that name one institution as their target (a register or RSPO import names none).
TARGETED_KINDS = ("survey", "audit")


class NotYourSchool(ZpbError, LookupError):
    """An institution that is not on the login's list (another unit's, or none at all): the same
    answer either way, so that a refusal tells nothing of what exists."""


@dataclass(frozen=True)
class Sending:
    """One sending of the institution's report, as the deliveries table records it."""
    at: str  # ISO time, the database server's clock (UTC)
    login: str
    edition: str
    recipient: str
    report_file: str
    data_version: str | None
    outcome: str  # sent | failed
    detail: str | None


@dataclass(frozen=True)
class BuiltSchoolReport:
    """The institution's report in one language as the last finished build of the edition left it;
    ``html`` and ``pdf`` None (and no build) when it was not built."""
    lang: str
    folder: str  # the edition's folder name in the reports folder (2025-2026)
    html: str | None = None
    pdf: str | None = None
    generated_at: str | None = None
    data_version: str | None = None
    freshness: built_service.Freshness | None = None

    @property
    def built(self) -> bool:
        return bool(self.html or self.pdf)


@dataclass(frozen=True)
class SchoolFacts:
    """What the page shows besides the report: quick to read."""
    school: School
    edition: str
    imports: tuple[ImportRecord, ...]  # newest first
    sendings: tuple[Sending, ...]  # newest first
    reports: tuple[BuiltSchoolReport, ...]  # one per language


@dataclass(frozen=True)
class Section:
    key: str  # a name of SECTIONS
    html: html.Html


@dataclass(frozen=True)
class SchoolReportView:
    """The report's parts as the page shows them, its headings one level down (the page's h2 is the
    institution's name): ``sections`` empty and ``problem`` set when the edition's data has no report
    of the institution (e.g. it did not exist in that edition)."""
    edition: str
    lang: str
    data_version: str | None  # of the cube the sections were made from
    banner: html.Html  # the synthetic-data banner, or empty
    subtitle: str  # „RSPO 123456 · szkoła podstawowa · Bochnia · powiat bocheński · KPP w Bochni”
    sections: tuple[Section, ...]
    problem: str | None = None


@dataclass(frozen=True)
class SchoolPage:
    facts: SchoolFacts
    report: SchoolReportView


def find_school(db: Db, ident: str) -> School:
    """The institution ``ident`` (RSPO number or POL-on id) of the login's list; :class:`NotYourSchool`
    when it is not there."""
    ident = str(ident).strip()
    for s in my_schools(db).schools:
        if s.ident == ident:
            return s
    raise NotYourSchool(f"no institution {ident!r} among those this login looks after")


def targets(record: ImportRecord, ident: str) -> bool:
    """Whether the import was for the institution ``ident``: a survey or an audit records the RSPO
    number or POL-on id of its target in its details (as :meth:`ImportRecord.target` shows it)."""
    return record.kind in TARGETED_KINDS and str(record.details.get("institution", "")) == str(ident)


def imports_of(records: Iterable[ImportRecord], ident: str) -> list[ImportRecord]:
    """The imports of ``records`` that were for ``ident``, newest first."""
    return sorted((r for r in records if targets(r, ident)), key=lambda r: r.id, reverse=True)


def built_reports(db: Db, reports_dir: Path | str, edition: str, ident: str) -> list[BuiltSchoolReport]:
    """The institution's report in each language as the last build of ``edition`` left it (the
    build's manifest names what each report is of), with how the data stored now compares with
    what that build read."""
    folder = built_service.edition_folder(edition)
    out = []
    for lang in LANGS:
        b = built_service.built(reports_dir, edition, lang)
        r = next((r for r in b.reports if r.kind == "school" and r.key == str(ident)), None) if b else None
        if b is None or r is None:
            out.append(BuiltSchoolReport(lang, folder))
        else:
            out.append(BuiltSchoolReport(lang, folder, r.html, r.pdf, b.generated_at, b.data_version,
                                         built_service.freshness(db, b)))
    return out


def sendings_of(db: Db, ident: str) -> list[Sending]:
    """The sendings of the institution's reports the login may read, newest first."""
    out = []
    for row in delivery.history(db, ident):
        r = dict(zip(DELIVERY_COLUMNS, row))
        out.append(Sending(str(r["at"]), r["login"], r["edition"], r["recipient"], r["report_file"],
                           r["data_version"], r["outcome"], r["detail"]))
    return out


def school_facts(db: Db, ident: str, reports_dir: Path | str, edition: str | None = None) -> SchoolFacts:
    """The institution of the login's list, the imports for it, the sendings of its reports and its
    built reports of ``edition`` (default: the current one). :class:`NotYourSchool` for another."""
    school = find_school(db, ident)
    edition = edition or current_edition().edition
    imports = imports_of(list_imports(db).records, school.ident)
    reports = built_reports(db, reports_dir, edition, school.ident)
    return SchoolFacts(school, edition, tuple(imports), tuple(sendings_of(db, school.ident)), tuple(reports))


_HEADING = re.compile(r"<(/?)h([1-5])\b")
# A heading's text, or a table's scrolling box (a region landmark named by the table's caption).
_HEADING_OR_REGION = re.compile(r'<h([1-6])\b[^>]*>(.*?)</h\1>|(<div class="zpb-table-wrap" [^>]*?aria-label=")([^"]*)(")',
                                re.S)
_TAG = re.compile(r"<[^>]+>")


def one_level_down(markup: str) -> html.Html:
    """The report's headings one level lower (h2 → h3 …): in the app they sit under the page's h2."""
    return html.Html(_HEADING.sub(lambda m: f"<{m.group(1)}h{int(m.group(2)) + 1}", markup))


def distinct_regions(markup: str) -> html.Html:
    """The tables' boxes named apart where their captions repeat (the indicator tables of the three
    groups share their wave's caption): each such one named by the heading above it too
    („Uczniowie: Ewaluacja…”). One report is one page and the heading tells them apart; the app shows
    them among its own landmarks, where a screen reader's list of them must not hold the same name
    three times."""
    names = [m.group(4) for m in _HEADING_OR_REGION.finditer(markup) if m.group(3)]
    repeated = {n for n in names if names.count(n) > 1}
    heading = ""

    def name(m: re.Match) -> str:
        nonlocal heading
        if m.group(1):
            heading = unescape(_TAG.sub("", m.group(2))).strip()
            return m.group(0)
        if m.group(4) not in repeated or not heading:
            return m.group(0)
        return f"{m.group(3)}{escape(heading, quote=True)}: {m.group(4)}{m.group(5)}"

    return html.Html(_HEADING_OR_REGION.sub(name, markup))


def report_view(cube, ident: str, lang: str) -> SchoolReportView:
    """The report's sections of institution ``ident`` from ``cube`` (a report cube or the explorer's
    :class:`~zpb_lib.domain.edition_data.MemoryCube`), made by :class:`SchoolReport` as the built report makes them."""
    edition = str(cube.meta["edition"])
    version = cube.meta.get("data_hash")
    try:
        report = SchoolReport(cube, ident, lang)
    except ValueError as exc:  # not in the edition's data: the report says why, in the page's language
        return SchoolReportView(edition, lang, version, html.Html(""), "", (), str(exc))
    sections = tuple(Section(key, distinct_regions(one_level_down(getattr(report, key)()))) for key in SECTIONS)
    return SchoolReportView(edition, lang, version, report.banner(), " · ".join(report.subtitle_parts()), sections)


def school_report(db: Db, ident: str, lang: str, reports_dir: Path | str | None = None,
                  edition: str | None = None) -> SchoolReportView:
    """The report of institution ``ident`` of the login's list, live from the current data of
    ``edition`` (default: the current one): a build's cube while it is current, else the one computed
    for the data stored now (seconds the first time). :class:`NotYourSchool` for another."""
    school = find_school(db, ident)
    edition = edition or current_edition().edition
    data = edition_data(db, edition, Path(reports_dir) if reports_dir is not None else None)
    return report_view(data.cube, school.ident, lang)


def school_page(db: Db, ident: str, lang: str, reports_dir: Path | str, edition: str | None = None) -> SchoolPage:
    """Everything the page shows of institution ``ident``, in ``lang``."""
    facts = school_facts(db, ident, reports_dir, edition)
    return SchoolPage(facts, school_report(db, ident, lang, reports_dir, facts.edition))
