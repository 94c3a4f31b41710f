"""The „Wysyłka” tab: each school of a police unit gets its report by e-mail (:mod:`zpb_lib.services.delivery`).

A preview comes first — who gets which report, who has no address, who has no report — then the
coordinator may edit the subject and the text and send, after confirming the number of messages.
The SMTP server is the app server's (``ZPB_SMTP_*`` of the ``zpb serve`` process); without one the
tab says so and offers no sending. Every database call runs under the user's role
(``Session.run``): the database refuses another unit's schools whatever the page asks."""
from __future__ import annotations

import asyncio
import io
import shutil
import tempfile
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

import panel as pn

from zpb_lib.core import settings
from zpb_lib.core.errors import ZpbError
from zpb_lib.core.settings import SettingError
from zpb_lib.reference import reference
from zpb_lib.services import delivery
from zpb_lib.services.lookups import current_edition, editions
from zpb_lib.services.smtp import SmtpSettings
from zpb_lib.web.downloads import Download
from zpb_lib.web.tables import html_table
from zpb_lib.web.texts import LANGS, t

if TYPE_CHECKING:  # the page builds this tab: no import back at run time
    from zpb_lib.web.pages import Session

SHOWN_SENDINGS = 500


def refused(text: str) -> str:
    return f'<p class="zpb-refused" role="alert">{escape(text)}</p>'


def done(text: str) -> str:
    return f'<p class="zpb-ok" role="status">{escape(text)}</p>'


def smtp_settings() -> tuple[SmtpSettings | None, str]:
    """The server's SMTP settings, or None and why not (a wrong setting's own sentence; "" when none is set)."""
    if not settings.SMTP_HOST.text().strip():
        return None, ""
    try:
        return SmtpSettings.from_environment(), ""
    except SettingError as exc:
        return None, str(exc)


class DeliveryPage:
    """Preview, edit, confirm, send; the unit's sendings so far; the unit's PDFs as one zip."""

    def __init__(self, session: Session, units: frozenset[str] | None):
        lang = self.lang = session.lang
        self.session = session
        self.reports = session.config.reports
        self.preview: delivery.Preview | None = None
        self.smtp, smtp_problem = smtp_settings()
        names = {code: u.name for code, u in reference().police_units.items()}

        # whose schools: the analyst picks a unit; a coordinator's is her own
        if units is None:
            self.unit: pn.widgets.Select | None = pn.widgets.Select(
                label=t("delivery_unit", lang), options={name: code for code, name in names.items()}, width=420)
            whose: pn.viewable.Viewable = self.unit
            self.own_unit = None
        else:
            self.unit = None
            self.own_unit = sorted(units)[0]  # a unit's role serves one unit
            who = names.get(self.own_unit, self.own_unit)
            whose = pn.pane.HTML(f"<p>{escape(t('delivery_unit_of', lang, who=who))}</p>")
        held = editions(held_only=True)
        self.edition = pn.widgets.Select(label=t("edition", lang), options={e.label: e.edition for e in reversed(held)},
                                         value=current_edition().edition, width=200)
        # the reports' language: the page's by default, as the default text's
        self.report_lang = pn.widgets.Select(label=t("delivery_lang", lang), width=200,
                                             options={t(f"lang_{code}", lang): code for code in LANGS}, value=lang)
        self.preview_button = pn.widgets.Button(label=t("delivery_preview", lang), button_type="primary", width=200)
        self.preview_view = pn.pane.HTML("", sizing_mode="stretch_width")

        self.subject = pn.widgets.TextInput(label=t("delivery_subject", lang), value=delivery.default_subject(lang),
                                            sizing_mode="stretch_width", max_width=800)
        self.text = pn.widgets.TextAreaInput(label=t("delivery_text", lang), value=delivery.default_text(lang),
                                             rows=10, sizing_mode="stretch_width", max_width=800)
        fields = pn.pane.HTML(f"<p>{escape(t('delivery_fields', lang))}</p>", sizing_mode="stretch_width")

        self.send_button = pn.widgets.Button(label=t("delivery_send", lang), button_type="primary", disabled=True,
                                             width=200)
        self.confirm_text = pn.pane.HTML("", sizing_mode="stretch_width")
        self.yes = pn.widgets.Button(label=t("delivery_confirm_yes", lang), button_type="primary", width=200)
        self.no = pn.widgets.Button(label=t("delivery_confirm_no", lang), width=200)
        self.confirm = pn.Column(self.confirm_text, pn.Row(self.yes, self.no), visible=False)
        self.result = pn.pane.HTML("", sizing_mode="stretch_width")
        if self.smtp is None:
            why = (t("delivery_bad_smtp", lang, why=smtp_problem) if smtp_problem else t("delivery_no_smtp", lang))
            sending: pn.viewable.Viewable = pn.pane.HTML(f'<p class="zpb-refused" role="status">{escape(why)}</p>',
                                                         sizing_mode="stretch_width")
        else:
            sending = pn.Column(self.send_button, self.confirm)

        self.zip_button = Download(label=t("delivery_zip", lang), button_type="primary", width=300)
        self.zip_button.callback = self.zip_file
        self.zip_result = pn.pane.HTML("", sizing_mode="stretch_width")
        self.history = pn.pane.HTML("", sizing_mode="stretch_width")

        self.preview_button.on_click(self.make_preview)
        self.send_button.on_click(self.ask)
        self.yes.on_click(self.send)
        self.no.on_click(lambda e: setattr(self.confirm, "visible", False))
        for w in (self.unit, self.edition, self.report_lang):
            if w is not None:
                w.param.watch(lambda e: self.stale(), "value")
        if self.unit is not None:
            self.unit.param.watch(lambda e: asyncio.ensure_future(self.refresh()), "value")

        heading = pn.pane.HTML(f"<h2>{escape(t('delivery_heading', lang))}</h2>"
                               f"<p>{escape(t('delivery_help', lang))}</p>", sizing_mode="stretch_width")
        history_heading = pn.pane.HTML(f"<h2>{escape(t('delivery_history', lang))}</h2>")
        self.view = pn.Column(heading, whose, pn.Row(self.edition, self.report_lang),
                              pn.Row(self.preview_button, self.zip_button), self.zip_result, self.preview_view,
                              self.subject, self.text, fields, sending, self.result, history_heading, self.history,
                              sizing_mode="stretch_width")

    @property
    def unit_code(self) -> str | None:
        return self.own_unit if self.unit is None else self.unit.value

    def stale(self) -> None:
        """Another unit or edition: what was previewed is not what would be sent."""
        self.preview = None
        self.preview_view.object = ""
        self.send_button.disabled = True
        self.confirm.visible = False

    def _make(self) -> delivery.Preview:
        return delivery.preview(self.session.config.db, unit=self.unit_code, edition=self.edition.value,
                                reports_dir=self.reports, lang=self.report_lang.value)

    async def make_preview(self, _event: Any = None) -> None:
        self.stale()
        self.result.object = ""
        try:
            preview = await self.session.run(self._make)
        except (ZpbError, ValueError) as exc:
            self.preview_view.object = refused(str(exc))
            return
        self.preview = preview
        self.preview_view.object = self.describe(preview)
        self.send_button.disabled = not preview.ready

    def describe(self, p: delivery.Preview) -> str:
        lang = self.lang
        parts = []
        if not p.built:
            parts.append(f'<p class="zpb-refused">{escape(t("delivery_no_build", lang))}</p>')
        parts.append(f"<p>{escape(t('delivery_counts', lang, n=len(p.recipients), ready=len(p.ready)))}</p>")
        if p.ready:
            parts.append(html_table(
                [t("delivery_col_school", lang), t("delivery_col_address", lang), t("delivery_col_report", lang)],
                [[r.label(), r.email, r.report.name if r.report else ""] for r in p.ready],
                caption=t("delivery_to_send", lang)))
        else:
            parts.append(f"<p>{escape(t('delivery_nothing', lang))}</p>")
        for key, missing in (("delivery_no_address", p.no_address), ("delivery_no_report", p.no_report)):
            items = "".join(f"<li>{escape(r.label())}</li>" for r in missing)
            items = items or f"<li>{escape(t('delivery_none', lang))}</li>"
            parts.append(f"<h3>{escape(t(key, lang, n=len(missing)))}</h3><ul>{items}</ul>")
        return f'<div role="status">{"".join(parts)}</div>'

    def ask(self, _event: Any = None) -> None:
        if self.preview is None or self.smtp is None:
            return
        question = t("delivery_confirm", self.lang, n=len(self.preview.ready), server=self.smtp.server)
        self.confirm_text.object = f'<p role="alert">{escape(question)}</p>'
        self.confirm.visible = True

    async def send(self, _event: Any = None) -> None:
        self.confirm.visible = False
        preview, smtp = self.preview, self.smtp
        if preview is None or smtp is None:
            return
        self.send_button.disabled = True  # one sending a preview: another needs a new preview
        self.preview = None
        subject, text = self.subject.value or "", self.text.value or ""
        lang = self.lang
        try:
            sent = await self.session.run(lambda: delivery.send(self.session.config.db, preview, smtp=smtp,
                                                                text=text, subject=subject))
        except ZpbError as exc:
            self.result.object = refused(str(exc))
            return
        failed = sum(s.outcome == "failed" for s in sent)
        rows = [[s.recipient.label(), s.recipient.email, self.outcome(s.outcome, s.detail)] for s in sent]
        table = html_table([t("delivery_col_school", lang), t("delivery_col_address", lang),
                            t("delivery_col_outcome", lang)], rows)
        css = "zpb-refused" if failed else "zpb-ok"
        said = t("delivery_done", lang, sent=len(sent) - failed, failed=failed)
        self.result.object = f'<div role="status"><p class="{css}">{escape(said)}</p>{table}</div>'
        await self.refresh()

    def outcome(self, outcome: str, detail: str | None) -> str:
        return t("delivery_sent", self.lang) if outcome == "sent" else t("delivery_failed", self.lang, why=detail or "")

    async def refresh(self) -> None:
        """The unit's sendings so far, newest first."""
        unit = self.unit_code
        try:
            rows = await self.session.run(
                lambda: delivery.sendings(self.session.config.db, unit, limit=SHOWN_SENDINGS))
        except ZpbError as exc:
            self.history.object = refused(str(exc))
            return
        lang = self.lang
        if not rows:
            self.history.object = f"<p>{escape(t('delivery_history_none', lang))}</p>"
            return
        self.history.object = html_table(
            [t(key, lang) for key in ("delivery_col_when", "delivery_col_who", "edition", "delivery_col_school",
                                      "delivery_col_to", "delivery_col_report", "delivery_col_version",
                                      "delivery_col_outcome")],
            [[s.at[:19].replace("T", " "), s.login, s.edition, s.school, s.recipient, s.report_file,
              s.data_version or "", self.outcome(s.outcome, s.detail)] for s in rows],
            caption=t("delivery_history_caption", lang, n=len(rows)))

    async def zip_file(self) -> io.BytesIO | None:
        """The unit's built PDFs of the edition as one zip, written in a private folder (0700) that
        is gone before the file reaches the browser."""
        folder = Path(tempfile.mkdtemp(prefix="zpb-download-"))
        lang = "" if self.report_lang.value == "pl" else f"-{self.report_lang.value}"
        name = f"raporty-{(self.unit_code or 'zpb').lower()}-{self.edition.value.replace('/', '-')}{lang}.zip"

        def work() -> bytes | None:
            path = delivery.zip_reports(self._make(), folder / name)
            return path.read_bytes() if path else None

        try:
            data = await self.session.run(work)
        except (ZpbError, ValueError) as exc:
            self.zip_result.object = refused(str(exc))
            return None
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        if data is None:
            self.zip_result.object = refused(t("delivery_zip_none", self.lang))
            return None
        self.zip_button.filename = name
        self.zip_result.object = done(t("prepared", self.lang, file=name))
        return io.BytesIO(data)
