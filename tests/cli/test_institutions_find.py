"""`zpb institutions find`: universities by the abbreviations people use (AGH, UJ, PK, UEK, URK, AWF,
UP, KA/AFM), schools by the abbreviations of their type, kinds shown by their Polish names."""
from __future__ import annotations

from pathlib import Path

import pytest

from zpb_lib import store
from zpb_lib.cli import main
from zpb_lib.domain.institutions import find
from zpb_lib.store.write import insert_rows, transaction

UNIVERSITIES = {  # POL-on id (made up) → name as POL-on writes it
    "0b1f6a0c-6b1e-4c8a-9d2f-1a2b3c4d5e01": "Akademia Górniczo-Hutnicza im. Stanisława Staszica w Krakowie",
    "0b1f6a0c-6b1e-4c8a-9d2f-1a2b3c4d5e02": "Uniwersytet Jagielloński w Krakowie",
    "0b1f6a0c-6b1e-4c8a-9d2f-1a2b3c4d5e03": "Politechnika Krakowska im. Tadeusza Kościuszki",
    "0b1f6a0c-6b1e-4c8a-9d2f-1a2b3c4d5e04": "Uniwersytet Ekonomiczny w Krakowie",
    "0b1f6a0c-6b1e-4c8a-9d2f-1a2b3c4d5e05": "Uniwersytet Rolniczy im. Hugona Kołłątaja w Krakowie",
    "0b1f6a0c-6b1e-4c8a-9d2f-1a2b3c4d5e06": "Akademia Wychowania Fizycznego im. Bronisława Czecha w Krakowie",
    "0b1f6a0c-6b1e-4c8a-9d2f-1a2b3c4d5e07": "Uniwersytet Komisji Edukacji Narodowej w Krakowie",
    "0b1f6a0c-6b1e-4c8a-9d2f-1a2b3c4d5e08": "Krakowska Akademia im. Andrzeja Frycza Modrzewskiego",
    "0b1f6a0c-6b1e-4c8a-9d2f-1a2b3c4d5e09": "Akademia Nauk Stosowanych w Nowym Sączu",
}
SCHOOLS = [  # RSPO, name, kind, county, locality
    (200001, "Szkoła Podstawowa nr 2 im. Jana Pawła II w Bochni", "primary", "1201", "Bochnia"),
    (200002, "Zespół Szkół Ogólnokształcących w Limanowej", "complex", "1207", "Limanowa"),
    (200003, "Zespół Szkół Technicznych i Ogólnokształcących w Bukownie", "complex", "1212", "Bukowno"),
    (200004, "Uniwersytecka Szkoła Podstawowa w Krakowie", "primary", "1261", "Kraków"),  # „U…” but no UJ
    (200005, "Szkoła Podstawowa w Grupie", "primary", "1201", "Grupa"),  # „up” inside a word
]
# What each abbreviation must find: the POL-on ids (universities) or RSPO numbers (schools), by hand.
EXPECTED = {
    "AGH": {"0b1f6a0c-6b1e-4c8a-9d2f-1a2b3c4d5e01"}, "UJ": {"0b1f6a0c-6b1e-4c8a-9d2f-1a2b3c4d5e02"},
    "PK": {"0b1f6a0c-6b1e-4c8a-9d2f-1a2b3c4d5e03"}, "UEK": {"0b1f6a0c-6b1e-4c8a-9d2f-1a2b3c4d5e04"},
    "URK": {"0b1f6a0c-6b1e-4c8a-9d2f-1a2b3c4d5e05"}, "AWF": {"0b1f6a0c-6b1e-4c8a-9d2f-1a2b3c4d5e06"},
    "UP": {"0b1f6a0c-6b1e-4c8a-9d2f-1a2b3c4d5e07"}, "UKEN": {"0b1f6a0c-6b1e-4c8a-9d2f-1a2b3c4d5e07"},
    "KA": {"0b1f6a0c-6b1e-4c8a-9d2f-1a2b3c4d5e08"}, "AFM": {"0b1f6a0c-6b1e-4c8a-9d2f-1a2b3c4d5e08"},
    "PWSZ": {"0b1f6a0c-6b1e-4c8a-9d2f-1a2b3c4d5e09"}, "ANS": {"0b1f6a0c-6b1e-4c8a-9d2f-1a2b3c4d5e09"},
    "sp 2 bochnia": {"200001"}, "SP nr 2 Bochnia": {"200001"}, "zso limanowa": {"200002"},
    "ZSTiO": {"200003"}, "zsto bukowno": {"200003"}, "zespół szkół technicznych bukowno": {"200003"},
}


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("find") / "zpb.sqlite"
    con = store.create(path)
    try:
        with transaction(con):
            insert_rows(con, "institutions", ("rspo", "polon", "name", "kind", "county", "municipality", "locality"),
                        [(None, polon, name, "university", "1262" if "Sączu" in name else "1261",
                          "Nowy Sącz" if "Sączu" in name else "Kraków", "Nowy Sącz" if "Sączu" in name else "Kraków")
                         for polon, name in UNIVERSITIES.items()]
                        + [(r, None, n, k, c, loc, loc) for r, n, k, c, loc in SCHOOLS])
    finally:
        con.close()
    return path


@pytest.mark.parametrize("text", EXPECTED)
def test_find_by_abbreviation(db, text):
    con = store.connect(db, readonly=True)
    try:
        hits = find(con, text)
    finally:
        con.close()
    assert hits and hits[0].institution.ident in EXPECTED[text]
    # the abbreviation names one institution: nothing else is ranked as high
    assert all(h.score < hits[0].score for h in hits[1:]), [(h.institution.name, h.score) for h in hits]


def test_cli_find_shows_the_identifier_and_the_polish_kind(db, capsys):
    assert main(["institutions", "find", "AGH", "--db", str(db)]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out == ["0b1f6a0c-6b1e-4c8a-9d2f-1a2b3c4d5e01  Akademia Górniczo-Hutnicza im. Stanisława Staszica w "
                   "Krakowie — Kraków (powiat m. Kraków, uczelnia wyższa)"]
    assert main(["institutions", "find", "zso", "limanowa", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert out.strip() == "200002  Zespół Szkół Ogólnokształcących w Limanowej — Limanowa (powiat limanowski, zespół szkół)"
    assert main(["institutions", "find", "sp", "bochnia", "--db", str(db)]) == 0
    assert "(powiat bocheński, szkoła podstawowa)" in capsys.readouterr().out
    assert main(["institutions", "find", "XYZW", "--db", str(db)]) == 1
    assert "no institution matches 'XYZW'" in capsys.readouterr().err
