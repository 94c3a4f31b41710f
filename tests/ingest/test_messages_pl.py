"""The importers' refusals in Polish: every template of the catalogue is met by a real refusal — a
bad survey export or audit protocol built here, as the other ingest tests build them — and its
Polish rendering differs from the English and keeps every number and every quoted name."""
from __future__ import annotations

import csv
import dataclasses
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from support.archives import MAIN, Entry, deflated, header_row, sheet, survey_xlsx
from support.audits import fill, full_points, school
from support.surveys import EDITION, answers, free_target, ingest, write_google_csv, write_msforms_xlsx

from zpb_lib.core.limits import ArchiveLimits, file_limits
from zpb_lib.ingest import IngestError, limits_for
from zpb_lib.ingest.archive import open_workbook
from zpb_lib.ingest.audit import ingest_audit, write_template
from zpb_lib.ingest.messages_pl import MESSAGES, polish

NUMBERS = re.compile(r"\d+")
QUOTED = re.compile(r"„[^”]*”|(?<!\w)'[^']*'(?!\w)")  # names, and cell values as repr() quotes them


def kept(english: str, polish_text: str) -> list[str]:
    """What of ``english`` its rendering lost: a number, or a quoted name („…” or '…')."""
    lost = [n for n in set(NUMBERS.findall(english)) if polish_text.count(n) < english.count(n)]
    return lost + [q for q in set(QUOTED.findall(english)) if q not in polish_text]


def messages(fn) -> list[str]:
    with pytest.raises(IngestError) as info:
        fn()
    err = info.value
    return [p.message for p in err.problems] + ([err.note] if err.note else [])


# --------------------------------------------------------------------------- bad survey exports

def export(ref, tmp: Path, name: str = "ankieta.csv", group: str = "students", n: int = 5) -> Path:
    return write_google_csv(tmp / name, ref, group, answers(ref, group, n, empty_share=0))


def rewrite(path: Path, edit) -> Path:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        table = list(csv.reader(fh))
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(edit(table))
    return path


def survey_cases(con, ref, tmp: Path):
    inst = free_target(con)
    q = ref.questionnaires["students"].items

    def run(path, **kw):
        return lambda: ingest(con, path, kw.pop("inst", inst), **kw)

    yield run(tmp / "brak.csv")
    (tmp / "folder.csv").mkdir()
    yield run(tmp / "folder.csv")
    yield run(export(ref, tmp), edition="2031/2032")
    yield run(export(ref, tmp), edition="2020/2021")
    gim = con.execute("SELECT rspo FROM institutions WHERE kind = 'gimnazjum' LIMIT 1").fetchone()[0]
    yield run(export(ref, tmp), inst=gim)
    joined = con.execute("SELECT i.rspo FROM participation p JOIN institutions i ON i.id = p.institution_id "
                         "WHERE p.joined_edition > '2010/2011' AND i.kind = 'primary' ORDER BY p.id LIMIT 1").fetchone()[0]
    yield run(export(ref, tmp), inst=joined, edition="2010/2011")
    never = con.execute("SELECT rspo FROM institutions i WHERE kind = 'primary' AND NOT EXISTS "
                        "(SELECT 1 FROM participation p WHERE p.institution_id = i.id) LIMIT 1").fetchone()[0]
    yield run(export(ref, tmp), inst=never)
    yield run(export(ref, tmp), inst=9999999)
    yield run(export(ref, tmp), inst="SP 2 Bochnia")
    yield run(export(ref, tmp), replace=True, append=True)
    (pdf := tmp / "ankieta.pdf").write_bytes(b"%PDF-1.4\n" + b"\x00" * 64)
    yield run(pdf)
    with zipfile.ZipFile(zipped := tmp / "ankieta.zip", "w") as z:
        z.writestr("Ankieta.csv", "a,b\n")
    yield run(zipped)
    (empty := tmp / "pusty.csv").write_text("")
    yield run(empty)
    (xls := tmp / "stary.xls").write_bytes(b"\xd0\xcf\x11\xe0" + b"\x01" * 64)
    yield run(xls)
    (notzip := tmp / "zly.xlsx").write_bytes(b"\x00\x01\x02 not a workbook")
    yield run(notzip)
    (utf16 := tmp / "utf16.csv").write_bytes("\ufeffa,b\n1,2\n".encode("utf-16"))
    yield run(utf16)
    (cp := tmp / "cp.csv").write_bytes("Pytanie,Żółw\n1,2\n".encode("cp1250"))
    yield run(cp)
    (bad := tmp / "zle.csv").write_bytes(b"Pytanie;Odpowied\x81\n1;2\n")
    yield run(bad)
    (ctrl := tmp / "ctrl.csv").write_bytes(b"a,b\n1,\x01\n")
    yield run(ctrl)
    (quote := tmp / "cudzyslow.csv").write_bytes(b'a,b\n"1,2\n')
    yield run(quote)
    yield run(rewrite(export(ref, tmp, "naglowek.csv"), lambda t: t[:1]))
    yield run(rewrite(export(ref, tmp, "brakuje.csv"), lambda t: [r[:5] + r[6:] for r in t]))
    yield run(rewrite(export(ref, tmp, "dwa.csv"), lambda t: [r + [r[5]] for r in t]))
    yield run(rewrite(export(ref, tmp, "moje.csv"), lambda t: [t[0][:5] + ["Moje pytanie"] + t[0][6:]] + t[1:]))
    yield run(rewrite(export(ref, tmp, "literowka.csv"), lambda t: [t[0][:5] + [t[0][5][:-3] + "xyz"] + t[0][6:]]
                      + t[1:]))
    yield run(export(ref, tmp, "rodzice.csv", "parents"))
    parents = ref.questionnaires["parents"].items
    own = {i.text_pl for i in q}
    other = next(i.text_pl for i in parents if i.text_pl not in own)
    yield run(rewrite(export(ref, tmp, "obce.csv"), lambda t: [t[0] + [other]] + [r + [""] for r in t[1:]]))
    yield run(rewrite(export(ref, tmp, "obce2.csv"), lambda t: [t[0] + [other[:-3] + "xyz"]] + [r + [""] for r in t[1:]]))
    yield run(rewrite(export(ref, tmp, "kot.csv"), lambda t: t[:3] + [t[3] + ["kot"]] + t[4:]))
    yield run(rewrite(export(ref, tmp, "pusta.csv"), lambda t: [t[0] + [""]] + [r + ["kot"] for r in t[1:]]))
    yield run(rewrite(export(ref, tmp, "krotki.csv"), lambda t: t[:2] + [t[2][:4]] + t[3:]))
    yield run(rewrite(export(ref, tmp, "skala.csv"), lambda t: t[:2] + [t[2][:3] + ["Raczej tak"] + t[2][4:]] + t[3:]))
    yield run(rewrite(export(ref, tmp, "skala2.csv"), lambda t: t[:1] + [r[:3] + ["Raczej tak"] + r[4:] for r in t[1:]]))
    twice = export(ref, tmp, "dwa_razy.csv")
    ingest(con, twice, free_target(con, offset=1))
    yield run(twice, inst=free_target(con, offset=2))
    ingest(con, export(ref, tmp, "pierwszy.csv", n=3), inst)
    yield run(export(ref, tmp, "drugi.csv", n=4))


def workbook_cases(ref, tmp: Path):
    """Workbooks a zip library would not write: members twice, overlapping, a DOCTYPE…"""
    from zpb_lib.ingest.tables import read_table
    from support.archives import write_zip, PARTS

    def read(path: Path):
        return lambda: list(read_table(path, path.read_bytes()).rows)  # rows are read lazily

    good = deflated("xl/worksheets/sheet1.xml", sheet(header_row(ref)))
    yield read(survey_xlsx(tmp / "dwa.xlsx", good, extra=[deflated("xl/worksheets/SHEET1.xml", b"<x/>")]))
    odd = deflated("xl/worksheets/sheet1.xml", sheet(header_row(ref)))
    odd.method = 14
    yield read(survey_xlsx(tmp / "lzma.xlsx", odd))
    yield read(survey_xlsx(tmp / "doctype.xlsx", deflated("xl/worksheets/sheet1.xml", sheet(
        header_row(ref), b'<!DOCTYPE x [<!ENTITY a "b">]>'))))
    yield read(survey_xlsx(tmp / "xml.xlsx", deflated("xl/worksheets/sheet1.xml", b"<worksheet><sheetData>")))
    shared = Entry("xl/worksheets/sheet1.xml", good.payload, good.size, good.crc, share="xl/sharedStrings.xml")
    strings = deflated("xl/sharedStrings.xml", sheet(header_row(ref)))
    entries = [deflated(n, p.encode()) for n, p in PARTS.items()] + [strings, shared]
    yield read(write_zip(tmp / "nakladka.xlsx", entries))
    liar = deflated("xl/worksheets/sheet1.xml", sheet(header_row(ref)))
    liar.size = 100
    yield read(survey_xlsx(tmp / "klamie.xlsx", liar))
    yield read(survey_xlsx(tmp / "pusty.xlsx", deflated("xl/worksheets/sheet1.xml", sheet(b""))))
    (cut := tmp / "uciety.xlsx").write_bytes(survey_xlsx(tmp / "caly.xlsx", good).read_bytes()[:-30])
    yield read(cut)


def limited_cases(ref, tmp: Path, monkeypatch):
    """Limits lowered for the test (their variables), so that small files reach them."""
    from zpb_lib.ingest.tables import read_table

    def read(path: Path, **env):
        def go():
            for k, v in env.items():
                monkeypatch.setenv(k, v)
            try:
                limits = limits_for(path, "survey")
                return list(read_table(path, path.read_bytes(), limits=limits).rows)  # rows are read lazily
            finally:
                for k in env:
                    monkeypatch.delenv(k)
        return go

    csv_file = export(ref, tmp, "limity.csv", n=10)
    yield read(csv_file, ZPB_MAX_SURVEY_ROWS="3")
    yield read(csv_file, ZPB_MAX_SURVEY_COLUMNS="5")
    yield read(csv_file, ZPB_MAX_SURVEY_LINE_KB="1")
    xlsx = write_msforms_xlsx(tmp / "limity.xlsx", ref, "students", answers(ref, "students", 10), lang="pl")
    yield read(xlsx, ZPB_MAX_SURVEY_ROWS="3")
    yield read(xlsx, ZPB_MAX_SURVEY_COLUMNS="5")
    yield read(xlsx, ZPB_MAX_ZIP_MEMBERS="3")
    # below what a variable may set: given to the archive's check directly
    lim = file_limits("survey")
    for limits, archive in ((dataclasses.replace(lim, part_mb=0), None),
                            (dataclasses.replace(lim, workbook_mb=0, part_mb=1), None),
                            (lim, ArchiveLimits(other_part_mb=0))):
        yield lambda limits=limits, archive=archive: open_workbook(xlsx, xlsx.read_bytes(), limits, archive=archive)
    yield read(xlsx, ZPB_MAX_SURVEY_ROWS="nonsense")
    yield lambda: ingest_file_too_large(csv_file, monkeypatch)


def ingest_file_too_large(path: Path, monkeypatch) -> None:
    from zpb_lib.ingest import limits_for, read_bytes
    monkeypatch.setenv("ZPB_MAX_SURVEY_FILE_MB", "0")
    try:
        read_bytes(path, limits_for(path, "survey"))
    finally:
        monkeypatch.delenv("ZPB_MAX_SURVEY_FILE_MB")


# --------------------------------------------------------------------------- bad audit protocols

def audit_cases(con, ref, tmp: Path):
    rspo = school(con)
    template = write_template(con, rspo, EDITION, tmp / "szablon.xlsx")
    cat = ref.catalogue_for("school", EDITION)
    points = full_points(cat)
    first, mandatory = cat.criteria[0], next(c for c in cat.criteria if c.mandatory)

    def run(path, **kw):
        return lambda: ingest_audit(con, path, **kw)

    def edited(name: str, edit, **kw) -> Path:
        return fill(template, tmp / name, kw.pop("points", points), edit=edit, **kw)

    def cell(ws, label: str):
        from support.audits import find_row
        return ws.cell(find_row(ws, 1, label), 4)

    (plain := tmp / "tekst.xlsx").write_bytes(b"to nie jest skoroszyt")
    yield run(plain)
    yield run(fill(template, tmp / "rodzaj.xlsx", points, kind="wizytacja"))
    yield run(fill(template, tmp / "bez_rodzaju.xlsx", points, kind=None))
    yield run(fill(template, tmp / "inny_rodzaj.xlsx", points), kind="certification")
    yield run(fill(template, tmp / "bez_daty.xlsx", points, date=None))
    yield run(fill(template, tmp / "zla_data.xlsx", points, date="wczoraj"))
    yield run(fill(template, tmp / "poza_okresem.xlsx", points, date="01.01.2026"))
    yield run(edited("katalog.xlsx", lambda ws: setattr(cell(ws, "Katalog kryteriów"), "value", "2015-school")))
    yield run(edited("edycja.xlsx", lambda ws: setattr(cell(ws, "Edycja"), "value", "2020/2021")))
    yield run(edited("placowka.xlsx", lambda ws: setattr(cell(ws, "Placówka (RSPO / POL-on)"), "value", 9999999)))
    yield run(edited("pola.xlsx", lambda ws: setattr(cell(ws, "Edycja").offset(0, -3), "value", "Coś")))
    bad = dict(points, **{first.id: first.max_points + 5, mandatory.id: None})
    others = [c for c in cat.criteria if c.id not in (first.id, mandatory.id)]
    bad[others[0].id] = -1
    bad[others[1].id] = "dużo"
    yield run(fill(template, tmp / "punkty.xlsx", bad))

    def criteria(ws):
        from support.audits import criteria_rows
        rows = criteria_rows(ws)
        ws.cell(rows[others[2].id], 2).value = "X.99"
        ws.cell(rows[others[3].id], 2).value = others[4].id
        ws.cell(rows[others[5].id], 5).value = 99
    yield run(edited("kryteria.xlsx", criteria))

    def no_table(ws):
        from support.audits import find_row
        ws.cell(find_row(ws, 2, "Kryterium"), 2).value = "Coś"
    yield run(edited("tabela.xlsx", no_table))

    def no_max(ws):
        from support.audits import find_row
        ws.cell(find_row(ws, 2, "Kryterium"), 5).value = "Coś"
    yield run(edited("maks.xlsx", no_max))
    stored = fill(template, tmp / "zapisany.xlsx", points)
    ingest_audit(con, stored)
    yield run(stored)
    yield run(fill(template, tmp / "drugi.xlsx", dict(points, **{first.id: first.max_points - 2})))


# Templates the cases above do not reach, and why: a file the operating system cannot read, rights and
# database refusals (tests/store and tests/web test them with logins), register and RSPO lookups a
# survey never meets, undo, and the lines of an audit's outcome and changes (summaries, not refusals).
NOT_WALKED = (
    "cannot be read:", "unknown edition", "the programme was suspended", "(?P<who>.+) closed in",
    "no institution with the internal id", "no university with", r"(?P<ident>.+?) is not in the database",
    "not an RSPO number", "unknown (?P<t_what>", "(?P<what>.+): (?P<who>.+) changes nothing",
    "(?P<what>.+) is in powiat", "(?P<what>.+) has no county", "the database refused", r"import #(?P<id>\d+) \(",
    "a field is longer than", "the header cannot be read", "the workbook's zip archive lists",
    r"part „(?P<name>.*)” is compressed", r"part „(?P<name>.*)” cannot be read",
    "not a valid XLSX workbook or", r"not a valid XLSX workbook \((?P<exc>", "no row of the file can be read",
    "unknown audit kind (?P<value>'.*'); expected one of (?P<codes>", "no (?P<family>", "criteria table without",
    "mandatory criterion (?P<cid>\\S+) „", "the audit cannot be replaced", "outcome:", "next:", "kind:", "date:",
    "catalogue:", "points changed", r"part „(?P<name>.*)” holds more than", "total points", "no differences", "there is no import", r"import #(?P<id>\d+) cannot",
)

# Templates of the covered modules whose failing inputs are still to be built here (each has its own
# refusal test elsewhere: tests/ingest, tests/core/test_security_files.py).
NOT_YET_BUILT = (
    r"the file is (?P<size>", "(?P<who>.+) is a (?P<kind>", r"not a valid XLSX workbook \(not a zip archive\)",
    "the file is truncated or damaged", "the workbook is damaged or truncated", "the workbook's zip archive has",
    "the member „(?P<name>.*)” is encrypted", "the member „(?P<name>.*)” has no local",
    "the member „(?P<name>.*)” runs past", r"part „(?P<name>.*)” expands beyond",
    r"part „(?P<name>.*)” is not well-formed", r"part „(?P<name>.*)” reaches row", r"part „(?P<name>.*)” has a cell",
    r"this header resembles question (?P<n>\d+) „(?P<q>.*)” \((?P<pct>", r"(?P<p>\d+) points for criterion",
)


def test_every_refusal_of_the_survey_and_audit_importers_reads_in_polish(con, ref, tmp_path, monkeypatch):
    english: list[str] = []
    for folder in "swla":
        (tmp_path / folder).mkdir()
    for cases in (survey_cases(con, ref, tmp_path / "s"), workbook_cases(ref, tmp_path / "w"),
                  limited_cases(ref, tmp_path / "l", monkeypatch), audit_cases(con, ref, tmp_path / "a")):
        for case in cases:
            english += messages(case)
    untranslated = [m for m in english if polish(m) == m]
    assert untranslated == []
    lost = {m: kept(m, polish(m)) for m in english if kept(m, polish(m))}
    assert lost == {}
    met = {pattern for pattern, _ in MESSAGES if any(re.fullmatch(pattern, m, re.DOTALL) for m in english)}
    unmet = [p for p, _ in MESSAGES if p not in met and not p.startswith(NOT_WALKED + NOT_YET_BUILT)]
    assert unmet == [], "\n".join(unmet)


def test_a_message_no_template_knows_stays_english():
    assert polish("something new went wrong at row 3") == "something new went wrong at row 3"
