"""The schools' e-mail addresses from the RSPO export's „E-mail” column (schema 9): stored with the
school, a value that is no address refused with its file, row and column, a newer export updating
them (and `zpb imports undo` putting the old one back). Expected values are the rows' own cells."""
from __future__ import annotations

import copy
import string

import pytest

from support.ingest import refused
from support.rspo import HEADER, malopolska_rows, rspo_row, write_rspo_export
from zpb_lib.ingest.institutions import ingest_institutions
from zpb_lib.store.history import undo

pytestmark = pytest.mark.both_backends
# In scope (a Małopolska school of a type zpb keeps), from tests/ingest/test_ingest_institutions.py's table.
SCHOOL_TYPES = {"Szkoła podstawowa", "Gimnazjum", "Liceum ogólnokształcące", "Technikum",
                "Branżowa szkoła I stopnia",
                "Branżowa szkoła II stopnia", "Szkoła policealna", "Szkoła specjalna przysposabiająca do pracy",
                "Szkoła muzyczna I stopnia", "Liceum sztuk plastycznych", "Zespół szkół i placówek oświatowych"}


def column(name: str) -> str:
    i = HEADER.index(name)
    return string.ascii_uppercase[i] if i < 26 else string.ascii_uppercase[i // 26 - 1] + string.ascii_uppercase[i % 26]


def in_scope(rows: list[dict]) -> list[dict]:
    return [r for r in rows if r["Kod terytorialny powiat"].startswith("12") and r["Typ"] in SCHOOL_TYPES]


def emails(con) -> dict[int, str | None]:
    return dict(con.execute("SELECT rspo, email FROM institutions WHERE rspo IS NOT NULL").fetchall())


@pytest.fixture
def rows() -> list[dict]:
    rows = malopolska_rows()
    first = in_scope(rows)[0]
    first["E-mail"] = ""  # the register gives no address for some schools
    return rows


def test_addresses_are_stored_with_their_schools(empty_db, rows, tmp_path):
    ingest_institutions(empty_db, write_rspo_export(tmp_path / "rspo.csv", rows))
    expected = {int(r["Numer RSPO"]): r["E-mail"] or None for r in in_scope(rows)}
    assert emails(empty_db) == expected
    assert None in expected.values() and len(set(expected.values())) > 2


def test_a_workbook_gives_the_same_addresses(empty_db, rows, tmp_path):
    ingest_institutions(empty_db, write_rspo_export(tmp_path / "rspo.xlsx", rows, xlsx=True))
    assert emails(empty_db) == {int(r["Numer RSPO"]): r["E-mail"] or None for r in in_scope(rows)}


@pytest.mark.parametrize("value", ["sekretariat(at)szkola.edu.pl", "a@szkola.pl; b@szkola.pl", "sekretariat@",
                                   "brak"])
def test_a_value_that_is_no_address_is_refused_with_its_row_and_column(empty_db, rows, tmp_path, value):
    rows = copy.deepcopy(rows)
    target = in_scope(rows)[2]
    target["E-mail"] = value
    row_no = rows.index(target) + 2  # the header is row 1
    path = write_rspo_export(tmp_path / "zly.csv", rows)
    refused(empty_db, lambda: ingest_institutions(empty_db, path), "zly.csv", f"row {row_no}",
            f"column {column('E-mail')} „E-mail”", f"{value.strip()!r} is not an e-mail address")


def test_a_newer_export_updates_an_address_and_undo_puts_it_back(empty_db, rows, tmp_path):
    first = ingest_institutions(empty_db, write_rspo_export(tmp_path / "rspo-2025.csv", rows))
    before = emails(empty_db)
    rows2 = copy.deepcopy(rows)
    changed = in_scope(rows2)[1]
    changed["E-mail"] = "nowy.adres@szkola.edu.pl"
    filled = in_scope(rows2)[0]
    filled["E-mail"] = "pierwszy@szkola.edu.pl"  # the one without an address gets one
    second = ingest_institutions(empty_db, write_rspo_export(tmp_path / "rspo-2026.csv", rows2))
    after = emails(empty_db)
    assert after == {**before, **{int(changed["Numer RSPO"]): "nowy.adres@szkola.edu.pl",
                                 int(filled["Numer RSPO"]): "pierwszy@szkola.edu.pl"}}
    assert "other changes: 2 (email 2)" in "\n".join(second.lines())
    assert first.import_id != second.import_id
    undo(empty_db, second.import_id)
    assert emails(empty_db) == before


def test_an_export_without_the_column_leaves_the_addresses_alone(empty_db, rows, tmp_path):
    ingest_institutions(empty_db, write_rspo_export(tmp_path / "rspo.csv", rows))
    before = emails(empty_db)
    without = [h for h in HEADER if h != "E-mail"]
    newer = copy.deepcopy(rows) + [rspo_row(11299, "Szkoła podstawowa", "Szkoła Podstawowa nr 9 w Olkuszu", "olkusz")]
    ingest_institutions(empty_db, write_rspo_export(tmp_path / "bez-adresow.csv", newer, header=without))
    assert emails(empty_db) == {**before, 11299: None}
