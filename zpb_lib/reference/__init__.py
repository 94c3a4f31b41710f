"""Reference data: counties, police units, institution kinds, editions, criteria catalogues and
questionnaires, loaded from the human-readable files in ``data/`` and validated on load.

Every problem is reported as a :class:`ReferenceDataError` naming the file and the entry, so that
whoever edits a file sees at once what to fix.
"""
from __future__ import annotations

import csv
import datetime as dt
import functools
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import yaml

from zpb_lib.core.errors import ZpbError
from zpb_lib.core.paths import data_dir as _data_dir

EDITION_RE = re.compile(r"^(\d{4})/(\d{4})$")
GROUPS = ("students", "parents", "teachers")
WAVES = ("baseline", "follow-up")
# The names people use in Polish (DESIGN.md glossary), accepted wherever a group or wave is typed.
GROUP_NAMES_PL = {"students": "uczniowie", "parents": "rodzice", "teachers": "nauczyciele"}
WAVE_NAMES_PL = {"baseline": "diagnoza", "follow-up": "ewaluacja"}


class ReferenceDataError(ZpbError, ValueError):
    """A reference file is malformed; the message names the file and the entry."""

    def __init__(self, path: Path | str, entry: str | None, problem: str):
        self.path, self.entry, self.problem = str(path), entry, problem
        where = f"{Path(path).name}" + (f", {entry}" if entry else "")
        super().__init__(f"{where}: {problem}")


def data_dir() -> Path:
    """The reference-data folder: ``$ZPB_DATA_DIR``, else the data shipped in the package (in a
    source checkout: the repository's ``data/``, which the package links to)."""
    return _data_dir()


# --------------------------------------------------------------------------- value types

@dataclass(frozen=True)
class PoliceUnit:
    code: str
    kind: str  # KPP (county) or KMP (city)
    name: str
    seat: str


@dataclass(frozen=True)
class County:
    teryt: str
    name: str
    name_en: str
    kind: str  # land or city
    seat: str
    police_unit: str
    population: int


@dataclass(frozen=True)
class InstitutionKind:
    code: str
    family: str  # school or university: chooses catalogue and rules
    name_pl: str
    name_en: str
    exists_from: int
    exists_to: int | None

    def exists_in(self, year: int) -> bool:
        return self.exists_from <= year and (self.exists_to is None or year <= self.exists_to)


@dataclass(frozen=True)
class Edition:
    edition: str  # "2017/2018"
    start_year: int
    number: int | None  # None while the programme was suspended
    roman: str | None
    held: bool
    audit_from: dt.date
    audit_to: dt.date
    ceremony: dt.date | None

    @property
    def label(self) -> str:
        return f"{self.roman} ({self.edition})" if self.roman else self.edition


@dataclass(frozen=True)
class Area:
    id: str
    title_pl: str
    title_en: str


@dataclass(frozen=True)
class Criterion:
    id: str
    area: str
    max_points: int
    mandatory: bool
    title_pl: str
    title_en: str


@dataclass(frozen=True)
class Catalogue:
    id: str
    version: int
    family: str
    valid_from: str
    areas: tuple[Area, ...]
    criteria: tuple[Criterion, ...]
    documented_default: bool
    source: str = ""

    @property
    def key(self) -> str:
        return f"{self.id}@{self.version}"

    @property
    def max_total(self) -> int:
        return sum(c.max_points for c in self.criteria)

    def criterion(self, cid: str) -> Criterion:
        for c in self.criteria:
            if c.id == cid:
                return c
        raise KeyError(f"{self.key} has no criterion {cid!r}")


@dataclass(frozen=True)
class ScaleOption:
    value: int | None
    code: str | None
    label_pl: str
    label_en: str
    exclusive: bool = False  # multiple choice: excludes every other option ("Nowhere")


@dataclass(frozen=True)
class Scale:
    id: str
    kind: str  # single or multiple
    options: tuple[ScaleOption, ...]

    @property
    def values(self) -> tuple[int, ...]:
        return tuple(o.value for o in self.options if o.value is not None)


@dataclass(frozen=True)
class Item:
    id: str
    scale: str
    text_pl: str
    text_en: str


@dataclass(frozen=True)
class Questionnaire:
    group: str
    title_pl: str
    title_en: str
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Indicator:
    id: str
    item: str
    positive: tuple[int, ...]
    better: str  # higher or lower
    title_pl: str
    title_en: str


@dataclass(frozen=True)
class Reference:
    police_units: dict[str, PoliceUnit]
    counties: dict[str, County]
    kinds: dict[str, InstitutionKind]
    editions: dict[str, Edition]
    catalogues: dict[str, Catalogue]
    scales: dict[str, Scale]
    questionnaires: dict[str, Questionnaire]
    indicators: dict[str, Indicator]
    geojson_path: Path
    directory: Path = field(default_factory=data_dir)

    # -- lookups used across the library
    def held_editions(self) -> list[Edition]:
        return [e for e in self.editions.values() if e.held]

    def current_edition(self) -> Edition:
        """The latest held edition (the one whose reports are built by default)."""
        return self.held_editions()[-1]

    def edition(self, edition: str) -> Edition:
        try:
            return self.editions[edition]
        except KeyError:
            raise KeyError(f"unknown edition {edition!r} (known: {', '.join(self.editions)})") from None

    def edition_of(self, text: object) -> str:
        """The edition ("2025/2026") of a school year written as people write it: "2025/2026",
        "2025-2026", "2025/26", "XIX" (its number) or "XIX (2025/2026)". Raises KeyError with a
        one-line message naming the known editions."""
        s = " ".join(str(text or "").split())
        m = re.fullmatch(r"(\d{4})\s*[/\-–_ ]\s*(\d{4}|\d{2})", s) or \
            re.fullmatch(r"[IVXLC]+\s*\(\s*(\d{4})\s*[/\-–_ ]\s*(\d{4}|\d{2})\s*\)", s, re.I)
        if m:
            start, end = int(m.group(1)), m.group(2)
            if (int(end) if len(end) == 4 else start // 100 * 100 + int(end)) == start + 1:
                name = edition_name(start)
                if name in self.editions:
                    return name
        else:
            numeral = re.sub(r"^(edycja|edition)\s+", "", s, flags=re.I).upper()
            for e in self.editions.values():
                if e.roman and e.roman == numeral:
                    return e.edition
        first, last = next(iter(self.editions)), list(self.editions)[-1]
        raise KeyError(f"unknown edition {s!r}: give a school year from {first} to {last} "
                       f"(e.g. {last}, {last.replace('/', '-')} or {self.current_edition().roman})")

    def county_code(self, text: str, *, city_first: bool = False) -> str:
        """The TERYT code of a county given as people write it: its code ("1201"), its name
        ("bocheński", "bochenski", "powiat bocheński"), a city county's city ("m. Kraków") or, for a
        land county, its seat ("Bochnia"). A city that is both a city county and the seat of a land
        county (Kraków, Nowy Sącz, Tarnów) is ambiguous: :class:`AmbiguousCounty` names both, unless
        the text says which ("m. Tarnów", "powiat Tarnów", "tarnowski") or ``city_first`` (the county
        of a place in that city, e.g. a university's). Raises KeyError with the known names."""
        key = _fold(text)
        city_prefix = re.match(r"^(miasto na prawach powiatu|miasto|m)\s+", key) is not None
        land_prefix = re.match(r"^(powiat|pow)\s+", key) is not None
        key = re.sub(r"^(powiat|pow|miasto na prawach powiatu|miasto|m)\s+", "", key)
        if key in self.counties:
            return key
        if re.fullmatch(r"\d{2}", key) and "12" + key in self.counties:
            return "12" + key
        for c in self.counties.values():  # by its name: "bocheński", "m. Kraków", "Bochnia County"
            if key in {_fold(c.name), _fold(c.name_en)}:
                return c.teryt
        cities = [c for c in self.counties.values() if c.kind == "city" and key == _fold(c.seat)]
        seats = [c for c in self.counties.values() if c.kind == "land" and key == _fold(c.seat)]
        if cities and seats and not (city_prefix or land_prefix or city_first):
            raise AmbiguousCounty(
                f"county {text!r} is ambiguous: {cities[0].name} ({cities[0].teryt}) or powiat {seats[0].name} "
                f"({seats[0].teryt})? give the code, or „{cities[0].name}” or „{seats[0].name}”")
        if cities and not land_prefix:
            return cities[0].teryt
        if seats:
            return seats[0].teryt
        raise KeyError(f"unknown county {text!r}: give its TERYT code or its name "
                       f"({', '.join(f'{t} {c.name}' for t, c in self.counties.items())})")

    def catalogue_for(self, family: str, edition: str) -> Catalogue:
        """The catalogue of ``family`` in force in ``edition`` (latest valid_from not after it)."""
        year = self.edition(edition).start_year
        best = None
        for cat in self.catalogues.values():
            if cat.family == family and edition_start(cat.valid_from) <= year:
                if best is None or edition_start(cat.valid_from) > edition_start(best.valid_from):
                    best = cat
        if best is None:
            raise KeyError(f"no {family} catalogue valid in {edition}")
        return best

    def place_codes(self) -> tuple[str, ...]:
        """Every option of the dangerous-places question, "nowhere" included: one answer column each
        (``place_<code>``)."""
        return tuple(o.code for o in self.scales["places"].options if o.code)

    def named_place_codes(self) -> tuple[str, ...]:
        """The places a respondent can name as dangerous (what reports rank): every option but the
        exclusive "nowhere"."""
        return tuple(o.code for o in self.scales["places"].options if o.code and not o.exclusive)

    def nowhere_code(self) -> str | None:
        """The exclusive "Nowhere — there are no such places" option of the places question, if any."""
        return next((o.code for o in self.scales["places"].options if o.exclusive), None)

    def survey_columns(self) -> dict[str, tuple[int, ...]]:
        """Database answer columns and the values each may hold (one per item; one per place)."""
        cols: dict[str, tuple[int, ...]] = {}
        for q in self.questionnaires.values():
            for item in q.items:
                scale = self.scales[item.scale]
                if scale.kind == "multiple":
                    for code in self.place_codes():
                        cols[f"place_{code}"] = (0, 1)
                else:
                    cols[item.id] = scale.values
        return cols


def _choice(text: object, names_pl: dict[str, str], what: str) -> str:
    key = _fold(str(text)).replace("_", "-").replace(" ", "-")
    for code, pl in names_pl.items():
        if key in (code, _fold(pl), code.replace("-", "")):
            return code
    accepted = ", ".join(f"{code} ({pl})" for code, pl in names_pl.items())
    raise ValueError(f"unknown {what} {str(text).strip()!r} (accepted: {accepted})")


def group_of(text: object) -> str:
    """The survey group a person typed, in English or Polish: ``"uczniowie"`` and ``"Students"``
    → ``"students"``; raises ValueError (one line, naming the accepted values) otherwise."""
    return _choice(text, GROUP_NAMES_PL, "group")


def wave_of(text: object) -> str:
    """The survey wave a person typed: ``"diagnoza"`` → ``"baseline"``, ``"ewaluacja"`` or
    ``"follow up"`` → ``"follow-up"``; raises ValueError naming the accepted values otherwise."""
    return _choice(text, WAVE_NAMES_PL, "wave")


class AmbiguousCounty(ZpbError, KeyError):
    """A county's name that two counties answer to (a city county and the land county seated in it)."""


def _fold(text: str) -> str:
    """Lower case without diacritics, for names typed on any keyboard."""
    t = unicodedata.normalize("NFKD", str(text).strip().casefold().replace("ł", "l"))
    t = "".join(ch for ch in t if not unicodedata.combining(ch))
    return " ".join(t.replace(".", " ").split())


def edition_start(edition: str) -> int:
    m = EDITION_RE.match(edition)
    if not m or int(m.group(2)) != int(m.group(1)) + 1:
        raise ValueError(f"not a school year: {edition!r} (expected e.g. 2017/2018)")
    return int(m.group(1))


def edition_name(start_year: int) -> str:
    return f"{start_year}/{start_year + 1}"


def roman(n: int) -> str:
    out = ""
    for value, sym in ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
                       (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        while n >= value:
            out += sym
            n -= value
    return out


# --------------------------------------------------------------------------- loading helpers

def _yaml(path: Path) -> Any:
    try:
        with open(path, encoding="utf-8") as fh:
            # libyaml's safe loader when PyYAML has it: the same documents, several times faster
            # (reports reload the reference data, and every warm kernel does so for each report).
            return yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except FileNotFoundError:
        raise ReferenceDataError(path, None, "file not found") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
        raise ReferenceDataError(path, where, f"malformed YAML: {getattr(exc, 'problem', exc)}") from None


def _csv(path: Path, required: Iterable[str]) -> list[dict[str, str]]:
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in required if c not in (reader.fieldnames or [])]
            if missing:
                raise ReferenceDataError(path, "header", f"missing column(s) {', '.join(missing)}")
            return [dict(row, _line=str(i)) for i, row in enumerate(reader, start=2)]
    except FileNotFoundError:
        raise ReferenceDataError(path, None, "file not found") from None


def _need(path: Path, entry: str, obj: Any, key: str, types: type | tuple[type, ...]) -> Any:
    if not isinstance(obj, dict) or key not in obj or obj[key] is None:
        raise ReferenceDataError(path, entry, f"missing {key!r}")
    value = obj[key]
    if not isinstance(value, types) or isinstance(value, bool) and bool not in _as_tuple(types):
        raise ReferenceDataError(path, entry, f"{key!r} must be {_type_names(types)}, got {value!r}")
    return value


def _as_tuple(types: type | tuple[type, ...]) -> tuple[type, ...]:
    return types if isinstance(types, tuple) else (types,)


def _type_names(types: type | tuple[type, ...]) -> str:
    return " or ".join(t.__name__ for t in _as_tuple(types))


def _unique(path: Path, what: str, ids: Iterable[str]) -> None:
    seen: set[str] = set()
    for i in ids:
        if i in seen:
            raise ReferenceDataError(path, f"{what} {i}", f"duplicate {what} id {i!r}")
        seen.add(i)


def _list(path: Path, doc: Any, key: str) -> list:
    if not isinstance(doc, dict) or not isinstance(doc.get(key), list) or not doc[key]:
        raise ReferenceDataError(path, None, f"expected a non-empty list under {key!r}")
    return doc[key]


# --------------------------------------------------------------------------- loaders

def load_police_units(path: Path) -> dict[str, PoliceUnit]:
    rows = _csv(path, ("code", "kind", "name", "seat"))
    _unique(path, "police unit", (r["code"] for r in rows))
    units = {}
    for r in rows:
        if r["kind"] not in ("KPP", "KMP"):
            raise ReferenceDataError(path, f"line {r['_line']} ({r['code']})", f"kind must be KPP or KMP, got {r['kind']!r}")
        units[r["code"]] = PoliceUnit(r["code"], r["kind"], r["name"], r["seat"])
    return units


def load_counties(path: Path, units: dict[str, PoliceUnit]) -> dict[str, County]:
    rows = _csv(path, ("teryt", "name", "name_en", "kind", "seat", "police_unit", "population"))
    _unique(path, "county", (r["teryt"] for r in rows))
    counties = {}
    for r in rows:
        entry = f"line {r['_line']} ({r['teryt']})"
        if not re.fullmatch(r"12\d\d", r["teryt"]):
            raise ReferenceDataError(path, entry, f"TERYT must be 4 digits starting 12, got {r['teryt']!r}")
        if r["kind"] not in ("land", "city"):
            raise ReferenceDataError(path, entry, f"kind must be land or city, got {r['kind']!r}")
        if r["police_unit"] not in units:
            raise ReferenceDataError(path, entry, f"unknown police unit {r['police_unit']!r}")
        try:
            population = int(r["population"])
        except ValueError:
            raise ReferenceDataError(path, entry, f"population must be a whole number, got {r['population']!r}") from None
        counties[r["teryt"]] = County(r["teryt"], r["name"], r["name_en"], r["kind"], r["seat"],
                                      r["police_unit"], population)
    return counties


def load_kinds(path: Path) -> dict[str, InstitutionKind]:
    doc = _yaml(path)
    entries = _list(path, doc, "kinds")
    _unique(path, "kind", (str(k.get("code")) for k in entries if isinstance(k, dict)))
    kinds = {}
    for i, k in enumerate(entries):
        entry = f"kind {k.get('code', '#' + str(i + 1)) if isinstance(k, dict) else '#' + str(i + 1)}"
        family = _need(path, entry, k, "family", str)
        if family not in ("school", "university"):
            raise ReferenceDataError(path, entry, f"family must be school or university, got {family!r}")
        to = k.get("exists_to")
        kinds[k["code"]] = InstitutionKind(
            _need(path, entry, k, "code", str), family, _need(path, entry, k, "name_pl", str),
            _need(path, entry, k, "name_en", str), _need(path, entry, k, "exists_from", int),
            None if to is None else int(to))
    return kinds


def _mmdd(path: Path, entry: str, value: str, year: int) -> dt.date:
    try:
        month, day = (int(x) for x in str(value).split("-"))
        return dt.date(year, month, day)
    except ValueError:
        raise ReferenceDataError(path, entry, f"expected a month-day like 05-01, got {value!r}") from None


def load_editions(path: Path) -> dict[str, Edition]:
    doc = _yaml(path)
    if not isinstance(doc, dict):
        raise ReferenceDataError(path, None, "expected a mapping")
    try:
        first = edition_start(_need(path, "first", doc, "first", str))
        last = edition_start(_need(path, "last", doc, "last", str))
        suspended = {edition_start(s) for s in doc.get("suspended") or []}
    except ValueError as exc:
        raise ReferenceDataError(path, None, str(exc)) from None
    window = _need(path, "audit_window", doc, "audit_window", dict)
    ceremonies = doc.get("ceremonies") or {}
    default_ceremony = doc.get("default_ceremony", "10-15")
    editions: dict[str, Edition] = {}
    number = 0
    for year in range(first, last + 1):
        name = edition_name(year)
        held = year not in suspended
        if held:
            number += 1
        ceremony = None
        if held:
            known = ceremonies.get(name)
            if known is not None and not isinstance(known, dt.date):
                raise ReferenceDataError(path, f"ceremonies {name}", f"expected a date, got {known!r}")
            ceremony = known or _mmdd(path, "default_ceremony", default_ceremony, year + 1)
        editions[name] = Edition(
            name, year, number if held else None, roman(number) if held else None, held,
            _mmdd(path, "audit_window.from", window.get("from"), year + 1),
            _mmdd(path, "audit_window.to", window.get("to"), year + 1), ceremony)
    for name in ceremonies:
        if name not in editions or not editions[name].held:
            raise ReferenceDataError(path, f"ceremonies {name}", "not a held edition")
    return editions


def load_catalogue(path: Path, families: set[str]) -> Catalogue:
    doc = _yaml(path)
    if not isinstance(doc, dict):
        raise ReferenceDataError(path, None, "expected a mapping")
    cid = _need(path, "id", doc, "id", str)
    version = _need(path, "version", doc, "version", int)
    family = _need(path, "family", doc, "family", str)
    if family not in families:
        raise ReferenceDataError(path, "family", f"unknown institution family {family!r}")
    valid_from = _need(path, "valid_from", doc, "valid_from", str)
    try:
        edition_start(valid_from)
    except ValueError as exc:
        raise ReferenceDataError(path, "valid_from", str(exc)) from None
    areas_raw = _list(path, doc, "areas")
    areas = tuple(Area(_need(path, f"area #{i + 1}", a, "id", str), _need(path, f"area {a.get('id')}", a, "title_pl", str),
                       _need(path, f"area {a.get('id')}", a, "title_en", str)) for i, a in enumerate(areas_raw))
    _unique(path, "area", (a.id for a in areas))
    area_ids = {a.id for a in areas}
    crits_raw = _list(path, doc, "criteria")
    _unique(path, "criterion", (str(c.get("id")) for c in crits_raw if isinstance(c, dict)))
    criteria = []
    for i, c in enumerate(crits_raw):
        entry = f"criterion {c.get('id') if isinstance(c, dict) and c.get('id') else '#' + str(i + 1)}"
        crit_id = _need(path, entry, c, "id", str)
        area = _need(path, entry, c, "area", str)
        if area not in area_ids:
            raise ReferenceDataError(path, entry, f"unknown area {area!r}")
        max_points = _need(path, entry, c, "max_points", int)
        if max_points <= 0:
            raise ReferenceDataError(path, entry, f"max_points must be positive, got {max_points}")
        mandatory = _need(path, entry, c, "mandatory", bool)
        criteria.append(Criterion(crit_id, area, max_points, mandatory,
                                  _need(path, entry, c, "title_pl", str), _need(path, entry, c, "title_en", str)))
    return Catalogue(cid, version, family, valid_from, areas, tuple(criteria),
                     bool(doc.get("documented_default", False)), path.name)


def load_scales(path: Path) -> dict[str, Scale]:
    doc = _yaml(path)
    if not isinstance(doc, dict) or not isinstance(doc.get("scales"), dict):
        raise ReferenceDataError(path, None, "expected a mapping under 'scales'")
    scales = {}
    for sid, s in doc["scales"].items():
        entry = f"scale {sid}"
        kind = _need(path, entry, s, "kind", str)
        if kind not in ("single", "multiple"):
            raise ReferenceDataError(path, entry, f"kind must be single or multiple, got {kind!r}")
        opts = []
        for o in _list(path, s, "options"):
            key = "value" if kind == "single" else "code"
            val = _need(path, entry, o, key, int if kind == "single" else str)
            exclusive = o.get("exclusive", False) if isinstance(o, dict) else False
            if not isinstance(exclusive, bool):
                raise ReferenceDataError(path, f"{entry}, option {val}", f"exclusive must be true or false, got {exclusive!r}")
            if exclusive and kind != "multiple":
                raise ReferenceDataError(path, f"{entry}, option {val}", "only an option of a multiple-choice scale "
                                         "can be exclusive")
            opts.append(ScaleOption(val if kind == "single" else None, val if kind == "multiple" else None,
                                    _need(path, entry, o, "label_pl", str), _need(path, entry, o, "label_en", str),
                                    exclusive))
        if sum(o.exclusive for o in opts) > 1:
            raise ReferenceDataError(path, entry, "at most one option can be exclusive")
        _unique(path, f"{sid} option", (str(o.value if kind == "single" else o.code) for o in opts))
        scales[sid] = Scale(sid, kind, tuple(opts))
    return scales


def load_questionnaire(path: Path, scales: dict[str, Scale]) -> Questionnaire:
    doc = _yaml(path)
    group = _need(path, "group", doc, "group", str)
    if group not in GROUPS:
        raise ReferenceDataError(path, "group", f"group must be one of {', '.join(GROUPS)}, got {group!r}")
    items = []
    raw = _list(path, doc, "items")
    _unique(path, "item", (str(i.get("id")) for i in raw if isinstance(i, dict)))
    for n, i in enumerate(raw):
        entry = f"item {i.get('id') if isinstance(i, dict) and i.get('id') else '#' + str(n + 1)}"
        scale = _need(path, entry, i, "scale", str)
        if scale not in scales:
            raise ReferenceDataError(path, entry, f"unknown scale {scale!r}")
        items.append(Item(_need(path, entry, i, "id", str), scale, _need(path, entry, i, "text_pl", str),
                          _need(path, entry, i, "text_en", str)))
    return Questionnaire(group, _need(path, "title_pl", doc, "title_pl", str),
                         _need(path, "title_en", doc, "title_en", str), tuple(items))


def load_indicators(path: Path, items: dict[str, Item], scales: dict[str, Scale]) -> dict[str, Indicator]:
    raw = _list(path, _yaml(path), "indicators")
    _unique(path, "indicator", (str(i.get("id")) for i in raw if isinstance(i, dict)))
    out = {}
    for n, i in enumerate(raw):
        entry = f"indicator {i.get('id') if isinstance(i, dict) and i.get('id') else '#' + str(n + 1)}"
        item = _need(path, entry, i, "item", str)
        if item not in items:
            raise ReferenceDataError(path, entry, f"unknown item {item!r}")
        positive = tuple(_need(path, entry, i, "positive", list))
        allowed = scales[items[item].scale].values
        bad = [v for v in positive if v not in allowed]
        if bad:
            raise ReferenceDataError(path, entry, f"positive values {bad} are not on the item's scale {list(allowed)}")
        better = _need(path, entry, i, "better", str)
        if better not in ("higher", "lower"):
            raise ReferenceDataError(path, entry, f"better must be higher or lower, got {better!r}")
        out[i["id"]] = Indicator(i["id"], item, positive, better, _need(path, entry, i, "title_pl", str),
                                 _need(path, entry, i, "title_en", str))
    return out


def load_reference(directory: Path | str | None = None) -> Reference:
    """Load and validate every reference file of ``directory`` (default: :func:`data_dir`)."""
    d = Path(directory) if directory else data_dir()
    units = load_police_units(d / "police_units.csv")
    counties = load_counties(d / "counties.csv", units)
    kinds = load_kinds(d / "institution_kinds.yaml")
    editions = load_editions(d / "editions.yaml")
    families = {k.family for k in kinds.values()}
    catalogues: dict[str, Catalogue] = {}
    for path in sorted((d / "catalogues").glob("*.yaml")):
        cat = load_catalogue(path, families)
        if cat.key in catalogues:
            raise ReferenceDataError(path, "version", f"catalogue {cat.key} is defined twice "
                                     f"(also in {catalogues[cat.key].source})")
        if cat.valid_from not in editions:
            raise ReferenceDataError(path, "valid_from", f"unknown edition {cat.valid_from!r}")
        catalogues[cat.key] = cat
    qdir = d / "questionnaires"
    scales = load_scales(qdir / "scales.yaml")
    questionnaires = {}
    for g in GROUPS:
        q = load_questionnaire(qdir / f"{g}.yaml", scales)
        questionnaires[q.group] = q
    items: dict[str, Item] = {}
    for q in questionnaires.values():
        for item in q.items:
            if item.id in items and items[item.id].scale != item.scale:
                raise ReferenceDataError(qdir / f"{q.group}.yaml", f"item {item.id}",
                                         f"scale {item.scale!r} differs from {items[item.id].scale!r} in another group")
            items[item.id] = item
    indicators = load_indicators(qdir / "indicators.yaml", items, scales)
    return Reference(units, counties, kinds, editions, catalogues, scales, questionnaires, indicators,
                     d / "malopolska-powiaty.geojson", d)


@functools.lru_cache(maxsize=4)
def _cached(directory: str) -> Reference:
    return load_reference(directory)


def reference(directory: Path | str | None = None) -> Reference:
    """The reference data, loaded once per process (the files do not change during a run)."""
    return _cached(str(Path(directory) if directory else data_dir()))
