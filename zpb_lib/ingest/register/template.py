"""The register workbook written for people: what the database holds, in Polish, with a lookup
sheet of institutions, list validation and the instructions (`zpb template register`)."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Collection, Iterable

from zpb_lib.core.text import column_letter
from zpb_lib.core.workbook import save
from zpb_lib.domain.scoring.rules import rules
from zpb_lib.ingest.register.layout import (ACTION_KIND_LABELS, ACTIONS, AREA_LABELS, AWARD_KIND_LABELS, AWARDS,
                                            GUIDE_SHEET, INSTITUTION_LIST_HEADERS, INSTITUTIONS_SHEET, LISTS_SHEET,
                                            PARTICIPATION, PARTNER_KIND_LABELS, PARTNERS, PARTNERS_SHEET, SHEETS,
                                            STATUS_LABELS, Sheet)
from zpb_lib.reference import Reference, reference
from zpb_lib.reference.identifiers import identifier
from zpb_lib.store.backend import Connection
from zpb_lib.store.queries.register import (action_listing, award_listing, institution_listing, participation_listing,
                                            partner_listing)

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


def _export_rows(con: Connection, ref: Reference, counties: Collection[str] | None = None) -> dict[str, list[tuple]]:
    """What the database holds (of the institutions of ``counties``; None: of every one), as the rows
    of each data sheet (identifiers people use, Polish labels)."""
    def ident(rspo: Any, polon: Any) -> str:
        return identifier(rspo, polon)

    def day(text: str | None) -> dt.date | None:
        return dt.date.fromisoformat(text) if text else None

    out: dict[str, list[tuple]] = {}
    out[PARTICIPATION.name] = [(ident(r[0], r[1]), r[2], r[3], r[4]) for r in participation_listing(con, counties)]
    out[AWARDS.name] = [(ident(r[0], r[1]), r[2], r[3], AWARD_KIND_LABELS[r[4]], day(r[5]))
                        for r in award_listing(con, counties)]
    out[ACTIONS.name] = [
        (ident(r[0], r[1]), r[2], r[3], AREA_LABELS[r[4]], ACTION_KIND_LABELS[r[5]], r[6], r[7], day(r[8]),
         STATUS_LABELS[r[9]]) for r in action_listing(con, counties)]
    out[PARTNERS.name] = [(r[0], PARTNER_KIND_LABELS[r[1]], ref.counties[r[2]].name if r[2] else None)
                          for r in partner_listing(con, counties)]
    out[INSTITUTIONS_SHEET] = [(ident(r[0], r[1]), r[2], r[3], ref.counties[r[4]].name, ref.kinds[r[5]].name_pl)
                               for r in institution_listing(con, counties)]
    return out


def write_register_template(con: Connection, out: str | Path, *, ref: Reference | None = None,
                            counties: Collection[str] | None = None) -> Path:
    """Write the register workbook, pre-filled with what the database holds — of the institutions
    of ``counties`` (TERYT codes) and the partners a plan of theirs may name, or of every one
    (None); returns the file written."""
    # openpyxl: loaded only when a workbook is written
    from openpyxl import Workbook

    ref = ref or reference()
    out = Path(out)
    rows = _export_rows(con, ref, counties)
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
    # openpyxl: loaded only when a workbook is written
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


def _data_sheet(ws, sheet: Sheet, rows: list[tuple]) -> None:
    # openpyxl: loaded only when a workbook is written
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
    # openpyxl: loaded only when a workbook is written
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill

    c = ws.cell(1, column)
    c.fill = PatternFill("solid", fgColor="F4CCCC")
    c.font = Font(bold=True, color="990000")
    c.comment = Comment("Wpisz cokolwiek (np. „x”), aby usunąć ten wiersz z bazy danych przy imporcie. "
                        "Usunięcie można cofnąć: zpb imports undo NUMER.", "zpb")


def _validations(ws, sheet: Sheet, last_row: int, ranges: dict[str, str], ref: Reference) -> None:
    # openpyxl: loaded only when a workbook is written
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
    # openpyxl: loaded only when a workbook is written
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
