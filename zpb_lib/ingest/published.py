"""Award lists as the police publish them (numbered paragraphs in a news item), matched to the
register's institutions and written as a workbook in the register's awards layout.

Nothing is stored here: a person reviews the workbook (rows below the acceptance threshold are
coloured, rows with no plausible institution have an empty institution cell) and then imports it
with `zpb ingest register`. A row still without an institution there is an item of the list the
register lacks (closed, renamed, not exported yet): it is skipped and listed by row and text, never
dropped silently, and the rest is stored.
"""
from __future__ import annotations

import codecs
import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from zpb_lib.ingest import IngestError, check_edition, is_blank, limits_for, read_bytes
from zpb_lib.core.text import cell_date
from zpb_lib.core.workbook import save
from zpb_lib.core.text import fold
from zpb_lib.domain.matching import AUTO_ACCEPT, Match, candidates, decision, match_line
from zpb_lib.reference import Reference, reference
from zpb_lib.core.wording import count
from zpb_lib.ingest.register.layout import AWARD_HEADERS, AWARD_KIND_LABELS, AWARDS_SHEET, LIST_LINE_HEADER
from zpb_lib.store.backend import Connection

# The register's awards sheet, then what a reviewer needs (the register import ignores those columns).
SHEET = AWARDS_SHEET
HEADERS = (*AWARD_HEADERS, "Wynik dopasowania", LIST_LINE_HEADER, "Kandydat 2", "Kandydat 3", "Uwagi")
WIDTHS = (16, 60, 11, 16, 14, 11, 70, 60, 60, 50)
# The award a list announces: command-line spelling → text of the register's „Rodzaj nagrody”.
KINDS = {"certyfikat": AWARD_KIND_LABELS["certificate"], "przedłużenie": AWARD_KIND_LABELS["extension"],
         "lider": AWARD_KIND_LABELS["leader"]}
_KIND_ALIASES = {"certyfikat": "certyfikat", "certificate": "certyfikat", "przedluzenie": "przedłużenie",
                 "extension": "przedłużenie", "lider": "lider", "lider projektu": "lider", "leader": "lider"}
REVIEW = "do sprawdzenia"
UNMATCHED = "brak dopasowania — uzupełnij ręcznie"
REVIEW_FILL = "FFF2CC"  # light yellow: check the proposed institution
UNMATCHED_FILL = "F8CBAD"  # light red: fill the institution in
SUGGESTION_MIN = 40.0  # weaker candidates are noise in the „Kandydat” columns
INSTRUCTIONS = (
    "Dopasowanie opublikowanej listy nagrodzonych placówek do rejestru",
    "Każdy wiersz arkusza „Nagrody” to jedna pozycja listy (kolumna „Linia z listy”) i placówka z rejestru, "
    "którą program uznał za najbardziej podobną (kolumny „Placówka (RSPO / POL-on)” i „Nazwa placówki”).",
    "1. Przejrzyj wiersze wyróżnione kolorem: żółte („do sprawdzenia”) mają niepewne dopasowanie, czerwone "
    "(„brak dopasowania — uzupełnij ręcznie”) nie mają go wcale.",
    "2. Jeśli placówka jest błędna, wpisz właściwy numer RSPO w kolumnie „Placówka (RSPO / POL-on)” "
    "(podpowiedzi: kolumny „Kandydat 2” i „Kandydat 3”; w wierszach bez dopasowania — najbliższe placówki; "
    "numer RSPO znajdziesz też poleceniem `zpb institutions find NAZWA`). Nazwę możesz zostawić — liczy się numer.",
    "3. Pozycję, która nie jest nagrodą (np. omyłkowo skopiowany tekst), usuń razem z całym wierszem.",
    "4. Sprawdź edycję, rodzaj nagrody i datę przyznania (domyślnie dzień gali edycji).",
    "5. Zapisz plik i zaimportuj go: `zpb ingest register PLIK.xlsx` (najpierw można z opcją --dry-run). "
    "Wiersz, który zostanie bez numeru placówki (np. szkoły, której nie ma w rejestrze), nie zostanie zapisany: "
    "polecenie wypisze go z numerem wiersza, a pozostałe wiersze zapisze. Gdy uzupełnisz numer, zaimportuj plik "
    "ponownie — wiersze już zapisane pozostaną bez zmian.",
    f"Wynik dopasowania: 0–100; od {AUTO_ACCEPT:g} w górę (i wyraźnie lepiej od następnej placówki) "
    "dopasowanie przyjęto automatycznie. Numer szkoły („nr 2”, „II LO”) musi się zgadzać, a miejscowość — co do "
    "słowa: „Łososina Górna” dla „Łososiny Dolnej” albo „Porąbka” dla „Porąbki Uszewskiej” to tylko propozycja "
    "do sprawdzenia (właściwej szkoły może nie być w rejestrze).",
)
_ITEM = re.compile(r"^\s*(\d{1,3})\s*[.)](?:\s*(?=\S)|\s*$)")  # „5.” alone: its text on the next line
_BULLET = re.compile(r"^\s*[•·▪●◦‣*\-–—]\s*(?=\S)")
_TERMINATED = re.compile(r"[,;.]\s*$")
_TRAILING = re.compile(r"[\s,;.]+$")


@dataclass(frozen=True)
class Item:
    """One entry of the list: where it starts in the file, its printed number, its text."""
    line: int
    number: int | None
    text: str  # the name, separators and numbering removed, wrapped lines joined
    original: str  # as printed (wrapped lines joined by a space)


@dataclass(frozen=True)
class Row:
    item: Item
    matches: tuple[Match, ...]
    status: str  # auto | review | none
    remark: str

    @property
    def best(self) -> Match | None:
        return self.matches[0] if self.status != "none" else None


@dataclass
class MatchResult:
    path: Path
    out: Path
    edition: str
    kind: str
    date: dt.date
    schools: int  # candidates in the register
    rows: list[Row] = field(default_factory=list)

    @property
    def items(self) -> int:
        return len(self.rows)

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.rows)

    def lines(self) -> list[str]:
        return [f"{self.path.name}: {count(self.items, 'item')} of the {self.kind} list, edition {self.edition}, "
                f"matched against {count(self.schools, 'school')}",
                f"  accepted automatically: {self.count('auto')}",
                f"  to review:              {self.count('review')}  (yellow rows, „{REVIEW}”)",
                f"  unmatched:              {self.count('none')}  (red rows, empty institution cell: skipped by the "
                "import until filled in)",
                f"written {self.out}",
                f"next: review the workbook, then `zpb ingest register {self.out}`"]


# --------------------------------------------------------------------------- reading the list

def read_text(path: Path) -> str:
    """The file's text: UTF-8 (with or without BOM), UTF-16 with BOM, or Windows-1250 (older Polish
    Windows editors). Empty and binary files are refused."""
    data = read_bytes(path, limits_for(path, "published"))
    if is_blank(data):
        raise IngestError(path, "the file is empty: expected the published list, one numbered item per "
                                "paragraph (e.g. „1. Szkoła Podstawowa nr 2 w Bochni,”)")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    if b"\x00" in data:
        line = data[:data.index(b"\x00")].count(b"\n") + 1
        raise IngestError(path, f"line {line}: binary data (a NUL byte); expected a text file (.txt) with the "
                                "published list")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1250")
        except UnicodeDecodeError as exc:
            line = data[:exc.start].count(b"\n") + 1
            raise IngestError(path, f"line {line}: not text in UTF-8 or Windows-1250 (byte 0x{data[exc.start]:02x}); "
                                    "expected a text file (.txt) with the published list") from None
    for n, line in enumerate(text.splitlines(), start=1):
        if any(unicodedata.category(ch) == "Cc" and ch not in "\t\f\v" for ch in line):
            raise IngestError(path, f"line {n}: control characters; this looks like a binary file, "
                                    "expected a text file (.txt) with the published list")
    return text


def _split_inline(number: int, text: str) -> list[tuple[int, str]]:
    """Items pasted into one line („1. SP nr 2 w Bochni, 2. SP nr 3 w Bochni”): split where the next
    number follows, but never after „nr”."""
    out = []
    while True:
        m = re.search(rf"(?<![\w№])(?<!nr )(?<!nr\. )(?<!Nr )(?<!NR ){number + 1}\s*[.)]\s+(?=\S)", text)
        if not m or m.start() == 0:
            out.append((number, text))
            return out
        out.append((number, text[:m.start()]))
        number, text = number + 1, text[m.end():]


def split_items(path: Path, text: str) -> list[Item]:
    """The list's items: lines starting with a number („1.”, „1)”), or with a bullet when no line is
    numbered. A non-blank line right after an unfinished item (no „,” „;” „.” at its end) continues
    it; everything else (the news item's heading, closing words) is ignored."""
    lines = text.splitlines()
    numbered = any(_ITEM.match(line) for line in lines)
    items: list[list] = []  # [first line, number, text parts, original parts]
    open_item = False
    for n, line in enumerate(lines, start=1):
        m = _ITEM.match(line) if numbered else _BULLET.match(line)
        if m:
            number = int(m.group(1)) if numbered else None
            pieces = _split_inline(number, line[m.end():]) if numbered else [(None, line[m.end():])]
            for num, part in pieces:
                items.append([n, num, [part.strip()], [line.strip() if len(pieces) == 1 else part.strip()]])
            open_item = not _TERMINATED.search(pieces[-1][1])
        elif not line.strip():
            open_item = False
        elif open_item and items:
            items[-1][2].append(line.strip())
            items[-1][3].append(line.strip())
            open_item = not _TERMINATED.search(line)
    if not items:
        first = next((i for i, line in enumerate(lines, start=1) if line.strip()), 1)
        raise IngestError(path, f"line {first}: no numbered items found in {len(lines)} lines; expected the list "
                                "as published, one item per paragraph: „1. Szkoła Podstawowa nr 2 w Bochni,” "
                                "(or „1)”, or bullets „•”, „-”)")
    limits = limits_for(path, "published")
    if len(items) > limits.rows:  # every item is matched against every school: bound the work
        raise IngestError(path, f"line {items[limits.rows][0]}: the list has {len(items):,} items; a published list "
                                f"has tens, and the limit is {limits.rows:,} (${limits.variable('rows')} changes it)"
                          .replace(",", " "))
    return [Item(n, num, _TRAILING.sub("", " ".join(t)).strip(), " ".join(o)) for n, num, t, o in items]


# --------------------------------------------------------------------------- the arguments

def _award_kind(path: Path, kind: str) -> str:
    key = _KIND_ALIASES.get(fold(kind))
    if key is None:
        raise IngestError(path, f"unknown award kind {kind!r}: expected one of {', '.join(KINDS)}")
    return key


def _award_date(path: Path, date: object, ceremony: dt.date | None, edition: str) -> dt.date:
    if date is None or date == "":
        if ceremony is None:
            raise IngestError(path, f"edition {edition} has no ceremony day: give the award date (--date)")
        return ceremony
    found = cell_date(date)
    if found is not None:
        return found
    s = str(date).strip()
    raise IngestError(path, f"award date {s!r}: expected a date such as 2026-10-15 or 15.10.2026")


# --------------------------------------------------------------------------- matching

def _remark(row_status: str, matches: list[Match]) -> str:
    if row_status == "auto":
        return ""
    if row_status == "none":
        return UNMATCHED
    best = matches[0]
    if best.score >= AUTO_ACCEPT and len(matches) > 1:
        return f"{REVIEW} — równie podobna: {matches[1].candidate.label} ({matches[1].candidate.locality})"
    doubts = [r for r in best.reasons if not re.fullmatch(r"nazwa 100|miejscowość .* 100|numer .* zgodny|"
                                                          r"patron zgodny", r)]
    return f"{REVIEW} — " + "; ".join(doubts) if doubts else REVIEW


def _rows(items: list[Item], cands, year: int) -> list[Row]:
    rows = []
    for item in items:
        ms = match_line(item.text, cands, family="school", year=year) if item.text else []
        status = decision(ms)
        rows.append(Row(item, tuple(ms), status, _remark(status, ms)))
    return _flag_repeats(rows)


def _flag_repeats(rows: list[Row]) -> list[Row]:
    """A list names a school once: items given the same institution go to review, except one
    accepted automatically when the others were uncertain anyway."""
    by_inst: dict[int, list[int]] = {}
    for i, r in enumerate(rows):
        if r.best is not None:
            by_inst.setdefault(r.best.candidate.id, []).append(i)
    for idxs in by_inst.values():
        if len(idxs) < 2:
            continue
        sure = [i for i in idxs if rows[i].status == "auto"]
        for i in idxs:
            if len(sure) == 1 and i == sure[0]:
                continue
            others = ", ".join(str(j + 2) for j in idxs if j != i)  # sheet rows (the header is row 1)
            r = rows[i]
            rows[i] = Row(r.item, r.matches, "review", f"{REVIEW} — ta sama placówka co w wierszu {others}")
    return rows


def match_published(con: Connection, path: str | Path, *, edition: str, kind: str,
                    out: str | Path | None = None, date: object = None, ref: Reference | None = None) -> MatchResult:
    """Match the published list at ``path`` (the awards of ``kind`` in ``edition``) to the register
    and write the workbook ``out`` (default: ``<list>-dopasowanie.xlsx`` next to the list)."""
    path = Path(path)
    ref = ref or reference()
    try:
        edition_name = ref.edition_of(edition)
    except KeyError as exc:
        raise IngestError(path, str(exc.args[0])) from None
    e = check_edition(path, ref, edition_name)
    kind_key = _award_kind(path, kind)
    award_date = _award_date(path, date, e.ceremony, edition_name)
    out_path = Path(out) if out else path.with_name(f"{path.stem}-dopasowanie.xlsx")
    if out_path.resolve() == path.resolve():
        raise IngestError(path, "the output workbook would overwrite the list: give another --out")
    items = split_items(path, read_text(path))
    cands = candidates(con, family="school")
    if not len(cands):
        raise IngestError(path, "the database has no schools to match the list to: import the RSPO register "
                                "first (`zpb ingest institutions EXPORT.csv`)")
    rows = _rows(items, cands, e.start_year + 1)
    result = MatchResult(path, out_path, edition_name, KINDS[kind_key], award_date, len(cands), rows)
    write_workbook(result)
    return result


# --------------------------------------------------------------------------- the workbook

def _cell_values(r: Row, result: MatchResult) -> list:
    best = r.best
    others = [m for m in (r.matches[1:3] if best is not None else r.matches[:2]) if m.score >= SUGGESTION_MIN]
    ident = None
    if best is not None:
        c = best.candidate
        ident = int(c.rspo) if c.rspo is not None else c.polon
    return [ident, best.candidate.name if best else None, result.edition, result.kind, result.date,
            round(r.matches[0].score) if r.matches else None, r.item.original,
            *(m.describe() for m in others), *([None] * (2 - len(others))), r.remark or None]


def write_workbook(result: MatchResult) -> Path:
    """Write the awards sheet and the instructions, atomically (a temporary file, then a rename)."""
    # openpyxl: loaded only when a workbook is written
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    ws.append(list(HEADERS))
    for c in ws[1]:
        c.font = Font(bold=True)
        c.alignment = Alignment(wrap_text=True, vertical="center")
    fills = {"review": PatternFill("solid", fgColor=REVIEW_FILL), "none": PatternFill("solid", fgColor=UNMATCHED_FILL)}
    for i, r in enumerate(result.rows, start=2):
        ws.append(_cell_values(r, result))
        ws.cell(i, 1).number_format = "0"
        ws.cell(i, 5).number_format = "DD.MM.YYYY"
        if r.status in fills:
            for col in range(1, len(HEADERS) + 1):
                ws.cell(i, col).fill = fills[r.status]
    for col, width in enumerate(WIDTHS, start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(HEADERS))}{max(1, len(result.rows) + 1)}"

    guide = wb.create_sheet("Instrukcja")
    guide.column_dimensions["A"].width = 120
    for i, line in enumerate(INSTRUCTIONS, start=1):
        c = guide.cell(i, 1, line)
        c.alignment = Alignment(wrap_text=True, vertical="top")
        c.font = Font(bold=True, size=12) if i == 1 else Font()
    guide.cell(len(INSTRUCTIONS) + 2, 1, f"Lista: {result.path.name}; edycja {result.edition}; "
                                         f"rodzaj nagrody: {result.kind}")

    out = result.out
    save(wb, out)  # a list's line stays text; a refusal (e.g. the workbook open in Excel): an OutputError, a message
    return out
