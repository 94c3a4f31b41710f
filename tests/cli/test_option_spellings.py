"""Editions and option values as people write them: every command that takes an edition accepts
2025/2026, 2025-2026, 2025/26 and XIX (the notebooks and the explorer too); report kinds, formats
and languages are accepted in English or Polish, any case; an unknown value gets one line naming
the known ones and exit status 2, never a traceback or argparse's usage block."""
from __future__ import annotations

import csv
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from zpb_lib import cli
from zpb_lib.cli import main, options
from support.audits import fill, full_points

EDITION = "2025/2026"
SPELLINGS = ["2025/2026", "2025-2026", "2025/26", "XIX", " xix "]
UNKNOWN = ["2099/2100", "2025/2027", "XXXI", "bogus"]


@pytest.fixture(scope="module")
def world(small_db, tmp_path_factory):
    """A private copy of the small database and the inputs each command needs: a survey export, an
    audit protocol (its edition cell is re-spelled per test) and a published award list."""
    from zpb_lib import store
    from zpb_lib.ingest.audit import write_template
    from zpb_lib.reference import reference

    ref = reference()
    root = tmp_path_factory.mktemp("spellings")
    db = root / "db" / "zpb.sqlite"
    db.parent.mkdir()
    shutil.copy(small_db, db)
    con = sqlite3.connect(db)
    participates = ("EXISTS (SELECT 1 FROM participation p WHERE p.institution_id = i.id AND p.joined_edition <= :e "
                    "AND (p.left_edition IS NULL OR p.left_edition >= :e))")
    school = ("SELECT i.rspo, i.name FROM institutions i JOIN institution_kinds k ON k.code = i.kind "
              f"WHERE {participates} AND k.family = 'school' AND k.exists_to IS NULL AND i.closed_year IS NULL ")
    no_survey, name = con.execute(school + "AND NOT EXISTS (SELECT 1 FROM survey_responses r WHERE "
                                  "r.institution_id = i.id AND r.edition = :e) ORDER BY i.id LIMIT 1",
                                  {"e": EDITION}).fetchone()
    no_control = con.execute(school + "AND NOT EXISTS (SELECT 1 FROM audits a WHERE a.institution_id = i.id "
                             "AND a.edition = :e AND a.kind = 'control') ORDER BY i.id LIMIT 1",
                             {"e": EDITION}).fetchone()[0]
    con.close()

    survey = root / "ankieta.csv"
    items = ref.questionnaires["students"].items
    with open(survey, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["Sygnatura czasowa"] + [it.text_pl for it in items])
        for i in range(12):
            row = []
            for it in items:
                scale = ref.scales[it.scale]
                row.append("" if scale.kind == "multiple" else scale.options[i % len(scale.options)].label_pl)
            w.writerow([f"2026/03/{1 + i:02d} 10:15:32 AM CET"] + row)

    c = store.connect(db)
    try:
        template = write_template(c, no_control, EDITION, root / "szablon.xlsx")
    finally:
        c.close()
    protocol = fill(template, root / "protokol.xlsx", full_points(ref.catalogue_for("school", EDITION)))
    award_list = root / "lista.txt"
    award_list.write_text(f"Certyfikaty otrzymały:\n1. {name},\n", encoding="utf-8")
    return {"db": str(db), "root": root, "survey": survey, "survey_rspo": str(no_survey), "protocol": protocol,
            "audit_rspo": str(no_control), "list": award_list}


def protocol_with_edition(world, spelling: str, tmp_path: Path) -> Path:
    wb = openpyxl.load_workbook(world["protocol"])
    ws = wb["Protokół audytu"]
    row = next(r for r in range(1, 20) if ws.cell(r, 1).value == "Edycja")
    ws.cell(row, 4).value = spelling
    out = tmp_path / "protokol-edycja.xlsx"
    wb.save(out)
    return out


# command -> (argv for an edition spelling, a text the output shows when the edition was understood)
def commands(world, tmp_path: Path) -> dict:
    db = ["--db", world["db"]]
    return {
        "build": lambda e: (["build", "--edition", e, "--only", "voivodeship", "--format", "html", "--quiet",
                             "--out", str(world["root"] / "reports"), *db], "Edycja 2025/2026: raportów 1"),
        "export": lambda e: (["export", "--edition", e, "--out", str(tmp_path / "x.xlsx"), *db], "x.xlsx"),
        "template audit": lambda e: (["template", "audit", "--institution", world["audit_rspo"], "--edition", e, *db],
                                     f"protokol-audytu-{world['audit_rspo']}-2025-2026.xlsx"),
        "ingest audit": lambda e: (["ingest", "audit", str(protocol_with_edition(world, e, tmp_path)), "--dry-run",
                                    *db], "edition 2025/2026"),
        "ingest survey": lambda e: (["ingest", "survey", str(world["survey"]), "--institution", world["survey_rspo"],
                                     "--edition", e, "--group", "students", "--wave", "baseline", "--dry-run", *db],
                                    "2025/2026"),
        "awards confirm": lambda e: (["awards", "confirm", "--edition", e, "--dry-run", *db], "edition 2025/2026"),
        "match": lambda e: (["match", str(world["list"]), "--edition", e, "--kind", "certyfikat", "--out",
                             str(tmp_path / "m.xlsx"), *db], "2025/2026"),
    }


COMMANDS = ["build", "export", "template audit", "ingest audit", "ingest survey", "awards confirm", "match"]


@pytest.mark.parametrize("spelling", SPELLINGS)
@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_takes_the_edition_as_people_write_it(world, tmp_path, capsys, monkeypatch, command, spelling):
    monkeypatch.chdir(tmp_path)  # template audit writes its default file name here
    argv, shows = commands(world, tmp_path)[command](spelling)
    status = main(argv)
    out, err = capsys.readouterr()
    assert status == 0, err
    assert shows in out + err
    if command == "template audit":
        ws = openpyxl.load_workbook(tmp_path / shows)["Protokół audytu"]
        assert [ws.cell(r, 4).value for r in range(1, 20) if ws.cell(r, 1).value == "Edycja"] == [EDITION]


@pytest.mark.parametrize("spelling", UNKNOWN)
@pytest.mark.parametrize("command", COMMANDS)
def test_an_unknown_edition_is_one_line_with_the_known_ones(world, tmp_path, capsys, monkeypatch, command, spelling):
    monkeypatch.chdir(tmp_path)
    argv, _ = commands(world, tmp_path)[command](spelling)
    status = main(argv)
    out, err = capsys.readouterr()
    assert status == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "unknown edition" in lines[0] and "2025/2026" in lines[0], err
    assert "2004/2005" in lines[0] and "XIX" in lines[0]  # the known range, and how to write one
    assert "Traceback" not in err and "usage:" not in err


def test_unknown_edition_from_the_installed_command_has_no_traceback(world):
    done = subprocess.run([str(Path(sys.executable).parent / "zpb"), "awards", "confirm", "--edition", "2020-21",
                           "--db", world["db"]], capture_output=True, text=True)
    # 2020/2021 exists but was not held (COVID): a different one-line refusal, still status 2.
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "not held" in done.stderr and "Traceback" not in done.stderr
    done = subprocess.run([str(Path(sys.executable).parent / "zpb"), "export", "--edition", "MMXX",
                           "--db", world["db"]], capture_output=True, text=True)
    assert done.returncode == 2 and done.stderr.strip().count("\n") == 0 and "Traceback" not in done.stderr


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_notebooks_and_explorer_take_the_edition_as_people_write_it(world, spelling, tmp_path):
    from zpb_lib.explore import Explorer
    from zpb_lib.report.context import open_cube

    with open_cube(db=world["db"], edition=spelling) as c:  # what `papermill -p edition …` passes on
        assert c.meta["edition"] == EDITION
    x = Explorer(world["db"], edition=spelling, out=tmp_path)
    assert x.edition.value == EDITION


def test_notebooks_and_explorer_refuse_an_unknown_edition_in_one_line(world, tmp_path):
    from zpb_lib.explore import Explorer
    from zpb_lib.report.context import open_cube

    for make in (lambda: open_cube(db=world["db"], edition="2099-2100"),
                 lambda: Explorer(world["db"], edition="2099-2100", out=tmp_path)):
        with pytest.raises(ValueError) as info:
            make()
        assert "\n" not in str(info.value) and "2025/2026" in str(info.value)


# --------------------------------------------------------------------------- kinds, formats, languages

@pytest.mark.parametrize("argv, attr, expected", [
    (["--only", "powiat"], "only", "county"),
    (["--only", "Placówka,województwo"], "only", "school,voivodeship"),
    (["--only", "szkoła, POWIAT"], "only", "school,county"),
    (["--only", "szkola,placowka"], "only", "school"),
    (["--only", "wojewodztwo"], "only", "voivodeship"),
    (["--only", "county,school"], "only", "county,school"),
    (["--format", "HTML"], "format", "html"),
    (["--format", "pdf, html"], "format", "pdf,html"),
    (["--lang", "EN"], "lang", "en"),
    (["--lang", "polski"], "lang", "pl"),
    (["--lang", "English"], "lang", "en"),
    (["--lang", "angielski"], "lang", "en"),
])
def test_build_options_in_english_or_polish(argv, attr, expected):
    args = cli.build_parser().parse_args(["build", *argv])
    options.refuse(args)
    assert getattr(args, attr) == expected


@pytest.mark.parametrize("argv, expected", [
    (["ingest", "survey", "x.csv", "--institution", "1", "--edition", "XIX", "--group", "Rodzice", "--wave",
      "ewaluacja"], {"edition": "2025/2026", "group": "parents", "wave": "follow-up"}),
    (["ingest", "survey", "x.csv", "--institution", "1", "--edition", "2025-26", "--group", "students", "--wave",
      "diagnoza"], {"edition": "2025/2026", "group": "students", "wave": "baseline"}),
    (["survey", "form", "--group", "nauczyciele", "--lang", "angielski"], {"group": "teachers", "lang": "en"}),
    (["template", "audit", "--institution", "1", "--edition", "2025/26"], {"edition": "2025/2026"}),
    (["match", "x.txt", "--edition", "XIX", "--kind", "lider"], {"edition": "2025/2026"}),
])
def test_ingest_options_are_converted_by_the_parser(argv, expected):
    """The survey, ingest, template and match commands take editions, groups, waves and languages as
    people write them; the parser hands the command their canonical values."""
    args = cli.build_parser().parse_args(argv)
    assert options.refusal(args) is None
    got = {k: getattr(args, k) for k in expected}
    if "edition" in got:
        got["edition"] = got["edition"].edition
    assert got == expected


@pytest.mark.parametrize("argv, named", [
    (["build", "--only", "powiaty,gmina"], "'gmina'"),
    (["build", "--format", "docx"], "'docx'"),
    (["build", "--lang", "de"], "'de'"),
    (["export", "--edition", EDITION, "--lang", "niemiecki"], "'niemiecki'"),
    (["survey", "form", "--group", "students", "--lang", "nl"], "'nl'"),
])
def test_an_unknown_option_value_is_one_line(world, capsys, argv, named):
    assert main([*argv, *(["--db", world["db"]] if argv[0] != "survey" else [])]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and named in err and "accepted:" in err, err
    assert "usage:" not in err


def test_polish_kinds_build_those_reports(world, capsys):
    out = world["root"] / "reports-pl"
    assert main(["build", "--edition", "XIX", "--only", "województwo", "--format", "HTML", "--lang", "Polski",
                 "--quiet", "--out", str(out), "--db", world["db"]]) == 0
    assert "raportów 1, zbudowano 1" in capsys.readouterr().out
    assert sorted(p.name for p in (out / "2025-2026").glob("*.html")) == ["index.html", "wojewodztwo.html"]


def test_export_language_any_case(world, tmp_path, capsys):
    assert main(["export", "--edition", "2025-2026", "--lang", "EN", "--out", str(tmp_path / "en.xlsx"),
                 "--db", world["db"]]) == 0
    assert "Decisions" in openpyxl.load_workbook(tmp_path / "en.xlsx").sheetnames
