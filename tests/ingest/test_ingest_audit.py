"""Audit protocols: the XLSX template is what an auditor needs (criteria, maxima, limited cells), a
filled protocol is stored with its points, and every bad protocol is refused with a message naming
file, row and column, leaving the database content hash unchanged."""
from __future__ import annotations

import datetime as dt

import openpyxl
import pytest
from support.audits import (
    BY_RSPO,
    EDITION,
    criteria_rows,
    fill,
    find_row,
    full_points,
    school,
)
from support.ingest import refused

from zpb_lib import store
from zpb_lib.cli import main
from zpb_lib.domain.scoring import score_audit
from zpb_lib.ingest import IngestError
from zpb_lib.ingest.audit import ingest_audit, write_template

pytestmark = pytest.mark.both_backends


@pytest.fixture
def template(con, ref, tmp_path):
    inst = school(con, also="2018/2019")  # taking part then too: one test re-uses an old template
    path = write_template(con, inst, EDITION, tmp_path / "protokol.xlsx")
    cat = ref.catalogue_for("school", EDITION)
    return inst, path, cat


# --------------------------------------------------------------------------- the template

def test_template_holds_what_the_auditor_needs(con, ref, template):
    inst, path, cat = template
    wb = openpyxl.load_workbook(path)
    ws = wb["Protokół audytu"]
    value = lambda label: ws.cell(find_row(ws, 1, label), 4).value  # noqa: E731
    name = con.execute("SELECT name FROM institutions WHERE rspo = ?", (inst,)).fetchone()[0]
    assert (value("Placówka (RSPO / POL-on)"), value("Placówka"), value("Edycja"), value("Katalog kryteriów")) == \
        (inst, name, EDITION, "school@2")
    assert value("Rodzaj audytu") is None and value("Data audytu") is None
    rows = criteria_rows(ws)
    assert list(rows) == [c.id for c in cat.criteria]
    areas = {a.id: a.title_pl for a in cat.areas}
    for c in cat.criteria:
        r = rows[c.id]
        assert ws.cell(r, 3).value == areas[c.area]
        assert ws.cell(r, 4).value == c.title_pl
        assert ws.cell(r, 5).value == c.max_points
        assert ws.cell(r, 7).value == ("tak" if c.mandatory else "nie")
        assert ws.cell(r, 6).protection.locked is False      # points: the auditor's cells
        assert ws.cell(r, 2).protection.locked is not False  # criterion id: locked
        dvs = [dv for dv in ws.data_validations.dataValidation if ws.cell(r, 6).coordinate in dv.sqref]
        assert len(dvs) == 1
        dv = dvs[0]
        assert (dv.type, dv.operator, dv.formula1, dv.formula2) == ("whole", "between", "0", str(c.max_points))
    assert ws.protection.sheet
    kinds = [dv for dv in ws.data_validations.dataValidation if dv.type == "list"]
    assert "kontrolny" in kinds[0].formula1
    text = "\n".join(str(c.value) for row in wb["Instrukcja"].iter_rows() for c in row if c.value)
    assert "liczbę całkowitą od 0 do maksimum" in text and "Obowiązkowe" in text


def test_template_for_an_old_edition_uses_the_catalogue_then_in_force(con, ref, tmp_path):
    inst = school(con, "2016/2017", kind="reaudit")
    path = write_template(con, inst, "2016/2017", tmp_path / "old.xlsx", kind="reaudit")
    ws = openpyxl.load_workbook(path)["Protokół audytu"]
    assert ws.cell(find_row(ws, 1, "Katalog kryteriów"), 4).value == "school@1"
    assert ws.cell(find_row(ws, 1, "Rodzaj audytu"), 4).value.startswith("ponowny")
    assert list(criteria_rows(ws)) == [c.id for c in ref.catalogues["school@1"].criteria]


@pytest.mark.parametrize("inst_sql, edition, message", [
    ("SELECT 9999999", EDITION, "no institution with RSPO 9999999"),
    ("SELECT 'abc'", EDITION, "neither an RSPO number"),
    ("SELECT rspo FROM institutions WHERE kind = 'gimnazjum' LIMIT 1", EDITION, "2019"),
    ("SELECT MIN(rspo) FROM institutions", "2020/2021", "suspended"),
    ("SELECT MIN(rspo) FROM institutions", "2040/2041", "unknown edition"),
    ("SELECT rspo FROM institutions i WHERE kind = 'primary' AND NOT EXISTS (SELECT 1 FROM participation p "
     "WHERE p.institution_id = i.id) LIMIT 1", EDITION, "no participation"),
])
def test_template_refused_for_a_bad_target(con, tmp_path, inst_sql, edition, message):
    inst = con.execute(inst_sql).fetchone()[0]
    with pytest.raises(IngestError, match=message):
        write_template(con, inst, edition, tmp_path / "t.xlsx")
    assert not (tmp_path / "t.xlsx").exists()


# --------------------------------------------------------------------------- filled protocols

def test_filled_protocol_is_stored_with_its_points(con, ref, template, tmp_path):
    inst, path, cat = template
    points = full_points(cat)
    filled = fill(path, tmp_path / "wypelniony.xlsx", points)
    res = ingest_audit(con, filled)
    audit = con.execute("SELECT i.rspo, edition, a.kind, audit_date, catalogue, a.import_id FROM audits a "
                        "JOIN institutions i ON i.id = a.institution_id WHERE a.id = ?", (res.audit_id,)).fetchone()
    assert audit == (inst, EDITION, "control", "2026-05-20", "school@2", res.import_id)
    items = dict(con.execute("SELECT criterion, points FROM audit_items WHERE audit_id = ?", (res.audit_id,)))
    assert items == points
    expected_total = sum(points.values())
    assert con.execute("SELECT SUM(points) FROM audit_items WHERE audit_id = ?", (res.audit_id,)).fetchone()[0] \
        == expected_total
    assert score_audit(cat, items).total == expected_total
    assert con.execute("SELECT kind, file_name, rows FROM imports WHERE id = ?", (res.import_id,)).fetchone() == \
        ("audit", "wypelniony.xlsx", len(cat.criteria))
    assert con.execute("SELECT COUNT(*) FROM awards WHERE audit_id = ?", (res.audit_id,)).fetchone()[0] == 0
    assert f"points: {expected_total} of {cat.max_total}" in "\n".join(res.lines())


def test_date_typed_as_text_and_kind_from_the_command_line(con, ref, template, tmp_path):
    inst, path, cat = template
    filled = fill(path, tmp_path / "f.xlsx", full_points(cat), kind=None, date="03.06.2026")
    refused(con, lambda: ingest_audit(con, filled), "f.xlsx", "row 8, column D „Rodzaj audytu”", "audit kind not given")
    res = ingest_audit(con, filled, kind="certification")
    assert con.execute("SELECT kind, audit_date FROM audits WHERE id = ?", (res.audit_id,)).fetchone() == \
        ("certification", "2026-06-03")


def test_kind_in_protocol_and_on_command_line_must_agree(con, template, tmp_path):
    inst, path, cat = template
    filled = fill(path, tmp_path / "k.xlsx", full_points(cat), kind="kontrolny")
    refused(con, lambda: ingest_audit(con, filled, kind="leader"), "k.xlsx", "column D", "--kind leader")


def test_empty_optional_criterion_is_not_stored_but_mandatory_is_required(con, template, tmp_path):
    inst, path, cat = template
    optional = next(c for c in cat.criteria if not c.mandatory)
    mandatory = next(c for c in cat.criteria if c.mandatory)
    points = full_points(cat)
    points[optional.id] = None
    res = ingest_audit(con, fill(path, tmp_path / "opt.xlsx", points))
    stored = {r[0] for r in con.execute("SELECT criterion FROM audit_items WHERE audit_id = ?", (res.audit_id,))}
    assert stored == {c.id for c in cat.criteria} - {optional.id}
    assert optional.id in "\n".join(res.lines())
    points = full_points(cat)
    points[mandatory.id] = None
    bad = fill(path, tmp_path / "mand.xlsx", points, kind="certyfikacyjny (etap I)")
    row = criteria_rows(openpyxl.load_workbook(bad)["Protokół audytu"])[mandatory.id]
    refused(con, lambda: ingest_audit(con, bad), "mand.xlsx", f"row {row}, column F „Przyznane punkty”",
            f"mandatory criterion {mandatory.id}", "not scored")


# --------------------------------------------------------------------------- refused protocols

def test_points_over_the_maximum_refused(con, template, tmp_path):
    inst, path, cat = template
    crit = cat.criteria[1]
    points = full_points(cat)
    points[crit.id] = crit.max_points + 1  # openpyxl ignores data validation, as a pasted value would
    bad = fill(path, tmp_path / "over.xlsx", points)
    row = criteria_rows(openpyxl.load_workbook(bad)["Protokół audytu"])[crit.id]
    err = refused(con, lambda: ingest_audit(con, bad), "over.xlsx", f"row {row}, column F „Przyznane punkty”",
                  f"{crit.max_points + 1} points for criterion {crit.id} is over its maximum of {crit.max_points}",
                  f"0 to {crit.max_points}")
    assert (err.row, err.letter) == (row, "F")


@pytest.mark.parametrize("value, message", [(1.5, "not a whole number"), ("dwa", "not a whole number"),
                                            (-1, "negative")])
def test_points_not_a_valid_number_refused(con, template, tmp_path, value, message):
    inst, path, cat = template
    points = full_points(cat)
    points[cat.criteria[0].id] = value
    bad = fill(path, tmp_path / "nan.xlsx", points)
    refused(con, lambda: ingest_audit(con, bad), "nan.xlsx", "column F", message)


def test_protocol_with_a_criterion_missing_refused(con, template, tmp_path):
    inst, path, cat = template
    gone = cat.criteria[4]

    def delete_row(ws):
        ws.protection.sheet = False
        ws.delete_rows(criteria_rows(ws)[gone.id])

    bad = fill(path, tmp_path / "gap.xlsx", full_points(cat), edit=delete_row)
    refused(con, lambda: ingest_audit(con, bad), "gap.xlsx", f"criterion {gone.id} („{gone.title_pl}”) is missing")


def test_protocol_with_an_unknown_criterion_refused(con, template, tmp_path):
    inst, path, cat = template
    bad = fill(path, tmp_path / "x9.xlsx", full_points(cat),
               edit=lambda ws: setattr(ws.cell(criteria_rows(ws)[cat.criteria[0].id], 2), "value", "X9"))
    refused(con, lambda: ingest_audit(con, bad), "x9.xlsx", "column B „Kryterium”", "'X9' is not in catalogue school@2")


def test_protocol_for_another_catalogue_version_refused(con, ref, template, tmp_path):
    inst, path, cat = template
    # An old template (catalogue school@1) re-used for this year's audit: edition changed by hand.
    old = write_template(con, inst, "2018/2019", tmp_path / "stary.xlsx")

    def this_year(ws):
        ws.cell(find_row(ws, 1, "Edycja"), 4).value = EDITION

    bad = fill(old, tmp_path / "stary-wypelniony.xlsx", full_points(ref.catalogues["school@1"]), edit=this_year)
    row = find_row(openpyxl.load_workbook(bad)["Protokół audytu"], 1, "Katalog kryteriów")
    refused(con, lambda: ingest_audit(con, bad), "stary-wypelniony.xlsx", f"row {row}, column D „Katalog kryteriów”",
            "catalogue school@1", "school@2 applies")
    # A changed version mark is caught by the maxima: criteria D4 and E2 differ between versions.
    bad2 = fill(path, tmp_path / "v.xlsx", full_points(cat),
                edit=lambda ws: setattr(ws.cell(criteria_rows(ws)["E2"], 5), "value", 2))
    refused(con, lambda: ingest_audit(con, bad2), "v.xlsx", "column E „Maks. pkt”", "differs from 1")


@pytest.mark.parametrize("label, value, message", [
    ("Placówka (RSPO / POL-on)", 9999999, "no institution with RSPO 9999999"),
    ("Placówka (RSPO / POL-on)", "abc", "neither an RSPO number"),
    ("Edycja", "2031/2032", "unknown edition"),
    ("Edycja", "2020/2021", "suspended"),
])
def test_protocol_for_unknown_institution_or_edition_refused(con, template, tmp_path, label, value, message):
    inst, path, cat = template

    def change(ws):
        ws.cell(find_row(ws, 1, label), 4).value = value

    bad = fill(path, tmp_path / "who.xlsx", full_points(cat), edit=change)
    row = find_row(openpyxl.load_workbook(bad)["Protokół audytu"], 1, label)
    refused(con, lambda: ingest_audit(con, bad), "who.xlsx", f"row {row}, column D „{label}”", message)


def test_audit_date_outside_the_audit_period_refused(con, template, tmp_path):
    inst, path, cat = template
    bad = fill(path, tmp_path / "date.xlsx", full_points(cat), date=dt.date(2026, 9, 1))
    refused(con, lambda: ingest_audit(con, bad), "date.xlsx", "„Data audytu”", "01.09.2026", "01.05.2026–30.06.2026")


def test_same_protocol_twice_refused_and_replace(con, template, tmp_path):
    inst, path, cat = template
    filled = fill(path, tmp_path / "raz.xlsx", full_points(cat))
    first = ingest_audit(con, filled)
    refused(con, lambda: ingest_audit(con, filled), "raz.xlsx", "already imported", f"import #{first.import_id}")
    # A corrected protocol for the same audit is another file: refused unless --replace.
    points = full_points(cat, less_every=2)
    fixed = fill(path, tmp_path / "poprawiony.xlsx", points)
    refused(con, lambda: ingest_audit(con, fixed), "poprawiony.xlsx", "already stored", f"import #{first.import_id}",
            "--replace")
    second = ingest_audit(con, fixed, replace=True)
    assert con.execute(f"SELECT COUNT(*) FROM audits WHERE institution_id = {BY_RSPO} AND edition = ? "
                       "AND kind = 'control'",
                       (inst, EDITION)).fetchone()[0] == 1
    assert dict(con.execute("SELECT criterion, points FROM audit_items WHERE audit_id = ?", (second.audit_id,))) == points
    assert con.execute("SELECT COUNT(*) FROM imports WHERE file_name = 'raz.xlsx'").fetchone()[0] == 0


def test_audit_with_an_award_cannot_be_replaced(con, ref, tmp_path):
    inst, edition, kind, date = con.execute(
        "SELECT i.rspo, a.edition, a.kind, a.audit_date FROM audits a JOIN awards w ON w.audit_id = a.id "
        "JOIN institutions i ON i.id = a.institution_id WHERE i.kind = 'primary' ORDER BY a.id LIMIT 1").fetchone()
    path = write_template(con, inst, edition, tmp_path / "t.xlsx", kind=kind)
    cat = ref.catalogue_for("school", edition)
    filled = fill(path, tmp_path / "award.xlsx", full_points(cat), kind=None, date=dt.date.fromisoformat(date))
    refused(con, lambda: ingest_audit(con, filled), "award.xlsx", "already stored")
    refused(con, lambda: ingest_audit(con, filled, replace=True), "award.xlsx", "award", "was decided from it")


def test_truncated_empty_and_non_workbook_files_refused(con, template, tmp_path):
    inst, path, cat = template
    filled = fill(path, tmp_path / "ok.xlsx", full_points(cat))
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(filled.read_bytes()[:3000])
    refused(con, lambda: ingest_audit(con, cut), "cut.xlsx", "damaged or truncated")
    empty = tmp_path / "empty.xlsx"
    empty.write_bytes(b"")
    refused(con, lambda: ingest_audit(con, empty), "empty.xlsx", "empty")
    text = tmp_path / "protokol.csv"
    text.write_text("Kryterium;Punkty\nA1;2\n", encoding="utf-8")
    refused(con, lambda: ingest_audit(con, text), "protokol.csv", "not an XLSX workbook")
    other = tmp_path / "other.xlsx"
    openpyxl.Workbook().save(other)
    refused(con, lambda: ingest_audit(con, other), "other.xlsx", "not a ZPB audit protocol")


# --------------------------------------------------------------------------- command line

def test_cli_template_and_ingest(small_copy, ref, tmp_path, capsys):
    con = store.connect(small_copy)
    inst = school(con)
    con.close()
    out = tmp_path / "p.xlsx"
    assert main(["template", "audit", "--institution", str(inst), "--edition", EDITION, "--out", str(out),
                 "--db", str(small_copy)]) == 0
    assert out.exists()
    filled = fill(out, tmp_path / "pf.xlsx", full_points(ref.catalogue_for("school", EDITION)), kind=None)
    argv = ["ingest", "audit", str(filled), "--kind", "control", "--db", str(small_copy)]
    capsys.readouterr()
    assert main(argv + ["--dry-run"]) == 0
    assert "dry run: nothing was stored" in capsys.readouterr().out
    assert main(argv) == 0
    assert "stored the audit with" in capsys.readouterr().out
    assert main(argv) == 2
    assert "already imported" in capsys.readouterr().err
    assert main(["template", "audit", "--institution", "999999", "--edition", EDITION, "--out", str(out),
                 "--db", str(small_copy)]) == 2
