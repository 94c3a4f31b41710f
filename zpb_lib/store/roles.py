"""``zpb db roles``: who may change what on a shared PostgreSQL database, enforced by the database.

Three kinds of role (group roles without login; people log in as their own users, made members):

- ``zpb_analyst`` — reads and changes everything, reference tables included;
- ``zpb_unit_<code>`` — one a police unit (``zpb_unit_kpp_bochnia``): reads everything, and imports,
  changes and deletes only the rows of institutions in the unit's counties (``counties.police_unit``
  in the reference data), whatever program writes them: row-level security refuses a new row of
  another unit's institution with an error, and hides another unit's rows from an UPDATE or DELETE
  (which then changes nothing);
- ``zpb_reader`` — reads everything: for building reports.

Nobody but the analyst (and the database's owner) changes the reference tables, ``meta`` or the data
version by hand; the data version advances through a trigger function that runs with its owner's
rights. Running it again after new police units or tables appear brings the rights up to date.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..reference import Reference, reference
from .backend import POSTGRESQL, Connection, StoreError
from .frames import tables as table_names

ANALYST = "zpb_analyst"
READER = "zpb_reader"
REFERENCE_TABLES = ("police_units", "counties", "institution_kinds", "editions", "catalogues", "criteria")
ADMIN_TABLES = ("meta", "data_version")
# Provenance: every coordinator records their imports (and an undo deletes its record).
PROVENANCE_TABLES = ("imports", "import_changes")


def unit_role(code: str) -> str:
    """The role of a police unit: ``KPP-NOWY-TARG`` → ``zpb_unit_kpp_nowy_targ``."""
    return "zpb_unit_" + code.lower().replace("-", "_")


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


@dataclass
class RolesResult:
    database: str
    created: list[str] = field(default_factory=list)
    units: int = 0
    policies: int = 0

    def lines(self) -> list[str]:
        out = [f"{self.database}: rights set for {ANALYST} (everything), {READER} (reading) and "
               f"{self.units} police units (zpb_unit_…: their counties' institutions), "
               f"{self.policies} row-level security policies"]
        if self.created:
            out.append("  new roles: " + ", ".join(self.created))
        out.append("  give a person a role: CREATE ROLE name LOGIN PASSWORD '…' IN ROLE zpb_unit_kpp_bochnia;")
        return out


def _ensure_role(con: Connection, role: str, result: RolesResult) -> None:
    if con.execute("SELECT 1 FROM pg_roles WHERE rolname = ?", (role,)).fetchone() is None:
        con.script(f"CREATE ROLE {role} NOLOGIN")
        result.created.append(role)


def setup_roles(con: Connection, ref: Reference | None = None) -> RolesResult:
    """Create the roles and grant their rights, with row-level security, in one transaction."""
    if con.backend != POSTGRESQL:
        raise StoreError("roles and rights are for a shared PostgreSQL database; a SQLite file is one person's "
                         "(its rights are the file's permissions)")
    ref = ref or reference()
    result = RolesResult(con.name)
    from .write import transaction

    with transaction(con):
        all_tables = table_names(con)
        row_tables = _unit_rows("x")
        data_tables = [t for t in all_tables if t not in REFERENCE_TABLES + ADMIN_TABLES]
        units = {code: unit_role(code) for code in ref.police_units}
        for role in (ANALYST, READER, *units.values()):
            _ensure_role(con, role, result)
        everyone = ", ".join((ANALYST, READER, *units.values()))
        coordinators = ", ".join(units.values())
        con.script(f"GRANT USAGE ON SCHEMA {_schema(con)} TO {everyone}")
        con.script(f"REVOKE ALL ON ALL TABLES IN SCHEMA {_schema(con)} FROM {everyone}")
        con.script(f"GRANT SELECT ON ALL TABLES IN SCHEMA {_schema(con)} TO {everyone}")
        con.script(f"GRANT INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA {_schema(con)} TO {ANALYST}")
        con.script(f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {_schema(con)} TO {ANALYST}")
        con.script(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {_schema(con)} TO {coordinators}")
        con.script(f"GRANT INSERT, UPDATE, DELETE ON {', '.join(data_tables)} TO {coordinators}")
        # The triggers that advance the data version write a table nobody else may: they run with
        # the rights of their owner.
        con.script("ALTER FUNCTION zpb_data_changed() SECURITY DEFINER SET search_path FROM CURRENT")
        for table in all_tables:
            for (name,) in con.execute("SELECT policyname FROM pg_policies WHERE schemaname = current_schema() "
                                       "AND tablename = ?", (table,)).fetchall():
                con.script(f'DROP POLICY "{name}" ON {table}')
        for table in row_tables:
            con.script(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            con.script(f"CREATE POLICY read_all ON {table} FOR SELECT USING (true)")
            con.script(f"CREATE POLICY analyst_all ON {table} TO {ANALYST} USING (true) WITH CHECK (true)")
            result.policies += 2
            for code, role in units.items():
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
    return result


def _schema(con: Connection) -> str:
    return con.execute("SELECT current_schema()").fetchone()[0]
