"""Published award lists matched to the register: names in parts (numbers, abbreviations, patrons,
localities in the locative), a hand-written list against a small hand-made register (the truth is
written here), the workbook for review, and every bad input refused with an IngestError."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from zpb_lib import store
from zpb_lib.cli import main
from zpb_lib.services.demo import MAIN_TOWN, SEAT_LOCATIVE, VILLAGES
from zpb_lib.ingest import IngestError
from zpb_lib.ingest.published import HEADERS, REVIEW, UNMATCHED, match_published, split_items
from zpb_lib.ingest.register import ingest_register
from zpb_lib.core.text import fold
from zpb_lib.domain.matching import (AUTO_ACCEPT, PLAUSIBLE, candidate, candidates, decision, locative_forms, match_line, parse)
from zpb_lib.store.write import insert_rows, transaction

EDITION = "2025/2026"
CEREMONY = dt.date(2026, 10, 15)  # data/editions: the XIX edition's gala

# The register of this test: (RSPO, name as RSPO writes it, kind, county, locality, closed year).
REGISTER = [
    (100001, "Szkoła Podstawowa nr 2 im. Jana Pawła II w Bochni", "primary", "1201", "Bochnia", None),
    (100002, "Szkoła Podstawowa nr 12", "primary", "1201", "Bochnia", None),
    (100003, "Szkoła Podstawowa nr 1 im. Kazimierza Wielkiego", "primary", "1201", "Bochnia", None),
    (100004, "Publiczna Szkoła Podstawowa nr 2 im. Jana Pawła II w Dąbrowie Tarnowskiej", "primary", "1204",
     "Dąbrowa Tarnowska", None),
    (100005, "Szkoła Podstawowa nr 12 w Dąbrowie Tarnowskiej", "primary", "1204", "Dąbrowa Tarnowska", None),
    (100006, "Zespół Szkół nr 1 im. Marii Skłodowskiej-Curie", "complex", "1262", "Nowy Sącz", None),
    (100007, "Zespół Szkół Ogólnokształcących nr 1", "complex", "1262", "Nowy Sącz", None),
    (100008, "II Liceum Ogólnokształcące im. Marii Konopnickiej", "general_secondary", "1262", "Nowy Sącz", None),
    (100009, "Liceum Ogólnokształcące nr 12", "general_secondary", "1262", "Nowy Sącz", None),
    (100010, "I Liceum Ogólnokształcące im. Jana Długosza w Nowym Sączu", "general_secondary", "1262", "Nowy Sącz",
     None),
    (100011, "Szkoła Podstawowa nr 2 w Nowym Sączu", "primary", "1262", "Nowy Sącz", None),
    (100012, "Szkoła Podstawowa nr 12 im. Adama Mickiewicza w Nowym Sączu", "primary", "1262", "Nowy Sącz", None),
    (100013, "Szkoła Podstawowa nr 2 im. Adama Mickiewicza w Krakowie", "primary", "1261", "Kraków", None),
    (100014, "Szkoła Podstawowa nr 12 w Krakowie", "primary", "1261", "Kraków", None),
    (100015, "Szkoła Podstawowa nr 21 w Krakowie", "primary", "1261", "Kraków", None),
    (100016, "V Liceum Ogólnokształcące im. Augusta Witkowskiego w Krakowie", "general_secondary", "1261", "Kraków",
     None),
    (100017, "Centrum Kształcenia Zawodowego i Ustawicznego nr 1 w Krakowie", "post_secondary", "1261", "Kraków",
     None),
    (100018, "Technikum nr 2 w Krakowie", "technical", "1261", "Kraków", None),
    (100019, "Szkoła Podstawowa nr 2", "primary", "1219", "Wieliczka", None),
    (100020, "Gimnazjum nr 2 w Wieliczce", "gimnazjum", "1219", "Wieliczka", 2019),
    (100021, "Zespół Szkół Ogólnokształcących nr 1 w Zakopanem", "complex", "1217", "Zakopane", None),
    (100022, "Szkoła Podstawowa nr 3 im. Kornela Makuszyńskiego", "primary", "1217", "Zakopane", None),
    (100023, "Zespół Szkół Zawodowych nr 1 w Gorlicach", "complex", "1205", "Gorlice", None),
    (100024, "Szkoła Podstawowa nr 5 w Gorlicach", "primary", "1205", "Gorlice", None),
    (100025, "Szkoła Podstawowa w Nowej Wsi", "primary", "1206", "Nowa Wieś", None),
    (100026, "Szkoła Podstawowa im. Tadeusza Kościuszki w Nowej Wsi", "primary", "1201", "Nowa Wieś", None),
    (100027, "Szkoła Podstawowa im. Jana Pawła II w Woli Radziszowskiej", "primary", "1206", "Wola Radziszowska",
     None),
    (100028, "Szkoła Podstawowa w Woli Zręczyckiej", "primary", "1206", "Wola Zręczycka", None),
    (100029, "Szkoła Podstawowa nr 2 im. Adama Mickiewicza", "primary", "1210", "Stary Sącz", None),
    (100030, "Branżowa Szkoła I Stopnia nr 3 w Tarnowie", "vocational", "1263", "Tarnów", None),
    (100031, "Szkoła Podstawowa nr 2 w Tarnowie", "primary", "1263", "Tarnów", None),
]
UNIVERSITY = ("6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b", "Uniwersytet Rolniczy im. Hugona Kołłątaja w Krakowie")
NUMBER = {rspo: n for rspo, n in [(100001, 2), (100002, 12), (100003, 1), (100004, 2), (100005, 12), (100006, 1),
                                  (100007, 1), (100008, 2), (100009, 12), (100010, 1), (100011, 2), (100012, 12),
                                  (100013, 2), (100014, 12), (100015, 21), (100016, 5), (100017, 1), (100018, 2),
                                  (100019, 2), (100020, 2), (100021, 1), (100022, 3), (100023, 1), (100024, 5),
                                  (100029, 2), (100030, 3), (100031, 2)]}

# The list as a police news item would print it, with the school each item names (None: not in
# the register) and the school number the item names (None: none).
LIST = [
    ("Publiczna Szkoła Podstawowa nr 2 im. Jana Pawła II w Dąbrowie Tarnowskiej,", 100004, 2),
    ("Zespół Szkół nr 1 w Nowym Sączu,", 100006, 1),
    ("SP nr 12 w Bochni", 100002, 12),
    ("Szkoła Podstawowa nr 2 w Bochni;", 100001, 2),
    ("SP 12 im. Adama Mickiewicza w Nowym Sączu,", 100012, 12),
    ("Szkoła Podstawowa nr 2\n   w Nowym Sączu,", 100011, 2),  # wrapped over two lines
    ("II LO im. Marii Konopnickiej w Nowym Sączu,", 100008, 2),
    ("LO nr 12 w Nowym Sączu,", 100009, 12),
    ("I Liceum Ogólnokształcące w Nowym Sączu,", 100010, 1),
    ("ZSO nr 1 w Nowym Sączu,", 100007, 1),
    ("Szkoła Podstawowa nr 12 w Krakowie,", 100014, 12),
    ("SZKOŁA PODSTAWOWA NR 2 IM. ADAMA MICKIEWICZA W KRAKOWIE,", 100013, 2),
    ("Szkoła Podstawowa nr 21 w Karkowie,", 100015, 21),  # typo
    ("V LO w Krakowie,", 100016, 5),
    ("CKZiU nr 1 w Krakowie,", 100017, 1),
    ("Szkoła Podstawowa nr 2 w Wieliczce,", 100019, 2),
    ("ZSO nr 1 w Zakopanem,", 100021, 1),
    ("Szkoła Podstawowa nr 3 im. Kornela Makuszyńskiego\nw Zakopanem,", 100022, 3),
    ("Zespół Szkół Zawodowych nr 1 w Gorlicach,", 100023, 1),
    ("SP nr 5 w Gorlicach,", 100024, 5),
    ("Szkoła Podstawowa w Woli Radziszowskiej,", 100027, None),
    ("SP w Woli Zręczyckiej,", 100028, None),
    ("Szkoła Podstawowa nr 2 im. Adama Mickiewicza w Starym Sączu,", 100029, 2),
    ("Szkoła Podstawowa im. Tadeusza Kościuszki w Nowej Wsi (pow. bocheński),", 100026, None),
    ("Branżowa Szkoła I stopnia nr 3 w Tarnowie,", 100030, 3),
    ("Szkoła Podstawowa nr 1 im. Kazimierza Wielkiego w Bochni,", 100003, 1),
    ("Technikum w Krakowie,", 100018, None),  # the number left out: the right school, but for review
    ("Szkoła Podstawowa nr 7 w Myślenicach.", None, 7),  # not in the register
]


@pytest.fixture(scope="module")
def register_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("register") / "register.sqlite"
    register_con = store.create(path)
    try:
        with transaction(register_con):
            insert_rows(register_con, "institutions", ("rspo", "polon", "name", "kind", "county", "municipality", "locality",
                                              "opened_year", "closed_year"),
                        [(r, None, n, k, c, loc, loc, 1960, closed) for r, n, k, c, loc, closed in REGISTER]
                        + [(None, UNIVERSITY[0], UNIVERSITY[1], "university", "1261", "Kraków", "Kraków", 1890, None)])
    finally:
        register_con.close()
    return path


@pytest.fixture(scope="module")
def register_con(register_db):
    c = store.connect(register_db, readonly=True)
    yield c
    c.close()


@pytest.fixture(scope="module")
def cands(register_con):
    return candidates(register_con)


def write_list(path: Path, items: list[str], *, encoding: str = "utf-8", numbering: str = "{}.") -> Path:
    text = "Komenda Wojewódzka Policji w Krakowie\n\nCertyfikaty otrzymały:\n\n"
    text += "\n".join(f"{numbering.format(i)} {item}" for i, item in enumerate(items, start=1))
    path.write_bytes((text + "\n\nGratulujemy!\n").encode(encoding))
    return path


# --------------------------------------------------------------------------- names in parts

@pytest.mark.parametrize("text, numbers", [
    ("SP nr 12 w Bochni", {12}),
    ("Szkoła Podstawowa nr 2 w Bochni", {2}),
    ("II LO im. Króla Jana III Sobieskiego w Krakowie", {2}),
    ("Szkoła Podstawowa im. Jana Pawła II w Bochni", set()),
    ("Liceum Ogólnokształcące nr XII", {12}),
    ("SP12 w Bochni", {12}),
    ("SP 12 Bochnia", {12}),
    ("Szkoła Podstawowa №5 w Tarnowie", {5}),
    ("Szkoła Podstawowa Nr. 5 w Tarnowie", {5}),
    ("Szkoła Podstawowa nr 1 im. 3 Maja w Krakowie", {1}),
    ("Branżowa Szkoła I stopnia nr 3 w Tarnowie", {3}),
    ("Zespół Szkół Technicznych i Ogólnokształcących w Gorlicach", set()),
    ("XIV LO w Krakowie", {14}),
])
def test_school_numbers(text, numbers):
    assert parse(text)[0].numbers == numbers


def test_patron_and_locality_are_parts_of_their_own():
    p = parse("Publiczna Szkoła Podstawowa nr 2 im. Jana Pawła II w Dąbrowie Tarnowskiej,")[0]
    assert (p.body, p.patron, p.place) == ("szkola podstawowa", "jana pawla ii", ("dabrowie", "tarnowskiej"))
    p = parse("Szkoła Podstawowa w Nowej Wsi im. św. Jana Kantego")[0]  # patron after the locality
    assert (p.patron, p.place) == ("sw jana kantego", ("nowej", "wsi"))
    p = parse("Gimnazjum nr 8, Tarnów")[0]  # the locality after a comma, in the nominative
    assert (p.body, p.place) == ("gimnazjum", ("tarnow",))


@pytest.mark.parametrize("short, full", [
    ("SP", "Szkoła Podstawowa"),
    ("S.P.", "Szkoła Podstawowa"),
    ("PSP", "Publiczna Szkoła Podstawowa"),
    ("ZS", "Zespół Szkół"),
    ("ZSO", "Zespół Szkół Ogólnokształcących"),
    ("Z.S.O.", "Zespół Szkół Ogólnokształcących"),
    ("ZSZ", "Zespół Szkół Zawodowych"),
    ("ZSE", "Zespół Szkół Ekonomicznych"),
    ("ZST", "Zespół Szkół Technicznych"),
    ("ZSME", "Zespół Szkół Mechaniczno-Elektrycznych"),
    ("LO", "Liceum Ogólnokształcące"),
    ("CKZiU", "Centrum Kształcenia Zawodowego i Ustawicznego"),
])
def test_abbreviations_expand(short, full):
    assert parse(f"{short} nr 3 w Bochni")[0].body == parse(f"{full} nr 3 w Bochni")[0].body
    assert parse(f"{short} nr 3 w Bochni")[0].body == fold(full.replace(" i ", " ").replace("Publiczna ", ""))


def test_ambiguous_abbreviation_has_every_reading():
    bodies = {p.body for p in parse("ZSP w Łososinie Dolnej")}
    assert "zespol szkolno przedszkolny" in bodies and "zespol szkol ponadgimnazjalnych" in bodies


def test_roman_ordinal_before_kind_is_the_number():
    roman, arabic = parse("I LO w Nowym Sączu")[0], parse("Liceum Ogólnokształcące nr 1 w Nowym Sączu")[0]
    assert (roman.body, roman.numbers) == (arabic.body, arabic.numbers) == ("liceum ogolnoksztalcace", {1})


@pytest.mark.parametrize("nominative, locative", [
    ("Nowy Sącz", "Nowym Sączu"), ("Dąbrowa Tarnowska", "Dąbrowie Tarnowskiej"), ("Kraków", "Krakowie"),
    ("Bochnia", "Bochni"), ("Wieliczka", "Wieliczce"), ("Zakopane", "Zakopanem"), ("Gorlice", "Gorlicach"),
    ("Nowa Wieś", "Nowej Wsi"), ("Wrocław", "Wrocławiu"), ("Rabka-Zdrój", "Rabce-Zdroju"),
    ("Gródek nad Dunajcem", "Gródku nad Dunajcem"), ("Biały Dunajec", "Białym Dunajcu"), ("Kęty", "Kętach"),
    ("Maków Podhalański", "Makowie Podhalańskim"), ("Świątniki Górne", "Świątnikach Górnych"), ("Skała", "Skale"),
    ("Kalwaria Zebrzydowska", "Kalwarii Zebrzydowskiej"), ("Zawoja", "Zawoi"), ("Chełmiec", "Chełmcu"),
    ("Niedźwiedź", "Niedźwiedziu"), ("Stróża", "Stróży"), ("Łazy", "Łazach"), ("Borek", "Borku"),
    *SEAT_LOCATIVE.items(), *VILLAGES, *MAIN_TOWN.values(),
])
def test_locative_forms(nominative, locative):
    assert fold(locative) in locative_forms(nominative)


@pytest.mark.parametrize("line, right, wrong", [
    ("SP nr 2 w Woli Radziszowskiej", "Wola Radziszowska", "Wola Zręczycka"),  # a locality is a unit
    ("SP nr 2 w Nowym Sączu", "Nowy Sącz", "Stary Sącz"),
    ("SP nr 2 we Wrocławiu", "Wrocław", "Kraków"),
    ("SP nr 2 w Bochni", "Bochnia", "Brzesko"),
])
def test_locative_matching(line, right, wrong):
    cs = [candidate(id=1, rspo=1, name="Szkoła Podstawowa nr 2", locality=wrong, kind="primary"),
          candidate(id=2, rspo=2, name="Szkoła Podstawowa nr 2", locality=right, kind="primary")]
    ms = match_line(line, cs)
    assert ms[0].candidate.locality == right
    assert decision(ms) == "auto"
    assert len(ms) == 1 or ms[0].score - ms[1].score > 20


def test_number_is_a_hard_constraint():
    cs = [candidate(id=1, rspo=1, name="Szkoła Podstawowa nr 12 w Bochni", locality="Bochnia", kind="primary")]
    assert match_line("Szkoła Podstawowa nr 2 w Bochni", cs) == []
    assert match_line("SP nr 2 w Bochni", cs + [candidate(id=2, rspo=2, name="Szkoła Podstawowa nr 2",
                                                          locality="Bochnia", kind="primary")])[0].candidate.rspo == 2


def test_patron_absent_on_one_side_costs_little():
    cs = [candidate(id=1, rspo=1, name="Szkoła Podstawowa nr 2 w Bochni", locality="Bochnia", kind="primary")]
    with_patron = match_line("Szkoła Podstawowa nr 2 im. Jana Pawła II w Bochni", cs)[0]
    assert with_patron.score >= AUTO_ACCEPT and decision([with_patron]) == "auto"


def test_line_without_locality_is_never_accepted(cands):
    ms = match_line("Szkoła Podstawowa nr 2 im. Jana Pawła II", cands)
    assert decision(ms) == "review" and ms[0].candidate.rspo in (100001, 100004)


def test_family_restricts_the_kind_of_institution(cands):
    assert all(m.candidate.family == "school" for m in match_line("Uniwersytet Rolniczy w Krakowie", cands))
    best = match_line("Uniwersytet Rolniczy im. Hugona Kołłątaja w Krakowie", cands, family="university")[0]
    assert best.candidate.polon == UNIVERSITY[0]


def test_closed_school_is_pushed_down(cands):
    ms = match_line("Gimnazjum nr 2 w Wieliczce", cands, year=2026)
    assert decision(ms) != "auto"
    assert match_line("Gimnazjum nr 2 w Wieliczce", cands, year=2018)[0].candidate.rspo == 100020


# --------------------------------------------------------------------------- the hand-written list

def test_list_lines_matched_to_the_right_school(cands):
    right, unmatched_ok = 0, True
    listed = [(t, r, n) for t, r, n in LIST if r is not None]
    for text, rspo, _ in listed:
        ms = match_line(" ".join(text.split()), cands, year=2026)
        right += bool(ms) and decision(ms) != "none" and ms[0].candidate.rspo == rspo
    for text, rspo, _ in LIST:
        if rspo is None:
            unmatched_ok &= decision(match_line(text, cands, year=2026)) == "none"
    assert right / len(listed) >= 0.95, f"{right} of {len(listed)}"
    assert unmatched_ok


def test_numbers_never_cross(cands):
    """No „nr 12” line is given a „nr 2” school or the other way round (nor any other number)."""
    for text, _, number in LIST:
        for m in match_line(" ".join(text.split()), cands, year=2026, limit=10):
            if number is not None and m.candidate.rspo in NUMBER:
                assert NUMBER[m.candidate.rspo] == number, (text, m.candidate.name)


def test_ii_lo_is_not_lo_nr_12(cands):
    assert match_line("II LO w Nowym Sączu", cands)[0].candidate.rspo == 100008
    assert match_line("XII LO w Nowym Sączu", cands)[0].candidate.rspo == 100009
    assert all(m.candidate.rspo != 100009 for m in match_line("II LO w Nowym Sączu", cands))


# --------------------------------------------------------------------------- the workbook

def test_match_published_writes_the_awards_layout(tmp_path, register_con):
    lst = write_list(tmp_path / "lista.txt", [t for t, _, _ in LIST])
    result = match_published(register_con, lst, edition="XIX", kind="certyfikat")
    assert result.out == tmp_path / "lista-dopasowanie.xlsx" and result.out.exists()
    assert result.items == len(LIST)
    wb = openpyxl.load_workbook(result.out)
    assert wb.sheetnames == ["Nagrody", "Instrukcja"]
    ws = wb["Nagrody"]
    assert tuple(c.value for c in ws[1]) == HEADERS
    assert ws.freeze_panes == "A2"
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(LIST)
    right = 0
    for row, (text, rspo, _) in zip(rows, LIST):
        ident, name, edition, kind, date, score, line, *_, remark = row
        assert (edition, kind, date.date()) == (EDITION, "certyfikat", CEREMONY)
        assert " ".join(text.split()) in line
        if rspo is None:
            assert ident is None and name is None and remark == UNMATCHED
            continue
        right += ident == rspo
        assert isinstance(ident, int) and name == dict((r, n) for r, n, *_ in REGISTER)[ident]
        assert 0 <= score <= 100
        assert (remark is None) == (score >= AUTO_ACCEPT) or remark.startswith(REVIEW)
    assert right >= 0.95 * (len(LIST) - 1)
    review = rows[[t for t, _, _ in LIST].index("Technikum w Krakowie,")]
    assert review[0] == 100018 and review[-1].startswith(REVIEW) and review[5] < AUTO_ACCEPT
    # rows to review and unmatched rows are coloured, accepted ones are not
    for r, row in enumerate(rows, start=2):
        coloured = ws.cell(r, 1).fill.fgColor.rgb not in (None, "00000000")
        assert coloured == (row[-1] is not None)
    text = "\n".join(result.lines())
    assert f"{len(LIST)} items" in text and str(result.out) in text and "zpb ingest register" in text
    assert f"unmatched:              {result.count('none')}" in text and result.count("none") == 1
    assert "zpb ingest register" in " ".join(str(c.value) for c in wb["Instrukcja"]["A"] if c.value)


def test_options_edition_kind_date_and_out(tmp_path, register_con):
    lst = write_list(tmp_path / "lider.txt", ["SP nr 12 w Bochni,", "LO nr 12 w Nowym Sączu."], numbering="{})")
    out = tmp_path / "sub" / "wynik.xlsx"
    result = match_published(register_con, lst, edition="2025-2026", kind="lider", date="01.06.2026", out=out)
    ws = openpyxl.load_workbook(out)["Nagrody"]
    assert [c.value for c in ws[2]][:5] == [100002, "Szkoła Podstawowa nr 12", EDITION, "Lider Projektu",
                                            dt.datetime(2026, 6, 1)]
    assert ws.cell(3, 1).value == 100009
    assert result.out == out
    result = match_published(register_con, lst, edition=EDITION, kind="przedłużenie", date="2026-06-02", out=out)
    ws = openpyxl.load_workbook(out)["Nagrody"]
    assert (ws.cell(2, 4).value, ws.cell(2, 5).value) == ("przedłużenie", dt.datetime(2026, 6, 2))


def test_same_school_twice_goes_to_review(tmp_path, register_con):
    lst = write_list(tmp_path / "dwa.txt", ["SP nr 12 w Bochni,", "Szkoła Podstawowa nr 12 w Bochni,",
                                             "Technikum nr 2 w Krakowie,", "Technikum w Krakowie,"])
    result = match_published(register_con, lst, edition=EDITION, kind="certyfikat")
    # two sure matches to one school: both to review; a sure one and an unsure one: the unsure one
    assert [r.status for r in result.rows] == ["review", "review", "auto", "review"]
    assert [r.remark for r in result.rows] == [f"{REVIEW} — ta sama placówka co w wierszu 3",
                                               f"{REVIEW} — ta sama placówka co w wierszu 2", "",
                                               f"{REVIEW} — ta sama placówka co w wierszu 4"]


def stored_awards(db: Path) -> set[tuple]:
    register_con = store.connect(db, readonly=True)
    try:
        return set(register_con.execute("SELECT i.rspo, a.edition, a.kind, a.awarded_on FROM awards a "
                               "JOIN institutions i ON i.id = a.institution_id").fetchall())
    finally:
        register_con.close()


def test_match_workbook_with_an_unmatched_row_imports_as_written(tmp_path, register_db):
    """The school the register lacks stays an empty row: the import stores the others, lists the item
    by row and text and says how to store it; filled in later, the same workbook stores it too."""
    db = tmp_path / "zpb.sqlite"
    db.write_bytes(register_db.read_bytes())
    lst = write_list(tmp_path / "lista.txt", ["SP nr 12 w Bochni,", "Szkoła Podstawowa nr 7 w Myślenicach,",
                                              "LO nr 12 w Nowym Sączu."])
    register_con = store.connect(db)
    try:
        result = match_published(register_con, lst, edition=EDITION, kind="certyfikat")
        assert [r.status for r in result.rows] == ["auto", "none", "auto"]
        assert result.lines()[0].startswith("lista.txt: 3 items of the certyfikat list")
        for dry_run in (True, False):
            imported = ingest_register(register_con, result.out, dry_run=dry_run)
            text = "\n".join(imported.lines())
            assert "Nagrody: 1 item of the published list without an institution, not stored:" in text
            assert "    row 3: 2. Szkoła Podstawowa nr 7 w Myślenicach," in text
            assert "column A „Placówka (RSPO / POL-on)”" in text and "import the workbook again" in text
            assert (imported.inserted, imported.updated) == (2, 0)
    finally:
        register_con.close()
    day = CEREMONY.isoformat()
    assert stored_awards(db) == {(100002, EDITION, "certificate", day), (100009, EDITION, "certificate", day)}
    # The reviewer finds the school after all and fills the row in: only it is new.
    wb = openpyxl.load_workbook(result.out)
    wb["Nagrody"].cell(3, 1).value = 100019
    wb.save(result.out)
    register_con = store.connect(db)
    try:
        again = ingest_register(register_con, result.out)
    finally:
        register_con.close()
    assert (again.inserted, again.updated, again.unmatched) == (1, 0, [])
    assert (100019, EDITION, "certificate", day) in stored_awards(db)


def test_match_workbook_row_emptied_by_hand_says_what_to_do_in_that_workbook(tmp_path, register_db):
    """With the list's text removed as well, the row is refused, with advice that fits a workbook
    without the register's sheet of institutions."""
    db = tmp_path / "zpb.sqlite"
    db.write_bytes(register_db.read_bytes())
    lst = write_list(tmp_path / "lista.txt", ["SP nr 12 w Bochni,", "Szkoła Podstawowa nr 7 w Myślenicach,"])
    register_con = store.connect(db)
    try:
        out = match_published(register_con, lst, edition=EDITION, kind="certyfikat").out
        wb = openpyxl.load_workbook(out)
        wb["Nagrody"].cell(3, HEADERS.index("Linia z listy") + 1).value = None
        wb.save(out)
        with pytest.raises(IngestError) as info:
            ingest_register(register_con, out)
    finally:
        register_con.close()
    message = str(info.value)
    assert "sheet „Nagrody”, row 3, column A „Placówka (RSPO / POL-on)”" in message
    assert "zpb institutions find" in message and "Placówki" not in message


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1250"])
def test_encodings(tmp_path, register_con, encoding):
    lst = write_list(tmp_path / "lista.txt", ["Szkoła Podstawowa nr 2 im. Jana Pawła II w Dąbrowie Tarnowskiej,"],
                     encoding=encoding)
    result = match_published(register_con, lst, edition=EDITION, kind="certyfikat")
    assert result.rows[0].matches[0].candidate.rspo == 100004 and result.rows[0].status == "auto"


def test_splitting_wrapped_inline_and_bullets(tmp_path):
    text = ("Lista:\n1. Szkoła Podstawowa nr 2\n   w Bochni,\n2) SP nr 12 w Bochni; 3. ZSO nr 1 w Nowym Sączu\n\n"
            "Gratulujemy!\n")
    items = split_items(tmp_path / "x.txt", text)
    assert [(i.line, i.number, i.text) for i in items] == [
        (2, 1, "Szkoła Podstawowa nr 2 w Bochni"), (4, 2, "SP nr 12 w Bochni"), (4, 3, "ZSO nr 1 w Nowym Sączu")]
    items = split_items(tmp_path / "x.txt", "1.\nSP nr 2 w Bochni,\n2.SP nr 12 w Bochni\n")
    assert [(i.line, i.number, i.text) for i in items] == [(1, 1, "SP nr 2 w Bochni"), (3, 2, "SP nr 12 w Bochni")]
    items = split_items(tmp_path / "x.txt", "Szkoły:\n• SP nr 2 w Bochni,\n• SP nr 12 w Bochni\n")
    assert [i.text for i in items] == ["SP nr 2 w Bochni", "SP nr 12 w Bochni"]


# --------------------------------------------------------------------------- refused inputs

@pytest.mark.parametrize("content, parts", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", ["lista.txt", "line 3", "binary"]),
    (b"", ["lista.txt", "empty"]),
    (b"  \n\n \r\n", ["lista.txt", "empty"]),
    ("Komenda Wojewódzka Policji\n\nGratulujemy wszystkim szkołom!\n".encode(), ["lista.txt", "line 1",
                                                                                  "no numbered items"]),
])
def test_bad_files_refused(tmp_path, register_con, content, parts):
    lst = tmp_path / "lista.txt"
    lst.write_bytes(content)
    with pytest.raises(IngestError) as info:
        match_published(register_con, lst, edition=EDITION, kind="certyfikat")
    for part in parts:
        assert part in str(info.value)
    assert not (tmp_path / "lista-dopasowanie.xlsx").exists()


@pytest.mark.parametrize("options, part", [
    ({"edition": "2040/2041"}, "unknown edition"),
    ({"edition": "2020/2021"}, "suspended"),
    ({"kind": "medal"}, "unknown award kind"),
    ({"date": "31.13.2026"}, "award date"),
])
def test_bad_options_refused(tmp_path, register_con, options, part):
    lst = write_list(tmp_path / "lista.txt", ["SP nr 12 w Bochni,"])
    with pytest.raises(IngestError) as info:
        match_published(register_con, lst, **{"edition": EDITION, "kind": "certyfikat", **options})
    assert part in str(info.value) and "lista.txt" in str(info.value)


def test_empty_register_refused(tmp_path):
    register_con = store.create(tmp_path / "empty.sqlite")
    try:
        with pytest.raises(IngestError, match="no schools"):
            match_published(register_con, write_list(tmp_path / "lista.txt", ["SP nr 12 w Bochni,"]), edition=EDITION,
                            kind="certyfikat")
    finally:
        register_con.close()


def test_missing_file_refused(tmp_path, register_con):
    with pytest.raises(IngestError, match="not found"):
        match_published(register_con, tmp_path / "brak.txt", edition=EDITION, kind="certyfikat")


# --------------------------------------------------------------------------- the command

def test_cli_match(tmp_path, register_db, capsys):
    lst = write_list(tmp_path / "lista.txt", ["SP nr 12 w Bochni,", "Szkoła Podstawowa nr 7 w Myślenicach."])
    out = tmp_path / "wynik.xlsx"
    assert main(["match", str(lst), "--edition", EDITION, "--kind", "certyfikat", "--db", str(register_db),
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "2 items" in printed and str(out) in printed
    ws = openpyxl.load_workbook(out)["Nagrody"]
    assert (ws.cell(2, 1).value, ws.cell(3, 1).value, ws.cell(3, 10).value) == (100002, None, UNMATCHED)
    assert PLAUSIBLE < AUTO_ACCEPT
