"""Edition index page: every report by county with working relative links, offline search, escaping."""
from __future__ import annotations

import base64
import hashlib
import html
import re
from datetime import datetime, timezone
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import pytest

from zpb_lib.batch.export import external_references
from zpb_lib.batch.index import (
    IndexEntry,
    IndexMeta,
    polish_sort_key,
    render_index,
    search_key,
    write_index,
)

EVIL = "<script>alert(1)</script> & „Szkoła” <b>x</b>"
EVIL_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt; &amp; „Szkoła” &lt;b&gt;x&lt;/b&gt;"
META = IndexMeta(data_hash="sha256:9f2c1e", generated_at=datetime(2026, 11, 26, 10, 15, tzinfo=timezone.utc),
                 synthetic=True)


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.scripts: list[str] = []
        self._script: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.hrefs.append(dict(attrs)["href"])
        if tag == "script":
            self._script = []

    def handle_data(self, data):
        if self._script is not None:
            self._script.append(data)

    def handle_endtag(self, tag):
        if tag == "script" and self._script is not None:
            self.scripts.append("".join(self._script))
            self._script = None


def _touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("x", encoding="utf-8")
    return path


@pytest.fixture
def edition(tmp_path) -> tuple[Path, list[IndexEntry]]:
    """An edition folder with real report files, including names with spaces and diacritics."""
    out = tmp_path / "reports" / "2017-2018"
    f = lambda rel: _touch(out / rel)  # noqa: E731
    entries = [
        IndexEntry("school", "Liceum w Łapanowie", "1201", "powiat bocheński", "KPP Bochnia",
                   f("school/Liceum w Łapanowie.html"), f("school/Liceum w Łapanowie.pdf"),
                   identifier="RSPO 123456"),
        IndexEntry("county", "Raport: m. Kraków", "1261", "m. Kraków", "KMP Kraków",
                   f("county/1261.html"), f("county/1261.pdf"), status="skipped"),
        IndexEntry("school", EVIL, "1201", "powiat bocheński", "KPP Bochnia", f("school/evil.html")),
        IndexEntry("county", "Raport: powiat bocheński", "1201", "powiat bocheński", "KPP Bochnia",
                   f("county/1201.html"), f("county/1201.pdf")),
        IndexEntry("school", "Liceum w Lipnicy", "1201", "powiat bocheński", "KPP Bochnia",
                   out / "school/lipnica.html", None, status="failed", error="KeyError: 'kod'"),
        IndexEntry("voivodeship", "Raport wojewódzki", None, None, None,
                   f("voivodeship.html"), f("voivodeship.pdf")),
        # as a manifest stores it: relative to the index's directory
        IndexEntry("school", "Szkoła Podstawowa nr 2 w Wieliczce", "1219", "powiat wielicki",
                   "KPP Wieliczka", f("school-1219-002.html").name, "school-1219-002.pdf"),
    ]
    _touch(out / "school-1219-002.pdf")
    return out, entries


def _write(out: Path, entries: list[IndexEntry], **kw) -> str:
    path = write_index(entries, out / "index.html", "2017/2018", meta=kw.pop("meta", META), **kw)
    assert path == out / "index.html"
    return path.read_text(encoding="utf-8")


def test_every_link_resolves_to_a_report_file(edition):
    out, entries = edition
    page = _write(out, entries)
    parser = _Links()
    parser.feed(page)
    targets = {(out / unquote(h)).resolve() for h in parser.hrefs}
    expected = {(out / p).resolve() for e in entries if e.status != "failed"
                for p in (e.html, e.pdf) if p is not None}
    assert targets == expected and len(parser.hrefs) == len(expected)
    assert all(t.is_file() for t in targets)
    assert all(not h.startswith(("/", "file:")) for h in parser.hrefs)  # relative: the folder can move


def test_voivodeship_first_then_counties_by_teryt(edition):
    out, entries = edition
    page = _write(out, entries)
    listing = page[page.index("<section"):]  # the failure notice above names a report too
    order = [listing.index(s) for s in ("Raport wojewódzki", 'id="powiat-1201"', "Raport: powiat bocheński",
                                     "Liceum w Lipnicy", "Liceum w Łapanowie", 'id="powiat-1261"')]
    assert order == sorted(order)
    assert "TERYT 1201 · KPP Bochnia" in page and "TERYT 1261 · KMP Kraków" in page


def test_failed_report_is_listed_with_status_and_not_linked(edition):
    out, entries = edition
    page = _write(out, entries)
    assert "Raporty: 7; w tym z błędem: 1." in page
    assert "Liceum w Lipnicy (powiat bocheński): KeyError: &#39;kod&#39;" in page
    item = re.search(r'<li data-search="liceum w lipnicy[^"]*">(.*?)</li>', page, re.S).group(1)
    assert "nie wygenerowano (błąd)" in item and "href" not in item


def test_names_are_escaped(edition):
    out, entries = edition
    page = _write(out, entries)
    assert EVIL_ESCAPED in page
    assert "<script>alert" not in page and "<b>x</b>" not in page


def test_search_box_and_the_list_without_javascript(edition):
    out, entries = edition
    page = _write(out, entries)
    assert re.search(r'<label for="zpb-q">[^<]+</label>\s*<input type="search" id="zpb-q"', page)
    assert re.search(r'<div class="zpb-search" id="zpb-search" hidden>', page)  # shown by the script
    assert page.count("<li data-search=") == len(entries)
    assert 'data-search="liceum w lapanowie rspo 123456 powiat bochenski 1201 kpp bochnia"' in page


def test_institution_identifier_is_shown_and_searchable(edition):
    """A school report shows its RSPO number (a university its POL-on id) and the search finds it."""
    out, entries = edition
    polon = "8c4e0a2e-5b1d-4e7f-9a3c-2d6b1f0e9a77"
    uni = IndexEntry("school", "Akademia w Krakowie", "1261", "m. Kraków", "KMP Kraków", _touch(out / "u.html"),
                     identifier=f"POL-on {polon}")
    page = _write(out, [*entries, uni])
    assert "Liceum w Łapanowie <small>(placówka · RSPO 123456)</small>" in page
    assert f"Akademia w Krakowie <small>(placówka · POL-on {polon})</small>" in page
    assert re.search(rf'<li data-search="[^"]*\b{polon}\b[^"]*">', page)
    # County and voivodeship reports carry no identifier.
    assert "Raport: m. Kraków <small>(raport powiatu)</small>" in page


def test_only_the_inline_search_script_may_run(edition):
    out, entries = edition
    page = _write(out, entries)
    parser = _Links()
    parser.feed(page)
    (script,) = parser.scripts
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    csp = html.unescape(re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">',
                                  page).group(1))
    assert f"script-src 'sha256-{digest}'" in csp and "default-src 'none'" in csp
    assert "<script src" not in page
    assert external_references(page) == []


def test_provenance_and_synthetic_banner(edition):
    out, entries = edition
    page = _write(out, entries)
    assert '<time datetime="2026-11-26T10:15:00+00:00">26.11.2026 10:15 UTC</time>' in page
    assert "sha256:9f2c1e" in page
    assert 'class="zpb-banner"' in page
    real = IndexMeta("sha256:1", datetime(2026, 11, 26, 10, 15), synthetic=False)
    assert 'class="zpb-banner"' not in _write(out, entries, meta=real)


def test_english_index(edition):
    out, entries = edition
    page = _write(out, entries, lang="en")
    assert '<html lang="en">' in page
    assert "<title>ZPB reports — edition 2017/2018</title>" in page
    assert "Małopolska voivodeship" in page and "Reports: 7; failed: 1." in page


def test_manifest_style_meta_and_a_report_without_files(edition):
    out, entries = edition
    lost = IndexEntry("school", "Gimnazjum w Niepołomicach", "1219", "powiat wielicki", "KPP Wieliczka")
    manifest_meta = {"data_hash": "abc", "generated_at": "2026-11-26T10:15:00+01:00"}
    page = _write(out, [*entries, lost], meta=manifest_meta)
    assert '<time datetime="2026-11-26T10:15:00+01:00">26.11.2026 10:15 UTC+01:00</time>' in page
    assert 'class="zpb-banner"' not in page
    item = re.search(r'<li data-search="gimnazjum w niepolomicach[^"]*">(.*?)</li>', page, re.S).group(1)
    assert "brak pliku raportu" in item and "href" not in item


def test_write_is_atomic(edition):
    out, entries = edition
    _write(out, entries)
    assert not list(out.glob(".index.html.*"))


def test_bad_entries_and_language_are_refused(tmp_path):
    with pytest.raises(ValueError, match="kind"):
        IndexEntry("gmina", "x", "1201", "x", "x", tmp_path / "x.html")
    with pytest.raises(ValueError, match="status"):
        IndexEntry("school", "x", "1201", "x", "x", tmp_path / "x.html", status="done")
    with pytest.raises(ValueError, match="lang"):
        render_index([], tmp_path, "2017/2018", "de", meta=META)


def test_search_key_folds_case_and_diacritics():
    assert search_key("Łącko, ŻABNO Świętokrzyskie") == "lacko, zabno swietokrzyskie"


def test_polish_alphabetical_order():
    names = ["Żabno", "Zakopane", "Łapanów", "Lipnica", "Ćwików", "Czarny Potok", "ambulans"]
    assert sorted(names, key=polish_sort_key) == [
        "ambulans", "Czarny Potok", "Ćwików", "Lipnica", "Łapanów", "Zakopane", "Żabno"]
