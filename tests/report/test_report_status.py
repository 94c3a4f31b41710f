"""What a school report says about an institution's status and next stage, in every case a
coordinator meets: not audited; audited with a next stage to reach; a control audit of a Lider or of
a school holding a certificate (what it confirmed, what keeps the status, which audit gives the next
stage); every stage reached; and an award from the register that the rules deny, which the status
must not count while `zpb db check` calls it a problem.

The register is imported with the real command from a workbook filled as a person fills it; audits
are stored directly (their protocol import has its own tests). Thresholds and the validity of awards
are read here from the rules' YAML file, not from the scoring code."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from bs4 import BeautifulSoup

from zpb_lib.domain import cube
from zpb_lib import store
from zpb_lib.cli import main
from zpb_lib.report.county import CountyReport
from zpb_lib.report.school import SchoolReport
from zpb_lib.store.write import insert_rows, transaction
from support.register import fill_register

EDITION = "2025/2026"
RULES = yaml.safe_load((Path(__file__).resolve().parents[2] / "zpb_lib" / "data" / "rules" / "school.yaml")
                       .read_text(encoding="utf-8"))["rule_sets"][-1]
CONTROL_MIN = RULES["control"]["min_points"]
CERTIFICATE_MIN = RULES["awards"]["certificate"]["min_points"]
EXTENSION_MIN = RULES["awards"]["extension"]["min_points"]

# id, RSPO, name; all primary schools of powiat bocheński (1201)
SCHOOLS = {
    "unaudited": (601, 610001, "Szkoła Podstawowa nr 1 w Bochni"),
    "short": (602, 610002, "Szkoła Podstawowa nr 2 w Bochni"),
    "leader_control": (603, 610003, "Szkoła Podstawowa nr 3 w Bochni"),
    "certified_control": (604, 610004, "Szkoła Podstawowa nr 4 w Bochni"),
    "failed_control": (605, 610005, "Szkoła Podstawowa nr 5 w Bochni"),
    "complete": (606, 610006, "Szkoła Podstawowa nr 6 w Bochni"),
    "contested": (607, 610007, "Szkoła Podstawowa nr 7 w Bochni"),
}


def rspo(case: str) -> str:
    return str(SCHOOLS[case][1])


def name(case: str) -> str:
    return SCHOOLS[case][2]


def leader_history(case: str) -> list[tuple]:
    """A Lider's awards as the register records them, each consistent with the rules: certificate
    2011/2012, extension 2013/2014 (while the certificate was valid), leader title 2018/2019 (while
    the extension was valid, after 8 full years in the programme)."""
    return [(rspo(case), name(case), "2011/2012", "certyfikat", dt.date(2012, 10, 15)),
            (rspo(case), name(case), "2013/2014", "przedłużenie", dt.date(2014, 9, 24)),
            (rspo(case), name(case), "2018/2019", "Lider Projektu", dt.date(2019, 10, 15))]


PARTICIPATION = [
    (rspo("unaudited"), None, "2024/2025", None),
    (rspo("short"), None, EDITION, None),
    (rspo("leader_control"), None, "2010/2011", None),
    (rspo("certified_control"), None, "2023/2024", None),
    (rspo("failed_control"), None, "2010/2011", None),
    (rspo("complete"), None, "2010/2011", None),
    (rspo("contested"), None, "2022/2023", None),
]
CERTIFICATE_ON = dt.date(2025, 10, 15)
AWARDS = (leader_history("leader_control") + leader_history("failed_control") + leader_history("complete")
          + [(rspo("certified_control"), None, "2024/2025", "certyfikat", CERTIFICATE_ON),
             # The finding: a leader title after three years, with no extension before it.
             (rspo("contested"), None, "2024/2025", "Lider Projektu", dt.date(2025, 10, 15))])


def points(ref, edition: str, lose: dict[str, int]) -> dict[str, int]:
    """Full points per criterion of the edition's school catalogue, less ``lose``."""
    cat = ref.catalogue_for("school", edition)
    return {c.id: c.max_points - lose.get(c.id, 0) for c in cat.criteria}


@pytest.fixture(scope="module")
def world(tmp_path_factory, ref):
    folder = tmp_path_factory.mktemp("status")
    db = folder / "zpb.sqlite"
    assert main(["init", "--db", str(db)]) == 0
    cat = ref.catalogue_for("school", EDITION)
    non_mandatory = sorted((c for c in cat.criteria if not c.mandatory), key=lambda c: -c.max_points)
    audits = {  # case: (edition, kind, date, points lost per criterion)
        # 3 points lost on non-mandatory criteria: 32 of 35
        "leader_control": (EDITION, "control", "2026-05-20", {non_mandatory[0].id: 3}),
        "certified_control": (EDITION, "control", "2026-05-21", {non_mandatory[1].id: 2}),
        # below the control threshold, on non-mandatory criteria only
        "failed_control": (EDITION, "control", "2026-05-22",
                           {c.id: c.max_points for c in non_mandatory[:7]}),
        "short": (EDITION, "certification", "2026-05-23", {c.id: c.max_points for c in non_mandatory[:6]}),
        "complete": ("2011/2012", "certification", "2012-05-15", {}),
    }
    con = store.connect(db)
    try:
        with transaction(con):
            insert_rows(con, "institutions", ("id", "rspo", "name", "kind", "county", "municipality", "locality"),
                        [(i, r, n, "primary", "1201", "Bochnia", "Bochnia") for i, r, n in SCHOOLS.values()])
            for n, (case, (edition, kind, date, lose)) in enumerate(audits.items(), start=1):
                key = ref.catalogue_for("school", edition).key
                insert_rows(con, "audits", ("id", "institution_id", "edition", "kind", "audit_date", "catalogue"),
                            [(700 + n, SCHOOLS[case][0], edition, kind, date, key)])
                insert_rows(con, "audit_items", ("audit_id", "criterion", "points"),
                            [(700 + n, c, p) for c, p in points(ref, edition, lose).items()])
    finally:
        con.close()
    register = fill_register(folder / "rejestr.xlsx", PARTICIPATION, AWARDS)
    assert main(["ingest", "register", str(register), "--db", str(db)]) == 0
    con = store.connect(db, readonly=True)
    try:
        path = cube.build(con, EDITION, folder / "cube.sqlite")
    finally:
        con.close()
    c = cube.Cube(path)
    totals = {case: sum(points(ref, a[0], a[3]).values()) for case, a in audits.items()}
    yield {"db": db, "cube": c, "totals": totals, "audits": audits, "catalogue": cat}
    c.close()


def text(markup) -> str:
    return " ".join(BeautifulSoup(str(markup), "html.parser").get_text(" ", strip=True).replace("\u00a0", " ").split())


def gaps(world, case: str, lang: str = "pl") -> str:
    return text(SchoolReport(world["cube"], rspo(case), lang=lang).gaps())


# --------------------------------------------------------------------------- the next-stage sentence

def test_not_audited(world):
    assert gaps(world, "unaudited") == "Czego brakuje do kolejnego etapu Placówka nie miała jeszcze audytu."
    assert gaps(world, "unaudited", "en") == "What is missing for the next step The institution has not been " \
                                             "audited yet."


def test_audited_with_a_next_stage_names_what_is_missing(world):
    total = world["totals"]["short"]
    assert total < CERTIFICATE_MIN  # the case needs an audit below the certificate's threshold
    out = gaps(world, "short")
    assert f"Brakuje {CERTIFICATE_MIN - total} pkt do: certyfikat — " in out
    assert "nie miała jeszcze audytu" not in out
    assert f"{CERTIFICATE_MIN - total} points short of the certificate: " in gaps(world, "short", "en")


def test_control_audit_of_a_leader_says_what_it_confirmed(world):
    """The finding: a Lider with a control audit of 32/35 this edition was told it had not been audited."""
    total = world["totals"]["leader_control"]
    assert total == 32
    out = gaps(world, "leader_control")
    assert "nie miała jeszcze audytu" not in out
    assert (f"Audyt kontrolny z 20.05.2026 potwierdził, że placówka spełnia wymagania programu: 32 z 35 pkt "
            f"(próg: {CONTROL_MIN} pkt). Placówka zachowuje tytuł Lidera Projektu: jest bezterminowy i to ostatni "
            "etap programu.") in out
    assert "Co potwierdził audyt kontrolny" in out and "Kolejny etap" not in out
    en = gaps(world, "leader_control", "en")
    assert (f"The control audit of 20 May 2026 confirmed that the institution meets the programme's requirements: "
            f"32 of 35 points (threshold: {CONTROL_MIN}). The institution keeps the Project Leader title") in en
    # The audit result above the gap list is the same control audit.
    result = text(SchoolReport(world["cube"], rspo("leader_control")).audit_result())
    assert "Audyt z 20.05.2026: 32 z 35 pkt" in result


def test_control_audit_of_a_certified_school_says_what_keeps_the_status_and_what_comes_next(world):
    total = world["totals"]["certified_control"]
    until = CERTIFICATE_ON.replace(year=CERTIFICATE_ON.year + RULES["awards"]["certificate"]["valid_years"])
    out = gaps(world, "certified_control")
    assert (f"Audyt kontrolny z 21.05.2026 potwierdził, że placówka spełnia wymagania programu: {total} z 35 pkt "
            f"(próg: {CONTROL_MIN} pkt). Certyfikat placówki jest ważny do {until:%d.%m.%Y}. Kolejny etap — "
            f"przedłużenie certyfikatu — placówka może otrzymać po pozytywnym reaudycie (co najmniej "
            f"{EXTENSION_MIN} pkt).") in out
    en = gaps(world, "certified_control", "en")
    assert f"The institution's certificate is valid until {until.day} Oct {until.year}." in en
    assert f"The next stage, the extension, comes after a positive re-audit (at least {EXTENSION_MIN} points)." in en


def test_negative_control_audit_says_what_is_missing(world):
    total = world["totals"]["failed_control"]
    assert total < CONTROL_MIN
    lost = world["audits"]["failed_control"][3]
    largest = max(lost, key=lambda c: (lost[c], -[k.id for k in world["catalogue"].criteria].index(c)))
    title = world["catalogue"].criterion(largest).title_pl.rstrip(".")
    out = gaps(world, "failed_control")
    assert (f"Audyt kontrolny z 22.05.2026 nie potwierdził, że placówka spełnia wymagania programu: {total} z 35 pkt "
            f"(próg: {CONTROL_MIN} pkt). Do progu brakuje {CONTROL_MIN - total} pkt — {title}") in out


def test_every_stage_reached(world):
    out = gaps(world, "complete")
    assert ("Placówka ma tytuł Lidera Projektu: przeszła wszystkie etapy programu, a tytuł jest bezterminowy."
            in out)
    assert "Brakuje" not in out and "nie miała jeszcze audytu" not in out
    assert "it has passed every stage of the programme" in gaps(world, "complete", "en")


# --------------------------------------------------------------------------- awards the rules deny

def test_an_award_db_check_calls_invalid_does_not_make_the_status(world, capsys):
    assert main(["db", "check", "--db", str(world["db"])]) == 1
    problems = [line for line in capsys.readouterr().out.splitlines() if not line.startswith("note: ")]
    denied = {line.split(":")[0] for line in problems}
    assert denied == {f"awards RSPO {rspo('contested')} leader 2024/2025"}, problems
    report = SchoolReport(world["cube"], rspo("contested"))
    status = text(report.status())
    assert "Status etap I (przed pierwszym certyfikatem)" in status and "Status Lider Projektu" not in status
    # The award stays listed as recorded, with why it does not count.
    assert ("2024/2025 tytuł „Lider Projektu Szkoła Promująca Bezpieczeństwo” 15.10.2025 bezterminowo "
            "nie liczy się do statusu: placówka nie miała ważnego "
            "wyróżnienia, którego ono wymaga; placówka nie miała wymaganej liczby lat udziału w programie") in status
    assert "nie liczy się do statusu placówki" in status
    # The Lider whose history the rules accept keeps its status, with no note.
    other = text(SchoolReport(world["cube"], rspo("leader_control")).status())
    assert "Status Lider Projektu" in other and "nie liczy się" not in other
    # The county report lists the contested award under its institutions, and counts one leader less.
    county = CountyReport(world["cube"], "1201")
    assert (f"{name('contested')} ({rspo('contested')}): tytuł Lidera 2024/2025" in text(county.institutions()))
    leaders = {SCHOOLS[c][0] for c in ("leader_control", "failed_control", "complete")}
    summary = world["cube"].table("county_summary", county="1201").iloc[0]
    assert summary["leaders"] == len(leaders)
    cube_awards = world["cube"].table("awards")
    assert set(cube_awards.loc[cube_awards["contested"], "institution_id"]) == {SCHOOLS["contested"][0]}
    in_english = text(SchoolReport(world["cube"], rspo("contested"), lang="en").status())
    assert "does not count towards the status: the institution did not hold the valid award it requires" in in_english
