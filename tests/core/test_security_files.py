"""The files zpb reads and writes, attacked.

**Formulas.** A school, partner, action or list line named like a spreadsheet formula
(``=HYPERLINK(…)``, ``=cmd|' /C calc'!A0``, ``@SUM(1+1)``, ``-5 osób``, ``+48 …``, a leading tab)
must be written by every workbook-writing command (``zpb template register``, ``zpb template
audit``, ``zpb match``, ``zpb export``, the explorer's export) as a text cell holding exactly that
value — never a formula — and must read back as the same string through the register import
(openpyxl) and the survey/RSPO reader (the project's expat reader). zpb's own formulas (a protocol's
point totals) stay formulas; numbers and dates stay numbers and dates.

**Bombs.** Each crafted file (built here, small on disk) is given to the real command in a fresh
process on a copy of the small demo database; the command must refuse it with a message naming the
file and the problem, with a peak memory well under :data:`PEAK_MB`, and the database content must
be unchanged. Times are never asserted.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest

from zpb_lib import store
from zpb_lib.cli import main
from zpb_lib.ingest import IngestError
from zpb_lib.ingest.register import ingest_register, write_register_template
from zpb_lib.ingest.tables import read_table
from zpb_lib.core.limits import DEFAULTS, LimitsError, archive_limits, file_limits
from zpb_lib.store.write import insert_one, transaction
from zpb_lib.core.workbook import save
from support.archives import MAIN, Entry, deflated, header_row, repeated, sheet, survey_xlsx, write_zip

EDITION = "2025/2026"
PEAK_MB = 500  # generous: every refusal measured here stays near the interpreter's own ~100 MB
HYPERLINK = '=HYPERLINK("http://x","y")'
DDE = "=cmd|' /C calc'!A0"
HOSTILE = (HYPERLINK, DDE, "@SUM(1+1)", "-5 osób", "+48 12 345 67 89", "\tTabulator na początku", "#N/A",
           "=1+1")
ROOT = Path(__file__).resolve().parents[2]


# --------------------------------------------------------------------------- helpers: databases

def connect(db):
    return store.connect(db)


def school(con, offset: int = 0) -> tuple[int, int]:
    """(internal id, RSPO number) of an open school taking part in EDITION."""
    return con.execute(
        "SELECT i.id, i.rspo FROM institutions i JOIN institution_kinds k ON k.code = i.kind "
        "WHERE k.family = 'school' AND k.exists_to IS NULL AND i.closed_year IS NULL AND i.rspo IS NOT NULL "
        "AND EXISTS (SELECT 1 FROM participation p WHERE p.institution_id = i.id AND p.joined_edition <= :e "
        "AND (p.left_edition IS NULL OR p.left_edition >= :e)) "
        "AND NOT EXISTS (SELECT 1 FROM survey_responses r WHERE r.institution_id = i.id AND r.edition = :e) "
        "AND NOT EXISTS (SELECT 1 FROM audits a WHERE a.institution_id = i.id AND a.edition = :e "
        "AND a.kind = 'control') ORDER BY i.id LIMIT 1 OFFSET :o", {"e": EDITION, "o": offset}).fetchone()


def rename(db, institution_id: int, name: str) -> None:
    con = connect(db)
    try:
        with transaction(con):
            con.execute("UPDATE institutions SET name = ? WHERE id = ?", (name, institution_id))
    finally:
        con.close()


# --------------------------------------------------------------------------- helpers: reading workbooks

def cells_by_value(path: Path) -> dict[str, list[openpyxl.cell.Cell]]:
    """Every text cell of every sheet, by value, as openpyxl reads the file."""
    wb = openpyxl.load_workbook(path)
    out: dict[str, list] = {}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, str):
                    out.setdefault(c.value, []).append(c)
    return out


def formula_cells(path: Path) -> list[str]:
    """The cells that hold a formula (an <f> element), read from the sheets' XML itself."""
    found = []
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                xml = z.read(name).decode()
                found += [f"{name}!{m}" for m in re.findall(r'<c r="([A-Z]+\d+)"[^>]*>(?:(?!</c>).)*<f>', xml)]
    return found


def assert_text_cells(path: Path, values) -> None:
    """Each value is in the workbook, each time as a text cell with exactly that value."""
    cells = cells_by_value(path)
    for v in values:
        assert v in cells, f"{v!r} not written to {path.name}"
        for c in cells[v]:
            assert c.data_type == "s" and c.value == v, (c.coordinate, c.data_type, c.value)


# --------------------------------------------------------------------------- the shared helper

def test_save_writes_texts_as_text_and_keeps_numbers_dates_and_own_formulas(tmp_path):
    """A workbook saved by zpb_lib.core.workbook.save: every hostile text is a text cell with the same value
    for openpyxl (both modes) and for the expat reader the survey and RSPO imports use; a number, a
    float, a date and zpb's own formula keep their types. A CR becomes LF: XML normalises line ends."""
    from zpb_lib.core.workbook import formula

    values = [*HOSTILE, "\rpowrót karetki", " spacja ", "_x000D_ dosłownie"]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["tekst", "liczba", "ułamek", "data"])
    for i, v in enumerate(values, start=2):
        ws.cell(i, 1, v)
        ws.cell(i, 2, i * 7)
        ws.cell(i, 3, i / 4)
        ws.cell(i, 4, dt.date(2026, 5, i)).number_format = "DD.MM.YYYY"
    total = len(values) + 2
    formula(ws, total, 2, f"=SUM(B2:B{total - 1})")
    out = save(wb, tmp_path / "w.xlsx")

    # openpyxl writes a CR as a character reference when lxml is installed (exactly as given), else as
    # XML text, which readers normalise to LF.
    for read_only in (False, True):
        rows = list(openpyxl.load_workbook(out, read_only=read_only).active.iter_rows(min_row=2, values_only=True))
        got = [r[0] for r in rows[:-1]]
        assert got in ([v.replace("\r", "\n") for v in values], values), got
        assert [r[1] for r in rows[:-1]] == [i * 7 for i in range(2, total)]
        assert [r[2] for r in rows[:-1]] == [i / 4 for i in range(2, total)]
        assert [r[3] for r in rows[:-1]] == [dt.datetime(2026, 5, i) for i in range(2, total)]
    ws2 = openpyxl.load_workbook(out).active
    assert [ws2.cell(i, 1).data_type for i in range(2, total)] == ["s"] * len(values)
    assert ws2.cell(total, 2).data_type == "f" and ws2.cell(total, 2).value == f"=SUM(B2:B{total - 1})"
    assert formula_cells(out) == [f"xl/worksheets/sheet1.xml!B{total}"]

    table = read_table(out, out.read_bytes())
    rows = list(table.rows)
    assert [r[0] for _, r in rows[:-1]] in ([v.replace("\r", "\n") for v in values], values)
    assert [r[1] for _, r in rows[:-1]] == [i * 7 for i in range(2, total)]  # numbers, not texts
    assert [r[2] for _, r in rows[:-1]] == [i / 4 for i in range(2, total)]


# --------------------------------------------------------------------------- formulas: the register

def test_register_template_fill_ingest_round_trip_keeps_hostile_names(small_copy, tmp_path, ref):
    """Partners and actions named like formulas go template → fill (as text typed in Excel) → import →
    template again: each is a text cell with its exact value, the import stores exactly that string,
    and importing the new template changes nothing. The workbook holds no formula at all."""
    con = connect(small_copy)
    try:
        iid, rspo = school(con)
        county = con.execute("SELECT county FROM institutions WHERE id = ?", (iid,)).fetchone()[0]
        with transaction(con):  # names already stored: a leading tab is only possible this way
            insert_one(con, "partners", {"name": "\tStraż z tabulatorem", "kind": "city_guard", "county": county})
        rename(small_copy, iid, "@SUM(1+1) Szkoła Podstawowa")
        first = write_register_template(con, tmp_path / "rejestr.xlsx")
        assert_text_cells(first, ["\tStraż z tabulatorem", "@SUM(1+1) Szkoła Podstawowa"])

        wb = openpyxl.load_workbook(first)
        partners, actions = wb["Partnerzy"], wb["Plany działań"]
        names = [HYPERLINK, DDE, "-5 osób", "+48 12 345 67 89"]
        for name in names:  # text typed into Excel (with its apostrophe): a text cell, as here
            r = partners.max_row + 1
            for col, value in enumerate((name, "inne", ref.counties[county].name), start=1):
                partners.cell(r, col, value).data_type = "s"
        titles = ["@SUM(1+1)", "=1+1", "#N/A", "-warsztaty"]
        for title, partner in zip(titles, names):
            r = actions.max_row + 1
            for col, value in enumerate((str(rspo), None, EDITION, "przemoc szkolna", "profilaktyczne", title,
                                         partner, dt.date(2026, 3, 1), "planowane"), start=1):
                c = actions.cell(r, col, value)
                if isinstance(value, str):
                    c.data_type = "s"
        filled = tmp_path / "wypelniony.xlsx"
        wb.save(filled)

        result = ingest_register(con, filled)
        assert result.inserted == len(names) + len(titles) and result.updated == 0
        stored_partners = {r[0] for r in con.execute("SELECT name FROM partners")}
        assert set(names) <= stored_partners
        stored = dict(con.execute("SELECT a.title, p.name FROM action_items a JOIN partners p ON p.id = a.partner_id "
                                  "WHERE a.institution_id = ?", (iid,)).fetchall())
        assert {t: stored[t] for t in titles} == dict(zip(titles, names))

        again = write_register_template(con, tmp_path / "rejestr2.xlsx")
        assert_text_cells(again, [*names, *titles, "\tStraż z tabulatorem", "@SUM(1+1) Szkoła Podstawowa"])
        assert formula_cells(first) == formula_cells(again) == []
        result = ingest_register(con, again)
        assert (result.inserted, result.updated) == (0, 0)
    finally:
        con.close()


# --------------------------------------------------------------------------- formulas: the audit protocol

def test_audit_template_writes_the_name_as_text_and_only_its_own_totals_as_formulas(small_copy, tmp_path, ref):
    """A school named ``=HYPERLINK(…)`` gets a protocol whose name cell is that text; the only
    formulas are the two point totals zpb writes; the filled protocol imports."""
    con = connect(small_copy)
    try:
        iid, rspo = school(con)
    finally:
        con.close()
    rename(small_copy, iid, HYPERLINK)
    out = tmp_path / "protokol.xlsx"
    assert main(["template", "audit", "--institution", str(rspo), "--edition", EDITION, "--out", str(out),
                 "--db", str(small_copy)]) == 0
    assert_text_cells(out, [HYPERLINK])
    ws = openpyxl.load_workbook(out)["Protokół audytu"]
    header = next(r for r in range(1, 30) if ws.cell(r, 2).value == "Kryterium")
    cat = ref.catalogue_for("school", EDITION)
    total_row = header + len(cat.criteria) + 1
    assert sorted(formula_cells(out)) == [f"xl/worksheets/sheet1.xml!E{total_row}",
                                          f"xl/worksheets/sheet1.xml!F{total_row}"]
    assert ws.cell(total_row, 6).value == f"=SUM(F{header + 1}:F{total_row - 1})"

    ws.cell(next(r for r in range(1, 30) if ws.cell(r, 1).value == "Rodzaj audytu"), 4).value = "kontrolny"
    ws.cell(next(r for r in range(1, 30) if ws.cell(r, 1).value == "Data audytu"), 4).value = dt.date(2026, 5, 20)
    for i, c in enumerate(cat.criteria, start=header + 1):
        ws.cell(i, 6).value = c.max_points
    filled = tmp_path / "wypelniony.xlsx"
    ws.parent.save(filled)
    assert main(["ingest", "audit", str(filled), "--db", str(small_copy)]) == 0


# --------------------------------------------------------------------------- formulas: zpb match

def test_match_workbook_keeps_list_lines_and_names_as_text(small_copy, tmp_path):
    """A published list whose lines look like formulas, matched to a school named like one: every
    line and name is a text cell with its exact value, scores stay numbers, and the register import
    reads the reviewed workbook's rows back unchanged."""
    con = connect(small_copy)
    try:
        iid, rspo = school(con)
        locality = con.execute("SELECT locality FROM institutions WHERE id = ?", (iid,)).fetchone()[0]
    finally:
        con.close()
    name = f"=Szkoła Podstawowa nr 97 im. Hiperłącza w {locality}"
    rename(small_copy, iid, name)
    lines = [f"1. {name[1:]},", f"2. {DDE},", f"3. {HYPERLINK}"]
    lst = tmp_path / "lista.txt"
    lst.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "dopasowanie.xlsx"
    assert main(["match", str(lst), "--edition", EDITION, "--kind", "certyfikat", "--out", str(out),
                 "--db", str(small_copy)]) == 0
    ws = openpyxl.load_workbook(out)["Nagrody"]
    head = [c.value for c in ws[1]]
    line_col, name_col, score_col = head.index("Linia z listy"), head.index("Nazwa placówki"), \
        head.index("Wynik dopasowania")
    rows = list(ws.iter_rows(min_row=2))
    assert [r[line_col].value for r in rows] == [line.strip() for line in lines]
    assert all(r[line_col].data_type == "s" for r in rows)
    assert rows[0][name_col].value == name and rows[0][name_col].data_type == "s"
    assert rows[0][0].value == rspo and rows[0][0].data_type == "n"
    assert isinstance(rows[0][score_col].value, int)  # a score stays a number
    assert all(r[score_col].value is None or r[score_col].data_type == "n" for r in rows)
    assert formula_cells(out) == []


# --------------------------------------------------------------------------- formulas: zpb export, explorer

def test_export_writes_a_hostile_name_as_text_and_numbers_as_numbers(small_copy, tmp_path):
    """``zpb export`` of an edition in which an audited school is named ``=cmd|…``: the name is a text
    cell, its points and the date are numbers and a date."""
    con = connect(small_copy)
    try:
        iid, county, total = con.execute(
            "SELECT a.institution_id, i.county, SUM(ai.points) FROM audits a JOIN institutions i ON "
            "i.id = a.institution_id JOIN audit_items ai ON ai.audit_id = a.id WHERE a.edition = ? "
            "GROUP BY a.id ORDER BY a.id LIMIT 1", (EDITION,)).fetchone()
    finally:
        con.close()
    rename(small_copy, iid, DDE)
    out = tmp_path / "wyniki.xlsx"
    assert main(["export", "--edition", EDITION, "--county", county, "--out", str(out), "--db", str(small_copy)]) == 0
    assert_text_cells(out, [DDE])
    ws = openpyxl.load_workbook(out)["Decyzje"]
    head = [c.value for c in ws[4]]
    row = next(r for r in ws.iter_rows(min_row=5) if r[head.index("Placówka")].value == DDE)
    points = row[head.index("Punkty")]
    assert points.data_type == "n" and points.value == total
    assert isinstance(row[head.index("Data audytu")].value, dt.datetime)
    assert formula_cells(out) == []


def test_explorer_export_writes_a_hostile_name_as_text(small_copy, tmp_path):
    """The explorer's „export to Excel” (pandas' to_excel underneath) of a county with a school
    named ``=HYPERLINK(…)``: a text cell with that value; identifiers stay numbers."""
    from zpb_lib.explore import Explorer

    con = connect(small_copy)
    try:
        iid, rspo = school(con)
        county = con.execute("SELECT county FROM institutions WHERE id = ?", (iid,)).fetchone()[0]
    finally:
        con.close()
    rename(small_copy, iid, HYPERLINK)
    x = Explorer(small_copy, out=tmp_path / "out")
    x.edition.value = EDITION
    x.county.value = county
    x.status.value = "all"
    path = x.export_table()
    assert_text_cells(path, [HYPERLINK])
    ws = openpyxl.load_workbook(path).worksheets[0]
    row = next(r for r in ws.iter_rows(min_row=2) if r[1].value == HYPERLINK)
    assert row[0].value == rspo and row[0].data_type == "n"
    assert formula_cells(path) == []


# --------------------------------------------------------------------------- helpers: running a refusal

# The wrapper starts the command and reports the peak of its child alone: Linux keeps a process's
# peak RSS across exec, so a command forked straight from pytest would carry pytest's own peak.
MEASURE = """
import json, resource, subprocess, sys
limit = int(sys.argv[1])  # address space: a regression fails with MemoryError instead of swapping the machine
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
rc = subprocess.call([sys.executable, "-m", "zpb_lib.cli", *sys.argv[2:]])
print(json.dumps({"rc": rc, "peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""
GUARD_BYTES = 3 << 30


def run_zpb(args: list[str], env: dict[str, str] | None = None) -> tuple[int, str, float]:
    """Run ``zpb ARGS`` in a fresh process: (exit status, its error output, its peak RSS in MB). The
    wall time and the peak are printed (``pytest -s`` shows them), never asserted."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", MEASURE, str(GUARD_BYTES), *args], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, **(env or {})}, timeout=900)
    last = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else "{}"
    try:
        report = json.loads(last)
    except json.JSONDecodeError:
        report = {}
    assert "rc" in report, f"no report from the process:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    print(f"\n  zpb {' '.join(a for a in args[:2])} {Path(args[2]).name}: exit {report['rc']} after "
          f"{time.perf_counter() - started:.2f} s, peak {report['peak_mb']:.0f} MB")
    return report["rc"], done.stderr, report["peak_mb"]


def refused(db, content_hash, args: list[str], file: Path, *parts: str, env: dict[str, str] | None = None) -> str:
    """``zpb ARGS`` refuses ``file`` (exit status 2) with a message naming it and every text of
    ``parts``, within PEAK_MB, leaving the database as it was."""
    before = content_hash(db)
    rc, err, peak = run_zpb([*args, "--db", str(db)], env)
    assert rc == 2, f"exit status {rc}:\n{err[-3000:]}"
    assert f"{file.name}:" in err, err
    for part in parts:
        assert part in err, f"{part!r} not in:\n{err}"
    assert peak < PEAK_MB, f"peak memory {peak:.0f} MB"
    assert content_hash(db) == before
    return err


def survey_args(db, path: Path) -> list[str]:
    con = connect(db)
    try:
        _, rspo = school(con)
    finally:
        con.close()
    return ["ingest", "survey", str(path), "--institution", str(rspo), "--edition", EDITION, "--group", "students",
            "--wave", "baseline"]


# --------------------------------------------------------------------------- bombs: survey workbooks

def test_shared_strings_expanding_to_gigabytes_refused_from_the_directory(small_copy, content_hash, tmp_path, ref):
    """A 2 MB survey XLSX whose string table expands to 1.7 GB (measured before: accepted after 96 s at
    4.8 GB): refused from the sizes the zip's directory declares, before any decompression."""
    strings = repeated("xl/sharedStrings.xml", f'<?xml version="1.0"?><sst xmlns="{MAIN}">'.encode(),
                       b"<si><t>" + b"A" * ((4 << 20) - 16) + b"</t></si>", 420, b"</sst>")
    path = survey_xlsx(tmp_path / "ankieta.xlsx", deflated("xl/worksheets/sheet1.xml", sheet(header_row(ref))),
                       strings)
    assert path.stat().st_size < 3 << 20 and strings.size > 1_700_000_000
    refused(small_copy, content_hash, survey_args(small_copy, path), path, "xl/sharedStrings.xml",
            "expands to 1 680.0 MB", "ZPB_MAX_SURVEY_PART_MB")


def test_sheet_of_32_million_rows_refused(small_copy, content_hash, tmp_path, ref):
    """A 1 MB survey XLSX whose sheet holds 32 million one-cell rows (measured before: still reading
    after 400 s, memory growing): its expanded size and its compression ratio give it away."""
    rows = repeated("xl/worksheets/sheet1.xml", sheet(b"").split(b"<sheetData>")[0] + b"<sheetData>"
                    + header_row(ref), b"<row><c><v>1</v></c></row>" * 4096, 32_000_000 // 4096,
                    b"</sheetData></worksheet>")
    path = survey_xlsx(tmp_path / "ankieta.xlsx", rows)
    refused(small_copy, content_hash, survey_args(small_copy, path), path, "xl/worksheets/sheet1.xml",
            "expands to", "the limit for one part of a survey export is 256 MB")


def test_highly_compressed_part_refused_for_its_ratio(small_copy, content_hash, tmp_path, ref):
    """A sheet of 60 MB of padding that compresses 1,000 times (under the 256 MB size limit): no real
    sheet is compressed more than ~20 times, so the ratio refuses it."""
    pad = repeated("xl/worksheets/sheet1.xml", b'<?xml version="1.0"?>', b" " * (1 << 20), 60,
                   sheet(header_row(ref))[len(b'<?xml version="1.0" encoding="UTF-8"?>'):])
    path = survey_xlsx(tmp_path / "ankieta.xlsx", pad)
    refused(small_copy, content_hash, survey_args(small_copy, path), path, "xl/worksheets/sheet1.xml",
            "is compressed", "ZPB_MAX_ZIP_RATIO")


def plausible_rows(first: int, last: int) -> bytes:
    """Rows as a form export writes them: numbered rows, a timestamp in column A (compresses ~20×)."""
    return b"".join(f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>2026/03/{1 + r % 28:02d} {r % 12 + 1}:'
                    f'{r % 60:02d}:{r * 7 % 60:02d} AM CET</t></is></c></row>'.encode() for r in range(first, last + 1))


def test_survey_sheet_with_more_rows_than_any_survey_refused_while_reading(small_copy, content_hash, tmp_path, ref):
    """A survey XLSX of 150,000 plausible rows (it passes the size and ratio checks): refused at row
    100,002 while the sheet streams, before the answers are stored."""
    entry = deflated("xl/worksheets/sheet1.xml", sheet(header_row(ref) + plausible_rows(2, 150_001)))
    assert entry.size < archive_limits().ratio * len(entry.payload)  # the ratio check lets it through
    path = survey_xlsx(tmp_path / "ankieta.xlsx", entry)
    refused(small_copy, content_hash, survey_args(small_copy, path), path, "row 100 002",
            "the limit for the rows of a sheet of a survey export is 100 000", "ZPB_MAX_SURVEY_ROWS")


def test_row_number_far_beyond_the_limit_refused(small_copy, content_hash, tmp_path, ref):
    """A sheet whose second row is numbered 1,048,576: a spreadsheet of a million rows, refused from
    the number without reading a million rows."""
    path = survey_xlsx(tmp_path / "ankieta.xlsx", deflated(
        "xl/worksheets/sheet1.xml", sheet(header_row(ref) + plausible_rows(1_048_576, 1_048_576))))
    refused(small_copy, content_hash, survey_args(small_copy, path), path, "reaches row 1 048 576",
            "ZPB_MAX_SURVEY_ROWS")


def test_cell_in_the_last_column_of_every_row_refused(small_copy, content_hash, tmp_path, ref):
    """Rows of one cell each in column XFD (16,384): the reader would pad every row to 16,384 values.
    Refused at the first such cell."""
    rows = b"".join(f'<row r="{r}"><c r="XFD{r}"><v>1</v></c></row>'.encode() for r in range(2, 50_000))
    path = survey_xlsx(tmp_path / "ankieta.xlsx", deflated("xl/worksheets/sheet1.xml", sheet(header_row(ref) + rows)))
    refused(small_copy, content_hash, survey_args(small_copy, path), path, "column 16 384",
            "ZPB_MAX_SURVEY_COLUMNS")


def test_huge_dimension_claim_changes_nothing(small_copy, tmp_path, ref):
    """A sheet whose <dimension> claims A1:XFD1048576 but holds three answer rows: read as the three
    rows it holds, with little memory."""
    items = ref.questionnaires["students"].items
    scale = ref.scales[items[0].scale]
    label = scale.options[0].label_pl
    rows = b"".join(f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>2026/03/12 10:00:00 AM CET</t></is></c>'
                    f'<c r="B{r}" t="inlineStr"><is><t>{label}</t></is></c></row>'.encode() for r in (2, 3, 4))
    xml = sheet(header_row(ref) + rows).replace(b"<sheetData>", b'<dimension ref="A1:XFD1048576"/><sheetData>')
    path = survey_xlsx(tmp_path / "ankieta.xlsx", deflated("xl/worksheets/sheet1.xml", xml))
    rc, err, peak = run_zpb([*survey_args(small_copy, path), "--dry-run", "--db", str(small_copy)])
    assert rc == 0, err
    assert peak < PEAK_MB


@pytest.mark.parametrize("part", ["xl/sharedStrings.xml", "xl/worksheets/sheet1.xml", "xl/workbook.xml"])
def test_entity_expansion_and_external_entities_refused(small_copy, content_hash, tmp_path, ref, part):
    """Billion laughs (ten levels of ten entity references: 10**10 characters) in the string table,
    an external entity reading /etc/passwd (XXE) in the sheet, a DOCTYPE in the workbook part: any
    document type declaration in a part is refused before the part is parsed."""
    laughs = '<!DOCTYPE lolz [<!ENTITY lol0 "lol">' + "".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 11)) + "]>"
    xxe = '<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    strings = deflated("xl/sharedStrings.xml", f'<?xml version="1.0"?><sst xmlns="{MAIN}"/>'.encode())
    sheet_xml = sheet(header_row(ref))
    extra = []
    if part == "xl/sharedStrings.xml":
        strings = deflated(part, f'<?xml version="1.0"?>{laughs}<sst xmlns="{MAIN}"><si><t>&lol10;</t></si></sst>'
                           .encode())
    elif part == "xl/worksheets/sheet1.xml":
        sheet_xml = sheet(header_row(ref) + b'<row r="2"><c r="A2" t="inlineStr"><is><t>&xxe;</t></is></c></row>',
                          xxe.encode())
    path = survey_xlsx(tmp_path / "ankieta.xlsx", deflated("xl/worksheets/sheet1.xml", sheet_xml), strings, extra)
    if part == "xl/workbook.xml":  # the same archive with a DOCTYPE before the workbook's root
        with zipfile.ZipFile(path) as z:
            parts = {n: z.read(n) for n in z.namelist()}
        parts[part] = parts[part].replace(b"<workbook", xxe.encode() + b"<workbook", 1)
        write_zip(path, [deflated(n, d) for n, d in parts.items()])
    refused(small_copy, content_hash, survey_args(small_copy, path), path, part, "<!DOCTYPE")


def test_zip_of_thousands_of_members_refused(small_copy, content_hash, tmp_path, ref):
    """A workbook zip with 5,000 extra members: refused from the archive's end record, before Python's
    zipfile builds an object for each."""
    extra = [deflated(f"xl/media/m{i}.bin", b"x") for i in range(5000)]
    path = survey_xlsx(tmp_path / "ankieta.xlsx", deflated("xl/worksheets/sheet1.xml", sheet(header_row(ref))),
                       extra=extra)
    refused(small_copy, content_hash, survey_args(small_copy, path), path, "members", "ZPB_MAX_ZIP_MEMBERS")


def test_overlapping_members_refused(small_copy, content_hash, tmp_path, ref):
    """The "overlapping files" bomb: 250 directory entries share one compressed kernel of 1,000,000
    bytes (below the ratio's grace size), so 2 KB declare 250 MB. Refused for sharing data."""
    kernel = repeated("xl/media/kernel.bin", b"", b"\0" * 1000, 1000, b"")
    shared = [Entry(f"xl/media/copy{i}.bin", kernel.payload, kernel.size, kernel.crc, share=kernel.name)
              for i in range(250)]
    path = survey_xlsx(tmp_path / "ankieta.xlsx", deflated("xl/worksheets/sheet1.xml", sheet(header_row(ref))),
                       extra=[kernel, *shared])
    refused(small_copy, content_hash, survey_args(small_copy, path), path, "overlap", "zip bomb")


def test_directory_that_understates_a_part_is_not_believed(small_copy, content_hash, tmp_path, ref):
    """The central directory says the sheet is 4 KB; its data expand to 1 GB. Reading stops at the
    declared size and the part is refused as damaged; nothing near a gigabyte is decompressed."""
    big = repeated("xl/worksheets/sheet1.xml", sheet(b"").split(b"<sheetData>")[0] + b"<sheetData>"
                   + header_row(ref), b"<row><c><v>1</v></c></row>" * 40_000, 1000, b"</sheetData></worksheet>")
    lie = Entry(big.name, big.payload, 4096, big.crc)
    path = survey_xlsx(tmp_path / "ankieta.xlsx", lie)
    refused(small_copy, content_hash, survey_args(small_copy, path), path, "xl/worksheets/sheet1.xml", "damaged")


# --------------------------------------------------------------------------- bombs: CSV

def test_csv_of_200_mb_refused_by_its_size(small_copy, content_hash, tmp_path, ref):
    """A 200 MB Google Forms CSV of 829,800 responses for one school: refused from its size on disk."""
    items = ref.questionnaires["students"].items
    head = ",".join(f'"{t}"' for t in ["Sygnatura czasowa"] + [i.text_pl for i in items]) + "\n"
    answer = ref.scales[items[0].scale].options[0].label_pl
    row = ",".join(['"2026/03/12 10:15:32 AM CET"'] + [f'"{answer}"'] * len(items)) + "\n"
    block = (row * 1000).encode()
    path = tmp_path / "odpowiedzi.csv"
    with open(path, "wb") as fh:
        fh.write(head.encode())
        while fh.tell() < 200_000_000:
            fh.write(block)
    refused(small_copy, content_hash, survey_args(small_copy, path), path, "the file is",
            "the limit for a survey export is 64 MB", "ZPB_MAX_SURVEY_FILE_MB")


def test_csv_of_millions_of_tiny_rows_refused_at_the_row_limit(small_copy, content_hash, tmp_path, ref):
    """Six million empty lines after the header (12 MB): refused at row 100,002."""
    items = ref.questionnaires["students"].items
    head = ",".join(f'"{t}"' for t in ["Sygnatura czasowa"] + [i.text_pl for i in items]) + "\n"
    path = tmp_path / "odpowiedzi.csv"
    path.write_bytes(head.encode() + b"\n" * 6_000_000)
    refused(small_copy, content_hash, survey_args(small_copy, path), path, "row 100002", "more than 100 000 rows",
            "ZPB_MAX_SURVEY_ROWS")


@pytest.mark.parametrize("field, message", [
    (b"x" * 60_000_000, ("a line longer than any export has", "ZPB_MAX_SURVEY_LINE_KB")),
    ((b"x" * 99 + b"\n") * 10_000, ("a field is longer than 131 072 characters",)),
], ids=["one line of 60 MB", "a field of 1 MB on short lines"])
def test_csv_with_one_enormous_field_refused(small_copy, content_hash, tmp_path, ref, field, message):
    """One quoted field of 60 MB with no line end (under the file size limit), and one of 1 MB spread
    over short lines: refused naming the row, without reading the field whole."""
    items = ref.questionnaires["students"].items
    head = ",".join(f'"{t}"' for t in ["Sygnatura czasowa"] + [i.text_pl for i in items]) + "\n"
    path = tmp_path / "odpowiedzi.csv"
    path.write_bytes(head.encode() + b'"' + field + b'"\n')
    refused(small_copy, content_hash, survey_args(small_copy, path), path, "row 2", *message)


def test_csv_with_a_million_columns_refused(small_copy, content_hash, tmp_path, ref):
    """A header of a million empty fields: refused at the header."""
    path = tmp_path / "odpowiedzi.csv"
    path.write_bytes(b"," * 1_000_000 + b"\n")
    refused(small_copy, content_hash, survey_args(small_copy, path), path, "row 1", "1 000 001 fields",
            "ZPB_MAX_SURVEY_COLUMNS")


def test_institutions_csv_over_a_lowered_size_limit_refused(small_copy, content_hash, tmp_path):
    """The limits come from the environment: with ZPB_MAX_INSTITUTIONS_FILE_MB=1, a 2 MB RSPO export
    is refused naming that variable."""
    path = tmp_path / "rspo.csv"
    path.write_bytes(("Numer RSPO;Nazwa\n" + "1;Szkoła\n" * 250_000).encode())
    refused(small_copy, content_hash, ["ingest", "institutions", str(path)], path,
            "the limit for an RSPO export or a list of universities is 1 MB", "ZPB_MAX_INSTITUTIONS_FILE_MB",
            env={"ZPB_MAX_INSTITUTIONS_FILE_MB": "1"})


# --------------------------------------------------------------------------- bombs: register, audit, list

def template_parts(db, tmp_path: Path) -> dict[str, bytes]:
    con = connect(db)
    try:
        path = write_register_template(con, tmp_path / "rejestr.xlsx")
    finally:
        con.close()
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def sheet_part(parts: dict[str, bytes], title: str) -> str:
    """The zip path of the worksheet named ``title``."""
    wb = parts["xl/workbook.xml"].decode()
    rid = re.search(rf'<sheet [^>]*name="{title}"[^>]*r:id="(rId\d+)"', wb) or \
        re.search(rf'<sheet [^>]*r:id="(rId\d+)"[^>]*name="{title}"', wb)
    rels = parts["xl/_rels/workbook.xml.rels"].decode()
    target = re.search(rf'<Relationship [^>]*Id="{rid.group(1)}"[^>]*Target="([^"]+)"', rels) or \
        re.search(rf'<Relationship [^>]*Target="([^"]+)"[^>]*Id="{rid.group(1)}"', rels)
    return "xl/" + target.group(1).lstrip("/").removeprefix("xl/")


def test_register_with_hundreds_of_thousands_of_rows_refused(small_copy, content_hash, tmp_path):
    """The register's partners sheet with 300,000 plausible rows (the limit is 100,000): refused by the
    scan before openpyxl reads it, naming the sheet's part and the row."""
    parts = template_parts(small_copy, tmp_path)
    part = sheet_part(parts, "Partnerzy")
    header = re.search(rb'<row r="1".*?</row>', parts[part]).group()
    rows = b"".join(f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>Partner {r * 7919 % 1000003}</t></is></c>'
                    f'<c r="B{r}" t="inlineStr"><is><t>inne</t></is></c></row>'.encode() for r in range(2, 300_002))
    parts[part] = re.sub(rb"<sheetData>.*</sheetData>", lambda _: b"<sheetData>" + header + rows + b"</sheetData>",
                         parts[part], flags=re.DOTALL)
    path = write_zip(tmp_path / "rejestr-duzy.xlsx", [deflated(n, d) for n, d in parts.items()])
    refused(small_copy, content_hash, ["ingest", "register", str(path)], path, part, "reaches row 100 002",
            "ZPB_MAX_REGISTER_ROWS")


def test_register_with_a_huge_dimension_claim_imports_as_it_is(small_copy, tmp_path):
    """Every sheet of a real register workbook claims A1:XFD1048576: the dry run reads the rows the
    sheets hold, with little memory, and finds nothing to change."""
    parts = template_parts(small_copy, tmp_path)
    for name in parts:
        if name.startswith("xl/worksheets/"):
            parts[name] = re.sub(rb'<dimension ref="[^"]*"\s*/>', b'<dimension ref="A1:XFD1048576"/>', parts[name])
    path = write_zip(tmp_path / "rejestr.xlsx", [deflated(n, d) for n, d in parts.items()])
    rc, err, peak = run_zpb(["ingest", "register", str(path), "--dry-run", "--db", str(small_copy)])
    assert rc == 0, err
    assert peak < PEAK_MB


def test_register_with_entity_declarations_refused_before_openpyxl(small_copy, content_hash, tmp_path):
    """A DOCTYPE with an external entity in a register sheet: refused before openpyxl parses it."""
    parts = template_parts(small_copy, tmp_path)
    part = sheet_part(parts, "Partnerzy")
    parts[part] = parts[part].replace(b"<worksheet", b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
                                      b"<worksheet", 1)
    path = write_zip(tmp_path / "rejestr.xlsx", [deflated(n, d) for n, d in parts.items()])
    refused(small_copy, content_hash, ["ingest", "register", str(path)], path, part, "<!DOCTYPE")


def audit_template(db, tmp_path: Path) -> Path:
    con = connect(db)
    try:
        _, rspo = school(con)
    finally:
        con.close()
    out = tmp_path / "protokol.xlsx"
    assert main(["template", "audit", "--institution", str(rspo), "--edition", EDITION, "--out", str(out),
                 "--db", str(db)]) == 0
    return out


def test_audit_protocol_with_a_sheet_of_a_million_cells_refused(small_copy, content_hash, tmp_path):
    """A protocol (~2 MB) with a sheet of 600,000 cells, which openpyxl would hold as as many objects
    (a 310 KB protocol took 1.77 GB before): refused from the part's expanded size."""
    with zipfile.ZipFile(audit_template(small_copy, tmp_path)) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    target = "xl/worksheets/sheet2.xml"
    cells = b"".join(f'<row r="{r}">'.encode() + b"".join(
        f'<c r="{c}{r}"><v>{(r * 31 + ord(c)) % 97}</v></c>'.encode() for c in "ABCDEFGHIJ") + b"</row>"
        for r in range(1, 60_001))
    parts[target] = sheet(cells)
    path = write_zip(tmp_path / "protokol-bomba.xlsx", [deflated(n, d) for n, d in parts.items()])
    assert path.stat().st_size < 4 << 20
    refused(small_copy, content_hash, ["ingest", "audit", str(path)], path, target,
            "the limit for one part of an audit protocol is 4 MB", "ZPB_MAX_AUDIT_PART_MB")


def test_audit_protocol_with_rows_beyond_any_protocol_refused(small_copy, content_hash, tmp_path):
    """A protocol whose instructions sheet holds 5,000 small rows (under the part size limit):
    refused by the row scan before openpyxl loads it."""
    with zipfile.ZipFile(audit_template(small_copy, tmp_path)) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    target = "xl/worksheets/sheet2.xml"
    parts[target] = sheet(b"".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>'.encode()
                                   for r in range(1, 5001)))
    path = write_zip(tmp_path / "protokol-wiersze.xlsx", [deflated(n, d) for n, d in parts.items()])
    refused(small_copy, content_hash, ["ingest", "audit", str(path)], path, target, "reaches row 2 002",
            "ZPB_MAX_AUDIT_ROWS")


def test_audit_protocol_with_a_bloated_styles_part_refused(small_copy, content_hash, tmp_path):
    """A styles part of 40 MB (openpyxl builds an object per style): refused from its size."""
    with zipfile.ZipFile(audit_template(small_copy, tmp_path)) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    entries = [deflated(n, d) for n, d in parts.items() if n != "xl/styles.xml"]
    styles = parts["xl/styles.xml"]
    head, tail = styles.split(b"<cellXfs", 1)
    entries.append(repeated("xl/styles.xml", head + b"<cellXfs" + tail.split(b">", 1)[0] + b">",
                            b"".join(f'<xf numFmtId="{i % 50}" fontId="0" fillId="0" borderId="0"/>'.encode()
                                     for i in range(1000)), 700, b"</cellXfs></styleSheet>"))
    path = write_zip(tmp_path / "protokol-style.xlsx", entries)
    refused(small_copy, content_hash, ["ingest", "audit", str(path)], path, "xl/styles.xml",
            "ZPB_MAX_ZIP_OTHER_PART_MB")


def test_published_list_too_long_refused_before_matching(small_copy, content_hash, tmp_path):
    """A „published list” of 20,000 numbered items, each of which would be matched against every
    school: refused before matching, and no workbook is written."""
    path = tmp_path / "lista.txt"
    path.write_text("".join(f"{i % 999 + 1}. Szkoła Podstawowa nr {i} w Bochni,\n" for i in range(20_000)),
                    encoding="utf-8")
    out = tmp_path / "dopasowanie.xlsx"
    refused(small_copy, content_hash, ["match", str(path), "--edition", EDITION, "--kind", "certyfikat",
                                       "--out", str(out)], path, "items", "ZPB_MAX_PUBLISHED_ROWS")
    assert not out.exists()


# --------------------------------------------------------------------------- the limits themselves

def test_limits_are_read_from_the_environment_in_one_place():
    """Every field of every kind has its variable; a value that is no positive whole number is refused
    naming the variable."""
    env = {"ZPB_MAX_SURVEY_ROWS": "250", "ZPB_MAX_ZIP_RATIO": "1_000", "ZPB_MAX_AUDIT_FILE_MB": " 9 "}
    assert file_limits("survey", env).rows == 250
    assert file_limits("audit", env).file_mb == 9
    assert file_limits("institutions", env) == DEFAULTS["institutions"]
    assert archive_limits(env).ratio == 1000
    for bad in ("0", "-5", "dużo", "1.5"):
        with pytest.raises(LimitsError, match="ZPB_MAX_REGISTER_COLUMNS"):
            file_limits("register", {"ZPB_MAX_REGISTER_COLUMNS": bad})


def test_a_misconfigured_limit_refuses_with_the_variable_not_a_traceback(small_copy, tmp_path, capsys, monkeypatch):
    """``ZPB_MAX_SURVEY_FILE_MB=many``: the import is refused naming the variable (exit status 2)."""
    path = tmp_path / "a.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    monkeypatch.setenv("ZPB_MAX_SURVEY_FILE_MB", "many")
    assert main([*survey_args(small_copy, path), "--db", str(small_copy)]) == 2
    assert "$ZPB_MAX_SURVEY_FILE_MB is 'many'" in capsys.readouterr().err


def test_real_size_exports_pass_the_limits(tmp_path, ref):
    """A 3,000-row Microsoft Forms workbook of the students' questionnaire (written by openpyxl, as the
    ingest benchmark does) reads through the checked reader with every row."""
    items = ref.questionnaires["students"].items
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("Sheet1")
    ws.append(["ID", "Start time", "Completion time", "Email", "Name"] + [i.text_pl for i in items])
    t = dt.datetime(2026, 3, 12, 10, 0)
    for k in range(3000):
        ws.append([k + 1, t, t, "anonymous", None] + [ref.scales[i.scale].options[k % 2].label_pl for i in items])
    path = tmp_path / "m.xlsx"
    wb.save(path)
    table = read_table(path, path.read_bytes(), limits=file_limits("survey"))
    assert sum(1 for _ in table.rows) == 3000
    with pytest.raises(IngestError, match="row 102"):
        list(read_table(path, path.read_bytes(), limits=file_limits("survey", {"ZPB_MAX_SURVEY_ROWS": "100"})).rows)


def test_the_guide_lists_the_defaults_in_force():
    """The table of limits in the user guide (docs/commands.md) says what zpb_lib.core.limits holds."""
    text = (ROOT / "docs" / "commands.md").read_text(encoding="utf-8")
    fields = ("file_mb", "rows", "columns", "part_mb", "workbook_mb", "strings", "line_kb")
    shown = {}
    for m in re.finditer(r"^\| `([A-Z]+)`: [^|]*\|((?: \d+ \|)+)\s*$", text, re.M):
        shown[m.group(1).lower()] = tuple(int(v) for v in m.group(2).split("|") if v.strip())
    assert shown == {k: tuple(getattr(v, f) for f in fields) for k, v in DEFAULTS.items()}
    zip_defaults = archive_limits({})
    for variable, value in (("ZPB_MAX_ZIP_MEMBERS", f"({zip_defaults.members} members)"),
                            ("ZPB_MAX_ZIP_RATIO", f"(a part over {zip_defaults.ratio_grace_mb} MB may be compressed "
                                                  f"at most {zip_defaults.ratio} times"),
                            ("ZPB_MAX_ZIP_OTHER_PART_MB", f"({zip_defaults.other_part_mb} MB")):
        assert f"`{variable}` {value}" in text.replace("\n", " "), variable
