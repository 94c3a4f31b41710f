"""The report files of the „Raporty” tab: ``/reports/<edition folder>/<lang>/<file>`` serves a built
report's HTML (opened in the browser, from the app's own origin and under its security headers) or
PDF (a download) to a logged-in person — a police unit's coordinator only her unit's. Bokeh's login
guards only its own pages: this handler reads the session cookie itself. Which file a name means is
the service's to decide (:func:`zpb_lib.services.built.report_file`): a name the build's manifest
gives, a regular file in that folder, nothing else; any refusal is the same 404."""
from __future__ import annotations

import asyncio
from urllib.parse import quote

from tornado.web import RequestHandler

from zpb_lib.services.build_jobs import unit_of_role
from zpb_lib.services.built import NoSuchReport, read_report, report_file
from zpb_lib.store.rights import ANALYST, READER
from zpb_lib.web.auth import COOKIE, Identity, local_identity, read_identity
from zpb_lib.web.config import ServeConfig

PATTERN = r"/reports/([^/]+)/([^/]+)/([^/]+)"
CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".pdf": "application/pdf"}


def report_url(folder: str, lang: str, name: str) -> str:
    return f"/reports/{quote(folder, safe='')}/{quote(lang, safe='')}/{quote(name, safe='')}"


def unit_of(ident: Identity | None) -> tuple[bool, str | None]:
    """Whether ``ident`` may have reports at all, and the police unit they are narrowed to (None: all)."""
    if ident is None or ident.role is None:
        return False, None
    if ident.role in (ANALYST, READER):
        return True, None
    unit = unit_of_role(ident.role)
    return unit is not None, unit


class ReportFiles(RequestHandler):
    config: ServeConfig  # set on the subclass made for each server

    def identity(self) -> Identity | None:
        if self.config.local:
            return local_identity()
        return read_identity(self.get_cookie(COOKIE), self.config)

    async def get(self, folder: str, lang: str, name: str) -> None:
        self.set_header("Cache-Control", "no-store")
        allowed, unit = unit_of(self.identity())
        if not allowed:
            self.send_error(403)
            return
        try:
            path = report_file(self.config.reports, folder, lang, name, unit)
            data = await asyncio.to_thread(read_report, path)
        except NoSuchReport:
            self.send_error(404)
            return
        suffix = path.suffix
        self.set_header("Content-Type", CONTENT_TYPES[suffix])
        if suffix == ".pdf":
            self.set_header("Content-Disposition", f"attachment; filename*=UTF-8''{quote(path.name)}")
        self.write(data)


def handler(config: ServeConfig) -> tuple[str, type[RequestHandler]]:
    """The URL pattern and its handler for ``config``'s server."""
    return PATTERN, type("ReportFiles", (ReportFiles,), {"config": config})
