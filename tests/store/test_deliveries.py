"""Schema 9: each school's e-mail address (institutions.email) and the record of reports sent by
e-mail (table deliveries), whose rows advance no data version; kept through an upgrade from schema 8.
On PostgreSQL (`zpb db roles`) the record is append-only: a police unit adds rows only as itself and
only for its own counties' institutions, and reads only those; the analyst adds any as itself; the
analyst and the reader read every row; nobody changes or deletes one.

PostgreSQL: the `rights` logins of the suite (ala of KPP Bochnia, tom of KMP Tarnów, olek an analyst,
rita a reader; admin the owner)."""
from __future__ import annotations

import gzip
import hashlib
import sqlite3
from pathlib import Path

import psycopg
import pytest

from conftest import pg_database
from zpb_lib import store
from zpb_lib.cli import main
from zpb_lib.store.queries import deliveries
from zpb_lib.store.write import transaction

FIXTURES = Path(__file__).parents[1] / "fixtures"
BOCHNIA, TARNOW, ANALYST, READER = "zpb_unit_kpp_bochnia", "zpb_unit_kmp_tarnow", "zpb_analyst", "zpb_reader"
EDITION = "2025/2026"

pg_only = pytest.mark.postgresql_only


def version_of(db) -> tuple[str, int]:
    if store.is_url(db):
        with psycopg.connect(str(db)) as con:
            return con.execute("SELECT db_id, version FROM data_version").fetchone()
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT db_id, version FROM data_version").fetchone()
    finally:
        con.close()


def school_of(db, unit: str) -> int:
    """The id of the first institution of a police unit's counties (plain SQL, as the owner)."""
    sql = ("SELECT i.id FROM institutions i JOIN counties c ON c.teryt = i.county WHERE c.police_unit = {} "
           "ORDER BY i.id LIMIT 1")
    if store.is_url(db):
        with psycopg.connect(str(db)) as con:
            return con.execute(sql.format("%s"), (unit,)).fetchone()[0]
    con = sqlite3.connect(db)
    try:
        return con.execute(sql.format("?"), (unit,)).fetchone()[0]
    finally:
        con.close()


def row(login: str, role: str | None, institution_id: int, **more) -> dict:
    return {"login": login, "role": role, "institution_id": institution_id, "edition": EDITION,
            "report_file": "placowka-1-szkola.pdf", "data_version": "abcd1234-7", "fingerprint": "f" * 20,
            "recipient": "sekretariat@szkola.edu.pl", "subject": "Raport", "outcome": "sent", **more}


# --------------------------------------------------------------------------- SQLite

def test_rows_take_the_databases_time_and_leave_the_data_version(small_copy):
    iid = school_of(small_copy, "KPP-BOCHNIA")
    before = version_of(small_copy)
    con = store.connect(small_copy)
    try:
        with transaction(con):
            deliveries.record(con, **row("anna", None, iid))
            deliveries.record(con, **row("anna", None, iid, outcome="failed", detail="550 mailbox unavailable"))
        got = deliveries.deliveries(con, institution_id=iid, edition=EDITION)
    finally:
        con.close()
    assert version_of(small_copy) == before
    assert [(r[2], r[4], r[11], r[12]) for r in got] == [("anna", iid, "failed", "550 mailbox unavailable"),
                                                         ("anna", iid, "sent", None)]
    with pytest.raises(ValueError, match="unknown outcome 'bounced'"):
        con = store.connect(small_copy)
        try:
            with transaction(con):
                deliveries.record(con, **row("anna", None, iid, outcome="bounced"))
        finally:
            con.close()


@pytest.mark.parametrize("address", ["brak", "dwa@adresy@szkola.pl", "@szkola.pl", "sekretariat@", "a b@szkola.pl",
                                     "x" * 250 + "@a.pl"])
def test_the_database_refuses_what_is_no_address(small_copy, address):
    iid = school_of(small_copy, "KPP-BOCHNIA")
    raw = sqlite3.connect(small_copy)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
            raw.execute("UPDATE institutions SET email = ? WHERE id = ?", (address, iid))
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
            raw.execute("INSERT INTO deliveries (login, institution_id, edition, report_file, recipient, subject, "
                        "outcome) VALUES ('anna', ?, ?, 'r.pdf', ?, 's', 'sent')", (iid, EDITION, address))
        raw.execute("UPDATE institutions SET email = 'sekretariat@sp1.bochnia.pl' WHERE id = ?", (iid,))
    finally:
        raw.close()


def _sqlite_tables(path: Path) -> dict[str, tuple[int, str]]:
    """Row count and SHA-256 of each table's rows in the columns it has now, by name."""
    con = sqlite3.connect(path)
    out = {}
    for (t,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"):
        cols = [r[1] for r in con.execute(f"PRAGMA table_info({t})") if (t, r[1]) != ("institutions", "email")]
        rows = con.execute(f"SELECT {', '.join(cols)} FROM {t} ORDER BY {', '.join(cols)}").fetchall()
        out[t] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
    con.close()
    return out


def test_upgrade_8_to_9_keeps_every_row(tmp_path, capsys):
    """A version-8 file (fixture schema-v8.sql.gz: the demo data and two imports) keeps every row
    and its database identity; the addresses are empty, the record of sendings new and empty, and
    its rows advance no version."""
    path = tmp_path / "zpb.sqlite"
    con = sqlite3.connect(path)
    con.executescript(gzip.open(FIXTURES / "schema-v8.sql.gz", "rt", encoding="utf-8").read())
    assert con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == ("8",)
    con.close()
    before, version = _sqlite_tables(path), version_of(path)
    assert "deliveries" not in before and before["imports"][0] == 2
    assert main(["db", "upgrade", "--db", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"upgraded from schema version 8 to {store.SCHEMA_VERSION}" in out and "institutions.email" in out
    after = _sqlite_tables(path)
    assert {t: v for t, v in after.items() if t not in ("meta", "data_version", "deliveries")} == \
        {t: v for t, v in before.items() if t not in ("meta", "data_version")}
    assert after["deliveries"][0] == 0
    con = sqlite3.connect(path)
    assert con.execute("SELECT COUNT(*), COUNT(email) FROM institutions").fetchone() == (before["institutions"][0], 0)
    con.close()
    upgraded = version_of(path)
    assert upgraded[0] == version[0]
    c = store.connect(path)
    try:
        with transaction(c):
            deliveries.record(c, **row("anna", None, school_of(path, "KMP-TARNOW")))
    finally:
        c.close()
    assert version_of(path) == upgraded
    assert main(["db", "check", "--db", str(path)]) == 0


# --------------------------------------------------------------------------- PostgreSQL

def insert(url: str, values: dict) -> None:
    """As ``url``'s login, plain SQL (no zpb code between): one delivery row."""
    with psycopg.connect(url) as con:
        con.execute(f"INSERT INTO deliveries ({', '.join(values)}) VALUES ({', '.join(['%s'] * len(values))})",
                    list(values.values()))


def refused(url: str, sql: str, match: str) -> None:
    with psycopg.connect(url) as con:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match=match):
            con.execute(sql)


def seen(url: str) -> list[tuple]:
    with psycopg.connect(url) as con:
        return con.execute("SELECT login, role, institution_id FROM deliveries ORDER BY id").fetchall()


@pg_only
def test_a_unit_records_only_its_own_schools_as_itself(rights, db_backend):
    admin = rights["admin"]
    bochnia, tarnow = school_of(admin, "KPP-BOCHNIA"), school_of(admin, "KMP-TARNOW")
    before = version_of(admin)
    insert(rights["ala"], row("ala", BOCHNIA, bochnia))
    insert(rights["tom"], row("tom", TARNOW, tarnow))
    insert(rights["olek"], row("olek", ANALYST, bochnia))
    insert(rights["olek"], row("olek", ANALYST, tarnow))
    # another unit's school, another login, another role, the reader: refused
    for url, values in ((rights["ala"], row("ala", BOCHNIA, tarnow)), (rights["ala"], row("tom", BOCHNIA, bochnia)),
                        (rights["ala"], row("ala", ANALYST, bochnia)), (rights["ala"], row("ala", TARNOW, tarnow)),
                        (rights["tom"], row("tom", TARNOW, bochnia)), (rights["olek"], row("olek", BOCHNIA, bochnia))):
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            insert(url, values)
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
        insert(rights["rita"], row("rita", READER, bochnia))
    # the id and the time are the database's
    for column, value in (("at", "2020-01-01T00:00:00+00:00"), ("id", 999)):
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
            insert(rights["ala"], row("ala", BOCHNIA, bochnia, **{column: value}))
    assert version_of(admin) == before  # sendings are not report data
    everything = [("ala", BOCHNIA, bochnia), ("tom", TARNOW, tarnow), ("olek", ANALYST, bochnia),
                  ("olek", ANALYST, tarnow)]
    assert seen(admin) == everything
    # each unit reads its own counties' rows; the analyst and the reader every row
    assert seen(rights["ala"]) == [r for r in everything if r[2] == bochnia]
    assert seen(rights["tom"]) == [r for r in everything if r[2] == tarnow]
    assert seen(rights["olek"]) == seen(rights["rita"]) == everything


@pg_only
def test_nobody_changes_or_deletes_a_row(rights, db_backend):
    admin = rights["admin"]
    insert(rights["ala"], row("ala", BOCHNIA, school_of(admin, "KPP-BOCHNIA")))
    rows = seen(admin)
    for login in ("ala", "tom", "olek", "rita"):
        for sql in ("UPDATE deliveries SET outcome = 'failed'", "DELETE FROM deliveries", "TRUNCATE deliveries"):
            refused(rights[login], sql, "permission denied")
    # `zpb db roles` run again: the same rights
    assert main(["db", "roles", "--db", admin]) == 0
    refused(rights["olek"], "DELETE FROM deliveries", "permission denied")
    refused(rights["ala"], "UPDATE deliveries SET detail = 'x'", "permission denied")
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
        insert(rights["ala"], row("ala", BOCHNIA, school_of(admin, "KMP-TARNOW")))
    assert seen(admin) == rows


@pg_only
def test_the_service_refuses_another_units_schools_before_sending(rights, db_backend, tmp_path):
    """A unit's login: a preview of another unit is refused, and so is a sending that would reach
    another unit's school (nothing is sent, nothing recorded)."""
    from zpb_lib.services import delivery
    from zpb_lib.services.smtp import SmtpSettings

    with pytest.raises(delivery.DeliveryRefused, match="its own unit"):
        delivery.preview(rights["ala"], unit="KMP-TARNOW", edition=EDITION, reports_dir=tmp_path)
    own = delivery.preview(rights["ala"], unit=None, edition=EDITION, reports_dir=tmp_path)
    assert own.unit == "KPP-BOCHNIA" and not own.ready
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(b"%PDF-1.4\n")
    theirs = delivery.Recipient(school_of(rights["admin"], "KMP-TARNOW"), "1", "SP 1", "Tarnów", "1263", "KMP-TARNOW",
                                "sekretariat@sp1.tarnow.pl", None, pdf)
    forged = delivery.Preview(EDITION, "KPP-BOCHNIA", "pl", tmp_path, (theirs,), True)
    unreachable = SmtpSettings("127.0.0.1", "zpb@bochnia.policja.gov.pl", 9, "none")
    with pytest.raises(delivery.DeliveryRefused, match="nothing was sent"):
        delivery.send(rights["ala"], forged, smtp=unreachable)
    assert seen(rights["admin"]) == []


def _pg_tables(url: str) -> dict[str, tuple[int, str]]:
    with psycopg.connect(url) as con:
        out = {}
        for (t,) in con.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall():
            cols = [r[0] for r in con.execute("SELECT column_name FROM information_schema.columns WHERE "
                                              "table_schema = 'public' AND table_name = %s ORDER BY ordinal_position",
                                              (t,)) if (t, r[0]) != ("institutions", "email")]
            rows = con.execute(f"SELECT {', '.join(cols)} FROM {t} ORDER BY {', '.join(cols)}").fetchall()
            out[t] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
    return out


@pg_only
def test_upgrade_8_to_9_on_postgresql_in_place(pg, db_backend, capsys):
    """A version-8 PostgreSQL database (fixture schema-v8-postgresql.sql.gz) with `zpb db roles` run:
    the upgrade adds the column and the table in place, keeps every row, and brings the rights up to
    date — a unit's login records its own schools' sendings and no other's."""
    url = pg_database(pg)
    text = "\n".join(line for line in gzip.open(FIXTURES / "schema-v8-postgresql.sql.gz", "rt", encoding="utf-8")
                     .read().splitlines() if not line.startswith("\\"))
    with psycopg.connect(url, autocommit=True) as con:
        con.execute(text)
    with psycopg.connect(url, autocommit=True) as con:  # what `zpb db roles` of version 8 left on
        con.execute("ALTER TABLE institutions ENABLE ROW LEVEL SECURITY")
    before, version = _pg_tables(url), version_of(url)
    assert "deliveries" not in before and before["imports"][0] == 2
    assert main(["db", "upgrade", "--db", url]) == 0
    out = capsys.readouterr().out
    assert f"upgraded from schema version 8 to {store.SCHEMA_VERSION}" in out
    assert "rights of `zpb db roles` were brought up to date" in out
    after = _pg_tables(url)
    assert {t: v for t, v in after.items() if t not in ("meta", "data_version", "deliveries")} == \
        {t: v for t, v in before.items() if t not in ("meta", "data_version")}
    assert after["deliveries"][0] == 0
    upgraded = version_of(url)
    assert upgraded[0] == version[0]
    pg.admin("DROP ROLE IF EXISTS v8_bochnia")
    pg.admin(f"CREATE ROLE v8_bochnia LOGIN IN ROLE {BOCHNIA}")
    unit = pg.url(url.rsplit("/", 1)[1], user="v8_bochnia")
    bochnia, tarnow = school_of(url, "KPP-BOCHNIA"), school_of(url, "KMP-TARNOW")
    insert(unit, row("v8_bochnia", BOCHNIA, bochnia))
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
        insert(unit, row("v8_bochnia", BOCHNIA, tarnow))
    refused(unit, "DELETE FROM deliveries", "permission denied")
    with psycopg.connect(url) as con:
        con.execute("UPDATE institutions SET email = 'sekretariat@sp.bochnia.pl' WHERE id = %s", (bochnia,))
    with psycopg.connect(url) as con:
        with pytest.raises(psycopg.errors.CheckViolation):
            con.execute("UPDATE institutions SET email = 'brak adresu' WHERE id = %s", (bochnia,))
    assert seen(url) == [("v8_bochnia", BOCHNIA, bochnia)]
    assert version_of(url)[1] == upgraded[1] + 1  # the address is data; the sending is not
    assert main(["db", "check", "--db", url]) == 0
    assert main(["db", "upgrade", "--db", url]) == 0
    assert "nothing to do" in capsys.readouterr().out
