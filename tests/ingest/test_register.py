"""The programme register workbook: the template holds what the database holds (identifiers people
use, never internal ids) with validation; a filled register is upserted by natural key with every
change undoable; bad input is refused naming sheet, row and column, with the database unchanged."""
from __future__ import annotations

import datetime as dt
import json
import re
import zipfile

import openpyxl
import pytest

from zpb_lib import store
from zpb_lib.cli import main
from zpb_lib.ingest import Problem
from zpb_lib.ingest import register as reg
from zpb_lib.ingest.register import ingest_register, write_register_template
from zpb_lib.store import schema
from zpb_lib.store.write import insert_rows, transaction
from support.ingest import refused
from support.register import (ACTION_KINDS, AREAS, AWARD_KINDS, HEADERS, PARTNER_KINDS, REMOVE, STATUSES,
                              fill_register)

pytestmark = pytest.mark.both_backends

UNI = "4a2b9c1d-0e3f-4a5b-8c7d-6e5f4a3b2c1d"
# Internal ids far from the RSPO numbers, so that a leaked internal id cannot pass for an identifier.
INSTITUTIONS = [  # id, rspo, polon, name, kind, county, locality
    (501, 111111, None, "Szkoła Podstawowa nr 1 w Bochni", "primary", "1201", "Bochnia"),
    (502, 222222, None, "Liceum Ogólnokształcące w Wieliczce", "general_secondary", "1219", "Wieliczka"),
    (503, 333333, None, "Technikum nr 3 w Krakowie", "technical", "1261", "Kraków"),
    (504, None, UNI, "Uczelnia Testowa w Krakowie", "university", "1261", "Kraków"),
]
IDENT = {i[0]: str(i[1] or i[2]) for i in INSTITUTIONS}
NAMES = {str(i[1] or i[2]): i[3] for i in INSTITUTIONS}
VALID_YEARS = {"certificate": 2, "extension": 5, "leader": None, "university_certificate": 4}  # DESIGN.md facts


def later(d: dt.date, years: int | None) -> dt.date | None:
    return None if years is None else d.replace(year=d.year + years)


@pytest.fixture
def fresh(empty_db, ref):
    """A new database holding only the four institutions above and two audits of 2024/2025."""
    con = empty_db
    with transaction(con):
        insert_rows(con, "institutions", ("id", "rspo", "polon", "name", "kind", "county", "municipality", "locality"),
                    [(i, r, p, n, k, c, loc, loc) for i, r, p, n, k, c, loc in INSTITUTIONS])
        insert_rows(con, "audits", ("id", "institution_id", "edition", "kind", "audit_date", "catalogue"), [
            (71, 502, "2024/2025", "certification", "2025-05-20", ref.catalogue_for("school", "2024/2025").key),
            (72, 504, "2024/2025", "reaudit", "2025-06-02", ref.catalogue_for("university", "2024/2025").key),
            (73, 503, "2024/2025", "control", "2025-05-21", ref.catalogue_for("school", "2024/2025").key)])
    return con


# --------------------------------------------------------------------------- a register as a person fills it

def n(ident: str) -> str:
    return NAMES[ident]


PARTICIPATION = [
    ("111111", n("111111"), "2022/2023", None),
    ("222222", n("222222"), "2023-2024", None),  # the dash form people type
    ("333333", n("333333"), "XVI", "2024/2025"),  # the edition's number
    (UNI, n(UNI), "2023/2024", None),
]
AWARDS = [
    ("222222", n("222222"), "2024/2025", "certyfikat", dt.date(2025, 10, 15)),
    ("333333", n("333333"), "2022/2023", "certyfikat", "15.10.2023"),  # a date typed as text
    ("111111", n("111111"), "2024/2025", "Lider Projektu", "2025-10-15"),
    (UNI, n(UNI), "2024/2025", "uczelnia", dt.date(2025, 10, 20)),
    ("333333", n("333333"), "2024/2025", "przedłużenie", dt.date(2025, 10, 16)),  # its audit was a control
]
PARTNERS = [
    ("KPP Bochnia", "policja", "bocheński"),
    ("Straż Miejska w Krakowie", "straż miejska", "m. Kraków"),
    ("Stowarzyszenie „Bezpieczna Szkoła”", "organizacja pozarządowa", "1219"),  # TERYT
    ("Stowarzyszenie „Bezpieczna Szkoła”", "organizacja pozarządowa", "bocheński"),
    ("Kuratorium Oświaty w Krakowie", "samorząd", None),  # the whole voivodeship
]
ACTIONS = [
    ("111111", n("111111"), "2025/2026", "przemoc szkolna", "profilaktyczne", "Warsztaty o cyberprzemocy",
     "Stowarzyszenie „Bezpieczna Szkoła”", dt.date(2026, 3, 31), "planowane"),
    ("222222", n("222222"), "2025/2026", "miejsca niebezpieczne", "infrastrukturalne", "Oświetlenie przejścia",
     "Stowarzyszenie „Bezpieczna Szkoła”", "30.06.2026", "w trakcie"),
    ("333333", n("333333"), "2025/2026", "inne", "profilaktyczne", "Spotkanie z dzielnicowym", "KPP Bochnia",
     dt.date(2026, 1, 15), "wykonane"),
    ("111111", n("111111"), "2025/2026", "przemoc szkolna", "profilaktyczne", "Szkolenie rady pedagogicznej", None,
     dt.date(2026, 2, 1), "zaniechane"),
    ("333333", n("333333"), "2025/2026", "miejsca niebezpieczne", "infrastrukturalne", "Monitoring boiska",
     "Kuratorium Oświaty w Krakowie", dt.date(2026, 6, 30), "planowane"),
]
# What the test means by the rows above, in the database's terms.
EDITION_OF = {"2022/2023": "2022/2023", "2023-2024": "2023/2024", "XVI": "2022/2023", "2024/2025": "2024/2025",
              "2023/2024": "2023/2024", "2025/2026": "2025/2026", None: None}
COUNTY_OF = {"bocheński": "1201", "m. Kraków": "1261", "1219": "1219", None: None}
# An action's partner: (name, county) chosen by the rule „the institution's county, else no county,
# else the only one of that name”.
PARTNER_OF = {"Warsztaty o cyberprzemocy": ("Stowarzyszenie „Bezpieczna Szkoła”", "1201"),
              "Oświetlenie przejścia": ("Stowarzyszenie „Bezpieczna Szkoła”", "1219"),
              "Spotkanie z dzielnicowym": ("KPP Bochnia", "1201"),
              "Szkolenie rady pedagogicznej": None,
              "Monitoring boiska": ("Kuratorium Oświaty w Krakowie", None)}
AUDIT_OF = {("222222", "2024/2025", "certificate"): 71, (UNI, "2024/2025", "university_certificate"): 72}


def as_date(v: object) -> dt.date:
    if isinstance(v, dt.date):
        return v
    for fmt in ("%d.%m.%Y", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(str(v), fmt).date()
        except ValueError:
            pass
    raise AssertionError(v)


def expected_participation(rows) -> set:
    return {(i, EDITION_OF[j], EDITION_OF[left]) for i, _, j, left in rows}


def expected_awards(rows) -> set:
    out = set()
    for i, _, e, label, d in rows:
        kind, day = AWARD_KINDS[label], as_date(d)
        until = later(day, VALID_YEARS[kind])
        out.add((i, e, kind, day.isoformat(), until.isoformat() if until else None, AUDIT_OF.get((i, e, kind))))
    return out


def expected_actions(rows) -> set:
    return {(i, e, AREAS[a], ACTION_KINDS[k], t, PARTNER_OF[t], as_date(d).isoformat(), STATUSES[s])
            for i, _, e, a, k, t, _p, d, s in rows}


def expected_partners(rows) -> set:
    return {(name, PARTNER_KINDS[kind], COUNTY_OF[county]) for name, kind, county in rows}


IDENT_SQL = "coalesce(CAST(i.rspo AS TEXT), i.polon)"


def stored_participation(con) -> set:
    return set(con.execute(f"SELECT {IDENT_SQL}, p.joined_edition, p.left_edition FROM participation p "
                           "JOIN institutions i ON i.id = p.institution_id"))


def stored_awards(con) -> set:
    return set(con.execute(f"SELECT {IDENT_SQL}, w.edition, w.kind, w.awarded_on, w.valid_until, w.audit_id "
                           "FROM awards w JOIN institutions i ON i.id = w.institution_id"))


def stored_actions(con) -> set:
    return {(r[0], r[1], r[2], r[3], r[4], (r[5], r[6]) if r[5] else None, r[7], r[8]) for r in con.execute(
        f"SELECT {IDENT_SQL}, a.edition, a.area, a.kind, a.title, p.name, p.county, a.deadline, a.status "
        "FROM action_items a JOIN institutions i ON i.id = a.institution_id LEFT JOIN partners p ON p.id = a.partner_id")}


def stored_partners(con) -> set:
    return set(con.execute("SELECT name, kind, county FROM partners"))


def first_import(con, tmp_path) -> int:
    path = fill_register(tmp_path / "rejestr.xlsx", PARTICIPATION, AWARDS, ACTIONS, PARTNERS)
    return ingest_register(con, path).import_id


# --------------------------------------------------------------------------- the sheet location in messages

def test_problem_names_the_sheet_first_and_keeps_the_old_form_without_one():
    assert Problem("bad", 5, "Edycja odejścia", "D").where() == "row 5, column D „Edycja odejścia”"
    assert Problem("bad", 5, "Edycja odejścia", "D", "Udział").where() == \
        "sheet „Udział”, row 5, column D „Edycja odejścia”"
    assert str(Problem("bad", sheet="Nagrody", row=1)) == "sheet „Nagrody”, row 1: bad"


def test_the_module_uses_the_agreed_headers():
    assert dict(zip((reg.PARTICIPATION_SHEET, reg.AWARDS_SHEET, reg.ACTIONS_SHEET, reg.PARTNERS_SHEET),
                    (reg.PARTICIPATION_HEADERS, reg.AWARD_HEADERS, reg.ACTION_HEADERS, reg.PARTNER_HEADERS))) == HEADERS
    assert reg.REMOVE_HEADER == REMOVE
    labels = (reg.AWARD_KIND_LABELS, reg.AREA_LABELS, reg.ACTION_KIND_LABELS, reg.STATUS_LABELS,
              reg.PARTNER_KIND_LABELS)
    assert [tuple(m) for m in labels] == [schema.AWARD_KINDS, schema.ACTION_AREAS, schema.ACTION_KINDS,
                                          schema.ACTION_STATUSES, schema.PARTNER_KINDS]  # every stored value
    assert {v: k for k, v in reg.AWARD_KIND_LABELS.items()} == AWARD_KINDS
    assert {v: k for k, v in reg.AREA_LABELS.items()} == AREAS
    assert {v: k for k, v in reg.ACTION_KIND_LABELS.items()} == ACTION_KINDS
    assert {v: k for k, v in reg.STATUS_LABELS.items()} == STATUSES
    assert {v: k for k, v in reg.PARTNER_KIND_LABELS.items()} == PARTNER_KINDS


# --------------------------------------------------------------------------- the template

def sheet_rows(ws) -> list[tuple]:
    return [tuple(r) for r in ws.iter_rows(min_row=2, values_only=True)]


def validation_at(ws, coordinate: str):
    found = [dv for dv in ws.data_validations.dataValidation if coordinate in dv.sqref]
    assert len(found) == 1, f"{ws.title}!{coordinate}: {len(found)} validations"
    return found[0]


def list_values(wb, formula: str) -> list:
    """The values a list validation offers: the cells of the range its formula names."""
    m = re.fullmatch(r"'?([^'!]+)'?!\$([A-Z]+)\$(\d+):\$([A-Z]+)\$(\d+)", formula)
    assert m, formula
    ws = wb[m.group(1)]
    return [c.value for row in ws[f"{m.group(2)}{m.group(3)}:{m.group(4)}{m.group(5)}"] for c in row
            if c.value is not None]


def test_template_of_the_demo_database(small_db, tmp_path, ref):
    con = store.connect(small_db, readonly=True)
    try:
        out = write_register_template(con, tmp_path / "sub" / "rejestr.xlsx")
        held = [r[0] for r in con.execute("SELECT edition FROM editions WHERE held = 1 ORDER BY edition")]
        institutions = set(con.execute(
            f"SELECT {IDENT_SQL}, i.name, i.locality, c.name, k.name_pl FROM institutions i "
            "JOIN counties c ON c.teryt = i.county JOIN institution_kinds k ON k.code = i.kind"))
        participation = set(con.execute(
            f"SELECT {IDENT_SQL}, i.name, p.joined_edition, p.left_edition FROM participation p "
            "JOIN institutions i ON i.id = p.institution_id"))
        awards = [(r[0], r[1], r[2], r[3], dt.date.fromisoformat(r[4])) for r in con.execute(
            f"SELECT {IDENT_SQL}, i.name, w.edition, w.kind, w.awarded_on FROM awards w "
            "JOIN institutions i ON i.id = w.institution_id")]
        actions = [(r[0], r[1], r[2], r[3], r[4], r[5], r[6], dt.date.fromisoformat(r[7]), r[8]) for r in con.execute(
            f"SELECT {IDENT_SQL}, i.name, a.edition, a.area, a.kind, a.title, p.name, a.deadline, a.status "
            "FROM action_items a JOIN institutions i ON i.id = a.institution_id "
            "LEFT JOIN partners p ON p.id = a.partner_id")]
        partners = [(r[0], r[1], r[2]) for r in con.execute(
            "SELECT p.name, p.kind, c.name FROM partners p LEFT JOIN counties c ON c.teryt = p.county")]
    finally:
        con.close()
    assert out == tmp_path / "sub" / "rejestr.xlsx" and not list(out.parent.glob("*.tmp"))
    assert len(awards) > 50 and len(actions) > 500 and len(participation) > 20  # the demo holds a register

    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Udział", "Nagrody", "Plany działań", "Partnerzy", "Placówki", "Instrukcja", "Listy"]
    assert [wb[s].sheet_state for s in wb.sheetnames] == ["visible"] * 6 + ["hidden"]
    for name, headers in HEADERS.items():
        ws = wb[name]
        # The data columns, then „Usuń”: written empty, for marking rows to remove.
        assert tuple(c.value for c in ws[1]) == headers + (REMOVE,)
        assert all(r[-1] is None for r in ws.iter_rows(min_row=2, values_only=True))
        assert ws.freeze_panes == "A2"
        assert str(ws.page_setup.paperSize) == ws.PAPERSIZE_A4 == "9"  # A4
        assert all((ws.column_dimensions[chr(65 + i)].width or 0) >= 10 for i in range(len(headers)))

    # Pre-filled with what the database holds: identifiers people use and the Polish list texts.
    label = {v: k for k, v in AWARD_KINDS.items()}
    assert {r[:-1] for r in sheet_rows(wb["Udział"])} == participation
    got = [r[:-1] for r in sheet_rows(wb["Nagrody"])]
    assert all(isinstance(r[4], dt.datetime) for r in got)
    assert sorted((r[0], r[1], r[2], r[3], r[4].date()) for r in got) == \
        sorted((a[0], a[1], a[2], label[a[3]], a[4]) for a in awards)
    assert wb["Nagrody"]["E2"].number_format == "DD.MM.YYYY"
    area, akind, status = ({v: k for k, v in m.items()} for m in (AREAS, ACTION_KINDS, STATUSES))
    assert sorted((*r[:7], r[7].date(), r[8]) for r in sheet_rows(wb["Plany działań"])) == sorted(
        (a[0], a[1], a[2], area[a[3]], akind[a[4]], a[5], a[6], a[7], status[a[8]]) for a in actions)
    pkind = {v: k for k, v in PARTNER_KINDS.items()}
    assert sorted(r[:-1] for r in sheet_rows(wb["Partnerzy"])) == sorted((p[0], pkind[p[1]], p[2]) for p in partners)

    # The institutions lookup list, read-only, and the columns validating against it.
    places = wb["Placówki"]
    assert set(sheet_rows(places)) == institutions and places.protection.sheet
    for name in ("Udział", "Nagrody", "Plany działań"):
        dv = validation_at(wb[name], "A2")
        assert dv.type == "list" and set(list_values(wb, dv.formula1)) == {i[0] for i in institutions}
    # Lists of held editions and of the kinds' texts; date validation on the dates.
    for name, col in (("Udział", "C"), ("Udział", "D"), ("Nagrody", "C"), ("Plany działań", "C")):
        assert list_values(wb, validation_at(wb[name], f"{col}2").formula1) == held
    assert not set(held) & {"2019/2020", "2020/2021", "2021/2022"}
    lists = {("Nagrody", "D"): AWARD_KINDS, ("Plany działań", "D"): AREAS, ("Plany działań", "E"): ACTION_KINDS,
             ("Plany działań", "I"): STATUSES, ("Partnerzy", "B"): PARTNER_KINDS}
    for (name, col), texts in lists.items():
        dv = validation_at(wb[name], f"{col}2")
        assert dv.type == "list" and list_values(wb, dv.formula1) == list(texts), (name, col)
        assert dv.showErrorMessage
    assert list_values(wb, validation_at(wb["Partnerzy"], "C2").formula1) == [c.name for c in ref.counties.values()]
    assert set(list_values(wb, validation_at(wb["Plany działań"], "G2").formula1)) == {p[0] for p in partners}
    for name, col in (("Nagrody", "E"), ("Plany działań", "H")):
        assert validation_at(wb[name], f"{col}2").type == "date"
        # new rows below the data are validated too
        assert validation_at(wb[name], f"{col}{wb[name].max_row + 50}").type == "date"
    guide = " ".join(c.value for c in wb["Instrukcja"]["A"] if c.value)
    assert "RSPO" in guide and "{" not in guide
    # validity as the rules say (DESIGN.md facts), not typed into the code
    assert all(t in guide for t in ("certyfikat (2 lata)", "przedłużenie (5 lat)", "Lider Projektu (bezterminowo)",
                                    "uczelnia (4 lata)", "2019/2020–2021/2022"))


def test_template_of_an_empty_database_has_empty_sheets(tmp_path):
    con = store.create(tmp_path / "empty.sqlite")
    try:
        out = write_register_template(con, tmp_path / "rejestr.xlsx")
    finally:
        con.close()
    wb = openpyxl.load_workbook(out)
    for name, headers in HEADERS.items():
        assert tuple(c.value for c in wb[name][1]) == headers + (REMOVE,)
        assert sheet_rows(wb[name]) == []
    assert sheet_rows(wb["Placówki"]) == []


def test_template_names_institutions_by_identifier_not_internal_id(fresh, tmp_path):
    first_import(fresh, tmp_path)
    wb = openpyxl.load_workbook(write_register_template(fresh, tmp_path / "out.xlsx"))
    idents = {IDENT[i[0]] for i in INSTITUTIONS}
    for name in ("Udział", "Nagrody", "Plany działań", "Placówki"):
        column = [r[0] for r in sheet_rows(wb[name])]
        assert column and set(column) <= idents, name
    internal = {str(i[0]) for i in INSTITUTIONS} | {i[0] for i in INSTITUTIONS}
    for ws in wb.worksheets:
        assert not any(v in internal for row in ws.iter_rows(values_only=True) for v in row), ws.title


# --------------------------------------------------------------------------- importing

def test_filled_register_is_stored(fresh, tmp_path):
    before = fresh.execute("SELECT count(*) FROM imports").fetchone()[0]
    path = fill_register(tmp_path / "rejestr.xlsx", PARTICIPATION, AWARDS, ACTIONS, PARTNERS)
    result = ingest_register(fresh, path)
    assert stored_participation(fresh) == expected_participation(PARTICIPATION)
    assert stored_awards(fresh) == expected_awards(AWARDS)
    assert stored_partners(fresh) == expected_partners(PARTNERS)
    assert stored_actions(fresh) == expected_actions(ACTIONS)
    total = len(PARTICIPATION) + len(AWARDS) + len(ACTIONS) + len(PARTNERS)
    imp = fresh.execute("SELECT id, kind, file_name, rows, details FROM imports").fetchall()
    assert len(imp) == before + 1
    iid, kind, file_name, rows, details = imp[-1]
    assert (iid, kind, file_name, rows) == (result.import_id, "register", "rejestr.xlsx", total)
    counts = json.loads(details)["sheets"]
    assert {t: c["new"] for t, c in counts.items()} == {
        "participation": len(PARTICIPATION), "awards": len(AWARDS), "action_items": len(ACTIONS),
        "partners": len(PARTNERS)}
    for table in ("participation", "awards", "action_items", "partners"):
        assert {r[0] for r in fresh.execute(f"SELECT import_id FROM {table}")} == {iid}, table
    assert fresh.execute("SELECT count(*) FROM import_changes").fetchone()[0] == 0
    text = "\n".join(result.lines())
    assert f"stored {total} new and 0 changed" in text and "zpb build --edition 2025/2026" in text
    # awards with no audit that can give them (the leader title, …) are stored, and said so
    unlinked = sum(1 for i, _, e, label, _d in AWARDS if (i, e, AWARD_KINDS[label]) not in AUDIT_OF)
    assert unlinked >= 3 and f"{unlinked} awards have no audit" in text


def test_edited_register_updates_exactly_what_changed(fresh, tmp_path):
    first = first_import(fresh, tmp_path)
    participation = [("111111", n("111111"), "2022/2023", "2025/2026") if r[0] == "111111" else r
                     for r in PARTICIPATION]
    actions = [(*r[:8], "wykonane") if r[5] == "Warsztaty o cyberprzemocy" else r for r in ACTIONS]
    new_award = ("111111", n("111111"), "2025/2026", "przedłużenie", dt.date(2026, 10, 15))
    awards = AWARDS + [new_award]
    ids = {
        "participation": fresh.execute("SELECT id FROM participation WHERE institution_id = 501").fetchone()[0],
        "action": fresh.execute("SELECT id FROM action_items WHERE title = 'Warsztaty o cyberprzemocy'").fetchone()[0]}
    path = fill_register(tmp_path / "rejestr-2.xlsx", participation, awards, actions, PARTNERS)
    result = ingest_register(fresh, path)

    assert stored_participation(fresh) == expected_participation(participation)
    assert stored_awards(fresh) == expected_awards(awards)
    assert stored_actions(fresh) == expected_actions(actions)
    assert stored_partners(fresh) == expected_partners(PARTNERS)
    second = result.import_id
    assert second != first
    changes = {(t, r): json.loads(old) for t, r, old in fresh.execute(
        "SELECT tbl, row_id, old FROM import_changes WHERE import_id = ?", (second,))}
    assert changes == {("participation", ids["participation"]): {"left_edition": None},
                       ("action_items", ids["action"]): {"status": "planned"}}
    assert fresh.execute("SELECT count(*) FROM import_changes WHERE import_id <> ?", (second,)).fetchone()[0] == 0
    new_rows = fresh.execute("SELECT edition, kind, awarded_on FROM awards WHERE import_id = ?", (second,)).fetchall()
    assert new_rows == [("2025/2026", "extension", "2026-10-15")]
    for table in ("participation", "action_items", "partners"):
        assert fresh.execute(f"SELECT count(*) FROM {table} WHERE import_id = ?", (second,)).fetchone()[0] == 0
    assert fresh.execute("SELECT rows FROM imports WHERE id = ?", (second,)).fetchone()[0] == 3
    counts = {s.table: s.counts() for s in result.sheets}
    assert counts == {
        "participation": {"new": 0, "changed": 1, "unchanged": len(PARTICIPATION) - 1, "kept": 0},
        "awards": {"new": 1, "changed": 0, "unchanged": len(AWARDS), "kept": 0},
        "action_items": {"new": 0, "changed": 1, "unchanged": len(ACTIONS) - 1, "kept": 0},
        "partners": {"new": 0, "changed": 0, "unchanged": len(PARTNERS), "kept": 0}}
    text = "\n".join(result.lines())
    assert "RSPO 111111 joined 2022/2023: left edition — → 2025/2026" in text
    assert "status planned → done" in text


def test_rows_missing_from_the_file_are_kept_and_counted(fresh, tmp_path):
    first_import(fresh, tmp_path)
    before = (stored_participation(fresh), stored_awards(fresh), stored_actions(fresh))
    path = fill_register(tmp_path / "part.xlsx", PARTICIPATION[:1], [], ACTIONS[:2])
    result = ingest_register(fresh, path)
    assert (stored_participation(fresh), stored_awards(fresh), stored_actions(fresh)) == before
    kept = {s.table: (s.present, s.kept) for s in result.sheets}
    assert kept == {"participation": (True, len(PARTICIPATION) - 1), "awards": (True, len(AWARDS)),
                    "action_items": (True, len(ACTIONS) - 2), "partners": (False, 0)}
    text = "\n".join(result.lines())
    assert len(ACTIONS) - 2 > 1 and f"{len(ACTIONS) - 2} stored rows not in the file, kept as they are" in text


def test_reexported_register_imports_unchanged_and_only_identical_bytes_are_refused(fresh, tmp_path):
    first_import(fresh, tmp_path)
    tables = (stored_participation(fresh), stored_awards(fresh), stored_actions(fresh), stored_partners(fresh))
    export = write_register_template(fresh, tmp_path / "export.xlsx")
    result = ingest_register(fresh, export)
    assert (result.inserted, result.updated) == (0, 0)
    assert [s.unchanged for s in result.sheets] == [len(PARTICIPATION), len(AWARDS), len(ACTIONS), len(PARTNERS)]
    assert (stored_participation(fresh), stored_awards(fresh), stored_actions(fresh), stored_partners(fresh)) == tables
    assert fresh.execute("SELECT rows FROM imports WHERE id = ?", (result.import_id,)).fetchone()[0] == 0

    copy = tmp_path / "copy-of-export.xlsx"
    copy.write_bytes(export.read_bytes())
    refused(fresh, lambda: ingest_register(fresh, copy), "already imported", f"import #{result.import_id}")
    resaved = tmp_path / "resaved.xlsx"  # same register, other bytes: accepted, nothing changes
    wb = openpyxl.load_workbook(export)
    wb["Udział"]["B2"] = "a name edited by hand (the name column is for the reader)"
    wb.save(resaved)
    assert resaved.read_bytes() != export.read_bytes()
    again = ingest_register(fresh, resaved)
    assert (again.inserted, again.updated) == (0, 0)


def test_demo_register_round_trips_unchanged(small_copy, tmp_path):
    con = store.connect(small_copy)
    try:
        tables = ("participation", "awards", "action_items", "partners")
        before = {t: con.execute(f"SELECT * FROM {t} ORDER BY id").fetchall() for t in tables}
        result = ingest_register(con, write_register_template(con, tmp_path / "demo.xlsx"))
        assert (result.inserted, result.updated) == (0, 0)
        assert [s.unchanged for s in result.sheets] == [len(before[t]) for t in tables]
        assert {t: con.execute(f"SELECT * FROM {t} ORDER BY id").fetchall() for t in tables} == before
    finally:
        con.close()


def test_dry_run_shows_the_differences_and_stores_nothing(fresh, tmp_path):
    first_import(fresh, tmp_path)
    participation = [("111111", n("111111"), "2022/2023", "2025/2026")] + PARTICIPATION[1:]
    path = fill_register(tmp_path / "dry.xlsx", participation, AWARDS + [
        ("222222", n("222222"), "2025/2026", "przedłużenie", "20.10.2026")])
    before = store.content_hash(fresh)
    result = ingest_register(fresh, path, dry_run=True)
    assert store.content_hash(fresh) == before
    assert result.dry_run and result.import_id is None and (result.inserted, result.updated) == (1, 1)
    text = "\n".join(result.lines())
    assert "left edition — → 2025/2026" in text and "new: RSPO 222222 2025/2026 extension" in text
    assert "dry run: nothing was stored" in text
    stored = ingest_register(fresh, path)  # a dry run is no import: the file can still be imported
    assert (stored.inserted, stored.updated) == (1, 1)


def test_awards_from_a_match_file_with_extra_columns_in_another_order(fresh, tmp_path):
    headers = ("Wynik dopasowania", "Linia z listy", "Rodzaj nagrody", "Data przyznania", "Edycja",
               "Placówka (RSPO / POL-on)", "Nazwa placówki", "Kandydat 2", "Kandydat 3", "Uwagi")
    rows = [("pewne", "1. Liceum … w Wieliczce", "certyfikat", dt.date(2025, 10, 15), "XVIII", "222222",
             "a name nobody checks", "SP 2 w Wieliczce", None, None),
            ("do sprawdzenia", "2. Uczelnia …", "uczelnia", "20.10.2025", "2024/2025", UNI.upper(), None, None, None,
             "sprawdzone ręcznie")]

    def match_sheet(wb):
        del wb["Nagrody"]
        ws = wb.create_sheet("Nagrody")
        ws.append(list(headers))
        for r in rows:
            ws.append(list(r))

    path = fill_register(tmp_path / "lista-dopasowanie.xlsx", awards=[], edit=match_sheet)
    result = ingest_register(fresh, path)
    expected = expected_awards([("222222", None, "2024/2025", "certyfikat", dt.date(2025, 10, 15)),
                                (UNI, None, "2024/2025", "uczelnia", dt.date(2025, 10, 20))])
    assert stored_awards(fresh) == expected
    assert stored_participation(fresh) == set() and stored_actions(fresh) == set()
    assert [s.present for s in result.sheets] == [False, True, False, False]


def test_a_partner_named_by_an_action_may_come_from_the_database(fresh, tmp_path):
    first_import(fresh, tmp_path)
    action = ("222222", n("222222"), "2024/2025", "inne", "profilaktyczne", "Dzień bezpieczeństwa",
              "straż miejska w krakowie", "1.10.2024", "wykonane")  # case and spacing as a person types
    result = ingest_register(fresh, fill_register(tmp_path / "a.xlsx", actions=[action]))
    assert result.inserted == 1
    row = fresh.execute("SELECT p.name, p.county FROM action_items a JOIN partners p ON p.id = a.partner_id "
                        "WHERE a.title = 'Dzień bezpieczeństwa'").fetchone()
    assert row == ("Straż Miejska w Krakowie", "1261")


# --------------------------------------------------------------------------- refused input

def loc(sheet: str, row: int, header: str) -> str:
    """The location a message must give, computed from the agreed headers."""
    letter = chr(65 + HEADERS[sheet].index(header))
    return f"sheet „{sheet}”, row {row}, column {letter} „{header}”"


def replace(rows: list, index: int, position: int, value: object) -> list:
    out = [list(r) for r in rows]
    out[index][position] = value
    return [tuple(r) for r in out]


P, A, X, R = "Udział", "Nagrody", "Plany działań", "Partnerzy"
BAD = {  # name: (sheet rows changed from the valid register, parts the message must hold)
    "institution empty": ({"awards": replace(AWARDS, 1, 0, None)}, [loc(A, 3, HEADERS[A][0]), "empty"]),
    "institution not an identifier": ({"participation": replace(PARTICIPATION, 0, 0, "SP nr 1 Bochnia")},
                                      [loc(P, 2, HEADERS[P][0]), "is neither an RSPO number"]),
    "institution unknown": ({"actions": replace(ACTIONS, 2, 0, "999999")},
                            [loc(X, 4, HEADERS[X][0]), "no institution with RSPO 999999"]),
    "edition unknown": ({"awards": replace(AWARDS, 0, 2, "2031/2032")}, [loc(A, 2, "Edycja"), "unknown edition"]),
    "edition not held": ({"participation": replace(PARTICIPATION, 1, 2, "2020/2021")},
                         [loc(P, 3, "Edycja przystąpienia"), "not held"]),
    "left edition not held": ({"participation": replace(PARTICIPATION, 2, 3, "2021-2022")},
                           [loc(P, 4, "Edycja odejścia"), "not held"]),
    "left edition earlier": ({"participation": replace(PARTICIPATION, 1, 3, "2022/2023")},
                             [loc(P, 3, "Edycja odejścia"), "before the joined edition 2023/2024"]),
    "award kind unknown": ({"awards": replace(AWARDS, 0, 3, "dyplom")},
                           [loc(A, 2, "Rodzaj nagrody"), "unknown award kind 'dyplom'"]),
    "area unknown": ({"actions": replace(ACTIONS, 0, 3, "narkotyki")}, [loc(X, 2, "Obszar"), "unknown area"]),
    "action kind unknown": ({"actions": replace(ACTIONS, 1, 4, "edukacyjne")},
                            [loc(X, 3, "Rodzaj działania"), "unknown action kind"]),
    "status unknown": ({"actions": replace(ACTIONS, 4, 8, "prawie")}, [loc(X, 6, "Status"), "unknown status"]),
    "partner kind unknown": ({"partners": replace(PARTNERS, 3, 1, "kościół")},
                             [loc(R, 5, "Rodzaj"), "unknown partner kind"]),
    "county unknown": ({"partners": replace(PARTNERS, 0, 2, "warszawski")}, [loc(R, 2, "Powiat"), "unknown county"]),
    "award date not a date": ({"awards": replace(AWARDS, 2, 4, "jesienią")},
                              [loc(A, 4, "Data przyznania"), "'jesienią' is not a date"]),
    "award date a bare number": ({"awards": replace(AWARDS, 2, 4, 45000)},
                                 [loc(A, 4, "Data przyznania"), "is not a date"]),
    "award date before the audits": ({"awards": replace(AWARDS, 0, 4, dt.date(2025, 4, 30))},
                                     [loc(A, 2, "Data przyznania"), "30.04.2025 is out of range", "01.05.2025"]),
    "award date too late": ({"awards": replace(AWARDS, 0, 4, "2027-01-01")},
                            [loc(A, 2, "Data przyznania"), "01.01.2027 is out of range", "31.12.2026"]),
    "deadline before the school year": ({"actions": replace(ACTIONS, 0, 7, dt.date(2025, 8, 31))},
                                        [loc(X, 2, "Termin"), "31.08.2025 is out of range", "01.09.2025"]),
    "deadline too late": ({"actions": replace(ACTIONS, 0, 7, "01.01.2027")},
                          [loc(X, 2, "Termin"), "out of range", "31.12.2026"]),
    "university award for a school": ({"awards": replace(AWARDS, 0, 3, "uczelnia")},
                                      [loc(A, 2, "Rodzaj nagrody"), "not an award for a school"]),
    "school award for a university": ({"awards": replace(AWARDS, 3, 3, "certyfikat")},
                                      [loc(A, 5, "Rodzaj nagrody"), "not an award for a university"]),
    "award twice": ({"awards": AWARDS + [("222222", None, "XVIII", "certyfikat", dt.date(2025, 11, 2))]},
                    [loc(A, len(AWARDS) + 2, HEADERS[A][0]), f"rows 2 and {len(AWARDS) + 2}"]),
    "participation twice": ({"participation": PARTICIPATION + [("111111", None, "2022-2023", "2024/2025")]},
                            [loc(P, len(PARTICIPATION) + 2, HEADERS[P][0]), f"rows 2 and {len(PARTICIPATION) + 2}"]),
    "action twice": ({"actions": ACTIONS + [ACTIONS[1][:7] + (dt.date(2026, 5, 5), "planowane")]},
                     [loc(X, len(ACTIONS) + 2, HEADERS[X][0]), f"rows 3 and {len(ACTIONS) + 2}"]),
    "partner twice": ({"partners": PARTNERS + [("kpp  bochnia", "policja", "1201")]},
                      [loc(R, len(PARTNERS) + 2, "Nazwa"), f"rows 2 and {len(PARTNERS) + 2}"]),
    "partner unknown": ({"actions": replace(ACTIONS, 3, 6, "Rada Osiedla")},
                        [loc(X, 5, "Partner"), "unknown partner „Rada Osiedla”"]),
    "partner ambiguous": ({"actions": replace(ACTIONS, 2, 6, "Stowarzyszenie „Bezpieczna Szkoła”")},
                          [loc(X, 4, "Partner"), "ambiguous", "bocheński", "wielicki"]),
    "only the institution": ({"participation": PARTICIPATION + [("222222", None, None, None)]},
                             [loc(P, len(PARTICIPATION) + 2, "Edycja przystąpienia"), "empty"]),
    "title empty": ({"actions": replace(ACTIONS, 1, 5, "  ")}, [loc(X, 3, "Działanie"), "empty"]),
    "status empty": ({"actions": replace(ACTIONS, 1, 8, None)}, [loc(X, 3, "Status"), "empty"]),
    "partner name empty": ({"partners": replace(PARTNERS, 1, 0, None)}, [loc(R, 3, "Nazwa"), "empty"]),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_register_is_refused_with_its_location(fresh, tmp_path, case):
    changed, parts = BAD[case]
    sheets = {"participation": PARTICIPATION, "awards": AWARDS, "actions": ACTIONS, "partners": PARTNERS, **changed}
    path = fill_register(tmp_path / "bad.xlsx", **sheets)
    refused(fresh, lambda: ingest_register(fresh, path), "bad.xlsx", *parts)


def test_bad_register_changes_nothing_already_stored(fresh, tmp_path):
    first_import(fresh, tmp_path)
    edited = [("111111", None, "2022/2023", "2025/2026")] + PARTICIPATION[1:]  # a valid change …
    path = fill_register(tmp_path / "bad.xlsx", edited, replace(AWARDS, 0, 3, "dyplom"))  # … and a bad cell
    refused(fresh, lambda: ingest_register(fresh, path), loc(A, 2, "Rodzaj nagrody"))
    assert stored_participation(fresh) == expected_participation(PARTICIPATION)


def test_every_problem_is_reported_up_to_twenty(fresh, tmp_path):
    awards = [("222222", None, "2024/2025", f"dyplom {i}", dt.date(2025, 10, 15)) for i in range(25)]
    path = fill_register(tmp_path / "many.xlsx", awards=awards)
    err = refused(fresh, lambda: ingest_register(fresh, path), "25 problems", "… and 5 more")
    assert len(err.problems) == 20
    assert [p.row for p in err.problems] == list(range(2, 22))
    assert {(p.sheet, p.letter, p.column) for p in err.problems} == {("Nagrody", "D", "Rodzaj nagrody")}


def test_missing_column_is_refused_naming_the_sheet(fresh, tmp_path):
    def drop_date(wb):
        wb["Nagrody"].delete_cols(5)

    path = fill_register(tmp_path / "cols.xlsx", PARTICIPATION, AWARDS, edit=drop_date)
    refused(fresh, lambda: ingest_register(fresh, path), "sheet „Nagrody”, row 1", "„Data przyznania” missing")


def test_empty_rows_and_the_name_column_are_ignored(fresh, tmp_path):
    def gaps(wb):
        ws = wb["Udział"]
        ws.insert_rows(3, 2)  # two empty rows between the data
        ws["B4"] = "only a name: nothing to import"

    path = fill_register(tmp_path / "gaps.xlsx", PARTICIPATION, edit=gaps)
    result = ingest_register(fresh, path)
    assert stored_participation(fresh) == expected_participation(PARTICIPATION)
    assert result.inserted == len(PARTICIPATION)


@pytest.mark.parametrize("content, message", [
    (b"Plac\xc3\xb3wka (RSPO / POL-on);Edycja\n111111;2025/2026\n", "not an XLSX workbook"),
    (bytes(range(256)) * 4, "not an XLSX workbook"),
    (b"", "the file is empty"),
])
def test_files_that_are_not_workbooks_are_refused(fresh, tmp_path, content, message):
    path = tmp_path / "rejestr.xlsx"
    path.write_bytes(content)
    refused(fresh, lambda: ingest_register(fresh, path), "rejestr.xlsx", message)


def test_damaged_workbook_is_refused(fresh, tmp_path):
    good = fill_register(tmp_path / "good.xlsx", PARTICIPATION).read_bytes()
    path = tmp_path / "damaged.xlsx"
    path.write_bytes(good[: len(good) // 2])
    refused(fresh, lambda: ingest_register(fresh, path), "damaged.xlsx", "damaged or truncated")
    other = tmp_path / "other.xlsx"  # a zip archive, but no workbook
    with zipfile.ZipFile(other, "w") as z:
        z.writestr("notes.txt", "not a workbook")
    refused(fresh, lambda: ingest_register(fresh, other), "other.xlsx", "not a valid XLSX workbook")


def test_workbook_without_register_sheets_is_refused(fresh, tmp_path):
    path = fill_register(tmp_path / "none.xlsx")
    refused(fresh, lambda: ingest_register(fresh, path), "none of the register sheets", "„Arkusz1”")


# --------------------------------------------------------------------------- the command line

def test_cli_writes_the_template_and_imports_the_register(fresh, tmp_path, capsys):
    db = str(fresh.db)
    out = tmp_path / "rejestr-zpb.xlsx"
    assert main(["template", "register", "--out", str(out), "--db", db]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    assert sheet_rows(openpyxl.load_workbook(out)["Udział"]) == []

    path = fill_register(tmp_path / "wypelniony.xlsx", PARTICIPATION, AWARDS, ACTIONS, PARTNERS)
    assert main(["ingest", "register", str(path), "--db", db, "--dry-run"]) == 0
    assert "dry run: nothing was stored" in capsys.readouterr().out
    assert main(["ingest", "register", str(path), "--db", db]) == 0
    printed = capsys.readouterr().out
    assert f"Udział (participation): {len(PARTICIPATION)} new" in printed and "zpb build --edition" in printed
    assert stored_participation(fresh) == expected_participation(PARTICIPATION)
    assert main(["ingest", "register", str(path), "--db", db]) == 2
    err = capsys.readouterr().err
    assert "zpb: refused:" in err and "already imported" in err


# --------------------------------------------------------------------------- removing rows („Usuń”)

def mark(template, out, marks: dict[str, list[tuple]]) -> tuple:
    """The exported register with „Usuń” typed (as a person types it: „x”) in the rows whose leading
    cells equal one of ``marks[sheet]``; returns the file and the (sheet, row) marked."""
    wb = openpyxl.load_workbook(template)
    done = []
    for sheet, keys in marks.items():
        ws = wb[sheet]
        col = [c.value for c in ws[1]].index(REMOVE) + 1
        for r in range(2, ws.max_row + 1):
            values = tuple(ws.cell(r, i).value for i in range(1, col))
            if any(values[:len(k)] == k for k in keys):
                ws.cell(r, col).value = "x"
                done.append((sheet, r))
        assert len([d for d in done if d[0] == sheet]) == len(keys), (sheet, keys, done)
    wb.save(out)
    return out, done


def rows_of(con, table: str) -> list[tuple]:
    return con.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()


REGISTER_TABLES = ("participation", "awards", "action_items", "partners")


def test_rows_marked_usun_are_removed_and_the_undo_puts_them_back(fresh, tmp_path, capsys):
    """The finding: a wrong register row could not be removed. A person exports the register, types
    „x” in „Usuń” of the rows to go — the contested leader title of 111111 (it joined in 2022/2023),
    that school's participation, an action and a partner with the one action naming it — and imports
    the file: exactly those rows go, as an import of their own, and its undo puts them back as they
    were (ids and the import that stored them included)."""
    db = str(fresh.db)
    first = first_import(fresh, tmp_path)
    before = {t: rows_of(fresh, t) for t in REGISTER_TABLES}
    assert main(["template", "register", "--out", str(tmp_path / "rejestr.xlsx"), "--db", db]) == 0
    gone = {"Udział": [("111111", n("111111"), "2022/2023")],
            "Nagrody": [("111111", n("111111"), "2024/2025", "Lider Projektu")],
            "Plany działań": [("111111", n("111111"), "2025/2026", "przemoc szkolna", "profilaktyczne",
                               "Szkolenie rady pedagogicznej"),
                              ("333333", n("333333"), "2025/2026", "miejsca niebezpieczne", "infrastrukturalne",
                               "Monitoring boiska")],
            "Partnerzy": [("Kuratorium Oświaty w Krakowie",)]}
    path, marked = mark(tmp_path / "rejestr.xlsx", tmp_path / "usun.xlsx", gone)
    capsys.readouterr()
    assert main(["ingest", "register", str(path), "--db", db, "--dry-run"]) == 0
    assert "dry run: nothing was stored (0 new and 0 changed rows would be, and 5 rows removed)" in \
        capsys.readouterr().out
    assert {t: rows_of(fresh, t) for t in REGISTER_TABLES} == before

    assert main(["ingest", "register", str(path), "--db", db]) == 0
    out = capsys.readouterr().out
    assert "removed: RSPO 111111 2024/2025 leader" in out and "removed: „Kuratorium Oświaty w Krakowie”" in out
    removal = fresh.execute("SELECT MAX(id) FROM imports").fetchone()[0]
    assert f"and removed 5 rows as import #{removal} (undo: zpb imports undo {removal})" in out
    # What is left is what the workbook's other rows say, computed from the lists above.
    assert stored_participation(fresh) == expected_participation([r for r in PARTICIPATION if r[0] != "111111"])
    assert stored_awards(fresh) == expected_awards([r for r in AWARDS if r[:1] + r[2:4] != ("111111", "2024/2025",
                                                                                              "Lider Projektu")])
    assert stored_actions(fresh) == expected_actions(
        [r for r in ACTIONS if r[5] not in ("Szkolenie rady pedagogicznej", "Monitoring boiska")])
    assert stored_partners(fresh) == expected_partners([r for r in PARTNERS if r[0] != "Kuratorium Oświaty w Krakowie"])
    # The removal is an import of its own, keeping each removed row whole.
    assert fresh.execute("SELECT kind, file_name, rows FROM imports WHERE id = ?", (removal,)).fetchone() == \
        ("register", "usun.xlsx", 5)
    records = fresh.execute("SELECT tbl, row_id, old FROM import_changes WHERE import_id = ?", (removal,)).fetchall()
    kept = {(t, json.loads(old)["*removed"]["id"]): json.loads(old)["*removed"] for t, _, old in records}
    by_id = {t: {r[0]: r for r in before[t]} for t in REGISTER_TABLES}
    assert len(kept) == 5 and all(row["import_id"] == first for row in kept.values())
    for (table, row_id), row in kept.items():
        assert tuple(row.values()) == tuple(by_id[table][row_id]), table
    assert json.loads(fresh.execute("SELECT details FROM imports WHERE id = ?", (removal,)).fetchone()[0])[
        "sheets"]["awards"]["removed"] == 1

    # Undo puts every row back as it was.
    assert main(["imports", "undo", str(removal), "--db", db]) == 0
    out = capsys.readouterr().out
    put_back = next(line for line in out.splitlines() if "put back the rows it removed:" in line)
    assert sorted(put_back.split(": ", 1)[1].split(", ")) == ["1 awards", "1 participation", "1 partners",
                                                             "2 action_items"]
    assert f"import #{removal} is undone" in out
    assert {t: rows_of(fresh, t) for t in REGISTER_TABLES} == before
    assert fresh.execute("SELECT COUNT(*) FROM import_changes").fetchone() == (0,)


def test_a_removed_row_reaches_the_reports_status(fresh, tmp_path):
    """After the contested leader title is removed, the status no longer rests on it (and never did:
    the cube leaves it out already); `zpb db check` has nothing left to say about it."""
    first_import(fresh, tmp_path)
    path = fill_register(tmp_path / "usun.xlsx", awards=[("111111", None, "2024/2025", "Lider Projektu", None, "x")])
    result = ingest_register(fresh, path)
    assert result.removed == 1 and [s.removed for s in result.sheets][1] == ["RSPO 111111 2024/2025 leader"]
    assert fresh.execute("SELECT COUNT(*) FROM awards WHERE institution_id = 501").fetchone() == (0,)
    from zpb_lib.domain.checks import check, notes
    assert not [p for p in check(fresh) if p.key.startswith("RSPO 111111")]
    assert not [p for p in notes(fresh) if p.key.startswith("RSPO 111111")]


def test_a_mark_only_needs_the_rows_key(fresh, tmp_path):
    """The other cells of a row to remove may be the very mistake: empty, or not a valid value."""
    first_import(fresh, tmp_path)
    actions = [("333333", None, "2025/2026", "narkotyki", None, "Spotkanie z dzielnicowym", "nikt", "wczoraj", None,
                "usuń")]
    result = ingest_register(fresh, fill_register(tmp_path / "usun.xlsx", actions=actions))
    assert result.removed == 1
    assert stored_actions(fresh) == expected_actions([r for r in ACTIONS if r[5] != "Spotkanie z dzielnicowym"])


def test_a_mark_on_a_row_the_database_lacks_is_reported_not_refused(fresh, tmp_path):
    first_import(fresh, tmp_path)
    before = {t: rows_of(fresh, t) for t in REGISTER_TABLES}
    path = fill_register(tmp_path / "usun.xlsx", awards=[("111111", None, "2023/2024", "certyfikat", None, "x")])
    result = ingest_register(fresh, path)
    assert result.removed == 0 and {t: rows_of(fresh, t) for t in REGISTER_TABLES} == before
    assert ("marked „Usuń” but not in the database (removed before?), nothing to remove: RSPO 111111 2023/2024 "
            "certificate") in "\n".join(result.lines())


def test_an_action_cannot_name_a_partner_the_same_file_removes(fresh, tmp_path):
    first_import(fresh, tmp_path)
    action = ("111111", None, "2025/2026", "inne", "profilaktyczne", "Nowe działanie", "KPP Bochnia",
              dt.date(2026, 3, 1), "planowane")
    path = fill_register(tmp_path / "usun.xlsx", actions=[action],
                         partners=[("KPP Bochnia", None, "bocheński", "x")])
    refused(fresh, lambda: ingest_register(fresh, path), loc(X, 2, "Partner"),
            "partner „KPP Bochnia” is marked „Usuń” in sheet „Partnerzy”, row 2")


def usun(sheet: str, row: int) -> str:
    """The location of a removal's problem: the row's „Usuń” cell (the last column of the sheet)."""
    return f"sheet „{sheet}”, row {row}, column {chr(65 + len(HEADERS[sheet]))} „{REMOVE}”"


def test_removing_what_later_data_depends_on_is_refused_naming_it(fresh, ref, tmp_path):
    """A partner that a stored action names; a participation period without which an audit falls
    outside the programme; an award an audit gives (full points); a certificate a later extension
    requires. Each refusal names the file, sheet, row and column, and what depends on the row."""
    with transaction(fresh):  # audit 71 (certification of 222222) with full points: it gives the certificate
        cat = ref.catalogue_for("school", "2024/2025")
        insert_rows(fresh, "audit_items", ("audit_id", "criterion", "points"),
                    [(71, c.id, c.max_points) for c in cat.criteria])
    first = first_import(fresh, tmp_path)
    cases = [
        (dict(partners=[("KPP Bochnia", None, "bocheński", "x")]),
         [usun(R, 2), "partner „KPP Bochnia” (bocheński) cannot be removed: 1 action(s) name it: RSPO 333333 "
          f"2025/2026 „Spotkanie z dzielnicowym” (import #{first})", "or name another partner"]),
        (dict(participation=[("333333", None, "XVI", None, "x")]),
         [usun(P, 2), "removing the row(s) of RSPO 333333 marked „Usuń”", "control audit of 2024/2025 outside any "
          "participation period"]),
        (dict(awards=[("222222", None, "2024/2025", "certyfikat", None, "x")]),
         [usun(A, 2), "award RSPO 222222 2024/2025 certificate cannot be removed: the certification audit of "
          "2024/2025 (20.05.2025) gives it"]),
        (dict(awards=[("333333", None, "2022/2023", "certyfikat", None, "x")]),
         [usun(A, 2), "extension requires a valid certificate or extension"]),
    ]
    for sheets, parts in cases:
        path = fill_register(tmp_path / "usun.xlsx", **sheets)
        refused(fresh, lambda: ingest_register(fresh, path), "usun.xlsx", *parts)
        refused(fresh, lambda: ingest_register(fresh, path, dry_run=True), *parts)
    # Removing the dependants in the same file lets the row go.
    both = fill_register(tmp_path / "razem.xlsx", awards=[("333333", None, "2022/2023", "certyfikat", None, "x"),
                                                          ("333333", None, "2024/2025", "przedłużenie", None, "x")])
    assert ingest_register(fresh, both).removed == 2


def test_undo_of_a_removal_waits_for_a_row_stored_again(fresh, tmp_path, capsys):
    """A removed award stored again by a later import: putting the removed one back would make it
    twice, so its undo is refused naming the later import, and undone together with it."""
    db = str(fresh.db)
    first_import(fresh, tmp_path)
    removal = ingest_register(fresh, fill_register(tmp_path / "usun.xlsx", awards=[
        ("111111", None, "2024/2025", "Lider Projektu", None, "x")])).import_id
    again = ingest_register(fresh, fill_register(tmp_path / "znowu.xlsx", awards=[
        ("111111", None, "2024/2025", "Lider Projektu", dt.date(2025, 11, 1))])).import_id
    assert main(["imports", "undo", str(removal), "--db", db]) == 2
    err = capsys.readouterr().err
    assert (f"the removed awards row RSPO 111111 leader 2024/2025 is in the database again (1 row(s) with the same "
            f"key, stored by #{again} (register, „znowu.xlsx”)); undo that first") in err
    assert f"zpb imports undo {removal} --with-later" in err
    assert main(["imports", "undo", str(removal), "--with-later", "--db", db]) == 0
    assert stored_awards(fresh) == expected_awards(AWARDS)


def test_register_notes_and_db_check_agree_on_awards_without_an_audit(fresh, tmp_path):
    """The register says how many awards it stored without an audit and that `zpb db check` lists
    them: the notes of `zpb db check` are those awards."""
    from zpb_lib.domain.checks import notes

    path = fill_register(tmp_path / "rejestr.xlsx", PARTICIPATION, AWARDS, ACTIONS, PARTNERS)
    result = ingest_register(fresh, path)
    unlinked = [(i, e, AWARD_KINDS[label]) for i, _, e, label, _d in AWARDS
                if (i, e, AWARD_KINDS[label]) not in AUDIT_OF]
    assert f"{len(unlinked)} awards have no audit" in "\n".join(result.lines())
    names = {f"{'POL-on' if i == UNI else 'RSPO'} {i} {kind} {e}" for i, e, kind in unlinked}
    assert {n.key for n in notes(fresh)} == names


def test_a_removal_copied_to_the_other_engine_can_be_undone_there(fresh, db_backend, pg, tmp_path, capsys):
    """`zpb db copy` carries the record of a removed row (on PostgreSQL the owner who copies may
    write it without the row), and the copy's undo puts the row back with its first import."""
    first = first_import(fresh, tmp_path)
    removal = ingest_register(fresh, fill_register(tmp_path / "usun.xlsx", partners=[
        ("Straż Miejska w Krakowie", None, "m. Kraków", "x")])).import_id
    other = pg.create_database(f"removal_copy_{removal}_{abs(hash(str(tmp_path))) % 10**8}") \
        if db_backend == "sqlite" else str(tmp_path / "copy.sqlite")
    assert main(["db", "copy", str(fresh.db), other]) == 0
    assert main(["imports", "undo", str(removal), "--db", other]) == 0
    con = store.connect(other, readonly=True)
    try:
        assert stored_partners(con) == expected_partners(PARTNERS)
        assert con.execute("SELECT import_id FROM partners WHERE name = 'Straż Miejska w Krakowie'").fetchall() == \
            [(first,)]
    finally:
        con.close()
