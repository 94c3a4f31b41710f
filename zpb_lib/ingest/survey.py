"""Survey exports in: Google Forms CSV, Microsoft Forms XLSX and CSV saved by Polish Excel.

The format is recognised from the bytes (a zip archive is a workbook; otherwise the encoding and the
delimiter of the header line decide), because schools rename and re-save files freely. Column
headers are matched to the questionnaire of the chosen group tolerantly (see :func:`norm`), answer
labels are mapped to scale values in Polish or English, and known form and personal columns
(timestamp, e-mail, name…) are recognised and never read further. Every other column must be a
question: anything unrecognised is refused rather than dropped. A file that is no table at all (a
picture, a PDF, a web page, a zip archive that is not a workbook, binary data) is refused as what it
is before any column is matched.

The dangerous-places question stores one 0/1 column per option: an empty cell is a skipped question
(every column NULL); „Nigdzie — nie ma takich miejsc” is an answer naming no place (``place_nowhere``
1, the places 0) and is refused together with a place.
"""
from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..reference import Item, Reference, Scale, group_of, reference, wave_of
from ..store.write import delete_import, delete_rows, import_transaction, insert_rows, record_import
from ..institutions import Institution
from . import (DryRun, IngestError, Problem, Problems, check_edition, check_institution, check_may_replace,
               check_participation, column_letter, file_hash, header_keys, limits_for, norm, previous_import,
               read_bytes, refused_by_database, rights_problem, text_keys)
from .tables import Table, not_a_table, read_table  # noqa: F401  (Table stays importable from here)
from ..store.backend import Busy, Connection, IntegrityError, PermissionDenied

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

@dataclass(frozen=True)
class Column:
    index: int
    header: str
    role: str  # item | personal | metadata | blank | unknown
    item: Item | None = None

    @property
    def letter(self) -> str:
        return column_letter(self.index)


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


def plan_columns(path: Path, header: list[str], ref: Reference, group: str, header_row: int = 1) -> list[Column]:
    """What each column is; refuses unknown, duplicate and missing question columns all at once."""
    own, other = _item_lookup(ref, group)
    problems = Problems(path)
    columns: list[Column] = []
    seen: dict[str, Column] = {}
    other_hits: Counter = Counter()
    for i, h in enumerate(header):
        keys = header_keys(h)
        item = next((own[k] for k in keys if k in own), None)
        if item is not None:
            col = Column(i, h, "item", item)
            if item.id in seen:
                problems.add(Problem(f"this column and column {seen[item.id].letter} „{seen[item.id].header}” "
                                     f"both hold question „{item.text_pl}”; keep one", header_row, h, col.letter))
            seen[item.id] = col
        elif not keys[0]:
            col = Column(i, h, "blank")
        elif keys[0] in PERSONAL_COLUMNS:
            col = Column(i, h, "personal")
        elif keys[0] in METADATA_COLUMNS:
            col = Column(i, h, "metadata")
        else:
            hit = next((other[k] for k in keys if k in other), None)
            if hit:
                other_hits[hit[0]] += 1
                msg = (f"this is a question of the {GROUP_NAMES[hit[0]]} questionnaire (item {hit[1].id}), "
                       f"not of the {GROUP_NAMES[group]}; check --group (given: {group})")
            else:
                msg = (f"unknown column: neither a question of the {GROUP_NAMES[group]} questionnaire nor a known "
                       "form column (timestamp, ID, start/completion time, e-mail, name); remove it from the file "
                       "or correct the question text (if Polish letters look wrong, the file's encoding is wrong)")
            problems.add(Problem(msg, header_row, h, column_letter(i)))
            col = Column(i, h, "unknown")
        columns.append(col)
    if other_hits:
        g, n = other_hits.most_common(1)[0]
        if n > len(seen):
            raise IngestError(path, Problem(
                f"the columns are the {GROUP_NAMES[g]} questionnaire ({n} of its questions), not the "
                f"{GROUP_NAMES[group]}: check --group (given: {group}; the file fits --group {g})", header_row))
    for n, item in enumerate(ref.questionnaires[group].items, start=1):
        if item.id not in seen:
            problems.add(Problem(f"missing question column: no column is headed with question {n} "
                                 f"„{item.text_pl}” (or its English text „{item.text_en}”)", header_row))
    problems.raise_if_any()
    return columns


class ExclusiveAnswer(ValueError):
    """A multiple-choice cell ticks an exclusive option ("Nowhere") together with another one."""


class AnswerMap:
    """Maps a question's cells to database values; cells seen before are answered from a cache,
    which keeps 50,000-row files fast."""

    def __init__(self, scale: Scale, codes: tuple[str, ...]):
        self.scale, self.codes = scale, codes
        self.multiple = scale.kind == "multiple"
        self.labels: dict[str, object] = {}
        for o in scale.options:
            for label in (o.label_pl, o.label_en):
                self.labels[norm(label)] = o.code if self.multiple else o.value
        self.exclusive = {o.code: o for o in scale.options if o.exclusive}
        self.cache: dict[object, tuple | int | None] = {}
        self.width = len(codes) if self.multiple else 1

    def expected(self) -> str:
        labels = "; ".join(f"„{o.label_pl}”" for o in self.scale.options)
        how = "one or more of, joined with „, ” or „;”" if self.multiple else "one of"
        return f"expected {how}: {labels} (or the English labels), or an empty cell"

    def convert(self, cell: object) -> tuple | int | None:
        """The value(s) of a cell; raises KeyError(label) for a label not on the scale."""
        try:
            return self.cache[cell]
        except (KeyError, TypeError):
            pass
        text = "" if cell is None else str(cell).strip()
        if not text:
            value = (None,) * self.width if self.multiple else None
        elif self.multiple:
            chosen = set(self._split(text))
            alone = chosen & set(self.exclusive)
            if alone and len(chosen) > 1:
                o = self.exclusive[next(iter(alone))]
                others = [f"„{x.label_pl}”" for x in self.scale.options if x.code in chosen - alone]
                raise ExclusiveAnswer(f"„{o.label_pl}” excludes every other answer, but the cell also names "
                                      f"{', '.join(others)}; keep either „{o.label_pl}” or the places")
            value = tuple(1 if c in chosen else 0 for c in self.codes)
        else:
            key = norm(text)
            if key not in self.labels:
                raise KeyError(text)
            value = self.labels[key]
        try:
            self.cache[cell] = value
        except TypeError:
            pass
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


def read_survey(path: str | Path, group: str, ref: Reference | None = None) -> SurveyFile:
    """Read and check an export for ``group``'s questionnaire; raises :class:`IngestError`."""
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
    n_header = len(table.header)
    blank_cols = [c for c in columns if c.role == "blank"]
    problems = Problems(path)
    answers: list[tuple] = []
    blank_rows = 0
    for row_no, cells in table.rows:
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in cells):
            blank_rows += 1
            continue
        if len(cells) < n_header:
            if table.ragged:
                problems.add(Problem(f"the row has {len(cells)} fields but the header has {n_header}: the file "
                                     "is truncated or a row was cut", row_no, table.header[len(cells)],
                                     column_letter(len(cells))))
                if problems.full():
                    break
                continue
            cells = list(cells) + [None] * (n_header - len(cells))  # XLSX: trailing empty cells
        elif len(cells) > n_header:
            extra = next((i for i in range(n_header, len(cells)) if str(cells[i] or "").strip()), None)
            if extra is not None:
                problems.add(Problem(f"value {str(cells[extra])!r} stands in a column without a header (the row has "
                                     f"{len(cells)} fields, the header {n_header}; or a field holds an unquoted "
                                     "delimiter)", row_no, None, column_letter(extra)))
                if problems.full():
                    break
                continue
            cells = cells[:n_header]
        for c in blank_cols:
            v = cells[c.index]
            if v is not None and str(v).strip():
                problems.add(Problem(f"value {str(v)!r} in a column without a header; give the column its question "
                                     "text or remove it", row_no, None, c.letter))
        values: list[object] = []
        for c, m in zip(item_cols, maps):
            try:
                v = m.convert(cells[c.index])
            except KeyError as exc:
                problems.add(Problem(f"{exc.args[0]!r} is not an answer of this question's scale; {m.expected()}",
                                     row_no, c.header, c.letter))
                v = (None,) * m.width if m.multiple else None
            except ExclusiveAnswer as exc:
                problems.add(Problem(str(exc), row_no, c.header, c.letter))
                v = (None,) * m.width
            if m.multiple:
                values.extend(v)  # type: ignore[arg-type]
            else:
                values.append(v)
        if problems.full():
            break
        answers.append(tuple(values))
    problems.raise_if_any()
    if not answers:
        raise IngestError(path, Problem("the file has a header row but no answers (no data rows)",
                                        table.header_row + 1))
    return SurveyFile(path, table.format, file_hash(data), group, db_columns, answers,
                      {c.item.id: c.header for c in item_cols},
                      [c.header for c in columns if c.role == "personal"],
                      [c.header for c in columns if c.role == "metadata"], blank_rows)


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
        if f.blank_rows:
            out.append(f"  empty rows skipped: {f.blank_rows}")
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


def _slot(con: Connection, inst: int, edition: str, group: str, wave: str) -> list[tuple[int | None, int, str | None]]:
    """Responses already stored for a target, per import: (import id, count, file name)."""
    return con.execute(
        "SELECT r.import_id, COUNT(*), i.file_name FROM survey_responses r LEFT JOIN imports i ON i.id = r.import_id "
        "WHERE r.institution_id = ? AND r.edition = ? AND r.grp = ? AND r.wave = ? GROUP BY r.import_id, i.file_name",
        (inst, edition, group, wave)).fetchall()


def ingest_survey(con: Connection, path: str | Path, *, institution: int | str, edition: str, group: str,
                  wave: str, replace: bool = False, append: bool = False, dry_run: bool = False,
                  ref: Reference | None = None) -> SurveyImport:
    """Check and store one survey export in one transaction; on any problem nothing is stored.

    The same file (same bytes) is refused unless ``replace``, which removes the earlier import. A
    target (institution, edition, group, wave) that already holds responses is refused too, since a
    new export of a form usually repeats every earlier answer: ``replace`` replaces them, ``append``
    adds to them (e.g. a second form for another class)."""
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
    sf = read_survey(path, group, ref)
    result = SurveyImport(sf, inst, edition, wave, None, dry_run, complex=through)
    try:
        with import_transaction(con):
            prev = previous_import(con, sf.content_hash)
            if prev is not None:
                if not replace:
                    raise IngestError(path, f"this file was already imported: {prev.describe()}; nothing was "
                                            "stored (use --replace to replace that import)")
                check_may_replace(path, con, prev.id)
                delete_import(con, prev.id)
                result.replaced.append(prev.describe())
            existing = _slot(con, inst.id, edition, group, wave)
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
                "replaced": result.replaced, "appended_to": result.kept}, ensure_ascii=False)
            import_id = record_import(con, "survey", path.name, sf.content_hash, len(sf.answers), details)
            fixed = (inst.id, edition, wave, group, import_id)
            insert_rows(con, "survey_responses", ("institution_id", "edition", "wave", "grp", "import_id", *sf.columns),
                        (fixed + a for a in sf.answers))
            result.import_id = import_id
            if dry_run:
                raise DryRun
    except DryRun:
        result.import_id = None
    except (IntegrityError, PermissionDenied, Busy) as exc:
        raise refused_by_database(path, "the responses", exc) from None
    return result
