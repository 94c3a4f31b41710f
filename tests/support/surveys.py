"""Survey exports for tests: answers drawn from the questionnaire, written as Google Forms, Excel and
Microsoft Forms files, and the counts they should store."""
from __future__ import annotations

import csv
import random
from pathlib import Path

import openpyxl

from zpb_lib.ingest.survey import ingest_survey

EDITION = "2025/2026"
EMAILS = [f"uczen{i}.kowalski@example.com" for i in range(40)]
NAMES = [f"Jan Kowalski-Testowy {i}" for i in range(40)]


def answers(ref, group: str, n: int, seed: int = 1, empty_share: float = 0.05) -> list[dict]:
    """``n`` responses as values: int (or None) per single item, a set of place codes (or None).
    About one in six answers the places question „Nowhere” ({"nowhere"}, which excludes the
    places); the others tick each place with probability 0.3 (none ticked: set(), an empty cell)."""
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        row = {}
        for item in ref.questionnaires[group].items:
            scale = ref.scales[item.scale]
            if rnd.random() < empty_share:
                row[item.id] = None
            elif scale.kind == "multiple":
                if rnd.random() < 1 / 6:
                    row[item.id] = {o.code for o in scale.options if o.exclusive}
                else:
                    row[item.id] = {o.code for o in scale.options if not o.exclusive and rnd.random() < 0.3}
            else:
                row[item.id] = rnd.choice(scale.values)
        out.append(row)
    return out


def cell(ref, item, value, lang: str, joiner: str) -> str:
    scale = ref.scales[item.scale]
    if value is None or value == set():
        return ""
    pick = (lambda o: o.label_pl) if lang == "pl" else (lambda o: o.label_en)
    if scale.kind == "multiple":
        return joiner.join(pick(o) for o in scale.options if o.code in value)
    return next(pick(o) for o in scale.options if o.value == value)


def question_header(ref, group, lang):
    return [it.text_pl if lang == "pl" else it.text_en for it in ref.questionnaires[group].items]


def write_google_csv(path: Path, ref, group: str, rows: list[dict], *, lang="pl", timestamp="Sygnatura czasowa",
                     email: str | None = "Adres e-mail", encoding="utf-8-sig") -> Path:
    items = ref.questionnaires[group].items
    header = [timestamp] + ([email] if email else []) + question_header(ref, group, lang)
    with open(path, "w", encoding=encoding, newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for i, r in enumerate(rows):
            w.writerow([f"2026/03/{1 + i % 28:02d} 10:15:32 AM CET"] + ([EMAILS[i % len(EMAILS)]] if email else [])
                       + [cell(ref, it, r[it.id], lang, ", ") for it in items])
    return path


def write_excel_csv(path: Path, ref, group: str, rows: list[dict]) -> Path:
    """What Polish Excel writes for „CSV (rozdzielany przecinkami)”: Windows-1250, and the Polish list
    separator, a semicolon."""
    items = ref.questionnaires[group].items
    with open(path, "w", encoding="cp1250", newline="") as fh:
        w = csv.writer(fh, delimiter=";")
        w.writerow(["Sygnatura czasowa"] + question_header(ref, group, "pl"))
        for r in rows:
            w.writerow(["12.03.2026 10:15"] + [cell(ref, it, r[it.id], "pl", ", ") for it in items])
    return path


def write_msforms_xlsx(path: Path, ref, group: str, rows: list[dict], *, lang="en",
                       extra: dict[str, object] | None = None) -> Path:
    """``extra``: more metadata columns (header: value) after the standard ones, as newer exports have."""
    items = ref.questionnaires[group].items
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    meta = ["ID", "Start time", "Completion time", "Email", "Name"] if lang == "en" else \
        ["ID", "Godzina rozpoczęcia", "Godzina ukończenia", "Adres e-mail", "Nazwa"]
    extra = extra or {}
    ws.append(meta + list(extra) + question_header(ref, group, lang))
    import datetime as dt
    for i, r in enumerate(rows):
        values = [cell(ref, it, r[it.id], lang, ";") for it in items]
        values = [v + ";" if v and ref.scales[it.scale].kind == "multiple" else v or None
                  for v, it in zip(values, items)]  # MS Forms ends multiple choices with ";"
        ws.append([i + 1, dt.datetime(2026, 3, 12, 10, 0), dt.datetime(2026, 3, 12, 10, 5),
                   EMAILS[i % len(EMAILS)], NAMES[i % len(NAMES)]] + list(extra.values()) + values)
    wb.save(path)
    return path


def free_target(con, edition=EDITION, offset=0) -> int:
    """The RSPO number of a school of a kind that exists in ``edition``, taking part in it, with no
    survey responses stored for it there."""
    return con.execute(
        "SELECT i.rspo FROM institutions i JOIN institution_kinds k ON k.code = i.kind "
        "WHERE k.exists_to IS NULL AND i.closed_year IS NULL AND k.family = 'school' AND NOT EXISTS "
        "(SELECT 1 FROM survey_responses r WHERE r.institution_id = i.id AND r.edition = :e) AND EXISTS "
        "(SELECT 1 FROM participation p WHERE p.institution_id = i.id AND p.joined_edition <= :e "
        "AND (p.left_edition IS NULL OR p.left_edition >= :e)) "
        "ORDER BY i.id LIMIT 1 OFFSET :o", {"e": edition, "o": offset}).fetchone()[0]


BY_RSPO = "(SELECT id FROM institutions WHERE rspo = ?)"


def stored(con, import_id, sql: str) -> int:
    return con.execute(f"SELECT {sql} FROM survey_responses WHERE import_id = ?", (import_id,)).fetchone()[0]


def expected_counts(rows: list[dict]) -> dict[str, int]:
    """Figures computed from what the test wrote, independently of the importer."""
    return {
        "n": len(rows),
        "safe_45": sum(1 for r in rows if r["safe_school"] in (4, 5)),
        "safe_null": sum(1 for r in rows if r["safe_school"] is None),
        "toilets": sum(1 for r in rows if r["dangerous_places"] and "toilets" in r["dangerous_places"]),
        "places_null": sum(1 for r in rows if not r["dangerous_places"]),
        "nowhere": sum(1 for r in rows if r["dangerous_places"] == {"nowhere"}),
        "nowhere_and_a_place": 0,
        "knows_help_yes": sum(1 for r in rows if r["knows_help"] == 1),
    }


NAMED_PLACES = ("toilets", "corridors", "cloakroom", "playground", "surroundings", "bus_stop", "crossing", "way",
                "other")


def observed_counts(con, import_id) -> dict[str, int]:
    any_place = " OR ".join(f"place_{p} = 1" for p in NAMED_PLACES)
    return {
        "n": stored(con, import_id, "COUNT(*)"),
        "safe_45": stored(con, import_id, "SUM(CASE WHEN safe_school IN (4, 5) THEN 1 ELSE 0 END)"),
        "safe_null": stored(con, import_id, "SUM(CASE WHEN safe_school IS NULL THEN 1 ELSE 0 END)"),
        "toilets": stored(con, import_id, "SUM(CASE WHEN place_toilets = 1 THEN 1 ELSE 0 END)"),
        "places_null": stored(con, import_id, "SUM(CASE WHEN place_toilets IS NULL THEN 1 ELSE 0 END)"),
        "nowhere": stored(con, import_id, "SUM(CASE WHEN place_nowhere = 1 THEN 1 ELSE 0 END)"),
        "nowhere_and_a_place": stored(con, import_id,
                                      f"SUM(CASE WHEN place_nowhere = 1 AND ({any_place}) THEN 1 ELSE 0 END)"),
        "knows_help_yes": stored(con, import_id, "SUM(CASE WHEN knows_help = 1 THEN 1 ELSE 0 END)"),
    }


def ingest(con, path, inst, **kw):
    args = dict(institution=inst, edition=EDITION, group="students", wave="baseline")
    args.update(kw)
    return ingest_survey(con, path, **args)
