"""The templates service: the files it writes into the folder given, opened and compared with what
the database (read here with SQL of the test's own) and the reference data hold."""
from __future__ import annotations

import csv
import io
import sqlite3
from pathlib import Path

import pytest
from openpyxl import load_workbook

from zpb_lib.core.errors import ZpbError
from zpb_lib.services import templates

EDITION = "2025/2026"
UNIT = "KPP-BOCHNIA"
OF_UNIT = "JOIN counties c ON c.teryt = i.county WHERE c.police_unit = ?"


def sql(db: Path, query: str, params: tuple = ()) -> list[tuple]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return con.execute(query, params).fetchall()
    finally:
        con.close()


def sheet_rows(path: Path, sheet: str) -> list[tuple]:
    ws = load_workbook(path, read_only=True)[sheet]
    return [row for row in ws.iter_rows(min_row=2, values_only=True) if any(v is not None for v in row)]


def test_unit_counties_are_those_the_unit_serves(small_sqlite):
    expected = [t for (t,) in sql(small_sqlite, "SELECT teryt FROM counties WHERE police_unit IN (?, ?) ORDER BY teryt",
                                  (UNIT, "KMP-TARNOW"))]
    assert len(expected) == 3
    assert templates.unit_counties([UNIT, "KMP-TARNOW"]) == expected


def test_register_of_one_unit(small_sqlite, tmp_path):
    path = templates.register_workbook(small_sqlite, tmp_path, units=[UNIT])
    assert path == tmp_path / "rejestr-zpb-kpp-bochnia.xlsx"
    idents = [str(r or p) for r, p in sql(small_sqlite, f"SELECT i.rspo, i.polon FROM institutions i {OF_UNIT}", (UNIT,))]
    assert idents and sorted(str(r[0]) for r in sheet_rows(path, "Placówki")) == sorted(idents)
    for sheet, table in (("Udział", "participation"), ("Nagrody", "awards"), ("Plany działań", "action_items")):
        (n,), = sql(small_sqlite, f"SELECT COUNT(*) FROM {table} t JOIN institutions i ON i.id = t.institution_id "
                                  f"{OF_UNIT}", (UNIT,))
        rows = sheet_rows(path, sheet)
        assert len(rows) == n, sheet
        assert {str(r[0]) for r in rows} <= set(idents), sheet
    partners = sql(small_sqlite, "SELECT p.name FROM partners p LEFT JOIN counties c ON c.teryt = p.county "
                                 "WHERE c.police_unit = ? OR p.county IS NULL OR p.id IN (SELECT a.partner_id FROM "
                                 f"action_items a JOIN institutions i ON i.id = a.institution_id {OF_UNIT})",
                   (UNIT, UNIT))
    assert sorted(r[0] for r in sheet_rows(path, "Partnerzy")) == sorted(r[0] for r in partners)


def test_register_of_every_county(small_sqlite, tmp_path):
    path = templates.register_workbook(small_sqlite, tmp_path)
    assert path == tmp_path / "rejestr-zpb.xlsx"
    (n,), = sql(small_sqlite, "SELECT COUNT(*) FROM institutions")
    assert len(sheet_rows(path, "Placówki")) == n
    (n,), = sql(small_sqlite, "SELECT COUNT(*) FROM partners")
    assert len(sheet_rows(path, "Partnerzy")) == n


def test_audit_protocol_names_the_school(small_sqlite, ref, tmp_path):
    rspo, name, family = sql(small_sqlite, (
        "SELECT i.rspo, i.name, k.family FROM institutions i JOIN institution_kinds k ON k.code = i.kind "
        "WHERE i.rspo IS NOT NULL AND k.exists_to IS NULL AND i.closed_year IS NULL AND EXISTS (SELECT 1 FROM "
        "participation p WHERE p.institution_id = i.id AND p.joined_edition <= ? AND (p.left_edition IS NULL "
        "OR p.left_edition >= ?)) ORDER BY i.id LIMIT 1"), (EDITION, EDITION))[0]
    path = templates.audit_protocol(small_sqlite, str(rspo), EDITION, tmp_path, kind="leader")
    assert path == tmp_path / f"protokol-audytu-{rspo}-2025-2026.xlsx"
    ws = load_workbook(path)["Protokół audytu"]
    fields = {ws.cell(r, 1).value: ws.cell(r, 4).value for r in range(4, 11)}
    assert (fields["Placówka (RSPO / POL-on)"], fields["Placówka"], fields["Edycja"], fields["Rodzaj audytu"]) == \
        (rspo, name, EDITION, "o tytuł Lidera (etap III)")
    assert fields["Katalog kryteriów"] == ref.catalogue_for(family, EDITION).key


def test_audit_protocol_of_a_school_not_taking_part_is_refused(small_sqlite, tmp_path):
    (rspo,), = sql(small_sqlite, "SELECT rspo FROM institutions i WHERE rspo IS NOT NULL AND NOT EXISTS "
                                 "(SELECT 1 FROM participation p WHERE p.institution_id = i.id) ORDER BY id LIMIT 1")
    with pytest.raises(ZpbError, match="has no participation in the programme recorded"):
        templates.audit_protocol(small_sqlite, str(rspo), EDITION, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_survey_form_writes_the_formats_asked_for(ref, tmp_path):
    (path,) = templates.survey_form("teachers", "pl", tmp_path, formats=(".csv",))
    assert path == tmp_path / "ankieta-teachers-pl.csv"
    assert list(tmp_path.iterdir()) == [path]
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig")), delimiter=";"))[1:]
    assert [(r[1], r[3]) for r in rows] == [(i.id, i.text_pl) for i in ref.questionnaires["teachers"].items]


def test_survey_form_writes_all_four_by_default(tmp_path):
    paths = templates.survey_form("students", "en", tmp_path)
    assert [p.name for p in paths] == [f"questionnaire-students-en{ext}" for ext in (".md", ".csv", ".html", ".pdf")]
    assert all(p.stat().st_size > 0 for p in paths)
    assert paths[3].read_bytes().startswith(b"%PDF-")
