"""The „Pobierz” tab: the files a coordinator fills in or sets a form up from — an institution's audit
protocol, the register workbook filled with her unit's institutions, the survey forms. Each is
written when its button is clicked, under the user's role, into a private temporary folder that is
gone before the file reaches the browser."""
from __future__ import annotations

import asyncio
import io
import shutil
import tempfile
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import panel as pn

from zpb_lib.core.errors import ZpbError
from zpb_lib.reference import GROUPS, reference
from zpb_lib.services import templates
from zpb_lib.services.lookups import current_edition, editions
from zpb_lib.services.schools import SchoolList
from zpb_lib.store.schema import AUDIT_KINDS
from zpb_lib.web.journal import note
from zpb_lib.web.texts import LANGS, t

if TYPE_CHECKING:  # the page builds this tab: no import back at run time
    from zpb_lib.web.pages import Session

# What a button writes into the folder it is given; or, when a choice is missing, what to say.
Job = Callable[[Path], Path]


class Download(pn.widgets.FileDownload):
    """Panel's download button whose callback may give nothing: then nothing is sent, and the page
    says why (a missing choice, a refusal) instead of the server logging an error."""

    def _sync_data(self, fileobj: Any) -> None:
        if fileobj is not None:
            super()._sync_data(fileobj)


class DownloadsPage:
    """Buttons that build a file for the choices above them and hand it to the browser."""

    def __init__(self, session: Session, schools: SchoolList):
        lang = self.lang = session.lang
        self.session = session
        self.units = schools.units
        self.by_label = {s.label(): s for s in schools.schools}
        self.result = pn.pane.HTML("", sizing_mode="stretch_width")

        # (a) the audit protocol of one of the list's institutions
        self.school = pn.widgets.AutocompleteInput(label=t("audited", lang), options=list(self.by_label),
                                                   case_sensitive=False, search_strategy="includes",
                                                   restrict=True, min_characters=2, width=420)
        held = editions(held_only=True)
        self.edition = pn.widgets.Select(label=t("edition", lang), options={e.label: e.edition for e in reversed(held)},
                                         value=current_edition().edition, width=200)
        self.kind = pn.widgets.Select(label=t("audit_kind", lang), width=300, options={
            t("audit_kind_open", lang): "", **{t(f"audit_{k}", lang): k for k in AUDIT_KINDS}})
        audit = pn.Column(self.heading("kind_audit", "audit_help"), self.school, pn.Row(self.edition, self.kind),
                          self.button("get_audit", self.audit_job, width=420))

        # (b) the register workbook: the unit's institutions, or those of the unit chosen
        units = reference().police_units
        if self.units is None:
            self.unit = pn.widgets.Select(label=t("police_unit", lang), width=420, options={
                t("every_unit", lang): "", **{u.name: code for code, u in units.items()}})
            whose: pn.viewable.Viewable = self.unit
        else:
            self.unit = None
            names = ", ".join(units[u].name if u in units else u for u in sorted(self.units))
            whose = pn.pane.HTML(f"<p>{escape(t('register_of', lang, who=names))}</p>")
        register = pn.Column(self.heading("kind_register", "register_help"), whose,
                             self.button("get_register", self.register_job, width=420))

        # (c) the survey forms and their instructions
        self.group = pn.widgets.Select(label=t("group", lang), options={t(g, lang): g for g in GROUPS}, width=200)
        self.form_lang = pn.widgets.Select(label=t("form_lang", lang), width=200,
                                           options={t(f"lang_{code}", lang): code for code in LANGS}, value=lang)
        forms = pn.Column(self.heading("surveys", "surveys_help"), pn.Row(self.group, self.form_lang),
                          pn.Row(*(self.button(f"get_form_{ext}", self.form_job(f".{ext}"))
                                   for ext in ("md", "csv", "pdf"))))

        self.view = pn.Column(audit, register, forms, self.result, sizing_mode="stretch_width")

    def heading(self, title: str, help_text: str) -> pn.pane.HTML:
        return pn.pane.HTML(f"<h2>{escape(t(title, self.lang))}</h2><p>{escape(t(help_text, self.lang))}</p>",
                            sizing_mode="stretch_width")

    def button(self, label: str, job: Callable[[], Job | str], **layout: Any) -> Download:
        """A download button: ``job()`` reads the choices (what is missing, as a sentence) and gives
        what writes the file; that runs under the user's role, in a folder of its own."""
        widget = Download(label=t(label, self.lang), button_type="primary", **layout)

        async def send() -> io.BytesIO | None:
            work = job()
            if isinstance(work, str):
                self.say(work, refused=True)
                return None
            folder = Path(tempfile.mkdtemp(prefix="zpb-download-"))  # mode 0700: this user's only
            try:
                name, data = await self.session.run(lambda: _read(work(folder)))
            except ZpbError as exc:
                self.say(str(exc), refused=True)
                return None
            finally:
                shutil.rmtree(folder, ignore_errors=True)
            widget.filename = name
            self.say(t("prepared", self.lang, file=name))
            asyncio.ensure_future(note(self.session, "download", name))  # after the file; never in its way
            return io.BytesIO(data)

        widget.callback = send
        return widget

    def say(self, text: str, *, refused: bool = False) -> None:
        if refused:
            self.result.object = f'<p class="zpb-refused" role="alert">{escape(text)}</p>'
        else:
            self.result.object = f'<p class="zpb-ok" role="status">{escape(text)}</p>'

    def audit_job(self) -> Job | str:
        school = self.by_label.get(self.school.value or "")
        if school is None:  # only the list's institutions: the unit's own
            return t("need_school", self.lang)
        db, edition, kind = self.session.config.db, self.edition.value, self.kind.value or None
        return lambda folder: templates.audit_protocol(db, school.ident, edition, folder, kind=kind)

    def register_job(self) -> Job | str:
        units = self.units if self.unit is None else ([self.unit.value] if self.unit.value else None)
        db = self.session.config.db
        return lambda folder: templates.register_workbook(db, folder, units=units)

    def form_job(self, ext: str) -> Callable[[], Job | str]:
        def job() -> Job | str:
            group, lang = self.group.value, self.form_lang.value
            return lambda folder: templates.survey_form(group, lang, folder, formats=(ext,))[0]
        return job


def _read(path: Path) -> tuple[str, bytes]:
    return path.name, path.read_bytes()
