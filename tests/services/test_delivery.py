"""Reports sent to the schools by e-mail (`zpb deliver`, zpb_lib.services.delivery), through a real
SMTP server started here (aiosmtpd), from a real build of a few school reports.

The small demo database: KMP Tarnów's schools taking part in 2025/2026 are the unit whose reports
go out; one school of KPP Bochnia has a report and an address too, and must get nothing. What is
expected is read here from the database and the build's manifest with plain SQL and JSON."""
from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from support.smtp import Inbox
from support.smtp import free_port as _port
from zpb_lib import store
from zpb_lib.cli import main
from zpb_lib.services import delivery
from zpb_lib.services.smtp import SmtpError, SmtpSettings

EDITION = "2025/2026"
UNIT, OTHER = "KMP-TARNOW", "KPP-BOCHNIA"


@pytest.fixture
def server():
    """An SMTP server on this machine, without a login; yields (its inbox, settings to reach it)."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_port())
    controller.start()
    yield inbox, SmtpSettings("127.0.0.1", "zpb@tarnow.policja.gov.pl", controller.port, "none")
    controller.stop()


def participants(db: Path, unit: str) -> list[tuple[int, int]]:
    """(id, RSPO number) of the unit's institutions with a participation period covering the edition."""
    con = store.connect(db, readonly=True)
    try:
        return [tuple(r) for r in con.execute(
            "SELECT i.id, i.rspo FROM institutions i JOIN counties c ON c.teryt = i.county WHERE c.police_unit = ? "
            "AND EXISTS (SELECT 1 FROM participation p WHERE p.institution_id = i.id AND p.joined_edition <= ? "
            "AND (p.left_edition IS NULL OR p.left_edition >= ?)) ORDER BY i.rspo", (unit, EDITION, EDITION))]
    finally:
        con.close()


@pytest.fixture(scope="module")
def built(small_sqlite, tmp_path_factory):
    """A copy of the small database whose first three Tarnów participants and one of Bochnia's have
    a built PDF report; the first two and the fourth of Tarnów and Bochnia's one have an address."""
    folder = tmp_path_factory.mktemp("delivery")
    db = folder / "zpb.sqlite"
    shutil.copy(small_sqlite, db)
    mine, other = participants(db, UNIT), participants(db, OTHER)
    assert len(mine) >= 4 and other
    addresses = {mine[0][0]: "sekretariat@sp1.tarnow.pl", mine[1][0]: "szkola@zs2.tarnow.pl",
                 mine[3][0]: "dyrektor@sp4.tarnow.pl", other[0][0]: "sekretariat@bochnia.edu.pl"}
    con = store.connect(db)
    with store.transaction(con):
        for iid, email in addresses.items():
            con.execute("UPDATE institutions SET email = ? WHERE id = ?", (email, iid))
    con.close()
    reports = folder / "reports"
    wanted = [str(r) for _, r in (*mine[:3], other[0])]
    assert main(["build", "--db", str(db), "--edition", EDITION, "--only", "school", "--format", "pdf", "--jobs", "1",
                 "--out", str(reports), "--quiet", *[a for r in wanted for a in ("--institution", r)]]) == 0
    manifest = json.loads((reports / "2025-2026" / "manifest.json").read_text(encoding="utf-8"))
    return {"db": db, "reports": reports, "mine": mine, "other": other, "addresses": addresses, "manifest": manifest}


@pytest.fixture
def db(built, tmp_path) -> Path:
    """A private copy of the built database (the build's folder is shared: it is only read)."""
    path = tmp_path / "zpb.sqlite"
    shutil.copy(built["db"], path)
    return path


def report_of(built, rspo: int) -> tuple[Path, dict]:
    entry = next(e for e in built["manifest"]["reports"].values() if e["key"] == str(rspo))
    return built["reports"] / "2025-2026" / entry["pdf"], entry


def rows(db: Path) -> list[tuple]:
    con = store.connect(db, readonly=True)
    try:
        return con.execute("SELECT institution_id, edition, report_file, data_version, fingerprint, recipient, "
                           "outcome, detail, login, role, subject FROM deliveries ORDER BY id").fetchall()
    finally:
        con.close()


def test_preview_lists_who_gets_what_and_who_cannot(built, db):
    mine = built["mine"]
    p = delivery.preview(db, unit="kmp-tarnow", edition="2025-2026", reports_dir=built["reports"])
    assert p.unit == UNIT and p.edition == EDITION and p.built
    assert {r.institution_id for r in p.recipients} == {i for i, _ in mine}
    ready = {r.institution_id: (r.email, r.report) for r in p.ready}
    assert ready == {iid: (built["addresses"][iid], report_of(built, rspo)[0]) for iid, rspo in mine[:2]}
    assert {r.institution_id for r in p.no_address} == {i for i, _ in mine} - {mine[0][0], mine[1][0], mine[3][0]}
    assert {r.institution_id for r in p.no_report} == {i for i, _ in mine} - {i for i, _ in mine[:3]}
    text = "\n".join(p.lines())
    assert "to send: 2" in text and f"without an e-mail address in the RSPO register: {len(p.no_address)}" in text
    assert f"RSPO {mine[2][1]}" in text.split("without an e-mail address")[1]
    assert f"RSPO {mine[3][1]}" in text.split("without a built report")[1]
    assert built["addresses"][built["other"][0][0]] not in text


def test_each_school_gets_its_own_report_and_no_other_unit_gets_one(built, db, server, data_version):
    inbox, smtp = server
    version_before = store.data_version(db)
    p = delivery.preview(db, unit=UNIT, edition=EDITION, reports_dir=built["reports"])
    sent = delivery.send(db, p, smtp=smtp)
    assert [s.outcome for s in sent] == ["sent", "sent"]
    assert len(inbox.messages) == 2
    expected = {built["addresses"][iid]: rspo for iid, rspo in built["mine"][:2]}
    for recipients, msg in inbox.messages:
        assert len(recipients) == 1 and recipients[0] == msg["To"]
        rspo = expected.pop(msg["To"])
        pdf, entry = report_of(built, rspo)
        (part,) = list(msg.iter_attachments())
        assert part.get_content_type() == "application/pdf" and part.get_filename() == pdf.name
        assert part.get_content() == pdf.read_bytes()
        assert msg["From"] == "zpb@tarnow.policja.gov.pl"
        assert entry["title"] in msg["Subject"] and EDITION in msg["Subject"]
        body = msg.get_body(("plain",)).get_content()
        assert entry["title"] in body and EDITION in body and "Komenda Miejska Policji w Tarnowie" in body
    assert not expected
    # each sending recorded; the data version (and so every report) unchanged
    recorded = rows(db)
    assert {(r[0], r[5], r[6]) for r in recorded} == {(iid, built["addresses"][iid], "sent")
                                                      for iid, _ in built["mine"][:2]}
    for r in recorded:
        rspo = dict(built["mine"])[r[0]]
        pdf, entry = report_of(built, rspo)
        assert r[1:5] == (EDITION, pdf.name, built["manifest"]["inputs"]["data_hash"], entry["fingerprint"])
        assert r[7] is None and r[9] is None and entry["title"] in r[10]
    assert store.data_version(db) == version_before


def test_a_refused_recipient_is_recorded_as_failed(built, db, server):
    inbox, smtp = server
    refused_id = built["mine"][1][0]
    inbox.refuse.add(built["addresses"][refused_id])
    p = delivery.preview(db, unit=UNIT, edition=EDITION, reports_dir=built["reports"])
    sent = {s.recipient.institution_id: s for s in delivery.send(db, p, smtp=smtp)}
    assert sent[refused_id].outcome == "failed" and "550" in sent[refused_id].detail
    assert sent[built["mine"][0][0]].outcome == "sent"
    assert [rcpt for rcpt, _ in inbox.messages] == [[built["addresses"][built["mine"][0][0]]]]
    got = {r[0]: (r[6], r[7]) for r in rows(db)}
    assert got[built["mine"][0][0]] == ("sent", None)
    assert got[refused_id][0] == "failed" and "550 5.1.1 mailbox unavailable" in got[refused_id][1]


def test_a_server_out_of_reach_sends_and_records_nothing(built, db):
    p = delivery.preview(db, unit=UNIT, edition=EDITION, reports_dir=built["reports"])
    with pytest.raises(SmtpError, match=f"cannot reach the SMTP server 127.0.0.1:{(port := _port())}"):
        delivery.send(db, p, smtp=SmtpSettings("127.0.0.1", "zpb@tarnow.policja.gov.pl", port, "none"))
    assert rows(db) == []


def test_the_login_at_the_server(built, db):
    inbox = Inbox()

    def authenticator(server, session, envelope, mechanism, auth_data):  # noqa: ANN001
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"kmp", b"tajne-haslo")
        return AuthResult(success=ok, handled=False)  # the server answers (535 for a wrong password)

    controller = Controller(inbox, hostname="127.0.0.1", port=_port(), authenticator=authenticator,
                            auth_require_tls=False)
    controller.start()
    try:
        p = delivery.preview(db, unit=UNIT, edition=EDITION, reports_dir=built["reports"])
        wrong = SmtpSettings("127.0.0.1", "zpb@tarnow.policja.gov.pl", controller.port, "none", "kmp", "zle")
        with pytest.raises(SmtpError, match="refused the login kmp"):
            delivery.send(db, p, smtp=wrong)
        assert rows(db) == [] and inbox.messages == []
        right = SmtpSettings("127.0.0.1", "zpb@tarnow.policja.gov.pl", controller.port, "none", "kmp", "tajne-haslo")
        assert [s.outcome for s in delivery.send(db, p, smtp=right)] == ["sent", "sent"]
        assert len(inbox.messages) == 2
    finally:
        controller.stop()


def test_a_password_never_goes_unencrypted_to_another_machine():
    smtp = SmtpSettings("smtp.example.org", "zpb@example.org", 25, "none", "kmp", "tajne-haslo")
    with pytest.raises(SmtpError, match="would go unencrypted"):
        smtp.open().connect()


def test_settings_from_the_environment():
    env = {"ZPB_SMTP_HOST": "poczta.policja.gov.pl", "ZPB_SMTP_USER": "zpb@tarnow.policja.gov.pl",
           "ZPB_SMTP_PASSWORD": " haslo z spacjami ", "ZPB_SMTP_TLS": "SSL"}
    s = SmtpSettings.from_environment(env)
    assert (s.host, s.port, s.tls, s.user, s.password, s.sender) == (
        "poczta.policja.gov.pl", 465, "ssl", "zpb@tarnow.policja.gov.pl", " haslo z spacjami ",
        "zpb@tarnow.policja.gov.pl")
    assert "haslo" not in repr(s)
    assert SmtpSettings.from_environment({"ZPB_SMTP_HOST": "h", "ZPB_SMTP_FROM": "a@b.pl"}).port == 587
    for env, match in (({}, "ZPB_SMTP_HOST"), ({"ZPB_SMTP_HOST": "h"}, "ZPB_SMTP_FROM"),
                       ({"ZPB_SMTP_HOST": "h", "ZPB_SMTP_FROM": "a@b.pl", "ZPB_SMTP_TLS": "tls13"}, "ZPB_SMTP_TLS"),
                       ({"ZPB_SMTP_HOST": "h", "ZPB_SMTP_FROM": "a@b.pl", "ZPB_SMTP_PORT": "x"}, "ZPB_SMTP_PORT"),
                       ({"ZPB_SMTP_HOST": "h", "ZPB_SMTP_FROM": "a@b.pl", "ZPB_SMTP_USER": "u"}, "ZPB_SMTP_PASSWORD"),
                       ({"ZPB_SMTP_HOST": "h", "ZPB_SMTP_FROM": "nie adres"}, "ZPB_SMTP_FROM")):
        with pytest.raises(ValueError, match=match):
            SmtpSettings.from_environment(env)


def test_own_text_fills_only_its_fields():
    text = "Szanowni Państwo, raport {name} ({edition}) od {unit}; {inne} zostaje {}."
    assert delivery.fill(text, name="SP 1", edition=EDITION, unit="KMP Tarnów") == \
        "Szanowni Państwo, raport SP 1 (2025/2026) od KMP Tarnów; {inne} zostaje {}."


def test_cli_preview_then_send_with_an_own_text(built, db, server, tmp_path, monkeypatch, capsys):
    inbox, smtp = server
    args = ["deliver", "--db", str(db), "--unit", "zpb_unit_kmp_tarnow", "--edition", "XIX",
            "--reports", str(built["reports"])]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "to send: 2" in out and "nothing sent: --send sends these 2 message(s)" in out
    assert inbox.messages == [] and rows(db) == []
    text = tmp_path / "tekst.txt"
    text.write_text("Dzień dobry, oto raport szkoły {name} z edycji {edition}.\n", encoding="utf-8")
    for name, value in (("ZPB_SMTP_HOST", "127.0.0.1"), ("ZPB_SMTP_PORT", str(smtp.port)), ("ZPB_SMTP_TLS", "none"),
                        ("ZPB_SMTP_FROM", "zpb@tarnow.policja.gov.pl")):
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("ZPB_SMTP_USER", raising=False)
    monkeypatch.delenv("ZPB_SMTP_PASSWORD", raising=False)
    assert main([*args, "--send", "--text", str(text), "--subject", "Raport {name}"]) == 0
    out = capsys.readouterr().out
    assert out.count("sent: ") == 2 and f"2 sent, 0 failed through 127.0.0.1:{smtp.port}" in out
    for _, msg in inbox.messages:
        title = msg["Subject"].removeprefix("Raport ")
        body = msg.get_body(("plain",)).get_content().strip()
        assert body == f"Dzień dobry, oto raport szkoły {title} z edycji {EDITION}."
    assert len(rows(db)) == 2


def test_cli_refuses_an_unknown_unit_and_an_empty_text(built, db, tmp_path, capsys):
    assert main(["deliver", "--db", str(db), "--unit", "KPP-ATLANTYDA", "--edition", EDITION]) == 2
    assert "unknown police unit 'KPP-ATLANTYDA'" in capsys.readouterr().err
    empty = tmp_path / "pusty.txt"
    empty.write_text("  \n", encoding="utf-8")
    assert main(["deliver", "--db", str(db), "--unit", UNIT, "--edition", EDITION, "--text", str(empty)]) == 2
    assert "is empty" in capsys.readouterr().err


def test_a_report_file_gone_since_the_preview_is_recorded_as_failed(built, db, server, tmp_path):
    inbox, smtp = server
    reports = tmp_path / "reports"
    shutil.copytree(built["reports"], reports)
    p = delivery.preview(db, unit=UNIT, edition=EDITION, reports_dir=reports)
    gone = p.ready[0]
    gone.report.unlink()
    sent = {s.recipient.institution_id: s for s in delivery.send(db, p, smtp=smtp)}
    assert sent[gone.institution_id].outcome == "failed" and "cannot be read" in sent[gone.institution_id].detail
    assert len(inbox.messages) == 1
    assert {r[0]: r[6] for r in rows(db)}[gone.institution_id] == "failed"


def test_a_units_sendings_and_its_reports_as_one_zip(built, db, server, tmp_path):
    _, smtp = server
    mine = built["mine"]
    p = delivery.preview(db, unit=UNIT, edition=EDITION, reports_dir=built["reports"])
    delivery.send(db, p, smtp=smtp, login="anna")
    got = delivery.sendings(db, "zpb_unit_kmp_tarnow")
    assert sorted((s.login, s.edition, s.recipient, s.report_file, s.data_version, s.outcome) for s in got) == sorted(
        ("anna", EDITION, built["addresses"][iid], report_of(built, rspo)[0].name,
         built["manifest"]["inputs"]["data_hash"], "sent") for iid, rspo in mine[:2])
    schools = {s.recipient: s.school for s in got}
    assert all(schools[built["addresses"][iid]].endswith(f"(RSPO {rspo})") for iid, rspo in mine[:2])
    assert delivery.sendings(db, OTHER) == []
    # the zip: the unit's three built PDFs, the one without an address too
    out = delivery.zip_reports(p, tmp_path / "raporty.zip")
    with zipfile.ZipFile(out) as z:
        pdfs = [report_of(built, rspo)[0] for _, rspo in mine[:3]]
        assert sorted(z.namelist()) == sorted(pdf.name for pdf in pdfs)
        assert all(z.read(pdf.name) == pdf.read_bytes() for pdf in pdfs)
    nothing = delivery.preview(db, unit=UNIT, edition=EDITION, reports_dir=tmp_path / "none")
    assert delivery.zip_reports(nothing, tmp_path / "pusty.zip") is None
