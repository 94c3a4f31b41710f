"""The register of institutions in: the RSPO register's search export (schools) and a short list of
universities (POL-on ids).

Both files are tables people download or keep by hand (CSV in UTF-8 or Windows-1250, or XLSX); the
kind is recognised from the header. Columns are found by their header text, never by position,
because the register adds columns over the years. Rows are streamed and only Małopolska's are
kept, so a national export (≈ 56,000 rows, 42 MB) takes seconds and a few hundred MB.

A newer file updates the institutions in place, matched by RSPO number or POL-on id. The register
lists active institutions only, so one that is missing from a newer file is not deleted but marked
``in_register = 0`` — for the RSPO export only within the file's scope (the county and RSPO type
pairs it contains), so that an export filtered to one county or one type leaves the rest alone.
Every change goes through :func:`update_logged`, so ``zpb imports undo`` can take it back.
"""
from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

from zpb_lib.domain.institutions import SKIPPED_OUT_OF_SCOPE, SKIPPED_UNKNOWN_TYPE
from zpb_lib.core.addresses import email_address
from zpb_lib.core.text import fold
from zpb_lib.reference.identifiers import label, parse_identifier
from zpb_lib.reference import InstitutionKind, Reference, ReferenceDataError, _list, _need, _yaml, reference
from zpb_lib.core.wording import count, plural
from zpb_lib.store.write import insert_rows, update_logged
from zpb_lib.ingest import IngestError, Problem, Problems, file_hash, limits_for, read_bytes, rights_problem
from zpb_lib.ingest.envelope import ImportEnvelope
from zpb_lib.core.text import column_letter
from zpb_lib.ingest.tables import Table, document_kind, read_table
from zpb_lib.store.backend import Connection
from zpb_lib.store.queries.institutions import institutions_identified_by

SHOWN = 20  # names listed per kind of change; the rest are counted

# --------------------------------------------------------------------------- RSPO types


@dataclass(frozen=True)
class RspoType:
    id: int
    name: str
    kind: str | None  # None: out of scope (counted, never stored)


@dataclass(frozen=True)
class RspoTypes:
    """The types of ``data/rspo_types.yaml``, found by name (case, spacing and diacritics ignored)
    or by id."""
    types: tuple[RspoType, ...]
    by_key: dict[str, RspoType]

    def find(self, text: object) -> RspoType | None:
        return self.by_key.get(fold(text))


def load_rspo_types(path: Path, kinds: dict[str, InstitutionKind]) -> RspoTypes:
    """Load and check the mapping: ids and names unique, kinds known and of the school family."""
    entries = _list(path, _yaml(path), "types")
    types: list[RspoType] = []
    by_key: dict[str, RspoType] = {}
    for n, e in enumerate(entries, start=1):
        entry = f"type #{n}" + (f" ({e.get('name')})" if isinstance(e, dict) and e.get("name") else "")
        tid = _need(path, entry, e, "id", int)
        name = _need(path, entry, e, "name", str).strip()
        if tid <= 0 or not name:
            raise ReferenceDataError(path, entry, "id must be a positive whole number and name not empty")
        if "kind" not in e:
            raise ReferenceDataError(path, entry, "missing 'kind' (an institution kind, or null for out of scope)")
        kind = e["kind"]
        if kind is not None:
            if kind not in kinds:
                raise ReferenceDataError(path, entry, f"unknown kind {kind!r} (known: {', '.join(kinds)}; "
                                                      "or null for out of scope)")
            if kinds[kind].family != "school":
                raise ReferenceDataError(path, entry, f"kind {kind!r} is not a kind of school: the RSPO register "
                                                      "lists schools only")
        t = RspoType(tid, name, kind)
        for key, what in ((str(tid), f"id {tid}"), (fold(name), f"name {name!r}")):
            if key in by_key:
                raise ReferenceDataError(path, entry, f"duplicate {what} (also type {by_key[key].id} "
                                                      f"{by_key[key].name!r})")
            by_key[key] = t
        types.append(t)
    return RspoTypes(tuple(types), by_key)


# --------------------------------------------------------------------------- cell values

# The 16 voivodeships by TERYT code, to name the rows skipped.
VOIVODESHIPS = {
    "02": "dolnośląskie", "04": "kujawsko-pomorskie", "06": "lubelskie", "08": "lubuskie", "10": "łódzkie",
    "12": "małopolskie", "14": "mazowieckie", "16": "opolskie", "18": "podkarpackie", "20": "podlaskie",
    "22": "pomorskie", "24": "śląskie", "26": "świętokrzyskie", "28": "warmińsko-mazurskie",
    "30": "wielkopolskie", "32": "zachodniopomorskie"}
MALOPOLSKA = "12"
_EXCEL_EPOCH = dt.date(1899, 12, 30)


def text(value: object) -> str:
    """A cell as text: ``="0123"`` (how the register keeps leading zeros) unwrapped, a whole float
    from a workbook without its ".0", surrounding space removed."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    s = str(value).strip()
    if s.startswith('="') and s.endswith('"') and len(s) >= 3:
        s = s[2:-1].replace('""', '"').strip()
    return s


def whole(value: object, *, positive: bool) -> int | None:
    """A whole number, None for an empty cell; ValueError otherwise."""
    s = text(value)
    if not s:
        return None
    if not s.isdigit():  # also refuses "-1", "12.5" and "1 234"
        raise ValueError(s)
    n = int(s)
    if positive and n == 0:
        raise ValueError(s)
    return n


def year_of(value: object) -> int | None:
    """The year of a date as the register writes it (1999-09-01, 01.09.1999, with a time or not),
    of a date cell of a workbook (a serial day number) or of a bare year; None for an empty cell."""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.year
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        # Excel stores dates as day numbers; a number that reads as a year is taken as one
        # (day numbers 1000-2200 are dates of 1902-1906, when no school in the register opened).
        if 1000 <= value <= 2200 and float(value).is_integer():
            return int(value)
        if 2200 < value < 2958466:
            return (_EXCEL_EPOCH + dt.timedelta(days=int(value))).year
        raise ValueError(str(value))
    s = text(value)
    if not s:
        return None
    day = s.split()[0].split("T")[0]
    for fmt in ("%Y-%m-%d", "%d.%m.%Y", "%d-%m-%Y", "%Y.%m.%d", "%Y/%m/%d", "%d/%m/%Y", "%Y"):
        try:
            return dt.datetime.strptime(day, fmt).year
        except ValueError:
            continue
    raise ValueError(s)


# --------------------------------------------------------------------------- columns


@dataclass(frozen=True)
class Spec:
    key: str
    headers: tuple[str, ...]  # header texts that name the column (matched with fold())
    required: bool = False
    # A hand-made list names its columns as its author likes („Powiat (TERYT)”): a header holding
    # every word of one of these sets (folded), and none of ``not_words``, names the column too.
    words: tuple[frozenset[str], ...] = ()
    not_words: frozenset[str] = frozenset()

    def named_by(self, header: object) -> bool:
        have = set(fold(header).split())
        return any(w <= have for w in self.words) and not have & self.not_words


@dataclass(frozen=True)
class Col:
    index: int
    header: str

    @property
    def letter(self) -> str:
        return column_letter(self.index)


RSPO_COLUMNS = (
    Spec("rspo", ("Numer RSPO",), True),
    Spec("type", ("Typ",), True),
    Spec("name", ("Nazwa",), True),
    Spec("county_code", ("Kod terytorialny powiat",)),  # required unless the gmina code is there
    Spec("municipality_code", ("Kod terytorialny gmina",)),
    Spec("voivodeship_code", ("Kod terytorialny województwo",)),
    Spec("voivodeship", ("Województwo",)),
    Spec("county", ("Powiat",), True),
    Spec("municipality", ("Gmina",), True),
    Spec("locality", ("Miejscowość",), True),
    Spec("parent", ("RSPO podmiotu nadrzędnego",)),
    Spec("started", ("Data rozpoczęcia działalności",)),
    Spec("founded", ("Data założenia",)),
    Spec("closed", ("Data likwidacji",)),
    Spec("pupils", ("Liczba uczniów",)),
    Spec("email", ("E-mail", "Email", "Adres e-mail")),
)
UNIVERSITY_COLUMNS = (
    Spec("polon", ("POL-on", "Identyfikator POL-on", "ID POL-on", "POL-on id", "POL-on UUID", "institutionUuid",
                   "uuid"), True, (frozenset({"pol", "on"}), frozenset({"polon"}), frozenset({"uuid"}),
                                   frozenset({"institutionuuid"}))),
    Spec("name", ("Nazwa", "Nazwa uczelni", "Uczelnia", "name"), True, (frozenset({"nazwa"}), frozenset({"name"})),
         frozenset({"miasta", "miejscowosci", "powiatu", "gminy", "skrot", "skrocona"})),
    Spec("city", ("Miejscowość", "Miasto", "Siedziba", "city"), True,
         tuple(frozenset({w}) for w in ("miasto", "miejscowosc", "siedziba", "siedziby", "city")),
         frozenset({"powiat", "powiatu", "teryt", "kod"})),
    Spec("county", ("Powiat", "Powiat (TERYT)", "TERYT", "TERYT powiatu", "Kod TERYT powiatu", "Kod powiatu",
                    "county"), True, tuple(frozenset({w}) for w in ("powiat", "powiatu", "teryt", "county")),
         frozenset({"gmina", "gminy", "wojewodztwo", "wojewodztwa", "miejscowosc", "miejscowosci"})),
)
# Headers only an RSPO export has: two of them make a file an export even without "Numer RSPO".
RSPO_MARKERS = {fold(h) for h in ("Numer RSPO", "Typ", "Kod terytorialny powiat", "Kod terytorialny gmina",
                                  "RSPO podmiotu nadrzędnego", "REGON")}


def find_columns(header: Sequence[str], specs: Iterable[Spec]) -> dict[str, Col]:
    """The columns of ``specs`` present in ``header`` (first occurrence wins): by an exact header
    text first, then by the words of a header (:attr:`Spec.words`) among the columns left."""
    keys: dict[str, Col] = {}
    for i, h in enumerate(header):
        keys.setdefault(fold(h), Col(i, str(h)))
    specs = list(specs)
    found: dict[str, Col] = {}
    for spec in specs:
        col = next((keys[fold(h)] for h in spec.headers if fold(h) in keys), None)
        if col is not None:
            found[spec.key] = col
    used = {c.index for c in found.values()}
    for spec in specs:
        if spec.key in found or not spec.words:
            continue
        i = next((i for i, h in enumerate(header) if i not in used and h is not None and spec.named_by(h)), None)
        if i is not None:
            found[spec.key] = Col(i, str(header[i]))
            used.add(i)
    return found


def _missing_columns(path: Path, table: Table, what: str, specs: Iterable[Spec], found: dict[str, Col],
                     extra: Sequence[str] = ()) -> None:
    missing = [" or ".join(f"„{h}”" for h in s.headers[:3]) for s in specs if s.required and s.key not in found]
    missing += extra
    if missing:
        shown = f"; the first row reads {_shown(table.header)}" if len(table.header) <= 8 else ""
        raise IngestError(path, Problem(f"{what}: missing required {plural('column', len(missing))} "
                                        f"{'; '.join(missing)} (columns are found by their header text, in any "
                                        f"order{shown})", table.header_row))


def _shown(header: Sequence[object]) -> str:
    return ", ".join(f"„{h}”" for h in header[:8] if h is not None) + (" …" if len(header) > 8 else "") or "empty"


# --------------------------------------------------------------------------- reading a file


@dataclass
class Record:
    """One institution as the file gives it: its identifier, the database columns it sets, and its
    scope key (county, type) for marking the ones a newer file no longer lists."""
    ident: int | str
    row: int
    values: dict[str, Any]
    scope: tuple[str, str] | None = None


@dataclass
class RegisterFile:
    path: Path
    source: str  # rspo | universities
    format: str
    content_hash: str
    fields: tuple[str, ...]  # database columns the file sets; others keep what is stored
    records: list[Record] = field(default_factory=list)
    scope: set[tuple[str, str]] = field(default_factory=set)
    rows_read: int = 0
    in_voivodeship: int = 0
    skipped: Counter = field(default_factory=Counter)  # voivodeship → rows
    out_of_scope: Counter = field(default_factory=Counter)  # RSPO type → Małopolska rows
    unknown: Counter = field(default_factory=Counter)  # type text as in the file → Małopolska rows
    # Their RSPO numbers by type, kept in the import's details so that a number people give later
    # (a preschool's, for a survey) is answered with why it is not in the database.
    out_of_scope_rspo: dict[str, list[int]] = field(default_factory=dict)
    unknown_rspo: dict[str, list[int]] = field(default_factory=dict)

    @property
    def ident_column(self) -> str:
        return "rspo" if self.source == "rspo" else "polon"


class Rows:
    """A table's data rows as cell lists cut to the header's width; blank rows are skipped and rows
    of another width are problems (a truncated file or an unquoted separator)."""

    def __init__(self, table: Table, problems: Problems):
        self.table, self.problems = table, problems

    def __iter__(self) -> Iterator[tuple[int, Sequence[object]]]:
        width = len(self.table.header)
        for row_no, cells in self.table.rows:
            if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
                continue
            if len(cells) < width:
                if self.table.ragged:
                    self.problems.add(Problem(
                        f"the row has {len(cells)} fields but the header has {width}: the file is truncated or a "
                        "row was cut", row_no, self.table.header[len(cells)], column_letter(len(cells))))
                    continue
                cells = list(cells) + [None] * (width - len(cells))
            elif len(cells) > width:
                extra = next((i for i in range(width, len(cells)) if text(cells[i])), None)
                if extra is not None:
                    self.problems.add(Problem(
                        f"value {text(cells[extra])!r} stands in a column without a header (the row has {len(cells)} "
                        f"fields, the header {width}; or a field holds an unquoted „{self.table.delimiter or ';'}”)",
                        row_no, None, column_letter(extra)))
                    continue
            yield row_no, cells  # read on after 20 problems: the message gives the true count


def describe_format(table: Table) -> str:
    if table.encoding is None:
        return table.format
    sep = {",": "comma", ";": "semicolon", "\t": "tab"}.get(table.delimiter or "", "?")
    return f"CSV, {table.encoding}, {sep}-separated"


HINT = ("download the RSPO export with „Pobierz wyniki” and import it as it is (or re-saved as .xlsx or "
        "„CSV UTF-8”); a list of universities needs the columns POL-on, Nazwa, Miasto, Powiat (other spellings: "
        "„Your own data” in the user guide)")


def read_register_file(path: Path, data: bytes, ref: Reference, types: RspoTypes) -> RegisterFile:
    """Parse and check a whole file; raises :class:`IngestError` listing up to 20 problems."""
    kind = document_kind(data)
    if kind:
        raise IngestError(path, f"{kind}, not a table: expected the RSPO search export („Pobierz wyniki”, CSV or "
                                "XLSX) or a list of universities (CSV or XLSX)")
    limits = limits_for(path, "institutions")
    table = read_table(path, data, hint=HINT, comma_cp1250=True, limits=limits)
    keys = {fold(h) for h in table.header}
    if fold("Numer RSPO") in keys or len(keys & RSPO_MARKERS) >= 2:
        return _read_rspo(path, data, table, ref, types)
    if find_columns(table.header, UNIVERSITY_COLUMNS):
        return _read_universities(path, data, table, ref)
    raise IngestError(path, Problem(
        f"neither an RSPO search export (no column „Numer RSPO”) nor a list of universities (no column „POL-on”, "
        f"„Nazwa”, „Miasto”, „Powiat”); the first row reads {_shown(table.header)}. {HINT}", table.header_row))


def _problem(col: Col, row: int, message: str) -> Problem:
    return Problem(message, row, col.header, col.letter)


def _count(problems: Problems) -> int:
    """Problems found so far (listed or not): a row whose check adds one is not stored."""
    return len(problems.items) + problems.more


def _read_rspo(path: Path, data: bytes, table: Table, ref: Reference, types: RspoTypes) -> RegisterFile:
    cols = find_columns(table.header, RSPO_COLUMNS)
    territory = [] if {"county_code", "municipality_code"} & cols.keys() else \
        ["„Kod terytorialny powiat” or „Kod terytorialny gmina”"]
    _missing_columns(path, table, "an RSPO export", RSPO_COLUMNS, cols, territory)
    fields = ["name", "kind", "county", "municipality", "locality", "district", "rspo_type"]
    optional = {"municipality_code": "municipality_code", "parent": "parent_rspo", "pupils": "pupils",
                "closed": "closed_year", "email": "email"}
    fields += [f for k, f in optional.items() if k in cols]
    if {"started", "founded"} & cols.keys():
        fields.append("opened_year")
    out = RegisterFile(path, "rspo", f"RSPO search export ({describe_format(table)})", file_hash(data), tuple(fields))
    problems = Problems(path)
    rows = Rows(table, problems)
    first_row: dict[int, int] = {}
    for row_no, cells in rows:
        out.rows_read += 1
        place = _territory(cols, row_no, cells, problems)
        if place is None:
            continue
        county, gmina = place
        if county[:2] != MALOPOLSKA:
            named = text(cells[cols["voivodeship"].index]).lower() if "voivodeship" in cols else ""
            out.skipped[VOIVODESHIPS.get(county[:2]) or named or f"code {county[:2]}"] += 1
            continue
        out.in_voivodeship += 1
        type_text = text(cells[cols["type"].index])
        rtype = types.find(type_text)
        if rtype is None:
            out.unknown[type_text or "(empty)"] += 1
            _note_number(out.unknown_rspo, type_text or "(empty)", cells[cols["rspo"].index])
            continue
        if rtype.kind is None:
            out.out_of_scope[rtype.name] += 1
            _note_number(out.out_of_scope_rspo, rtype.name, cells[cols["rspo"].index])
            continue
        record = _school(cols, row_no, cells, county, gmina, rtype, type_text, ref, problems)
        if record is None:
            continue
        if record.ident in first_row:
            problems.add(_problem(cols["rspo"], row_no, f"RSPO number {record.ident} appears twice: in rows "
                                                        f"{first_row[record.ident]} and {row_no}"))
            continue
        first_row[record.ident] = row_no
        out.records.append(record)
        out.scope.add(record.scope)
        out.scope.add((county, f"kind:{rtype.kind}"))  # for stored schools that have no RSPO type
    problems.raise_if_any()
    if not out.rows_read:
        raise IngestError(path, Problem("the export has a header but no rows", table.header_row + 1))
    if not out.in_voivodeship:
        others = ", ".join(f"{v} {n}" for v, n in out.skipped.most_common(3))
        raise IngestError(path, f"no row of Małopolska (powiat codes 12xx) among {out.rows_read} rows ({others}); "
                                "download the export for województwo małopolskie or the whole country")
    return out


def _note_number(numbers: dict[str, list[int]], type_name: str, cell: object) -> None:
    """Keep a skipped row's RSPO number under its type (a cell that is no number is not kept: the
    row is not checked further, since it is not stored)."""
    try:
        n = whole(cell, positive=True)
    except ValueError:
        return
    if n is not None:
        numbers.setdefault(type_name, []).append(n)


def _territory(cols: dict[str, Col], row_no: int, cells: Sequence[object],
               problems: Problems) -> tuple[str, str | None] | None:
    """(TERYT powiat code, 7-digit TERC gmina code or None) of a row; None after a problem. The powiat
    code comes as "1201", as "01" beside the voivodeship code "12", or from the gmina code."""
    gmina = None
    if "municipality_code" in cols:
        g = text(cells[cols["municipality_code"].index])
        if g:
            if not g.isdigit() or len(g) not in (6, 7):  # 6: a workbook dropped the leading zero
                problems.add(_problem(cols["municipality_code"], row_no,
                                      f"{g!r} is not a TERC gmina code (7 digits, e.g. 1201011)"))
                return None
            gmina = g.zfill(7)
    county = text(cells[cols["county_code"].index]) if "county_code" in cols else ""
    if county and county.isdigit() and len(county) <= 2:
        voiv = text(cells[cols["voivodeship_code"].index]) if "voivodeship_code" in cols else ""
        voiv = voiv.zfill(2) if voiv.isdigit() and len(voiv) <= 2 else (gmina[:2] if gmina else "")
        if not voiv:
            problems.add(_problem(cols["county_code"], row_no,
                                  f"powiat code {county!r} without the voivodeship: expected 4 digits (e.g. 1201), "
                                  "or the column „Kod terytorialny województwo” or „Kod terytorialny gmina”"))
            return None
        county = voiv + county.zfill(2)
    elif not county and gmina:
        county = gmina[:4]
    elif len(county) == 3 and county.isdigit():  # a workbook dropped the leading zero of "0201"
        county = county.zfill(4)
    if not (len(county) == 4 and county.isdigit()):
        col = cols.get("county_code") or cols["municipality_code"]
        problems.add(_problem(col, row_no, f"{county!r} is not a TERYT powiat code (4 digits, e.g. 1201)"
                              if county else "no powiat code: the cell is empty"))
        return None
    if gmina and gmina[:4] != county:
        problems.add(_problem(cols["municipality_code"], row_no,
                              f"gmina code {gmina} does not lie in powiat {county} (its first 4 digits are the powiat)"))
        return None
    return county, gmina


def _county_name_agrees(cols: dict[str, Col], row_no: int, name: str, county: str, ref: Reference,
                        problems: Problems) -> None:
    """The „Powiat” column (a city county's city, else the adjective) must name the county its code
    does: a row whose name and code disagree is refused rather than filed under either."""
    if not name:
        return
    try:
        named = ref.county_code(name, city_first=True)  # RSPO names a city county by its city
    except KeyError:
        named = None
    if named != county:
        code_col = cols.get("county_code") or cols["municipality_code"]
        says = f"powiat {ref.counties[named].name} ({named})" if named else "no Małopolska powiat"
        problems.add(_problem(cols["county"], row_no,
                              f"„{name}” is {says}, but column {code_col.letter} „{code_col.header}” gives "
                              f"{county} (powiat {ref.counties[county].name}); correct one of them"))


def _school(cols: dict[str, Col], row_no: int, cells: Sequence[object], county: str, gmina: str | None,
            rtype: RspoType, type_text: str, ref: Reference, problems: Problems) -> Record | None:
    """The database values of one in-scope Małopolska row; None after a problem."""
    n = _count(problems)

    def cell(key: str) -> object:
        return cells[cols[key].index] if key in cols else None

    def parsed(key: str, parse: Callable[[object], Any], expected: str) -> Any:
        try:
            return parse(cell(key))
        except ValueError:
            problems.add(_problem(cols[key], row_no, f"{text(cell(key))!r} is not {expected}"))
            return None

    rspo = parsed("rspo", lambda v: whole(v, positive=True), "an RSPO number (a positive whole number)")
    if not text(cell("rspo")):
        problems.add(_problem(cols["rspo"], row_no, "the RSPO number is empty"))
    if county not in ref.counties:
        col = cols.get("county_code") or cols["municipality_code"]
        problems.add(_problem(col, row_no, f"unknown Małopolska powiat code {county} (known: "
                                           f"{', '.join(ref.counties)})"))
    else:
        _county_name_agrees(cols, row_no, text(cell("county")), county, ref, problems)
    name = " ".join(text(cell("name")).split())
    if not name:
        problems.add(_problem(cols["name"], row_no, "the name is empty"))
    municipality, locality = text(cell("municipality")), text(cell("locality"))
    for key, value in (("municipality", municipality), ("locality", locality)):
        if not value:
            problems.add(_problem(cols[key], row_no, f"the {'gmina' if key == 'municipality' else 'locality'} "
                                                     "is empty"))
    district = None
    city = ref.counties.get(county)
    if city is not None and city.kind == "city" and (
            gmina.endswith("9") if gmina else municipality and fold(municipality) != fold(city.seat)):
        # A delegatura of Kraków (TERC kind 9; without the code: a city county's gmina named other than
        # the city): "Gmina"/"Miejscowość" name the district, the city is the county's seat.
        district = municipality or locality
        municipality = locality = city.seat
    values: dict[str, Any] = {
        "name": name, "kind": rtype.kind, "county": county, "municipality": municipality, "locality": locality,
        "district": district, "rspo_type": rtype.name if type_text.isdigit() else type_text}  # an id: its name
    if "municipality_code" in cols:
        values["municipality_code"] = gmina
    if "parent" in cols:
        values["parent_rspo"] = parsed("parent", lambda v: whole(v, positive=True),
                                       "an RSPO number (a positive whole number)")
    if "pupils" in cols:
        values["pupils"] = parsed("pupils", lambda v: whole(v, positive=False), "a number of pupils (a whole number)")
    if "email" in cols:
        values["email"] = parsed("email", lambda v: email_address(text(v)),
                                 "an e-mail address (one, e.g. sekretariat@szkola.edu.pl)")
    expected_date = "a date (e.g. 1999-09-01 or 01.09.1999)"
    if "started" in cols or "founded" in cols:
        started = parsed("started", year_of, expected_date) if "started" in cols else None
        founded = parsed("founded", year_of, expected_date) if "founded" in cols else None
        values["opened_year"] = started if started is not None else founded
    if "closed" in cols:
        values["closed_year"] = parsed("closed", year_of, expected_date)
        opened = values.get("opened_year")
        if values["closed_year"] is not None and opened is not None and values["closed_year"] < opened:
            problems.add(_problem(cols["closed"], row_no, f"closed in {values['closed_year']}, before it opened "
                                                          f"({opened})"))
    if _count(problems) > n:
        return None
    return Record(rspo, row_no, values, (county, f"type:{rtype.id}"))


def _read_universities(path: Path, data: bytes, table: Table, ref: Reference) -> RegisterFile:
    cols = find_columns(table.header, UNIVERSITY_COLUMNS)
    _missing_columns(path, table, "a list of universities", UNIVERSITY_COLUMNS, cols)
    fields = ("name", "kind", "county", "municipality", "locality")
    out = RegisterFile(path, "universities", f"list of universities ({describe_format(table)})", file_hash(data),
                       fields)
    problems = Problems(path)
    first_row: dict[str, int] = {}
    for row_no, cells in Rows(table, problems):
        out.rows_read += 1
        record = _university(cols, row_no, cells, ref, problems)
        if record is None:
            continue
        if record.ident in first_row:
            problems.add(_problem(cols["polon"], row_no, f"POL-on id {record.ident} appears twice: in rows "
                                                         f"{first_row[record.ident]} and {row_no}"))
            continue
        first_row[record.ident] = row_no
        out.records.append(record)
    problems.raise_if_any()
    if not out.records:
        raise IngestError(path, Problem("the list has a header but no rows", table.header_row + 1))
    out.in_voivodeship = len(out.records)
    return out


def _university(cols: dict[str, Col], row_no: int, cells: Sequence[object], ref: Reference,
                problems: Problems) -> Record | None:
    """The database values of one row of a universities list; None after a problem."""
    n = _count(problems)
    c = {k: text(cells[col.index]) for k, col in cols.items()}
    try:
        ident = parse_identifier(c["polon"])
    except ValueError:
        ident = None
    if ident is None or ident.scheme != "polon":  # an RSPO number is no POL-on id either
        problems.add(_problem(cols["polon"], row_no, f"{c['polon']!r} is not a POL-on id (a UUID such as "
                                                     "8c4e0a2e-5b1d-4e7f-9a3c-2d6b1f0e9a77)"
                              if c["polon"] else "the POL-on id is empty"))
    name = " ".join(c["name"].split())
    if not name:
        problems.add(_problem(cols["name"], row_no, "the name is empty"))
    if not c["city"]:
        problems.add(_problem(cols["city"], row_no, "the city is empty"))
    try:
        # A university's county is where its city is: „Kraków” is the city county, not powiat krakowski.
        county = ref.county_code(c["county"], city_first=True)
    except KeyError:
        county = None
        problems.add(_problem(cols["county"], row_no, f"unknown county {c['county']!r}: give the TERYT code of a "
                                                      "Małopolska county (1201–1219, 1261–1263) or its name "
                                                      "(e.g. m. Kraków, bocheński)" if c["county"]
                              else "the county is empty: give its TERYT code (e.g. 1261) or its name"))
    if _count(problems) > n:
        return None
    return Record(str(ident.value), row_no, {"name": name, "kind": "university", "county": county,
                                             "municipality": c["city"], "locality": c["city"]})


# --------------------------------------------------------------------------- comparing with the database

# A change of any of these is a move (reported with county and locality); the rest are "other changes".
MOVED = ("county", "locality", "municipality", "district", "municipality_code")


@dataclass
class Update:
    row_id: int
    record: Record
    old: dict[str, Any]  # the columns that change: stored value
    reappears: bool


@dataclass
class Plan:
    new: list[Record] = field(default_factory=list)
    updates: list[Update] = field(default_factory=list)
    gone: list[tuple[int, object, str, str]] = field(default_factory=list)  # row id, identifier, name, county
    unchanged: int = 0


def plan_changes(con: Connection, f: RegisterFile, types: RspoTypes) -> Plan:
    """What storing ``f`` would change, compared with the institutions stored (read only)."""
    idc = f.ident_column
    cols = tuple(dict.fromkeys((*f.fields, "name", "county", "kind", "rspo_type", "in_register")))
    stored: dict[object, tuple[int, dict[str, Any]]] = {
        r[1]: (r[0], dict(zip(cols, r[2:]))) for r in institutions_identified_by(con, idc, cols)}
    plan = Plan()
    for rec in f.records:
        row_id, old = stored.pop(rec.ident, (None, None))
        if old is None:
            plan.new.append(rec)
            continue
        new = dict(rec.values, in_register=1)
        diff = {c: old[c] for c in (*f.fields, "in_register") if old[c] != new[c]}
        if diff:
            plan.updates.append(Update(row_id, rec, diff, old["in_register"] == 0))
        else:
            plan.unchanged += 1
    for ident, (row_id, old) in stored.items():  # what the file no longer lists
        if old["in_register"] == 1 and (f.source != "rspo" or _scope_key(old, types) in f.scope):
            plan.gone.append((row_id, ident, old["name"], old["county"]))
    return plan


def check_rights(con: Connection, f: RegisterFile, plan: Plan) -> None:
    """Refuse, before anything is written, a file whose changes reach institutions the connected
    login may not change (another police unit's counties): every such row is named."""
    problems = Problems(f.path)
    def who(ident: object) -> str:
        return label(ident, None) if f.source == "rspo" else label(None, ident)

    for rec in plan.new:
        p = rights_problem(con, rec.values.get("county"), f"new institution {who(rec.ident)} „{rec.values['name']}”",
                           Problem("", rec.row))
        if p:
            problems.add(p)
    for u in plan.updates:
        for county in dict.fromkeys((u.old.get("county", u.record.values.get("county")), u.record.values.get("county"))):
            p = rights_problem(con, county, f"{who(u.record.ident)} „{u.record.values['name']}”",
                               Problem("", u.record.row))
            if p:
                problems.add(p)
                break
    for _, ident, name, county in plan.gone:
        p = rights_problem(con, county, f"{who(ident)} „{name}”, which the file no longer lists (it would be marked "
                                        "as no longer in the register),")
        if p:
            problems.add(p)
    problems.raise_if_any()


def _scope_key(old: dict[str, Any], types: RspoTypes) -> tuple[str, str]:
    """(county, type) of a stored school, as :class:`Record.scope` keys a file's rows; a school
    stored without an RSPO type (entered by hand) is keyed by its kind."""
    rtype = old["rspo_type"]
    if not rtype:
        return old["county"], f"kind:{old['kind']}"
    found = types.find(rtype)
    return old["county"], f"type:{found.id}" if found else f"text:{fold(rtype)}"


def apply_plan(con: Connection, f: RegisterFile, plan: Plan, import_id: int) -> None:
    """Store ``plan`` inside the caller's transaction: inserts carry the import, updates are logged."""
    columns = (f.ident_column, *f.fields, "in_register", "import_id")
    insert_rows(con, "institutions", columns,
                ((r.ident, *(r.values[c] for c in f.fields), 1, import_id) for r in plan.new))
    for u in plan.updates:
        update_logged(con, "institutions", u.row_id, dict(u.record.values, in_register=1), import_id)
    for row_id, *_ in plan.gone:
        update_logged(con, "institutions", row_id, {"in_register": 0}, import_id)


# --------------------------------------------------------------------------- the import


def _other_columns(u: Update) -> list[str]:
    """Changed columns of an update other than the name and the place."""
    return [c for c in u.old if c not in ("name", "in_register", *MOVED)]


@dataclass
class InstitutionsImport:
    """What an import stored (or, in a dry run, would store)."""
    file: RegisterFile
    plan: Plan
    ref: Reference
    import_id: int | None
    dry_run: bool

    @property
    def renamed(self) -> list[Update]:
        return [u for u in self.plan.updates if "name" in u.old]

    @property
    def moved(self) -> list[Update]:
        return [u for u in self.plan.updates if any(c in u.old for c in MOVED)]

    @property
    def other(self) -> list[Update]:
        return [u for u in self.plan.updates if _other_columns(u)]

    @property
    def back(self) -> list[Update]:
        return [u for u in self.plan.updates if u.reappears]

    def other_columns(self) -> Counter:
        """How many institutions each other column changed in."""
        return Counter(c for u in self.plan.updates for c in _other_columns(u))

    def counts(self) -> dict[str, Any]:
        p, f = self.plan, self.file
        return {
            "source": f.source, "format": f.format, "rows_read": f.rows_read, "in_voivodeship": f.in_voivodeship,
            "skipped_other_voivodeships": dict(f.skipped), "out_of_scope": dict(f.out_of_scope),
            "unknown_types": dict(f.unknown), SKIPPED_OUT_OF_SCOPE: f.out_of_scope_rspo,
            SKIPPED_UNKNOWN_TYPE: f.unknown_rspo, "new": len(p.new), "renamed": len(self.renamed),
            "moved": len(self.moved), "other_changes": dict(self.other_columns()), "back_in_register": len(self.back),
            "no_longer_in_register": len(p.gone), "unchanged": p.unchanged}

    def lines(self) -> list[str]:
        out = [f"{self.file.path.name}: {self.file.format}, {count(self.file.rows_read, 'row')} read"]
        if self.file.source == "rspo":
            out += self._scope_lines()
        out += self._change_lines()
        if self.dry_run:
            out.append("dry run: nothing was stored")
        else:
            what = "institutions" if self.file.source == "rspo" else "universities"
            out.append(f"stored the {what} as import #{self.import_id} (to take it back: "
                       f"`zpb imports undo {self.import_id}`)")
        return out

    def _scope_lines(self) -> list[str]:
        f = self.file
        out = [f"  Małopolska rows: {f.in_voivodeship}"]
        if f.skipped:
            per = ", ".join(f"{v} {n}" for v, n in sorted(f.skipped.items(), key=lambda kv: (-kv[1], kv[0])))
            out.append(f"  skipped (other voivodeships): {sum(f.skipped.values())} ({per})")
        if f.out_of_scope:
            out.append("  not in scope: " + ", ".join(f"{t} {n}" for t, n in f.out_of_scope.most_common()))
        if f.unknown:
            out.append("  unknown types (not stored; add them to data/rspo_types.yaml): "
                       + ", ".join(f"{t} {n}" for t, n in f.unknown.most_common()))
        out.append(f"  schools of the types in scope: {len(f.records)}")
        return out

    def _change_lines(self) -> list[str]:
        p = self.plan
        out = [f"  new: {len(p.new)}", f"  renamed: {len(self.renamed)}"]
        out += _listed(self.renamed, lambda u: f"{self._who(u.record.ident, u.old['name'])} → "
                                               f"„{u.record.values['name']}”")
        out.append(f"  moved: {len(self.moved)}")
        out += _listed(self.moved, lambda u: f"{self._who(u.record.ident, u.record.values['name'])}: "
                                             f"{self._place(dict(u.record.values, **u.old))} → "
                                             f"{self._place(u.record.values)}")
        columns = self.other_columns()
        out.append(f"  other changes: {len(self.other)}"
                   + (" (" + ", ".join(f"{c} {n}" for c, n in columns.most_common()) + ")" if columns else ""))
        if self.back:
            out.append(f"  back in the register: {len(self.back)}")
        out.append(f"  no longer in the register: {len(p.gone)}" + (" (kept, marked in_register = 0)" if p.gone else ""))
        out += _listed(p.gone, lambda g: self._who(g[1], g[2]))
        out.append(f"  unchanged: {p.unchanged}")
        return out

    def _who(self, ident: object, name: str) -> str:
        ident_label = label(ident, None) if self.file.source == "rspo" else label(None, ident)
        return f"{ident_label} „{name}”"

    def _place(self, values: dict[str, Any]) -> str:
        county = self.ref.counties.get(values.get("county"))
        return f"{county.name if county else values.get('county')}, {values.get('locality')}"


def _listed(items: Sequence, show: Callable[[Any], str]) -> list[str]:
    """The first :data:`SHOWN` items, one a line, and how many more there are."""
    out = [f"    {show(i)}" for i in items[:SHOWN]]
    return out + ([f"    … and {len(items) - SHOWN} more"] if len(items) > SHOWN else [])


def rspo_types(ref: Reference) -> RspoTypes:
    return load_rspo_types(ref.directory / "rspo_types.yaml", ref.kinds)


def ingest_institutions(con: Connection, path: str | Path, *, dry_run: bool = False,
                        ref: Reference | None = None) -> InstitutionsImport:
    """Check a register file and store what it changes in one transaction; on any problem nothing is
    stored. The same file (same bytes) is refused the second time."""
    ref = ref or reference()
    path = Path(path)
    types = rspo_types(ref)
    f = read_register_file(path, read_bytes(path, limits_for(path, "institutions")), ref, types)
    with ImportEnvelope(con, path, "institutions" if f.source == "rspo" else "universities", f.content_hash,
                        what="the institutions", again="a newer export is a new file", dry_run=dry_run) as env:
        plan = plan_changes(con, f, types)
        check_rights(con, f, plan)
        result = InstitutionsImport(f, plan, ref, None, dry_run)
        import_id = env.record(len(f.records), json.dumps(result.counts(), ensure_ascii=False))
        apply_plan(con, f, plan, import_id)
    result.import_id = env.import_id
    return result
