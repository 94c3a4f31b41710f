"""The „Raporty” tab: the built reports of an edition (a coordinator's: her unit's counties and their
institutions), each with its build time and data version, how much the data has changed since, and
„Zbuduj raporty” — a build run as a job on the server (:mod:`zpb_lib.services.jobs`), one per edition
at a time, its progress read from the job's file so that a reload shows the same."""
from __future__ import annotations

import asyncio
import datetime as dt
from html import escape
from typing import TYPE_CHECKING, Any

import panel as pn

from zpb_lib.core.errors import ZpbError
from zpb_lib.reference import reference
from zpb_lib.services import build_jobs, built as built_service, jobs
from zpb_lib.services.lookups import current_edition, editions
from zpb_lib.store.rights import ANALYST, READER
from zpb_lib.web.report_files import report_url
from zpb_lib.web.tables import html_table
from zpb_lib.web.texts import LANGS, imports_count, t

if TYPE_CHECKING:  # the page builds this tab: no import back at run time
    from zpb_lib.web.pages import Session

POLL_MS = 1000  # how often an open tab reads its build's job file
# the theme's red under white text falls short of the contrast WCAG asks (4.5:1)
DARK_RED = ":host .bk-btn-danger { background-color: #a00000; border-color: #a00000; }"


def when(stamp: str | None) -> str:
    """An ISO time as the page shows it, to the minute in the server's zone."""
    if not stamp:
        return ""
    try:
        return dt.datetime.fromisoformat(stamp).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return stamp


class ReportsPage:
    def __init__(self, session: Session):
        lang = self.lang = session.lang
        self.session = session
        self.out = session.config.reports
        role = session.ident.role
        self.analyst = role == ANALYST
        self.unit = None if role in (ANALYST, READER) else build_jobs.unit_of_role(role)
        self.units = reference().police_units
        held = editions(held_only=True)
        self.edition = pn.widgets.Select(label=t("edition", lang), options={e.label: e.edition for e in reversed(held)},
                                         value=current_edition().edition, width=200)
        self.report_lang = pn.widgets.Select(label=t("reports_lang", lang), width=200, value=lang,
                                             options={t(f"lang_{code}", lang): code for code in LANGS})
        self.freshness = pn.pane.HTML("", sizing_mode="stretch_width")
        self.table = pn.pane.HTML("", sizing_mode="stretch_width")
        for w in (self.edition, self.report_lang):
            w.param.watch(lambda e: asyncio.ensure_future(self.refresh()), "value")
        listing = pn.Column(pn.pane.HTML(f"<h2>{escape(t('reports_heading', lang))}</h2>"
                                         f"<p>{escape(t('reports_help', lang))}</p>", sizing_mode="stretch_width"),
                            pn.Row(self.edition, self.report_lang), self.freshness, self.table,
                            sizing_mode="stretch_width")
        self.job_id: str | None = None  # the build this tab follows
        self.status = pn.pane.HTML("", sizing_mode="stretch_width")
        self.progress = pn.indicators.Progress(name=t("build_progress", lang), value=0, max=1, visible=False,
                                               width=420, bar_color="primary")
        self.cancel_button = pn.widgets.Button(label=t("cancel", lang), color="danger", visible=False, width=420,
                                               stylesheets=[DARK_RED])
        self.cancel_button.on_click(self.cancel)
        self.queue = pn.pane.HTML("", sizing_mode="stretch_width")
        self.view = pn.Column(listing, sizing_mode="stretch_width")
        if role != READER:
            self.view.append(self.build_section())
        self.view.extend([self.status, self.progress, self.cancel_button, self.queue])
        self.last_state: str | None = None
        pn.state.add_periodic_callback(self.poll, period=POLL_MS)

    def build_section(self) -> pn.Column:
        lang = self.lang
        if self.analyst:
            self.scope: pn.widgets.Select | None = pn.widgets.Select(label=t("build_unit", lang), width=420, options={
                t("whole_edition", lang): "", **{u.name: code for code, u in self.units.items()}})
            help_text = t("build_help_all", lang)
        else:
            self.scope = None
            who = self.units[self.unit].name if self.unit in self.units else str(self.unit)
            help_text = t("build_help_unit", lang, who=who)
        # a select, not a checkbox: Panel's checkbox has no label its input is named by
        self.kinds = pn.widgets.Select(label=t("build_kinds", lang), width=420, options={
            t("kinds_with_schools", lang): "", t("kinds_counties", lang): "county"})
        self.build_button = pn.widgets.Button(label=t("build", lang), color="primary", width=420)
        self.build_button.on_click(self.submit)
        parts: list[Any] = [pn.pane.HTML(f"<h2>{escape(t('build_heading', lang))}</h2><p>{escape(help_text)}</p>",
                                         sizing_mode="stretch_width")]
        if self.scope is not None:
            parts.append(self.scope)
        parts += [self.kinds, self.build_button]
        return pn.Column(*parts, sizing_mode="stretch_width")

    # ------------------------------------------------------------------ the built reports

    async def refresh(self) -> None:
        """The list of built reports and their freshness, for the edition and language chosen."""
        lang, edition, report_lang = self.lang, self.edition.value, self.report_lang.value
        b = await asyncio.to_thread(built_service.built, self.out, edition, report_lang, self.unit)
        if b is None or not b.reports:
            self.freshness.object = ""
            self.table.object = f"<p>{escape(t('reports_none', lang))}</p>"
            return
        f = await self.session.run(lambda: built_service.freshness(self.session.config.db, b))
        if f.current:
            mark = t("fresh", lang)
        elif f.imports:
            mark = t("stale_imports", lang, n=imports_count(f.imports, lang))
        else:
            mark = t("stale", lang)
        self.freshness.object = f'<p class="{"zpb-ok" if f.current else "zpb-refused"}">{escape(mark)}</p>'
        folder = built_service.edition_folder(b.edition)
        rows = []
        for r in b.reports:
            links = []
            if r.html:
                links.append(f'<a href="{escape(report_url(folder, b.lang, r.html))}" target="_blank" '
                             f'rel="noopener">{escape(t("open_html", lang))}<span class="zpb-sr"> {escape(r.title)}'
                             f'</span></a>')
            if r.pdf:
                links.append(f'<a href="{escape(report_url(folder, b.lang, r.pdf))}" download>'
                             f'{escape(t("get_pdf", lang))}<span class="zpb-sr"> {escape(r.title)}</span></a>')
            kind = t(f"report_kind_{r.kind}", lang) if r.kind in ("voivodeship", "county", "school") else r.kind
            rows.append([escape(r.title), escape(kind), escape(r.county_name or ""), escape(when(b.generated_at)),
                         f"<code>{escape(b.data_version or '')}</code>", " · ".join(links)])
        head = "".join(f'<th scope="col">{escape(t(k, lang))}</th>' for k in
                       ("col_report", "col_kind", "col_county", "col_built", "col_version", "col_files"))
        body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
        caption = escape(t("reports_caption", lang, n=len(rows)))
        self.table.object = (f'<table class="zpb-table"><caption>{caption}</caption><thead><tr>{head}</tr></thead>'
                             f'<tbody>{body}</tbody></table>')

    # ------------------------------------------------------------------ builds as jobs

    async def submit(self, _event: Any = None) -> None:
        lang = self.lang
        unit = self.unit if self.scope is None else (self.scope.value or None)
        ident = self.session.ident
        edition, report_lang, only_counties = self.edition.value, self.report_lang.value, self.kinds.value == "county"
        self.build_button.disabled = True
        try:
            job = await self.session.run(lambda: build_jobs.submit_build(
                self.session.config.db, self.out, edition=edition, lang=report_lang, unit=unit, login=ident.login,
                role=ident.role or "", counties_only=only_counties))
            await asyncio.to_thread(jobs.run_next, self.out, job.edition)
        except (ZpbError, ValueError, OSError) as exc:
            self.status.object = f'<p class="zpb-refused" role="alert">{escape(t("job_refused", lang, error=str(exc)))}</p>'
            return
        finally:
            self.build_button.disabled = False
        self.job_id = job.id
        self.last_state = None
        await self.poll()

    async def cancel(self, _event: Any = None) -> None:
        if self.job_id is None:
            return
        ident = self.session.ident
        try:
            await asyncio.to_thread(jobs.cancel, self.out, self.job_id, ident.login, ident.role or "")
        except (ZpbError, KeyError) as exc:
            self.status.object = f'<p class="zpb-refused" role="alert">{escape(str(exc))}</p>'
            return
        await self.poll()

    def followed(self, all_jobs: list[jobs.Job]) -> jobs.Job | None:
        """The build this tab shows: the one it started or followed, to its end; else this person's
        newest waiting or running build of the edition (a reload finds it again), else their newest,
        else — for an analyst — the edition's running one."""
        edition_jobs = [j for j in all_jobs if j.edition == self.edition.value]
        shown = [j for j in edition_jobs if j.id == self.job_id]
        if shown:
            return shown[0]
        own = [j for j in edition_jobs if j.login == self.session.ident.login]
        active = [j for j in own if j.active]
        if active or own:
            return (active or own)[-1]
        if self.analyst:
            return next((j for j in edition_jobs if j.state == jobs.RUNNING), None)
        return None

    def scope_text(self, job: jobs.Job) -> str:
        if not job.counties:
            return t("whole_edition", self.lang)
        ref = reference()
        units = sorted({ref.counties[c].police_unit for c in job.counties if c in ref.counties})
        return ", ".join(self.units[u].name if u in self.units else u for u in units)

    async def poll(self) -> None:
        """The followed build's state, progress and result, and the edition's line, from the job files."""
        edition = self.edition.value
        try:
            all_jobs = await asyncio.to_thread(jobs.jobs, self.out)
            line = await asyncio.to_thread(jobs.queue, self.out, edition)
        except (ZpbError, ValueError, OSError):
            return
        job = self.followed(all_jobs)
        if job is not None:
            job = next((j for j in line if j.id == job.id), job)  # with its position
            self.job_id = job.id
        self.show_job(job)
        self.show_line(line)
        state = job.state if job is not None else None
        if self.last_state in jobs.ACTIVE and state not in jobs.ACTIVE:
            await self.refresh()  # a build just ended: the list shows what it made
        self.last_state = state

    def show_job(self, job: jobs.Job | None) -> None:
        lang = self.lang
        self.progress.visible = self.cancel_button.visible = False
        if job is None:
            self.status.object = ""
            return
        ident = self.session.ident
        may_cancel = job.active and (job.login == ident.login or self.analyst)
        self.cancel_button.visible = may_cancel and not job.cancelled_by
        jid = job.id.rsplit("-", 1)[-1]
        extra = ""
        if job.state == jobs.QUEUED:
            text = t("job_queued", lang, id=jid, position=job.position if job.position is not None else "?")
        elif job.state == jobs.RUNNING:
            p = job.progress
            self.progress.visible = True
            if job.cancelled_by:
                text = t("job_cancelling", lang, id=jid)
            elif p.planned is None:
                text = t("job_starting", lang, id=jid)
            else:
                text = t("job_running", lang, id=jid, done=p.done, planned=p.planned)
            if p.planned:
                self.progress.max, self.progress.value = p.planned, min(p.done, p.planned)
            else:
                self.progress.value = -1  # not known yet: a moving bar
        elif job.state == jobs.DONE:
            r = job.result or jobs.Result()
            text = t("job_done", lang, id=jid, built=r.built, skipped=r.skipped, failed=len(r.failed))
            extra = self.failures(r)
        elif job.state == jobs.CANCELLED:
            text = t("job_cancelled", lang, id=jid, who=job.cancelled_by or "?")
            extra = self.failures(job.result)
        else:
            text = t("job_failed", lang, id=jid, error=job.error)
            extra = self.failures(job.result)
        cls = "zpb-refused" if job.state == jobs.FAILED or (job.result and job.result.failed) else "zpb-ok"
        self.status.object = f'<div role="status"><p class="{cls}">{escape(text)}</p>{extra}</div>'

    def failures(self, result: jobs.Result | None) -> str:
        if not result or not result.failed:
            return ""
        return html_table([t("col_report", self.lang), t("col_problem", self.lang)],
                          [[stem, error] for stem, error in result.failed], caption=t("failures", self.lang))

    def show_line(self, line: list[jobs.Job]) -> None:
        lang = self.lang
        if not line:
            self.queue.object = ""
            return
        rows = [[j.position, j.id.rsplit("-", 1)[-1], j.login, self.scope_text(j), self.state_text(j)] for j in line]
        self.queue.object = html_table([t("col_position", lang), t("col_job", lang), t("col_who", lang),
                                        t("col_scope", lang), t("col_state", lang)], rows,
                                       caption=t("queue_caption", lang))

    def state_text(self, job: jobs.Job) -> str:
        """Waiting, or running with its reports done so far (once it knows how many it builds)."""
        text = t(f"state_{job.state}", self.lang)
        p = job.progress
        return f"{text} ({p.done}/{p.planned})" if job.state == jobs.RUNNING and p.planned else text
