"""Files as people bring them to `zpb ingest institutions`: the RSPO register's search export (CSV in
UTF-8 with BOM or Windows-1250, or re-saved as XLSX) and a hand-kept list of universities.

Rows are plain dicts keyed by header name; every column a row leaves out is written empty. The
places below are written out here (not taken from ``zpb_lib``) so that tests compute what they
expect independently of the code under test.
"""
from __future__ import annotations

import csv
import datetime as dt
import random
import re
from pathlib import Path
from typing import Iterable, Iterator, Mapping, Sequence

# The 50-column header of real exports (FORMATS.md §1).
HEADER = (
    "Numer RSPO;REGON;NIP;Typ;Nazwa;Kod terytorialny województwo;Kod terytorialny powiat;Kod terytorialny gmina;"
    "Kod terytorialny miejscowość;Kod terytorialny ulica;Województwo;Powiat;Gmina;Miejscowość;Rodzaj miejscowości;"
    "Ulica;Numer budynku;Numer lokalu;Kod pocztowy;Poczta;Telefon;Faks;E-mail;Strona www;Publiczność status;"
    "Kategoria uczniów;Specyfika placówki;Imię i nazwisko dyrektora;Data założenia;Data rozpoczęcia działalności;"
    "Data likwidacji;Typ organu prowadzącego;Nazwa organu prowadzącego;REGON organu prowadzącego;"
    "NIP organu prowadzącego;Województwo organu prowadzącego;Powiat organu prowadzącego;Gmina organu prowadzącego;"
    "Miejsce w strukturze;RSPO podmiotu nadrzędnego;Typ podmiotu nadrzędnego;Nazwa podmiotu nadrzędnego;"
    "Liczba uczniów;Tereny sportowe;Języki nauczane;Czy zatrudnia logopedę;Czy zatrudnia psychologa;"
    "Czy zatrudnia pedagoga;Oddziały podstawowe wg specyfiki;Oddziały dodatkowe").split(";")
assert len(HEADER) == 50

# Fields the register writes as ="…" to keep leading zeros.
WRAPPED = ("REGON", "NIP", "Kod terytorialny województwo", "Kod terytorialny powiat", "Kod terytorialny gmina",
           "Kod terytorialny miejscowość", "Kod terytorialny ulica", "Numer budynku", "Numer lokalu", "Kod pocztowy",
           "Telefon", "Faks", "REGON organu prowadzącego", "NIP organu prowadzącego")
DATES = ("Data założenia", "Data rozpoczęcia działalności", "Data likwidacji")
NUMBERS = ("Numer RSPO", "RSPO podmiotu nadrzędnego", "Liczba uczniów")

# (TERC gmina code, Powiat as the register writes it, Gmina, Miejscowość, postcode)
PLACES = {
    "bochnia": ("1201011", "bocheński", "Bochnia", "Bochnia", "32-700"),
    "wisnicz": ("1201033", "bocheński", "Nowy Wiśnicz", "Nowy Wiśnicz", "32-720"),
    "brzesko": ("1202023", "brzeski", "Brzesko", "Brzesko", "32-800"),
    "skawina": ("1206113", "krakowski", "Skawina", "Skawina", "32-050"),
    "olkusz": ("1212053", "olkuski", "Olkusz", "Olkusz", "32-300"),
    "tuchow": ("1216113", "tarnowski", "Tuchów", "Tuchów", "33-170"),
    "zakopane": ("1217011", "tatrzański", "Zakopane", "Zakopane", "34-500"),
    "krakow": ("1261011", "Kraków", "Kraków", "Kraków", "30-001"),
    "nowa_huta": ("1261039", "Kraków", "Kraków-Nowa Huta", "Kraków-Nowa Huta", "31-900"),
    "podgorze": ("1261049", "Kraków", "Kraków-Podgórze", "Kraków-Podgórze", "30-510"),
    "nowy_sacz": ("1262011", "Nowy Sącz", "Nowy Sącz", "Nowy Sącz", "33-300"),
    "tarnow": ("1263011", "Tarnów", "Tarnów", "Tarnów", "33-100"),
    # other voivodeships
    "warszawa": ("1465128", "Warszawa", "Mokotów", "Warszawa", "02-001"),
    "katowice": ("2469011", "Katowice", "Katowice", "Katowice", "40-001"),
    "wroclaw": ("0264011", "Wrocław", "Wrocław", "Wrocław", "50-001"),
    "rzeszow": ("1863011", "Rzeszów", "Rzeszów", "Rzeszów", "35-001"),
}
VOIVODESHIP_NAMES = {"12": "MAŁOPOLSKIE", "14": "MAZOWIECKIE", "24": "ŚLĄSKIE", "02": "DOLNOŚLĄSKIE",
                     "18": "PODKARPACKIE", "30": "WIELKOPOLSKIE", "10": "ŁÓDZKIE", "22": "POMORSKIE",
                     "06": "LUBELSKIE", "20": "PODLASKIE", "04": "KUJAWSKO-POMORSKIE", "26": "ŚWIĘTOKRZYSKIE",
                     "28": "WARMIŃSKO-MAZURSKIE", "32": "ZACHODNIOPOMORSKIE", "16": "OPOLSKIE", "08": "LUBUSKIE"}


def rspo_row(rspo: int, typ: str, name: str, place: str, *, parent: int | None = None, pupils: int | None = 250,
             started: str = "1999-09-01", founded: str = "1999-09-01", closed: str = "", public: str = "publiczna",
             **extra: str) -> dict[str, str]:
    """One export row as the register writes it, at one of :data:`PLACES`."""
    gmina_code, powiat, gmina, locality, postcode = PLACES[place]
    voiv = gmina_code[:2]
    row = {
        "Numer RSPO": str(rspo), "REGON": f"{rspo * 37 % 10**9:09d}", "NIP": "", "Typ": typ, "Nazwa": name,
        "Kod terytorialny województwo": voiv, "Kod terytorialny powiat": gmina_code[:4],
        "Kod terytorialny gmina": gmina_code, "Kod terytorialny miejscowość": f"{rspo % 10**7:07d}",
        "Kod terytorialny ulica": f"{rspo % 10**5:05d}", "Województwo": VOIVODESHIP_NAMES[voiv], "Powiat": powiat,
        "Gmina": gmina, "Miejscowość": locality, "Rodzaj miejscowości": "miasto", "Ulica": "ul. Szkolna",
        "Numer budynku": str(rspo % 90 + 1), "Numer lokalu": "", "Kod pocztowy": postcode, "Poczta": locality,
        "Telefon": f"0{rspo % 10**8:08d}", "Faks": "", "E-mail": f"sekretariat{rspo}@szkola.edu.pl",
        "Strona www": f"www.szkola{rspo}.edu.pl", "Publiczność status": public,
        "Kategoria uczniów": "Dzieci lub młodzież", "Specyfika placówki": "brak specyfiki",
        "Imię i nazwisko dyrektora": "Anna Kowalska", "Data założenia": founded,
        "Data rozpoczęcia działalności": started, "Data likwidacji": closed, "Typ organu prowadzącego": "Gmina",
        "Nazwa organu prowadzącego": f"Gmina {gmina}", "REGON organu prowadzącego": f"{rspo * 53 % 10**9:09d}",
        "NIP organu prowadzącego": f"{rspo * 71 % 10**10:010d}", "Województwo organu prowadzącego": VOIVODESHIP_NAMES[voiv],
        "Powiat organu prowadzącego": powiat, "Gmina organu prowadzącego": gmina,
        "Miejsce w strukturze": "Samodzielna" if parent is None else "Jednostka podrzędna",
        "RSPO podmiotu nadrzędnego": "" if parent is None else str(parent),
        "Typ podmiotu nadrzędnego": "" if parent is None else "Zespół szkół i placówek oświatowych",
        "Nazwa podmiotu nadrzędnego": "", "Liczba uczniów": "" if pupils is None else str(pupils),
        "Tereny sportowe": "boisko", "Języki nauczane": "angielski, niemiecki", "Czy zatrudnia logopedę": "Tak",
        "Czy zatrudnia psychologa": "Tak", "Czy zatrudnia pedagoga": "Tak", "Oddziały podstawowe wg specyfiki": "",
        "Oddziały dodatkowe": ""}
    row.update(extra)
    return row


def malopolska_rows() -> list[dict[str, str]]:
    """A small realistic export: schools of several types in nine Małopolska counties, Kraków rows in
    two delegatury and one in the city itself, a complex with member schools (one of them of a type
    out of scope), a preschool, a youth care centre, a type this toolkit does not know, and rows of
    three other voivodeships (one with a leading-zero code)."""
    sp, lo, tech, bs1 = "Szkoła podstawowa", "Liceum ogólnokształcące", "Technikum", "Branżowa szkoła I stopnia"
    return [
        rspo_row(10101, sp, "Szkoła Podstawowa nr 1 im. Królowej Jadwigi w Bochni", "bochnia", pupils=512),
        rspo_row(10102, sp, "Szkoła Podstawowa im. Jana Pawła II w Nowym Wiśniczu", "wisnicz", pupils=301,
                 started="", founded="01.09.1964"),
        rspo_row(10103, lo, "I Liceum Ogólnokształcące im. Kazimierza Wielkiego w Bochni", "bochnia", pupils=640,
                 started="1945-09-01", founded="1817-01-01"),
        rspo_row(10201, "Zespół szkół i placówek oświatowych", "Zespół Szkół Ponadpodstawowych nr 1 w Brzesku",
                 "brzesko", pupils=None, started="2002-09-01"),
        rspo_row(10202, tech, "Technikum nr 1 w Zespole Szkół Ponadpodstawowych nr 1 w Brzesku", "brzesko",
                 parent=10201, pupils=420),
        rspo_row(10203, bs1, "Branżowa Szkoła I Stopnia nr 1 w Brzesku", "brzesko", parent=10201, pupils=118,
                 started="2017-09-01"),
        rspo_row(10204, "Przedszkole", "Przedszkole przy Zespole Szkół w Brzesku", "brzesko", parent=10201, pupils=75),
        rspo_row(10601, sp, "Szkoła Podstawowa nr 3 w Skawinie", "skawina", pupils=388),
        rspo_row(10602, "Szkoła policealna", "Szkoła Policealna Medyczna w Skawinie", "skawina", pupils=90,
                 public="niepubliczna"),
        rspo_row(11201, sp, "Szkoła Podstawowa nr 2 w Olkuszu", "olkusz", pupils=455),
        rspo_row(11202, "Gimnazjum", "Gimnazjum nr 1 w Olkuszu", "olkusz", pupils=0, started="1999-09-01",
                 closed="2019-08-31"),
        rspo_row(11601, "Szkoła muzyczna I stopnia", "Szkoła Muzyczna I stopnia w Tuchowie", "tuchow", pupils=140),
        rspo_row(11602, "Przedszkole", "Przedszkole Samorządowe nr 1 w Tuchowie", "tuchow", pupils=120),
        rspo_row(11701, "Liceum sztuk plastycznych", "Liceum Plastyczne im. Antoniego Kenara w Zakopanem",
                 "zakopane", pupils=210, started="1948-09-01"),
        rspo_row(11702, "Młodzieżowy ośrodek wychowawczy", "Młodzieżowy Ośrodek Wychowawczy w Zakopanem", "zakopane",
                 pupils=40),
        rspo_row(16101, sp, "Szkoła Podstawowa nr 85 w Krakowie", "nowa_huta", pupils=700),
        rspo_row(16102, lo, "XII Liceum Ogólnokształcące im. Juliusza Słowackiego w Krakowie", "podgorze",
                 pupils=830),
        rspo_row(16103, "Branżowa szkoła II stopnia", "Branżowa Szkoła II Stopnia nr 5 w Krakowie", "krakow",
                 pupils=66, started="2020-09-01"),
        rspo_row(16104, "Bursa", "Bursa Szkolna nr 1 w Krakowie", "krakow", pupils=150),
        rspo_row(16201, tech, "Technikum Elektryczne w Nowym Sączu", "nowy_sacz", pupils=510),
        rspo_row(16301, "Szkoła specjalna przysposabiająca do pracy", "Szkoła Specjalna Przysposabiająca do Pracy "
                 "w Tarnowie", "tarnow", pupils=35),
        rspo_row(20001, sp, "Szkoła Podstawowa nr 12 w Warszawie", "warszawa", pupils=600),
        rspo_row(20002, lo, "III Liceum Ogólnokształcące w Katowicach", "katowice", pupils=700),
        rspo_row(20003, sp, "Szkoła Podstawowa nr 7 we Wrocławiu", "wroclaw", pupils=480),
    ]


def _cell_csv(header: str, value: object, wrap: Iterable[str]) -> str:
    """A field as the register writes it: ="…" bare (not in quotes) for the wrapped columns, others
    quoted only when they hold the separator, a quote or a line break."""
    s = "" if value is None else str(value)
    if s and header in wrap:
        return '="' + s.replace('"', '""') + '"'
    if any(ch in s for ch in ';"\r\n'):
        return '"' + s.replace('"', '""') + '"'
    return s


def _cell_xlsx(header: str, value: object) -> object:
    """What a cell becomes when Excel opens the CSV and saves it as a workbook: ="…" texts stay
    texts, plain digits become numbers and ISO dates become date cells."""
    s = "" if value is None else str(value)
    if not s:
        return None
    if header in WRAPPED:
        return s
    if header in DATES and re.fullmatch(r"(19|20)\d{2}-\d{2}-\d{2}", s):  # Excel has no dates before 1900
        return dt.date.fromisoformat(s)
    if header in NUMBERS and s.isdigit():
        return int(s)
    return s


def write_rspo_export(path: str | Path, rows: Iterable[Mapping[str, object]], *, encoding: str = "utf-8-sig",
                      xlsx: bool = False, header: Sequence[str] = HEADER, wrap: Iterable[str] = WRAPPED) -> Path:
    """Write rows (dicts by header name) as the register's export: ``;``-separated with ="…"
    wrapping in ``encoding`` ("utf-8-sig" as downloaded, "cp1250" as re-saved by Excel), or as the
    XLSX workbook Excel saves from it."""
    path = Path(path)
    wrap = set(wrap)
    if xlsx:
        import openpyxl

        wb = openpyxl.Workbook(write_only=True)
        ws = wb.create_sheet("wyniki")
        ws.append(list(header))
        for r in rows:
            ws.append([_cell_xlsx(h, r.get(h)) for h in header])
        wb.save(path)
        return path
    with open(path, "w", encoding=encoding, newline="") as fh:
        fh.write(";".join(_cell_csv(h, h, ()) for h in header) + "\r\n")
        for r in rows:
            fh.write(";".join(_cell_csv(h, r.get(h), wrap) for h in header) + "\r\n")
    return path


# --------------------------------------------------------------------------- a national export

# (voivodeship code, share of the rows): Małopolska about 6 %, as in the real register.
SHARES = {"14": 0.15, "24": 0.12, "30": 0.09, "12": 0.06, "02": 0.07, "10": 0.06, "22": 0.06, "18": 0.06,
          "06": 0.06, "16": 0.03, "04": 0.05, "32": 0.04, "28": 0.04, "26": 0.03, "20": 0.03, "08": 0.03}
NATIONAL_TYPES = (("Przedszkole", 0.36), ("Szkoła podstawowa", 0.30), ("Liceum ogólnokształcące", 0.07),
                  ("Technikum", 0.05), ("Branżowa szkoła I stopnia", 0.05), ("Szkoła policealna", 0.04),
                  ("Zespół szkół i placówek oświatowych", 0.05), ("Szkoła muzyczna I stopnia", 0.02),
                  ("Specjalny ośrodek szkolno-wychowawczy", 0.02), ("Punkt przedszkolny", 0.04))
MALOPOLSKA_COUNTIES = [f"12{n:02d}" for n in range(1, 20)] + ["1261", "1262", "1263"]


def national_rows(n: int = 56_000, seed: int = 1) -> Iterator[dict[str, str]]:
    """``n`` rows of all 16 voivodeships with every column filled as the register fills it."""
    rnd = random.Random(seed)
    voivs, weights = zip(*SHARES.items())
    types, tweights = zip(*NATIONAL_TYPES)
    streets = ("ul. Szkolna", "ul. Mickiewicza", "ul. Kościuszki", "os. Centrum", "ul. Jana Pawła II", "ul. Polna")
    for i in range(n):
        voiv = rnd.choices(voivs, weights)[0]
        county = rnd.choice(MALOPOLSKA_COUNTIES) if voiv == "12" else f"{voiv}{rnd.randint(1, 20):02d}"
        kind = 9 if county == "1261" else rnd.choice((1, 2, 3))
        gmina_code = f"{county}{rnd.randint(1, 15):02d}{kind}"
        rspo = 100_000 + i
        typ = rnd.choices(types, tweights)[0]
        parent = 100_000 + rnd.randrange(n) if typ != "Zespół szkół i placówek oświatowych" and rnd.random() < 0.2 \
            else None
        town = f"Miejscowość {gmina_code[2:6]}"
        year = rnd.randint(1945, 2023)
        row = rspo_row(rspo, typ, f"{typ} nr {i % 90 + 1} im. Marii Konopnickiej w miejscowości {town}", "bochnia",
                       parent=parent, pupils=rnd.randint(10, 900), started=f"{year}-09-01", founded=f"{year}-09-01")
        row.update({
            "Kod terytorialny województwo": voiv, "Kod terytorialny powiat": county, "Kod terytorialny gmina": gmina_code,
            "Województwo": VOIVODESHIP_NAMES[voiv], "Powiat": f"powiat {county}", "Gmina": f"Gmina {gmina_code}",
            "Miejscowość": town, "Poczta": town, "Ulica": rnd.choice(streets),
            "Kod pocztowy": f"{rnd.randint(0, 99):02d}-{rnd.randint(0, 999):03d}",
            "Nazwa organu prowadzącego": f"Gmina {town}", "Województwo organu prowadzącego": VOIVODESHIP_NAMES[voiv],
            "Powiat organu prowadzącego": f"powiat {county}", "Gmina organu prowadzącego": f"Gmina {gmina_code}",
            "Nazwa podmiotu nadrzędnego": "" if parent is None else f"Zespół Szkół nr {parent % 50} w {town}",
            "Imię i nazwisko dyrektora": rnd.choice(("Anna Nowak", "Piotr Wiśniewski", "Katarzyna Wójcik")),
            "Oddziały podstawowe wg specyfiki": "ogólnodostępne: 8; integracyjne: 1",
            "Oddziały dodatkowe": "sportowe: 2", "Tereny sportowe": "boisko wielofunkcyjne, sala gimnastyczna, bieżnia",
            "Języki nauczane": "angielski, niemiecki, hiszpański", "Nazwa": f"{row['Nazwa']} (Zespół {i % 7 + 1})",
            "Specyfika placówki": "brak specyfiki" if rnd.random() < 0.8 else "specjalna; integracyjna"})
        yield row


# --------------------------------------------------------------------------- universities

UNIVERSITY_HEADER = ("POL-on", "Nazwa", "Miasto", "Powiat")


def universities() -> list[dict[str, str]]:
    """Kraków universities named in the programme and the state college in Nowy Sącz, with made-up
    POL-on ids (the real ones are not needed to test the import); the county given as a TERYT code
    for some and by name for others, as people write it."""
    return [
        {"POL-on": "0b1f6a0c-6b1e-4c8a-9d2f-1a2b3c4d5e01", "Nazwa": "Akademia Górniczo-Hutnicza im. Stanisława "
         "Staszica w Krakowie", "Miasto": "Kraków", "Powiat": "1261"},
        {"POL-on": "0b1f6a0c-6b1e-4c8a-9d2f-1a2b3c4d5e02", "Nazwa": "Politechnika Krakowska im. Tadeusza Kościuszki",
         "Miasto": "Kraków", "Powiat": "m. Kraków"},
        {"POL-on": "0B1F6A0C-6B1E-4C8A-9D2F-1A2B3C4D5E03", "Nazwa": "Krakowska Akademia im. Andrzeja Frycza "
         "Modrzewskiego", "Miasto": "Kraków", "Powiat": "Kraków"},
        {"POL-on": "0b1f6a0c-6b1e-4c8a-9d2f-1a2b3c4d5e04", "Nazwa": "Uniwersytet Ekonomiczny w Krakowie",
         "Miasto": "Kraków", "Powiat": "1261"},
        {"POL-on": "0b1f6a0c-6b1e-4c8a-9d2f-1a2b3c4d5e05", "Nazwa": "Uniwersytet Rolniczy im. Hugona Kołłątaja "
         "w Krakowie", "Miasto": "Kraków", "Powiat": "1261"},
        {"POL-on": "0b1f6a0c-6b1e-4c8a-9d2f-1a2b3c4d5e06", "Nazwa": "Akademia Wychowania Fizycznego im. Bronisława "
         "Czecha w Krakowie", "Miasto": "Kraków", "Powiat": "1261"},
        {"POL-on": "0b1f6a0c-6b1e-4c8a-9d2f-1a2b3c4d5e07", "Nazwa": "Akademia Nauk Stosowanych w Nowym Sączu",
         "Miasto": "Nowy Sącz", "Powiat": "m. Nowy Sącz"},
    ]


def write_university_list(path: str | Path, rows: Iterable[Mapping[str, object]], xlsx: bool = False, *,
                          header: Sequence[str] = UNIVERSITY_HEADER, encoding: str = "utf-8",
                          delimiter: str = ",") -> Path:
    """A list of universities kept by hand: CSV (comma or semicolon; UTF-8 or Windows-1250) or XLSX."""
    path = Path(path)
    if xlsx:
        import openpyxl

        wb = openpyxl.Workbook()
        ws = wb.active
        ws.title = "Uczelnie"
        ws.append(list(header))
        for r in rows:  # digits become numbers, as when typed into Excel
            ws.append([int(v) if isinstance(v, str) and v.isdigit() else v for v in (r.get(h) for h in header)])
        wb.save(path)
        return path
    with open(path, "w", encoding=encoding, newline="") as fh:
        w = csv.writer(fh, delimiter=delimiter)
        w.writerow(header)
        for r in rows:
            w.writerow(["" if r.get(h) is None else r.get(h) for h in header])
    return path
