"""What a logged-in user sees: the institutions of their unit, an import checked before it is
stored, and the unit's imports with undo. Every database call runs in a worker thread under the
user's zpb role (:func:`zpb_lib.store.acting_as`): the database, not this page, decides what the
role may read and change."""
from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any, Callable

import panel as pn
import param

from zpb_lib import store
from zpb_lib.core.errors import ZpbError
from zpb_lib.ingest.messages_pl import polish
from zpb_lib.reference import GROUPS, WAVES, reference
from zpb_lib.services import imports as import_service
from zpb_lib.services.lookups import current_edition, editions
from zpb_lib.services.schools import School, my_schools
from zpb_lib.store.rights import ANALYST, READER, unit_role
from zpb_lib.web.auth import COOKIE, LOGOUT, Identity, local_identity, read_identity
from zpb_lib.web.config import ServeConfig
from zpb_lib.web.delivery import DeliveryPage
from zpb_lib.web.desk import CSS as DESK_CSS
from zpb_lib.web.desk import desk_tab
from zpb_lib.web.downloads import DownloadsPage
from zpb_lib.web.indicators import CSS as INDICATORS_CSS
from zpb_lib.web.indicators import indicators_tab
from zpb_lib.web.reports import ReportsPage
from zpb_lib.web.school import CSS as SCHOOL_CSS
from zpb_lib.web.school import school_tab, schools_table
from zpb_lib.web.summaries import (audit_summary, institutions_summary, problems_table, register_summary,
                                   survey_summary, undo_summary)
from zpb_lib.web.journal import JournalPage, client_address, note
from zpb_lib.web.tables import html_table
from zpb_lib.web.texts import LANGS, TEXTS, t

# rows of the schools table at once; the search narrows the rest
SHOWN_SCHOOLS = 50
CSS = """
.zpb-header { background: #0b3d6b; color: #fff; padding: .6rem 1rem; width: 100%; box-sizing: border-box; }
.zpb-header a { color: #fff; }
.zpb-table { border-collapse: collapse; font-size: .9rem; }
.zpb-table th, .zpb-table td { border: 1px solid #bbb; padding: .25rem .5rem; text-align: left; vertical-align: top; }
.zpb-table th { background: #e8edf2; }
.zpb-ok { color: #0b5d1e; } .zpb-refused { color: #a00000; }
.zpb-facts { display: grid; grid-template-columns: max-content auto; gap: .2rem 1rem; }
.zpb-facts dt { font-weight: bold; } .zpb-facts dd { margin: 0; }
.zpb-table caption { text-align: left; font-weight: bold; padding: .4rem 0; }
.zpb-sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
"""


class BoundedDropper(pn.widgets.FileDropper):
    """Panel's chunked file drop, with the size limit kept by the server too: the browser's check
    can be skipped by a crafted client, so chunks beyond the limit are dropped as they arrive, never
    gathered (``refused`` names the file then)."""
    limit_bytes = param.Integer(default=20 * 1024 * 1024)
    refused = param.String(default="")
    _rename = {**pn.widgets.FileDropper._rename, "limit_bytes": None, "refused": None}  # the server's own

    def _process_event(self, event: Any) -> None:
        data = event.data
        if event.event_name == "upload_event":
            name = data["name"]
            if data["chunk"] == 1:
                self._file_buffer.clear()  # one file at a time: a new one replaces what was half sent
                self._sizes = {name: 0}
            sizes = getattr(self, "_sizes", {})
            if name not in sizes:
                return  # chunks of a file refused (or never begun): dropped
            sizes[name] += len(data["data"] or b"")
            if sizes[name] > self.limit_bytes:
                sizes.pop(name)
                self._file_buffer.pop(name, None)
                self.refused = name
                return
        super()._process_event(event)


@dataclass
class Session:
    """One browser tab: who, in which language, and the uploaded file while an import is checked."""
    config: ServeConfig
    ident: Identity
    lang: str
    folder: Path | None = None
    last_action: float = field(default_factory=time.time)
    address: str = ""  # the browser's, as the page's request came (its journal notes name it)

    def act(self, work: Callable[[], Any]) -> Any:
        """``work`` under the user's role, as the person (runs in a worker thread)."""
        self.last_action = time.time()
        with store.acting_as(self.ident.role, self.ident.login):
            return work()

    async def run(self, work: Callable[[], Any]) -> Any:
        return await asyncio.to_thread(self.act, work)

    def upload_folder(self) -> Path:
        """A private folder (0700) for this tab's upload, removed when the import ends."""
        if self.folder is None:
            self.folder = Path(tempfile.mkdtemp(prefix="zpb-upload-"))
        return self.folder

    def discard_upload(self) -> None:
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None


def import_detail(outcome: import_service.ImportOutcome) -> str:
    """An import's journal note: its number (when stored) and file, or that the file was refused."""
    if outcome.refused:
        return f"{outcome.kind} {outcome.file_name}: refused"
    return f"{outcome.kind} {outcome.file_name}" + (f": import #{outcome.import_id}" if outcome.import_id else "")


def kind_text(kind: str, lang: str) -> str:
    key = f"import_{kind}"
    return t(key, lang) if key in TEXTS else kind


def target_text(target: str, lang: str) -> str:
    """An import's target as the CLI words it (``67510 2025/2026 students baseline``), its group
    and wave in the page's language."""
    return " ".join(t(w, lang) if w in GROUPS + WAVES else w for w in target.split())


def role_text(ident: Identity, lang: str, unit_names: dict[str, str]) -> str:
    if ident.role == ANALYST:
        return t("analyst", lang)
    if ident.role == READER:
        return t("reader", lang)
    if ident.role is None:
        return t("no_access", lang)
    return unit_names.get(ident.role or "", ident.role or "")


def identity_of_session(config: ServeConfig) -> Identity | None:
    if config.local:
        return local_identity()
    return read_identity(pn.state.cookies.get(COOKIE), config)


def lang_of_session() -> str:
    args = pn.state.session_args or {}
    lang = (args.get("lang") or [b"pl"])[0].decode("ascii", "replace")
    return lang if lang in LANGS else "pl"


def school_of_session() -> str:
    """The institution a link opens (``?school=<RSPO or POL-on id>``, from the Szkoły list or the
    „Mój powiat” tab): its page in the Szkoły tab."""
    args = pn.state.session_args or {}
    return (args.get("school") or [b""])[0].decode("utf-8", "replace")[:40]


def no_access(config: ServeConfig, ident: Identity, lang: str) -> pn.Template:
    extra = ""
    if ident.problem.startswith("several:"):
        extra = f"<p>{escape(t('several_roles', lang, roles=ident.problem.split(':', 1)[1]))}</p>"
    body = pn.pane.HTML(f"<p>{escape(t('no_access_text', lang))}</p>{extra}"
                        f"<p><a href='{LOGOUT}?lang={lang}'>{escape(t('log_out', lang))}</a></p>")
    return page(lang, pn.pane.HTML(header_html(config, ident, lang, {})), body, heading=t("no_access", lang))


class SchoolsPage:
    def __init__(self, session: Session, schools: list[School], query: str = ""):
        lang = session.lang
        self.schools = schools
        self.search = pn.widgets.TextInput(label=t("search", lang), placeholder="", width=420, value=query,
                                           value_input=query)
        self.count = pn.pane.HTML("")
        self.table = pn.pane.HTML("", sizing_mode="stretch_width")
        self.search.param.watch(lambda e: self.show(), "value_input")
        self.lang = lang
        self.show()
        self.view = pn.Column(self.search, self.count, self.table, sizing_mode="stretch_width")

    def show(self) -> None:
        words = (self.search.value_input or "").lower().split()
        hits = [s for s in self.schools
                if all(w in f"{s.name} {s.locality} {s.ident} {s.county_name}".lower() for w in words)]
        lang = self.lang
        self.count.object = escape(t("schools_count", lang, n=len(hits), part=sum(s.taking_part for s in hits)))
        table = schools_table(hits[:SHOWN_SCHOOLS], lang)  # each name a link to the institution's page
        more = (f'<p>{escape(t("shown_first", lang, n=SHOWN_SCHOOLS))}</p>' if len(hits) > SHOWN_SCHOOLS else "")
        self.table.object = table + more


class ImportPage:
    """Drop a file, say what it is for, check it (a dry run), then store it."""

    def __init__(self, session: Session, schools: list[School], analyst: bool, on_saved: Callable[[], None]):
        lang = self.lang = session.lang
        self.session, self.on_saved = session, on_saved
        self._written: tuple[Any, Path] | None = None  # the file dropped last, as written
        self.by_label = {s.label(): s for s in schools}
        kinds = ["survey", "audit", "register"] + (["institutions", "published"] if analyst else [])
        self.kind = pn.widgets.Select(label=t("what_file", lang),
                                      options={t(f"kind_{k}", lang): k for k in kinds}, value="survey", width=420)
        self.school = pn.widgets.AutocompleteInput(label=t("school", lang), options=list(self.by_label),
                                                   case_sensitive=False, search_strategy="includes",
                                                   restrict=True, min_characters=2, width=420)
        held = [e for e in editions(held_only=True)]
        self.edition = pn.widgets.Select(label=t("edition", lang), options={e.label: e.edition for e in reversed(held)},
                                         value=current_edition().edition, width=200)
        self.group = pn.widgets.Select(label=t("group", lang), options={t(g, lang): g for g in GROUPS}, width=200)
        self.wave = pn.widgets.Select(label=t("wave", lang), options={t(w, lang): w for w in WAVES}, width=200)
        self.stored = pn.widgets.Select(label=t("if_stored", lang), width=420, options={
            t("if_stored_refuse", lang): "", t("if_stored_replace", lang): "replace", t("if_stored_append", lang): "append"})
        mb = session.config.max_upload_mb
        self.file = BoundedDropper(label=t("file", lang), multiple=False, max_file_size=f"{mb:g}MB",
                                   limit_bytes=int(mb * 1024 * 1024), accepted_filetypes=[".csv", ".xlsx", ".txt"],
                                   chunk_size=1_000_000, width=420)
        self.file.param.watch(self.too_big, "refused")
        self.file.param.watch(self.guess, "value")
        self.guessed = pn.pane.HTML("", sizing_mode="stretch_width")
        self.drop_help = pn.pane.HTML(f"<p>{escape(t('drop', lang, mb=f'{mb:g}'))}</p>")
        self.check_button = pn.widgets.Button(label=t("check", lang), color="primary")
        self.save_button = pn.widgets.Button(label=t("save", lang), color="success", disabled=True)
        self.result = pn.pane.HTML("", sizing_mode="stretch_width")
        self.award = pn.widgets.Select(label=t("award_kind", lang), width=420, options={
            t(f"award_{k}", lang): k for k in ("certyfikat", "przedłużenie", "lider")})
        self.download = pn.widgets.FileDownload(label=t("download_match", lang), visible=False, width=420)
        self.check_button.on_click(self.check)
        self.save_button.on_click(self.save)
        for w in (self.kind, self.school, self.edition, self.group, self.wave, self.stored, self.file):
            w.param.watch(lambda e: self.changed(), "value")
        self.survey_fields = pn.Column(pn.Row(self.edition, self.group, self.wave), self.stored)
        self.view = pn.Column(self.kind, self.school, self.survey_fields, self.award, self.drop_help, self.file,
                              self.guessed,
                              pn.Row(self.check_button, self.save_button), self.result, self.download,
                              sizing_mode="stretch_width")
        self.changed()

    def changed(self) -> None:
        """Any choice changed: the file must be checked again before it can be stored."""
        survey, published = self.kind.value == "survey", self.kind.value == "published"
        self.school.visible = self.survey_fields.visible = survey
        self.award.visible = published
        self.edition.visible = survey or published
        if published:  # the list needs the edition too: shown with the award
            self.survey_fields.visible = True
            self.group.visible = self.wave.visible = self.stored.visible = False
        else:
            self.group.visible = self.wave.visible = self.stored.visible = True
        self.save_button.visible = not published
        self.check_button.label = t("match" if published else "check", self.lang)
        self.download.visible = False
        self.save_button.disabled = True
        self.check_button.disabled = not self.file.value  # until the whole file has arrived

    def upload(self) -> Path | None:
        """The file dropped last, written into this tab's private folder (None: none yet). Written
        once per file dropped: the guess of a survey's group reads it in a thread while „Sprawdź”
        may already have been pressed, and must not find it removed and written again."""
        files = self.file.value or {}
        if not files:
            return None
        name, dropped = list(files.items())[-1]  # the file dropped last
        if self._written is not None and self._written[0] is dropped and self._written[1].is_file():
            return self._written[1]
        self.session.discard_upload()
        path = self.session.upload_folder() / Path(name).name
        # a text file arrives as text
        path.write_bytes(dropped.encode("utf-8") if isinstance(dropped, str) else dropped)
        self._written = (dropped, path)
        return path

    async def guess(self, _event: Any = None) -> None:
        """A survey export just dropped: its group from its questions, its wave from its name."""
        self.guessed.object = ""
        if self.kind.value != "survey" or not self.file.value:
            return
        path = self.upload()
        group, wave = await asyncio.to_thread(import_service.guess_survey, path)
        if group:
            self.group.value = group
        if wave:
            self.wave.value = wave
        if group or wave:
            said = ", ".join(t(v, self.lang) for v in (group, wave) if v)
            self.guessed.object = f'<p role="status">{escape(t("guessed", self.lang, what=said))}</p>'

    def too_big(self, event: Any) -> None:
        if event.new:
            mb = f"{self.session.config.max_upload_mb:g}"
            self.result.object = f'<p class="zpb-refused" role="alert">{escape(t("too_big", self.lang, mb=mb))}</p>'
            self.file.refused = ""

    def request(self) -> import_service.ImportRequest | str:
        """The import as chosen, or what is missing."""
        path = self.upload()
        if path is None:
            return t("need_file", self.lang)
        if path.stat().st_size > self.session.config.max_upload_mb * 1024 * 1024:
            self.session.discard_upload()
            self.file.value = {}
            return t("too_big", self.lang, mb=f"{self.session.config.max_upload_mb:g}")
        kind = self.kind.value
        if kind == "survey":
            school = self.by_label.get(self.school.value or "")
            if school is None:
                return t("need_school", self.lang)
            return import_service.SurveyImport(path, school.ident, self.edition.value, self.group.value, self.wave.value,
                                               replace=self.stored.value == "replace",
                                               append=self.stored.value == "append")
        if kind == "audit":
            return import_service.AuditImport(path)
        if kind == "register":
            return import_service.RegisterImport(path)
        if kind == "published":
            return path  # matched, not imported (see match)
        return import_service.InstitutionsImport(path)

    async def check(self, _event: Any = None) -> None:
        await self._run(dry_run=True)

    async def save(self, _event: Any = None) -> None:
        await self._run(dry_run=False)

    async def _run(self, *, dry_run: bool) -> None:
        request = self.request()
        if isinstance(request, str):
            self.result.object = f'<p class="zpb-refused" role="alert">{escape(request)}</p>'
            return
        if isinstance(request, Path):
            return await self.match(request)
        self.check_button.disabled = self.save_button.disabled = True
        try:
            call = import_service.preview if dry_run else import_service.commit
            outcome = await self.session.run(lambda: call(self.session.config.db, request))
        except ZpbError as exc:
            self.result.object = f'<p class="zpb-refused" role="alert">{escape(str(exc))}</p>'
            return
        finally:
            self.check_button.disabled = not self.file.value
        self.result.object = self.describe(outcome)
        if outcome.refused or not dry_run:
            self.session.discard_upload()
        self.save_button.disabled = not (dry_run and not outcome.refused)
        if not dry_run and not outcome.refused:
            self.file.value = {}
            self.on_saved()
        await note(self.session, "dry_run" if dry_run else "import", import_detail(outcome))

    async def match(self, path: Path) -> None:
        """A published award list: matched to the register into a workbook to download and review."""
        out = path.with_name(f"{path.stem}-dopasowanie.xlsx")
        outcome = await self.session.run(lambda: import_service.match_list(
            self.session.config.db, path, edition=self.edition.value, kind=self.award.value, out=out))
        lang = self.lang
        if outcome.refused:
            self.result.object = (f'<div role="alert"><p class="zpb-refused">{escape(t("refused", lang, file=outcome.file_name))}'
                                  f'</p><pre>{escape(str(outcome.refusal))}</pre></div>')
            return
        r = outcome.result
        items = "".join(f"<li>{escape(t(key, lang))}: {r.count(code)}</li>"
                        for key, code in (("match_auto", "auto"), ("match_review", "review"), ("match_none", "none")))
        self.result.object = (f'<div role="status"><p class="zpb-ok">{escape(t("matched", lang, file=outcome.file_name, items=r.items, schools=r.schools))}'
                              f'</p><ul>{items}</ul><p>{escape(t("match_next", lang))}</p></div>')
        self.download.file = str(outcome.workbook)
        self.download.filename = outcome.workbook.name
        self.download.visible = True

    def describe(self, outcome: import_service.ImportOutcome) -> str:
        lang = self.lang
        if outcome.refused:
            table = (problems_table(outcome.problems, lang) if outcome.problems
                     else f"<pre>{escape(outcome.message or '')}</pre>")
            return f'<div role="alert"><p class="zpb-refused">{escape(t("refused", lang, file=outcome.file_name))}</p>{table}</div>'
        head = (t("dry_run_ok", lang, file=outcome.file_name) if outcome.dry_run
                else t("saved", lang, id=outcome.import_id))
        summary = SUMMARIES.get(outcome.kind)
        if summary is not None and outcome.result is not None:
            body = summary(outcome.result, lang)
        else:  # a kind without its own summary: the command line's lines
            body = "<ul>" + "".join(f"<li>{escape(line)}</li>" for line in outcome.lines) + "</ul>"
        return f'<div role="status"><p class="zpb-ok">{escape(head)}</p>{body}</div>'


# the summary of each kind of import, in the page's language, from its result
SUMMARIES: dict[str, Callable[[Any, str], str]] = {
    "survey": survey_summary, "audit": audit_summary, "register": register_summary,
    "institutions": institutions_summary}


class ImportsPage:
    """The imports the role sees as its own, and undo (checked first)."""

    def __init__(self, session: Session):
        lang = self.lang = session.lang
        self.session = session
        self.heading = pn.pane.HTML("")
        self.table = pn.pane.HTML("", sizing_mode="stretch_width")
        self.refresh_button = pn.widgets.Button(label=t("refresh", lang))
        # a text box: a number box's spin buttons have no accessible names
        self.undo_id = pn.widgets.TextInput(label=t("undo_id", lang), width=200)
        self.undo_check = pn.widgets.Button(label=t("undo_check", lang))
        self.undo_button = pn.widgets.Button(label=t("undo", lang), color="danger", disabled=True)
        self.result = pn.pane.HTML("")
        self.refresh_button.on_click(lambda e: asyncio.ensure_future(self.refresh()))
        self.undo_check.on_click(self.check_undo)
        self.undo_button.on_click(self.do_undo)
        self.undo_id.param.watch(lambda e: setattr(self.undo_button, "disabled", True), "value")
        self.view = pn.Column(self.heading, self.refresh_button, self.table,
                              pn.Row(self.undo_id, self.undo_check, self.undo_button), self.result,
                              sizing_mode="stretch_width")

    async def refresh(self) -> None:
        lst = await self.session.run(lambda: import_service.list_imports(self.session.config.db))
        lang = self.lang
        who = lst.unit_name or t("analyst", lang)
        self.heading.object = f"<h2>{escape(t('imports_of', lang, who=who))}</h2>"
        if not lst.records:
            self.table.object = f"<p>{escape(t('no_imports', lang))}</p>"
            return
        rows = [[r.id, r.imported_at[:16].replace("T", " "), kind_text(r.kind, lang), r.file_name,
                 target_text(r.target(), lang), r.rows, r.person or r.imported_by or ""] for r in reversed(lst.records)]
        self.table.object = html_table(
            [t("col_id", lang), t("col_when", lang), t("col_kind_import", lang), t("col_file", lang),
             t("col_target", lang), t("col_rows", lang), t("col_who", lang)], rows)

    async def _undo(self, dry_run: bool) -> None:
        number = (self.undo_id.value or "").strip().lstrip("#")
        if not number.isdigit():
            return
        outcome = await self.session.run(lambda: import_service.undo(self.session.config.db, int(number),
                                                                     dry_run=dry_run))
        if outcome.refused:
            refusal = polish(outcome.refusal or "") if self.lang == "pl" else outcome.refusal or ""
            self.result.object = f'<p class="zpb-refused" role="alert">{escape(refusal)}</p>'
            self.undo_button.disabled = True
            if not dry_run:
                await note(self.session, "undo", f"import #{number}: refused")
            return
        if outcome.result is not None:
            body = undo_summary(outcome.result, self.lang)
        else:
            body = "<ul>" + "".join(f"<li>{escape(line)}</li>" for line in outcome.lines) + "</ul>"
        head = "" if dry_run else f"<p class='zpb-ok'>{escape(t('undone', self.lang, id=number))}</p>"
        self.result.object = f'<div role="status">{head}{body}</div>'
        self.undo_button.disabled = not dry_run
        if not dry_run:
            await note(self.session, "undo", "import " + ", ".join(f"#{i}" for i in outcome.undone or (int(number),)))
            await self.refresh()

    async def check_undo(self, _event: Any = None) -> None:
        await self._undo(True)

    async def do_undo(self, _event: Any = None) -> None:
        await self._undo(False)


def build(config: ServeConfig) -> pn.viewable.Viewable:
    """The page of one browser tab."""
    pn.config.raw_css = [CSS, DESK_CSS, SCHOOL_CSS, INDICATORS_CSS]
    lang = lang_of_session()
    ident = identity_of_session(config)
    if ident is None:  # expired between the page load and now
        return page(lang, pn.pane.HTML(""), pn.pane.HTML(
            f"<p><a href='{LOGOUT}?expired=1&lang={lang}'>{escape(t('log_in_again', lang))}</a></p>"),
            heading=t("expired", lang))
    if ident.role is None:
        return no_access(config, ident, lang)
    session = Session(config, ident, lang, address=client_address())
    try:
        schools = session.act(lambda: my_schools(config.db))
    except ZpbError as exc:
        return page(lang, pn.pane.HTML(header_html(config, ident, lang, {})),
                    pn.pane.HTML(f'<p role="alert">{escape(str(exc))}</p>'), heading=t("error", lang))
    unit_names = {unit_role(code): u.name for code, u in reference().police_units.items()}
    header = pn.pane.HTML(header_html(config, ident, lang, unit_names), sizing_mode="stretch_width")
    imports_page: list[ImportsPage] = []  # once its tab has been opened

    def imports_tab() -> pn.viewable.Viewable:
        imports_page.append(ImportsPage(session))
        asyncio.ensure_future(imports_page[0].refresh())
        return imports_page[0].view

    def journal_tab() -> pn.viewable.Viewable:
        journal_page = JournalPage(session)
        asyncio.ensure_future(journal_page.refresh())
        return journal_page.view

    def reports_tab() -> pn.viewable.Viewable:
        reports_page = ReportsPage(session)
        asyncio.ensure_future(reports_page.refresh())
        asyncio.ensure_future(reports_page.poll())
        return reports_page.view

    def delivery_tab() -> pn.viewable.Viewable:
        delivery_page = DeliveryPage(session, schools.units)
        asyncio.ensure_future(delivery_page.refresh())
        return delivery_page.view

    def saved() -> None:  # an import stored: the imports list, if open, shows it
        if imports_page:
            asyncio.ensure_future(imports_page[0].refresh())

    # „Mój powiat” first; the page still opens on Szkoły, so that a login costs what it did (the desk
    # takes about a second to read) and a link to a school (``?school=``) lands on its page.
    school = school_of_session()
    tabs: list[tuple[str, Callable[[], pn.viewable.Viewable]]] = [
        (t("tab_desk", lang), lambda: desk_tab(session)),
        (t("tab_schools", lang),
         lambda: school_tab(session, schools.schools, school, lambda: SchoolsPage(session, schools.schools).view))]
    if ident.role != READER:
        tabs.append((t("tab_import", lang),
                     lambda: ImportPage(session, schools.schools, ident.role == ANALYST, saved).view))
    tabs.append((t("tab_imports", lang), imports_tab))
    tabs.append((t("tab_downloads", lang), lambda: DownloadsPage(session, schools).view))
    tabs.append((t("tab_reports", lang), reports_tab))
    tabs.append((t("tab_indicators", lang), lambda: indicators_tab(session, schools.units)))
    if ident.role != READER:  # the unit's coordinator sends her schools' reports; the analyst any unit's
        tabs.append((t("tab_delivery", lang), delivery_tab))
    if ident.role == ANALYST:
        tabs.append((t("tab_journal", lang), journal_tab))
    pn.state.on_session_destroyed(lambda ctx: session.discard_upload())
    watch_idle(session)
    return page(lang, header, lazy_tabs(tabs, active=1))


def lazy_tabs(tabs: list[tuple[str, Callable[[], pn.viewable.Viewable]]], active: int = 0) -> pn.Tabs:
    """Tabs whose content is made when the tab is first opened: a page load builds and sends the
    tab it shows (``active``) only (building every tab's widgets was most of a login's cost on the server)."""
    holders = [pn.Column(sizing_mode="stretch_width") for _ in tabs]
    made: set[int] = set()

    def show(i: int) -> None:
        if i not in made and 0 <= i < len(tabs):
            made.add(i)
            holders[i].objects = [tabs[i][1]()]

    show(active)
    # dynamic: only the shown tab is in the page. A hidden tab stays in Bokeh's page as
    # aria-hidden, and its links and fields would still be reached by the keyboard (axe: aria-hidden-focus).
    view = pn.Tabs(*[(title, holder) for (title, _), holder in zip(tabs, holders)], active=active,
                   sizing_mode="stretch_width", dynamic=True)
    view.param.watch(lambda e: show(e.new), "active")
    return view


class Page(pn.Template):
    """Panel's template with a short repr: Panel calls repr() on each add_panel, and the default
    one walks every widget of the page (measured: about 40 % of building a page)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self._render_items)} roots)"


def page(lang: str, header: pn.viewable.Viewable, main: pn.viewable.Viewable, heading: str | None = None) -> pn.Template:
    """The document around the app: its language, a banner, one main landmark with the page's h1
    (``heading``, shown; without it the app's title, for screen readers only)."""
    tmpl = Page(DOCUMENT)
    tmpl.add_variable("lang", lang)
    tmpl.add_variable("app_title", t("title", lang))
    tmpl.add_variable("heading", heading or t("title", lang))
    tmpl.add_variable("heading_class", "" if heading else "zpb-h1")
    tmpl.add_panel("header", header)
    tmpl.add_panel("main", main)
    return tmpl


# Panel's own page says lang="en" and has no landmarks: this one is the same page with both.
DOCUMENT = """{% from macros import embed %}
<!DOCTYPE html>
<html lang="{{ lang }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ app_title | e }}</title>
<link rel="icon" type="image/png" href="{{ dist_url }}images/favicon.ico">
<style>
html, body { box-sizing: border-box; margin: 0; padding: 0; font-family: "DejaVu Sans", Arial, sans-serif; }
.zpb-h1 { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
main { padding: 0 .5rem; }
</style>
{{ bokeh_css if bokeh_css }}
{{ bokeh_js if bokeh_js }}
</head>
<body>
<header>{{ embed(roots.header) }}</header>
<main><h1 class="{{ heading_class }}">{{ heading | e }}</h1>{{ embed(roots.main) }}</main>
{{ plot_script | indent(4) }}
</body>
</html>
"""


def header_html(config: ServeConfig, ident: Identity, lang: str, unit_names: dict[str, str]) -> str:
    other = "en" if lang == "pl" else "pl"
    role = role_text(ident, lang, unit_names)
    logout = "" if config.local else f' · <a href="{LOGOUT}?lang={lang}">{escape(t("log_out", lang))}</a>'
    return (f'<div class="zpb-header"><strong>{escape(t("title", lang))}</strong> · '
            f'{escape(ident.name or ident.login)} ({escape(role)}) · '
            f'<a href="?lang={other}" lang="{other}">{escape(t("language", lang))}</a>{logout}</div>')


def watch_idle(session: Session) -> None:
    """An open tab left alone for the idle time ends its session: back to the login."""
    if session.config.local:
        return
    limit = session.config.idle_minutes * 60

    def check() -> None:
        if time.time() - session.last_action > limit or time.time() - session.ident.issued > session.config.session_hours * 3600:
            pn.state.location.href = f"{LOGOUT}?expired=1&lang={session.lang}"
    pn.state.add_periodic_callback(check, period=min(60_000, int(limit * 1000 / 2) or 1000))
