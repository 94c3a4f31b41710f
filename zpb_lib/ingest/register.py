"""The programme register workbook: what the police keep by hand and no other file holds —
which institutions take part (participation), the awards given, the action plans and the partners.

``write_register_template`` exports what the database holds as an XLSX workbook in Polish, with a
lookup sheet of institutions and list validation, so that the register can be exported, edited in
Excel and imported back. ``ingest_register`` reads whichever of the four data sheets a workbook holds
(a reviewed ``zpb match`` result holds only „Nagrody”; its items left without an institution are
skipped and listed, since a list may name a school the register lacks), checks every cell and
upserts the rows by their natural keys in one transaction: new rows carry the import's id, changed
rows go through ``update_logged`` so that ``zpb imports undo`` can restore them, and rows the file
lacks are kept. A row marked in the column „Usuń” removes the stored row with its key
(``remove_logged`` keeps it whole, so that the undo puts it back), unless later data depends on it:
an action naming a partner, audits, surveys or awards only a participation period covers, an award
an audit gives or another award requires — then the import is refused naming what depends on it.

The register is the official record: an award that contradicts the rules or the audits is stored
(``zpb db check`` lists it); only what cannot be a correct record is refused.
"""
from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from zpb_lib.domain.institutions import Institution, UnknownInstitution, lookup
from zpb_lib.reference.identifiers import identifier
from zpb_lib.reference import Reference, reference
from zpb_lib.store.schema import AWARD_KINDS
from zpb_lib.store.write import insert_one, remove_logged, update_logged
from zpb_lib.core.wording import count, plural
from zpb_lib.core.workbook import save
from zpb_lib.ingest import IngestError, Problem, Problems, file_hash, is_blank, limits_for, read_bytes, rights_problem
from zpb_lib.ingest.envelope import ImportEnvelope
from zpb_lib.core.text import cell_date, column_letter, norm, pl_date
from zpb_lib.ingest.archive import open_workbook
from zpb_lib.store.backend import Connection

# --------------------------------------------------------------------------- the workbook's texts
# Sheet names and headers are an interface: `zpb match` writes „Nagrody” with these headers and
# people's own tools read them. Change them only together with those.

PARTICIPATION_SHEET = "Udział"
AWARDS_SHEET = "Nagrody"
ACTIONS_SHEET = "Plany działań"
PARTNERS_SHEET = "Partnerzy"
INSTITUTIONS_SHEET = "Placówki"
GUIDE_SHEET = "Instrukcja"
LISTS_SHEET = "Listy"  # hidden: the validation lists

INSTITUTION_HEADER = "Placówka (RSPO / POL-on)"
NAME_HEADER = "Nazwa placówki"  # for the reader only: never read back
# `zpb match` adds the published list's item to each row of „Nagrody”: a row that still has it and no
# institution is an item nobody matched, skipped and counted rather than refused.
LIST_LINE_HEADER = "Linia z listy"
PARTICIPATION_HEADERS = (INSTITUTION_HEADER, NAME_HEADER, "Edycja przystąpienia", "Edycja odejścia")
AWARD_HEADERS = (INSTITUTION_HEADER, NAME_HEADER, "Edycja", "Rodzaj nagrody", "Data przyznania")
ACTION_HEADERS = (INSTITUTION_HEADER, NAME_HEADER, "Edycja", "Obszar", "Rodzaj działania", "Działanie", "Partner",
                  "Termin", "Status")
PARTNER_HEADERS = ("Nazwa", "Rodzaj", "Powiat")
# The last column of every data sheet, optional when read (a `zpb match` file and older registers
# lack it): any mark removes the stored row with the row's key.
REMOVE_HEADER = "Usuń"
INSTITUTION_LIST_HEADERS = ("Identyfikator (RSPO / POL-on)", "Nazwa", "Miejscowość", "Powiat", "Rodzaj")

AWARD_KIND_LABELS = {"certificate": "certyfikat", "extension": "przedłużenie", "leader": "Lider Projektu",
                     "university_certificate": "uczelnia"}
AREA_LABELS = {"violence": "przemoc szkolna", "dangerous_places": "miejsca niebezpieczne", "other": "inne"}
ACTION_KIND_LABELS = {"infrastructure": "infrastrukturalne", "prevention": "profilaktyczne"}
STATUS_LABELS = {"planned": "planowane", "in_progress": "w trakcie", "done": "wykonane", "dropped": "zaniechane"}
PARTNER_KIND_LABELS = {"police": "policja", "city_guard": "straż miejska", "fire_brigade": "straż pożarna",
                       "local_government": "samorząd", "ngo": "organizacja pozarządowa", "parents": "rodzice",
                       "health": "ochrona zdrowia", "other": "inne"}
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
DATE_FORMAT = "DD.MM.YYYY"
EXTRA_ROWS = 1000  # empty rows below the data that still get validation, for new entries

_INSTRUCTIONS = [
    "Rejestr programu „Zintegrowana Polityka Bezpieczeństwa” — jak go wypełnić",
    "Rejestr zawiera to, czego nie ma w żadnym innym pliku: udział placówek w programie, przyznane nagrody, "
    "plany działań i partnerów. Skoroszyt wypełniono tym, co już jest w bazie danych: popraw lub dopisz "
    "wiersze i zaimportuj go z powrotem poleceniem: zpb ingest register PLIK.xlsx",
    "1. Placówkę wskazuj numerem RSPO (szkoła) albo identyfikatorem POL-on (uczelnia). Listę placówek z bazy "
    "zawiera arkusz „Placówki”. Kolumna „Nazwa placówki” służy tylko do czytania — przy imporcie jest "
    "pomijana.",
    "2. Edycję wpisuj jako rok szkolny, np. {edition} (można też {edition_dash} albo numer edycji, np. {roman}). "
    "{suspended}",
    "3. „Udział”: jeden wiersz na okres udziału placówki. Gdy placówka odchodzi z programu, wpisz edycję "
    "odejścia w istniejącym wierszu (nie dodawaj nowego). Edycja odejścia nie może być wcześniejsza niż "
    "edycja przystąpienia.",
    "4. „Nagrody”: rodzaj nagrody wybierz z listy: {validity}. Data przyznania musi przypadać między "
    "początkiem okresu audytów edycji a 31 grudnia roku następującego po audycie. Termin ważności program "
    "wylicza sam z zasad obowiązujących w danej edycji.",
    "5. „Plany działań”: jeden wiersz na działanie. Nazwa działania jest w planie placówki na daną edycję "
    "niepowtarzalna — zmiana nazwy oznacza nowe działanie. Termin musi przypadać między 1 września roku "
    "rozpoczęcia edycji a 31 grudnia roku następnego. „Partner” to nazwa partnera z arkusza „Partnerzy” "
    "(najlepiej z powiatu placówki) albo puste pole.",
    "6. „Partnerzy”: nazwa, rodzaj i powiat partnera. Partnera działającego w całym województwie wpisz bez "
    "powiatu. Nowego partnera dopisz tutaj, zanim wskażesz go w planie działań.",
    "7. Usunięcie wiersza z pliku niczego nie kasuje: wiersze, których w pliku brak, zostają w bazie bez zmian. "
    "Aby usunąć zapisany wiersz z bazy, wpisz cokolwiek (np. „x”) w kolumnie „Usuń” tego wiersza: liczą się "
    "wtedy tylko kolumny, które go wskazują (placówka i edycja przystąpienia; placówka, edycja i rodzaj "
    "nagrody; placówka, edycja i nazwa działania; nazwa i powiat partnera). Import, który usuwa, można cofnąć "
    "jak każdy inny (zpb imports undo NUMER). Wiersza, od którego zależą inne dane (partnera wskazanego w "
    "działaniach, udziału, bez którego audyt lub ankieta wypadłyby poza program, nagrody przyznanej w audycie "
    "albo wymaganej przez późniejszą nagrodę), nie da się usunąć: import wskaże, co od niego zależy.",
    "8. Nie zmieniaj nagłówków ani nazw arkuszy. Kolejność kolumn może być dowolna.",
    "9. Przed zapisaniem zmian można je obejrzeć: zpb ingest register PLIK.xlsx --dry-run",
]




def instructions(ref: Reference) -> list[str]:
    """The „Instrukcja” sheet's lines; the awards' validity comes from the rules of the latest edition."""
    from zpb_lib.domain.scoring.rules import rules

    edition = ref.current_edition().edition
    parts: list[str] = []
    for family, who in (("school", "dla szkół"), ("university", "dla uczelni")):
        rule_set = rules(ref.directory).for_edition(family, edition)
        kinds = dict.fromkeys(r.award_kind for r in rule_set.awards.values())
        texts = []
        for kind in kinds:
            years = rule_set.rule_for_award(kind).valid_years  # type: ignore[union-attr]
            texts.append(f"{AWARD_KIND_LABELS[kind]} ({_years_pl(years) if years else 'bezterminowo'})")
        parts.append(", ".join(texts) + f" — {who}")
    gap = [e.edition for e in ref.editions.values() if not e.held]
    suspended = (f"W latach szkolnych {gap[0]}–{gap[-1]} program był zawieszony: tych edycji nie wpisuj."
                 if gap else "")
    current = ref.current_edition()
    fields = {"validity": "; ".join(parts), "suspended": suspended, "edition": current.edition,
              "edition_dash": current.edition.replace("/", "-"), "roman": current.roman or ""}
    out = []
    for line in _INSTRUCTIONS:
        for key, value in fields.items():
            line = line.replace("{" + key + "}", value)
        out.append(line)
    return out


def _years_pl(n: int) -> str:
    """„2 lata”, „5 lat”, „1 rok”: Polish plural forms."""
    if n == 1:
        return "1 rok"
    few = n % 10 in (2, 3, 4) and n % 100 not in (12, 13, 14)
    return f"{n} {'lata' if few else 'lat'}"


# --------------------------------------------------------------------------- sheet layout

@dataclass(frozen=True)
class _Col:
    key: str
    header: str
    width: float
    info: bool = False  # for the reader only: never read
    optional: bool = False  # read when present, never required


@dataclass(frozen=True)
class _Sheet:
    name: str
    what: str  # English name of a row, for messages
    table: str
    columns: tuple[_Col, ...]

    @property
    def headers(self) -> tuple[str, ...]:
        return tuple(c.header for c in self.columns)

    def col(self, key: str) -> _Col:
        return next(c for c in self.columns if c.key == key)


def _sheet(name: str, what: str, table: str, headers: tuple[str, ...], keys: str, widths: tuple[float, ...]
           ) -> _Sheet:
    cols = tuple(_Col(key, h, width, h == NAME_HEADER) for h, key, width in zip(headers, keys.split(), widths))
    return _Sheet(name, what, table, cols + (_Col("remove", REMOVE_HEADER, 9, optional=True),))


PARTICIPATION = _sheet(PARTICIPATION_SHEET, "participation", "participation", PARTICIPATION_HEADERS,
                       "institution name joined left", (24, 50, 20, 18))
AWARDS = _sheet(AWARDS_SHEET, "award", "awards", AWARD_HEADERS, "institution name edition kind date",
                (24, 50, 12, 18, 16))
ACTIONS = _sheet(ACTIONS_SHEET, "action", "action_items", ACTION_HEADERS,
                 "institution name edition area kind title partner deadline status", (24, 40, 12, 22, 18, 50, 40, 12, 12))
PARTNERS = _sheet(PARTNERS_SHEET, "partner", "partners", PARTNER_HEADERS, "name kind county", (60, 24, 18))
SHEETS = (PARTICIPATION, AWARDS, ACTIONS, PARTNERS)


# --------------------------------------------------------------------------- template

def _export_rows(con: Connection, ref: Reference) -> dict[str, list[tuple]]:
    """What the database holds, as the rows of each data sheet (identifiers people use, Polish labels)."""
    def ident(rspo: Any, polon: Any) -> str:
        return identifier(rspo, polon)

    def day(text: str | None) -> dt.date | None:
        return dt.date.fromisoformat(text) if text else None

    inst = "i.rspo, i.polon, i.name"
    join = "JOIN institutions i ON i.id = t.institution_id"
    out: dict[str, list[tuple]] = {}
    out[PARTICIPATION.name] = [
        (ident(r[0], r[1]), r[2], r[3], r[4]) for r in con.execute(
            f"SELECT {inst}, t.joined_edition, t.left_edition FROM participation t {join} "
            "ORDER BY t.joined_edition, i.name, t.id")]
    out[AWARDS.name] = [
        (ident(r[0], r[1]), r[2], r[3], AWARD_KIND_LABELS[r[4]], day(r[5])) for r in con.execute(
            f"SELECT {inst}, t.edition, t.kind, t.awarded_on FROM awards t {join} "
            "ORDER BY t.edition, t.kind, i.name, t.id")]
    out[ACTIONS.name] = [
        (ident(r[0], r[1]), r[2], r[3], AREA_LABELS[r[4]], ACTION_KIND_LABELS[r[5]], r[6], r[7], day(r[8]),
         STATUS_LABELS[r[9]]) for r in con.execute(
            f"SELECT {inst}, t.edition, t.area, t.kind, t.title, p.name, t.deadline, t.status FROM action_items t "
            f"{join} LEFT JOIN partners p ON p.id = t.partner_id ORDER BY t.edition, i.name, t.id")]
    out[PARTNERS.name] = [
        (r[0], PARTNER_KIND_LABELS[r[1]], ref.counties[r[2]].name if r[2] else None) for r in con.execute(
            "SELECT name, kind, county FROM partners ORDER BY county IS NULL, county, name, id")]
    out[INSTITUTIONS_SHEET] = [
        (ident(r[0], r[1]), r[2], r[3], ref.counties[r[4]].name, ref.kinds[r[5]].name_pl) for r in con.execute(
            "SELECT rspo, polon, name, locality, county, kind FROM institutions ORDER BY county, locality, name, id")]
    return out


def write_register_template(con: Connection, out: str | Path, *, ref: Reference | None = None) -> Path:
    """Write the register workbook, pre-filled with what the database holds; returns the file written."""
    from openpyxl import Workbook

    ref = ref or reference()
    out = Path(out)
    rows = _export_rows(con, ref)
    wb = Workbook()
    wb.remove(wb.active)
    lists = _lists(ref)
    list_ranges = {key: f"'{LISTS_SHEET}'!${column_letter(i)}$2:${column_letter(i)}${len(values) + 1}"
                   for i, (key, (_, values)) in enumerate(lists.items())}
    n_inst = len(rows[INSTITUTIONS_SHEET])
    list_ranges["institution"] = f"'{INSTITUTIONS_SHEET}'!$A$2:$A${max(n_inst + 1, 2)}"
    n_partners = len(rows[PARTNERS.name]) + EXTRA_ROWS
    list_ranges["partner"] = f"'{PARTNERS_SHEET}'!$A$2:$A${n_partners + 1}"

    for sheet in SHEETS:
        ws = wb.create_sheet(sheet.name)
        _data_sheet(ws, sheet, rows[sheet.name])
        _validations(ws, sheet, len(rows[sheet.name]) + EXTRA_ROWS + 1, list_ranges, ref)
    _institutions_sheet(wb.create_sheet(INSTITUTIONS_SHEET), rows[INSTITUTIONS_SHEET])
    _guide_sheet(wb.create_sheet(GUIDE_SHEET), instructions(ref))
    _lists_sheet(wb.create_sheet(LISTS_SHEET), lists)
    wb.active = 0

    return save(wb, out)  # names from the database stay text, never formulas


def _lists(ref: Reference) -> dict[str, tuple[str, list[str]]]:
    """Validation lists: key -> (header in the hidden sheet, values)."""
    return {
        "edition": ("Edycje", [e.edition for e in ref.held_editions()]),
        "award": ("Rodzaje nagród", list(AWARD_KIND_LABELS.values())),
        "area": ("Obszary", list(AREA_LABELS.values())),
        "action": ("Rodzaje działań", list(ACTION_KIND_LABELS.values())),
        "status": ("Statusy", list(STATUS_LABELS.values())),
        "partner_kind": ("Rodzaje partnerów", list(PARTNER_KIND_LABELS.values())),
        "county": ("Powiaty", [c.name for c in ref.counties.values()]),
    }


def _header_row(ws, headers: Iterable[str], widths: Iterable[float]) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill

    for i, (header, width) in enumerate(zip(headers, widths), start=1):
        c = ws.cell(1, i, header)
        c.font = Font(bold=True)
        c.fill = PatternFill("solid", fgColor="D9E1F2")
        c.alignment = Alignment(wrap_text=True, vertical="center")
        ws.column_dimensions[column_letter(i - 1)].width = width
    ws.freeze_panes = "A2"
    ws.print_title_rows = "1:1"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def _data_sheet(ws, sheet: _Sheet, rows: list[tuple]) -> None:
    from openpyxl.styles import Font

    _header_row(ws, sheet.headers, (c.width for c in sheet.columns))
    _remove_header(ws, len(sheet.columns))
    grey = Font(color="666666")
    for r, values in enumerate(rows, start=2):
        for i, (col, value) in enumerate(zip(sheet.columns, values), start=1):
            cell = ws.cell(r, i, value)
            if col.info:
                cell.font = grey
            elif isinstance(value, dt.date):
                cell.number_format = DATE_FORMAT
            elif col.key == "institution":
                cell.number_format = "@"  # an RSPO number is an identifier, not a quantity
    # Cells typed later take the column's format: identifiers and editions as text, dates as dates.
    for i, col in enumerate(sheet.columns):
        dim = ws.column_dimensions[column_letter(i)]
        if col.key in ("date", "deadline"):
            dim.number_format = DATE_FORMAT
        elif col.key in ("institution", "edition", "joined", "left"):
            dim.number_format = "@"
    ws.auto_filter.ref = f"A1:{column_letter(len(sheet.columns) - 1)}{max(len(rows) + 1, 2)}"


def _remove_header(ws, column: int) -> None:
    """The „Usuń” header stands apart (red), with a note on what a mark does."""
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill

    c = ws.cell(1, column)
    c.fill = PatternFill("solid", fgColor="F4CCCC")
    c.font = Font(bold=True, color="990000")
    c.comment = Comment("Wpisz cokolwiek (np. „x”), aby usunąć ten wiersz z bazy danych przy imporcie. "
                        "Usunięcie można cofnąć: zpb imports undo NUMER.", "zpb")


def _validations(ws, sheet: _Sheet, last_row: int, ranges: dict[str, str], ref: Reference) -> None:
    from openpyxl.worksheet.datavalidation import DataValidation

    held = ref.held_editions()
    first_day = dt.date(held[0].start_year, 9, 1)
    last_day = dt.date(held[-1].start_year + 2, 12, 31)
    which = {"institution": ("institution", "Placówka", "Wpisz numer RSPO lub identyfikator POL-on placówki z "
                                                        f"arkusza „{INSTITUTIONS_SHEET}”."),
             "joined": ("edition", "Edycja", "Wybierz edycję z listy (rok szkolny, np. 2025/2026)."),
             "left": ("edition", "Edycja", "Wybierz edycję z listy (rok szkolny, np. 2025/2026)."),
             "edition": ("edition", "Edycja", "Wybierz edycję z listy (rok szkolny, np. 2025/2026)."),
             "area": ("area", "Obszar", "Wybierz obszar z listy."),
             "status": ("status", "Status", "Wybierz status z listy."),
             "partner": ("partner", "Partner", f"Wpisz partnera z arkusza „{PARTNERS_SHEET}” albo zostaw puste pole."),
             "county": ("county", "Powiat", "Wybierz powiat z listy albo zostaw puste pole.")}
    kind_list = {AWARDS.name: "award", ACTIONS.name: "action", PARTNERS.name: "partner_kind"}
    for i, col in enumerate(sheet.columns):
        cells = f"{column_letter(i)}2:{column_letter(i)}{last_row}"
        if col.key in ("date", "deadline"):
            dv = DataValidation(type="date", operator="between", allow_blank=True, showErrorMessage=True,
                                formula1=f"DATE({first_day.year},{first_day.month},{first_day.day})",
                                formula2=f"DATE({last_day.year},{last_day.month},{last_day.day})",
                                errorTitle=col.header, error="Wpisz datę, np. 26.05.2026.")
        elif col.key == "kind":
            dv = DataValidation(type="list", formula1=ranges[kind_list[sheet.name]], allow_blank=True,
                                showErrorMessage=True, errorTitle=col.header, error="Wybierz rodzaj z listy.")
        elif col.key in which:
            source, title, message = which[col.key]
            dv = DataValidation(type="list", formula1=ranges[source], allow_blank=True, showErrorMessage=True,
                                errorTitle=title, error=message)
        else:
            continue
        dv.add(cells)
        ws.add_data_validation(dv)


def _institutions_sheet(ws, rows: list[tuple]) -> None:
    _header_row(ws, INSTITUTION_LIST_HEADERS, (24, 60, 22, 16, 30))
    for r, values in enumerate(rows, start=2):
        for i, value in enumerate(values, start=1):
            cell = ws.cell(r, i, value)
            if i == 1:
                cell.number_format = "@"
    ws.auto_filter.ref = f"A1:E{max(len(rows) + 1, 2)}"
    ws.protection.sheet = True  # a lookup list: a guard against slips, not a security measure
    ws.protection.autoFilter = False  # still allow filtering and sorting to find a school
    ws.protection.sort = False


def _guide_sheet(ws, lines: list[str]) -> None:
    from openpyxl.styles import Alignment, Font

    ws.column_dimensions["A"].width = 120
    for i, line in enumerate(lines, start=1):
        c = ws.cell(i, 1, line)
        c.alignment = Alignment(wrap_text=True, vertical="top")
        c.font = Font(bold=True, size=12) if i == 1 else Font()
    ws.page_setup.paperSize = ws.PAPERSIZE_A4


def _lists_sheet(ws, lists: dict[str, tuple[str, list[str]]]) -> None:
    for i, (header, values) in enumerate(lists.values(), start=1):
        ws.cell(1, i, header)
        for r, value in enumerate(values, start=2):
            ws.cell(r, i, value)
    ws.sheet_state = "hidden"


# --------------------------------------------------------------------------- reading the workbook

@dataclass(frozen=True)
class _Cell:
    sheet: str
    row: int
    col: int  # 0-based
    header: str  # as written in the file
    value: object

    def problem(self, message: str) -> Problem:
        return Problem(message, self.row, self.header, column_letter(self.col), self.sheet)

    @property
    def empty(self) -> bool:
        return self.value is None or (isinstance(self.value, str) and not self.value.strip())

    @property
    def text(self) -> str:
        return "" if self.value is None else " ".join(str(self.value).split())


@dataclass
class _RawRow:
    sheet: _Sheet
    row: int
    cells: dict[str, _Cell]  # column key -> cell

    def problem(self, key: str, message: str) -> Problem:
        return self.cells[key].problem(message)


def _open_workbook(path: Path, data: bytes):
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    if is_blank(data):
        raise IngestError(path, "the file is empty")
    if not data.startswith(b"PK\x03\x04"):
        raise IngestError(path, "not an XLSX workbook (not a zip archive): save the register as an Excel "
                                "workbook (.xlsx), e.g. the one `zpb template register` writes")
    # Sizes, ratio, DOCTYPE, rows, columns and strings, before openpyxl parses anything.
    open_workbook(path, data, limits_for(path, "register"), scan=True)
    try:
        return load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except zipfile.BadZipFile:
        raise IngestError(path, "not a valid XLSX workbook: the zip archive is damaged or truncated") from None
    except (InvalidFileException, KeyError, OSError, ValueError, TypeError) as exc:
        raise IngestError(path, f"not a valid XLSX workbook ({exc})") from None


@dataclass(frozen=True)
class Unmatched:
    """A row of a `zpb match` workbook left without an institution: the list's item it stands for."""
    sheet: str
    row: int
    column: str  # letter of the institution column
    line: str


@dataclass
class _Read:
    sheets: dict[str, list[_RawRow]]  # register sheet → its non-empty rows
    unmatched: list[Unmatched]
    lookup: bool  # the workbook has the sheet of institutions to look identifiers up in


def _read_sheets(path: Path, data: bytes) -> _Read:
    """The rows of each register sheet the workbook holds (by sheet name), fully empty rows left out."""
    wb = _open_workbook(path, data)
    try:
        by_norm = {norm(name): name for name in wb.sheetnames}
        present = {s.name: by_norm[norm(s.name)] for s in SHEETS if norm(s.name) in by_norm}
        if not present:
            raise IngestError(path, "none of the register sheets ("
                              + ", ".join(f"„{s.name}”" for s in SHEETS) + ") is in the workbook "
                              f"(it has {', '.join(f'„{n}”' for n in wb.sheetnames)}); make the register with "
                              "`zpb template register`")
        problems = Problems(path)
        out = _Read({}, [], norm(INSTITUTIONS_SHEET) in by_norm)
        for sheet in SHEETS:
            if sheet.name in present:
                out.sheets[sheet.name], found = _read_sheet(wb[present[sheet.name]], sheet, present[sheet.name],
                                                            out.unmatched)
                for p in found:
                    problems.add(p)
        problems.raise_if_any()
        return out
    finally:
        wb.close()


def _read_sheet(ws, sheet: _Sheet, title: str, unmatched: list[Unmatched]) -> tuple[list[_RawRow], list[Problem]]:
    """The non-empty rows of one sheet, its columns found by header text in any order; or the
    problems of its header row. Items of a published list left without an institution go to
    ``unmatched``."""
    ws.reset_dimensions()  # rows as long as their cells, not as a <dimension> element claims
    rows = ws.iter_rows(values_only=True)
    header = next(rows, None) or ()
    wanted = {norm(c.header): c for c in sheet.columns}
    found: dict[str, tuple[int, str]] = {}  # key -> (0-based column, header as written)
    line_col: int | None = None
    problems: list[Problem] = []
    for i, value in enumerate(header):
        col = wanted.get(norm(value)) if value is not None else None
        if col is None:
            if value is not None and norm(value) == norm(LIST_LINE_HEADER) and line_col is None:
                line_col = i
            continue  # informational columns (e.g. from `zpb match`) and anything else a person added
        if col.key in found:
            problems.append(Problem(f"column „{col.header}” appears twice (columns {column_letter(found[col.key][0])} "
                                    f"and {column_letter(i)}); keep one", 1, str(value), column_letter(i), title))
            continue
        found[col.key] = (i, str(value))
    missing = [c.header for c in sheet.columns if not c.info and not c.optional and c.key not in found]
    if missing:
        needed = ", ".join(f"„{c.header}”" for c in sheet.columns if not c.info and not c.optional)
        problems.append(Problem(f"column(s) {', '.join(f'„{m}”' for m in missing)} missing from the header row; "
                                f"the sheet needs the columns {needed} (in any order)", 1, sheet=title))
    if problems:
        return [], problems
    out: list[_RawRow] = []
    for r, values in enumerate(rows, start=2):
        cells = {key: _Cell(title, r, i, head, values[i] if i < len(values) else None)
                 for key, (i, head) in found.items() if not sheet.col(key).info}
        if all(c.empty for c in cells.values()):
            continue
        line = values[line_col] if line_col is not None and line_col < len(values) else None
        inst = cells.get("institution")
        if inst is not None and inst.empty and line is not None and str(line).strip():
            unmatched.append(Unmatched(title, r, column_letter(inst.col), " ".join(str(line).split())))
            continue
        out.append(_RawRow(sheet, r, cells))
    return out, []


# --------------------------------------------------------------------------- checking the cells

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


class _Checker:
    """Turns cells into checked values, raising :class:`_Invalid` with the cell's location."""

    def __init__(self, con: Connection, ref: Reference, *, lookup: bool = True):
        self.con, self.ref = con, ref
        self.lookup = lookup  # the workbook has the sheet of institutions
        self._institutions: dict[str, Institution | str] = {}

    def required(self, cell: _Cell, expected: str) -> None:
        if cell.empty:
            raise _Invalid(cell.problem(f"empty; expected {expected}"))

    def institution(self, cell: _Cell) -> Institution:
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

    def edition(self, cell: _Cell) -> str:
        self.required(cell, "an edition such as 2025/2026")
        try:
            edition = self.ref.edition_of(cell.text)
        except KeyError as exc:
            raise _Invalid(cell.problem(exc.args[0])) from None
        if not self.ref.editions[edition].held:
            raise _Invalid(cell.problem(f"edition {edition} was not held (the programme was suspended that school "
                                        "year); give a held edition"))
        return edition

    def choice(self, cell: _Cell, name: str) -> str:
        labels, lookup_ = _KIND_CHOICES[name]
        allowed = ", ".join(f"„{v}”" for v in labels.values())
        self.required(cell, f"one of {allowed}")
        code = lookup_.get(norm(cell.value))
        if code is None:
            raise _Invalid(cell.problem(f"unknown {_WHAT[name]} {cell.text!r}; expected one of {allowed}"))
        return code

    def date(self, cell: _Cell) -> dt.date:
        example = "a date such as 26.05.2026 (a date cell, or text as 26.05.2026 or 2026-05-26)"
        self.required(cell, example)
        d = cell_date(cell.value)
        if d is None:
            raise _Invalid(cell.problem(f"{cell.text!r} is not a date; expected {example}"))
        return d

    @staticmethod
    def in_range(cell: _Cell, d: dt.date, lo: dt.date, hi: dt.date, what: str) -> Problem | None:
        if lo <= d <= hi:
            return None
        return cell.problem(f"{pl_date(d)} is out of range: {what} must lie between {pl_date(lo)} and "
                            f"{pl_date(hi)}")

    def county(self, cell: _Cell) -> str | None:
        if cell.empty:
            return None  # a partner working in the whole voivodeship
        try:
            return self.ref.county_code(cell.text)
        except KeyError as exc:
            raise _Invalid(cell.problem(exc.args[0])) from None

    def text(self, cell: _Cell, expected: str) -> str:
        self.required(cell, expected)
        return cell.text


@dataclass
class _Record:
    """One checked row of a sheet: its natural key and the values to store (``remove``: the row is
    marked „Usuń”; only its key was read)."""
    raw: _RawRow
    key: tuple
    values: dict[str, Any]
    inst: Institution | None = None
    remove: bool = False

    @property
    def mark(self) -> _Cell:
        """The cell a removal's problems point at (the „Usuń” mark)."""
        return self.raw.cells["remove"]


def _check_rows(raw_rows: list[_RawRow], checker: _Checker, problems: Problems,
                parse: Callable[[_RawRow, _Checker], _Record]) -> list[_Record]:
    """Checked rows of one sheet; a key twice in the sheet is a problem naming both rows."""
    out: list[_Record] = []
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


def _cells(raw: _RawRow, checks: dict[str, Callable[[_Cell], Any]]) -> dict[str, Any]:
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


def _parse_participation(raw: _RawRow, c: _Checker) -> _Record:
    v = _cells(raw, {"institution": c.institution, "joined": c.edition,
                     "left": lambda cell: None if cell.empty else c.edition(cell)})
    if v["left"] is not None and v["left"] < v["joined"]:
        raise _Invalid(raw.problem("left", f"left edition {v['left']} is before the joined edition {v['joined']}"))
    inst = v["institution"]
    return _Record(raw, (inst.id, v["joined"]), {"institution_id": inst.id, "joined_edition": v["joined"],
                                                  "left_edition": v["left"]}, inst)


def _parse_award(raw: _RawRow, c: _Checker) -> _Record:
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
    return _Record(raw, (inst.id, e.edition, kind), {
        "institution_id": inst.id, "edition": e.edition, "kind": kind, "awarded_on": v["date"]}, inst)


def _parse_action(raw: _RawRow, c: _Checker) -> _Record:
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
    return _Record(raw, (inst.id, e.edition, v["title"]), {
        "institution_id": inst.id, "edition": e.edition, "area": v["area"], "kind": v["kind"], "title": v["title"],
        "partner": None if partner.empty else partner.text, "deadline": deadline, "status": v["status"]}, inst)


def _parse_partner(raw: _RawRow, c: _Checker) -> _Record:
    v = _cells(raw, {"name": lambda cell: c.text(cell, "the partner's name"),
                     "kind": lambda cell: c.choice(cell, "partner"), "county": c.county})
    return _Record(raw, (norm(v["name"]), v["county"]), v)


_PARSERS = {PARTICIPATION.name: _parse_participation, AWARDS.name: _parse_award, ACTIONS.name: _parse_action,
            PARTNERS.name: _parse_partner}


# A row marked „Usuń” is read only as far as it names the stored row: its other cells may be the
# very mistake being removed.
def _key_participation(raw: _RawRow, c: _Checker) -> _Record:
    v = _cells(raw, {"institution": c.institution, "joined": c.edition})
    inst = v["institution"]
    return _Record(raw, (inst.id, v["joined"]), {"institution_id": inst.id, "joined_edition": v["joined"]}, inst)


def _key_award(raw: _RawRow, c: _Checker) -> _Record:
    v = _cells(raw, {"institution": c.institution, "edition": c.edition, "kind": lambda cell: c.choice(cell, "award")})
    inst = v["institution"]
    return _Record(raw, (inst.id, v["edition"], v["kind"]), {"institution_id": inst.id, "edition": v["edition"],
                                                             "kind": v["kind"]}, inst)


def _key_action(raw: _RawRow, c: _Checker) -> _Record:
    v = _cells(raw, {"institution": c.institution, "edition": c.edition,
                     "title": lambda cell: c.text(cell, "the action's name")})
    inst = v["institution"]
    return _Record(raw, (inst.id, v["edition"], v["title"]), {"institution_id": inst.id, "edition": v["edition"],
                                                              "title": v["title"]}, inst)


def _key_partner(raw: _RawRow, c: _Checker) -> _Record:
    v = _cells(raw, {"name": lambda cell: c.text(cell, "the partner's name"), "county": c.county})
    return _Record(raw, (norm(v["name"]), v["county"]), v)


_KEY_PARSERS = {PARTICIPATION.name: _key_participation, AWARDS.name: _key_award, ACTIONS.name: _key_action,
                PARTNERS.name: _key_partner}


def _describe_key(sheet: _Sheet, rec: _Record) -> str:
    v = rec.values
    who = rec.inst.label if rec.inst else ""
    if sheet is PARTICIPATION:
        return f"{who}, joined {v['joined_edition']}"
    if sheet is AWARDS:
        return f"{who}, {v['edition']}, {v['kind']}"
    if sheet is ACTIONS:
        return f"{who}, {v['edition']}, „{v['title']}”"
    return f"„{v['name']}”" + (f", county {v['county']}" if v["county"] else ", no county")


# --------------------------------------------------------------------------- comparing with the database

@dataclass
class _Partner:
    """A partner as the import sees it: stored (``id``) or new from the file (``id`` set on insert)."""
    name: str
    kind: str
    county: str | None
    id: int | None = None


@dataclass
class _Op:
    sheet: _Sheet
    label: str
    values: dict[str, Any]  # column -> value to store (an action's partner_id may be a new _Partner)
    row_id: int | None = None  # the stored row it changes; None: a new row
    rec: _Record | None = None  # the file's row it comes from
    remove: bool = False  # the stored row goes (the file's row is marked „Usuń”)


def _owner(rec: _Record) -> tuple[str | None, str, str]:
    """Whose row a record changes: (county, what to call it, the column that names it)."""
    if rec.inst is not None:
        return rec.inst.county, f"{rec.inst.label} („{rec.inst.name}”)", "institution"
    v = rec.values
    return v.get("county"), f"partner „{v['name']}”", "name"


def _check_rights(con: Connection, ops: list[_Op], problems: Problems) -> None:
    """Every row the import would add or change must be the connected login's to change; another
    police unit's is named with its sheet, row and column before anything is written (rows of other
    units that the file repeats unchanged are fine: they change nothing)."""
    for op in ops:
        if op.rec is None:
            continue
        county, what, column = _owner(op.rec)
        verb = "remove" if op.remove else "change" if op.row_id else "add"
        p = rights_problem(con, county, f"{what}: this row would {verb} {op.sheet.what} {op.label};",
                           op.rec.raw.cells[column].problem(""))
        if p:
            problems.add(p)


@dataclass
class SheetResult:
    """What one sheet of the register brings: new, changed, removed and unchanged rows, the stored
    rows the file does not mention (kept as they are), and rows marked „Usuń” that are not stored."""
    sheet: str
    table: str
    present: bool
    new: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)
    unchanged: int = 0
    kept: int = 0

    def counts(self) -> dict[str, int]:
        out = {"new": len(self.new), "changed": len(self.changed), "unchanged": self.unchanged, "kept": self.kept}
        if self.removed:
            out["removed"] = len(self.removed)
        return out


_SHOWN = {"partner_id": "partner", "awarded_on": "award date", "valid_until": "valid until", "audit_id": "audit",
          "left_edition": "left edition"}


def _show(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, _Partner):
        return f"„{value.name}”"
    return str(value)


class _Planner:
    """Compares the checked rows with what is stored, inside the import's transaction."""

    def __init__(self, con: Connection, ref: Reference, problems: Problems):
        from zpb_lib.domain.scoring.rules import rules

        self.con, self.ref, self.problems = con, ref, problems
        self.rules = rules(ref.directory)
        self.unlinked_awards = 0  # awards of the file with no audit that can give them
        self.rejected_partners: set[str] = set()  # names of the file's partner rows refused (reported there)
        self.removed_partners: dict[int, _Record] = {}  # stored partners the file removes, by id
        self.partners: dict[tuple[str, str | None], _Partner] = {}
        self.partner_by_id: dict[int, _Partner] = {}
        for pid, name, kind, county in con.execute("SELECT id, name, kind, county FROM partners ORDER BY id"):
            p = _Partner(name, kind, county, pid)
            self.partner_by_id[pid] = p
            self.partners.setdefault((norm(name), county), p)

    def _removal(self, sheet: _Sheet, label: str, row_id: int | None, rec: _Record,
                 result: SheetResult) -> _Op | None:
        """The operation for a row marked „Usuń”: remove the stored row with its key; a key the
        database does not hold is only reported (removed before, or never stored)."""
        if row_id is None:
            result.absent.append(label)
            return None
        result.removed.append(label)
        return _Op(sheet, label, {}, row_id, rec, remove=True)

    def _diff(self, sheet: _Sheet, label: str, stored: dict[str, Any] | None, row_id: int | None,
              values: dict[str, Any], result: SheetResult) -> _Op | None:
        """The operation for one row: insert when not stored, update when a value differs, else none."""
        if stored is None:
            result.new.append(label)
            return _Op(sheet, label, values)
        changes = {k: (self._show(k, stored[k]), self._show(k, v)) for k, v in values.items()
                   if k in stored and not _same(stored[k], v)}
        if not changes:
            result.unchanged += 1
            return None
        result.changed.append(label + ": " + "; ".join(f"{_SHOWN.get(k, k)} {a} → {b}"
                                                       for k, (a, b) in changes.items()))
        return _Op(sheet, label, values, row_id)

    def _show(self, key: str, value: Any) -> str:
        if key == "audit_id" and value is not None:  # the audit's kind, not its internal id
            row = self.con.execute("SELECT kind FROM audits WHERE id = ?", (value,)).fetchone()
            return f"{row[0]} audit" if row else "an audit"
        return _show(value)

    # -- partners
    def plan_partners(self, recs: list[_Record], result: SheetResult) -> list[_Op]:
        ops: list[_Op] = []
        matched: set[int] = set()
        for rec in recs:
            v = rec.values
            county = self.ref.counties[v["county"]].name if v["county"] else "no county"
            label = f"„{v['name']}” ({county})"
            stored = self.partners.get(rec.key)
            if rec.remove:
                op = self._removal(PARTNERS, label, stored.id if stored else None, rec, result)
                if op is not None:
                    matched.add(op.row_id)
                    self.removed_partners[op.row_id] = rec
                    ops.append(op)
                continue
            if stored is not None and stored.id is not None:
                matched.add(stored.id)
                op = self._diff(PARTNERS, label, {"kind": stored.kind}, stored.id, {"kind": v["kind"]}, result)
                stored.kind = v["kind"]
            else:
                stored = _Partner(v["name"], v["kind"], v["county"])
                self.partners[rec.key] = stored
                op = self._diff(PARTNERS, label, None, None, {"name": v["name"], "kind": v["kind"],
                                                                   "county": v["county"]}, result)
                if op is not None:
                    op.values["_partner"] = stored
            if op is not None:
                op.rec = rec
                ops.append(op)
        result.kept = len(self.partner_by_id) - len(matched)
        return ops

    def partner(self, raw: _RawRow, name: str, inst: Institution, by_name: dict[str, list[_Partner]]
                ) -> _Partner | None:
        """The partner an action names: of the institution's county, else one without a county, else the
        only one of that name."""
        same = by_name.get(norm(name), [])
        for choose in ([p for p in same if p.county == inst.county], [p for p in same if p.county is None], same):
            if len(choose) == 1:
                return choose[0]
        where = raw.cells["partner"]
        if not same and norm(name) in self.rejected_partners:
            return None  # its own row in „Partnerzy” is reported; one problem is enough
        going = [r for r in self.removed_partners.values() if r.key[0] == norm(name)]
        if not same and going:
            self.problems.add(where.problem(f"partner „{name}” is marked „{REMOVE_HEADER}” in sheet "
                                            f"„{PARTNERS_SHEET}”, row {going[0].raw.row}: name another partner or "
                                            "leave the cell empty"))
            return None
        if not same:
            self.problems.add(where.problem(f"unknown partner „{name}”: not in sheet „{PARTNERS_SHEET}” nor in the "
                                            "database; add it to „Partnerzy” (name, kind, county) or leave the "
                                            "cell empty"))
        else:
            counties = ", ".join(sorted(self.ref.counties[p.county].name if p.county else "no county" for p in same))
            self.problems.add(where.problem(
                f"partner „{name}” is ambiguous: there are several ({counties}), none of them in the county of "
                f"{inst.label} ({self.ref.counties[inst.county].name}); add the partner for that county to sheet "
                f"„{PARTNERS_SHEET}”"))
        return None

    # -- participation
    def plan_participation(self, recs: list[_Record], result: SheetResult) -> list[_Op]:
        stored = _stored(self.con, "SELECT id, institution_id, joined_edition, left_edition FROM participation",
                         lambda r: (r[1], r[2]), lambda r: {"left_edition": r[3]})
        ops = []
        for rec in recs:
            v = rec.values
            row_id, old = stored.get(rec.key, (None, None))
            label = f"{rec.inst.label} joined {v['joined_edition']}"
            if rec.remove:
                if (op := self._removal(PARTICIPATION, label, row_id, rec, result)) is not None:
                    ops.append(op)
                continue
            values = dict(v) if old is None else {"left_edition": v["left_edition"]}
            op = self._diff(PARTICIPATION, label, old, row_id, values, result)
            if op:
                op.rec = rec
                ops.append(op)
        result.kept = len(stored) - len({r.key for r in recs} & set(stored))
        return ops

    # -- awards
    def plan_awards(self, recs: list[_Record], result: SheetResult) -> list[_Op]:
        stored = _stored(self.con, "SELECT id, institution_id, edition, kind, awarded_on, valid_until, audit_id "
                                   "FROM awards", lambda r: (r[1], r[2], r[3]),
                         lambda r: {"awarded_on": dt.date.fromisoformat(r[4]),
                                    "valid_until": dt.date.fromisoformat(r[5]) if r[5] else None, "audit_id": r[6]})
        ops = []
        for rec in recs:
            v = rec.values
            row_id, old = stored.get(rec.key, (None, None))
            if rec.remove:
                label = f"{rec.inst.label} {v['edition']} {v['kind']}"
                if (op := self._removal(AWARDS, label, row_id, rec, result)) is not None:
                    ops.append(op)
                continue
            audit_id, valid_until = self._derived(rec.inst, v["edition"], v["kind"], v["awarded_on"],
                                                  old["audit_id"] if old else None)
            self.unlinked_awards += audit_id is None
            derived = {"awarded_on": v["awarded_on"], "valid_until": valid_until, "audit_id": audit_id}
            label = f"{rec.inst.label} {v['edition']} {v['kind']}"
            op = self._diff(AWARDS, label, old, row_id, derived if old else {**v, **derived}, result)
            if op:
                op.rec = rec
                ops.append(op)
        result.kept = len(stored) - len({r.key for r in recs} & set(stored))
        return ops

    def _derived(self, inst: Institution, edition: str, kind: str, awarded_on: dt.date,
                 stored_audit: int | None) -> tuple[int | None, dt.date | None]:
        """The audit an award comes from (one of that edition whose kind can give the award under the
        rules in force; the stored link when still such an audit) and the end of its validity."""
        from zpb_lib.domain.scoring.decisions import valid_until

        try:
            rule_set = self.rules.for_edition(inst.family, edition)
            audit_kinds = [r.audit for r in rule_set.awards.values() if r.award_kind == kind]
        except KeyError:
            rule_set, audit_kinds = None, []
        audits = self.con.execute(
            "SELECT id, kind FROM audits WHERE institution_id = ? AND edition = ? ORDER BY audit_date DESC, id DESC",
            (inst.id, edition)).fetchall()
        fitting = [(aid, akind) for aid, akind in audits if akind in audit_kinds]
        chosen = next((a for a in fitting if a[0] == stored_audit), fitting[0] if fitting else None)
        if kind == "leader":
            return (chosen[0] if chosen else None), None
        rule = None
        if rule_set is not None:
            rule = rule_set.rule_for_award(kind, chosen[1] if chosen else None) or rule_set.rule_for_award(kind)
        if rule is None:  # the award contradicts the rules of its edition: take its validity from any edition
            rule = next((r for rs in reversed(self.rules.rule_sets.get(inst.family, ()))
                         for r in rs.awards.values() if r.award_kind == kind), None)
        years = rule.valid_years if rule else None
        return (chosen[0] if chosen else None), valid_until(awarded_on, years) if years else None

    # -- actions
    def plan_actions(self, recs: list[_Record], result: SheetResult) -> list[_Op]:
        stored = _stored(self.con, "SELECT id, institution_id, edition, title, area, kind, partner_id, deadline, "
                                   "status FROM action_items", lambda r: (r[1], r[2], " ".join(r[3].split())),
                         lambda r: {"area": r[4], "kind": r[5],
                                    "partner_id": self.partner_by_id.get(r[6]) if r[6] is not None else None,
                                    "deadline": dt.date.fromisoformat(r[7]), "status": r[8]})
        by_name: dict[str, list[_Partner]] = {}
        for (n, _), p in self.partners.items():  # stored and the file's own, planned before
            if p.id is None or p.id not in self.removed_partners:
                by_name.setdefault(n, []).append(p)
        ops = []
        for rec in recs:
            v = dict(rec.values)
            if rec.remove:
                row_id, _ = stored.get(rec.key, (None, None))
                label = f"{rec.inst.label} {v['edition']} „{v['title']}”"
                if (op := self._removal(ACTIONS, label, row_id, rec, result)) is not None:
                    ops.append(op)
                continue
            name = v.pop("partner")
            partner = self.partner(rec.raw, name, rec.inst, by_name) if name else None
            if name and partner is None:
                continue  # reported
            v["partner_id"] = partner
            row_id, old = stored.get(rec.key, (None, None))
            label = f"{rec.inst.label} {v['edition']} „{v['title']}”"
            values = v if old is None else {k: v[k] for k in ("area", "kind", "partner_id", "deadline", "status")}
            op = self._diff(ACTIONS, label, old, row_id, values, result)
            if op:
                op.rec = rec
                ops.append(op)
        result.kept = len(stored) - len({r.key for r in recs} & set(stored))
        return ops


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, _Partner) or isinstance(new, _Partner):
        return old is new  # one object per partner, new partners included
    return old == new


def _stored(con: Connection, sql: str, key: Callable[[tuple], tuple],
            values: Callable[[tuple], dict[str, Any]]) -> dict[tuple, tuple[int, dict[str, Any]]]:
    """Stored rows by natural key (the first, should the database hold a key twice)."""
    out: dict[tuple, tuple[int, dict[str, Any]]] = {}
    for r in con.execute(sql + " ORDER BY id"):
        out.setdefault(key(r), (r[0], values(r)))
    return out


# --------------------------------------------------------------------------- storing

def _db_value(value: Any) -> Any:
    if isinstance(value, _Partner):
        return value.id
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


# Removals go after every addition and change, what points at others first (an action before the
# partner it names).
_REMOVAL_ORDER = (ACTIONS, AWARDS, PARTICIPATION, PARTNERS)


def _apply(con: Connection, ops: list[_Op], import_id: int) -> None:
    for op in ops:
        if op.remove:
            continue
        values = {k: _db_value(v) for k, v in op.values.items() if not k.startswith("_")}
        if op.row_id is None:
            new_id = insert_one(con, op.sheet.table, {**values, "import_id": import_id})
            if "_partner" in op.values:
                op.values["_partner"].id = new_id  # actions of this file may name it
        else:
            update_logged(con, op.sheet.table, op.row_id, values, import_id)
    for sheet in _REMOVAL_ORDER:
        for op in ops:
            if op.remove and op.sheet is sheet:
                remove_logged(con, sheet.table, op.row_id, import_id)


def _partner_dependants(con: Connection, ops: list[_Op], problems: Problems) -> None:
    """A partner marked „Usuń” that stored actions still name (actions the file removes, or changes,
    which then name another partner, do not count) is refused, naming those actions."""
    from zpb_lib.reference.identifiers import label

    gone = {op.row_id for op in ops if op.sheet is ACTIONS and op.row_id is not None}
    for op in ops:
        if not (op.remove and op.sheet is PARTNERS):
            continue
        rows = [r for r in con.execute(
            "SELECT a.id, a.edition, a.title, a.import_id, i.rspo, i.polon FROM action_items a "
            "JOIN institutions i ON i.id = a.institution_id WHERE a.partner_id = ? ORDER BY a.edition, a.id",
            (op.row_id,)) if r[0] not in gone]
        if not rows:
            continue
        named = [f"{label(r[4], r[5])} {r[1]} „{r[2]}”" + (f" (import #{r[3]})" if r[3] is not None else "")
                 for r in rows[:5]] + ([f"… and {len(rows) - 5} more"] if len(rows) > 5 else [])
        problems.add(op.rec.mark.problem(
            f"partner {op.label} cannot be removed: {len(rows)} action(s) name it: {'; '.join(named)}; mark those "
            f"actions „{REMOVE_HEADER}” in sheet „{ACTIONS_SHEET}” as well, or name another partner in them"))


class _Consequences:
    """What removing participation periods and awards would break: the `zpb db check` problems of
    the institutions concerned after the import that they did not have before it (an audit or a
    survey outside any participation, an award the rules then deny), and awards an audit gives.
    Judged on the database as the import leaves it, inside its transaction."""

    def __init__(self, con: Connection, ref: Reference, ops: list[_Op]):
        self.ref = ref
        self.ops = [op for op in ops if op.remove and op.sheet in (PARTICIPATION, AWARDS)]
        self.institutions = {op.rec.inst.id for op in self.ops}
        self.removed_awards = {op.row_id for op in self.ops if op.sheet is AWARDS}
        self.before = self._problems(con) if self.ops else {}

    def _problems(self, con: Connection) -> dict[tuple[str, int, str], tuple[int, str]]:
        """(table, row id, problem) → (institution, message) for the institutions concerned."""
        from zpb_lib.domain.scoring.lifecycle import Frames, data_quality, participating_in, replay

        mine = self.institutions
        f = Frames.load(con)
        # The rules judge each institution on its own rows: those of the others can be left out.
        f.institutions = f.institutions[f.institutions["id"].isin(mine)]
        f.participation, f.audits, f.awards = (t[t["institution_id"].isin(mine)]
                                               for t in (f.participation, f.audits, f.awards))
        f.audit_items = f.audit_items[f.audit_items["audit_id"].isin(f.audits["id"])]
        out: dict[tuple[str, int, str], tuple[int, str]] = {}
        for r in data_quality(f, replay(f, self.ref), self.ref).itertuples(index=False):
            out[(r.table, int(r.key.split()[-1]), r.problem)] = (int(r.institution_id), r.message)
        for a in f.audits.itertuples(index=False):
            periods = f.participation[f.participation["institution_id"] == a.institution_id]
            if a.institution_id not in participating_in(periods, str(a.edition)):
                out[("audits", int(a.id), "outside")] = (int(a.institution_id), f"{a.kind} audit of {a.edition} "
                                                         "outside any participation period")
        marks = ", ".join("?" * len(mine))
        for iid, edition, n in con.execute(f"SELECT institution_id, edition, COUNT(*) FROM survey_responses WHERE "
                                           f"institution_id IN ({marks}) GROUP BY institution_id, edition",
                                           sorted(mine)):
            if iid not in participating_in(f.participation[f.participation["institution_id"] == iid], edition):
                out[("survey_responses", iid, f"outside {edition}")] = (iid, f"{n} survey response(s) of {edition} "
                                                                        "outside any participation period")
        return out

    def linked_awards(self, con: Connection, problems: Problems) -> None:
        """An award recorded as the result of an audit that gives it (the rules find nothing wrong
        with it) goes with that audit, not through the register."""
        from zpb_lib.domain.scoring.lifecycle import CONTESTING

        for op in self.ops:
            if op.sheet is not AWARDS:
                continue
            row = con.execute("SELECT a.kind, a.edition, a.audit_date, a.import_id FROM awards w JOIN audits a "
                              "ON a.id = w.audit_id WHERE w.id = ?", (op.row_id,)).fetchone()
            if row is None or any(("awards", op.row_id, c) in self.before for c in CONTESTING):
                continue
            kind, edition, date, import_id = row
            source = f"undo or replace its import #{import_id}" if import_id is not None else "correct the audit"
            problems.add(op.rec.mark.problem(
                f"award {op.label} cannot be removed: the {kind} audit of {edition} "
                f"({pl_date(dt.date.fromisoformat(date))}) gives it under the rules, and the award is recorded as "
                f"that audit's result; an award an audit gives goes with the audit ({source})"))

    def check(self, con: Connection, problems: Problems) -> None:
        """After the import's changes: each new problem is reported at the first row of its
        institution marked „Usuń”."""
        if not self.ops:
            return
        after = self._problems(con)
        new: dict[int, list[str]] = {}
        for key, (iid, message) in after.items():
            if key not in self.before and not (key[0] == "awards" and key[1] in self.removed_awards):
                new.setdefault(iid, []).append(message)
        for iid, messages in new.items():
            op = min((o for o in self.ops if o.rec.inst.id == iid), key=lambda o: (o.sheet.name, o.rec.raw.row))
            problems.add(op.rec.mark.problem(
                f"removing the row(s) of {op.rec.inst.label} marked „{REMOVE_HEADER}” would leave what depends on "
                f"them contradicting the programme's rules: {'; '.join(sorted(messages))}; mark those rows "
                f"„{REMOVE_HEADER}” as well, or correct them, or keep this row"))


@dataclass
class RegisterImport:
    path: Path
    dry_run: bool
    sheets: list[SheetResult]
    editions: list[str]  # editions the file's rows name, latest last
    import_id: int | None = None
    unlinked_awards: int = 0  # awards with no audit of their edition that can give them
    unmatched: list[Unmatched] = field(default_factory=list)  # list items left without an institution

    @property
    def inserted(self) -> int:
        return sum(len(s.new) for s in self.sheets)

    @property
    def updated(self) -> int:
        return sum(len(s.changed) for s in self.sheets)

    @property
    def removed(self) -> int:
        return sum(len(s.removed) for s in self.sheets)

    def lines(self, limit: int = 25) -> list[str]:
        out = [f"{self.path.name}: programme register"]
        for s in self.sheets:
            if not s.present:
                out.append(f"  {s.sheet} ({s.table}): not in the file; stored rows left as they are")
                continue
            removed = f"{len(s.removed)} removed, " if s.removed else ""
            out.append(f"  {s.sheet} ({s.table}): {len(s.new)} new, {len(s.changed)} changed, {removed}{s.unchanged} "
                       f"unchanged; {count(s.kept, 'stored row')} not in the file, kept as they are")
            out.extend(f"    marked „{REMOVE_HEADER}” but not in the database (removed before?), nothing to "
                       f"remove: {item}" for item in s.absent[:limit])
            for word, items in (("new", s.new), ("changed", s.changed), ("removed", s.removed)):
                out.extend(f"    {word}: {item}" for item in items[:limit])
                if len(items) > limit:
                    out.append(f"    … and {len(items) - limit} more {word}")
        out += self._unmatched_lines(limit)
        if self.unlinked_awards:
            n = self.unlinked_awards
            out.append(f"  {count(n, 'award')} {plural('has', n)} no audit of their edition that can give "
                       f"{'it' if n == 1 else 'them'}; {'it is' if n == 1 else 'they are'} stored as the register "
                       "says (`zpb db check` lists them as notes, and lists as problems those that contradict the "
                       "rules)")
        edition = self.editions[-1] if self.editions else None
        build = f"zpb build --edition {edition}" if edition else "zpb build"
        changes = self.inserted + self.updated + self.removed
        if self.dry_run and not changes:
            out.append("dry run: nothing was stored, and there is nothing to store: the database already holds "
                       "this register")
        elif self.dry_run:
            rows = plural("row", self.inserted + self.updated)
            removed = f", and {count(self.removed, 'row')} removed" if self.removed else ""
            out.append(f"dry run: nothing was stored ({self.inserted} new and {self.updated} changed {rows} would be"
                       f"{removed}); to store them run `zpb ingest register {self.path}` without --dry-run")
        elif not changes:
            out.append(f"stored nothing new: the database already holds this register (import #{self.import_id} "
                       f"recorded); next: build the reports: {build}")
        else:
            rows = plural("row", self.inserted + self.updated)
            removed = f" and removed {count(self.removed, 'row')}" if self.removed else ""
            out.append(f"stored {self.inserted} new and {self.updated} changed {rows}{removed} as import "
                       f"#{self.import_id} (undo: zpb imports undo {self.import_id})")
            out.append(f"next: check the awards against the rules and audits (zpb db check), then build the "
                       f"reports: {build}")
        return out

    def _unmatched_lines(self, limit: int) -> list[str]:
        """Items of a published list the reviewer left without an institution: where they are and how
        to store them."""
        if not self.unmatched:
            return []
        n, first = len(self.unmatched), self.unmatched[0]
        out = [f"  {first.sheet}: {count(n, 'item')} of the published list without an institution, not stored:"]
        out += [f"    row {u.row}: {u.line}" for u in self.unmatched[:limit]]
        if n > limit:
            out.append(f"    … and {n - limit} more")
        out.append(f"    to store {'it' if n == 1 else 'them'}, write the school's RSPO number in column {first.column} "
                   f"„{INSTITUTION_HEADER}” (`zpb institutions find NAME` finds it) and import the workbook again; "
                   "an item that is no award can stay as it is")
        return out


def ingest_register(con: Connection, path: str | Path, *, dry_run: bool = False,
                    ref: Reference | None = None) -> RegisterImport:
    """Check the register workbook and upsert its rows in one transaction; raises :class:`IngestError`
    naming sheet, row and column of every problem (nothing is stored then)."""
    ref = ref or reference()
    path = Path(path)
    data = read_bytes(path, limits_for(path, "register"))
    read = _read_sheets(path, data)
    content_hash = file_hash(data)
    with ImportEnvelope(con, path, "register", content_hash, what="the register",
                        again="export the register again with `zpb template register` to edit it",
                        dry_run=dry_run) as env:
        result, ops = _plan(con, ref, path, read)
        result.dry_run = dry_run
        details = {"sheets": {s.table: s.counts() for s in result.sheets if s.present}}
        if read.unmatched:
            details["unmatched"] = len(read.unmatched)
        import_id = env.record(result.inserted + result.updated + result.removed,
                               json.dumps(details, ensure_ascii=False))
        consequences = _Consequences(con, ref, ops)
        problems = Problems(path)
        consequences.linked_awards(con, problems)
        problems.raise_if_any()
        _apply(con, ops, import_id)
        consequences.check(con, problems)
        problems.raise_if_any()  # the transaction rolls back: nothing was stored
    result.import_id = env.import_id
    return result


def _plan(con: Connection, ref: Reference, path: Path, read: _Read) -> tuple[RegisterImport, list[_Op]]:
    """Check every row and compare it with what is stored; raises with every problem found."""
    sheets = read.sheets
    problems = Problems(path)
    checker = _Checker(con, ref, lookup=read.lookup)
    recs = {name: _check_rows(rows, checker, problems, _PARSERS[name]) for name, rows in sheets.items()}
    planner = _Planner(con, ref, problems)
    checked = {r.raw.row for r in recs.get(PARTNERS.name, [])}
    planner.rejected_partners = {norm(raw.cells["name"].value or "") for raw in sheets.get(PARTNERS.name, [])
                                 if raw.row not in checked}
    results = {s.name: SheetResult(s.name, s.table, s.name in sheets) for s in SHEETS}
    ops: list[_Op] = []
    # Partners first: an action may name a partner added by the same file.
    ops += planner.plan_partners(recs.get(PARTNERS.name, []), results[PARTNERS.name])
    plans = ((PARTICIPATION, planner.plan_participation), (AWARDS, planner.plan_awards),
             (ACTIONS, planner.plan_actions))
    for sheet, plan in plans:
        if sheet.name in sheets:
            ops += plan(recs[sheet.name], results[sheet.name])
    _check_rights(con, ops, problems)
    _partner_dependants(con, ops, problems)
    problems.raise_if_any()
    if not results[PARTNERS.name].present:
        results[PARTNERS.name].kept = 0
    editions = sorted({r.values.get("edition") or r.values.get("joined_edition")
                       for name in (PARTICIPATION.name, AWARDS.name, ACTIONS.name) for r in recs.get(name, [])})
    return RegisterImport(path, False, [results[s.name] for s in SHEETS], editions,
                          unlinked_awards=planner.unlinked_awards, unmatched=read.unmatched), ops

