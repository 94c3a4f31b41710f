"""The database schema. Constraints live in the database (foreign keys, CHECKs, triggers) so that no
writer, ours or anyone's, can store a row that breaks them.

The survey answer columns are generated from the standard questionnaires: one column per item, one
0/1 column per dangerous-place option, each CHECKed against its answer scale. An empty places answer
(every ``place_*`` NULL) is a skipped question; „Nowhere” (``place_nowhere`` = 1, since schema
version 3) is an answer that names no place and cannot stand together with a place.
"""
from __future__ import annotations

from ..reference import GROUPS, WAVES, Reference

SCHEMA_VERSION = 3
# What each schema version added, for `zpb db upgrade` and its messages.
SCHEMA_HISTORY = {
    1: "first release",
    2: "RSPO and POL-on identifiers, the register of schools, provenance of register rows, undoable imports",
    3: "the answer „Nowhere — there are no such places” to the dangerous-places question (survey_responses."
       "place_nowhere, excluding every other place); answers stored before keep it empty",
}

AUDIT_KINDS = ("certification", "reaudit", "control", "leader")
AWARD_KINDS = ("certificate", "extension", "leader", "university_certificate")
ACTION_AREAS = ("violence", "dangerous_places", "other")
ACTION_KINDS = ("infrastructure", "prevention")
ACTION_STATUSES = ("planned", "in_progress", "done", "dropped")
PARTNER_KINDS = ("police", "city_guard", "fire_brigade", "local_government", "ngo", "parents", "health", "other")
IMPORT_KINDS = ("survey", "audit", "demo", "institutions", "universities", "register", "awards")
# Tables whose rows carry the import that stored them (``import_id``), in the order an undo deletes
# them (audit_items go with their audit).
IMPORTED_TABLES = ("survey_responses", "action_items", "awards", "audits", "participation", "partners",
                   "institutions")


_UUID_GLOB = "-".join("[0-9a-f]" * n for n in (8, 4, 4, 4, 12))


def _in(col: str, values: tuple) -> str:
    return f"{col} IN ({', '.join(repr(v) for v in values)})"


def _date(col: str, nullable: bool = False) -> str:
    check = f"{col} GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]'"
    return f"({col} IS NULL OR {check})" if nullable else check


def ddl(ref: Reference) -> str:
    """The full schema for the reference data ``ref`` (its questionnaires give the answer columns)."""
    answer_cols = ",\n    ".join(
        f"{col} INTEGER CHECK ({col} IS NULL OR {_in(col, values)})"
        for col, values in ref.survey_columns().items())
    nowhere = ref.nowhere_code()
    if nowhere:
        # "Nowhere — there are no such places" names no place: never together with one.
        others = " AND ".join(f"place_{c} IS NOT 1" for c in ref.named_place_codes())
        answer_cols += f",\n    CHECK (place_{nowhere} IS NOT 1 OR ({others}))"
    return f"""
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE police_units (
    code TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK ({_in('kind', ('KPP', 'KMP'))}),
    name TEXT NOT NULL,
    seat TEXT NOT NULL
);

CREATE TABLE counties (
    teryt       TEXT PRIMARY KEY CHECK (teryt GLOB '12[0-9][0-9]'),
    name        TEXT NOT NULL,
    name_en     TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK ({_in('kind', ('land', 'city'))}),
    seat        TEXT NOT NULL,
    police_unit TEXT NOT NULL REFERENCES police_units(code)
);

CREATE TABLE institution_kinds (
    code        TEXT PRIMARY KEY,
    family      TEXT NOT NULL CHECK ({_in('family', ('school', 'university'))}),
    name_pl     TEXT NOT NULL,
    name_en     TEXT NOT NULL,
    exists_from INTEGER NOT NULL,
    exists_to   INTEGER CHECK (exists_to IS NULL OR exists_to >= exists_from)
);

CREATE TABLE editions (
    edition    TEXT PRIMARY KEY CHECK (edition GLOB '[0-9][0-9][0-9][0-9]/[0-9][0-9][0-9][0-9]'),
    start_year INTEGER NOT NULL UNIQUE,
    number     INTEGER UNIQUE,
    roman      TEXT,
    held       INTEGER NOT NULL CHECK (held IN (0, 1)),
    audit_from TEXT NOT NULL CHECK ({_date('audit_from')}),
    audit_to   TEXT NOT NULL CHECK ({_date('audit_to')}),
    ceremony   TEXT CHECK ({_date('ceremony', True)}),
    CHECK ((held = 1) = (number IS NOT NULL))
);

CREATE TABLE catalogues (
    key        TEXT PRIMARY KEY,
    id         TEXT NOT NULL,
    version    INTEGER NOT NULL,
    family     TEXT NOT NULL,
    valid_from TEXT NOT NULL REFERENCES editions(edition),
    max_total  INTEGER NOT NULL CHECK (max_total > 0),
    UNIQUE (id, version)
);

CREATE TABLE criteria (
    catalogue  TEXT NOT NULL REFERENCES catalogues(key),
    criterion  TEXT NOT NULL,
    area       TEXT NOT NULL,
    max_points INTEGER NOT NULL CHECK (max_points > 0),
    mandatory  INTEGER NOT NULL CHECK (mandatory IN (0, 1)),
    PRIMARY KEY (catalogue, criterion)
);

CREATE TABLE imports (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: reports and provenance name them
    kind         TEXT NOT NULL CHECK ({_in('kind', IMPORT_KINDS)}),
    file_name    TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    imported_at  TEXT NOT NULL,
    rows         INTEGER NOT NULL CHECK (rows >= 0),
    details      TEXT
);
CREATE INDEX imports_hash ON imports(content_hash);

-- Rows an import changed (rather than added), with the values they had before, so that
-- `zpb imports undo` can put them back.
CREATE TABLE import_changes (
    import_id INTEGER NOT NULL REFERENCES imports(id),
    tbl       TEXT NOT NULL,
    row_id    INTEGER NOT NULL,
    old       TEXT NOT NULL,
    PRIMARY KEY (import_id, tbl, row_id)
);
CREATE INDEX import_changes_row ON import_changes(tbl, row_id);

-- Schools are known by their RSPO number, universities by their POL-on id (a UUID); the
-- internal id only links rows. in_register = 0: not in the latest RSPO export read.
CREATE TABLE institutions (
    id           INTEGER PRIMARY KEY,
    rspo         INTEGER UNIQUE CHECK (rspo IS NULL OR rspo > 0),
    polon        TEXT UNIQUE CHECK (polon IS NULL OR (length(polon) = 36 AND polon GLOB '{_UUID_GLOB}')),
    name         TEXT NOT NULL CHECK (length(trim(name)) > 0),
    kind         TEXT NOT NULL REFERENCES institution_kinds(code),
    county       TEXT NOT NULL REFERENCES counties(teryt),
    municipality TEXT NOT NULL,
    locality     TEXT NOT NULL,
    district     TEXT,
    municipality_code TEXT CHECK (municipality_code IS NULL OR municipality_code GLOB '12[0-9][0-9][0-9][0-9][0-9]'),
    rspo_type    TEXT,
    parent_rspo  INTEGER CHECK (parent_rspo IS NULL OR parent_rspo > 0),
    pupils       INTEGER CHECK (pupils IS NULL OR pupils >= 0),
    opened_year  INTEGER,
    closed_year  INTEGER CHECK (closed_year IS NULL OR opened_year IS NULL OR closed_year >= opened_year),
    in_register  INTEGER NOT NULL DEFAULT 1 CHECK (in_register IN (0, 1)),
    import_id    INTEGER REFERENCES imports(id),
    CHECK ((rspo IS NULL) <> (polon IS NULL))
);
CREATE INDEX institutions_county ON institutions(county);

-- A university has a POL-on id, a school an RSPO number.
CREATE TRIGGER institutions_identifier BEFORE INSERT ON institutions
BEGIN
    SELECT RAISE(ABORT, 'institutions: a university is identified by its POL-on id, a school by its RSPO number')
    WHERE (SELECT family FROM institution_kinds WHERE code = NEW.kind) IS NOT (CASE WHEN NEW.polon IS NULL
           THEN 'school' ELSE 'university' END);
END;
CREATE TRIGGER institutions_identifier_update BEFORE UPDATE OF kind, rspo, polon ON institutions
BEGIN
    SELECT RAISE(ABORT, 'institutions: a university is identified by its POL-on id, a school by its RSPO number')
    WHERE (SELECT family FROM institution_kinds WHERE code = NEW.kind) IS NOT (CASE WHEN NEW.polon IS NULL
           THEN 'school' ELSE 'university' END);
END;

CREATE TABLE partners (
    id     INTEGER PRIMARY KEY,
    name   TEXT NOT NULL CHECK (length(trim(name)) > 0),
    kind   TEXT NOT NULL CHECK ({_in('kind', PARTNER_KINDS)}),
    county TEXT REFERENCES counties(teryt),
    import_id INTEGER REFERENCES imports(id)
);

CREATE TABLE participation (
    id             INTEGER PRIMARY KEY,
    institution_id INTEGER NOT NULL REFERENCES institutions(id),
    joined_edition TEXT NOT NULL REFERENCES editions(edition),
    left_edition   TEXT REFERENCES editions(edition),
    import_id      INTEGER REFERENCES imports(id),
    CHECK (left_edition IS NULL OR left_edition >= joined_edition)
);
CREATE INDEX participation_institution ON participation(institution_id);

CREATE TABLE audits (
    id             INTEGER PRIMARY KEY,
    institution_id INTEGER NOT NULL REFERENCES institutions(id),
    edition        TEXT NOT NULL REFERENCES editions(edition),
    kind           TEXT NOT NULL CHECK ({_in('kind', AUDIT_KINDS)}),
    audit_date     TEXT NOT NULL CHECK ({_date('audit_date')}),
    catalogue      TEXT NOT NULL REFERENCES catalogues(key),
    import_id      INTEGER REFERENCES imports(id),
    UNIQUE (institution_id, edition, kind)
);
CREATE INDEX audits_edition ON audits(edition);

CREATE TABLE audit_items (
    audit_id  INTEGER NOT NULL REFERENCES audits(id) ON DELETE CASCADE,
    criterion TEXT NOT NULL,
    points    INTEGER NOT NULL CHECK (points >= 0),
    PRIMARY KEY (audit_id, criterion)
) WITHOUT ROWID;

-- A criterion must belong to its audit's catalogue and score at most its maximum.
CREATE TRIGGER audit_items_check BEFORE INSERT ON audit_items
BEGIN
    SELECT RAISE(ABORT, 'audit_items: criterion is not in the audit''s catalogue')
    WHERE NOT EXISTS (SELECT 1 FROM audits a JOIN criteria c ON c.catalogue = a.catalogue
                      WHERE a.id = NEW.audit_id AND c.criterion = NEW.criterion);
    SELECT RAISE(ABORT, 'audit_items: points above the criterion''s maximum')
    WHERE NEW.points > (SELECT c.max_points FROM audits a JOIN criteria c ON c.catalogue = a.catalogue
                        WHERE a.id = NEW.audit_id AND c.criterion = NEW.criterion);
END;
CREATE TRIGGER audit_items_check_update BEFORE UPDATE ON audit_items
BEGIN
    SELECT RAISE(ABORT, 'audit_items: points above the criterion''s maximum')
    WHERE NEW.points > (SELECT c.max_points FROM audits a JOIN criteria c ON c.catalogue = a.catalogue
                        WHERE a.id = NEW.audit_id AND c.criterion = NEW.criterion);
END;

CREATE TABLE awards (
    id             INTEGER PRIMARY KEY,
    institution_id INTEGER NOT NULL REFERENCES institutions(id),
    kind           TEXT NOT NULL CHECK ({_in('kind', AWARD_KINDS)}),
    edition        TEXT NOT NULL REFERENCES editions(edition),
    audit_id       INTEGER REFERENCES audits(id),
    awarded_on     TEXT NOT NULL CHECK ({_date('awarded_on')}),
    valid_until    TEXT CHECK ({_date('valid_until', True)}),
    import_id      INTEGER REFERENCES imports(id),
    CHECK ((kind = 'leader') = (valid_until IS NULL)),
    CHECK (valid_until IS NULL OR valid_until > awarded_on)
);
CREATE INDEX awards_institution ON awards(institution_id);

CREATE TABLE survey_responses (
    id             INTEGER PRIMARY KEY,
    institution_id INTEGER NOT NULL REFERENCES institutions(id),
    edition        TEXT NOT NULL REFERENCES editions(edition),
    wave           TEXT NOT NULL CHECK ({_in('wave', WAVES)}),
    grp            TEXT NOT NULL CHECK ({_in('grp', GROUPS)}),
    import_id      INTEGER REFERENCES imports(id),
    {answer_cols}
);
CREATE INDEX survey_responses_key ON survey_responses(edition, institution_id, grp, wave);

CREATE TABLE action_items (
    id             INTEGER PRIMARY KEY,
    institution_id INTEGER NOT NULL REFERENCES institutions(id),
    edition        TEXT NOT NULL REFERENCES editions(edition),
    area           TEXT NOT NULL CHECK ({_in('area', ACTION_AREAS)}),
    kind           TEXT NOT NULL CHECK ({_in('kind', ACTION_KINDS)}),
    title          TEXT NOT NULL,
    partner_id     INTEGER REFERENCES partners(id),
    deadline       TEXT NOT NULL CHECK ({_date('deadline')}),
    status         TEXT NOT NULL CHECK ({_in('status', ACTION_STATUSES)}),
    import_id      INTEGER REFERENCES imports(id)
);
CREATE INDEX action_items_key ON action_items(edition, institution_id);
"""
