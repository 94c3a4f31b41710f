"""``zpb db roles``: who may change what on a shared PostgreSQL database, enforced by the database.

Three kinds of role (group roles without login; people log in as their own users, made members):

- ``zpb_analyst`` — reads and changes everything, reference tables included;
- ``zpb_unit_<code>`` — one a police unit (``zpb_unit_kpp_bochnia``): reads everything, and imports,
  changes and deletes only the rows of institutions in the unit's counties (``counties.police_unit``
  in the reference data), whatever program writes them: row-level security refuses a new row of
  another unit's institution with an error, and hides another unit's rows from an UPDATE or DELETE
  (which then changes nothing);
- ``zpb_reader`` — reads everything: for building reports.

Provenance is the database's to keep: a unit records imports only for itself and as its own login
(``imports.unit``, ``imports.imported_by``), adds change records and rows only to an import of its
own made in the same transaction (the schema's triggers), never edits an import afterwards, and
deletes (undoes) only its own unit's. The analyst role is a member of every unit's role, so that
an analyst undoes a unit's import in that unit's role (see :mod:`.history`).

The web app (``zpb serve``) connects with a login of its own (``--web-login NAME``): a member of
``zpb_web`` and of every role above, without their rights (NOINHERIT), so that it reads and changes
only in the role of the person logged in (``SET ROLE``, see :mod:`.acting`). An import made through
it records that person (``imports.person``), and only such a session records one: a unit's own login
cannot forge a person, and the app cannot leave it out.

The web app's journal (table ``journal``) is append-only: every zpb role adds rows, each only as
itself (the row's role is the one it acts in, its login its own unless the web app writes for a
person) and never with its own ``id`` or time (the server's clock, column grants); nobody changes or
deletes one; only the analyst reads them.

The record of reports sent by e-mail (table ``deliveries``) is append-only in the same way: the
analyst and the police units add rows, each only as itself and a unit only for the institutions of
its own counties; the analyst and the reader read every row, a unit those of its counties; nobody
changes or deletes one.

Nobody but the analyst (and the database's owner) changes the reference tables, ``meta`` or the data
version; the data version advances through a trigger function that runs with its owner's rights and
a fixed search path, which nobody may call directly. Nobody may create objects in zpb's schema.
Running it again after new police units or tables appear brings the rights up to date.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from zpb_lib.reference import Reference, reference
from zpb_lib.store.backend import POSTGRESQL, Connection, StoreError
from zpb_lib.store.frames import tables as table_names
from zpb_lib.store.rights import ANALYST, READER, unit_role  # noqa: F401  (unit_role: the name of a unit's role)
from zpb_lib.store.role_names import UNIT_PREFIX, WEB
from zpb_lib.store.schema import DELIVERIES_TABLE, JOURNAL_TABLE, PG_FUNCTIONS, quote_ident
from zpb_lib.store.write import transaction

REFERENCE_TABLES = ("police_units", "counties", "institution_kinds", "editions", "catalogues", "criteria")
ADMIN_TABLES = ("meta", "data_version")
# Provenance: written by zpb's import path only (see the policies below and the schema's triggers).
PROVENANCE_TABLES = ("imports", "import_changes")
# What a zpb role may give in a journal row: the rest (id, at) is the database's.
JOURNAL_COLUMNS = ("login", "role", "action", "detail", "address")
# What the analyst or a unit gives in a delivery row: the rest (id, at) is the database's.
DELIVERY_COLUMNS = ("login", "role", "institution_id", "edition", "report_file", "data_version", "fingerprint",
                    "recipient", "subject", "outcome", "detail")
# Append-only tables: rows added by zpb roles as themselves, never changed (rights of their own below).
LOG_TABLES = (JOURNAL_TABLE, DELIVERIES_TABLE)


def _unit_rows(unit: str) -> dict[str, str]:
    """For each table with rows of institutions, the condition a unit's row meets (SQL)."""
    counties = f"(SELECT teryt FROM counties WHERE police_unit = '{unit}')"
    institutions = f"(SELECT id FROM institutions WHERE county IN {counties})"
    return {
        "institutions": f"county IN {counties}",
        "partners": f"county IN {counties}",
        "participation": f"institution_id IN {institutions}",
        "audits": f"institution_id IN {institutions}",
        "awards": f"institution_id IN {institutions}",
        "survey_responses": f"institution_id IN {institutions}",
        "action_items": f"institution_id IN {institutions}",
        "audit_items": f"audit_id IN (SELECT id FROM audits WHERE institution_id IN {institutions})",
    }


# An import names a person exactly when the session is the web app's (its login a member of zpb_web,
# which need not exist yet; a superuser or the owner is not held to row-level security at all).
WEB_SESSION = (f"EXISTS (SELECT 1 FROM pg_roles w WHERE w.rolname = '{WEB}' "
               "AND pg_has_role(session_user, w.oid, 'MEMBER'))")
PERSON_RULE = f"((person IS NOT NULL) = {WEB_SESSION})"
# A journal row is written as oneself: in the role acted in (the web app's SET ROLE: current_user),
# or by a person's own login in a zpb role granted to it directly (not one reached through another:
# the analyst's role is a member of every unit's); under one's own login unless the web app writes
# for the person it serves.
JOURNAL_RULE = ("(role = current_user OR (NOT starts_with(current_user, 'zpb_') AND EXISTS (SELECT 1 "
                "FROM pg_auth_members a JOIN pg_roles g ON g.oid = a.roleid JOIN pg_roles m ON m.oid = a.member "
                "WHERE m.rolname = current_user AND g.rolname = role))) "
                f"AND (login = session_user OR {WEB_SESSION})")


def _unit_provenance(unit: str) -> dict[str, tuple[str, str]]:
    """For the provenance tables, the conditions a unit's INSERT and DELETE meet (SQL): its own
    unit's imports, recorded as its own login, with a person exactly when made through the web app."""
    own = f"unit = '{unit}'"
    return {"imports": (f"{own} AND imported_by = session_user AND {PERSON_RULE}", own),
            "import_changes": (f"import_id IN (SELECT id FROM imports WHERE {own})",
                               f"import_id IN (SELECT id FROM imports WHERE {own})")}


@dataclass
class RolesResult:
    database: str
    created: list[str] = field(default_factory=list)
    units: int = 0
    policies: int = 0
    web_login: str | None = None  # the login made the web app's (--web-login)

    def lines(self) -> list[str]:
        out = [f"{self.database}: rights set for {ANALYST} (everything), {READER} (reading) and "
               f"{self.units} police units (zpb_unit_…: their counties' institutions), "
               f"{self.policies} row-level security policies"]
        if self.created:
            out.append("  new roles: " + ", ".join(self.created))
        if self.web_login:
            out.append(f"  web app login {self.web_login}: a member of {WEB} and of every role above without their "
                       "rights (NOINHERIT): it reads and changes only in the role of the person logged in")
        out.append("  give a person a role: CREATE ROLE name LOGIN PASSWORD '…' IN ROLE zpb_unit_kpp_bochnia;")
        return out


def _ensure_role(con: Connection, role: str, result: RolesResult) -> None:
    if con.execute("SELECT 1 FROM pg_roles WHERE rolname = ?", (role,)).fetchone() is None:
        con.script(f"CREATE ROLE {role} NOLOGIN")
        result.created.append(role)


def setup_roles(con: Connection, ref: Reference | None = None, *, web_login: str | None = None) -> RolesResult:
    """Create the roles and grant their rights, with row-level security, in one transaction
    (``web_login``: also make that existing login the web app's, see :func:`grant_web_login`)."""
    if con.backend != POSTGRESQL:
        raise StoreError("roles and rights are for a shared PostgreSQL database; a SQLite file is one person's "
                         "(its rights are the file's permissions)")
    result = RolesResult(con.name)

    with transaction(con):
        apply_roles(con, ref or reference(), result)
        if web_login is not None:
            grant_web_login(con, web_login, result)
    return result


def grant_web_login(con: Connection, login: str, result: RolesResult) -> None:
    """Make the existing login the web app's: NOINHERIT, a member of zpb_web, of the analyst's, the
    reader's and every unit's role, and no rights of its own on zpb's tables, so that it reads and
    changes nothing but in the role it takes for the person logged in (inside the caller's
    transaction, after :func:`apply_roles`)."""
    row = con.execute("SELECT rolcanlogin, rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = ?",
                      (login,)).fetchone()
    if row is None or not row[0]:
        raise StoreError(f"there is no login {login} on this server: the server's administrator creates it first "
                         f"(CREATE ROLE {login} LOGIN PASSWORD '…'), then `zpb db roles --web-login {login}`")
    if row[1]:
        raise StoreError(f"login {login} is a superuser or bypasses row-level security: every right would be the "
                         "web app's whatever role it takes; give the web app a login of its own")
    if login.startswith("zpb_") or con.execute(
            "SELECT 1 FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'institutions' "
            "AND pg_has_role(?, tableowner, 'MEMBER')", (login,)).fetchone():
        raise StoreError(f"login {login} is one of zpb's roles or owns zpb's tables: the web app needs a login of "
                         "its own, with no rights but the roles it takes")
    _ensure_role(con, WEB, result)
    _join_web(con, login)
    result.web_login = login


def _join_web(con: Connection, login: str) -> None:
    """The web app's login in zpb_web and every zpb role, without their rights (NOINHERIT), and
    without rights of its own on the schema's tables and sequences."""
    schema, name = quote_ident(_schema(con)), quote_ident(login)
    roles = [r for (r,) in con.execute(
        "SELECT rolname FROM pg_roles WHERE rolname IN (?, ?) OR rolname LIKE ? ORDER BY rolname",
        (ANALYST, READER, UNIT_PREFIX.replace("_", "\\_") + "%"))]
    con.script(f"ALTER ROLE {name} NOINHERIT")
    con.script(f"GRANT {', '.join([WEB, *roles])} TO {name}")
    con.script(f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {name}")
    con.script(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM {name}")


def apply_roles(con: Connection, ref: Reference, result: RolesResult) -> None:
    """The roles' grants and policies, inside the caller's transaction (also run by ``zpb db upgrade``)."""
    schema = quote_ident(_schema(con))
    all_tables = table_names(con)
    row_tables = _unit_rows("x")
    data_tables = [t for t in all_tables if t not in (*REFERENCE_TABLES, *ADMIN_TABLES, *LOG_TABLES)]
    units = {code: unit_role(code) for code in ref.police_units}
    for role in (ANALYST, READER, *units.values()):
        _ensure_role(con, role, result)
    everyone = ", ".join((ANALYST, READER, *units.values()))
    coordinators = ", ".join(units.values())
    # Only the schema's owner creates objects in it (a function or table of a user's there could
    # stand in for one of zpb's).
    con.script(f"REVOKE CREATE ON SCHEMA {schema} FROM PUBLIC")
    con.script(f"GRANT USAGE ON SCHEMA {schema} TO {everyone}")
    con.script(f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {everyone}")
    con.script(f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {everyone}")
    con.script(f"GRANT INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA {schema} TO {ANALYST}")
    con.script(f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {schema} TO {ANALYST}")
    con.script(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM {coordinators}")
    con.script(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {schema} TO {coordinators}")
    con.script(f"GRANT INSERT, UPDATE, DELETE ON {', '.join(t for t in data_tables if t not in PROVENANCE_TABLES)} "
               f"TO {coordinators}")
    # Provenance: a unit adds its imports and their change records and deletes them on undo; an
    # import, once recorded, is never edited (the change records of one import are, while it runs).
    con.script(f"GRANT INSERT, DELETE ON imports TO {coordinators}")
    con.script(f"GRANT INSERT, UPDATE, DELETE ON import_changes TO {coordinators}")
    for code, role in units.items():  # an analyst undoes a unit's import in the unit's role
        con.script(f"GRANT {role} TO {ANALYST}")
    for login in _web_logins(con):  # a new unit's role reaches the web app's logins too
        _join_web(con, login)
    harden_functions(con)
    for table in all_tables:
        for (name,) in con.execute("SELECT policyname FROM pg_policies WHERE schemaname = current_schema() "
                                   "AND tablename = ?", (table,)).fetchall():
            con.script(f'DROP POLICY "{name}" ON {table}')
    if JOURNAL_TABLE in all_tables:
        result.policies += _journal_rights(con, everyone)
    if DELIVERIES_TABLE in all_tables:
        result.policies += _deliveries_rights(con, units, everyone)
    for table in (*row_tables, *PROVENANCE_TABLES):
        con.script(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        con.script(f"CREATE POLICY read_all ON {table} FOR SELECT USING (true)")
        # The analyst writes any row, but records a person as the units do: exactly through the web app.
        check = PERSON_RULE if table == "imports" else "true"
        con.script(f"CREATE POLICY analyst_all ON {table} TO {ANALYST} USING (true) WITH CHECK ({check})")
        result.policies += 2
        for code, role in units.items():
            if table in PROVENANCE_TABLES:
                insert, delete = _unit_provenance(code)[table]
                con.script(f"CREATE POLICY {role}_insert ON {table} FOR INSERT TO {role} WITH CHECK ({insert})")
                con.script(f"CREATE POLICY {role}_delete ON {table} FOR DELETE TO {role} USING ({delete})")
                result.policies += 2
                if table == "import_changes":
                    con.script(f"CREATE POLICY {role}_update ON {table} FOR UPDATE TO {role} USING ({insert}) "
                               f"WITH CHECK ({insert})")
                    result.policies += 1
                continue
            # A new row of another unit's institution is refused with an error; another unit's
            # rows are out of reach of an UPDATE or DELETE (they change no row), and no row can
            # be moved to another unit.
            cond = _unit_rows(code)[table]
            con.script(f"CREATE POLICY {role}_insert ON {table} FOR INSERT TO {role} WITH CHECK ({cond})")
            con.script(f"CREATE POLICY {role}_update ON {table} FOR UPDATE TO {role} USING ({cond}) "
                       f"WITH CHECK ({cond})")
            con.script(f"CREATE POLICY {role}_delete ON {table} FOR DELETE TO {role} USING ({cond})")
            result.policies += 3
    result.units = len(units)


def _journal_rights(con: Connection, everyone: str) -> int:
    """Append-only for every role, readable by the analyst alone (after the grants on all tables,
    which it takes back; the old policies are dropped by then); returns the policies made."""
    con.script(f"REVOKE ALL ON {JOURNAL_TABLE} FROM {everyone}")
    con.script(f"GRANT INSERT ({', '.join(JOURNAL_COLUMNS)}) ON {JOURNAL_TABLE} TO {everyone}")
    con.script(f"GRANT SELECT ON {JOURNAL_TABLE} TO {ANALYST}")
    con.script(f"ALTER TABLE {JOURNAL_TABLE} ENABLE ROW LEVEL SECURITY")
    con.script(f"CREATE POLICY own_rows ON {JOURNAL_TABLE} FOR INSERT TO {everyone} WITH CHECK ({JOURNAL_RULE})")
    con.script(f"CREATE POLICY analyst_reads ON {JOURNAL_TABLE} FOR SELECT TO {ANALYST} USING (true)")
    return 2


def _deliveries_rights(con: Connection, units: dict[str, str], everyone: str) -> int:
    """Append-only: the analyst adds any institution's rows, a unit only its own counties' (each
    as itself, as in the journal); the analyst and the reader read every row, a unit its counties'.
    After the grants on all tables, which it takes back; returns the policies made."""
    writers = ", ".join((ANALYST, *units.values()))
    con.script(f"REVOKE ALL ON {DELIVERIES_TABLE} FROM {everyone}")
    con.script(f"GRANT INSERT ({', '.join(DELIVERY_COLUMNS)}) ON {DELIVERIES_TABLE} TO {writers}")
    con.script(f"GRANT SELECT ON {DELIVERIES_TABLE} TO {everyone}")
    con.script(f"ALTER TABLE {DELIVERIES_TABLE} ENABLE ROW LEVEL SECURITY")
    con.script(f"CREATE POLICY analyst_adds ON {DELIVERIES_TABLE} FOR INSERT TO {ANALYST} WITH CHECK ({JOURNAL_RULE})")
    con.script(f"CREATE POLICY read_all ON {DELIVERIES_TABLE} FOR SELECT TO {ANALYST}, {READER} USING (true)")
    made = 2
    for code, role in units.items():
        cond = _unit_rows(code)["participation"]  # institution_id of the unit's counties
        con.script(f"CREATE POLICY {role}_insert ON {DELIVERIES_TABLE} FOR INSERT TO {role} "
                   f"WITH CHECK ({JOURNAL_RULE} AND {cond})")
        con.script(f"CREATE POLICY {role}_read ON {DELIVERIES_TABLE} FOR SELECT TO {role} USING ({cond})")
        made += 2
    return made


def harden_functions(con: Connection) -> None:
    """Every zpb function: a search path fixed to the schema with the session's temporary schema
    last, the data version's with its owner's rights, and no EXECUTE for anyone (triggers call them)."""
    schema = quote_ident(_schema(con))
    for fn in PG_FUNCTIONS:
        con.script(f"ALTER FUNCTION {fn}() SET search_path = {schema}, pg_temp")
        con.script(f"REVOKE ALL ON FUNCTION {fn}() FROM PUBLIC")
    con.script("ALTER FUNCTION zpb_data_changed() SECURITY DEFINER")


def _web_logins(con: Connection) -> list[str]:
    """The logins made the web app's (direct members of zpb_web), if it exists."""
    return [r for (r,) in con.execute(
        "SELECT m.rolname FROM pg_auth_members a JOIN pg_roles g ON g.oid = a.roleid "
        "JOIN pg_roles m ON m.oid = a.member WHERE g.rolname = ? AND m.rolcanlogin ORDER BY m.rolname", (WEB,))]


def _schema(con: Connection) -> str:
    return con.execute("SELECT current_schema()").fetchone()[0]
