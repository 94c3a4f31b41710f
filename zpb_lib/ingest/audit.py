"""Audit protocols: an XLSX template in Polish for the auditors, and the reader that checks a filled
protocol and stores the audit with its points in one transaction.

The template carries the institution, edition and catalogue version it was made for, so that a
protocol filled from an old template (another catalogue version) is recognised and refused rather
than scored against the wrong criteria. Cells the auditor must not change are locked (the sheet is
protected without a password: a guard against slips, not a security measure); points cells accept
only whole numbers 0..max. Decisions (certificates, extensions) are not made here: the scoring
layer computes them from the stored points.
"""
from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from zpb_lib.domain.awards import audit_outcome_lines
from zpb_lib.domain.scoring.rules import rules
from zpb_lib.reference import Catalogue, Criterion, Reference, reference
from zpb_lib.store.schema import AUDIT_KINDS
from zpb_lib.store.write import delete_import, delete_rows, insert_one, insert_rows, update_logged
from zpb_lib.domain.institutions import Institution
from zpb_lib.ingest import (IngestError, PreviousImport, Problem, Problems, check_edition, check_institution,
                            check_may_replace, check_participation, file_hash, is_blank, limits_for, read_bytes,
                            rights_problem)
from zpb_lib.ingest.envelope import ImportEnvelope
from zpb_lib.core.text import cell_date, column_letter, norm, pl_date
from zpb_lib.ingest.archive import open_workbook
from zpb_lib.store.backend import Connection
from zpb_lib.store.queries.audits import (audit_header, audit_ids_of_import, audit_of, audit_points,
                                          award_decided_from_audit, award_decided_from_import, awards_awaiting_audit)
from zpb_lib.core.workbook import formula, save

SHEET = "Protokół audytu"
VALUE_COLUMN = 4  # D: values of the fields at the top
FIELDS = {  # key -> label in column A (Polish: the auditors' language)
    "institution": "Placówka (RSPO / POL-on)", "name": "Placówka", "county": "Powiat", "edition": "Edycja",
    "kind": "Rodzaj audytu", "date": "Data audytu", "catalogue": "Katalog kryteriów"}
TABLE = {"no": "Lp.", "criterion": "Kryterium", "area": "Obszar", "title": "Opis kryterium",
         "max": "Maks. pkt", "points": "Przyznane punkty", "mandatory": "Obowiązkowe"}
OLD_INSTITUTION_LABEL = "ID placówki"  # protocols made before schema 2 name the internal id
KIND_LABELS = {"certification": "certyfikacyjny (etap I)", "reaudit": "ponowny — przedłużenie (etap II)",
               "control": "kontrolny", "leader": "o tytuł Lidera (etap III)"}
TOTAL_LABEL = "Razem"
INSTRUCTIONS = [
    "Jak wypełnić protokół audytu ZPB",
    "1. Wypełnij tylko żółte pola: rodzaj audytu, datę audytu i przyznane punkty.",
    "2. Przy każdym kryterium wpisz liczbę całkowitą od 0 do maksimum podanego w kolumnie „Maks. pkt”. "
    "Wpisz 0, gdy kryterium nie jest spełnione — puste pole oznacza „nie oceniono”.",
    "3. Kryteria oznaczone „tak” w kolumnie „Obowiązkowe” muszą mieć wpisane punkty.",
    "4. Data audytu musi przypadać w okresie audytów edycji (maj–czerwiec).",
    "5. Nie zmieniaj identyfikatora placówki, edycji ani wersji katalogu: protokół jest przygotowany dla tej "
    "placówki, tej edycji i tej wersji katalogu kryteriów.",
    "6. Nie dodawaj ani nie usuwaj wierszy kryteriów. Uwagi zapisz w osobnym dokumencie.",
    "7. Zapisz plik jako skoroszyt Excel (.xlsx) i przekaż do Wydziału Prewencji KWP. "
    "Import: zpb ingest audit PLIK.xlsx",
]


def _kind_lookup() -> dict[str, str]:
    """Audit kind codes by the texts an auditor may type or pick: the list label, its key word, the code."""
    aliases = {"certification": ("certyfikacyjny",), "reaudit": ("ponowny", "re-audit", "przedłużenie"),
               "control": ("kontrolny",), "leader": ("lider", "o tytuł lidera")}
    out: dict[str, str] = {}
    for code, label in KIND_LABELS.items():
        for key in (code, label, *aliases[code]):
            out[norm(key)] = code
    return out


def audit_kind(path: Path, kind: str | None) -> str | None:
    """An audit kind given on the command line, as a code (``control``) or as the protocol's list
    names it in Polish (``kontrolny``, ``ponowny``…)."""
    if kind is None:
        return None
    code = _kind_lookup().get(norm(kind))
    if code is None:
        raise IngestError(path, f"unknown audit kind {kind!r}; expected one of {', '.join(AUDIT_KINDS)} "
                                f"(or {', '.join(KIND_LABELS.values())})")
    return code


def _catalogue(path: Path, ref: Reference, inst: Institution, edition: str) -> Catalogue:
    try:
        return ref.catalogue_for(inst.family, edition)
    except KeyError:
        raise IngestError(path, f"no {inst.family} criteria catalogue is in force in {edition}") from None


# --------------------------------------------------------------------------- template

def write_template(con: Connection, institution: int | str, edition: str, out: str | Path, *,
                   kind: str | None = None, ref: Reference | None = None) -> Path:
    """Write the audit protocol for one institution and edition; returns the file written."""
    # openpyxl: loaded only when a workbook is written
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
    from openpyxl.worksheet.datavalidation import DataValidation

    ref = ref or reference()
    out = Path(out)
    e = check_edition(out, ref, edition)
    edition = e.edition
    inst = check_institution(out, con, ref, institution, e)
    check_participation(out, con, inst, e)
    kind = audit_kind(out, kind)
    cat = _catalogue(out, ref, inst, edition)
    county = ref.counties[inst.county]

    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    thin = Side(style="thin", color="999999")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    bold = Font(bold=True)
    yellow = PatternFill("solid", fgColor="FFF2CC")
    grey = PatternFill("solid", fgColor="D9E1F2")
    wrap = Alignment(wrap_text=True, vertical="top")
    unlocked = Protection(locked=False)
    for letter, width in zip("ABCDEFG", (6, 11, 26, 62, 10, 15, 13)):
        ws.column_dimensions[letter].width = width

    ws["A1"] = "Protokół audytu — Zintegrowana Polityka Bezpieczeństwa (ZPB)"
    ws["A1"].font = Font(bold=True, size=14)
    ws["A2"] = "Wypełnij żółte pola. Instrukcja: poniżej tabeli i w arkuszu „Instrukcja”."
    ws["A2"].font = Font(italic=True)
    values = {
        "institution": inst.rspo if inst.rspo is not None else inst.polon, "name": inst.name, "county": f"{county.name} ({county.teryt})",
        "edition": edition, "kind": KIND_LABELS[kind] if kind else None, "date": None, "catalogue": cat.key}
    row = 4
    field_rows: dict[str, int] = {}
    for key, label in FIELDS.items():
        ws.cell(row, 1, label).font = bold
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=3)
        cell = ws.cell(row, VALUE_COLUMN, values[key])
        cell.alignment = Alignment(horizontal="left")
        if key in ("kind", "date"):
            cell.fill, cell.protection, cell.border = yellow, unlocked, box
        field_rows[key] = row
        row += 1
    ws.cell(field_rows["edition"], 5, f"edycja {e.roman}")
    ws.cell(field_rows["catalogue"], 5, f"maks. {cat.max_total} pkt" + (" (wersja domyślna)" if cat.documented_default else ""))
    date_cell = ws.cell(field_rows["date"], VALUE_COLUMN)
    date_cell.number_format = "DD.MM.YYYY"
    ws.cell(field_rows["date"], 5, f"okres audytów: {pl_date(e.audit_from)}–{pl_date(e.audit_to)}")

    kind_dv = DataValidation(type="list", formula1='"' + ",".join(KIND_LABELS.values()) + '"', allow_blank=True,
                             showErrorMessage=True, errorTitle="Rodzaj audytu", error="Wybierz rodzaj audytu z listy.")
    kind_dv.add(ws.cell(field_rows["kind"], VALUE_COLUMN).coordinate)
    f, t = e.audit_from, e.audit_to
    date_dv = DataValidation(type="date", operator="between", formula1=f"DATE({f.year},{f.month},{f.day})",
                             formula2=f"DATE({t.year},{t.month},{t.day})", allow_blank=True, showErrorMessage=True,
                             errorTitle="Data audytu",
                             error=f"Data audytu musi przypadać między {pl_date(f)} a {pl_date(t)}.")
    date_dv.add(date_cell.coordinate)
    ws.add_data_validation(kind_dv)
    ws.add_data_validation(date_dv)

    header_row = row + 1
    for col, label in enumerate(TABLE.values(), start=1):
        c = ws.cell(header_row, col, label)
        c.font, c.fill, c.border, c.alignment = bold, grey, box, Alignment(wrap_text=True, vertical="center")
    areas = {a.id: a.title_pl for a in cat.areas}
    point_dvs: dict[int, DataValidation] = {}
    r = header_row
    for n, crit in enumerate(cat.criteria, start=1):
        r = header_row + n
        for col, value in enumerate((n, crit.id, areas[crit.area], crit.title_pl, crit.max_points, None,
                                     "tak" if crit.mandatory else "nie"), start=1):
            c = ws.cell(r, col, value)
            c.border, c.alignment = box, wrap
        points = ws.cell(r, 6)
        points.fill, points.protection = yellow, unlocked
        if crit.max_points not in point_dvs:
            point_dvs[crit.max_points] = DataValidation(
                type="whole", operator="between", formula1="0", formula2=str(crit.max_points), allow_blank=True,
                showErrorMessage=True, errorTitle="Przyznane punkty",
                error=f"Wpisz liczbę całkowitą od 0 do {crit.max_points}.")
        point_dvs[crit.max_points].add(points.coordinate)
    for dv in point_dvs.values():
        ws.add_data_validation(dv)
    total_row = r + 1
    ws.cell(total_row, 4, TOTAL_LABEL).font = bold
    formula(ws, total_row, 5, f"=SUM(E{header_row + 1}:E{r})").font = bold
    formula(ws, total_row, 6, f"=SUM(F{header_row + 1}:F{r})").font = bold
    for i, line in enumerate(INSTRUCTIONS, start=total_row + 2):
        ws.cell(i, 1, line).font = bold if i == total_row + 2 else Font()

    ws.freeze_panes = ws.cell(header_row + 1, 1)
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.protection.sheet = True

    guide = wb.create_sheet("Instrukcja")
    guide.column_dimensions["A"].width = 120
    for i, line in enumerate(INSTRUCTIONS, start=1):
        c = guide.cell(i, 1, line)
        c.alignment = Alignment(wrap_text=True, vertical="top")
        c.font = Font(bold=True, size=12) if i == 1 else Font()
    return save(wb, out)  # the institution's name stays text; the totals above stay formulas


# --------------------------------------------------------------------------- reading a protocol

@dataclass
class Protocol:
    path: Path
    content_hash: str
    institution: Institution
    edition: str
    kind: str
    audit_date: dt.date
    catalogue: Catalogue
    points: dict[str, int]  # criterion -> points (criteria left empty are absent)
    not_scored: list[str]


@dataclass(frozen=True)
class _Cell:
    row: int
    col: int  # 1-based
    header: str
    value: object

    def problem(self, message: str) -> Problem:
        return Problem(message, self.row, self.header, column_letter(self.col - 1))


def _open_sheet(path: Path, data: bytes):
    # openpyxl: loaded only when a workbook is read
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    if is_blank(data):
        raise IngestError(path, "the file is empty")
    if not data.startswith(b"PK\x03\x04"):
        raise IngestError(path, "not an XLSX workbook (not a zip archive): save the protocol as an Excel workbook (.xlsx)")
    # openpyxl holds every cell of every sheet: sizes, rows, columns and strings are checked first.
    open_workbook(path, data, limits_for(path, "audit"), scan=True)
    try:
        wb = load_workbook(io.BytesIO(data), data_only=True)
    except zipfile.BadZipFile:
        raise IngestError(path, "not a valid XLSX workbook: the zip archive is damaged or truncated") from None
    except (InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise IngestError(path, f"not a valid XLSX workbook ({exc})") from None
    return wb[SHEET] if SHEET in wb.sheetnames else wb.worksheets[0]


def _fields(path: Path, ws) -> dict[str, _Cell]:
    by_label = {norm(label): key for key, label in FIELDS.items()}
    by_label[norm(OLD_INSTITUTION_LABEL)] = "institution_id"
    found: dict[str, _Cell] = {}
    for r in range(1, min(ws.max_row, 40) + 1):
        label = ws.cell(r, 1).value or ""
        key = by_label.get(norm(label))
        if key == "institution_id":  # an older protocol: the same field, holding the internal id
            key, label = "institution", OLD_INSTITUTION_LABEL
        if key and key not in found:
            found[key] = _Cell(r, VALUE_COLUMN, str(label), ws.cell(r, VALUE_COLUMN).value)
    missing = [FIELDS[k] for k in ("institution", "edition", "kind", "date", "catalogue") if k not in found]
    if missing:
        raise IngestError(path, f"not a ZPB audit protocol: field(s) {', '.join('„' + m + '”' for m in missing)} "
                                "not found in column A; make the protocol with `zpb template audit`")
    return found


def _table(path: Path, ws) -> tuple[int, dict[str, int]]:
    """Header row of the criteria table and the column of each of its headers."""
    wanted = {norm(label): key for key, label in TABLE.items()}
    for r in range(1, min(ws.max_row, 60) + 1):
        cols = {wanted[norm(c.value)]: c.column for c in ws[r] if c.value is not None and norm(c.value) in wanted}
        if "criterion" in cols and "points" in cols:
            missing = [TABLE[k] for k in ("criterion", "max", "points") if k not in cols]
            if missing:
                raise IngestError(path, Problem(f"criteria table without column(s) {', '.join(missing)}", r))
            return r, cols
    raise IngestError(path, f"not a ZPB audit protocol: no criteria table (a row with „{TABLE['criterion']}” and "
                            f"„{TABLE['points']}”)")


def _whole(value: object) -> int | None:
    """A whole number from a cell (Excel stores numbers as floats; text digits are accepted too)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        return int(value)
    return None


def _located(cell: _Cell, exc: IngestError) -> IngestError:
    return IngestError(exc.file, cell.problem(exc.problems[0].message))


def read_protocol(con: Connection, path: str | Path, *, kind: str | None = None,
                  ref: Reference | None = None) -> Protocol:
    """Read and check a filled protocol; raises :class:`IngestError` listing every problem."""
    ref = ref or reference()
    path = Path(path)
    data = read_bytes(path, limits_for(path, "audit"))
    ws = _open_sheet(path, data)
    f = _fields(path, ws)
    try:
        e = check_edition(path, ref, str(f["edition"].value or "").strip())
    except IngestError as exc:
        raise _located(f["edition"], exc) from None
    try:
        inst = check_institution(path, con, ref, f["institution"].value, e,
                                 internal=f["institution"].header == OLD_INSTITUTION_LABEL)
        check_participation(path, con, inst, e)
    except IngestError as exc:
        raise _located(f["institution"], exc) from None
    denied = rights_problem(con, inst.county, f"{inst.label} („{inst.name}”)", f["institution"].problem(""))
    if denied:
        raise IngestError(path, denied)
    expected = _catalogue(path, ref, inst, e.edition)
    given = str(f["catalogue"].value or "").strip()
    if given != expected.key:
        raise IngestError(path, f["catalogue"].problem(
            f"the protocol is for catalogue {given or '(empty)'}, but catalogue {expected.key} applies to "
            f"„{ref.kinds[inst.kind].name_pl}” in edition {e.edition}; make a new protocol with "
            f"`zpb template audit --institution {inst.ident} --edition {e.edition}`"))

    problems = Problems(path)
    kinds = _kind_lookup()
    sheet_kind = kinds.get(norm(f["kind"].value)) if f["kind"].value not in (None, "") else None
    allowed_kinds = "; ".join(f"„{v}”" for v in KIND_LABELS.values())
    if f["kind"].value not in (None, "") and sheet_kind is None:
        problems.add(f["kind"].problem(f"unknown audit kind {f['kind'].value!r}; expected one of {allowed_kinds}"))
    elif kind and sheet_kind and kind != sheet_kind:
        problems.add(f["kind"].problem(f"the protocol says {KIND_LABELS[sheet_kind]!r} but --kind {kind} was given"))
    elif not (kind or sheet_kind):
        problems.add(f["kind"].problem(f"audit kind not given; choose one of {allowed_kinds} or pass --kind"))
    audit_date = cell_date(f["date"].value)
    if audit_date is None:
        given = "no audit date" if f["date"].value in (None, "") else f"{f['date'].value!r} is not a date"
        problems.add(f["date"].problem(f"{given}; expected a date such as 26.05.2026"))
    elif not e.audit_from <= audit_date <= e.audit_to:
        problems.add(f["date"].problem(f"audit date {pl_date(audit_date)} is outside the audit period of edition "
                                       f"{e.edition} ({pl_date(e.audit_from)}–{pl_date(e.audit_to)})"))

    points, not_scored = _criteria(path, ws, expected, problems)
    problems.raise_if_any()
    return Protocol(path, file_hash(data), inst, e.edition, kind or sheet_kind, audit_date, expected,  # type: ignore[arg-type]
                    points, not_scored)


def _criteria(path: Path, ws, cat: Catalogue, problems: Problems) -> tuple[dict[str, int], list[str]]:
    header_row, cols = _table(path, ws)
    headers = {k: str(ws.cell(header_row, c).value) for k, c in cols.items()}
    by_id: dict[str, Criterion] = {c.id: c for c in cat.criteria}
    seen: dict[str, int] = {}
    points: dict[str, int] = {}
    not_scored: list[str] = []

    def cell(r: int, key: str) -> _Cell:
        return _Cell(r, cols[key], headers[key], ws.cell(r, cols[key]).value)

    for r in range(header_row + 1, ws.max_row + 1):
        cid_cell = cell(r, "criterion")
        cid = str(cid_cell.value or "").strip()
        if not cid:
            break  # the total row, or the end of the table
        crit = by_id.get(cid)
        if crit is None:
            problems.add(cid_cell.problem(f"criterion {cid!r} is not in catalogue {cat.key} "
                                          f"(its criteria: {', '.join(by_id)})"))
            continue
        if cid in seen:
            problems.add(cid_cell.problem(f"criterion {cid} appears twice (also in row {seen[cid]})"))
            continue
        seen[cid] = r
        mx = cell(r, "max")
        if _whole(mx.value) != crit.max_points:
            problems.add(mx.problem(f"maximum {mx.value!r} for criterion {cid} differs from {crit.max_points} in "
                                    f"catalogue {cat.key}: the protocol was changed; make a new one with "
                                    "`zpb template audit`"))
        pc = cell(r, "points")
        expected = f"expected a whole number from 0 to {crit.max_points}"
        if pc.value is None or (isinstance(pc.value, str) and not pc.value.strip()):
            if crit.mandatory:
                problems.add(pc.problem(f"mandatory criterion {cid} („{crit.title_pl}”) is not scored; {expected}"))
            else:
                not_scored.append(cid)
            continue
        p = _whole(pc.value)
        if p is None:
            problems.add(pc.problem(f"{pc.value!r} for criterion {cid} is not a whole number; {expected}"))
        elif p > crit.max_points:
            problems.add(pc.problem(f"{p} points for criterion {cid} is over its maximum of {crit.max_points}; {expected}"))
        elif p < 0:
            problems.add(pc.problem(f"{p} points for criterion {cid} is negative; {expected}"))
        else:
            points[cid] = p
    for crit in cat.criteria:
        if crit.id not in seen:
            problems.add(Problem(f"criterion {crit.id} („{crit.title_pl}”) is missing from the protocol; expected one "
                                 f"row per criterion of catalogue {cat.key}, below the header in row {header_row}"))
    return points, not_scored


# --------------------------------------------------------------------------- storing

@dataclass
class AuditImport:
    protocol: Protocol
    audit_id: int | None
    import_id: int | None
    dry_run: bool
    replaced: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)  # what differs from the audit replaced (old → new)
    outcome: list[str] = field(default_factory=list)  # what the audit earns, what comes next
    linked: list[str] = field(default_factory=list)  # awards recorded earlier, now linked to this audit

    def lines(self) -> list[str]:
        p = self.protocol
        total = sum(p.points.values())
        out = [f"{p.path.name}: audit protocol, catalogue {p.catalogue.key}, {len(p.catalogue.criteria)} criteria",
               f"  {p.institution.label} „{p.institution.name}”, edition {p.edition}, "
               f"{KIND_LABELS[p.kind]} ({p.kind}), {pl_date(p.audit_date)}",
               f"  points: {total} of {p.catalogue.max_total}"]
        if p.not_scored:
            out.append(f"  not scored (no points stored; scoring counts them as 0): {', '.join(p.not_scored)}")
        out.extend(f"  {'would replace' if self.dry_run else 'replaced'} {r}" for r in self.replaced)
        out.extend(f"    {line}" for line in self.changes)
        out.extend(f"  linked to this audit: the {k} recorded earlier in the register" for k in self.linked)
        out.extend(f"  {line}" for line in self.outcome)
        out.append("dry run: nothing was stored" if self.dry_run
                   else f"stored the audit with {len(p.points)} criteria as import #{self.import_id} "
                        f"(to take it back: `zpb imports undo {self.import_id}`)")
        return out


def ingest_audit(con: Connection, path: str | Path, *, kind: str | None = None, replace: bool = False,
                 dry_run: bool = False, ref: Reference | None = None) -> AuditImport:
    """Check and store one filled protocol (table ``audits`` and ``audit_items``, provenance in
    ``imports``) in one transaction. An audit of the same institution, edition and kind already
    stored, or the same file imported before, is refused unless ``replace``."""
    ref = ref or reference()
    path = Path(path)
    kind = audit_kind(path, kind)
    p = read_protocol(con, path, kind=kind, ref=ref)
    result = AuditImport(p, None, None, dry_run)
    before: list[_StoredAudit] = []  # the audits of the import replaced, as they were

    def keep_replaced(prev: PreviousImport) -> None:
        _check_no_award(path, award_decided_from_import(con, prev.id))
        before.extend(_stored_audit(con, aid) for aid in audit_ids_of_import(con, prev.id))

    with ImportEnvelope(con, path, "audit", p.content_hash, what="the audit",
                        again="use --replace to replace that import", replace=replace, dry_run=dry_run,
                        before_replacing=keep_replaced) as env:
        if env.replaced is not None:
            result.replaced.append(env.replaced.describe())
            for old_audit in before:
                result.changes += _differences(old_audit, p)
        old = audit_of(con, p.institution.id, p.edition, p.kind)
        if old is not None:
            source = f"import #{old[1]} „{old[2]}”" if old[1] is not None else "not from an import"
            if not replace:
                raise IngestError(path, f"a {p.kind} audit of {p.institution.label} in {p.edition} is "
                                        f"already stored ({source}); nothing was stored "
                                        "(use --replace to replace it)")
            _check_no_award(path, award_decided_from_audit(con, old[0]))
            old_audit = _stored_audit(con, old[0])
            if old[1] is not None:
                check_may_replace(path, con, old[1])
                delete_import(con, old[1])
            else:
                delete_rows(con, "audits", {"id": old[0]})
            result.replaced.append(f"the {p.kind} audit of {p.edition} stored earlier ({source})")
            result.changes += _differences(old_audit, p)
        details = json.dumps({"institution": p.institution.ident, "edition": p.edition, "kind": p.kind,
                              "catalogue": p.catalogue.key, "not_scored": p.not_scored,
                              "replaced": result.replaced}, ensure_ascii=False)
        import_id = env.record(len(p.points), details)
        result.audit_id = insert_one(con, "audits", {
            "institution_id": p.institution.id, "edition": p.edition, "kind": p.kind,
            "audit_date": p.audit_date.isoformat(), "catalogue": p.catalogue.key, "import_id": import_id})
        insert_rows(con, "audit_items", ("audit_id", "criterion", "points"),
                    [(result.audit_id, c.id, p.points[c.id]) for c in p.catalogue.criteria if c.id in p.points])
        result.linked = _link_awards(con, p, result.audit_id, import_id, ref)

        result.outcome = audit_outcome_lines(con, result.audit_id, ref)
    result.import_id = env.import_id
    if dry_run:
        result.audit_id = None
    return result


@dataclass(frozen=True)
class _StoredAudit:
    kind: str
    audit_date: dt.date
    catalogue: str
    points: dict[str, int]  # criteria without a row (not scored) are absent


def _stored_audit(con: Connection, audit_id: int) -> _StoredAudit:
    kind, date, catalogue = audit_header(con, audit_id)
    points = audit_points(con, audit_id)
    return _StoredAudit(kind, dt.date.fromisoformat(str(date)[:10]), catalogue, points)


def _differences(old: _StoredAudit, new: Protocol) -> list[str]:
    """What the replacing protocol changes in the stored audit, as "old → new" lines: kind, date,
    catalogue, the points of every criterion that differ and the total; one line when nothing does."""
    def pts(value: int | None) -> str:
        return "not scored" if value is None else str(value)

    lines = []
    if old.kind != new.kind:
        lines.append(f"kind: {KIND_LABELS.get(old.kind, old.kind)} → {KIND_LABELS[new.kind]}")
    if old.audit_date != new.audit_date:
        lines.append(f"date: {pl_date(old.audit_date)} → {pl_date(new.audit_date)}")
    if old.catalogue != new.catalogue.key:
        lines.append(f"catalogue: {old.catalogue} → {new.catalogue.key}")
    order = [c.id for c in new.catalogue.criteria] + sorted(set(old.points) - {c.id for c in new.catalogue.criteria})
    changed = [f"{cid}: {pts(old.points.get(cid))} → {pts(new.points.get(cid))}" for cid in order
               if old.points.get(cid) != new.points.get(cid)]
    if changed:
        lines.append(f"points changed for {len(changed)} criteri{'on' if len(changed) == 1 else 'a'}: "
                     + "; ".join(changed))
        lines.append(f"total points: {sum(old.points.values())} → {sum(new.points.values())}")
    return lines or ["no differences: the same kind, date and points as the audit replaced"]


def _link_awards(con: Connection, p: Protocol, audit_id: int, import_id: int, ref: Reference) -> list[str]:
    """Awards the register recorded for this institution and edition before their audit came in,
    which this kind of audit gives, are linked to it (undone with the import)."""
    kinds = [r.award_kind for r in rules(ref.directory).for_edition(p.institution.family, p.edition).awards.values()
             if r.audit == p.kind]
    if not kinds:
        return []
    rows = awards_awaiting_audit(con, p.institution.id, p.edition, kinds)
    for award_id, _ in rows:
        update_logged(con, "awards", award_id, {"audit_id": audit_id}, import_id)
    return [k for _, k in rows]


def _check_no_award(path: Path, row: tuple | None) -> None:
    """An audit from which an award was decided cannot be replaced by an import: ``row`` is such
    an award, as ``(kind, edition, import_id)``, or None."""
    if row is not None:
        source = f" (import #{row[2]})" if row[2] is not None else ""
        raise IngestError(path, f"the audit cannot be replaced: the {row[0]} of {row[1]} recorded{source} was decided "
                                "from it; nothing was stored")
