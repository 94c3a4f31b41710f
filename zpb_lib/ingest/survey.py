"""Survey exports in: Google Forms CSV, Microsoft Forms XLSX and CSV saved by Polish Excel.

The format is recognised from the bytes (a zip archive is a workbook; otherwise the encoding and the
delimiter of the header line decide), because schools rename and re-save files freely. Column
headers are matched to the questionnaire of the chosen group tolerantly (see :func:`norm`), answer
labels are mapped to scale values in Polish or English, and known form and personal columns
(timestamp, e-mail, name…) are recognised and never read further. A file that is no table at all
(a picture, a PDF, a web page, a zip archive that is not a workbook, binary data) is refused as what
it is before any column is matched.

Exports are taken as forms really make them:

- Every question of the questionnaire must have its column. A column that is not one is ignored and
  listed (teachers add „Klasa”, „Uwagi”, a consent; personal ones, such as „Imię i nazwisko
  ucznia”, are recognised by their words), unless its header looks like a question
  (:data:`LOOKS_LIKE`): a mistyped or edited question, or one of another group's questionnaire, is
  refused naming that question, since its answers would otherwise be lost.
- The dangerous-places question stores one 0/1 column per option: an empty cell is a skipped
  question (every column NULL); „Nigdzie — nie ma takich miejsc” alone is an answer naming no place
  (``place_nowhere`` 1, the places 0). No form can make that option exclusive, so a cell ticking it
  together with places is stored as the places (a respondent who names a place has seen one) and
  counted in the summary; the database still refuses both at once.
- A row that cannot be read (an answer not on its question's scale, a row cut short) refuses the
  file, naming each row and column, unless the user asks to skip such rows (``skip_bad_rows``).
"""
from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Sequence

from rapidfuzz import fuzz

from zpb_lib.reference import Item, Reference, Scale, group_of, reference, wave_of
from zpb_lib.store.write import delete_import, delete_rows, insert_rows
from zpb_lib.domain.institutions import Institution
from zpb_lib.ingest import (IngestError, Problem, Problems, check_edition, check_institution, check_may_replace,
                            check_participation, file_hash, limits_for, read_bytes, rights_problem)
from zpb_lib.ingest.envelope import ImportEnvelope
from zpb_lib.core.text import column_letter, header_keys, norm, text_keys
from zpb_lib.ingest.tables import Table, not_a_table, read_table  # noqa: F401  (Table stays importable from here)
from zpb_lib.store.backend import Connection
from zpb_lib.store.queries.surveys import responses_per_import

# Columns that forms add around the questions. Personal ones identify a respondent; metadata ones
# do not, but neither is stored. Keys are normalised with norm().
PERSONAL_COLUMNS = {norm(h) for h in (
    "Email", "E-mail", "Email address", "Adres e-mail", "Adres email", "Name", "Nazwa", "Imię", "Nazwisko",
    "Imię i nazwisko", "Nazwisko i imię", "First name", "Last name", "Full name", "Username", "Nazwa użytkownika",
    "Telefon", "Numer telefonu", "Phone", "Phone number", "IP address", "Adres IP", "Respondent", "Responder")}
METADATA_COLUMNS = {norm(h) for h in (
    "Sygnatura czasowa", "Timestamp", "Znacznik czasu", "Data i godzina", "ID", "Identyfikator",
    "Start time", "Completion time", "Last modified time", "Godzina rozpoczęcia", "Godzina ukończenia",
    "Godzina ostatniej modyfikacji", "Czas rozpoczęcia", "Czas ukończenia", "Czas ostatniej modyfikacji",
    "Data ostatniej modyfikacji", "Last modified", "Modification time", "Total points", "Łączna liczba punktów",
    "Punkty", "Points", "Score", "Wynik", "Quiz feedback", "Opinia dotycząca testu", "Language", "Język")}
GROUP_NAMES = {"students": "students'", "parents": "parents'", "teachers": "teachers'"}
EXPORT_HINT = ("import the answers as the form exports them — Google Forms: „Odpowiedzi” → „Pobierz odpowiedzi "
               "(.csv)”; Microsoft Forms: „Otwórz w programie Excel” (.xlsx) — or a sheet of them saved from Excel "
               "as .xlsx or „CSV UTF-8”")


# --------------------------------------------------------------------------- columns and answers

# A column that is not a question of the questionnaire "looks like one" when its header is at least
# this similar (rapidfuzz ``fuzz.ratio`` of the normalised texts, 0–100) to a question's text in
# Polish or English: mistyped and slightly edited questions score 88–99, columns teachers add
# („Klasa”, „Uwagi”, „Szkoła”, a consent or a question of their own) score below 70. Such a
# column is refused naming the question, since its answers would otherwise be lost; every other
# column is ignored and listed.
LOOKS_LIKE = 85

# Words that make a column personal data whatever else its header says („Imię i nazwisko ucznia”,
# „Numer w dzienniku”): a normalised header word starting with one of them.
PERSONAL_WORDS = ("imię", "imie", "imion", "nazwisk", "pesel", "mail", "email", "telefon", "phone", "surname",
                  "name", "adres", "address", "podpis", "signature", "dziennik")


@dataclass(frozen=True)
class Column:
    index: int
    header: str
    role: str  # item | personal | metadata | other (ignored: not a question) | blank | unknown (refused)
    item: Item | None = None

    @cached_property
    def letter(self) -> str:
        return column_letter(self.index)

    def named(self) -> str:
        return f"{self.letter} „{self.header}”"


@dataclass(frozen=True)
class QuestionText:
    key: str  # norm()ed
    group: str
    number: int  # 1-based, in its questionnaire
    item: Item


def _item_lookup(ref: Reference, group: str) -> tuple[dict[str, Item], dict[str, tuple[str, Item]]]:
    """Keys of the chosen group's questions, and of the other groups' (for a --group hint)."""
    own: dict[str, Item] = {}
    other: dict[str, tuple[str, Item]] = {}
    for g, q in ref.questionnaires.items():
        for item in q.items:
            for key in text_keys(item.text_pl) | text_keys(item.text_en):
                if g == group:
                    own[key] = item
                else:
                    other.setdefault(key, (g, item))
    return own, other


def _question_texts(ref: Reference, group: str) -> list[QuestionText]:
    """Every question text of every questionnaire, the chosen group's first (so that a text two
    questionnaires share is named as the chosen group's)."""
    groups = [group] + [g for g in ref.questionnaires if g != group]
    return [QuestionText(key, g, n, item) for g in groups
            for n, item in enumerate(ref.questionnaires[g].items, start=1)
            for key in sorted(text_keys(item.text_pl) | text_keys(item.text_en))]


def resembled_question(header: str, texts: list[QuestionText]) -> tuple[QuestionText, float] | None:
    """The question a header that is not one looks like (:data:`LOOKS_LIKE`), and how alike, if any."""
    best: tuple[QuestionText, float] | None = None
    for key in header_keys(header):
        for t in texts:
            score = fuzz.ratio(key, t.key, score_cutoff=LOOKS_LIKE)
            if score and (best is None or score > best[1]):
                best = (t, score)
    return best


def is_personal(header: str) -> bool:
    """A header that names personal data: a known form column or a word of :data:`PERSONAL_WORDS`."""
    keys = header_keys(header)
    return keys[0] in PERSONAL_COLUMNS or any(w.startswith(PERSONAL_WORDS) for w in keys[0].split())


def plan_columns(path: Path, header: list[str], ref: Reference, group: str, header_row: int = 1) -> list[Column]:
    """What each column is; refuses missing and duplicate question columns, and columns that look
    like a question but are not one, all at once. Other columns are ignored (role ``other``)."""
    own, other = _item_lookup(ref, group)
    texts = _question_texts(ref, group)
    problems = Problems(path)
    columns: list[Column] = []
    seen: dict[str, Column] = {}
    other_hits: Counter = Counter()
    alike: list[tuple[Column, QuestionText, float]] = []
    for i, h in enumerate(header):
        keys = header_keys(h)
        item = next((own[k] for k in keys if k in own), None)
        if item is not None:
            col = Column(i, h, "item", item)
            if item.id in seen:
                problems.add(Problem(f"this column and column {seen[item.id].named()} both hold question "
                                     f"„{item.text_pl}”; keep one", header_row, h, col.letter))
            seen[item.id] = col
        elif not keys[0]:
            col = Column(i, h, "blank")
        elif keys[0] in PERSONAL_COLUMNS:
            col = Column(i, h, "personal")
        elif keys[0] in METADATA_COLUMNS:
            col = Column(i, h, "metadata")
        elif (hit := next((other[k] for k in keys if k in other), None)) is not None:
            other_hits[hit[0]] += 1
            problems.add(Problem(f"this is a question of the {GROUP_NAMES[hit[0]]} questionnaire (item {hit[1].id}), "
                                 f"not of the {GROUP_NAMES[group]}; check --group (given: {group})",
                                 header_row, h, column_letter(i)))
            col = Column(i, h, "unknown")
        elif (like := resembled_question(h, texts)) is not None:
            col = Column(i, h, "unknown", like[0].item if like[0].group == group else None)
            alike.append((col, *like))
        elif is_personal(h):
            col = Column(i, h, "personal")
        else:
            col = Column(i, h, "other")
        columns.append(col)
    if other_hits:
        g, n = other_hits.most_common(1)[0]
        if n > len(seen):
            raise IngestError(path, Problem(
                f"the columns are the {GROUP_NAMES[g]} questionnaire ({n} of its questions), not the "
                f"{GROUP_NAMES[group]}: check --group (given: {group}; the file fits --group {g})", header_row))
    for col, t, score in alike:
        problems.add(Problem(_alike_message(t, score, group, seen), header_row, col.header, col.letter))
    named = {col.item.id for col, _, _ in alike if col.item is not None}
    missing = [(n, item) for n, item in enumerate(ref.questionnaires[group].items, start=1)
               if item.id not in seen and item.id not in named]
    for n, item in missing:
        problems.add(Problem(f"missing question column: no column is headed with question {n} "
                             f"„{item.text_pl}” (or its English text „{item.text_en}”)", header_row))
    set_aside = [c for c in columns if c.role == "other"]
    if missing and set_aside:
        problems.add(Problem("columns taken for no question (ignored): " + ", ".join(c.named() for c in set_aside)
                             + "; if one of them holds a missing question, head it with the question's text",
                             header_row))
    problems.raise_if_any()
    return columns


def _alike_message(t: QuestionText, score: float, group: str, seen: dict[str, Column]) -> str:
    """Why a column that resembles a question is refused, and what to do."""
    alike = f"{score:.0f}% alike"
    if t.group != group:
        return (f"this header resembles question {t.number} „{t.item.text_pl}” of the {GROUP_NAMES[t.group]} "
                f"questionnaire ({alike}), not a question of the {GROUP_NAMES[group]}; check --group (given: "
                f"{group}), or remove the column if it is a question of your own")
    if t.item.id in seen:
        return (f"this header resembles question {t.number} „{t.item.text_pl}” ({alike}), which column "
                f"{seen[t.item.id].named()} holds: if this is an earlier version of that question (edited in the "
                "form), move its answers into that column and remove this one; if it is a question of your own, "
                "remove it (zpb stores the questionnaire's questions only)")
    return (f"this header is not the text of a question but resembles question {t.number} „{t.item.text_pl}” "
            f"({alike}): if the column holds that question's answers, correct the header to the question's text; "
            "if it is another question, remove the column (zpb stores the questionnaire's questions only)")


class AnswerMap:
    """Maps a question's cells to database values; cells seen before are answered from a cache,
    which keeps 50,000-row files fast.

    A multiple-choice cell that ticks the exclusive option („Nigdzie — nie ma takich miejsc”)
    together with other options — which neither Google Forms nor Microsoft Forms can prevent — is
    stored as the other options: a respondent who names a place has seen one. :attr:`resolving`
    keeps such cells, for the import summary."""

    def __init__(self, scale: Scale, codes: tuple[str, ...]):
        self.scale, self.codes = scale, codes
        self.multiple = scale.kind == "multiple"
        self.labels: dict[str, object] = {}
        for o in scale.options:
            for label in (o.label_pl, o.label_en):
                self.labels[norm(label)] = o.code if self.multiple else o.value
        self.exclusive = {o.code: o for o in scale.options if o.exclusive}
        self.cache: dict[object, tuple | int | None] = {}
        self.resolving: set[object] = set()  # cells stored without their exclusive option
        self.unknown: dict[object, str] = {}  # cells holding a label not on the scale: the label
        self.width = len(codes) if self.multiple else 1

    @property
    def empty(self) -> tuple | None:
        return (None,) * self.width if self.multiple else None

    @cached_property
    def expected(self) -> str:
        labels = "; ".join(f"„{o.label_pl}”" for o in self.scale.options)
        how = "one or more of, joined with „, ” or „;”" if self.multiple else "one of"
        return f"expected {how}: {labels} (or the English labels), or an empty cell"

    def exclusive_label(self) -> str | None:
        return next((f"„{o.label_pl}”" for o in self.exclusive.values()), None)

    def convert(self, cell: object) -> tuple | int | None:
        """The value(s) of a cell (text, a number or None, as tables give them); raises
        KeyError(label) for a label not on the scale. A cell whose exclusive option was dropped is
        added to :attr:`resolving`."""
        try:
            return self.cache[cell]
        except KeyError:
            pass
        if cell in self.unknown:  # a file full of them is refused as fast as one
            raise KeyError(self.unknown[cell])
        try:
            value = self._value(cell)
        except KeyError as exc:
            self.unknown[cell] = exc.args[0]
            raise
        self.cache[cell] = value
        return value

    def _value(self, cell: object) -> tuple | int | None:
        text = "" if cell is None else str(cell).strip()
        if not text:
            value = self.empty
        elif self.multiple:
            chosen = set(self._split(text))
            alone = chosen & set(self.exclusive)
            if alone and len(chosen) > len(alone):
                chosen -= alone
                self.resolving.add(cell)
            value = tuple(1 if c in chosen else 0 for c in self.codes)
        else:
            key = norm(text)
            if key not in self.labels:
                raise KeyError(text)
            value = self.labels[key]
        return value

    def _split(self, text: str) -> list[str]:
        """Chosen options of a multiple-choice cell. Parts are joined back greedily so that a label
        containing a comma would still be found."""
        parts = [p for p in re.split(r"\s*[;,]\s*", text) if p.strip()]
        out, i = [], 0
        while i < len(parts):
            for j in range(len(parts), i, -1):
                key = norm(", ".join(parts[i:j]))
                if key in self.labels:
                    out.append(self.labels[key])
                    i = j
                    break
            else:
                raise KeyError(parts[i])
        return out


@dataclass(frozen=True)
class Resolved:
    """Answers that ticked an exclusive option together with others, stored as the others."""
    label: str  # the exclusive option, quoted („Nigdzie — nie ma takich miejsc”)
    letter: str  # the question's column
    rows: list[int]


@dataclass
class SurveyFile:
    """A parsed export, ready to store: one tuple of answer values per response."""
    path: Path
    format: str
    content_hash: str
    group: str
    columns: list[str]  # database answer columns, in the order of each answer tuple
    answers: list[tuple]
    matched: dict[str, str]  # item id -> header in the file
    personal: list[str]
    metadata: list[str]
    blank_rows: int
    other: list[str] = field(default_factory=list)  # headers of columns ignored as no question
    resolved: list[Resolved] = field(default_factory=list)
    skipped_rows: list[int] = field(default_factory=list)  # every row left out (--skip-bad-rows)
    skipped: list[Problem] = field(default_factory=list)  # their problems, the first MAX_PROBLEMS
    skipped_more: int = 0  # and how many more problems there were
    skipped_details: list[dict[str, object]] = field(default_factory=list)  # for the import's details

    @property
    def resolved_answers(self) -> int:
        return sum(len(r.rows) for r in self.resolved)


# What the import's details record of a skipped row's problem: where and what kind, never the cell's
# text (a free-text „Inne” answer may name a person; the file has it).
CUT_SHORT, NO_HEADER, NOT_ON_SCALE = "row cut short", "value in a column without a header", "answer not on the scale"


def _row_problems(cells: Sequence[object], row_no: int, table: Table, blank_cols: list[Column],
                  item_cols: list[Column], maps: list[AnswerMap],
                  describe: bool = True) -> tuple[list[tuple[str, Problem]], Sequence[object]]:
    """What makes a row unreadable, each with its kind (empty: it is fine), and its cells padded to
    the header's width. Without ``describe`` an answer's problem has no message: beyond the
    problems listed only their number and place count, and a file of 50,000 bad rows is refused in
    about the time a good one takes to read."""
    n_header = len(table.header)
    if len(cells) < n_header:
        if table.ragged:
            return [(CUT_SHORT, Problem(f"the row has {len(cells)} fields but the header has {n_header}: the file is "
                                        "truncated or a row was cut", row_no, table.header[len(cells)],
                                        column_letter(len(cells))))], cells
        cells = list(cells) + [None] * (n_header - len(cells))  # XLSX: trailing empty cells
    elif len(cells) > n_header:
        extra = next((i for i in range(n_header, len(cells)) if str(cells[i] or "").strip()), None)
        if extra is not None:
            return [(NO_HEADER, Problem(f"value {str(cells[extra])!r} stands in a column without a header (the row "
                                        f"has {len(cells)} fields, the header {n_header}; or a field holds an "
                                        "unquoted delimiter)", row_no, None, column_letter(extra)))], cells
    out: list[tuple[str, Problem]] = []
    for c in blank_cols:
        v = cells[c.index]
        if v is not None and str(v).strip():
            out.append((NO_HEADER, Problem(f"value {str(v)!r} in a column without a header; give the column its "
                                           "question text or remove it", row_no, None, c.letter)))
    for c, m in zip(item_cols, maps):
        try:
            m.convert(cells[c.index])
        except KeyError as exc:
            out.append((NOT_ON_SCALE, Problem(f"{exc.args[0]!r} is not an answer of this question's scale; "
                                              f"{m.expected}" if describe else "", row_no, c.header, c.letter)))
    return out, cells


def guess_group(path: str | Path, ref: Reference | None = None) -> str | None:
    """The group whose questionnaire an export's header holds most questions of (None: no question
    of any, a tie, or a file that is no table), for a form to pre-fill; the import checks the file
    against the group chosen, whatever was guessed."""
    ref = ref or reference()
    path = Path(path)
    try:
        limits = limits_for(path, "survey")
        data = read_bytes(path, limits)
        if not_a_table(data):
            return None
        header = read_table(path, data, limits=limits).header
    except IngestError:
        return None
    keys = {g: set().union(*(text_keys(i.text_pl) | text_keys(i.text_en) for i in q.items))
            for g, q in ref.questionnaires.items()}
    counts = Counter(g for h in header for g, known in keys.items() if any(k in known for k in header_keys(str(h or ""))))
    best = counts.most_common(2)
    if not best or (len(best) == 2 and best[0][1] == best[1][1]):
        return None
    return best[0][0]


def read_survey(path: str | Path, group: str, ref: Reference | None = None, *,
                skip_bad_rows: bool = False) -> SurveyFile:
    """Read and check an export for ``group``'s questionnaire; raises :class:`IngestError`.

    A row that cannot be read (an answer not on its question's scale, a row cut short) refuses the
    file, naming every such row and column; with ``skip_bad_rows`` those rows are left out and
    listed instead (:attr:`SurveyFile.skipped`), and the file is refused only if no row is left."""
    ref = ref or reference()
    path = Path(path)
    try:
        group = group_of(group)
    except ValueError as exc:
        raise IngestError(path, str(exc)) from None
    limits = limits_for(path, "survey")
    data = read_bytes(path, limits)
    kind = not_a_table(data)
    if kind:  # said as such, before any column is matched
        raise IngestError(path, f"the file is {kind}, not a survey export: {EXPORT_HINT}")
    table = read_table(path, data, limits=limits)
    columns = plan_columns(path, table.header, ref, group, table.header_row)
    codes = ref.place_codes()
    item_cols = [c for c in columns if c.role == "item"]
    maps = [AnswerMap(ref.scales[c.item.scale], codes) for c in item_cols]
    db_columns: list[str] = []
    for c, m in zip(item_cols, maps):
        if m.multiple:
            db_columns.extend(f"place_{code}" for code in codes)
        else:
            db_columns.append(c.item.id)
    blank_cols = [c for c in columns if c.role == "blank"]
    problems = Problems(path)
    bad_rows: list[int] = []
    details: list[dict[str, object]] = []
    resolved: list[list[int]] = [[] for _ in item_cols]
    answers: list[tuple] = []
    blank_rows = 0
    n_header = len(table.header)
    pairs = [(c.index, m) for c, m in zip(item_cols, maps)]
    exclusive = [(k, c.index, m) for k, (c, m) in enumerate(zip(item_cols, maps)) if m.exclusive]
    for row_no, cells in table.rows:
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in cells):
            blank_rows += 1
            continue
        found: list[tuple[str, Problem]] = []
        if len(cells) != n_header or blank_cols:
            found, cells = _row_problems(cells, row_no, table, blank_cols, item_cols, maps)
        values: list[object] = []
        if not found:
            try:
                for i, m in pairs:
                    if m.multiple:
                        values.extend(m.convert(cells[i]))  # type: ignore[arg-type]
                    else:
                        values.append(m.convert(cells[i]))
            except KeyError:  # every problem of the row, named
                found, cells = _row_problems(cells, row_no, table, blank_cols, item_cols, maps, not problems.full())
        if found:
            bad_rows.append(row_no)
            for what, p in found:
                problems.add(p)
                if len(details) < DETAIL_ROWS:
                    details.append({"row": row_no, "column": p.letter, "header": p.column, "problem": what})
            continue
        for k, i, m in exclusive:
            if cells[i] in m.resolving:
                resolved[k].append(row_no)
        answers.append(tuple(values))
    if bad_rows and not (skip_bad_rows and answers):
        if not answers:
            note = f"no row of the file can be read ({_n_rows(len(bad_rows))}: {_row_list(bad_rows)})"
        else:
            note = (f"{_n_rows(len(bad_rows))} cannot be read ({_row_list(bad_rows)}); to store the other "
                    f"{len(answers)} and leave these out, import the file again with --skip-bad-rows")
        raise IngestError(path, problems.items, problems.more, note=note)
    if not answers:
        raise IngestError(path, Problem("the file has a header row but no answers (no data rows)",
                                        table.header_row + 1))
    return SurveyFile(path, table.format, file_hash(data), group, db_columns, answers,
                      {c.item.id: c.header for c in item_cols},
                      [c.header for c in columns if c.role == "personal"],
                      [c.header for c in columns if c.role == "metadata"], blank_rows,
                      other=[c.header for c in columns if c.role == "other"],
                      resolved=[Resolved(m.exclusive_label() or "", c.letter, rows)
                                for c, m, rows in zip(item_cols, maps, resolved) if rows],
                      skipped_rows=bad_rows, skipped=problems.items, skipped_more=problems.more,
                      skipped_details=details)


DETAIL_ROWS = 1000  # entries an import's details keep per list of rows; the counts are always whole


def _n_rows(n: int) -> str:
    return f"{n} row{'s' if n != 1 else ''}"


def _row_list(rows: list[int], shown: int = 10) -> str:
    """„6, 19, 40”: the first ``shown`` row numbers."""
    return ", ".join(map(str, rows[:shown])) + (", …" if len(rows) > shown else "")


# --------------------------------------------------------------------------- storing

@dataclass
class SurveyImport:
    """What an import stored (or, in a dry run, would store)."""
    file: SurveyFile
    institution: Institution
    edition: str
    wave: str
    import_id: int | None
    dry_run: bool
    replaced: list[str] = field(default_factory=list)
    kept: int = 0  # responses already stored for the same target and kept (--append)
    complex: tuple[int, str] | None = None  # (RSPO, name) of the complex the school takes part with

    @property
    def rows(self) -> int:
        return len(self.file.answers)

    def distribution(self) -> dict[str, Counter]:
        """Counts of each stored value per database column (None: empty answer)."""
        out = {c: Counter() for c in self.file.columns}
        for i, col in enumerate(self.file.columns):
            out[col].update(a[i] for a in self.file.answers)
        return out

    def lines(self) -> list[str]:
        f, i = self.file, self.institution
        out = [f"{f.path.name}: {f.format}, {self.rows} responses",
               f"  target: {i.label} „{i.name}”, edition {self.edition}, {f.group}, {self.wave}",
               f"  question columns matched: {len(f.matched)}"]
        if self.complex:
            out.append(f"  the school takes part with its complex RSPO {self.complex[0]} „{self.complex[1]}”: its "
                       "answers count in the complex's survey figures")
        if f.personal:
            out.append("  ignored as personal data (never stored): " + ", ".join(f"„{h}”" for h in f.personal))
        if f.metadata:
            out.append("  ignored form columns (not stored): " + ", ".join(f"„{h}”" for h in f.metadata))
        if f.other:
            out.append("  ignored, not questions of the questionnaire (not stored): "
                       + ", ".join(f"„{h}”" for h in f.other))
        for r in f.resolved:
            out.append(f"  {len(r.rows)} answer{'s' if len(r.rows) != 1 else ''} ticked {r.label} together with "
                       f"a place: stored as the places (column {r.letter}, row{'s' if len(r.rows) != 1 else ''} "
                       f"{_row_list(r.rows)})")
        if f.blank_rows:
            out.append(f"  empty rows skipped: {f.blank_rows}")
        if f.skipped_rows:
            out.append(f"  {'would skip' if self.dry_run else 'skipped'} {_n_rows(len(f.skipped_rows))} that cannot "
                       f"be read (--skip-bad-rows): {_row_list(f.skipped_rows)}")
            out.extend(f"    {p}" for p in f.skipped)
            if f.skipped_more:
                out.append(f"    … and {f.skipped_more} more")
        out.extend(f"  {'would replace' if self.dry_run else 'replaced'} {r}" for r in self.replaced)
        if self.kept:
            out.append(f"  kept {self.kept} responses stored earlier for the same target (--append)")
        if self.dry_run:
            out.append("  answers that would be stored (value: count; – = empty):")
            for col, counts in self.distribution().items():
                shown = "  ".join(f"{'–' if k is None else k}: {n}"
                                  for k, n in sorted(counts.items(), key=lambda kv: (kv[0] is None, kv[0] or 0)))
                out.append(f"    {col:<20} {shown}")
            out.append("dry run: nothing was stored")
        else:
            out.append(f"stored {self.rows} responses as import #{self.import_id} (to take it back: "
                       f"`zpb imports undo {self.import_id}`)")
        return out


def ingest_survey(con: Connection, path: str | Path, *, institution: int | str, edition: str, group: str,
                  wave: str, replace: bool = False, append: bool = False, dry_run: bool = False,
                  skip_bad_rows: bool = False, ref: Reference | None = None) -> SurveyImport:
    """Check and store one survey export in one transaction; on any problem nothing is stored.

    The same file (same bytes) is refused unless ``replace``, which removes the earlier import. A
    target (institution, edition, group, wave) that already holds responses is refused too, since a
    new export of a form usually repeats every earlier answer: ``replace`` replaces them, ``append``
    adds to them (e.g. a second form for another class). ``skip_bad_rows`` stores the rows that can be
    read and leaves out the others, which the summary and the import's details name."""
    ref = ref or reference()
    path = Path(path)
    try:
        group, wave = group_of(group), wave_of(wave)
    except ValueError as exc:
        raise IngestError(path, str(exc)) from None
    if replace and append:
        raise IngestError(path, "--replace and --append exclude each other")
    e = check_edition(path, ref, edition)
    edition = e.edition
    inst = check_institution(path, con, ref, institution, e)
    denied = rights_problem(con, inst.county, f"{inst.label} („{inst.name}”, --institution)")
    if denied:
        raise IngestError(path, denied)
    through = check_participation(path, con, inst, e, through_complex=True)
    sf = read_survey(path, group, ref, skip_bad_rows=skip_bad_rows)
    result = SurveyImport(sf, inst, edition, wave, None, dry_run, complex=through)
    with ImportEnvelope(con, path, "survey", sf.content_hash, what="the responses",
                        again="use --replace to replace that import", replace=replace, dry_run=dry_run) as env:
        if env.replaced is not None:
            result.replaced.append(env.replaced.describe())
        existing = responses_per_import(con, inst.id, edition, group, wave)
        if existing:
            total = sum(n for _, n, _ in existing)
            sources = ", ".join(f"import #{iid} „{name}”" if iid is not None else "data not from an import"
                                for iid, _, name in existing)
            if replace:
                for iid, n, name in existing:
                    if iid is not None:
                        check_may_replace(path, con, iid)
                        delete_import(con, iid)
                    else:
                        delete_rows(con, "survey_responses", {"institution_id": inst.id, "edition": edition,
                                                              "grp": group, "wave": wave, "import_id": None})
                    source = f"import #{iid} „{name}”" if iid is not None else "not from an import"
                    result.replaced.append(f"{n} responses stored earlier for this target ({source})")
            elif append:
                result.kept = total
            else:
                raise IngestError(path, f"{inst.label} already has {total} {group} {wave} responses in "
                                        f"{edition} ({sources}); nothing was stored. A new export of the same form "
                                        "repeats them: use --replace to replace them, or --append to add these")
        details = json.dumps({
            "format": sf.format, "institution": inst.ident, "edition": edition, "group": group, "wave": wave,
            "columns": sf.matched, "ignored_personal": sf.personal, "ignored_metadata": sf.metadata,
            "ignored_other": sf.other, "empty_rows": sf.blank_rows,
            "nowhere_with_a_place": sf.resolved_answers,
            "nowhere_with_a_place_rows": [n for r in sf.resolved for n in r.rows][:DETAIL_ROWS],
            "rows_skipped": len(sf.skipped_rows), "skipped_rows": sf.skipped_rows[:DETAIL_ROWS],
            "skipped_problems": sf.skipped_details,
            "replaced": result.replaced, "appended_to": result.kept}, ensure_ascii=False)
        import_id = env.record(len(sf.answers), details)
        fixed = (inst.id, edition, wave, group, import_id)
        insert_rows(con, "survey_responses", ("institution_id", "edition", "wave", "grp", "import_id", *sf.columns),
                    (fixed + a for a in sf.answers))
    result.import_id = env.import_id
    return result
