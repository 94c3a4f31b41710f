"""School complexes (zespoły szkół), end to end from files in the real formats: an RSPO export with
complexes and their schools, a register workbook, an audit protocol, survey exports, then `zpb awards
confirm`, `zpb db check`, `zpb build` and `zpb export`. A complex and the schools taking part with it
are one institution; a school taking part on its own is one of its own; an award of a complex shows
in the reports of the schools it covers. Every expected figure is counted by hand from the rows
written below, never taken from the code under test."""
from __future__ import annotations

import contextlib
import datetime as dt
import io
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from bs4 import BeautifulSoup

from support.register import fill_register
from support.rspo import malopolska_rows, rspo_row, write_rspo_export
from support.audits import criteria_rows, find_row
from support.surveys import answers, write_google_csv
from zpb_lib.domain import complexes
from zpb_lib import store
from zpb_lib.cli import main

EDITION = "2025/2026"
COUNTY = "1202"  # powiat brzeski: every row below is in Brzesko
ZESPOL = "Zespół szkół i placówek oświatowych"
# rspo_support.malopolska_rows: a complex with a technikum, a branżowa szkoła and a preschool (out of scope);
# LO3 joins it here, a liceum taking part on its own without an award of its own.
ZSP1, TECH, BS1, PRESCHOOL, LO3 = 10201, 10202, 10203, 10204, 10205
ZS2, LO2, SP4 = 10210, 10211, 10212   # a complex, a liceum taking part with it, a school taking part on its own
ZSPP = 10220                          # a complex whose schools the export does not list (an older export)
SP2, SP3, SP5 = 10230, 10231, 10240   # schools outside any complex; SP5 names a parent not in the export
NAMES = {ZSP1: "Zespół Szkół Ponadpodstawowych nr 1 w Brzesku",
         TECH: "Technikum nr 1 w Zespole Szkół Ponadpodstawowych nr 1 w Brzesku",
         BS1: "Branżowa Szkoła I Stopnia nr 1 w Brzesku",
         LO3: "III Liceum Ogólnokształcące w Zespole Szkół Ponadpodstawowych nr 1 w Brzesku",
         ZS2: "Zespół Szkół nr 2 im. Jana Pawła II w Brzesku",
         LO2: "II Liceum Ogólnokształcące w Zespole Szkół nr 2 w Brzesku",
         SP4: "Szkoła Podstawowa nr 4 w Zespole Szkół nr 2 w Brzesku",
         ZSPP: "Zespół Szkolno-Przedszkolny nr 1 w Brzesku",
         SP2: "Szkoła Podstawowa nr 2 w Brzesku", SP3: "Szkoła Podstawowa nr 3 w Brzesku",
         SP5: "Szkoła Podstawowa nr 5 w Brzesku"}

# Counted by hand for 2025/2026 (ceremony 15.10.2026):
# participants in the county: ZSP1 with TECH and BS1 (they have no participation of their own), LO3 on its
# own (its own participation since 2025/2026), ZS2 with LO2, SP4 on its own (since 2023/2024), ZSPP (no
# schools in the database), SP2, SP3, SP5 → 8 institutions; taking part: ZSP1, LO3, ZS2, SP4, SP2 → 5;
# valid certificates held: ZSP1 and SP4 (register, 2024/2025, valid until 15.10.2027) and ZS2 (its
# audit of 2025/2026) → 3.
COUNTY_INSTITUTIONS, COUNTY_PARTICIPATING, COUNTY_CERTIFICATES = 8, 5, 3
# The voivodeship: malopolska_rows store 17 schools of types in scope, 16 of them existing in 2025/2026
# (the gimnazjum closed in 2019), and TECH and BS1 count in ZSP1 → 14; the 8 rows added here, LO2
# counting in ZS2 → 7. Together 21, of which 5 take part.
VOIVODESHIP_INSTITUTIONS, VOIVODESHIP_PARTICIPATING = 21, 5
STAGE1 = "etap I (przed pierwszym certyfikatem)"
EXPECTED_STATUS = {ZSP1: "certyfikat", TECH: "certyfikat (zespołu)", BS1: "certyfikat (zespołu)", LO3: STAGE1,
                   ZS2: "certyfikat", LO2: "certyfikat (zespołu)", SP4: "certyfikat", SP2: STAGE1}


def extra_rows() -> list[dict[str, str]]:
    sp, lo = "Szkoła podstawowa", "Liceum ogólnokształcące"
    return [rspo_row(LO3, lo, NAMES[LO3], "brzesko", parent=ZSP1, pupils=310),
            rspo_row(ZS2, ZESPOL, NAMES[ZS2], "brzesko", pupils=None),
            rspo_row(LO2, lo, NAMES[LO2], "brzesko", parent=ZS2, pupils=280),
            rspo_row(SP4, sp, NAMES[SP4], "brzesko", parent=ZS2, pupils=390),
            rspo_row(ZSPP, ZESPOL, NAMES[ZSPP], "brzesko", pupils=None),
            rspo_row(SP2, sp, NAMES[SP2], "brzesko"), rspo_row(SP3, sp, NAMES[SP3], "brzesko"),
            rspo_row(SP5, sp, NAMES[SP5], "brzesko", parent=99999)]


@dataclass
class World:
    root: Path
    db: Path
    reports: Path
    audit_points: int
    surveys: dict[int, list[dict]]  # RSPO -> follow-up students' answers
    outputs: dict[str, str]


def run(argv: list[str], expect: int = 0) -> str:
    """`zpb` as a person runs it; what it printed (stdout and stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    assert code == expect, (argv, out.getvalue(), err.getvalue())
    return out.getvalue() + err.getvalue()


def problems(output: str) -> list[str]:
    """The problem lines of `zpb db check` (not its notes, nor its summary line naming the database)."""
    return [line for line in output.splitlines() if not line.startswith("note: ") and " problem(s)" not in line]


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> World:
    from zpb_lib.reference import reference

    ref = reference()
    root = tmp_path_factory.mktemp("complexes")
    db, reports = root / "zpb.sqlite", root / "reports"
    outputs: dict[str, str] = {}
    run(["init", "--db", str(db)])
    write_rspo_export(root / "wyniki-rspo.csv", malopolska_rows() + extra_rows())
    outputs["rspo"] = run(["ingest", "institutions", str(root / "wyniki-rspo.csv"), "--db", str(db)])
    participation = [(ZSP1, NAMES[ZSP1], "2024/2025", None), (LO3, NAMES[LO3], EDITION, None),
                     (ZS2, NAMES[ZS2], EDITION, None),
                     (SP4, NAMES[SP4], "2023/2024", None), (SP2, NAMES[SP2], EDITION, None)]
    awards = [(ZSP1, NAMES[ZSP1], "2024/2025", "certyfikat", dt.date(2025, 10, 15)),
              (SP4, NAMES[SP4], "2024/2025", "certyfikat", dt.date(2025, 10, 15))]
    fill_register(root / "rejestr.xlsx", participation=participation, awards=awards)
    run(["ingest", "register", str(root / "rejestr.xlsx"), "--db", str(db)])

    # The complex ZS2 is audited for its certificate (for itself and LO2).
    protocol = root / f"protokol-{ZS2}.xlsx"
    run(["template", "audit", "--institution", str(ZS2), "--edition", EDITION, "--kind", "certification",
         "--out", str(protocol), "--db", str(db)])
    wb = openpyxl.load_workbook(protocol)
    ws = wb["Protokół audytu"]
    ws.cell(find_row(ws, 1, "Data audytu"), 4).value = dt.date(2026, 5, 20)
    total = 0
    for i, (_, r) in enumerate(criteria_rows(ws).items()):
        points = ws.cell(r, 5).value - (1 if i % 5 == 0 else 0)
        ws.cell(r, 6).value = points
        total += points
    wb.save(protocol)
    run(["ingest", "audit", str(protocol), "--db", str(db)])

    # Students of the complex and of its liceum answer the follow-up survey (Google Forms).
    surveys = {ZS2: answers(ref, "students", 30, seed=41), LO2: answers(ref, "students", 25, seed=42)}
    for rspo, rows in surveys.items():
        path = write_google_csv(root / f"uczniowie-{rspo}.csv", ref, "students", rows)
        outputs[f"survey-{rspo}"] = run(["ingest", "survey", str(path), "--institution", str(rspo), "--edition",
                                         EDITION, "--group", "students", "--wave", "follow-up", "--db", str(db)])
    outputs["confirm"] = run(["awards", "confirm", "--edition", EDITION, "--db", str(db)])
    outputs["check"] = run(["db", "check", "--db", str(db)])
    common = ["--edition", EDITION, "--format", "html", "--jobs", "2", "--quiet", "--out", str(reports),
              "--db", str(db)]
    run(["build", "--county", COUNTY, *common])
    run(["build", "--only", "voivodeship", *common])
    run(["build", "--institution", str(ZSPP), *common])  # not taking part: built on request only
    return World(root, db, reports / "2025-2026", total, surveys, outputs)


def page(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def text_of(path: Path) -> str:
    return " ".join(page(path).get_text(" ", strip=True).replace("\u00a0", " ").split())


def school_page(world: World, rspo: int) -> Path:
    found = list(world.reports.glob(f"placowka-{rspo}-*.html"))
    assert len(found) == 1, (rspo, found)
    return found[0]


def tiles(path: Path) -> dict[str, str]:
    doc = page(path)
    return {t.get_text(strip=True): v.get_text(strip=True).replace("\u00a0", "")
            for t, v in zip(doc.select("dt.zpb-tile-label"), doc.select("dd.zpb-tile-value"))}


def table_with_caption(path: Path, caption: str) -> list[list[str]]:
    for t in page(path).select("table"):
        cap = t.find("caption")
        if cap is not None and cap.get_text(" ", strip=True).startswith(caption):
            return [[" ".join(c.get_text(" ", strip=True).split()) for c in tr.find_all(["th", "td"])]
                    for tr in t.find("tbody").find_all("tr")]
    raise AssertionError(f"no table captioned {caption!r} in {path.name}")


# --------------------------------------------------------------------------- the data

def test_the_export_stores_each_school_with_its_complex(world):
    con = sqlite3.connect(world.db)
    stored = dict(con.execute("SELECT rspo, parent_rspo FROM institutions WHERE county = ?", (COUNTY,)).fetchall())
    con.close()
    assert PRESCHOOL not in stored  # preschools are out of scope
    assert stored == {ZSP1: None, TECH: ZSP1, BS1: ZSP1, LO3: ZSP1, ZS2: None, LO2: ZS2, SP4: ZS2, ZSPP: None,
                      SP2: None, SP3: None, SP5: 99999}


def test_the_database_is_clean_and_a_member_answers_as_its_complex(world):
    """A survey of a school taking part with its complex is accepted and is no contradiction."""
    assert problems(world.outputs["check"]) == [] and "0 problem(s)" in world.outputs["check"]
    assert (f"the school takes part with its complex RSPO {ZS2} „{NAMES[ZS2]}”: its answers count in the complex's "
            "survey figures") in world.outputs[f"survey-{LO2}"]
    assert "complex" not in world.outputs[f"survey-{ZS2}"]


def test_an_audit_of_a_school_taking_part_with_its_complex_is_refused_with_the_complex_named(world, tmp_path):
    out = run(["template", "audit", "--institution", str(TECH), "--edition", EDITION, "--out",
               str(tmp_path / "x.xlsx"), "--db", str(world.db)], expect=2)
    assert f"its complex RSPO {ZSP1}" in out and NAMES[ZSP1] in out
    assert not (tmp_path / "x.xlsx").exists()


def test_units_of_the_edition(world):
    """Who is one participant, read from the database by zpb_lib.domain.complexes."""
    con = store.connect(world.db, readonly=True)
    inst, part = store.load(con, "institutions"), store.load(con, "participation")
    con.close()
    u = complexes.units(inst, part, EDITION)
    by_rspo = u.set_index(inst.set_index("id").loc[u.index, "rspo"].astype(int).to_numpy())
    ids = dict(zip(inst["rspo"].astype(int), inst["id"].astype(int)))
    assert set(by_rspo.index[by_rspo["represented"]]) == {TECH, BS1, LO2}
    assert set(by_rspo.index[by_rspo["on_own"]]) == {SP4, LO3}
    for member in (TECH, BS1):
        assert by_rspo.at[member, "unit_id"] == ids[ZSP1]
    assert by_rspo.at[LO2, "unit_id"] == ids[ZS2] and by_rspo.at[SP4, "unit_id"] == ids[SP4]
    assert pd.isna(by_rspo.at[SP5, "complex_id"])  # its parent is not in the database
    assert (by_rspo.at[ZSP1, "members"], by_rspo.at[ZS2, "members"], by_rspo.at[ZSPP, "members"]) == (3, 2, 0)
    assert sum(bool(by_rspo.at[r, "counted"]) for r in NAMES) == COUNTY_INSTITUTIONS  # every row here is in 1202


# --------------------------------------------------------------------------- the reports

def test_county_figures_count_a_complex_once(world):
    got = tiles(next(world.reports.glob(f"powiat-{COUNTY}-*.html")))
    assert got["Placówki"] == str(COUNTY_INSTITUTIONS)
    assert got["Uczestniczą w programie"] == str(COUNTY_PARTICIPATING)
    share = f"{100 * COUNTY_PARTICIPATING / COUNTY_INSTITUTIONS:.1f}".replace(".", ",") + "%"
    assert got["Odsetek uczestniczących"] == share  # 62,5%, not 5 of the 11 rows stored
    assert got["Ważne certyfikaty"] == str(COUNTY_CERTIFICATES)
    assert got["Audyty w tej edycji"] == "1" and got["Przyznane wyróżnienia"] == "1"


def test_county_list_puts_the_schools_of_a_complex_under_it(world):
    path = next(world.reports.glob(f"powiat-{COUNTY}-*.html"))
    rows = table_with_caption(path, "Placówki uczestniczące w tej edycji")
    idents = [int(r[1]) for r in rows]
    assert sorted(idents) == sorted(EXPECTED_STATUS)  # ZSPP, SP3 and SP5 do not take part
    for complex_, members in ((ZSP1, (TECH, BS1)), (ZS2, (LO2,))):
        at = idents.index(complex_)
        assert set(idents[at + 1:at + 1 + len(members)]) == set(members), idents
        for m in members:
            assert rows[idents.index(m)][0] == f"{NAMES[m]} — w zespole {complex_}"
    for r in rows:
        assert r[4] == EXPECTED_STATUS[int(r[1])], r
    for own in (SP4, LO3):  # on its own: its own line and its own status
        assert rows[idents.index(own)][0] == NAMES[own]
    assert "jako jedna placówka" in text_of(path)


def test_county_renewals_name_the_schools_a_complex_certificate_covers(world):
    """ZSP1's and SP4's certificates (valid until 15.10.2027) are due within 12 months of the ceremony."""
    path = next(world.reports.glob(f"powiat-{COUNTY}-*.html"))
    rows = table_with_caption(path, "Certyfikaty i przedłużenia wygasające")
    assert {int(r[1]): r[0] for r in rows} == {
        ZSP1: f"{NAMES[ZSP1]} — obejmuje: {NAMES[BS1]} (RSPO {BS1}), {NAMES[TECH]} (RSPO {TECH})", SP4: NAMES[SP4]}
    assert "odnawia go zespół" in text_of(path)


def test_member_report_shows_the_complex_award(world):
    text = text_of(school_page(world, TECH))
    assert (f"Ta szkoła należy do zespołu „{NAMES[ZSP1]}” (RSPO {ZSP1}) i uczestniczy w programie razem z nim"
            in text)
    assert f"w zespole: {NAMES[ZSP1]} (RSPO {ZSP1})" in text  # the subtitle
    assert "Status certyfikat (zespołu)" in text and "Ważny do 15.10.2027" in text
    awards = table_with_caption(school_page(world, TECH), "Przyznane wyróżnienia")
    assert awards == [["zespół", "2024/2025", "certyfikat „Szkoła Promująca Bezpieczeństwo”", "15.10.2025",
                       "15.10.2027"]]


def test_member_report_shows_the_complex_audit_and_pooled_survey(world):
    path = school_page(world, LO2)
    text = text_of(path)
    assert "Status certyfikat (zespołu)" in text
    assert f"{world.audit_points} / 35" in text  # the complex's audit
    assert "łączą odpowiedzi ze wszystkich jego szkół" in text
    # Students feeling safe at school (answers 4–5) among everyone who answered in ZS2 and LO2.
    answered = [r["safe_school"] for rows in world.surveys.values() for r in rows if r["safe_school"] is not None]
    share = f"{100 * sum(v in (4, 5) for v in answered) / len(answered):.1f}".replace(".", ",") + "%"
    heading = next(h for h in page(path).select("h3") if h.get_text(strip=True) == "Uczniowie")
    row = next(tr for tr in heading.find_next("table").select("tr")
               if tr.get_text().startswith("Czuje się bezpiecznie w szkole"))
    cells = [c.get_text(" ", strip=True).replace("\u00a0", " ") for c in row.select("td, th")]
    assert cells[1] == str(len(answered)) and cells[2] == share, cells
    # The complex's own report shows the same pooled figure.
    assert share in text_of(school_page(world, ZS2))


def test_school_on_its_own_keeps_its_own_status(world):
    text = text_of(school_page(world, SP4))
    assert (f"Ta szkoła należy do zespołu „{NAMES[ZS2]}” (RSPO {ZS2}), ale uczestniczy w programie samodzielnie"
            in text)
    assert "Status certyfikat W programie od 2023/2024" in text
    assert "(zespołu)" not in text
    # Without an award of its own it does not borrow its complex's: it is a participant of its own.
    text = text_of(school_page(world, LO3))
    assert f"Ta szkoła należy do zespołu „{NAMES[ZSP1]}” (RSPO {ZSP1}), ale uczestniczy w programie samodzielnie" in text
    assert f"Status {STAGE1} W programie od {EDITION}" in text and "(zespołu)" not in text


def test_complex_report_lists_its_schools(world):
    rows = table_with_caption(school_page(world, ZS2), "Szkoły zespołu")
    assert [r[:2] + r[3:] for r in rows] == [
        [NAMES[LO2], str(LO2), "razem z zespołem", "certyfikat (zespołu)"],
        [NAMES[SP4], str(SP4), "samodzielnie", "certyfikat"]]
    rows = table_with_caption(school_page(world, ZSP1), "Szkoły zespołu")  # by name; the preschool is not stored
    assert [r[:2] + r[3:] for r in rows] == [
        [NAMES[BS1], str(BS1), "razem z zespołem", "certyfikat (zespołu)"],
        [NAMES[LO3], str(LO3), "samodzielnie", STAGE1],
        [NAMES[TECH], str(TECH), "razem z zespołem", "certyfikat (zespołu)"]]
    assert "uczestniczy w programie jako jedna placówka" in text_of(school_page(world, ZS2))


def test_complex_without_schools_in_the_database_still_has_its_report(world):
    text = text_of(school_page(world, ZSPP))
    assert "W bazie danych nie ma szkół tego zespołu" in text
    assert "Status nie uczestniczy" in text


def test_only_schools_taking_part_get_reports(world):
    built = {int(p.name.split("-")[1]) for p in world.reports.glob("placowka-*.html")}
    assert built == set(EXPECTED_STATUS) | {ZSPP}


def test_voivodeship_totals_and_ceremony_list(world):
    path = world.reports / "wojewodztwo.html"
    got = tiles(path)
    assert got["Placówki"] == str(VOIVODESHIP_INSTITUTIONS)
    assert got["Uczestniczą w programie"] == str(VOIVODESHIP_PARTICIPATING)
    rows = table_with_caption(path, "Lista wyróżnień do wręczenia")
    assert [r[2] for r in rows] == [str(ZS2)]  # one certificate, handed to the complex
    assert rows[0][1] == f"{NAMES[ZS2]} — obejmuje: {NAMES[LO2]} (RSPO {LO2})"  # SP4 takes part on its own
    assert "wręcza się je raz, zespołowi" in text_of(path)


# --------------------------------------------------------------------------- export, explorer, check

def sheet_rows(ws) -> list[dict]:
    header = [c.value for c in ws[4]]
    return [dict(zip(header, r)) for r in ws.iter_rows(min_row=5, values_only=True) if any(v is not None for v in r)]


def test_excel_export_lists_institutions_with_their_complex(world):
    out = world.root / "wyniki.xlsx"
    run(["export", "--edition", EDITION, "--county", COUNTY, "--out", str(out), "--db", str(world.db)])
    wb = openpyxl.load_workbook(out)
    rows = {r["RSPO / POL-on"]: r for r in sheet_rows(wb["Placówki"])}
    assert set(rows) == set(NAMES)
    assert sum(r["Liczona jako placówka"] == "tak" for r in rows.values()) == COUNTY_INSTITUTIONS
    assert {k for k, r in rows.items() if r["Liczona jako placówka"] == "nie"} == {TECH, BS1, LO2}
    assert {k: rows[k]["Zespół szkół"] for k in (TECH, BS1, LO3, LO2, SP4, SP5)} == {
        TECH: ZSP1, BS1: ZSP1, LO3: ZSP1, LO2: ZS2, SP4: ZS2, SP5: None}
    assert (rows[LO2]["Udział w programie"], rows[SP4]["Udział w programie"], rows[SP3]["Udział w programie"]) == (
        "razem z zespołem", "samodzielnie", "nie")
    assert rows[TECH]["Status"] == "certyfikat (zespołu)" and rows[SP4]["Status"] == "certyfikat"
    decisions = sheet_rows(wb["Decyzje"])
    assert [(d["RSPO / POL-on"], d["Szkoły zespołu uczestniczące razem z nim"]) for d in decisions] == [
        (ZS2, f"{NAMES[LO2]} (RSPO {LO2})")]
    # Certificates valid until 15.10.2027, within 12 months of the ceremony: ZSP1's covers its two schools.
    renewals = {r["RSPO / POL-on"]: r["Szkoły zespołu uczestniczące razem z nim"] for r in sheet_rows(wb["Odnowienia"])}
    assert renewals == {ZSP1: f"{NAMES[BS1]} (RSPO {BS1}); {NAMES[TECH]} (RSPO {TECH})", SP4: None}


def test_explorer_counts_as_the_reports(world):
    from zpb_lib.domain.edition_data import EditionData, Selection, load_cube
    from zpb_lib.reference import reference

    con = store.connect(world.db, readonly=True)
    d = EditionData(load_cube(con, EDITION, reference(), synthetic=False), reference())
    con.close()
    fig = d.key_figures(Selection(EDITION, county=COUNTY))
    assert (fig["institutions"], fig["participating"], fig["valid_awards"]) == (
        COUNTY_INSTITUTIONS, COUNTY_PARTICIPATING, COUNTY_CERTIFICATES)
    rows = d.rows(Selection(EDITION, county=COUNTY)).set_index("ident")
    assert {int(i) for i in rows.index} == set(EXPECTED_STATUS)
    assert bool(rows.at[str(TECH), "via_complex"]) and rows.at[str(TECH), "status"] == "certified"


@pytest.fixture
def doubled(world, tmp_path) -> Path:
    """The world with a certificate of 2024/2025 also recorded for TECH, whose complex holds one."""
    db = tmp_path / "zpb.sqlite"
    shutil.copy(world.db, db)
    fill_register(tmp_path / "nagroda.xlsx", awards=[(TECH, NAMES[TECH], "2024/2025", "certyfikat",
                                                      dt.date(2025, 10, 15))])
    run(["ingest", "register", str(tmp_path / "nagroda.xlsx"), "--db", str(db)])
    return db


def test_check_names_an_award_held_by_a_complex_and_its_school(doubled):
    lines = problems(run(["db", "check", "--db", str(doubled)], expect=1))
    dup = [line for line in lines if "holds the same award" in line]
    assert dup == [f"awards RSPO {TECH} certificate 2024/2025: its complex RSPO {ZSP1} („{NAMES[ZSP1]}”) holds the "
                   f"same award (RSPO {ZSP1} certificate 2024/2025): a certificate goes to a school or to its complex "
                   "as a whole, not to both; remove the one given in error (register sheet „Nagrody”, or "
                   "`zpb imports undo`)"]


def test_postgresql_gives_the_same_check_and_counts(world, doubled, pg):
    """The same rule on PostgreSQL: `zpb db check`'s SQL and the cube's counts."""
    from conftest import pg_database
    from zpb_lib.domain import cube

    url = pg_database(pg)
    run(["db", "copy", str(doubled), url])
    on_pg = problems(run(["db", "check", "--db", url], expect=1))
    assert on_pg == problems(run(["db", "check", "--db", str(doubled)], expect=1))
    assert any("holds the same award" in line for line in on_pg)
    summaries = []
    for db in (str(doubled), url):
        con = store.connect(db, readonly=True)
        try:
            summaries.append(cube.compute(con, EDITION)["county_summary"].set_index("county"))
        finally:
            con.close()
    pd.testing.assert_frame_equal(*summaries)
    assert summaries[1].at[COUNTY, "institutions"] == COUNTY_INSTITUTIONS
    # A survey of a school taking part with its complex is taken there too, and an audit refused.
    from zpb_lib.reference import reference

    ref = reference()
    path = write_google_csv(world.root / "uczniowie-tech.csv", ref, "students", answers(ref, "students", 12, seed=43))
    out = run(["ingest", "survey", str(path), "--institution", str(TECH), "--edition", EDITION, "--group", "students",
               "--wave", "baseline", "--db", url])
    assert f"takes part with its complex RSPO {ZSP1}" in out
    out = run(["template", "audit", "--institution", str(TECH), "--edition", EDITION, "--out",
               str(world.root / "tech.xlsx"), "--db", url], expect=2)
    assert f"its complex RSPO {ZSP1}" in out
