"""The database schema. Constraints live in the database (foreign keys, CHECKs, triggers) so that no
writer, ours or anyone's, can store a row that breaks them.

The survey answer columns are generated from the standard questionnaires: one column per item, one
0/1 column per dangerous-place option, each CHECKed against its answer scale. An empty places answer
(every ``place_*`` NULL) is a skipped question; „Nowhere” (``place_nowhere`` = 1, since schema
version 3) is an answer that names no place and cannot stand together with a place.
"""
from __future__ import annotations

import re
import sqlite3

from zpb_lib.core.addresses import EMAIL_MAX
from zpb_lib.reference import GROUPS, WAVES, Reference

SCHEMA_VERSION = 9
# What each schema version added, for `zpb db upgrade` and its messages.
SCHEMA_HISTORY = {
    1: "first release",
    2: "RSPO and POL-on identifiers, the register of schools, provenance of register rows, undoable imports",
    3: "the answer „Nowhere — there are no such places” to the dangerous-places question (survey_responses."
       "place_nowhere, excluding every other place); answers stored before keep it empty",
    4: "the data version: a counter every change advances in its own transaction (table data_version), "
       "which builds, exports and the explorer name instead of a hash of the database file",
    5: "provenance the database protects: who made each import (imports.imported_by) and for which police unit "
       "(imports.unit); change records only of the schema's own tables; on PostgreSQL, rows and change records "
       "attach only to an import made in the same transaction, and the trigger functions run with a fixed "
       "search path",
    6: "removals an import records (a register row marked „Usuń”), which `zpb imports undo` puts back: on "
       "PostgreSQL a removal is recorded only with the row exactly as it is before it goes, and only such a "
       "record lets a row come back with the import that first stored it",
    7: "the person an import was made for through the web app (imports.person; empty for imports made "
       "otherwise): on PostgreSQL only the web app's login records one, and always does",
    8: "the web app's journal (table journal): logins, failed logins, logouts, imports, dry runs, undos and "
       "downloads — who, in which role, what, when (the server's clock) and from which address; on PostgreSQL "
       "every zpb role adds rows only as itself, nobody changes or deletes one, and only analysts read them",
    9: "each school's e-mail address from the RSPO export (institutions.email), and the record of reports sent "
       "to schools by e-mail (table deliveries): who sent which report of which data version to which address, "
       "when, and whether the server took it; on PostgreSQL a police unit records and reads only its own "
       "counties' sendings, nobody changes or deletes one",
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
# The web app's audit log (schema 8): what people did, not report data — its rows advance no data
# version — and append-only (see store.roles).
JOURNAL_TABLE = "journal"
JOURNAL_ACTIONS = ("login", "login_failed", "logout", "import", "dry_run", "undo", "download")
JOURNAL_LOGIN_MAX = 200
JOURNAL_DETAIL_MAX = 1000
JOURNAL_ADDRESS_MAX = 100
# Reports sent by e-mail (schema 9): a record of what went to whom, not report data — its rows advance
# no data version — and append-only, like the journal (see store.roles).
DELIVERIES_TABLE = "deliveries"
DELIVERY_OUTCOMES = ("sent", "failed")
DELIVERY_FILE_MAX = 255
DELIVERY_SUBJECT_MAX = 300
DELIVERY_DETAIL_MAX = 1000
DELIVERY_VERSION_MAX = 100
# Tables whose ``id`` the database assigns (SQLite's rowid; an identity column on PostgreSQL).
ID_TABLES = (*IMPORTED_TABLES, "imports", JOURNAL_TABLE, DELIVERIES_TABLE)
# The tables whose rows an import may change (rather than add) and ``zpb imports undo`` may put
# back: ``import_changes.tbl`` is CHECKed against them, and an undo names no other table.
CHANGED_TABLES = IMPORTED_TABLES
# The tables whose rows an import may remove (the register's sheets), in the order an undo puts
# removed rows back (what others point at first).
REMOVABLE_TABLES = ("partners", "participation", "awards", "action_items")
# A change record whose ``old`` begins so records a removed row: ``{"*removed": {column: value, …}}``
# holds every column of the row as it was (``*`` is in no column's name, so no change record of
# changed columns can be read as one).
REMOVED_KEY = "*removed"
REMOVED_PREFIX = '{"' + REMOVED_KEY + '":'


_UUID_GLOB = "-".join("[0-9a-f]" * n for n in (8, 4, 4, 4, 12))


def _in(col: str, values: tuple) -> str:
    return f"{col} IN ({', '.join(repr(v) for v in values)})"


class _Dialect:
    """What the two engines spell differently in the schema; everything else is the same SQL."""

    def __init__(self, backend: str):
        self.backend = backend
        self.pg = backend == "postgresql"
        # A row id the database assigns when none is given (SQLite: the rowid).
        self.pk = "INTEGER GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY" if self.pg else "INTEGER PRIMARY KEY"
        self.serial = self.pk if self.pg else "INTEGER PRIMARY KEY AUTOINCREMENT"
        self.without_rowid = "" if self.pg else " WITHOUT ROWID"

    def match(self, col: str, pattern: str) -> str:
        """``col`` matches a pattern of literal characters and [classes] (GLOB; a regular expression
        anchored at both ends on PostgreSQL, which has no GLOB)."""
        return f"{col} ~ '^{pattern}$'" if self.pg else f"{col} GLOB '{pattern}'"

    def date(self, col: str, nullable: bool = False) -> str:
        check = self.match(col, "[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]")
        return f"({col} IS NULL OR {check})" if nullable else check

    def not_one(self, col: str) -> str:
        return f"{col} IS DISTINCT FROM 1" if self.pg else f"{col} IS NOT 1"

    def email(self, col: str, nullable: bool = False) -> str:
        """``col`` is an e-mail address, loosely (as :func:`zpb_lib.core.addresses.email_address`
        reads one): one „@” between some text and some text, no space, at most EMAIL_MAX characters."""
        # No „%” (LIKE): the PostgreSQL driver would read it as a parameter's placeholder.
        shape = (f"{col} ~ '^[^@ ]+@[^@ ]+$'" if self.pg
                 else f"{col} GLOB '?*@?*' AND {col} NOT GLOB '*@*@*' AND {col} NOT GLOB '* *'")
        check = f"(length({col}) <= {EMAIL_MAX} AND {shape})"
        return f"({col} IS NULL OR {check})" if nullable else check

    def now(self) -> str:
        """The database server's clock, UTC, as ``imports.imported_at`` is written."""
        return ("to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"+00:00\"')" if self.pg
                else "strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')")


def ddl(ref: Reference, backend: str = "sqlite", schema: str = "public") -> str:
    """The full schema for the reference data ``ref`` (its questionnaires give the answer columns),
    for ``backend`` ("sqlite" or "postgresql"; ``schema``: the PostgreSQL schema it is made in, which
    the functions' fixed search path names)."""
    d = _Dialect(backend)
    answer_cols = ",\n    ".join(
        f"{col} INTEGER CHECK ({col} IS NULL OR {_in(col, values)})"
        for col, values in ref.survey_columns().items())
    nowhere = ref.nowhere_code()
    if nowhere:
        # "Nowhere — there are no such places" names no place: never together with one.
        others = " AND ".join(d.not_one(f"place_{c}") for c in ref.named_place_codes())
        answer_cols += f",\n    CHECK ({d.not_one(f'place_{nowhere}')} OR ({others}))"
    tables = _tables(ref, d, answer_cols).replace("{DATA_VERSION_TABLE}", DATA_VERSION_TABLE)
    names = [n for n in re.findall(r"^CREATE TABLE (\w+)", tables, re.M)
             if n not in ("data_version", JOURNAL_TABLE, DELIVERIES_TABLE)]
    if not d.pg:
        return tables + _sqlite_triggers() + _version_triggers(names, d)
    return tables + pg_functions(schema) + pg_triggers(names) + _version_triggers(names, d)


def _tables(ref: Reference, d: _Dialect, answer_cols: str) -> str:
    return f"""
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

{DATA_VERSION_TABLE}

CREATE TABLE police_units (
    code TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK ({_in('kind', ('KPP', 'KMP'))}),
    name TEXT NOT NULL,
    seat TEXT NOT NULL
);

CREATE TABLE counties (
    teryt       TEXT PRIMARY KEY CHECK ({d.match('teryt', '12[0-9][0-9]')}),
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
    edition    TEXT PRIMARY KEY CHECK ({d.match('edition', '[0-9][0-9][0-9][0-9]/[0-9][0-9][0-9][0-9]')}),
    start_year INTEGER NOT NULL UNIQUE,
    number     INTEGER UNIQUE,
    roman      TEXT,
    held       INTEGER NOT NULL CHECK (held IN (0, 1)),
    audit_from TEXT NOT NULL CHECK ({d.date('audit_from')}),
    audit_to   TEXT NOT NULL CHECK ({d.date('audit_to')}),
    ceremony   TEXT CHECK ({d.date('ceremony', True)}),
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
    id           {d.serial},  -- never reused: reports and provenance name them
    kind         TEXT NOT NULL CHECK ({_in('kind', IMPORT_KINDS)}),
    file_name    TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    imported_at  TEXT NOT NULL,
    rows         INTEGER NOT NULL CHECK (rows >= 0),
    details      TEXT,
    imported_by  TEXT,  -- the login that made it (PostgreSQL: the session's user; SQLite: the system user)
    unit         TEXT REFERENCES police_units(code),  -- the police unit whose role made it; NULL: an analyst
    person       TEXT  -- the person the web app made it for (imported_by: the app's login); NULL: not through it
);
CREATE INDEX imports_hash ON imports(content_hash);

-- Rows an import changed (rather than added), with the values they had before, so that
-- `zpb imports undo` can put them back.
CREATE TABLE import_changes (
    import_id INTEGER NOT NULL REFERENCES imports(id),
    tbl       TEXT NOT NULL CHECK ({_in('tbl', CHANGED_TABLES)}),
    row_id    INTEGER NOT NULL,
    old       TEXT NOT NULL,
    PRIMARY KEY (import_id, tbl, row_id)
);
CREATE INDEX import_changes_row ON import_changes(tbl, row_id);

-- Schools are known by their RSPO number, universities by their POL-on id (a UUID); the
-- internal id only links rows. in_register = 0: not in the latest RSPO export read.
CREATE TABLE institutions (
    id           {d.pk},
    rspo         INTEGER UNIQUE CHECK (rspo IS NULL OR rspo > 0),
    polon        TEXT UNIQUE CHECK (polon IS NULL OR (length(polon) = 36 AND {d.match('polon', _UUID_GLOB)})),
    name         TEXT NOT NULL CHECK (length(trim(name)) > 0),
    kind         TEXT NOT NULL REFERENCES institution_kinds(code),
    county       TEXT NOT NULL REFERENCES counties(teryt),
    municipality TEXT NOT NULL,
    locality     TEXT NOT NULL,
    district     TEXT,
    municipality_code TEXT CHECK (municipality_code IS NULL OR {d.match('municipality_code', '12[0-9][0-9][0-9][0-9][0-9]')}),
    rspo_type    TEXT,
    parent_rspo  INTEGER CHECK (parent_rspo IS NULL OR parent_rspo > 0),
    pupils       INTEGER CHECK (pupils IS NULL OR pupils >= 0),
    opened_year  INTEGER,
    closed_year  INTEGER CHECK (closed_year IS NULL OR opened_year IS NULL OR closed_year >= opened_year),
    in_register  INTEGER NOT NULL DEFAULT 1 CHECK (in_register IN (0, 1)),
    import_id    INTEGER REFERENCES imports(id),
    -- the school's address as the RSPO export gives it (schema 9: last, where PostgreSQL adds it in place)
    {email_column(d.backend)},
    CHECK ((rspo IS NULL) <> (polon IS NULL))
);
CREATE INDEX institutions_county ON institutions(county);

CREATE TABLE partners (
    id     {d.pk},
    name   TEXT NOT NULL CHECK (length(trim(name)) > 0),
    kind   TEXT NOT NULL CHECK ({_in('kind', PARTNER_KINDS)}),
    county TEXT REFERENCES counties(teryt),
    import_id INTEGER REFERENCES imports(id)
);

CREATE TABLE participation (
    id             {d.pk},
    institution_id INTEGER NOT NULL REFERENCES institutions(id),
    joined_edition TEXT NOT NULL REFERENCES editions(edition),
    left_edition   TEXT REFERENCES editions(edition),
    import_id      INTEGER REFERENCES imports(id),
    CHECK (left_edition IS NULL OR left_edition >= joined_edition)
);
CREATE INDEX participation_institution ON participation(institution_id);

CREATE TABLE audits (
    id             {d.pk},
    institution_id INTEGER NOT NULL REFERENCES institutions(id),
    edition        TEXT NOT NULL REFERENCES editions(edition),
    kind           TEXT NOT NULL CHECK ({_in('kind', AUDIT_KINDS)}),
    audit_date     TEXT NOT NULL CHECK ({d.date('audit_date')}),
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
){d.without_rowid};

CREATE TABLE awards (
    id             {d.pk},
    institution_id INTEGER NOT NULL REFERENCES institutions(id),
    kind           TEXT NOT NULL CHECK ({_in('kind', AWARD_KINDS)}),
    edition        TEXT NOT NULL REFERENCES editions(edition),
    audit_id       INTEGER REFERENCES audits(id),
    awarded_on     TEXT NOT NULL CHECK ({d.date('awarded_on')}),
    valid_until    TEXT CHECK ({d.date('valid_until', True)}),
    import_id      INTEGER REFERENCES imports(id),
    CHECK ((kind = 'leader') = (valid_until IS NULL)),
    CHECK (valid_until IS NULL OR valid_until > awarded_on)
);
CREATE INDEX awards_institution ON awards(institution_id);

CREATE TABLE survey_responses (
    id             {d.pk},
    institution_id INTEGER NOT NULL REFERENCES institutions(id),
    edition        TEXT NOT NULL REFERENCES editions(edition),
    wave           TEXT NOT NULL CHECK ({_in('wave', WAVES)}),
    grp            TEXT NOT NULL CHECK ({_in('grp', GROUPS)}),
    import_id      INTEGER REFERENCES imports(id),
    {answer_cols}
);
CREATE INDEX survey_responses_key ON survey_responses(edition, institution_id, grp, wave);

CREATE TABLE action_items (
    id             {d.pk},
    institution_id INTEGER NOT NULL REFERENCES institutions(id),
    edition        TEXT NOT NULL REFERENCES editions(edition),
    area           TEXT NOT NULL CHECK ({_in('area', ACTION_AREAS)}),
    kind           TEXT NOT NULL CHECK ({_in('kind', ACTION_KINDS)}),
    title          TEXT NOT NULL,
    partner_id     INTEGER REFERENCES partners(id),
    deadline       TEXT NOT NULL CHECK ({d.date('deadline')}),
    status         TEXT NOT NULL CHECK ({_in('status', ACTION_STATUSES)}),
    import_id      INTEGER REFERENCES imports(id)
);
CREATE INDEX action_items_key ON action_items(edition, institution_id);

{journal_table(d.backend)}
{deliveries_table(d.backend)}"""


def email_column(backend: str = "sqlite") -> str:
    """The definition of ``institutions.email`` (schema 9), for the table and for adding it in place."""
    return f"email        TEXT CHECK {_Dialect(backend).email('email', True)}"


def journal_table(backend: str = "sqlite") -> str:
    """The journal (schema 8). ``at`` is the database server's clock (UTC, as ``imports.imported_at``
    is written), never the writer's: on PostgreSQL no zpb role may give ``id`` or ``at`` (column
    grants, see store.roles). ``role``: the zpb role acted in; NULL for the database's owner or a SQLite
    file's user outside the web app."""
    d = _Dialect(backend)
    return f"""CREATE TABLE {JOURNAL_TABLE} (
    id      {d.serial},
    at      TEXT NOT NULL DEFAULT ({d.now()}),
    login   TEXT NOT NULL CHECK (length(login) BETWEEN 1 AND {JOURNAL_LOGIN_MAX}),
    role    TEXT,
    action  TEXT NOT NULL CHECK ({_in('action', JOURNAL_ACTIONS)}),
    detail  TEXT CHECK (detail IS NULL OR length(detail) <= {JOURNAL_DETAIL_MAX}),
    address TEXT CHECK (address IS NULL OR length(address) <= {JOURNAL_ADDRESS_MAX})
);
CREATE INDEX {JOURNAL_TABLE}_at ON {JOURNAL_TABLE}(at);
"""


def deliveries_table(backend: str = "sqlite") -> str:
    """Reports sent to schools by e-mail (schema 9), one row a message, sent or failed. ``at``, ``id``,
    ``login`` and ``role`` as in the journal (the server's clock; on PostgreSQL each row written as
    oneself, see store.roles). ``report_file``: the PDF's name in the build's folder; ``data_version``
    and ``fingerprint``: the data version the build named and the report's fingerprint in its manifest
    (which inputs made it), so that the version a school got can be told from a later one."""
    d = _Dialect(backend)
    return f"""CREATE TABLE {DELIVERIES_TABLE} (
    id             {d.serial},
    at             TEXT NOT NULL DEFAULT ({d.now()}),
    login          TEXT NOT NULL CHECK (length(login) BETWEEN 1 AND {JOURNAL_LOGIN_MAX}),
    role           TEXT,
    institution_id INTEGER NOT NULL REFERENCES institutions(id),
    edition        TEXT NOT NULL REFERENCES editions(edition),
    report_file    TEXT NOT NULL CHECK (length(report_file) BETWEEN 1 AND {DELIVERY_FILE_MAX}),
    data_version   TEXT CHECK (data_version IS NULL OR length(data_version) <= {DELIVERY_VERSION_MAX}),
    fingerprint    TEXT CHECK (fingerprint IS NULL OR length(fingerprint) <= {DELIVERY_VERSION_MAX}),
    recipient      TEXT NOT NULL CHECK {d.email('recipient')},
    subject        TEXT NOT NULL CHECK (length(subject) <= {DELIVERY_SUBJECT_MAX}),
    outcome        TEXT NOT NULL CHECK ({_in('outcome', DELIVERY_OUTCOMES)}),
    detail         TEXT CHECK (detail IS NULL OR length(detail) <= {DELIVERY_DETAIL_MAX})
);
CREATE INDEX {DELIVERIES_TABLE}_institution ON {DELIVERIES_TABLE}(institution_id, edition);
"""


# The data version (schema 4): one row, advanced by every change to any other table (triggers, so
# that a change made with any tool counts, in the change's own transaction); db_id tells databases
# apart, so that two of them never name the same version.
DATA_VERSION_TABLE = """CREATE TABLE data_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    db_id   TEXT NOT NULL CHECK (length(db_id) = 32),
    version INTEGER NOT NULL CHECK (version >= 0)
);"""


def _version_triggers(tables: list[str], d: _Dialect) -> str:
    """Every change advances the data version. SQLite has only row triggers (each inserted row adds
    one); PostgreSQL's statement triggers add one a statement (COPY included). Either way the
    version changes exactly when the data does, and only when the change commits."""
    if d.pg:
        out = [f"CREATE TRIGGER {t}_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {t}\n"
               f"    FOR EACH STATEMENT EXECUTE FUNCTION zpb_data_changed();" for t in tables]
    else:
        out = [f"CREATE TRIGGER {t}_version_{op.lower()} AFTER {op} ON {t}\n"
               f"BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;"
               for t in tables for op in ("INSERT", "UPDATE", "DELETE")]
    return "\n" + "\n".join(out) + "\n"


def _sqlite_triggers() -> str:
    return """
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
"""


# The same rules as the SQLite triggers, as PL/pgSQL. ERRCODE check_violation: a broken rule is an
# integrity error on both engines, with the same message.
_PG_INSTITUTIONS = "institutions: a university is identified by its POL-on id, a school by its RSPO number"
# The functions zpb's triggers call, in the order they are made.
PG_FUNCTIONS = ("zpb_data_changed", "zpb_institutions_identifier", "zpb_audit_items_check", "zpb_import_rows",
                "zpb_import_changes_check")


def quote_ident(name: str) -> str:
    """A PostgreSQL identifier in double quotes (for the schema's name, which the user chose)."""
    return '"' + name.replace('"', '""') + '"'


def pg_functions(schema: str) -> str:
    """The trigger functions, each with a fixed search path: the schema first and the session's
    temporary schema last, so that a table a session creates in it (a temporary ``data_version``,
    ``criteria`` or ``imports``) is never the one a function reads or writes. The data version's
    function runs with its owner's rights (no other role may write the counter); nobody may call
    any of them but through their triggers (EXECUTE is revoked; a trigger's function is checked
    when the trigger is made, not when it fires)."""
    path = f"SET search_path = {quote_ident(schema)}, pg_temp"
    return f"""
CREATE FUNCTION zpb_data_changed() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER {path} AS $$
BEGIN
    UPDATE data_version SET version = version + 1 WHERE id = 1;
    RETURN NULL;
END;
$$;

CREATE FUNCTION zpb_institutions_identifier() RETURNS trigger LANGUAGE plpgsql {path} AS $$
BEGIN
    IF (SELECT family FROM institution_kinds WHERE code = NEW.kind) IS DISTINCT FROM
       (CASE WHEN NEW.polon IS NULL THEN 'school' ELSE 'university' END) THEN
        RAISE EXCEPTION '{_PG_INSTITUTIONS}' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$;

CREATE FUNCTION zpb_audit_items_check() RETURNS trigger LANGUAGE plpgsql {path} AS $$
DECLARE
    maximum integer;
BEGIN
    SELECT c.max_points INTO maximum FROM audits a JOIN criteria c ON c.catalogue = a.catalogue
     WHERE a.id = NEW.audit_id AND c.criterion = NEW.criterion;
    IF NOT FOUND THEN
        IF TG_OP = 'INSERT' THEN
            RAISE EXCEPTION 'audit_items: criterion is not in the audit''s catalogue' USING ERRCODE = 'check_violation';
        END IF;
    ELSIF NEW.points > maximum THEN
        RAISE EXCEPTION 'audit_items: points above the criterion''s maximum' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$;

-- Provenance nobody can forge: a row names the import that stored it, and a change record the
-- import that made the change, only when that import was recorded in the same transaction (its
-- imports row is this transaction's: xmin), and a row's import never changes afterwards. The one
-- exception puts a removed row back (the undo of the import that removed it): exactly the row its
-- removal record holds, which the database itself compared with the row before it went.
CREATE FUNCTION zpb_import_rows() RETURNS trigger LANGUAGE plpgsql {path} AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.import_id IS DISTINCT FROM OLD.import_id THEN
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege', MESSAGE = TG_TABLE_NAME
            || ': the import that stored a row cannot be changed (row ' || OLD.id || ', import #'
            || coalesce(OLD.import_id::text, 'none') || ' → #' || coalesce(NEW.import_id::text, 'none') || ')';
    END IF;
    IF TG_OP = 'INSERT' AND NEW.import_id IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM imports WHERE id = NEW.import_id AND xmin = pg_current_xact_id()::xid)
       AND NOT EXISTS (
            SELECT 1 FROM import_changes c WHERE c.tbl = TG_TABLE_NAME AND c.row_id = NEW.id
               AND CASE WHEN starts_with(c.old, '{REMOVED_PREFIX}')
                        THEN (c.old::jsonb -> '{REMOVED_KEY}') = to_jsonb(NEW) ELSE false END) THEN
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege', MESSAGE = TG_TABLE_NAME
            || ': rows can be added only to an import recorded in the same transaction, not to import #'
            || NEW.import_id;
    END IF;
    RETURN NEW;
END;
$$;

-- A removal record holds the row exactly as it is when recorded (before the row goes), and is
-- never changed afterwards; the database's owner alone may write one without the row (`zpb db
-- copy` carries records of rows removed long ago).
CREATE FUNCTION zpb_import_changes_check() RETURNS trigger LANGUAGE plpgsql {path} AS $$
DECLARE
    live jsonb;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM imports WHERE id = NEW.import_id AND xmin = pg_current_xact_id()::xid) THEN
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege', MESSAGE = 'import_changes: a change is recorded '
            || 'only by the import that makes it, in the same transaction, not for import #' || NEW.import_id;
    END IF;
    IF TG_OP = 'UPDATE' AND (starts_with(OLD.old, '{REMOVED_PREFIX}') OR starts_with(NEW.old, '{REMOVED_PREFIX}')) THEN
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege', MESSAGE = 'import_changes: the record of a '
            || 'removed row is never changed (' || OLD.tbl || ' row ' || OLD.row_id || ')';
    END IF;
    IF TG_OP = 'INSERT' AND starts_with(NEW.old, '{REMOVED_PREFIX}') AND NOT pg_has_role(current_user,
            (SELECT relowner FROM pg_class WHERE oid = 'import_changes'::regclass), 'MEMBER') THEN
        live := CASE NEW.tbl
{_live_rows()}
        END;
        IF live IS NULL OR live IS DISTINCT FROM (NEW.old::jsonb -> '{REMOVED_KEY}') THEN
            RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege', MESSAGE = 'import_changes: a removal is '
                || 'recorded only with the row exactly as it is, before it is deleted (' || NEW.tbl || ' row '
                || NEW.row_id || ')';
        END IF;
    END IF;
    RETURN NEW;
END;
$$;
""" + "".join(f"REVOKE ALL ON FUNCTION {f}() FROM PUBLIC;\n" for f in PG_FUNCTIONS)


def _live_rows() -> str:
    """The CASE branches that read the row a change record names, one per table (static SQL: the
    table names are the schema's own, never the record's text)."""
    return "\n".join(f"            WHEN '{t}' THEN (SELECT to_jsonb(r) FROM {t} r WHERE r.id = NEW.row_id)"
                     for t in CHANGED_TABLES)


def pg_triggers(tables: list[str]) -> str:
    out = ["""
CREATE TRIGGER institutions_identifier BEFORE INSERT OR UPDATE OF kind, rspo, polon ON institutions
    FOR EACH ROW EXECUTE FUNCTION zpb_institutions_identifier();
CREATE TRIGGER audit_items_check BEFORE INSERT OR UPDATE ON audit_items
    FOR EACH ROW EXECUTE FUNCTION zpb_audit_items_check();
CREATE TRIGGER import_changes_check BEFORE INSERT OR UPDATE ON import_changes
    FOR EACH ROW EXECUTE FUNCTION zpb_import_changes_check();"""]
    # WHEN: the function runs only for a row that names an import or changes it (not for each of
    # the demo data's half a million survey responses).
    for t in (t for t in IMPORTED_TABLES if t in tables):
        out.append(f"CREATE TRIGGER {t}_import BEFORE INSERT ON {t} FOR EACH ROW\n"
                   f"    WHEN (NEW.import_id IS NOT NULL) EXECUTE FUNCTION zpb_import_rows();")
        out.append(f"CREATE TRIGGER {t}_import_kept BEFORE UPDATE OF import_id ON {t} FOR EACH ROW\n"
                   f"    WHEN (NEW.import_id IS DISTINCT FROM OLD.import_id) EXECUTE FUNCTION zpb_import_rows();")
    return "\n".join(out) + "\n"


def statements(script: str, backend: str = "sqlite") -> list[str]:
    """A DDL script as single statements (``executescript`` would commit mid-transaction): SQLite's
    own test for a complete statement (trigger bodies hold semicolons); on PostgreSQL a line's
    closing semicolon outside a PL/pgSQL body between ``$$``."""
    out: list[str] = []
    buf: list[str] = []
    in_body = False
    for line in script.splitlines():
        if not buf and (line.strip().startswith("--") or not line.strip()):
            continue
        buf.append(line)
        in_body ^= line.count("$$") % 2 == 1
        text = "\n".join(buf)
        if not in_body and line.rstrip().endswith(";") and (backend == "postgresql" or sqlite3.complete_statement(text)):
            out.append(text)
            buf = []
    if buf and "\n".join(buf).strip():
        raise ValueError("incomplete statement in schema: " + "\n".join(buf))
    return out
