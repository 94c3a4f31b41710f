"""Hand-written cases for benchmarks/bench_match.py in the style of real police and local news lists:
villages whose names differ only by a suffix or a qualifier („Dolna”/„Górna”, „Wielka”/„Mała”,
„Stary”/„Nowy”, „-any”/„-e”, „Wola X”/„X”, „Kolonia”), complexes named by their abbreviations
(„ZPO”, „ZSP”, „ZSTiO”, „CKZiU”…), a generic „Szkoła w X” for a complex, and the published grammar:
the genitive („z Kęt”), a town's adjective before the school type („olkuskie Gimnazjum nr 1”) and the
dative („Szkole Podstawowej”, „Zespołowi Szkół”).

Every inflected form below is written out by hand (not produced by zpb_lib), so that the benchmark
measures the matcher's declension instead of repeating it. Places are real Małopolska localities;
the schools are made up in the style of RSPO names.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

AWARD_YEAR = 2018  # gimnazja still existed


@dataclass(frozen=True)
class Place:
    nom: str
    loc: str  # after „w”
    gen: str  # after „z”
    county: str  # TERYT


@dataclass(frozen=True)
class School:
    key: str
    name: str  # as RSPO writes it
    kind: str
    place: Place


@dataclass(frozen=True)
class Case:
    line: str
    truth: str  # School.key
    category: str


def _p(nom: str, loc: str, gen: str, county: str) -> Place:
    return Place(nom, loc, gen, county)


# Pairs of localities a matcher must keep apart: each has a primary school of its own.
TWINS: list[tuple[Place, Place]] = [
    (_p("Łososina Dolna", "Łososinie Dolnej", "Łososiny Dolnej", "1210"),
     _p("Łososina Górna", "Łososinie Górnej", "Łososiny Górnej", "1207")),
    (_p("Mszana Dolna", "Mszanie Dolnej", "Mszany Dolnej", "1207"),
     _p("Mszana Górna", "Mszanie Górnej", "Mszany Górnej", "1207")),
    (_p("Poręba Wielka", "Porębie Wielkiej", "Poręby Wielkiej", "1207"),
     _p("Poręba Mała", "Porębie Małej", "Poręby Małej", "1210")),
    (_p("Nowy Wiśnicz", "Nowym Wiśniczu", "Nowego Wiśnicza", "1201"),
     _p("Stary Wiśnicz", "Starym Wiśniczu", "Starego Wiśnicza", "1201")),
    (_p("Kobylany", "Kobylanach", "Kobylan", "1206"), _p("Kobyle", "Kobylu", "Kobyla", "1209")),
    (_p("Podolany", "Podolanach", "Podolan", "1210"), _p("Podole", "Podolu", "Podola", "1210")),
    (_p("Wola Drwińska", "Woli Drwińskiej", "Woli Drwińskiej", "1201"), _p("Drwinia", "Drwini", "Drwini", "1201")),
    (_p("Wola Radziszowska", "Woli Radziszowskiej", "Woli Radziszowskiej", "1206"),
     _p("Radziszów", "Radziszowie", "Radziszowa", "1206")),
    (_p("Kolonia Lipnik", "Kolonii Lipnik", "Kolonii Lipnik", "1214"), _p("Lipnik", "Lipniku", "Lipnika", "1214")),
    (_p("Raba Wyżna", "Rabie Wyżnej", "Raby Wyżnej", "1211"), _p("Raba Niżna", "Rabie Niżnej", "Raby Niżnej", "1207")),
    (_p("Zabierzów Bocheński", "Zabierzowie Bocheńskim", "Zabierzowa Bocheńskiego", "1219"),
     _p("Zabierzów", "Zabierzowie", "Zabierzowa", "1206")),
    (_p("Porąbka Uszewska", "Porąbce Uszewskiej", "Porąbki Uszewskiej", "1202"),
     _p("Porąbka", "Porąbce", "Porąbki", "1218")),
    (_p("Lipnica Wielka", "Lipnicy Wielkiej", "Lipnicy Wielkiej", "1211"),
     _p("Lipnica Murowana", "Lipnicy Murowanej", "Lipnicy Murowanej", "1201")),
    (_p("Biały Dunajec", "Białym Dunajcu", "Białego Dunajca", "1211"),
     _p("Czarny Dunajec", "Czarnym Dunajcu", "Czarnego Dunajca", "1211")),
    (_p("Gołkowice Dolne", "Gołkowicach Dolnych", "Gołkowic Dolnych", "1210"),
     _p("Gołkowice Górne", "Gołkowicach Górnych", "Gołkowic Górnych", "1210")),
    (_p("Wielka Wieś", "Wielkiej Wsi", "Wielkiej Wsi", "1206"), _p("Mała Wieś", "Małej Wsi", "Małej Wsi", "1219")),
    (_p("Tenczynek", "Tenczynku", "Tenczynka", "1203"), _p("Tenczyn", "Tenczynie", "Tenczyna", "1209")),
    (_p("Rzepiennik Strzyżewski", "Rzepienniku Strzyżewskim", "Rzepiennika Strzyżewskiego", "1216"),
     _p("Rzepiennik Biskupi", "Rzepienniku Biskupim", "Rzepiennika Biskupiego", "1216")),
]

TOWNS = {p.nom: p for p in (
    _p("Tymbark", "Tymbarku", "Tymbarku", "1207"), _p("Łukowica", "Łukowicy", "Łukowicy", "1207"),
    _p("Wolbrom", "Wolbromiu", "Wolbromia", "1212"), _p("Kęty", "Kętach", "Kęt", "1213"),
    _p("Andrychów", "Andrychowie", "Andrychowa", "1218"), _p("Grybów", "Grybowie", "Grybowa", "1210"),
    _p("Dobczyce", "Dobczycach", "Dobczyc", "1209"), _p("Trzebinia", "Trzebini", "Trzebini", "1203"),
    _p("Bobowa", "Bobowej", "Bobowej", "1205"), _p("Niepołomice", "Niepołomicach", "Niepołomic", "1219"),
    _p("Bukowno", "Bukownie", "Bukowna", "1212"), _p("Brzeszcze", "Brzeszczach", "Brzeszcz", "1213"),
    _p("Jodłownik", "Jodłowniku", "Jodłownika", "1207"), _p("Szczurowa", "Szczurowej", "Szczurowej", "1202"),
    _p("Zawoja", "Zawoi", "Zawoi", "1215"), _p("Słomniki", "Słomnikach", "Słomnik", "1208"),
    _p("Szczucin", "Szczucinie", "Szczucina", "1204"), _p("Biecz", "Bieczu", "Biecza", "1205"),
    _p("Ciężkowice", "Ciężkowicach", "Ciężkowic", "1216"), _p("Rabka-Zdrój", "Rabce-Zdroju", "Rabki-Zdroju", "1211"),
    _p("Maków Podhalański", "Makowie Podhalańskim", "Makowa Podhalańskiego", "1215"),
    _p("Libiąż", "Libiążu", "Libiąża", "1203"), _p("Zator", "Zatorze", "Zatora", "1213"),
    _p("Wojnicz", "Wojniczu", "Wojnicza", "1216"), _p("Słopnice", "Słopnicach", "Słopnic", "1207"),
)}

# Complexes and schools named by an abbreviation: (school's name with {loc}, kind, town, the line).
ABBREVIATED = [
    ("Zespół Placówek Oświatowych w {loc}", "complex", "Tymbark", "ZPO w {loc}"),
    ("Zespół Szkolno-Przedszkolny w {loc}", "complex", "Łukowica", "ZSP w {loc}"),
    ("Zespół Szkół Ponadgimnazjalnych nr 1 w {loc}", "complex", "Wolbrom", "ZSP nr 1 w {loc}"),
    ("Zespół Szkół Specjalnych w {loc}", "complex", "Kęty", "ZSS w {loc}"),
    ("Zespół Szkół Zawodowych nr 2 w {loc}", "complex", "Andrychów", "ZSZ nr 2 w {loc}"),
    ("Zespół Szkół w {loc}", "complex", "Grybów", "ZS w {loc}"),
    ("Zespół Szkół Ogólnokształcących w {loc}", "complex", "Dobczyce", "ZSO w {loc}"),
    ("Miejski Zespół Szkół nr 1 w {loc}", "complex", "Trzebinia", "MZS nr 1 w {loc}"),
    ("Publiczna Szkoła Podstawowa nr 2 w {loc}", "primary", "Bobowa", "PSP nr 2 w {loc}"),
    ("Szkoła Podstawowa nr 1 im. Jana Pawła II w {loc}", "primary", "Bobowa", "SP nr 1 w {loc}"),
    ("I Liceum Ogólnokształcące im. Jana Pawła II w {loc}", "general_secondary", "Kęty", "I LO w {loc}"),
    ("II Liceum Ogólnokształcące w {loc}", "general_secondary", "Kęty", "II LO w {loc}"),
    ("Liceum Ogólnokształcące im. Bolesława Wstydliwego w {loc}", "general_secondary", "Niepołomice", "LO w {loc}"),
    ("Zespół Szkół Technicznych i Ogólnokształcących w {loc}", "complex", "Bukowno", "ZSTiO w {loc}"),
    ("Centrum Kształcenia Zawodowego i Ustawicznego w {loc}", "post_secondary", "Brzeszcze", "CKZiU w {loc}"),
    ("Zespół Placówek Oświatowych w {loc}", "complex", "Szczucin", "Z.P.O. w {loc}"),
]
# Schools of a complex listed in the register too (RSPO lists both): the line must still find the complex.
MEMBERS = [("Szkoła Podstawowa im. Władysława Orkana w {loc}", "primary", "Tymbark"),
           ("Szkoła Podstawowa w {loc}", "primary", "Łukowica"),
           ("Szkoła Podstawowa w {loc}", "primary", "Jodłownik"),
           ("Szkoła Podstawowa im. Kazimierza Wielkiego w {loc}", "primary", "Szczurowa"),
           ("Szkoła Podstawowa w {loc}", "primary", "Ciężkowice")]
# „Szkoła w X” for an award given to X's complex.
GENERIC = [("Zespół Szkolno-Przedszkolny w {loc}", "Jodłownik"), ("Zespół Szkół w {loc}", "Szczurowa"),
           ("Zespół Szkolno-Przedszkolny w {loc}", "Zawoja"), ("Zespół Placówek Oświatowych w {loc}", "Ciężkowice")]
# The locality in the genitive after „z”/„ze”: (school's name, kind, town, the line with {gen}).
GENITIVE = [
    ("Szkoła Podstawowa nr 1 im. Tadeusza Kościuszki w {loc}", "primary", "Kęty", "Szkoła Podstawowa nr 1 z {gen}"),
    ("Gimnazjum im. Jana Pawła II w {loc}", "gimnazjum", "Grybów", "Gimnazjum z {gen}"),
    ("Zespół Szkół im. Króla Władysława Jagiełły w {loc}", "complex", "Biecz", "Zespół Szkół z {gen}"),
    ("Szkoła Podstawowa w {loc}", "primary", "Słomniki", "Szkoła Podstawowa ze {gen}"),
    ("Liceum Ogólnokształcące im. Eugeniusza Romera w {loc}", "general_secondary", "Rabka-Zdrój",
     "Liceum Ogólnokształcące z {gen}"),
    ("Zespół Szkół Ponadgimnazjalnych w {loc}", "complex", "Maków Podhalański", "Zespół Szkół Ponadgimnazjalnych z {gen}"),
    ("Szkoła Podstawowa nr 2 w {loc}", "primary", "Libiąż", "Szkoła Podstawowa nr 2 z {gen}"),
    ("Technikum w {loc}", "technical", "Wojnicz", "Technikum z {gen}"),
    ("Szkoła Podstawowa z Oddziałami Integracyjnymi w {loc}", "primary", "Zator",
     "Szkoła Podstawowa z Oddziałami Integracyjnymi w {loc}"),
    ("Szkoła Podstawowa w {loc}", "primary", "Słopnice", "Szkoła Podstawowa ze {gen}"),
]
# The dative of school types, as in „certyfikat otrzymała Szkole…”: (school's name, kind, town, line).
DATIVE = [
    ("Zespół Szkół Specjalnych w {loc}", "complex", "Kęty", "Zespołowi Szkół Specjalnych w {loc}"),
    ("Zespół Szkolno-Przedszkolny w {loc}", "complex", "Łukowica", "Zespołowi Szkolno-Przedszkolnemu w {loc}"),
    ("Zespół Placówek Oświatowych w {loc}", "complex", "Tymbark", "Zespołowi Placówek Oświatowych w {loc}"),
    ("Zespół Szkół Ogólnokształcących w {loc}", "complex", "Dobczyce", "Zespołowi Szkół Ogólnokształcących w {loc}"),
    ("Publiczna Szkoła Podstawowa nr 2 w {loc}", "primary", "Bobowa", "Publicznej Szkole Podstawowej nr 2 w {loc}"),
    ("I Liceum Ogólnokształcące im. Jana Pawła II w {loc}", "general_secondary", "Kęty",
     "I Liceum Ogólnokształcącemu w {loc}"),
]
# Demo schools named in the dative: the kind's dative, by the demo's KIND_NAMES.
DATIVE_KIND = {"primary": "Szkole Podstawowej", "general_secondary": "Liceum Ogólnokształcącemu",
               "technical": "Technikum", "gimnazjum": "Publicznemu Gimnazjum", "vocational": "Szkole Branżowej"}
# A town's adjective before the school type („olkuskie Gimnazjum nr 1”): the stem, then the ending by
# the type's gender.
TOWN_ADJECTIVE = {
    "Bochnia": "bocheńsk", "Brzesko": "brzesk", "Chrzanów": "chrzanowsk", "Dąbrowa Tarnowska": "dąbrowsk",
    "Gorlice": "gorlick", "Kraków": "krakowsk", "Limanowa": "limanowsk", "Miechów": "miechowsk",
    "Myślenice": "myślenick", "Nowy Sącz": "nowosądeck", "Nowy Targ": "nowotarsk", "Olkusz": "olkusk",
    "Oświęcim": "oświęcimsk", "Proszowice": "proszowick", "Sucha Beskidzka": "susk", "Tarnów": "tarnowsk",
    "Zakopane": "zakopiańsk", "Wadowice": "wadowick", "Wieliczka": "wielick",
}
ADJECTIVE_KIND = {"primary": ("a", "Szkoła Podstawowa"), "gimnazjum": ("ie", "Gimnazjum"),
                  "general_secondary": ("ie", "Liceum Ogólnokształcące"), "technical": ("ie", "Technikum")}

PATRONS = ["Jana Pawła II", "Marii Konopnickiej", "Adama Mickiewicza", "Tadeusza Kościuszki", "Henryka Sienkiewicza",
           "Kornela Makuszyńskiego", "Orląt Lwowskich", "Świętej Jadwigi Królowej"]


@dataclass
class Cases:
    schools: list[School]  # to add to the register
    truths: set[str]  # keys of the schools some line names
    cases: list[Case]


def cases(rnd: random.Random) -> Cases:
    """The register's additions and the lines, with the school each line names."""
    schools: list[School] = []
    out: list[Case] = []
    by_name: dict[tuple[str, str], School] = {}

    def school(name: str, kind: str, place: Place) -> School:
        key = (name.format(loc=place.loc), place.nom)
        if key not in by_name:
            s = School(f"s{len(schools) + 1}", key[0], kind, place)
            by_name[key] = s
            schools.append(s)
        return by_name[key]

    for i, pair in enumerate(TWINS):
        same_patron = PATRONS[i % len(PATRONS)] if i % 3 == 0 else None
        for j, place in enumerate(pair):
            patron = same_patron or (PATRONS[(i + j) % len(PATRONS)] if i % 3 == 1 else None)
            s = school("Szkoła Podstawowa" + (f" im. {patron}" if patron else "") + " w {loc}", "primary", place)
            style = rnd.choice(["full", "sp", "patron", "genitive", "dative", "upper"])
            im = f" im. {patron}" if patron and style == "patron" else ""
            line = {"full": f"Szkoła Podstawowa w {place.loc}", "sp": f"SP w {place.loc}",
                    "patron": f"Szkoła Podstawowa{im} w {place.loc}", "genitive": f"Szkoła Podstawowa z {place.gen}",
                    "dative": f"Szkole Podstawowej w {place.loc}",
                    "upper": f"SZKOŁA PODSTAWOWA W {place.loc.upper()}"}[style]
            out.append(Case(line, s.key, "twin"))
    for name, kind, town in MEMBERS:
        school(name, kind, TOWNS[town])
    for name, kind, town, line in ABBREVIATED:
        s = school(name, kind, TOWNS[town])
        out.append(Case(line.format(loc=TOWNS[town].loc), s.key, "abbreviation"))
    for name, town in GENERIC:
        s = school(name, "complex", TOWNS[town])
        out.append(Case(f"Szkoła w {TOWNS[town].loc}", s.key, "generic"))
    for name, kind, town, line in GENITIVE:
        p = TOWNS[town]
        s = school(name, kind, p)
        out.append(Case(line.format(loc=p.loc, gen=p.gen), s.key, "genitive"))
    for name, kind, town, line in DATIVE:
        p = TOWNS[town]
        s = school(name, kind, p)
        out.append(Case(line.format(loc=p.loc), s.key, "dative"))
    return Cases(schools, {c.truth for c in out}, out)


def adjectival_line(kind: str, number: int, town: str, rnd: random.Random) -> str | None:
    """„olkuskie Gimnazjum nr 1” for a school of ``kind`` with ``number`` in ``town``; None when the
    kind or town has no such form here."""
    if kind not in ADJECTIVE_KIND or town not in TOWN_ADJECTIVE:
        return None
    ending, base = ADJECTIVE_KIND[kind]
    adjective = TOWN_ADJECTIVE[town] + ending
    if rnd.random() < 0.4:
        adjective = adjective[0].upper() + adjective[1:]
    return f"{adjective} {base} nr {number}"


def dative_line(kind: str, number: int | None, locative: str) -> str | None:
    """„Szkole Podstawowej nr 3 w Bochni” for a demo school."""
    if kind not in DATIVE_KIND:
        return None
    return f"{DATIVE_KIND[kind]}{f' nr {number}' if number else ''} w {locative}"
