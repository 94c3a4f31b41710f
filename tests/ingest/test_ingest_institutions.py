"""`zpb ingest institutions`: the RSPO register's search export and a list of universities.

Expected values are computed here from the rows the test writes (tests/support/rspo.py), with this
file's own type → kind table, never taken from the importer's output."""
from __future__ import annotations

import copy
import string
from pathlib import Path

import pytest

from zpb_lib import store
from zpb_lib.cli import main
from zpb_lib.ingest.institutions import ingest_institutions, load_rspo_types
from zpb_lib.reference import ReferenceDataError
from support.ingest import refused
from support.rspo import (HEADER, UNIVERSITY_HEADER, malopolska_rows, rspo_row, universities, write_rspo_export,
                          write_university_list)

pytestmark = pytest.mark.both_backends

# The programme's choice as FORMATS.md and the issue state it, written out independently of
# data/rspo_types.yaml: None = out of scope; a type missing here is unknown.
KINDS = {"Szkoła podstawowa": "primary", "Gimnazjum": "gimnazjum", "Liceum ogólnokształcące": "general_secondary",
         "Technikum": "technical", "Branżowa szkoła I stopnia": "vocational", "Branżowa szkoła II stopnia": "vocational",
         "Szkoła policealna": "post_secondary", "Szkoła specjalna przysposabiająca do pracy": "special",
         "Szkoła muzyczna I stopnia": "art", "Liceum sztuk plastycznych": "art",
         "Zespół szkół i placówek oświatowych": "complex", "Przedszkole": None,
         "Młodzieżowy ośrodek wychowawczy": None, "Specjalny ośrodek szkolno-wychowawczy": None}
COLUMNS = ("rspo", "name", "kind", "county", "municipality", "locality", "district", "municipality_code", "rspo_type",
           "parent_rspo", "pupils", "opened_year", "closed_year", "in_register")


def letter(name: str, header=HEADER) -> str:
    i = list(header).index(name)
    return string.ascii_uppercase[i] if i < 26 else string.ascii_uppercase[i // 26 - 1] + string.ascii_uppercase[i % 26]


def malopolska(row: dict) -> bool:
    return row["Kod terytorialny powiat"].startswith("12")


def in_scope(rows: list[dict]) -> list[dict]:
    return [r for r in rows if malopolska(r) and KINDS.get(r["Typ"])]


def stored(empty_con) -> dict[int, dict]:
    cur = empty_con.execute(f"SELECT {', '.join(COLUMNS)} FROM institutions WHERE rspo IS NOT NULL ORDER BY rspo")
    return {r[0]: dict(zip(COLUMNS, r)) for r in cur}


@pytest.fixture
def empty_con(empty_db):
    return empty_db


@pytest.fixture
def rows() -> list[dict]:
    return malopolska_rows()


@pytest.fixture
def first(empty_con, rows, tmp_path):
    """The sample export imported once."""
    return ingest_institutions(empty_con, write_rspo_export(tmp_path / "rspo-2025.csv", rows))


# --------------------------------------------------------------------------- a first export

def test_stores_the_malopolska_schools_of_the_types_in_scope(empty_con, rows, first):
    expected = {int(r["Numer RSPO"]): (KINDS[r["Typ"]], r["Kod terytorialny powiat"], r["Nazwa"], r["Typ"])
                for r in in_scope(rows)}
    got = stored(empty_con)
    assert {k: (v["kind"], v["county"], v["name"], v["rspo_type"]) for k, v in got.items()} == expected
    assert len({v["county"] for v in got.values()}) >= 6
    assert all(v["in_register"] == 1 for v in got.values())
    import_ids = {r[0] for r in empty_con.execute("SELECT DISTINCT import_id FROM institutions")}
    assert import_ids == {first.import_id}
    kind, n = empty_con.execute("SELECT kind, rows FROM imports WHERE id = ?", (first.import_id,)).fetchone()
    assert (kind, n) == ("institutions", len(expected))

    lines = "\n".join(first.lines())
    others = [r for r in rows if not malopolska(r)]
    assert f"{len(rows)} rows read" in lines
    assert f"Małopolska rows: {len(rows) - len(others)}" in lines
    assert f"skipped (other voivodeships): {len(others)}" in lines
    for voiv in {r["Województwo"].lower() for r in others}:
        assert f"{voiv} 1" in lines
    preschools = sum(malopolska(r) and r["Typ"] == "Przedszkole" for r in rows)
    assert f"Przedszkole {preschools}" in lines and "Młodzieżowy ośrodek wychowawczy 1" in lines
    unknown = [r["Typ"] for r in rows if malopolska(r) and r["Typ"] not in KINDS]
    assert unknown and all(f"{t} 1" in lines for t in unknown)
    assert f"new: {len(expected)}" in lines and "unchanged: 0" in lines


def test_kraków_delegatura_rows_keep_the_city_and_name_the_district(empty_con, rows, first):
    got = stored(empty_con)
    delegatura = [r for r in rows if r["Kod terytorialny gmina"].startswith("1261")
                  and r["Kod terytorialny gmina"].endswith("9") and KINDS.get(r["Typ"])]
    assert len(delegatura) >= 2
    for r in delegatura:
        s = got[int(r["Numer RSPO"])]
        assert (s["locality"], s["municipality"], s["district"]) == ("Kraków", "Kraków", r["Gmina"])
        assert s["municipality_code"] == r["Kod terytorialny gmina"]
    elsewhere = [r for r in in_scope(rows) if r not in delegatura]
    for r in elsewhere:
        s = got[int(r["Numer RSPO"])]
        assert (s["locality"], s["municipality"], s["district"]) == (r["Miejscowość"], r["Gmina"], None)


def test_complex_and_member_schools(empty_con, rows, first):
    got = stored(empty_con)
    complexes = [r for r in in_scope(rows) if r["Typ"] == "Zespół szkół i placówek oświatowych"]
    assert complexes and all(got[int(r["Numer RSPO"])]["kind"] == "complex" for r in complexes)
    for r in in_scope(rows):
        parent = r["RSPO podmiotu nadrzędnego"]
        assert got[int(r["Numer RSPO"])]["parent_rspo"] == (int(parent) if parent else None)
    members = [r for r in in_scope(rows) if r["RSPO podmiotu nadrzędnego"]]
    assert len(members) >= 2


def test_parent_is_kept_when_the_complex_is_not_in_scope(empty_con, tmp_path):
    centre = rspo_row(30001, "Specjalny ośrodek szkolno-wychowawczy", "SOSW w Bochni", "bochnia")
    school = rspo_row(30002, "Szkoła podstawowa", "Szkoła Podstawowa Specjalna w SOSW w Bochni", "bochnia",
                      parent=30001)
    ingest_institutions(empty_con, write_rspo_export(tmp_path / "sosw.csv", [centre, school]))
    assert stored(empty_con)[30002]["parent_rspo"] == 30001
    assert 30001 not in stored(empty_con)


def test_years_and_pupils(empty_con, rows, first):
    got = stored(empty_con)
    for r in in_scope(rows):
        s = got[int(r["Numer RSPO"])]
        date = r["Data rozpoczęcia działalności"] or r["Data założenia"]
        year = int(date[:4]) if "-" in date else int(date[-4:])
        assert s["opened_year"] == year
        assert s["closed_year"] == (int(r["Data likwidacji"][:4]) if r["Data likwidacji"] else None)
        assert s["pupils"] == (int(r["Liczba uczniów"]) if r["Liczba uczniów"] else None)
    assert any(not r["Data rozpoczęcia działalności"] for r in in_scope(rows))  # the fallback was exercised
    assert any(r["Data likwidacji"] for r in in_scope(rows))
    assert any(not r["Liczba uczniów"] for r in in_scope(rows))


# --------------------------------------------------------------------------- a newer export

def newer(rows: list[dict]) -> tuple[list[dict], dict]:
    """The next year's export: one school renamed, one moved to another county, one with more pupils,
    one closed school gone from the list and one new school."""
    rows = copy.deepcopy(rows)
    by = {int(r["Numer RSPO"]): r for r in rows}
    by[10101]["Nazwa"] = "Szkoła Podstawowa nr 1 im. Królowej Jadwigi w Bochni (nowa nazwa)"
    moved = rspo_row(10601, "Szkoła podstawowa", by[10601]["Nazwa"], "wisnicz", pupils=388)
    rows[rows.index(by[10601])] = moved
    by[16201]["Liczba uczniów"] = "530"
    rows.remove(by[11201])
    rows.append(rspo_row(11203, "Szkoła podstawowa", "Szkoła Podstawowa nr 4 w Olkuszu", "olkusz", pupils=210,
                         started="2025-09-01"))
    return rows, {"renamed": 10101, "moved": 10601, "more_pupils": 16201, "gone": 11201, "new": 11203}


def test_newer_export_updates_in_place(empty_con, rows, first, tmp_path):
    before = stored(empty_con)
    rows2, what = newer(rows)
    second = ingest_institutions(empty_con, write_rspo_export(tmp_path / "rspo-2026.csv", rows2))
    after = stored(empty_con)

    assert after[what["renamed"]]["name"] == next(r["Nazwa"] for r in rows2 if r["Numer RSPO"] == str(what["renamed"]))
    assert (after[what["moved"]]["county"], after[what["moved"]]["locality"]) == ("1201", "Nowy Wiśnicz")
    assert after[what["more_pupils"]]["pupils"] == 530
    assert after[what["gone"]]["in_register"] == 0 and after[what["gone"]]["name"] == before[what["gone"]]["name"]
    assert after[what["new"]]["in_register"] == 1
    new_import = empty_con.execute("SELECT import_id FROM institutions WHERE rspo = ?", (what["new"],)).fetchone()[0]
    assert new_import == second.import_id
    # the changed rows keep the import that created them; their old values are logged for undo
    assert empty_con.execute("SELECT COUNT(*) FROM institutions WHERE import_id = ?", (first.import_id,)).fetchone()[0] \
        == len(before)
    logged = {r[0]: r[1] for r in empty_con.execute(
        "SELECT i.rspo, c.old FROM import_changes c JOIN institutions i ON i.id = c.row_id WHERE c.import_id = ?",
        (second.import_id,))}
    assert set(logged) == {what["renamed"], what["moved"], what["more_pupils"], what["gone"]}
    assert before[what["renamed"]]["name"] in logged[what["renamed"]]
    untouched = set(before) - set(logged)
    assert all(after[k] == before[k] for k in untouched)

    lines = "\n".join(second.lines())
    for text in ("new: 1", "renamed: 1", "moved: 1", "other changes: 1 (pupils 1)", "no longer in the register: 1",
                 f"unchanged: {len(untouched)}", "nowa nazwa", "bocheński, Nowy Wiśnicz", "RSPO 11201"):
        assert text in lines, f"{text!r} not in\n{lines}"


def test_school_back_in_the_register(empty_con, rows, first, tmp_path):
    rows2, what = newer(rows)
    ingest_institutions(empty_con, write_rspo_export(tmp_path / "2026.csv", rows2))
    rows3 = rows2 + [r for r in rows if r["Numer RSPO"] == str(what["gone"])]
    third = ingest_institutions(empty_con, write_rspo_export(tmp_path / "2027.csv", rows3))
    assert stored(empty_con)[what["gone"]]["in_register"] == 1
    assert "back in the register: 1" in "\n".join(third.lines())


def test_export_of_one_county_and_type_marks_only_its_own(empty_con, rows, first, tmp_path):
    # an export filtered to primary schools of powiat bocheński, one of them no longer listed
    filtered = [r for r in rows if r["Kod terytorialny powiat"] == "1201" and r["Typ"] == "Szkoła podstawowa"]
    assert len(filtered) >= 2
    dropped = int(filtered.pop()["Numer RSPO"])
    before = stored(empty_con)
    result = ingest_institutions(empty_con, write_rspo_export(tmp_path / "bochnia.csv", filtered))
    after = stored(empty_con)
    assert [k for k in after if after[k]["in_register"] == 0] == [dropped]
    assert all(after[k] == before[k] for k in after if k != dropped)
    assert "no longer in the register: 1" in "\n".join(result.lines())


def test_dry_run_shows_the_differences_and_stores_nothing(empty_con, rows, first, tmp_path):
    rows2, _ = newer(rows)
    path = write_rspo_export(tmp_path / "2026.csv", rows2)
    before = store.content_hash(empty_con)
    dry = ingest_institutions(empty_con, path, dry_run=True)
    assert store.content_hash(empty_con) == before
    assert dry.import_id is None and dry.lines()[-1] == "dry run: nothing was stored"
    real = ingest_institutions(empty_con, path)
    assert dry.lines()[:-1] == real.lines()[:-1]


def test_the_same_file_is_refused_the_second_time(empty_con, rows, first, tmp_path):
    path = tmp_path / "rspo-2025.csv"  # written by the fixture
    refused(empty_con, lambda: ingest_institutions(empty_con, path), "already imported", f"import #{first.import_id}")


@pytest.mark.parametrize("variant", ["cp1250", "xlsx", "everything wrapped", "newer header"])
def test_variants_store_the_same_as_the_utf8_export(rows, first, empty_con, tmp_path, variant):
    expected = stored(empty_con)
    other = store.create(tmp_path / f"{variant}.sqlite")
    path = tmp_path / f"rspo-{variant.replace(' ', '-')}"
    if variant == "cp1250":
        write_rspo_export(path.with_suffix(".csv"), rows, encoding="cp1250")
    elif variant == "xlsx":
        write_rspo_export(path.with_suffix(".xlsx"), rows, xlsx=True)
    elif variant == "everything wrapped":
        write_rspo_export(path.with_suffix(".csv"), rows, wrap=HEADER)
    else:  # newer exports: more columns, in another order
        header = ["Identyfikator zmiany", *reversed(HEADER), "Status", "Nr w rejestrze", "Uwagi"]
        write_rspo_export(path.with_suffix(".csv"), [dict(r, Status="aktywna") for r in rows], header=header)
    result = ingest_institutions(other, next(tmp_path.glob(f"{path.name}.*")))
    assert stored(other) == expected
    assert result.lines()[1:] == first.lines()[1:-1] + [result.lines()[-1]]
    other.close()


@pytest.mark.parametrize("form", ["two digits and voivodeship", "gmina code only", "powiat code only"])
def test_powiat_code_forms(rows, first, empty_con, tmp_path, form):
    expected = stored(empty_con)
    changed, header = rows, HEADER
    if form == "two digits and voivodeship":
        changed = [dict(r, **{"Kod terytorialny powiat": r["Kod terytorialny powiat"][2:]}) for r in rows]
    elif form == "gmina code only":
        header = [h for h in HEADER if h != "Kod terytorialny powiat"]
    else:  # no TERC code to store; Kraków's districts are still told from the gmina's name
        header = [h for h in HEADER if h != "Kod terytorialny gmina"]
        expected = {k: dict(v, municipality_code=None) for k, v in expected.items()}
    other = store.create(tmp_path / "other.sqlite")
    ingest_institutions(other, write_rspo_export(tmp_path / "codes.csv", changed, header=header))
    assert stored(other) == expected
    other.close()


# --------------------------------------------------------------------------- universities

def universities_stored(empty_con) -> dict[str, tuple]:
    return {r[0]: r[1:] for r in empty_con.execute(
        "SELECT polon, name, kind, county, municipality, locality, in_register FROM institutions "
        "WHERE polon IS NOT NULL")}


COUNTY_BY_TEXT = {"1261": "1261", "m. Kraków": "1261", "Kraków": "1261", "m. Nowy Sącz": "1262"}


def test_universities_list(empty_con, tmp_path):
    unis = universities()
    result = ingest_institutions(empty_con, write_university_list(tmp_path / "uczelnie.csv", unis))
    expected = {u["POL-on"].lower(): (u["Nazwa"], "university", COUNTY_BY_TEXT[u["Powiat"]], u["Miasto"], u["Miasto"], 1)
                for u in unis}
    assert universities_stored(empty_con) == expected
    assert empty_con.execute("SELECT kind FROM imports WHERE id = ?", (result.import_id,)).fetchone()[0] == "universities"
    assert f"new: {len(unis)}" in "\n".join(result.lines())

    unis2 = copy.deepcopy(unis)
    unis2[0]["Nazwa"] = "AGH Akademia Górniczo-Hutnicza w Krakowie"
    unis2[1].update(Miasto="Tarnów", Powiat="1263")
    gone = unis2.pop()
    second = ingest_institutions(empty_con, write_university_list(tmp_path / "uczelnie-2026.csv", unis2))
    after = universities_stored(empty_con)
    assert after[unis[0]["POL-on"]][0] == "AGH Akademia Górniczo-Hutnicza w Krakowie"
    assert after[unis[1]["POL-on"]][2:5] == ("1263", "Tarnów", "Tarnów")
    assert after[gone["POL-on"]][-1] == 0
    lines = "\n".join(second.lines())
    for text in ("renamed: 1", "moved: 1", "no longer in the register: 1", f"unchanged: {len(unis2) - 2}"):
        assert text in lines


@pytest.mark.parametrize("variant", ["xlsx", "cp1250 comma", "cp1250 semicolon"])
def test_university_list_variants(empty_con, tmp_path, variant):
    unis = universities()
    ingest_institutions(empty_con, write_university_list(tmp_path / "u.csv", unis))
    other = store.create(tmp_path / "other.sqlite")
    if variant == "xlsx":
        path = write_university_list(tmp_path / "u.xlsx", unis, xlsx=True)
    else:
        delimiter = ";" if variant.endswith("semicolon") else ","
        path = write_university_list(tmp_path / "u2.csv", unis, encoding="cp1250", delimiter=delimiter)
    ingest_institutions(other, path)
    assert universities_stored(other) == universities_stored(empty_con)
    other.close()


# --------------------------------------------------------------------------- bad input

def _export(tmp_path, rows, **kw) -> Path:
    return write_rspo_export(tmp_path / "bad.csv", rows, **kw)


def _with(rows, n, **changes) -> list[dict]:
    out = copy.deepcopy(rows)
    out[n].update(changes)
    return out


def _row_of(rows, rspo) -> int:
    return 2 + next(i for i, r in enumerate(rows) if r["Numer RSPO"] == str(rspo))


def bad_rspo_cases(rows):
    """(name, rows, header, expected message parts); rows are written as the UTF-8 export."""
    n_bochnia = _row_of(rows, 10101)
    yield ("not a number", _with(rows, 0, **{"Numer RSPO": "12a4"}), HEADER,
           [f"row {n_bochnia}", f"column {letter('Numer RSPO')} „Numer RSPO”", "'12a4' is not an RSPO number"])
    yield ("zero", _with(rows, 0, **{"Numer RSPO": "0"}), HEADER, [f"row {n_bochnia}", "'0' is not an RSPO number"])
    yield ("negative", _with(rows, 0, **{"Numer RSPO": "-7"}), HEADER, ["'-7' is not an RSPO number"])
    yield ("empty", _with(rows, 0, **{"Numer RSPO": ""}), HEADER, [f"row {n_bochnia}", "RSPO number is empty"])
    twice = _with(rows, 5, **{"Numer RSPO": "10101"})
    yield ("twice", twice, HEADER, [f"row {2 + 5}", "RSPO number 10101 appears twice: in rows 2 and 7"])
    yield ("unknown powiat", _with(rows, 0, **{"Kod terytorialny powiat": "1299", "Kod terytorialny gmina": "1299011"}),
           HEADER, [f"row {n_bochnia}", f"column {letter('Kod terytorialny powiat')} „Kod terytorialny powiat”",
                    "unknown Małopolska powiat code 1299"])
    yield ("powiat not a code", _with(rows, 0, **{"Kod terytorialny powiat": "bocheński"}), HEADER,
           [f"row {n_bochnia}", "'bocheński' is not a TERYT powiat code"])
    yield ("gmina elsewhere", _with(rows, 0, **{"Kod terytorialny gmina": "1202011"}), HEADER,
           [f"column {letter('Kod terytorialny gmina')} „Kod terytorialny gmina”", "does not lie in powiat 1201"])
    # The name says one county, the code another (a row copied from another school and half corrected).
    yield ("powiat name and code disagree", _with(rows, 0, Powiat="brzeski"), HEADER,
           [f"row {n_bochnia}", f"column {letter('Powiat')} „Powiat”", "„brzeski” is powiat brzeski (1202)",
            f"column {letter('Kod terytorialny powiat')} „Kod terytorialny powiat” gives 1201 (powiat bocheński)"])
    yield ("powiat name unknown", _with(rows, 0, Powiat="gdański"), HEADER,
           [f"row {n_bochnia}", "„gdański” is no Małopolska powiat"])
    yield ("empty name", _with(rows, 2, Nazwa="  "), HEADER,
           [f"row {2 + 2}", f"column {letter('Nazwa')} „Nazwa”", "the name is empty"])
    yield ("bad date", _with(rows, 0, **{"Data rozpoczęcia działalności": "31.02.2001"}), HEADER,
           [f"column {letter('Data rozpoczęcia działalności')} „Data rozpoczęcia działalności”", "is not a date"])
    yield ("bad pupils", _with(rows, 0, **{"Liczba uczniów": "dużo"}), HEADER,
           [f"column {letter('Liczba uczniów')} „Liczba uczniów”", "'dużo' is not a number of pupils"])
    yield ("closed before opened", _with(rows, 0, **{"Data likwidacji": "1990-06-30"}), HEADER,
           ["closed in 1990, before it opened (1999)"])
    dropped = [h for h in HEADER if h not in ("Typ", "Miejscowość")]
    yield ("missing columns", rows, dropped, ["row 1", "missing required columns", "„Typ”", "„Miejscowość”"])
    no_codes = [h for h in HEADER if not h.startswith("Kod terytorialny")]
    yield ("no territorial codes", rows, no_codes, ["„Kod terytorialny powiat” or „Kod terytorialny gmina”"])
    yield ("header only", [], HEADER, ["row 2", "no rows"])
    yield ("no Małopolska", [r for r in rows if not malopolska(r)], HEADER, ["no row of Małopolska", "mazowieckie 1"])


@pytest.mark.parametrize("bad_rows,header,parts", [pytest.param(*c[1:], id=c[0]) for c in
                                                    bad_rspo_cases(malopolska_rows())])
def test_bad_rspo_export_is_refused(empty_con, first, tmp_path, bad_rows, header, parts):
    path = _export(tmp_path, bad_rows, header=header)
    refused(empty_con, lambda: ingest_institutions(empty_con, path), "bad.csv", *parts)


BINARY = {
    "pdf": (b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF\n", ["a PDF document, not a table"]),
    "png": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01", ["a PNG image, not a table"]),
    "jpeg": (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", ["a JPEG image"]),
    "empty": (b"", ["the file is empty"]),
    "only a BOM": (b"\xef\xbb\xbf\r\n", ["the file is empty"]),
    "utf-16": ("Numer RSPO;Typ;Nazwa\n1;Szkoła podstawowa;Szkoła\n".encode("utf-16"), ["wrong encoding", "UTF-16"]),
    "neither utf-8 nor cp1250": (b"Numer RSPO;Typ;Nazwa\n1;Szko\x81a;x\n", ["row 2", "neither UTF-8 nor Windows-1250"]),
    "not an export": ("Imię,Nazwisko\nJan,Kowalski\n".encode(), ["neither an RSPO search export", "„Imię”"]),
    "truncated": (b"", ["row 4", "fields but the header has 50"]),  # built below
    "broken workbook": (b"PK\x03\x04garbage", ["not a valid XLSX workbook"]),
}


@pytest.mark.parametrize("name", list(BINARY))
def test_not_a_table_is_refused(empty_con, first, rows, tmp_path, name):
    data, parts = BINARY[name]
    if name == "truncated":
        full = _export(tmp_path, rows).read_bytes()
        data = b"\r\n".join(full.split(b"\r\n")[:3]) + b"\r\n" + full.split(b"\r\n")[3][:200]
    path = tmp_path / "plik.csv"
    path.write_bytes(data)
    refused(empty_con, lambda: ingest_institutions(empty_con, path), "plik.csv", *parts)


def test_problems_are_collected_up_to_twenty(empty_con, rows, tmp_path):
    bad = copy.deepcopy(rows)
    for r in bad:
        r["Liczba uczniów"] = "?"
    n_bad = len(in_scope(rows))
    assert n_bad < 20  # every problem is listed
    err = refused(empty_con, lambda: ingest_institutions(empty_con, _export(tmp_path, bad)), f"{n_bad} problems")
    assert len(err.problems) == n_bad
    many = [rspo_row(50000 + i, "Szkoła podstawowa", f"Szkoła {i}", "bochnia", pupils=None) for i in range(25)]
    for r in many:
        r["Liczba uczniów"] = "?"
    refused(empty_con, lambda: ingest_institutions(empty_con, _export(tmp_path, many)), "25 problems", "… and 5 more")


# Headers people give the four columns of a hand-kept list (POL-on id, name, city, county), in the
# order of UNIVERSITY_HEADER; each set must read like the agreed one.
HEADER_VARIANTS = [
    ("POL-on", "Nazwa", "Miasto", "Powiat (TERYT)"),
    ("Identyfikator POL-on", "Nazwa uczelni", "Miejscowość", "TERYT powiatu"),
    ("ID POL-on (UUID)", "Uczelnia", "Siedziba", "Kod TERYT powiatu"),
    ("uuid", "Pełna nazwa", "Miasto siedziby", "Powiat – kod TERYT"),
    ("institutionUuid", "name", "city", "county"),
    ("POLON", "NAZWA", "MIEJSCOWOŚĆ", "POWIAT"),
    ("Kod TERYT powiatu", "Miasto", "Nazwa uczelni", "POL-on id"),  # the headers in another order: see below
]


@pytest.mark.parametrize("header", HEADER_VARIANTS, ids=[" | ".join(h) for h in HEADER_VARIANTS])
def test_university_list_header_variants(empty_con, tmp_path, header):
    unis = universities()
    # the last variant names the same columns in another order: the values follow their headers
    order = ("Powiat", "Miasto", "Nazwa", "POL-on") if header[0].startswith("Kod") else UNIVERSITY_HEADER
    rows = [{h: u[key] for h, key in zip(header, order)} for u in unis]
    result = ingest_institutions(empty_con, write_university_list(tmp_path / "uczelnie.csv", rows, header=header))
    expected = {u["POL-on"].lower(): (u["Nazwa"], "university", COUNTY_BY_TEXT[u["Powiat"]], u["Miasto"], u["Miasto"], 1)
                for u in unis}
    assert universities_stored(empty_con) == expected
    assert result.file.source == "universities"


def test_university_list_header_variants_are_documented():
    """The user guide lists the headers a list of universities may use."""
    from pathlib import Path

    guide = (Path(__file__).resolve().parents[2] / "docs" / "own-data.md").read_text(encoding="utf-8")
    for header in ("Powiat (TERYT)", "Identyfikator POL-on", "Nazwa uczelni", "Miejscowość", "TERYT powiatu"):
        assert header in guide, header


UNI = universities()


def bad_university_cases():
    yield ("not a uuid", [dict(UNI[0], **{"POL-on": "1234-abcd"})] + UNI[1:], UNIVERSITY_HEADER,
           ["row 2", "column A „POL-on”", "'1234-abcd' is not a POL-on id"])
    yield ("rspo number as id", UNI[:2] + [dict(UNI[2], **{"POL-on": "123456"})], UNIVERSITY_HEADER,
           ["row 4", "'123456' is not a POL-on id"])
    twice = UNI[:3] + [dict(UNI[3], **{"POL-on": UNI[0]["POL-on"].upper()})]
    yield ("twice", twice, UNIVERSITY_HEADER, ["row 5", f"POL-on id {UNI[0]['POL-on']} appears twice: in rows 2 and 5"])
    yield ("unknown county", UNI[:1] + [dict(UNI[1], Powiat="warszawski")], UNIVERSITY_HEADER,
           ["row 3", "column D „Powiat”", "unknown county 'warszawski'"])
    yield ("county outside", UNI[:1] + [dict(UNI[1], Powiat="1465")], UNIVERSITY_HEADER, ["unknown county '1465'"])
    yield ("empty name", [dict(UNI[0], Nazwa="")] + UNI[1:], UNIVERSITY_HEADER,
           ["row 2", "column B „Nazwa”", "the name is empty"])
    yield ("empty city", [dict(UNI[0], Miasto="")], UNIVERSITY_HEADER, ["column C „Miasto”", "the city is empty"])
    yield ("no id column", UNI, ("Nazwa", "Miasto", "Powiat"), ["row 1", "missing required column „POL-on”",
                                                                "the first row reads „Nazwa”, „Miasto”, „Powiat”"])
    yield ("header only", [], UNIVERSITY_HEADER, ["row 2", "no rows"])


@pytest.mark.parametrize("unis,header,parts", [pytest.param(*c[1:], id=c[0]) for c in bad_university_cases()])
def test_bad_university_list_is_refused(empty_con, first, tmp_path, unis, header, parts):
    path = write_university_list(tmp_path / "uczelnie.csv", unis, header=header)
    refused(empty_con, lambda: ingest_institutions(empty_con, path), "uczelnie.csv", *parts)


# --------------------------------------------------------------------------- the types file

def _types_file(tmp_path, body: str) -> Path:
    p = tmp_path / "rspo_types.yaml"
    p.write_text(body, encoding="utf-8")
    return p


def test_rspo_types_match_tolerantly(ref):
    types = load_rspo_types(ref.directory / "rspo_types.yaml", ref.kinds)
    for text in ("Szkoła podstawowa", "SZKOŁA  PODSTAWOWA", "szkola podstawowa", " Szkoła podstawowa ", "3"):
        assert types.find(text).kind == "primary", text
    assert types.find("Przedszkole").kind is None
    assert types.find("Bursa") is None
    for name, kind in KINDS.items():  # the file agrees with the table
        assert types.find(name).kind == kind, name


@pytest.mark.parametrize("body,parts", [
    ("types:\n  - {id: 3, name: Szkoła podstawowa, kind: primary_school}\n", ["type #1", "unknown kind 'primary_school'"]),
    ("types:\n  - {id: 3, name: Szkoła podstawowa, kind: primary}\n  - {id: 3, name: Technikum, kind: technical}\n",
     ["type #2 (Technikum)", "duplicate id 3"]),
    ("types:\n  - {id: 3, name: Szkoła podstawowa, kind: primary}\n  - {id: 4, name: SZKOLA PODSTAWOWA, kind: primary}\n",
     ["duplicate name"]),
    ("types:\n  - {id: 5, name: Uczelnia, kind: university}\n", ["not a kind of school"]),
    ("types:\n  - {id: 3, name: Szkoła podstawowa}\n", ["missing 'kind'"]),
    ("types:\n  - {name: Szkoła podstawowa, kind: primary}\n", ["missing 'id'"]),
    ("types: []\n", ["expected a non-empty list under 'types'"]),
])
def test_rspo_types_file_is_checked(ref, tmp_path, body, parts):
    with pytest.raises(ReferenceDataError) as info:
        load_rspo_types(_types_file(tmp_path, body), ref.kinds)
    for part in ["rspo_types.yaml", *parts]:
        assert part in str(info.value)


# --------------------------------------------------------------------------- the command

def test_cli(tmp_path, rows, capsys):
    db = tmp_path / "cli.sqlite"
    store.create(db).close()
    path = write_rspo_export(tmp_path / "rspo.csv", rows)
    assert main(["ingest", "institutions", str(path), "--dry-run", "--db", str(db)]) == 0
    assert "dry run: nothing was stored" in capsys.readouterr().out
    assert main(["ingest", "institutions", str(path), "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert f"new: {len(in_scope(rows))}" in out
    assert main(["ingest", "institutions", str(path), "--db", str(db)]) == 2
    assert "zpb: refused: rspo.csv: this file was already imported" in capsys.readouterr().err


def test_long_lists_show_twenty_and_count_the_rest(empty_con, tmp_path):
    schools = [rspo_row(40000 + i, "Szkoła podstawowa", f"Szkoła Podstawowa nr {i} w Olkuszu", "olkusz")
               for i in range(25)]
    ingest_institutions(empty_con, write_rspo_export(tmp_path / "a.csv", schools))
    renamed = [dict(r, Nazwa=r["Nazwa"] + " im. Józefa Piłsudskiego") for r in schools]
    lines = ingest_institutions(empty_con, write_rspo_export(tmp_path / "b.csv", renamed)).lines()
    assert "  renamed: 25" in lines and "    … and 5 more" in lines
    assert sum(line.startswith("    RSPO 400") for line in lines) == 20
