"""The handler of ``/reports/<edition>/<lang>/<file>`` (:mod:`zpb_lib.web.report_files`) on a Tornado
server of its own: the session cookie decides who may have which report; a crafted path — ``..``,
an encoded slash, an absolute path, a link out of the folder, a file of another kind — gets the same
404 as a name that does not exist; the answers carry the app's security headers."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
from tornado.testing import AsyncHTTPTestCase
from tornado.web import Application, create_signed_value

from zpb_lib.web.auth import COOKIE, Identity
from zpb_lib.web.config import ServeConfig
from zpb_lib.web.guard import HEADERS, SecurityHeaders
from zpb_lib.web.report_files import handler
from support.reports import BOCHNIA, FOLDER, KRAKOW, hand_build as _build

SECRET = "s" * 40


@pytest.fixture(autouse=True)
def _folder(request, tmp_path):
    request.instance.tmp = tmp_path


class ReportFilesTest(AsyncHTTPTestCase):
    tmp: Path

    def get_app(self) -> Application:
        self.out = self.tmp / "r"
        self.folder = _build(self.out, self.tmp)
        config = ServeConfig(db="postgresql://x/y", auth="password", cookie_secret=SECRET, reports=self.out,
                             secure_cookies=False)
        return Application([handler(config)], transforms=[SecurityHeaders])

    def get(self, path: str, role: str | None = "zpb_unit_kpp_bochnia", issued: float | None = None):
        headers = {}
        if role is not None:
            now = time.time() if issued is None else issued
            value = create_signed_value(SECRET, COOKIE, Identity("anna", role, "Anna", now, now).payload())
            headers["Cookie"] = f"{COOKIE}={value.decode()}"
        return self.fetch(path, headers=headers, follow_redirects=False)

    def test_a_coordinator_gets_her_countys_report_and_nothing_else(self):
        r = self.get(f"/reports/{FOLDER}/pl/{BOCHNIA}.html")
        assert r.code == 200 and r.body == (self.folder / f"{BOCHNIA}.html").read_bytes()
        assert r.headers["Content-Type"] == "text/html; charset=utf-8"
        assert {k: r.headers[k] for k in HEADERS} == HEADERS
        r = self.get(f"/reports/{FOLDER}/pl/{BOCHNIA}.pdf")
        assert (r.code, r.headers["Content-Type"], r.body) == (200, "application/pdf", b"%PDF-1.4 " + BOCHNIA.encode())
        assert r.headers["Content-Disposition"].startswith("attachment;")
        for path in (f"/reports/{FOLDER}/pl/{KRAKOW}.html", f"/reports/{FOLDER}/pl/wojewodztwo.pdf",
                     f"/reports/{FOLDER}/pl/..", f"/reports/{FOLDER}/pl/%2e%2e", f"/reports/{FOLDER}/pl/%2E%2E%2Fsecret.txt",
                     f"/reports/{FOLDER}/pl/..%2f{FOLDER}%2f{KRAKOW}.html", f"/reports/{FOLDER}/pl/%2Fetc%2Fpasswd",
                     f"/reports/{FOLDER}/pl/manifest.json", f"/reports/{FOLDER}/pl/cube.sqlite",
                     f"/reports/{FOLDER}/pl/other.html", f"/reports/{FOLDER}/pl/powiat-1203-chrzanowski.html",
                     f"/reports/{FOLDER}/pl/notebooks%2F{BOCHNIA}.ipynb", f"/reports/..%2f{FOLDER}/pl/{BOCHNIA}.html",
                     f"/reports/{FOLDER}/xx/{BOCHNIA}.html", f"/reports/{FOLDER}/pl/{BOCHNIA}.html%00"):
            r = self.get(path)
            assert r.code == 404, path
            assert b"bochenski" not in r.body and b"not a report" not in r.body
            assert {k: r.headers[k] for k in HEADERS} == HEADERS

    def test_an_analyst_gets_any_report_and_nobody_without_a_session(self):
        assert self.get(f"/reports/{FOLDER}/pl/{KRAKOW}.html", role="zpb_analyst").code == 200
        assert self.get(f"/reports/{FOLDER}/pl/wojewodztwo.html", role="zpb_reader").code == 200
        assert self.get(f"/reports/{FOLDER}/pl/{BOCHNIA}.html", role=None).code == 403
        assert self.get(f"/reports/{FOLDER}/pl/{BOCHNIA}.html", issued=time.time() - 10 * 3600).code == 403  # expired
        assert self.get(f"/reports/{FOLDER}/pl/{BOCHNIA}.html", role="zpb_unit_nowhere").code == 403
        forged = create_signed_value("x" * 40, COOKIE, Identity("anna", "zpb_analyst", "", time.time(), time.time())
                                     .payload()).decode()
        r = self.fetch(f"/reports/{FOLDER}/pl/{KRAKOW}.html", headers={"Cookie": f"{COOKIE}={forged}"})
        assert r.code == 403
