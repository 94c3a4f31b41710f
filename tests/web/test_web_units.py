"""The web app's parts that need no server: the configuration's refusals, the session cookie's
expiry and signature, where a login may send the browser, the role a claim names, the page's text
table, and the upload limit the server keeps whatever the browser does."""
from __future__ import annotations

import json
import time
from types import SimpleNamespace

import pytest
from tornado.web import create_signed_value

from zpb_lib.web.auth import COOKIE, Identity, read_identity, role_from_claim, safe_next
from zpb_lib.web.config import ServeConfig, ServeRefused, check
from zpb_lib.web.pages import BoundedDropper, html_table, lazy_tabs

SECRET = "k" * 40


def config(**kw) -> ServeConfig:
    return ServeConfig(db="x.sqlite", cookie_secret=SECRET, **kw)


@pytest.mark.parametrize("kw, words", [
    ({"address": "0.0.0.0"}, "127.0.0.1"),
    ({"address": "192.168.1.5"}, "--auth password"),
    ({"auth": "password", "db": "postgresql://app@db/zpb"}, "users file"),
    ({"auth": "oidc", "db": "postgresql://app@db/zpb"}, "--oidc-issuer"),
    ({"auth": "password", "users_file": "u.json"}, "a SQLite file has no roles"),
    ({"auth": "ldap"}, "choose one of"),
    ({"processes": 2}, "one process"),
    ({"auth": "password", "users_file": "u.json", "cookie_secret": "short", "db": "postgresql://app@db/zpb"},
     "32 characters"),
])
def test_unsafe_configurations_are_refused(kw, words):
    fields = {"db": "x.sqlite", "cookie_secret": SECRET, **kw}  # kw may name another database
    with pytest.raises(ServeRefused, match=words.replace(".", r"\.")):
        check(ServeConfig(**fields))


def test_loopback_addresses_serve_without_login():
    for address in ("127.0.0.1", "::1", "localhost", "127.0.0.2"):
        assert check(config(address=address)).local


def cookie(secret: str, issued: float, seen: float, role: str = "zpb_reader") -> str:
    payload = json.dumps({"u": "anna", "r": role, "n": "Anna", "i": issued, "s": seen, "p": ""})
    return create_signed_value(secret, COOKIE, payload).decode()


def test_session_cookie_expiry_and_signature():
    cfg = config(auth="password", users_file="u.json", idle_minutes=30, session_hours=8)
    now = time.time()
    assert read_identity(cookie(SECRET, now - 60, now - 60), cfg) == Identity("anna", "zpb_reader", "Anna", now - 60, now - 60)
    assert read_identity(cookie(SECRET, now - 3600, now - 31 * 60), cfg) is None  # idle too long
    assert read_identity(cookie(SECRET, now - 9 * 3600, now - 60), cfg) is None  # logged in too long ago
    assert read_identity(cookie("z" * 40, now, now), cfg) is None  # another server's secret
    assert read_identity(cookie(SECRET, now, now)[:-2] + "00", cfg) is None  # tampered
    assert read_identity(None, cfg) is None and read_identity("garbage", cfg) is None


@pytest.mark.parametrize("url, expected", [
    ("/", "/"), ("/?lang=en", "/?lang=en"), (None, "/"),
    ("https://evil.example/", "/"), ("//evil.example/x", "/"), ("/\\evil.example", "/"), ("javascript:alert(1)", "/"),
])
def test_after_login_only_this_apps_paths(url, expected):
    assert safe_next(url) == expected


@pytest.mark.parametrize("claim, role, problem", [
    (["zpb_unit_kpp_bochnia"], "zpb_unit_kpp_bochnia", ""),
    (["/zpb/zpb_analyst", "staff"], "zpb_analyst", ""),  # Keycloak's group paths
    ("zpb_reader", "zpb_reader", ""),
    (["staff"], None, ""),
    (None, None, ""),
    (["zpb_analyst", "zpb_unit_kpp_bochnia"], None, "several:zpb_analyst, zpb_unit_kpp_bochnia"),
    (["zpb_unit_"], None, ""),  # a prefix alone names no unit
])
def test_the_one_zpb_role_of_a_claim(claim, role, problem):
    assert role_from_claim(claim) == (role, problem)


def test_table_text_is_escaped():
    html = html_table(["<b>"], [["<script>alert(1)</script>", None]])
    assert "<script>" not in html and "&lt;script&gt;" in html and "&lt;b&gt;" in html


def upload(dropper: BoundedDropper, name: str, chunks: list[bytes]) -> None:
    for i, data in enumerate(chunks, start=1):
        dropper._process_event(SimpleNamespace(event_name="upload_event", data={
            "name": name, "chunk": i, "total_chunks": len(chunks), "data": data, "type": "application/octet-stream"}))


def test_the_server_drops_a_file_over_the_limit_as_it_arrives():
    dropper = BoundedDropper(limit_bytes=1000)
    upload(dropper, "small.csv", [b"a" * 600, b"b" * 300])
    assert dropper.value == {"small.csv": b"a" * 600 + b"b" * 300} and dropper.refused == ""
    # a crafted client that ignores the browser's limit: the third chunk crosses it
    upload(dropper, "big.csv", [b"x" * 600, b"x" * 300, b"x" * 600, b"x" * 600])
    assert "big.csv" not in dropper.value and dropper.refused == "big.csv"
    assert dropper._file_buffer == {}  # nothing of it kept


def test_the_dry_run_summary_counts_each_answer_by_its_label(con, ref, tmp_path):
    """A real dry run of 60 students' answers: each question's row names the questionnaire's own
    text and, per answer label, the number of respondents who gave it, as counted from what the
    test wrote."""
    from bs4 import BeautifulSoup

    from support.surveys import answers, free_target, ingest, write_google_csv
    from zpb_lib.web.summaries import survey_summary

    rows = answers(ref, "students", 60, seed=5)
    path = write_google_csv(tmp_path / "uczniowie.csv", ref, "students", rows)
    result = ingest(con, path, free_target(con), dry_run=True)
    soup = BeautifulSoup(survey_summary(result, "pl", ref), "html.parser")
    shown = {tr.th.get_text(): [td.get_text() for td in tr.find_all("td")] for tr in soup.select("tbody tr")}
    for item in ref.questionnaires["students"].items:
        scale = ref.scales[item.scale]
        if scale.kind == "multiple":
            for o in scale.options:
                ticked = sum(1 for r in rows if r[item.id] is not None and o.code in r[item.id])
                answered = sum(1 for r in rows if r[item.id] is not None and r[item.id] != set())
                counts, empty = shown[f"{item.text_pl} — {o.label_pl}"]
                assert f"tak: {ticked}" in counts if ticked else "tak:" not in counts
                assert int(empty) == len(rows) - answered
            continue
        counts, empty = shown[item.text_pl]
        for o in scale.options:
            n = sum(1 for r in rows if r[item.id] == o.value)
            assert (f"{o.label_pl}: {n}" in counts) if n else (f"{o.label_pl}:" not in counts)
        assert int(empty) == sum(1 for r in rows if r[item.id] is None)
    facts = {dt.get_text(): dd.get_text() for dt, dd in zip(soup.find_all("dt"), soup.find_all("dd"))}
    assert facts["Odpowiedzi (wiersze)"] == "60"
    assert "uczniowie" in facts["Dla"] and "diagnoza" in facts["Dla"]


def test_a_tab_is_made_when_first_opened_and_once():
    import panel as pn

    made: list[str] = []

    def maker(name: str):
        def make():
            made.append(name)
            return pn.pane.HTML(f"<p>{name}</p>")
        return make

    tabs = lazy_tabs([(n, maker(n)) for n in ("first", "second", "third")])
    assert made == ["first"]  # a page load makes the tab it shows, no other
    tabs.active = 2
    tabs.active = 0
    tabs.active = 2
    assert made == ["first", "third"]
    assert [o.objects[0].object if o.objects else None for o in tabs.objects] == ["<p>first</p>", None, "<p>third</p>"]


def test_a_dropped_file_is_written_once_and_again_only_when_removed():
    """The group's guess reads the file in a thread while „Sprawdź” may be pressed: the second
    request for the file must find the same file, not one removed and written anew."""
    from zpb_lib.web.auth import local_identity
    from zpb_lib.web.pages import ImportPage, Session

    session = Session(config(), local_identity(), "pl")
    page = ImportPage(session, [], analyst=True, on_saved=lambda: None)
    try:
        page.file.value = {"ankieta.csv": "a,b\n1,2\n"}  # text arrives as text
        first = page.upload()
        assert first.read_bytes() == b"a,b\n1,2\n"
        first.write_bytes(b"as the thread found it")  # a rewrite would put the upload back
        again = page.upload()
        assert again == first and again.read_bytes() == b"as the thread found it"
        session.discard_upload()  # an import ended: the folder is gone, the same file is written again
        assert page.upload().read_bytes() == b"a,b\n1,2\n"
        page.file.value = {"inna.csv": b"x\n"}  # another file dropped: written in its place
        other = page.upload()
        assert other.name == "inna.csv" and other.read_bytes() == b"x\n" and not first.exists()
    finally:
        session.discard_upload()
