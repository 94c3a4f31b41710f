"""The „Mój powiat” tab's parts that need no server: the search over RSPO number, name and locality,
the filters and the sort of the institutions table, the cells as a coordinator reads them, the counts
and figures on top, the workbook's name and who picks the unit. The desks are written by hand below;
every expected value is spelled out here, not computed by the code under test."""
from __future__ import annotations

import datetime as dt

import panel as pn
from bs4 import BeautifulSoup

from zpb_lib.services.due import Desk, DeskRow, DueItem, Figures, LastAudit
from zpb_lib.web.desk import file_name, sees_every_unit
from zpb_lib.web.desk_table import ANY_DUE, counts_tiles, figures_tiles, filtered, institutions_table, items_of, \
    items_table, row_cells, sorted_rows
from zpb_lib.web.pages import lazy_tabs


def item(kind: str, ident: str, name: str) -> DueItem:
    return DueItem(kind, ident, name, "1201", f"{kind} pl", f"{kind} en")


CERT = DeskRow("1002", "Szkoła Podstawowa nr 2 w Bochni", "Bochnia", "1201", "primary", True, True, "2022/2023",
               "certified", False, dt.date(2025, 10, 15),
               LastAudit("2022/2023", "certification", dt.date(2023, 5, 20), 95, 100),
               (item("reaudit", "1002", "SP 2"), item("expiring", "1002", "SP 2")))
STAGE1 = DeskRow("10", "Zespół Szkół w Łapanowie", "Łapanów", "1201", "complex", True, True, "2023/2024",
                 "stage1", False, None, None,
                 (item("survey_missing", "10", "ZS"), item("survey_missing", "10", "ZS"),
                  item("certification_audit", "10", "ZS")))
VIA = DeskRow("9", "Przedszkole <Słoneczko>", "Nieszkowice Wielkie", "1201", "preschool", True, True, "2019/2020",
              "extended", True, dt.date(2028, 10, 15), None, ())
OUT = DeskRow("ab12-cd", "Akademia Bocheńska", "Bochnia", "1201", "university", True, False, None,
              "not_participating", False, None, None, ())
ROWS = [CERT, STAGE1, VIA, OUT]


def idents(rows: list[DeskRow]) -> list[str]:
    return [r.ident for r in rows]


def test_search_over_rspo_name_and_locality():
    assert idents(filtered(ROWS, "1002")) == ["1002"]
    assert idents(filtered(ROWS, "bocheńska")) == ["ab12-cd"]  # in the name only
    assert idents(filtered(ROWS, "BOCHNIA")) == ["1002", "ab12-cd"]  # the locality of both, whatever the case
    assert idents(filtered(ROWS, "nieszkowice słoneczko")) == ["9"]  # every word, anywhere in the three
    assert idents(filtered(ROWS, "łapanów 1002")) == []
    assert idents(filtered(ROWS, "  ")) == idents(ROWS)
    assert idents(filtered(ROWS, "primary")) == []  # the kind is not searched


def test_filters_by_stage_and_what_is_due():
    assert idents(filtered(ROWS, stage="stage1")) == ["10"]
    assert idents(filtered(ROWS, due=ANY_DUE)) == ["1002", "10"]
    assert idents(filtered(ROWS, due="expiring")) == ["1002"]
    assert idents(filtered(ROWS, due="leader_candidate")) == []
    assert idents(filtered(ROWS, "bochnia", stage="certified", due="reaudit")) == ["1002"]


def test_sort_by_column_missing_values_last_either_way():
    assert idents(sorted_rows(ROWS, "ident")) == ["9", "10", "1002", "ab12-cd"]  # numbers as numbers, POL-on last
    assert idents(sorted_rows(ROWS, "ident", descending=True)) == ["ab12-cd", "1002", "10", "9"]
    assert idents(sorted_rows(ROWS, "name")) == ["ab12-cd", "9", "1002", "10"]  # A, P, S, Z
    assert idents(sorted_rows(ROWS, "valid_until")) == ["1002", "9", "ab12-cd", "10"]  # 2025, 2028, then none by name
    assert idents(sorted_rows(ROWS, "valid_until", descending=True)) == ["9", "1002", "ab12-cd", "10"]
    assert idents(sorted_rows(ROWS, "since")) == ["9", "1002", "10", "ab12-cd"]
    assert idents(sorted_rows(ROWS, "stage")) == ["ab12-cd", "10", "1002", "9"]  # not taking part, I, certified, extended
    assert idents(sorted_rows(ROWS, "due", descending=True)) == ["10", "1002", "ab12-cd", "9"]  # 3, 2, then none
    assert idents(sorted_rows(ROWS, "last_audit")) == ["1002", "ab12-cd", "9", "10"]


def test_cells_as_a_coordinator_reads_them():
    assert row_cells(CERT, "pl") == [
        "1002", "Szkoła Podstawowa nr 2 w Bochni", "Bochnia", "powiat bocheński", "2022/2023", "certyfikat",
        "15.10.2025", "audyt certyfikujący, 20.05.2023 (2022/2023): 95 / 100 pkt",
        "reaudyt przed wygaśnięciem certyfikatu; certyfikat wygasa"]
    assert row_cells(CERT, "en")[3:] == [
        "Bochnia County", "2022/2023", "certified", "15 Oct 2025",
        "certification audit, 20 May 2023 (2022/2023): 95 / 100 points",
        "re-audit before the certificate runs out; certificate expiring"]
    # each kind once, in the desk's order of kinds (the certification audit before the surveys)
    assert row_cells(STAGE1, "pl")[5:] == ["etap I (przed pierwszym certyfikatem)", "", "",
                                           "audyt certyfikujący do zaplanowania; brak ankiety"]
    assert row_cells(VIA, "pl")[5] == "certyfikat przedłużony (zespołu)"
    assert row_cells(OUT, "en")[4:] == ["", "not participating", "", "", ""]


def test_the_table_names_its_columns_and_links_each_institution():
    soup = BeautifulSoup(institutions_table([VIA, OUT], "pl", "Placówki"), "html.parser")
    assert soup.caption.get_text() == "Placówki"
    assert [(th.get_text(), th["scope"]) for th in soup.select("thead th")][:3] == [
        ("RSPO / POL-on", "col"), ("Nazwa", "col"), ("Miejscowość", "col")]
    assert len(soup.select("thead th")) == 9 and len(soup.select("tbody tr")) == 2
    links = soup.select("tbody a")
    assert [(a.get_text(), a["href"]) for a in links] == [("Przedszkole <Słoneczko>", "?lang=pl&school=9"),
                                                         ("Akademia Bocheńska", "?lang=pl&school=ab12-cd")]
    # a database-wide contradiction has no institution: no link
    d = desk([item("reaudit", "1002", "SP 2"), DueItem("contradiction", None, None, None, "x pl", "x en")])
    soup = BeautifulSoup(items_table(items_of(d), "en", "Due"), "html.parser")
    assert [[td.get_text() for td in tr.select("td")] for tr in soup.select("tbody tr")] == [
        ["re-audit before the certificate runs out", "SP 2", "1002", "reaudit en"],
        ["contradiction in the data", "", "", "x en"]]
    assert len(soup.select("tbody a")) == 1


def desk(items: list[DueItem], units: frozenset[str] | None = frozenset({"KPP-BOCHNIA"})) -> Desk:
    figures = {"1201": Figures(6, 5, 1, 1, 0, 2, 1, 1), "1216": Figures(10, 4, 2, 0, 1, 3, 2, 0)}
    return Desk("2024/2025", dt.date(2025, 3, 1), 6, dt.date(2025, 10, 15), units, ("1201", "1216"), ROWS, items,
                [], figures, "abc", True)


def tiles(html: str) -> list[tuple[str, str]]:
    soup = BeautifulSoup(html, "html.parser")
    return [(t.dt.get_text(), t.dd.get_text()) for t in soup.select(".zpb-tile")]


def test_counts_of_every_kind_in_words_and_the_reports_figures():
    d = desk([item("reaudit", "1002", "SP 2"), item("survey_missing", "10", "ZS"), item("survey_missing", "10", "ZS")])
    assert tiles(counts_tiles(d, "pl")) == [
        ("audyt certyfikujący do zaplanowania", "0"), ("reaudyt przed wygaśnięciem certyfikatu", "1"),
        ("kandydat do tytułu Lidera", "0"), ("certyfikat wygasa", "0"), ("brak ankiety", "2"),
        ("wyróżnienie niezapisane", "0"), ("sprzeczność w danych", "0")]
    assert [i.ident for i in items_of(d, "survey_missing")] == ["10", "10"] and len(items_of(d)) == 3
    # summed over the two counties, with the county report's words
    assert tiles(figures_tiles(d.totals(), "en")) == [
        ("Institutions", "16"), ("Taking part", "9"), ("Certificates", "3"), ("Extensions", "1"),
        ("Valid certificates", "5"), ("Project Leaders", "1"), ("Audits in this edition", "3"),
        ("Awards granted", "1")]
    assert tiles(figures_tiles(Figures(1234, 0, 0, 0, 0, 0, 0, 0), "pl"))[0] == ("Placówki", "1\u00a0234")


def test_workbook_name_and_who_picks_the_unit():
    assert file_name(desk([])) == "moj-powiat-kpp-bochnia-2024-2025.xlsx"
    assert file_name(desk([], units=None)) == "moj-powiat-2024-2025.xlsx"
    assert sees_every_unit("zpb_analyst") and sees_every_unit("zpb_reader")
    assert not sees_every_unit("zpb_unit_kpp_bochnia")


def test_tabs_made_when_opened_starting_from_the_one_shown():
    made = []

    def maker(name):
        def make():
            made.append(name)
            return pn.pane.HTML(f"<p>{name}</p>")
        return make

    tabs = lazy_tabs([(n, maker(n)) for n in ("desk", "schools", "import")], active=1)
    assert made == ["schools"] and tabs.active == 1
    tabs.active = 0
    assert made == ["schools", "desk"]
