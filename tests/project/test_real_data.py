"""What a new user does with real records, end to end, through the `zpb` command: `zpb init`, the RSPO
export (UTF-8 with BOM, then a newer one re-saved in Windows-1250), a list of universities, the
register workbook, a published list of awarded schools matched and reviewed, audit protocols,
Google and Microsoft Forms exports, `zpb awards confirm`, `zpb db check` and `zpb build`. Every
figure the reports show is checked against what this test wrote into the input files."""
from __future__ import annotations

import datetime as dt
import random
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest
from bs4 import BeautifulSoup

from zpb_lib.cli import main
from support.rspo import malopolska_rows, rspo_row, universities, write_rspo_export, write_university_list
from support.register import fill_register
from support.audits import criteria_rows, find_row
from support.surveys import answers, write_google_csv, write_msforms_xlsx

EDITION, LIST_EDITION = "2025/2026", "2024/2025"
CEREMONY = dt.date(2026, 10, 15)        # data/editions.yaml: default ceremony of 2025/2026
LIST_CEREMONY = dt.date(2025, 10, 15)   # and of 2024/2025
# Places of rspo_support.PLACES (Małopolska), their county and the locative the names use.
PLACES = {"bochnia": ("1201", "Bochni"), "wisnicz": ("1201", "Nowym Wiśniczu"), "brzesko": ("1202", "Brzesku"),
          "skawina": ("1206", "Skawinie"), "olkusz": ("1212", "Olkuszu"), "tuchow": ("1216", "Tuchowie"),
          "zakopane": ("1217", "Zakopanem"), "krakow": ("1261", "Krakowie"), "nowy_sacz": ("1262", "Nowym Sączu"),
          "tarnow": ("1263", "Tarnowie")}
# rspo_support.malopolska_rows: a complex in Brzesko with a technikum and a branżowa szkoła (and a
# preschool, out of the programme's scope).
COMPLEX, COMPLEX_NAME, MEMBERS, PRESCHOOL = 10201, "Zespół Szkół Ponadpodstawowych nr 1 w Brzesku", (10202, 10203), 10204
PLACES_ITEM = "dangerous_places"  # the question every questionnaire asks (data/questionnaires/)
# Primary schools rspo_support.malopolska_rows already has: a town has one „nr 1”.
TAKEN = {("bochnia", 1), ("skawina", 3), ("olkusz", 2)}
PATRONS = ["im. Adama Mickiewicza", "im. Marii Konopnickiej", "im. Jana Pawła II", "im. Tadeusza Kościuszki", ""]


@dataclass
class School:
    rspo: int
    name: str
    place: str
    county: str
    locative: str
    number: int
    kind: str  # sp | lo


def schools() -> list[School]:
    """Primary schools nr 1–8 and 12 and a liceum in each of ten places: 97 Małopolska schools
    besides rspo_support's, with „nr 2” and „nr 12” side by side in almost every place."""
    out = []
    rspo = 300_000
    for place, (county, loc) in PLACES.items():
        for n in (1, 2, 3, 4, 5, 6, 7, 8, 12):
            if (place, n) in TAKEN:
                continue
            patron = PATRONS[(n + len(place)) % len(PATRONS)]
            name = f"Szkoła Podstawowa nr {n}{' ' + patron if patron else ''} w {loc}"
            rspo += 7
            out.append(School(rspo, name, place, county, loc, n, "sp"))
        rspo += 7
        out.append(School(rspo, f"II Liceum Ogólnokształcące w {loc}", place, county, loc, 2, "lo"))
    return out


def rspo_rows(all_schools: list[School]) -> list[dict]:
    rows = malopolska_rows()
    for s in all_schools:
        typ = "Szkoła podstawowa" if s.kind == "sp" else "Liceum ogólnokształcące"
        rows.append(rspo_row(s.rspo, typ, s.name, s.place, pupils=200 + s.rspo % 300))
    return rows


# --------------------------------------------------------------------------- the scenario

@dataclass
class World:
    root: Path
    db: Path
    reports: Path
    schools: dict[int, School]
    listed: list[School]          # certified in 2024/2025 by the published list
    newcomers: list[School]       # joined 2025/2026, certification audits
    failing: School               # its certification audit fails
    reaudited: School             # listed, re-audited in 2025/2026 for the extension
    lapsed: School                # certificate of 2022/2023 from the register, lapsed by now
    gone: School                  # took part 2022/2023–2023/2024 only
    renamed: School               # renamed in the newer RSPO export
    missing: School               # absent from the newer RSPO export
    audit_points: dict[int, int]  # RSPO -> total points written into its protocol
    surveyed: School
    follow_up_students: list[dict]
    follow_up_parents: list[dict]
    match_rows: list[tuple]       # (line, institution cell) of the matched workbook
    truth: list[int]              # RSPO number each list line names
    outputs: dict[str, str]
    controlled: School            # listed, its certificate confirmed by a control audit in 2025/2026
    removed_import: int           # the register import that removed the lapsed school's award
    forms: dict[str, object]      # the Forms export with contradictory answers and a teacher's column
    refused: dict[str, str]       # what refused commands said (stderr)


def published_line(i: int, s: School, rnd: random.Random) -> str:
    """A line as the police write it: numbered, locality in the locative, abbreviations, patrons
    added or dropped, now and then a trailing comma or a typo."""
    kind = rnd.choice(["Szkoła Podstawowa", "SP", "Publiczna Szkoła Podstawowa"]) if s.kind == "sp" else \
        rnd.choice(["II Liceum Ogólnokształcące", "II LO"])
    number = f" nr {s.number}" if s.kind == "sp" else ""
    patron = rnd.choice(["", " im. Jana Pawła II", " im. Adama Mickiewicza"]) if rnd.random() < 0.4 else ""
    if "im." in s.name and rnd.random() < 0.5:
        patron = " " + s.name.split(" w ")[0].split(f"nr {s.number} ", 1)[-1]
    loc = s.locative
    if i % 7 == 3:  # a typo in the locality
        loc = loc[:-2] + loc[-1] + loc[-2]
    return f"{i}. {kind}{number}{patron} w {loc}{',' if i % 2 else ''}"


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> World:
    root = tmp_path_factory.mktemp("real")
    db, reports = root / "zpb.sqlite", root / "reports"
    all_schools = schools()
    by_rspo = {s.rspo: s for s in all_schools}
    rnd = random.Random(12)
    cap = _Capture()
    outputs: dict[str, str] = {}

    # 1. an empty database, schools from the RSPO export, universities from their list
    outputs["init"] = cap.run(["init", "--db", str(db)])
    rows = rspo_rows(all_schools)
    write_rspo_export(root / "wyniki-rspo.csv", rows, encoding="utf-8-sig")
    outputs["rspo"] = cap.run(["ingest", "institutions", str(root / "wyniki-rspo.csv"), "--db", str(db)])
    write_university_list(root / "uczelnie.xlsx", universities(), xlsx=True)
    outputs["universities"] = cap.run(["ingest", "institutions", str(root / "uczelnie.xlsx"), "--db", str(db)])
    # A newer export, re-saved by Excel (Windows-1250): one school renamed, one gone.
    renamed, missing = all_schools[3], all_schools[40]
    newer = [dict(r) for r in rows if r["Numer RSPO"] != str(missing.rspo)]
    for r in newer:
        if r["Numer RSPO"] == str(renamed.rspo):
            r["Nazwa"] = renamed.name.replace("Szkoła Podstawowa", "Publiczna Szkoła Podstawowa")
    write_rspo_export(root / "wyniki-rspo-2.csv", newer, encoding="cp1250")
    outputs["rspo2"] = cap.run(["ingest", "institutions", str(root / "wyniki-rspo-2.csv"), "--db", str(db)])
    renamed.name = renamed.name.replace("Szkoła Podstawowa", "Publiczna Szkoła Podstawowa")

    # 2. the register: who takes part since when, older awards, an action plan, partners
    sp = [s for s in all_schools if s.kind == "sp" and s is not missing]
    listed = [s for s in sp if s.number in (2, 12)][:10] + [s for s in sp if s.number in (1, 4, 6)][:12] + \
        [s for s in all_schools if s.kind == "lo"][:2]
    rest = [s for s in sp if s not in listed and s is not renamed]
    newcomers, lapsed, gone = rest[:4], rest[4], rest[5]
    failing, reaudited = newcomers[3], listed[0]
    participation = [(s.rspo, s.name, "2022/2023", None) for s in listed + [lapsed]]
    participation += [(s.rspo, s.name, "2025-2026", None) for s in newcomers]      # spelled as people do
    participation += [(gone.rspo, gone.name, "XVI", "2023/2024")]                   # edition XVI = 2022/2023
    agh = universities()[0]
    participation.append((agh["POL-on"], agh["Nazwa"], "2022/2023", None))
    # A school complex of rspo_support (RSPO 10201, with a technikum and a branżowa szkoła): its schools
    # have no participation of their own, so they take part with it.
    participation.append((COMPLEX, COMPLEX_NAME, "2022/2023", None))
    awards = [(lapsed.rspo, lapsed.name, "2022/2023", "certyfikat", dt.date(2023, 10, 15)),
              (agh["POL-on"], agh["Nazwa"], "2023/2024", "uczelnia", dt.date(2024, 10, 15)),
              (COMPLEX, COMPLEX_NAME, LIST_EDITION, "certyfikat", LIST_CEREMONY),
              # a row typed into the wrong line: the school that left after two years as Lider Projektu
              (gone.rspo, gone.name, "2023/2024", "Lider Projektu", dt.date(2024, 10, 15))]
    partners = [("Komenda Powiatowa Policji w Bochni", "policja", "bocheński"),
                ("Straż Miejska w Bochni", "straż miejska", "1201")]
    n1 = newcomers[0]
    actions = [(n1.rspo, n1.name, EDITION, "przemoc szkolna", "profilaktyczne", "Warsztaty o cyberprzemocy",
                "Komenda Powiatowa Policji w Bochni", dt.date(2026, 3, 31), "wykonane"),
               (n1.rspo, n1.name, EDITION, "miejsca niebezpieczne", "infrastrukturalne",
                "Doświetlenie przejścia dla pieszych", "Straż Miejska w Bochni", dt.date(2026, 5, 31), "w trakcie")]
    fill_register(root / "rejestr.xlsx", participation=participation, awards=awards, actions=actions,
                  partners=partners)
    outputs["register_dry"] = cap.run(["ingest", "register", str(root / "rejestr.xlsx"), "--dry-run", "--db", str(db)])
    outputs["register"] = cap.run(["ingest", "register", str(root / "rejestr.xlsx"), "--db", str(db)])

    # 3. the published list of 2024/2025's certificates, matched, reviewed and imported
    lines = [published_line(i, s, rnd) for i, s in enumerate(listed, start=1)]
    (root / "lista.txt").write_text("Certyfikaty „Szkoła Promująca Bezpieczeństwo” – XVIII edycja\n\n"
                                    + "\n".join(lines) + "\n", encoding="utf-8")
    outputs["match"] = cap.run(["match", str(root / "lista.txt"), "--edition", LIST_EDITION, "--kind", "certyfikat",
                                "--out", str(root / "lista-dopasowanie.xlsx"), "--db", str(db)])
    wb = openpyxl.load_workbook(root / "lista-dopasowanie.xlsx")
    ws = wb["Nagrody"]
    header = [c.value for c in ws[1]]
    col_inst, col_line = header.index("Placówka (RSPO / POL-on)") + 1, header.index("Linia z listy") + 1
    match_rows = [(ws.cell(r, col_line).value, ws.cell(r, col_inst).value) for r in range(2, ws.max_row + 1)]
    for r, s in zip(range(2, ws.max_row + 1), listed):  # the reviewer puts right what the matcher got wrong
        if ws.cell(r, col_inst).value != s.rspo:
            ws.cell(r, col_inst).value = s.rspo
    wb.save(root / "lista-sprawdzona.xlsx")
    outputs["list"] = cap.run(["ingest", "register", str(root / "lista-sprawdzona.xlsx"), "--db", str(db)])

    # 3b. the wrong register row removed with „Usuń” (a later import, so undoing the register import
    # is no way), the removal undone, and the row removed again: the way to correct one row
    wrong = "SELECT w.id, w.kind, w.edition, w.awarded_on, w.valid_until, w.import_id FROM awards w " \
            "JOIN institutions i ON i.id = w.institution_id WHERE i.rspo = ?"
    outputs["wrong_row"] = repr(q_db(db, wrong, gone.rspo))
    fill_register(root / "usun.xlsx", awards=[(gone.rspo, gone.name, "2023/2024", "Lider Projektu",
                                               dt.date(2024, 10, 15), "x")])
    outputs["remove"] = cap.run(["ingest", "register", str(root / "usun.xlsx"), "--db", str(db)])
    outputs["removed_row"] = repr(q_db(db, wrong, gone.rspo))
    removal = int(q_db(db, "SELECT MAX(id) FROM imports")[0][0])
    outputs["undo_removal"] = cap.run(["imports", "undo", str(removal), "--db", str(db)])
    outputs["after_undo"] = repr(q_db(db, wrong, gone.rspo))
    fill_register(root / "usun-2.xlsx", awards=[(gone.rspo, gone.name, "XVII", "lider", dt.date(2024, 10, 15),
                                                 "tak")])  # the edition and kind as people write them
    outputs["remove_again"] = cap.run(["ingest", "register", str(root / "usun-2.xlsx"), "--db", str(db)])
    removed_import = int(q_db(db, "SELECT MAX(id) FROM imports")[0][0])

    # 4. audit protocols of 2025/2026; a listed school's certificate checked by a control audit
    controlled = listed[1]
    audit_points: dict[int, int] = {}
    for s, kind, low in [(n, "certification", n is failing) for n in newcomers] + [(reaudited, "reaudit", False),
                                                                                   (controlled, "control", False)]:
        out = root / f"protokol-{s.rspo}.xlsx"
        cap.run(["template", "audit", "--institution", str(s.rspo), "--edition", EDITION, "--kind", kind,
                 "--out", str(out), "--db", str(db)])
        wb = openpyxl.load_workbook(out)
        ws = wb["Protokół audytu"]
        ws.cell(find_row(ws, 1, "Data audytu"), 4).value = dt.date(2026, 5, 18)
        total = 0
        for i, (cid, r) in enumerate(criteria_rows(ws).items()):
            mx = ws.cell(r, 5).value
            p = (mx if ws.cell(r, 7).value == "tak" else 0) if low else mx - (1 if i % 4 == 0 else 0)
            ws.cell(r, 6).value = p
            total += p
        wb.save(out)
        audit_points[s.rspo] = total
        outputs[f"audit-{s.rspo}"] = cap.run(["ingest", "audit", str(out), "--db", str(db)])

    # 5. surveys of the first newcomer: students before and after (Google Forms), parents after (Microsoft Forms)
    from zpb_lib.reference import reference

    ref = reference()
    base = answers(ref, "students", 34, seed=31)
    follow = answers(ref, "students", 41, seed=32, empty_share=0.08)
    parents = answers(ref, "parents", 23, seed=33)
    for rows_, name, group, wave, writer in (
            (base, "uczniowie-diagnoza.csv", "students", "baseline", write_google_csv),
            (follow, "uczniowie-ewaluacja.csv", "students", "follow-up", write_google_csv),
            (parents, "rodzice-ewaluacja.xlsx", "parents", "follow-up", write_msforms_xlsx)):
        path = writer(root / name, ref, group, rows_) if writer is write_google_csv else \
            writer(root / name, ref, group, rows_, lang="pl", extra={"Czas ostatniej modyfikacji": "2026-05-02"})
        cap.run(["ingest", "survey", str(path), "--institution", str(n1.rspo), "--edition", EDITION,
                 "--group", group, "--wave", wave, "--db", str(db)])

    # 5b. teachers' follow-up answers of the same school from a form a teacher edited: a column „Klasa”
    # added, and answers ticking „Nigdzie” together with a place (a checkbox cannot be exclusive)
    teachers = answers(ref, "teachers", 15, seed=34)
    contradictory = [i for i, a in enumerate(teachers) if a[PLACES_ITEM] and "nowhere" not in a[PLACES_ITEM]][:3]
    for i in contradictory:
        teachers[i][PLACES_ITEM] = teachers[i][PLACES_ITEM] | {"nowhere"}
    path = write_google_csv(root / "nauczyciele.csv", ref, "teachers", teachers)
    with_column(path, "Klasa", [f"{4 + i % 4}a" for i in range(len(teachers))])
    outputs["teachers"] = cap.run(["ingest", "survey", str(path), "--institution", str(n1.rspo), "--edition",
                                   EDITION, "--group", "nauczyciele", "--wave", "ewaluacja", "--db", str(db)])
    forms = {"answers": teachers, "contradictory": contradictory,
             "import": int(q_db(db, "SELECT MAX(id) FROM imports")[0][0])}
    # A preschool's survey: the RSPO export lists it, the programme does not cover it.
    refused = {"preschool": cap.refused(["ingest", "survey", str(root / "uczniowie-diagnoza.csv"), "--institution",
                                         str(PRESCHOOL), "--edition", EDITION, "--group", "students", "--wave",
                                         "baseline", "--db", str(db)])}

    # 6. the awards the rules grant, the check, the reports
    outputs["confirm"] = cap.run(["awards", "confirm", "--edition", EDITION, "--db", str(db)])
    outputs["check"] = cap.run(["db", "check", "--db", str(db)])
    # A county named by a city that is also a land county's seat is asked, not guessed.
    refused["county"] = cap.refused(["build", "--edition", EDITION, "--county", "Tarnów", "--quiet",
                                     "--out", str(reports), "--db", str(db)])
    outputs["build"] = cap.run(["build", "--edition", EDITION, "--format", "html", "--jobs", "2", "--quiet",
                                "--out", str(reports), "--db", str(db)])
    return World(root, db, reports / "2025-2026", by_rspo, listed, newcomers, failing, reaudited, lapsed, gone,
                 renamed, missing, audit_points, n1, follow, parents, match_rows, [s.rspo for s in listed], outputs,
                 controlled, removed_import, forms, refused)


class _Capture:
    """Runs `zpb` commands and keeps what they print (a module fixture cannot use capsys)."""

    def _call(self, argv: list[str]) -> tuple[int, str, str]:
        import contextlib
        import io

        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv)
        return code, out.getvalue(), err.getvalue()

    def run(self, argv: list[str]) -> str:
        code, out, err = self._call(argv)
        assert code == 0, (argv, out, err)
        return out

    def refused(self, argv: list[str]) -> str:
        """A command that must be refused (exit status 2): what it said."""
        code, out, err = self._call(argv)
        assert code == 2, (argv, code, out, err)
        return err


def q_db(db: Path, sql: str, *args):
    con = sqlite3.connect(db)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def with_column(path: Path, header: str, values: list[str]) -> Path:
    """A column added at the end of a CSV export, as a teacher adds a question to the form."""
    import csv

    with open(path, encoding="utf-8-sig", newline="") as fh:
        table = list(csv.reader(fh))
    table = [table[0] + [header]] + [row + [v] for row, v in zip(table[1:], values)]
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(table)
    return path


def q(world: World, sql: str, *args):
    con = sqlite3.connect(world.db)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def page(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def report_of(world: World, s: School) -> Path:
    found = list(world.reports.glob(f"placowka-{s.rspo}-*.html"))
    assert len(found) == 1, found
    return found[0]


# --------------------------------------------------------------------------- the checks

def test_database_is_real_and_clean(world):
    assert q(world, "SELECT value FROM meta WHERE key = 'synthetic'") == [("0",)]
    lines = world.outputs["check"].splitlines()
    assert [line for line in lines if not line.startswith("note: ")] == []  # `zpb db check` printed no problem
    # Its notes are the awards the register holds without an audit: the lapsed school's certificate
    # of 2022/2023, the university's, the complex's and the published list's certificates.
    noted = {line.split(":")[1].strip() for line in lines if line.startswith("note: ")}
    assert noted == ({f"awards RSPO {world.lapsed.rspo} certificate 2022/2023",
                      f"awards POL-on {universities()[0]['POL-on']} university_certificate 2023/2024",
                      f"awards RSPO {COMPLEX} certificate {LIST_EDITION}"}
                     | {f"awards RSPO {s.rspo} certificate {LIST_EDITION}" for s in world.listed})
    kinds = dict(q(world, "SELECT kind, COUNT(*) FROM imports GROUP BY kind"))
    # register: the workbook, the reviewed list, the removal (the undone removal left no record)
    assert kinds == {"institutions": 2, "universities": 1, "register": 3, "audit": 6, "survey": 4, "awards": 1}


def test_register_of_schools_follows_the_exports(world):
    ours = {s.rspo: s for s in world.schools.values()}
    stored = {r[0]: r[1:] for r in q(world, "SELECT rspo, name, county, in_register FROM institutions "
                                            "WHERE rspo >= 300000")}
    assert set(stored) == set(ours)
    for rspo, s in ours.items():
        assert stored[rspo] == (s.name, s.county, 0 if s is world.missing else 1), rspo
    assert len({s.county for s in ours.values()}) >= 6
    # Rows of other voivodeships and out-of-scope types were skipped and said so.
    out = world.outputs["rspo"]
    assert "skipped (other voivodeships): 3" in out and "not in scope: Przedszkole 2" in out
    assert f"new: {len(ours) + 17}" in out  # rspo_support.malopolska_rows holds 17 schools of types in scope
    assert q(world, "SELECT COUNT(*) FROM institutions WHERE polon IS NOT NULL") == [(len(universities()),)]


def test_published_list_matched(world):
    """At least 95 % of the lines get the right school, and never a „nr 12” for a „nr 2”."""
    got = [cell for _, cell in world.match_rows]
    assert len(got) == len(world.truth) >= 20
    right = sum(1 for g, t in zip(got, world.truth) if g == t)
    assert right / len(got) >= 0.95, list(zip([l for l, _ in world.match_rows], got, world.truth))
    for g, t in zip(got, world.truth):
        if g is not None and g != t:
            assert {world.schools[g].number, world.schools[t].number} != {2, 12}
    stored = {r[0] for r in q(world, "SELECT i.rspo FROM awards w JOIN institutions i ON i.id = w.institution_id "
                                     "WHERE w.edition = ? AND w.kind = 'certificate'", LIST_EDITION)}
    assert stored == set(world.truth) | {COMPLEX}  # and the complex's certificate from the register


def test_awards_confirmed_are_what_the_rules_grant(world):
    # data/rules/school.yaml: certificate from 24 points, extension from 26 with a valid certificate.
    expected = {(s.rspo, "certificate") for s in world.newcomers if world.audit_points[s.rspo] >= 24}
    expected.add((world.reaudited.rspo, "extension"))
    assert world.audit_points[world.failing.rspo] < 24
    got = set(q(world, "SELECT i.rspo, w.kind FROM awards w JOIN institutions i ON i.id = w.institution_id "
                       "WHERE w.edition = ?", EDITION))
    assert got == expected
    assert q(world, "SELECT DISTINCT awarded_on FROM awards WHERE edition = ?", EDITION) == [(CEREMONY.isoformat(),)]


def expected_status(world: World, s: School) -> str:
    """The school's status on the 2025/2026 ceremony day, from the scenario."""
    if s is world.gone:
        return "zakończyła udział"
    if s is world.reaudited:
        return "certyfikat przedłużony"
    if s in world.listed or (s in world.newcomers and s is not world.failing):
        return "certyfikat"
    if s is world.lapsed:
        return "certyfikat wygasł"
    return "etap I (przed pierwszym certyfikatem)"


def test_school_reports_show_status_points_and_surveys(world):
    banner_free = [report_of(world, s) for s in world.newcomers + [world.reaudited]]
    for path in banner_free:
        assert "Dane syntetyczne" not in path.read_text(encoding="utf-8")
    for s in world.newcomers + [world.reaudited, world.lapsed, world.listed[5]]:
        doc = page(report_of(world, s))
        text = doc.get_text(" ", strip=True)
        assert f"RSPO {s.rspo}" in text
        assert f"Status {expected_status(world, s)}" in text, (s.name, text[:600])
        if s.rspo in world.audit_points:
            assert f"{world.audit_points[s.rspo]} / 35" in text
    # Survey: the share of follow-up students who feel safe at school (answers 4–5), and its n.
    doc = page(report_of(world, world.surveyed))
    answered = [r["safe_school"] for r in world.follow_up_students if r["safe_school"] is not None]
    share = 100 * sum(1 for v in answered if v in (4, 5)) / len(answered)
    row = next(tr for tr in doc.select("table")[_students_table(doc)].select("tr")
               if tr.get_text().startswith("Czuje się bezpiecznie w szkole"))
    cells = [td.get_text(" ", strip=True).replace("\u00a0", " ") for td in row.select("td, th")]
    assert str(len(answered)) in cells
    assert f"{share:.1f}".replace(".", ",") + "%" in " ".join(cells)


def _students_table(doc: BeautifulSoup) -> int:
    """The table under the heading „Uczniowie” (its caption names the survey, not the group again)."""
    heading = next((h for h in doc.select("h3") if h.get_text(strip=True) == "Uczniowie"), None)
    assert heading is not None, "no students' indicator table"
    table = heading.find_next("table")
    assert table.find("caption").get_text(strip=True) == f"Ewaluacja (po realizacji planu), {EDITION}"
    return doc.select("table").index(table)


def test_county_reports_count_valid_certificates(world):
    """„Ważne certyfikaty”: institutions holding a valid award on the ceremony day, per county."""
    holders = [s for s in world.schools.values() if expected_status(world, s) in
               ("certyfikat", "certyfikat przedłużony")]
    for county in sorted({s.county for s in world.schools.values()}):
        expected = sum(1 for s in holders if s.county == county)
        if county == "1261":
            expected += 1  # AGH: the university certificate of 2023/2024 is valid 4 years
        if county == "1202":
            expected += 1  # the Brzesko complex's certificate of 2024/2025: once, for it and its schools
        path = next(world.reports.glob(f"powiat-{county}-*.html"))
        tiles = {dt_.get_text(strip=True): dd.get_text(strip=True).replace("\u00a0", "")
                 for dt_, dd in zip(page(path).select("dt.zpb-tile-label"), page(path).select("dd.zpb-tile-value"))}
        assert tiles["Ważne certyfikaty"] == str(expected), (county, tiles)
        assert "Dane syntetyczne" not in path.read_text(encoding="utf-8")


def test_index_has_no_synthetic_banner_and_lists_rspo_numbers(world):
    index = (world.reports / "index.html").read_text(encoding="utf-8")
    assert "Dane syntetyczne" not in index
    for s in world.newcomers:
        assert f"RSPO {s.rspo}" in index


def test_messages_say_what_comes_next(world):
    n1 = world.newcomers[0]
    assert "zpb awards confirm --edition 2025/2026" in world.outputs[f"audit-{n1.rspo}"]
    assert "no award" in world.outputs[f"audit-{world.failing.rspo}"]
    assert "renamed: 1" in world.outputs["rspo2"] and "no longer in the register: 1" in world.outputs["rspo2"]
    assert "dry run" in world.outputs["register_dry"]



# --------------------------------------------------------------------------- real records, real mess

def _text(path: Path) -> str:
    return " ".join(page(path).get_text(" ").split())


def test_a_control_audit_is_explained_as_one(world):
    """A listed school (certificate of 2024/2025) whose audit this edition is a control audit: its
    report says what the control audit confirmed and what keeps its status — never that it was
    not audited."""
    s = world.controlled
    text = _text(report_of(world, s))
    total = world.audit_points[s.rspo]
    assert total >= 24  # data/rules/school.yaml: a control audit is positive from 24 points
    assert (f"Audyt kontrolny z 18.05.2026 potwierdził, że placówka spełnia wymagania programu: {total} z 35 pkt "
            "(próg: 24 pkt).") in text
    # The certificate of 2024/2025 (15.10.2025) is valid 2 years.
    assert "Certyfikat placówki jest ważny do 15.10.2027." in text
    assert "Placówka nie miała jeszcze audytu." not in text


def test_a_wrong_register_row_is_removed_undone_and_removed_again(world):
    """The Lider title typed into the line of a school that left: one „Usuń” mark removes just that
    row as an import of its own; undoing it puts the row back exactly; marking it again removes it."""
    wrong = eval(world.outputs["wrong_row"])  # noqa: S307 - the repr of rows this test read itself
    assert len(wrong) == 1 and wrong[0][1:4] == ("leader", "2023/2024", "2024-10-15")
    assert eval(world.outputs["removed_row"]) == []  # noqa: S307
    assert eval(world.outputs["after_undo"]) == wrong  # noqa: S307 - the same id, values and import
    assert "removed 1 row" in world.outputs["remove"] and "removed 1 row" in world.outputs["remove_again"]
    assert q(world, "SELECT COUNT(*) FROM awards WHERE kind = 'leader'") == [(0,)]
    assert q(world, "SELECT kind FROM imports WHERE id = ?", world.removed_import) == [("register",)]
    # The school left before this edition (no report of its own); no report row names it as a Lider.
    assert not list(world.reports.glob(f"placowka-{world.gone.rspo}-*.html"))
    rows = [tr.get_text(" ") for p in world.reports.glob("*.html") for tr in page(p).select("tr")]
    assert rows and not [r for r in rows if world.gone.name in r and "Lider" in r]


def test_a_forms_export_as_teachers_make_it_is_stored(world):
    """A teacher added a column „Klasa” and three respondents ticked „Nigdzie” with a place: the
    column is listed and never stored, the answers are stored as the places ticked."""
    out, iid = world.outputs["teachers"], world.forms["import"]
    answers_ = world.forms["answers"]
    assert "„Klasa”" in out and "stored 15 responses" in out
    assert "3 answers ticked" in out or "3 answers" in out, out
    con = sqlite3.connect(world.db)
    try:
        cols = [r[1] for r in con.execute("PRAGMA table_info(survey_responses)") if r[1].startswith("place_")]
        rows = con.execute(f"SELECT {', '.join(cols)} FROM survey_responses WHERE import_id = ? ORDER BY id",
                           (iid,)).fetchall()
        stored_values = {str(v) for r in con.execute("SELECT * FROM survey_responses WHERE import_id = ?",
                                                     (iid,)) for v in r}
    finally:
        con.close()
    assert len(rows) == 15
    for i in world.forms["contradictory"]:
        chosen = answers_[i][PLACES_ITEM] - {"nowhere"}
        assert rows[i] == tuple(int(c.removeprefix("place_") in chosen) for c in cols), i
    assert not {"4a", "5a", "6a", "7a"} & stored_values


def test_a_preschools_survey_is_refused_saying_why(world):
    err = world.refused["preschool"]
    assert f"RSPO {PRESCHOOL}" in err and "Przedszkole" in err and "zpb ingest institutions" not in err, err


def test_an_ambiguous_county_is_asked(world):
    err = world.refused["county"]
    assert "ambiguous" in err and "m. Tarnów (1263)" in err and "tarnowski (1216)" in err


def test_the_schools_of_a_complex_show_its_certificate(world):
    """The Brzesko complex takes part since 2022/2023 with its certificate of 2024/2025; its
    technikum and branżowa szkoła have no participation of their own: their reports show the
    complex's certificate, marked as the complex's, and the county counts the three as one."""
    for rspo in MEMBERS:
        found = list(world.reports.glob(f"placowka-{rspo}-*.html"))
        assert len(found) == 1, rspo
        text = _text(found[0])
        assert "certyfikat (zespołu)" in text and COMPLEX_NAME in text, rspo
    county = next(world.reports.glob("powiat-1202-*.html"))
    rows = [tr.get_text(" ") for tr in page(county).select("tr")]
    # one participant: a member's row in the institution list is marked as taking part with the complex
    own = [r for r in rows if r.strip().startswith(("Technikum", "Branżowa")) and "Brzesku" in r]
    assert len(own) == 2 and all("w zespole" in r and "certyfikat (zespołu)" in r for r in own), own
    complex_rows = [r for r in rows if r.strip().startswith(COMPLEX_NAME)]
    assert any(all(f"RSPO {m}" in r for m in MEMBERS) for r in complex_rows), complex_rows  # the certificates
