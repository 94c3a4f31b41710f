"""Checking the cells of the register's rows: each row becomes a record of checked values with its
natural key, or located problems (sheet, row, column). A row marked „Usuń” is read only as far
as its key."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Callable

from zpb_lib.core.text import cell_date, norm, pl_date
from zpb_lib.domain.institutions import Institution, UnknownInstitution, lookup
from zpb_lib.ingest import Problem, Problems
from zpb_lib.ingest.register.layout import (ACTION_KIND_LABELS, ACTIONS, AREA_LABELS, AWARD_KIND_LABELS, AWARDS,
                                            INSTITUTIONS_SHEET, PARTICIPATION, PARTNER_KIND_LABELS, PARTNERS,
                                            STATUS_LABELS, Sheet)
from zpb_lib.ingest.register.read import Cell, RawRow
from zpb_lib.reference import Reference
from zpb_lib.store.backend import Connection
from zpb_lib.store.schema import AWARD_KINDS

# Other ways people write the same values (the published lists, older spreadsheets).
_ALIASES = {
    "award": {"lider": "leader", "tytuł lidera": "leader",
              "Lider Projektu – Szkoła Promująca Bezpieczeństwo": "leader",
              "certyfikat „Szkoła Promująca Bezpieczeństwo”": "certificate",
              "Uczelnia Wyższa Promująca Bezpieczeństwo": "university_certificate",
              "certyfikat uczelni": "university_certificate"},
    "area": {"przemoc": "violence", "przemoc w szkole": "violence", "miejsce niebezpieczne": "dangerous_places"},
    "action": {"infrastruktura": "infrastructure", "infrastrukturalny": "infrastructure",
               "profilaktyka": "prevention", "profilaktyczny": "prevention",
               "profilaktyczno-integracyjne": "prevention"},
    "status": {"zaplanowane": "planned", "w realizacji": "in_progress", "zrealizowane": "done",
               "porzucone": "dropped"},
    "partner": {"straż gminna": "city_guard", "państwowa straż pożarna": "fire_brigade", "psp": "fire_brigade",
                "gmina": "local_government", "starostwo": "local_government"},
}


class _Invalid(Exception):
    """A row cannot be stored; carries the located problem(s) of its cells."""

    def __init__(self, *problems: Problem):
        super().__init__("; ".join(p.message for p in problems))
        self.problems = list(problems)


def _choices(labels: dict[str, str], aliases: dict[str, str]) -> dict[str, str]:
    """Codes by every text that names them: the Polish label, an alias, the code itself."""
    out: dict[str, str] = {}
    for code, label in labels.items():
        for key in (label, code, code.replace("_", " ")):
            out[norm(key)] = code
    for key, code in aliases.items():
        out[norm(key)] = code
    return out


_KIND_CHOICES = {name: (labels, _choices(labels, _ALIASES[name])) for name, labels in (
    ("award", AWARD_KIND_LABELS), ("area", AREA_LABELS), ("action", ACTION_KIND_LABELS),
    ("status", STATUS_LABELS), ("partner", PARTNER_KIND_LABELS))}
_WHAT = {"award": "award kind", "area": "area", "action": "action kind", "status": "status",
         "partner": "partner kind"}


class Checker:
    """Turns cells into checked values, raising :class:`_Invalid` with the cell's location."""

    def __init__(self, con: Connection, ref: Reference, *, lookup: bool = True):
        self.con, self.ref = con, ref
        self.lookup = lookup  # the workbook has the sheet of institutions
        self._institutions: dict[str, Institution | str] = {}

    def required(self, cell: Cell, expected: str) -> None:
        if cell.empty:
            raise _Invalid(cell.problem(f"empty; expected {expected}"))

    def institution(self, cell: Cell) -> Institution:
        where = (f"as in sheet „{INSTITUTIONS_SHEET}”" if self.lookup else
                 "(find it with `zpb institutions find NAME`), or delete the row if it is no award")
        self.required(cell, f"the institution's RSPO number (school) or POL-on id (university) {where}")
        key = cell.text
        if key not in self._institutions:
            try:
                self._institutions[key] = lookup(self.con, cell.value)
            except (ValueError, UnknownInstitution) as exc:
                self._institutions[key] = str(exc)
        found = self._institutions[key]
        if isinstance(found, str):
            raise _Invalid(cell.problem(found))
        return found

    def edition(self, cell: Cell) -> str:
        self.required(cell, "an edition such as 2025/2026")
        try:
            edition = self.ref.edition_of(cell.text)
        except KeyError as exc:
            raise _Invalid(cell.problem(exc.args[0])) from None
        if not self.ref.editions[edition].held:
            raise _Invalid(cell.problem(f"edition {edition} was not held (the programme was suspended that school "
                                        "year); give a held edition"))
        return edition

    def choice(self, cell: Cell, name: str) -> str:
        labels, lookup_ = _KIND_CHOICES[name]
        allowed = ", ".join(f"„{v}”" for v in labels.values())
        self.required(cell, f"one of {allowed}")
        code = lookup_.get(norm(cell.value))
        if code is None:
            raise _Invalid(cell.problem(f"unknown {_WHAT[name]} {cell.text!r}; expected one of {allowed}"))
        return code

    def date(self, cell: Cell) -> dt.date:
        example = "a date such as 26.05.2026 (a date cell, or text as 26.05.2026 or 2026-05-26)"
        self.required(cell, example)
        d = cell_date(cell.value)
        if d is None:
            raise _Invalid(cell.problem(f"{cell.text!r} is not a date; expected {example}"))
        return d

    @staticmethod
    def in_range(cell: Cell, d: dt.date, lo: dt.date, hi: dt.date, what: str) -> Problem | None:
        if lo <= d <= hi:
            return None
        return cell.problem(f"{pl_date(d)} is out of range: {what} must lie between {pl_date(lo)} and "
                            f"{pl_date(hi)}")

    def county(self, cell: Cell) -> str | None:
        if cell.empty:
            return None  # a partner working in the whole voivodeship
        try:
            return self.ref.county_code(cell.text)
        except KeyError as exc:
            raise _Invalid(cell.problem(exc.args[0])) from None

    def text(self, cell: Cell, expected: str) -> str:
        self.required(cell, expected)
        return cell.text


@dataclass
class Record:
    """One checked row of a sheet: its natural key and the values to store (``remove``: the row is
    marked „Usuń”; only its key was read)."""
    raw: RawRow
    key: tuple
    values: dict[str, Any]
    inst: Institution | None = None
    remove: bool = False

    @property
    def mark(self) -> Cell:
        """The cell a removal's problems point at (the „Usuń” mark)."""
        return self.raw.cells["remove"]


def check_rows(raw_rows: list[RawRow], checker: Checker, problems: Problems,
                parse: Callable[[RawRow, Checker], Record]) -> list[Record]:
    """Checked rows of one sheet; a key twice in the sheet is a problem naming both rows."""
    out: list[Record] = []
    seen: dict[tuple, int] = {}
    for raw in raw_rows:
        mark = raw.cells.get("remove")
        try:
            if mark is not None and not mark.empty:
                rec = _KEY_PARSERS[raw.sheet.name](raw, checker)
                rec.remove = True
            else:
                rec = parse(raw, checker)
        except _Invalid as exc:
            for p in exc.problems:
                problems.add(p)
            continue
        if rec.key in seen:
            problems.add(raw.problem(raw.sheet.columns[0].key,
                                     f"the same {raw.sheet.what} ({_describe_key(raw.sheet, rec)}) is in rows "
                                     f"{seen[rec.key]} and {raw.row}; keep one"))
            continue
        seen[rec.key] = raw.row
        out.append(rec)
    return out


def _cells(raw: RawRow, checks: dict[str, Callable[[Cell], Any]]) -> dict[str, Any]:
    """Run every check of a row, so that one run reports every bad cell of it."""
    values: dict[str, Any] = {}
    found: list[Problem] = []
    for key, check in checks.items():
        try:
            values[key] = check(raw.cells[key])
        except _Invalid as exc:
            found += exc.problems
    if found:
        raise _Invalid(*found)
    return values


def _parse_participation(raw: RawRow, c: Checker) -> Record:
    v = _cells(raw, {"institution": c.institution, "joined": c.edition,
                     "left": lambda cell: None if cell.empty else c.edition(cell)})
    if v["left"] is not None and v["left"] < v["joined"]:
        raise _Invalid(raw.problem("left", f"left edition {v['left']} is before the joined edition {v['joined']}"))
    inst = v["institution"]
    return Record(raw, (inst.id, v["joined"]), {"institution_id": inst.id, "joined_edition": v["joined"],
                                                  "left_edition": v["left"]}, inst)


def _parse_award(raw: RawRow, c: Checker) -> Record:
    v = _cells(raw, {"institution": c.institution, "edition": c.edition,
                     "kind": lambda cell: c.choice(cell, "award"), "date": c.date})
    inst, e, kind = v["institution"], c.ref.editions[v["edition"]], v["kind"]
    found: list[Problem] = []
    if (kind == "university_certificate") != (inst.family == "university"):
        fits = ", ".join(f"„{AWARD_KIND_LABELS[k]}”" for k in AWARD_KINDS
                         if (k == "university_certificate") == (inst.family == "university"))
        found.append(raw.problem("kind", f"„{AWARD_KIND_LABELS[kind]}” is not an award for a {inst.family} "
                                         f"({inst.label} „{inst.name}”); expected {fits}"))
    late = dt.date(e.audit_from.year + 1, 12, 31)
    bad_date = c.in_range(raw.cells["date"], v["date"], e.audit_from, late,
                          f"the award date of edition {e.edition} (from its audit period to the end of the "
                          "following year)")
    if bad_date:
        found.append(bad_date)
    if found:
        raise _Invalid(*found)
    return Record(raw, (inst.id, e.edition, kind), {
        "institution_id": inst.id, "edition": e.edition, "kind": kind, "awarded_on": v["date"]}, inst)


def _parse_action(raw: RawRow, c: Checker) -> Record:
    v = _cells(raw, {"institution": c.institution, "edition": c.edition,
                     "area": lambda cell: c.choice(cell, "area"), "kind": lambda cell: c.choice(cell, "action"),
                     "title": lambda cell: c.text(cell, "the action's name"),
                     "status": lambda cell: c.choice(cell, "status"), "deadline": c.date})
    inst, e, deadline = v["institution"], c.ref.editions[v["edition"]], v["deadline"]
    bad_date = c.in_range(raw.cells["deadline"], deadline, dt.date(e.start_year, 9, 1),
                          dt.date(e.start_year + 1, 12, 31), f"the deadline of an action of edition {e.edition}")
    if bad_date:
        raise _Invalid(bad_date)
    partner = raw.cells["partner"]
    return Record(raw, (inst.id, e.edition, v["title"]), {
        "institution_id": inst.id, "edition": e.edition, "area": v["area"], "kind": v["kind"], "title": v["title"],
        "partner": None if partner.empty else partner.text, "deadline": deadline, "status": v["status"]}, inst)


def _parse_partner(raw: RawRow, c: Checker) -> Record:
    v = _cells(raw, {"name": lambda cell: c.text(cell, "the partner's name"),
                     "kind": lambda cell: c.choice(cell, "partner"), "county": c.county})
    return Record(raw, (norm(v["name"]), v["county"]), v)


PARSERS = {PARTICIPATION.name: _parse_participation, AWARDS.name: _parse_award, ACTIONS.name: _parse_action,
            PARTNERS.name: _parse_partner}


# A row marked „Usuń” is read only as far as it names the stored row: its other cells may be the
# very mistake being removed.
def _key_participation(raw: RawRow, c: Checker) -> Record:
    v = _cells(raw, {"institution": c.institution, "joined": c.edition})
    inst = v["institution"]
    return Record(raw, (inst.id, v["joined"]), {"institution_id": inst.id, "joined_edition": v["joined"]}, inst)


def _key_award(raw: RawRow, c: Checker) -> Record:
    v = _cells(raw, {"institution": c.institution, "edition": c.edition, "kind": lambda cell: c.choice(cell, "award")})
    inst = v["institution"]
    return Record(raw, (inst.id, v["edition"], v["kind"]), {"institution_id": inst.id, "edition": v["edition"],
                                                             "kind": v["kind"]}, inst)


def _key_action(raw: RawRow, c: Checker) -> Record:
    v = _cells(raw, {"institution": c.institution, "edition": c.edition,
                     "title": lambda cell: c.text(cell, "the action's name")})
    inst = v["institution"]
    return Record(raw, (inst.id, v["edition"], v["title"]), {"institution_id": inst.id, "edition": v["edition"],
                                                              "title": v["title"]}, inst)


def _key_partner(raw: RawRow, c: Checker) -> Record:
    v = _cells(raw, {"name": lambda cell: c.text(cell, "the partner's name"), "county": c.county})
    return Record(raw, (norm(v["name"]), v["county"]), v)


_KEY_PARSERS = {PARTICIPATION.name: _key_participation, AWARDS.name: _key_award, ACTIONS.name: _key_action,
                PARTNERS.name: _key_partner}


def _describe_key(sheet: Sheet, rec: Record) -> str:
    v = rec.values
    who = rec.inst.label if rec.inst else ""
    if sheet is PARTICIPATION:
        return f"{who}, joined {v['joined_edition']}"
    if sheet is AWARDS:
        return f"{who}, {v['edition']}, {v['kind']}"
    if sheet is ACTIONS:
        return f"{who}, {v['edition']}, „{v['title']}”"
    return f"„{v['name']}”" + (f", county {v['county']}" if v["county"] else ", no county")
