"""The page of one institution in the Szkoły tab (``?school=<RSPO or POL-on id>``): what its report
shows, live from the current data (:mod:`zpb_lib.services.school_page`, the report's own code), then
its built reports, the imports for it and the sendings of its report. A link of the list or of the
„Mój powiat” tab opens it; „← Wszystkie placówki” goes back to the list.

The facts are read first (a fraction of a second); the report follows — seconds when the edition's
cube is computed for the first time after an import — with „Ładowanie…” until then. Both are read in
a worker thread under the user's role: the service, not this page, refuses an institution that is not
on the login's list."""
from __future__ import annotations

import asyncio
import logging
from html import escape
from typing import TYPE_CHECKING, Callable

import panel as pn

from zpb_lib.core.errors import ZpbError
from zpb_lib.services import school_page as service
from zpb_lib.services.schools import School
from zpb_lib.web.desk_table import name_link
from zpb_lib.web.report_files import report_url
from zpb_lib.web.reports import when
from zpb_lib.web.tables import html_table
from zpb_lib.web.texts import imports_count, t

if TYPE_CHECKING:  # the page builds this tab: no import back at run time
    from zpb_lib.web.pages import Session

log = logging.getLogger(__name__)

# The report's look inside the app, scoped to the page's report (report.css styles a whole document:
# html, body, print rules); after the app's own CSS, so that the report's tables keep their lines.
CSS = """
.zpb-school-report { --zpb-line: #c4c9d0; --zpb-accent: #17426b; --zpb-muted: #4d4d4d;
  color: #1a1a1a; line-height: 1.45; max-width: 64rem; overflow-wrap: break-word; }
.zpb-school-report h3 { color: var(--zpb-accent); font-size: 1.2rem; margin: 1.4em 0 .5em;
  border-bottom: 2px solid var(--zpb-line); padding-bottom: .2em; }
.zpb-school-report h4 { color: var(--zpb-accent); font-size: 1.05rem; margin: 1em 0 .3em; }
.zpb-school-report p { margin: .4em 0 .7em; }
.zpb-school-report .zpb-table-wrap { overflow-x: auto; position: relative; }
.zpb-school-report .zpb-table-wrap:focus-visible { outline: 3px solid #0b4f94; outline-offset: 2px; }
.zpb-school-report table { border-collapse: collapse; margin: .6rem 0 1rem; font-size: .9rem;
  font-variant-numeric: tabular-nums; }
.zpb-school-report caption { caption-side: top; text-align: left; font-weight: 700; padding: 0 0 .4rem; }
.zpb-school-report .zpb-table th, .zpb-school-report .zpb-table td { border: 0; border-bottom: 1px solid var(--zpb-line);
  padding: .3rem .55rem; text-align: left; vertical-align: top; }
.zpb-school-report .zpb-table thead th { background: #e8edf3; border-bottom: 2px solid var(--zpb-accent);
  vertical-align: bottom; }
.zpb-school-report .zpb-table tbody th { font-weight: normal; }
.zpb-school-report .zpb-table tbody tr:nth-child(even) { background: #f5f7fa; }
.zpb-school-report .zpb-table .zpb-num { text-align: right; white-space: nowrap; }
.zpb-school-report td.zpb-missing { color: var(--zpb-muted); }
.zpb-school-report td.zpb-empty { text-align: center; }
.zpb-school-report .zpb-mark { font-weight: 700; white-space: nowrap; }
.zpb-school-report .zpb-mark-sign { display: inline-block; min-width: .7em; margin-left: .05em; text-align: center; }
.zpb-school-report .zpb-mark-better { color: #176b25; } .zpb-school-report .zpb-mark-worse { color: #a4001d; }
.zpb-school-report figure { margin: .8rem 0 1.2rem; }
.zpb-school-report figure img { max-width: 100%; height: auto; }
.zpb-school-report figcaption { font-size: .9rem; color: var(--zpb-muted); margin-top: .3rem; }
.zpb-school-report .zpb-figure__parts { display: none; }  /* the chart cut for paper */
.zpb-school-report .zpb-sr-only { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px;
  overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
.zpb-school-report .zpb-note { margin: .8rem 0; padding: .5rem .8rem; background: #fff7dc; border-left: 4px solid #8a6100; }
.zpb-school-report .zpb-error { border-left-color: #a4001d; }
.zpb-school-report .zpb-banner { display: block; margin: .4rem 0 .8rem; padding: .5rem .8rem; background: #a4001d;
  color: #fff; font-weight: 700; border: 2px solid #5c0010; border-radius: .25rem; }
.zpb-school-report .zpb-banner p, .zpb-school-report .zpb-note p { margin: .2rem 0; }
.zpb-school-report .zpb-footnotes { margin-top: .3rem; font-size: .88rem; color: var(--zpb-muted); }
.zpb-school-report .zpb-footnote { margin: .2rem 0; }
.zpb-school-report .zpb-legend { font-size: .88rem; color: var(--zpb-muted); }
.zpb-school-report .zpb-dl { display: grid; grid-template-columns: minmax(8rem, max-content) 1fr; gap: .15rem 1rem;
  margin: .5rem 0; }
.zpb-school-report .zpb-dl dt { font-weight: 600; } .zpb-school-report .zpb-dl dd { margin: 0; }
.zpb-school-head h2 { margin: .5rem 0 .1rem; } .zpb-school-head p { margin: .2rem 0; }
"""


def schools_table(schools: list[School], lang: str) -> str:
    """The Szkoły tab's list, each institution's name a link to its page."""
    return html_table([t(k, lang) for k in ("col_ident", "col_name", "col_locality", "col_county", "col_kind",
                                            "col_since")],
                      [[s.ident, name_link(s.ident, s.name, lang), s.locality, s.county_name, s.kind_name,
                        s.joined_edition if s.taking_part and s.joined_edition else ""] for s in schools])


def alert(text: str) -> str:
    return f'<p class="zpb-refused" role="alert">{escape(text)}</p>'


def back_link(lang: str) -> str:
    return f'<p><a href="?lang={escape(lang)}">{escape(t("school_back", lang))}</a></p>'


def head_html(school: School, lang: str, what: str = "") -> str:
    """The institution's name (the page's h2) and what it is (``what``: as the report says it, once
    it has arrived)."""
    key = "RSPO" if school.ident.isdigit() else "POL-on"
    what = what or " · ".join(x for x in (f"{key} {school.ident}", school.kind_name, school.locality,
                                          school.county_name) if x)
    return (f'<div class="zpb-school-head">{back_link(lang)}<h2>{escape(school.name)}</h2>'
            f'<p>{escape(what)}</p></div>')


def freshness_text(r: service.BuiltSchoolReport, lang: str) -> str:
    f = r.freshness
    if f is None:
        return ""
    if f.current:
        return t("fresh", lang)
    return t("stale_imports", lang, n=imports_count(f.imports, lang)) if f.imports else t("stale", lang)


def reports_html(facts: service.SchoolFacts, lang: str) -> str:
    """The institution's built reports, one row per language: the build's time and data version,
    whether the data changed since, and the files (HTML opens in the app, PDF downloads)."""
    head = "".join(f'<th scope="col">{escape(t(k, lang))}</th>' for k in
                   ("col_lang", "col_built", "col_version", "col_fresh", "col_files"))
    rows = []
    for r in facts.reports:
        language = escape(t(f"lang_{r.lang}", lang))
        if not r.built:
            rows.append(f'<tr><td>{language}</td><td colspan="4">{escape(t("school_not_built", lang))}</td></tr>')
            continue
        links = []
        if r.html:
            links.append(f'<a href="{escape(report_url(r.folder, r.lang, r.html))}" target="_blank" rel="noopener">'
                         f'{escape(t("open_html", lang))}<span class="zpb-sr"> ({language})</span></a>')
        if r.pdf:
            links.append(f'<a href="{escape(report_url(r.folder, r.lang, r.pdf))}" download>'
                         f'{escape(t("get_pdf", lang))}<span class="zpb-sr"> ({language})</span></a>')
        rows.append(f"<tr><td>{language}</td><td>{escape(when(r.generated_at))}</td>"
                    f"<td><code>{escape(r.data_version or '')}</code></td><td>{escape(freshness_text(r, lang))}</td>"
                    f"<td>{' · '.join(links)}</td></tr>")
    caption = escape(t("school_reports_caption", lang, edition=facts.edition))
    return (f"<h3>{escape(t('school_reports_heading', lang))}</h3>"
            f'<table class="zpb-table"><caption>{caption}</caption><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


def imports_html(facts: service.SchoolFacts, lang: str) -> str:
    from zpb_lib.web.pages import kind_text, target_text  # the Importy tab's words; pages imports this module

    heading = f"<h3>{escape(t('school_imports_heading', lang))}</h3>"
    if not facts.imports:
        return heading + f"<p>{escape(t('school_imports_none', lang))}</p>"
    rows = [[r.id, r.imported_at[:16].replace("T", " "), kind_text(r.kind, lang), r.file_name,
             target_text(r.target(), lang), r.rows, r.person or r.imported_by or ""] for r in facts.imports]
    return heading + html_table(
        [t("col_id", lang), t("col_when", lang), t("col_kind_import", lang), t("col_file", lang),
         t("col_target", lang), t("col_rows", lang), t("col_who", lang)], rows,
        caption=t("school_imports_caption", lang, n=len(rows)))


def sendings_html(facts: service.SchoolFacts, lang: str) -> str:
    heading = f"<h3>{escape(t('school_sendings_heading', lang))}</h3>"
    if not facts.sendings:
        return heading + f"<p>{escape(t('school_sendings_none', lang))}</p>"

    def outcome(s: service.Sending) -> str:
        return t("delivery_sent", lang) if s.outcome == "sent" else t("delivery_failed", lang, why=s.detail or "")

    rows = [[s.at[:19].replace("T", " "), s.login, s.edition, s.recipient, s.report_file, s.data_version or "",
             outcome(s)] for s in facts.sendings]
    return heading + html_table(
        [t(k, lang) for k in ("delivery_col_when", "delivery_col_who", "edition", "delivery_col_to",
                              "delivery_col_report", "delivery_col_version", "delivery_col_outcome")], rows,
        caption=t("school_sendings_caption", lang, n=len(rows)))


def report_html(view: service.SchoolReportView, lang: str) -> str:
    """The report's sections inside the scope of :data:`CSS`."""
    if view.problem:
        return f'<div class="zpb-school-report"><p class="zpb-note">{escape(view.problem)}</p></div>'
    live = t("school_live", lang, edition=view.edition, version=view.data_version or "")
    return (f'<div class="zpb-school-report">{view.banner}<p class="zpb-muted">{escape(live)}</p>'
            f'{"".join(s.html for s in view.sections)}</div>')


class SchoolView:
    """One institution's page: the heading at once, the facts and the report as they arrive."""

    def __init__(self, session: Session, school: School):
        lang = self.lang = session.lang
        self.session, self.school = session, school
        self.head = pn.pane.HTML(head_html(school, lang), sizing_mode="stretch_width")
        self.status = pn.pane.HTML(f'<p role="status">{escape(t("school_loading", lang))}</p>',
                                   sizing_mode="stretch_width")
        self.built = pn.pane.HTML("", sizing_mode="stretch_width")
        self.report = pn.pane.HTML("", sizing_mode="stretch_width")
        self.history = pn.pane.HTML("", sizing_mode="stretch_width")
        # the built reports (two rows) before the long report; what was imported and sent after it
        self.view = pn.Column(self.head, self.built, self.status, self.report, self.history,
                              sizing_mode="stretch_width")

    async def load(self) -> None:
        config, ident, lang = self.session.config, self.school.ident, self.lang
        try:
            facts = await self.session.run(lambda: service.school_facts(config.db, ident, config.reports))
        except service.NotYourSchool:
            self.status.object = alert(t("school_refused", lang, ident=ident))
            return
        except ZpbError as exc:
            self.status.object = alert(str(exc))
            return
        self.built.object = f'<div class="zpb-school-report">{reports_html(facts, lang)}</div>'
        self.history.object = (f'<div class="zpb-school-report">{imports_html(facts, lang)}'
                               f'{sendings_html(facts, lang)}</div>')
        try:
            view = await self.session.run(lambda: service.school_report(config.db, ident, lang, config.reports,
                                                                        facts.edition))
        except ZpbError as exc:
            self.status.object = alert(t("school_report_failed", lang, why=str(exc)))
            return
        except Exception as exc:  # a report that cannot be made must not leave „Ładowanie…” for ever
            log.exception("the report of institution %s", ident)
            self.status.object = alert(t("school_report_failed", lang, why=type(exc).__name__))
            return
        self.report.object = report_html(view, lang)
        if view.subtitle:
            self.head.object = head_html(self.school, lang, view.subtitle)
        self.status.object = ""


def school_tab(session: Session, schools: list[School], ident: str,
               listing: Callable[[], pn.viewable.Viewable]) -> pn.viewable.Viewable:
    """The Szkoły tab: the page of institution ``ident`` when it is on the login's list, the list
    (``listing``) under a refusal when it is not, the list alone without one."""
    if not ident:
        return listing()
    school = next((s for s in schools if s.ident == ident.strip()), None)
    if school is None:
        return pn.Column(pn.pane.HTML(alert(t("school_refused", session.lang, ident=ident)) + back_link(session.lang),
                                      sizing_mode="stretch_width"), listing(), sizing_mode="stretch_width")
    page = SchoolView(session, school)
    asyncio.ensure_future(page.load())
    return page.view
