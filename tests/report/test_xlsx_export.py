"""`zpb export`: the XLSX workbook of an edition's results, read back with openpyxl and checked
against figures computed here straight from the database (SQL and the reference data), not from
the cube the export is made of."""
from __future__ import annotations

import datetime as dt
import math
import sqlite3
from pathlib import Path

import pytest
from openpyxl import load_workbook

from support.identity import renumber, shows_number
from zpb_lib.store.write import transaction
from zpb_lib import cli, store
from zpb_lib.domain import cube
from zpb_lib.report import xlsx as xlsx_export
from zpb_lib.domain.labels import county_name
from zpb_lib.domain.stats import wilson_interval

EDITION = "2025/2026"
HEADER_ROW = 4
DATA_SHEETS = ("Decyzje", "Punkty za kryteria", "Wskaźniki z ankiet", "Odnowienia", "Placówki")


def run(*argv: str) -> int:
    return cli.main(["export", *argv])


def rows(ws) -> list[dict]:
    """The table of a data sheet as dicts keyed by header (header in row 4); an empty table's note
    under the header („Brak pozycji do pokazania.”) is no row."""
    header = [c.value for c in ws[HEADER_ROW]]
    out = []
    for r in ws.iter_rows(min_row=HEADER_ROW + 1, values_only=True):
        if r[0] in ("Brak pozycji do pokazania.", "Nothing to show.") and all(v is None for v in r[1:]):
            continue
        if any(v is not None for v in r):
            out.append(dict(zip(header, r)))
    return out


def column_cells(ws, name: str) -> list:
    header = [c.value for c in ws[HEADER_ROW]]
    j = header.index(name) + 1
    return [ws.cell(i, j) for i in range(HEADER_ROW + 1, ws.max_row + 1)]


@pytest.fixture(scope="module")
def db(small_db):
    con = sqlite3.connect(f"{Path(small_db).resolve().as_uri()}?mode=ro", uri=True)
    yield con
    con.close()


@pytest.fixture(scope="module")
def workbook_path(small_db, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("xlsx") / "wyniki.xlsx"
    assert run("--edition", EDITION, "--db", str(small_db), "--out", str(out)) == 0
    return out


@pytest.fixture(scope="module")
def wb(workbook_path):
    return load_workbook(workbook_path)


@pytest.fixture(scope="module")
def county_teryt(db) -> str:
    """A county with audits in the edition (and so also with survey rows)."""
    return db.execute("SELECT i.county FROM audits a JOIN institutions i ON i.id = a.institution_id "
                      "WHERE a.edition = ? GROUP BY i.county ORDER BY COUNT(*) DESC, i.county LIMIT 1",
                      (EDITION,)).fetchone()[0]


@pytest.fixture(scope="module")
def county_wb(small_db, county_teryt, tmp_path_factory):
    out = tmp_path_factory.mktemp("xlsx") / "powiat.xlsx"
    assert run("--edition", EDITION, "--county", county_teryt, "--db", str(small_db), "--out", str(out)) == 0
    return load_workbook(out)


# --------------------------------------------------------------------------- layout

def test_sheets_and_layout(wb):
    assert wb.sheetnames == [*DATA_SHEETS, "Informacje"]
    for name in DATA_SHEETS:
        ws = wb[name]
        assert ws.freeze_panes is not None and ws.freeze_panes.endswith(str(HEADER_ROW + 1)), name
        assert ws.auto_filter.ref.startswith(f"A{HEADER_ROW}:"), name
        assert ws.auto_filter.ref.endswith(str(ws.max_row)), name  # the filter covers every row
        assert all(c.font.bold for c in ws[HEADER_ROW] if c.value), name
        assert ws.cell(3, 1).value is None  # blank row between the banner and the table
        widths = [ws.column_dimensions[c.column_letter].width for c in ws[HEADER_ROW]]
        assert all(6 <= w <= 80 for w in widths), (name, widths)


def test_synthetic_banner_and_about_sheet(wb, small_db, data_version):
    banner = "Dane syntetyczne"
    for name in DATA_SHEETS:
        assert wb[name].cell(2, 1).value.startswith(banner), name
    about = {r[0]: r[1] for r in wb["Informacje"].iter_rows(values_only=True) if r[0]}
    assert any(str(k).startswith(banner) for k in about)
    assert about["Edycja"] == "Edycja XIX (2025/2026)"
    assert about["Wersja danych"] == data_version(small_db)  # the same version the reports name
    assert about["Stan na dzień"] == dt.datetime(2026, 10, 15)
    assert isinstance(about["Wygenerowano"], dt.datetime)
    assert "mniej niż 10 respondentów" in about["Ochrona anonimowości ankiet"]
    assert "Wilsona" in about["Metodologia"]
    assert about["Decyzje"].endswith(f"(wierszy: {len(rows(wb['Decyzje']))})")


def test_number_and_date_formats(wb):
    ws = wb["Decyzje"]
    for name, fmt in (("Punkty", "#,##0"), ("Maksimum", "#,##0"), ("Odsetek punktów", "0.0%"),
                      ("Data audytu", "DD.MM.YYYY")):
        cells = column_cells(ws, name)
        assert cells and all(c.number_format == fmt for c in cells), name
    assert all(c.is_date for c in column_cells(ws, "Data audytu"))
    assert all(isinstance(c.value, float) and 0 <= c.value <= 1 for c in column_cells(ws, "Odsetek punktów"))
    ind = wb["Wskaźniki z ankiet"]
    assert all(c.number_format == "0.0%" for c in column_cells(ind, "Wynik"))
    assert all(isinstance(c.value, int) and c.number_format == "#,##0" for c in column_cells(ind, "Respondenci"))
    ren = wb["Odnowienia"]
    assert all(c.is_date and c.number_format == "DD.MM.YYYY" for c in column_cells(ren, "Ważny do"))
    assert all(c.number_format == "@" and isinstance(c.value, str) for c in column_cells(ws, "TERYT powiatu"))


# --------------------------------------------------------------------------- decisions

def test_one_decision_row_per_audit_of_the_edition(wb, db):
    sql = dict(db.execute("SELECT a.id, SUM(i.points) FROM audits a JOIN audit_items i ON i.audit_id = a.id "
                          "WHERE a.edition = ? GROUP BY a.id", (EDITION,)).fetchall())
    n = db.execute("SELECT COUNT(*) FROM audits WHERE edition = ?", (EDITION,)).fetchone()[0]
    got = rows(wb["Decyzje"])
    assert len(got) == n == len(sql) > 0
    assert {r["ID audytu"]: r["Punkty"] for r in got} == sql


def test_decision_rows_match_the_database(wb, db, ref):
    audits = {r[0]: r[1:] for r in db.execute(
        "SELECT a.id, COALESCE(i.rspo, i.polon), i.name, i.county, a.kind, a.audit_date, a.catalogue "
        "FROM audits a JOIN institutions i ON i.id = a.institution_id WHERE a.edition = ?", (EDITION,))}
    awarded = {r[0] for r in db.execute("SELECT audit_id FROM awards WHERE edition = ? AND audit_id IS NOT NULL",
                                        (EDITION,))}
    kinds = {"certification": "audyt certyfikujący", "reaudit": "reaudyt", "control": "audyt kontrolny",
             "leader": "audyt na tytuł Lidera"}
    for r in rows(wb["Decyzje"]):
        ident, name, county, kind, date, catalogue = audits[r["ID audytu"]]
        # the RSPO number (a number cell) or the POL-on id (text), as the database holds it
        assert (r["RSPO / POL-on"], r["Placówka"], r["TERYT powiatu"]) == (ident, name, county)
        assert r["W wykazie RSPO"] == ("tak" if isinstance(ident, int) else None)
        assert r["Powiat"] == ("" if ref.counties[county].kind == "city" else "powiat ") + ref.counties[county].name
        assert r["Jednostka Policji"] == ref.police_units[ref.counties[county].police_unit].name
        assert r["Rodzaj audytu"] == kinds[kind]
        assert r["Data audytu"].date() == dt.date.fromisoformat(date)
        assert r["Maksimum"] == ref.catalogues[catalogue].max_total
        assert r["Odsetek punktów"] == pytest.approx(r["Punkty"] / r["Maksimum"])
        if kind != "control":
            # the recorded awards of the (consistent) demo data are exactly the granted decisions
            assert (r["Decyzja"] == "przyznano") == (r["ID audytu"] in awarded), r
            assert r["Pozycja"] is not None
        if r["Decyzja"] in ("nie przyznano", "negatywny"):
            assert r["Powody decyzji"], r
            if r["Punkty"] < r["Próg"]:
                assert f"brakuje {r['Próg'] - r['Punkty']} pkt do progu" in r["Powody decyzji"]
        else:
            assert r["Powody decyzji"] is None and r["Punkty"] >= r["Próg"]


def test_reasons_name_failed_mandatory_criteria_in_words(ref):
    text = xlsx_export.reasons_text("mandatory_failed:1:D1|points_short:4:", "school@2", "pl", ref)
    title = ref.catalogues["school@2"].criterion("D1").title_pl
    assert text == f"niespełnione kryteria obowiązkowe: D1 {title}; brakuje 4 pkt do progu"
    assert xlsx_export.reasons_text("", "school@2", "pl", ref) is None


# --------------------------------------------------------------------------- points per criterion

def test_points_per_criterion_add_up_to_the_audit_total(wb, db, ref):
    items = db.execute("SELECT a.id, i.criterion, i.points, c.max_points FROM audits a "
                       "JOIN audit_items i ON i.audit_id = a.id "
                       "JOIN criteria c ON c.catalogue = a.catalogue AND c.criterion = i.criterion "
                       "WHERE a.edition = ?", (EDITION,)).fetchall()
    got = rows(wb["Punkty za kryteria"])
    assert sorted((r["ID audytu"], r["Kod kryterium"], r["Punkty"], r["Maksimum"]) for r in got) == sorted(items)
    totals = {r["ID audytu"]: r["Punkty"] for r in rows(wb["Decyzje"])}
    by_audit: dict[int, int] = {}
    for r in got:
        by_audit[r["ID audytu"]] = by_audit.get(r["ID audytu"], 0) + r["Punkty"]
        assert r["Utracone punkty"] == r["Maksimum"] - r["Punkty"]
        crit = ref.catalogues[r["Katalog kryteriów"]].criterion(r["Kod kryterium"])
        assert r["Kryterium"] == crit.title_pl and r["Obowiązkowe"] == ("tak" if crit.mandatory else "nie")
    assert by_audit == totals


# --------------------------------------------------------------------------- survey indicators

def _pooled(db, ref, indicator: str, group: str, wave: str, where: str = "", params: tuple = ()) -> tuple[int, int]:
    ind = ref.indicators[indicator]
    col = ind.item
    values = ", ".join(str(v) for v in ind.positive)
    sql = (f"SELECT COUNT(s.{col}), COALESCE(SUM(s.{col} IN ({values})), 0) FROM survey_responses s "
           f"JOIN institutions i ON i.id = s.institution_id "
           f"WHERE s.edition = ? AND s.grp = ? AND s.wave = ?{where}")
    return db.execute(sql, (EDITION, group, wave, *params)).fetchone()


def test_indicator_figures_equal_pooled_answers_from_sql(wb, db, ref):
    got = rows(wb["Wskaźniki z ankiet"])
    title = ref.indicators["safe_school"].title_pl
    checked = 0
    for r in got:
        if r["Wskaźnik"] != title or r["Uwagi"] is not None:
            continue
        group = {"uczniowie": "students", "rodzice": "parents", "nauczyciele": "teachers"}[r["Grupa"]]
        wave = {"diagnoza": "baseline", "ewaluacja": "follow-up"}[r["Badanie"]]
        if r["Poziom"] == "województwo":
            n, k = _pooled(db, ref, "safe_school", group, wave)
        elif r["Poziom"] == "powiat":
            n, k = _pooled(db, ref, "safe_school", group, wave, " AND i.county = ?", (r["TERYT powiatu"],))
        else:
            n, k = _pooled(db, ref, "safe_school", group, wave, " AND COALESCE(i.rspo, i.polon) = ?",
                           (r["RSPO / POL-on"],))
        lo, hi = wilson_interval(k, n)
        assert r["Respondenci"] == n >= 10
        assert r["Wynik"] == pytest.approx(k / n)
        assert (r["Przedział ufności 95% — od"], r["Przedział ufności 95% — do"]) == (
            pytest.approx(float(lo)), pytest.approx(float(hi)))
        checked += 1
    levels = {r["Poziom"] for r in got}
    assert levels == {"województwo", "powiat", "placówka"} and checked > 50


def test_change_since_baseline_and_its_significance(wb, db, ref):
    """Follow-up rows carry what the reports show: the change since the baseline in percentage
    points, the two-proportion test's p-value and whether it is significant and for the better or the
    worse — all from SQL counts and statsmodels here. Baseline rows and rows with a hidden side are
    empty in those columns."""
    from statsmodels.stats.proportion import proportions_ztest

    got = rows(wb["Wskaźniki z ankiet"])
    by_key = {(r["Poziom"], r["TERYT powiatu"], r["RSPO / POL-on"], r["Grupa"], r["Wskaźnik"], r["Badanie"]): r
              for r in got}
    change, p_col, sig = "Zmiana od diagnozy (p.p.)", "Wartość p zmiany", "Istotna zmiana (p < 0,05)"
    assert {change, p_col, sig} <= set(got[0])
    titles = {i.title_pl: i for i in ref.indicators.values()}
    groups = {"uczniowie": "students", "rodzice": "parents", "nauczyciele": "teachers"}
    checked = {"tak — poprawa": 0, "tak — pogorszenie": 0, "nie": 0}
    for r in got:
        if r["Badanie"] == "diagnoza":
            assert (r[change], r[p_col], r[sig]) == (None, None, None), r
            continue
        base = by_key.get((r["Poziom"], r["TERYT powiatu"], r["RSPO / POL-on"], r["Grupa"], r["Wskaźnik"], "diagnoza"))
        if base is None or r["Uwagi"] or base["Uwagi"]:
            assert (r[change], r[p_col], r[sig]) == (None, None, None), r
            continue
        if r["Poziom"] == "placówka":
            continue  # institution rows are checked against the cube's figures above; pooled levels here
        ind = titles[r["Wskaźnik"]]
        where, params = ("", ()) if r["Poziom"] == "województwo" else (" AND i.county = ?", (r["TERYT powiatu"],))
        n1, k1 = _pooled(db, ref, ind.id, groups[r["Grupa"]], "follow-up", where, params)
        n0, k0 = _pooled(db, ref, ind.id, groups[r["Grupa"]], "baseline", where, params)
        assert r[change] == pytest.approx(100 * (k1 / n1 - k0 / n0))
        if 0 < k0 + k1 < n0 + n1:
            p = proportions_ztest([k1, k0], [n1, n0])[1]
            assert r[p_col] == pytest.approx(p)
            up = k1 / n1 > k0 / n0
            better = up == (ind.better == "higher")
            assert r[sig] == (("tak — poprawa" if better else "tak — pogorszenie") if p < 0.05 else "nie"), r
            checked[r[sig]] += 1
    assert all(n > 0 for n in checked.values()), checked
    cells = column_cells(wb["Wskaźniki z ankiet"], change)
    assert {c.number_format for c in cells if c.value is not None} == {"+0.0;-0.0;0.0"}


def test_no_indicator_figure_from_fewer_than_ten_respondents(wb):
    got = rows(wb["Wskaźniki z ankiet"])
    small = [r for r in got if r["Respondenci"] < 10]
    assert small, "the demo data should have small groups to suppress"
    for r in got:
        figures = (r["Wynik"], r["Przedział ufności 95% — od"], r["Przedział ufności 95% — do"])
        if r["Respondenci"] < 10:
            assert figures == (None, None, None), r
            assert r["Uwagi"] == "mniej niż 10 respondentów"
        elif r["Uwagi"]:  # hidden to protect a small figure elsewhere
            assert figures == (None, None, None), r
        else:
            assert r["Przedział ufności 95% — od"] <= r["Wynik"] <= r["Przedział ufności 95% — do"]
    # and no number hides as text anywhere in the suppressed rows
    for r in small:
        assert not any(isinstance(v, float) for v in r.values()), r


# --------------------------------------------------------------------------- renewals

def test_renewals_are_the_awards_expiring_within_12_months(wb, db):
    as_of = dt.date(2026, 10, 15)
    limit = dt.date(2027, 10, 15)
    ident = "(SELECT COALESCE(i.rspo, i.polon) FROM institutions i WHERE i.id = institution_id)"
    sql = db.execute(f"SELECT {ident}, MAX(valid_until) FROM awards WHERE awarded_on <= ? AND kind != 'leader' "
                     "GROUP BY institution_id", (as_of.isoformat(),)).fetchall()
    leaders = {r[0] for r in db.execute(f"SELECT {ident} FROM awards WHERE kind = 'leader' AND awarded_on <= ?",
                                        (as_of.isoformat(),))}
    due = {i for i, until in sql if as_of < dt.date.fromisoformat(until) <= limit and i not in leaders}
    got = rows(wb["Odnowienia"])
    assert {r["RSPO / POL-on"] for r in got} == due
    for r in got:
        assert r["Dni do wygaśnięcia"] == (r["Ważny do"].date() - as_of).days


# --------------------------------------------------------------------------- county filter

def test_county_filter_keeps_only_that_county(county_wb, db, county_teryt):
    n = db.execute("SELECT COUNT(*) FROM audits a JOIN institutions i ON i.id = a.institution_id "
                   "WHERE a.edition = ? AND i.county = ?", (EDITION, county_teryt)).fetchone()[0]
    decisions = rows(county_wb["Decyzje"])
    assert len(decisions) == n > 0
    for sheet in ("Decyzje", "Punkty za kryteria", "Odnowienia"):
        assert {r["TERYT powiatu"] for r in rows(county_wb[sheet])} <= {county_teryt}, sheet
    ind = rows(county_wb["Wskaźniki z ankiet"])
    assert {r["TERYT powiatu"] for r in ind if r["Poziom"] != "województwo"} == {county_teryt}
    assert {r["Poziom"] for r in ind} == {"województwo", "powiat", "placówka"}  # voivodeship kept to compare
    ids = {r[0] for r in db.execute("SELECT COALESCE(rspo, polon) FROM institutions WHERE county = ?", (county_teryt,))}
    assert {r["RSPO / POL-on"] for r in ind if r["Poziom"] == "placówka"} <= ids
    assert county_name(county_teryt) in county_wb["Decyzje"].cell(1, 1).value
    about = {r[0]: r[1] for r in county_wb["Informacje"].iter_rows(values_only=True) if r[0]}
    assert f"TERYT {county_teryt}" in about["Zakres"]


def test_county_by_name(ref):
    assert xlsx_export.resolve_county("bocheński", ref) == "1201"
    assert xlsx_export.resolve_county("m. Kraków", ref) == "1261"
    assert xlsx_export.resolve_county("Bochnia County", ref) == "1201"
    assert xlsx_export.resolve_county("bochenski", ref) == "1201"  # typed without diacritics
    assert xlsx_export.resolve_county("powiat bocheński", ref) == "1201"
    with pytest.raises(xlsx_export.ExportError, match=r"ambiguous: m\. Nowy Sącz \(1262\) or powiat nowosądecki"):
        xlsx_export.resolve_county("Nowy Sącz", ref)


def test_county_option_by_name_equals_by_teryt(small_db, tmp_path):
    by_name, by_code = tmp_path / "name.xlsx", tmp_path / "code.xlsx"
    assert run("--edition", EDITION, "--county", "bochenski", "--db", str(small_db), "--out", str(by_name)) == 0
    assert run("--edition", "2025-2026", "--county", "1201", "--db", str(small_db), "--out", str(by_code)) == 0
    a, b = load_workbook(by_name), load_workbook(by_code)
    for name in DATA_SHEETS:
        assert rows(a[name]) == rows(b[name]), name
    assert rows(a["Decyzje"]) and {r["TERYT powiatu"] for r in rows(a["Decyzje"])} == {"1201"}


# --------------------------------------------------------------------------- errors

@pytest.mark.parametrize("args, message", [
    (("--edition", EDITION, "--county", "9999"), "unknown county '9999'"),
    (("--edition", "2030/2031"), "unknown edition '2030/2031'"),
    (("--edition", "2020/2021"), "was not held"),
])
def test_bad_county_or_edition_exits_2(small_db, tmp_path, capsys, args, message):
    out = tmp_path / "x.xlsx"
    assert run(*args, "--db", str(small_db), "--out", str(out)) == 2
    err = capsys.readouterr().err
    assert message in err and err.startswith("zpb export: ")
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_cube_of_another_edition_is_refused(small_db, tmp_path, capsys):
    con = store.connect(small_db, readonly=True)
    path = cube.build(con, "2024/2025", tmp_path / "cube.sqlite")
    con.close()
    assert run("--edition", EDITION, "--cube", str(path), "--out", str(tmp_path / "x.xlsx")) == 2
    assert "is for edition 2024/2025" in capsys.readouterr().err


# --------------------------------------------------------------------------- sources, language, files

def test_saved_cube_gives_the_same_workbook(small_db, wb, tmp_path):
    con = store.connect(small_db, readonly=True)
    path = cube.build(con, EDITION, tmp_path / "cube.sqlite")
    con.close()
    out = tmp_path / "from-cube.xlsx"
    assert run("--edition", EDITION, "--cube", str(path), "--out", str(out)) == 0
    other = load_workbook(out)
    for name in DATA_SHEETS:
        assert rows(other[name]) == rows(wb[name]), name


def test_english_workbook(small_db, tmp_path):
    out = tmp_path / "results.xlsx"
    assert run("--edition", EDITION, "--lang", "en", "--db", str(small_db), "--out", str(out)) == 0
    wb = load_workbook(out)
    assert wb.sheetnames == ["Decisions", "Points per criterion", "Survey indicators", "Renewals due", "Institutions",
                             "About"]
    first = rows(wb["Decisions"])[0]
    assert {"Institution", "County", "Decision", "Reasons for the decision", "Share of points"} <= set(first)
    assert first["Decision"] in {"granted", "not granted", "positive", "negative"}
    suppressed = [r for r in rows(wb["Survey indicators"]) if r["Respondents"] < 10]
    assert suppressed and all(r["Notes"] == "fewer than 10 respondents" and r["Result"] is None for r in suppressed)
    assert wb["Decisions"].cell(2, 1).value.startswith("Synthetic data")


def test_write_is_atomic(small_db, tmp_path, monkeypatch, ref):
    out = tmp_path / "keep.xlsx"
    out.write_bytes(b"previous")
    con = store.connect(small_db, readonly=True)
    source = xlsx_export.from_database(con, EDITION, ref=ref)
    con.close()

    def broken(self):  # half of the archive written, then the disk refuses
        self._archive.writestr("half", b"half")
        raise OSError("disk full")

    monkeypatch.setattr("openpyxl.writer.excel.ExcelWriter.write_data", broken)
    with pytest.raises(OSError, match="disk full"):
        xlsx_export.export(source, out, ref=ref)
    assert out.read_bytes() == b"previous" and list(tmp_path.iterdir()) == [out]
    monkeypatch.undo()
    result = xlsx_export.export(source, out, ref=ref)
    assert result.path == out and load_workbook(out).sheetnames[0] == "Decyzje"
    assert list(tmp_path.iterdir()) == [out]


def test_names_are_never_formulas(small_copy, tmp_path, ref):
    con = store.connect(small_copy)
    inst = con.execute("SELECT institution_id FROM audits WHERE edition = ? ORDER BY id LIMIT 1",
                       (EDITION,)).fetchone()[0]
    with transaction(con):
        con.execute("UPDATE institutions SET name = '=HYPERLINK(\"http://x\",\"x\")' WHERE id = ?", (inst,))
    source = xlsx_export.from_database(con, EDITION, ref=ref)
    con.close()
    out = xlsx_export.export(source, tmp_path / "f.xlsx", ref=ref).path
    ws = load_workbook(out)["Decyzje"]
    cells = [c for c in column_cells(ws, "Placówka") if str(c.value).startswith("=")]
    assert cells and all(c.data_type == "s" for c in cells)


def test_default_file_name():
    assert xlsx_export.default_out("2025/2026", None, "pl") == Path("zpb-wyniki-2025-2026.xlsx")
    assert xlsx_export.default_out("2025/2026", "1201", "en") == Path("zpb-results-2025-2026-1201.xlsx")


def test_empty_sheet_keeps_its_header(small_db, tmp_path):
    """An edition without renewals due still has the table header, and says so below it (where the
    rows would be), not above it."""
    con = store.connect(small_db, readonly=True)
    source = xlsx_export.from_database(con, EDITION)
    con.close()
    source.tables["renewals"] = source.tables["renewals"].iloc[0:0]
    wb = load_workbook(xlsx_export.export(source, tmp_path / "e.xlsx").path)
    ws = wb["Odnowienia"]
    assert ws.cell(HEADER_ROW, 1).value == "Placówka" and rows(ws) == []
    assert ws.cell(HEADER_ROW + 1, 1).value == "Brak pozycji do pokazania."
    assert ws.cell(HEADER_ROW + 1, 1).font.italic and ws.max_row == HEADER_ROW + 1
    assert ws.cell(HEADER_ROW - 1, 1).value is None
    assert not math.isnan(ws.column_dimensions["A"].width)


def test_real_data_get_the_provenance_line_instead_of_the_banner(small_copy, tmp_path, ref):
    con = store.connect(small_copy)
    with transaction(con):
        con.execute("UPDATE meta SET value = '0' WHERE key = 'synthetic'")
    source = xlsx_export.from_database(con, EDITION, ref=ref)
    con.close()
    wb = load_workbook(xlsx_export.export(source, tmp_path / "real.xlsx", ref=ref).path)
    line = wb["Decyzje"].cell(2, 1).value
    assert line.startswith("Edycja XIX (2025/2026) · stan na 15.10.2026 · wersja danych ")
    assert source.meta["data_hash"] in line and "arkusz „Informacje”" in line
    texts = [str(v) for row in wb["Informacje"].iter_rows(values_only=True) for v in row if v]
    assert not any("syntetyczne" in t.lower() for t in texts)
    assert wb["Decyzje"].sheet_properties.tabColor is None


# --------------------------------------------------------------------------- identifiers people use

def test_identifier_cells(wb, db):
    """RSPO numbers are number cells without a thousands separator (they match an RSPO export opened
    in Excel); POL-on ids are text; every sheet listing institutions has the register column."""
    for name in DATA_SHEETS:
        header = [c.value for c in wb[name][HEADER_ROW]]
        assert "RSPO / POL-on" in header and "W wykazie RSPO" in header, name
        assert not any("ID placówki" == h for h in header), name
    cells = [c for name in DATA_SHEETS for c in column_cells(wb[name], "RSPO / POL-on") if c.value is not None]
    rspo = {r[0] for r in db.execute("SELECT rspo FROM institutions WHERE rspo IS NOT NULL")}
    polon = {r[0] for r in db.execute("SELECT polon FROM institutions WHERE polon IS NOT NULL")}
    numbers = [c for c in cells if isinstance(c.value, int)]
    texts = [c for c in cells if isinstance(c.value, str)]
    assert numbers and len(numbers) + len(texts) == len(cells)
    assert {c.value for c in numbers} <= rspo and {c.value for c in texts} <= polon
    assert all(c.number_format == "0" for c in numbers) and all(c.number_format == "@" for c in texts)


def test_no_internal_id_and_the_register_column(small_copy, tmp_path, ref):
    """One audited school gets an internal id no RSPO number equals, another is missing from the
    latest RSPO register: the workbook never shows the first's internal id, names it by its RSPO
    number, and says „nie” for the second."""
    inst = renumber(small_copy)
    con = store.connect(small_copy)
    gone = con.execute("SELECT i.rspo FROM audits a JOIN institutions i ON i.id = a.institution_id "
                       "WHERE a.edition = ? AND i.rspo IS NOT NULL AND i.id != ? ORDER BY i.rspo LIMIT 1",
                       (EDITION, inst.id)).fetchone()[0]
    with transaction(con):
        con.execute("UPDATE institutions SET in_register = 0 WHERE rspo = ?", (gone,))
    source = xlsx_export.from_database(con, EDITION, ref=ref)
    con.close()
    wb = load_workbook(xlsx_export.export(source, tmp_path / "ids.xlsx", ref=ref).path)
    text = " ".join(str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row
                    if v is not None)
    assert not shows_number(text, inst.id)
    decisions = rows(wb["Decyzje"])
    mine = [r for r in decisions if r["Placówka"] == inst.name]
    assert mine and all(r["RSPO / POL-on"] == inst.rspo and r["W wykazie RSPO"] == "tak" for r in mine)
    assert {r["W wykazie RSPO"] for r in decisions if r["RSPO / POL-on"] == gone} == {"nie"}
