"""The journal in the web app: the tab „Dziennik” (analysts only: the latest entries, newest first)
and the notes the app writes into it — logins, failed logins and logouts (:mod:`.auth`), dry runs,
saves and undos (:mod:`.pages`).

A note never changes what the person sees of the action itself: it is written after the action's
result is shown, off the event loop, and a failure to write it is logged, not raised. PostgreSQL
lets each role add rows only as itself, and only the analyst read them (see store.roles)."""
from __future__ import annotations

import asyncio
import logging
from html import escape
from typing import TYPE_CHECKING, Any

import panel as pn

from zpb_lib import store
from zpb_lib.core.errors import ZpbError
from zpb_lib.services import journal as journal_service
from zpb_lib.web.config import ServeConfig
from zpb_lib.web.tables import html_table
from zpb_lib.web.texts import TEXTS, t

if TYPE_CHECKING:  # pages builds on this module
    from zpb_lib.web.pages import Session

log = logging.getLogger(__name__)

SHOWN_ENTRIES = 500
MAX_TYPED_LOGIN = 64  # of a failed login, the login as typed: a row names it, at most this long
# A login waits at most this long for its journal row (a database that hangs must not keep anyone out).
LOGIN_NOTE_SECONDS = 5.0


def client_address() -> str:
    """The address of the browser that opened this page, as the server saw it (the reverse proxy's
    X-Real-IP / X-Forwarded-For when ``--public-url`` makes the server trust them); "" unknown."""
    try:
        request = pn.state.curdoc.session_context.request
    except AttributeError:
        return ""
    return str(getattr(request, "remote_ip", "") or "")


async def note(session: "Session", action: str, detail: str | None = None) -> None:
    """Journal ``action`` of the page's person, in their role (``session.run``); logged if it fails."""
    address = session.address or None
    try:
        await session.run(lambda: journal_service.record(session.config.db, action, detail, address))
    except Exception:  # noqa: BLE001 - whatever broke, the action's own result stands
        log.exception("journal: %s of %s was not recorded", action, session.ident.login)


async def note_login(config: ServeConfig, action: str, login: str, role: str, address: str | None,
                     detail: str | None = None) -> None:
    """Journal a login, a failed login or a logout from a request handler, where no page session
    acts for anyone yet: in ``role`` for ``login``, in a worker thread, waiting at most
    :data:`LOGIN_NOTE_SECONDS`; logged if it fails."""
    def write() -> None:
        with store.acting_as(role, login):
            journal_service.record(config.db, action, detail, address)

    try:
        await asyncio.wait_for(asyncio.to_thread(write), LOGIN_NOTE_SECONDS)
    except Exception:  # noqa: BLE001 - a journal that cannot be written never keeps anyone out
        log.exception("journal: %s of %s was not recorded", action, login)


def typed_login(text: str) -> str:
    """The login a failed attempt typed, as the journal names it (never empty)."""
    return text.strip()[:MAX_TYPED_LOGIN] or "?"


def action_text(action: str, lang: str) -> str:
    key = f"journal_{action}"
    return t(key, lang) if key in TEXTS else action


class JournalPage:
    """The latest journal entries, newest first, with a refresh button (the analyst's tab)."""

    def __init__(self, session: "Session"):
        lang = self.lang = session.lang
        self.session = session
        self.heading = pn.pane.HTML(f"<h2>{escape(t('journal_heading', lang))}</h2>")
        self.refresh_button = pn.widgets.Button(label=t("refresh", lang))
        self.table = pn.pane.HTML("", sizing_mode="stretch_width")
        self.refresh_button.on_click(self.refresh)
        self.view = pn.Column(self.heading, self.refresh_button, self.table, sizing_mode="stretch_width")

    async def refresh(self, _event: Any = None) -> None:
        try:
            entries = await self.session.run(
                lambda: journal_service.entries(self.session.config.db, limit=SHOWN_ENTRIES))
        except ZpbError as exc:
            self.table.object = f'<p class="zpb-refused" role="alert">{escape(str(exc))}</p>'
            return
        lang = self.lang
        if not entries:
            self.table.object = f"<p>{escape(t('journal_empty', lang))}</p>"
            return
        rows = [[e.at[:19].replace("T", " "), e.login, e.role or "", action_text(e.action, lang), e.detail or "",
                 e.address or ""] for e in entries]
        self.table.object = html_table(
            [t("journal_col_when", lang), t("journal_col_login", lang), t("journal_col_role", lang),
             t("journal_col_action", lang), t("journal_col_detail", lang), t("journal_col_address", lang)],
            rows, caption=t("journal_caption", lang, n=len(entries)))
