"""Each school's report sent to the school by e-mail, through the unit's SMTP server.

:func:`preview` lists, for a police unit (or every unit) and an edition, the institutions taking
part with their address from the RSPO register and their report's PDF in the build's folder (as
``zpb build`` left it: its manifest names each report's file, data version and fingerprint); those
without an address and those without a built report are listed apart. :func:`send` sends one message
per school that has both — the PDF attached, a short text the coordinator may have edited — and
records each sending, failed ones too with the server's answer, in the table ``deliveries``. Nothing
is sent to an institution the login may not change (another unit's): the whole sending is refused
before the first message.

Texts (subject and body) may name ``{name}`` (the institution's), ``{edition}`` and ``{unit}``
(the police unit's name); nothing else in them is read as a field, so braces of one's own stay as
they are.
"""
from __future__ import annotations

import os
import smtplib
import stat
import zipfile
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from zpb_lib import store
from zpb_lib.core.errors import ZpbError
from zpb_lib.domain.labels import LANGS, label
from zpb_lib.reference import Reference, reference
from zpb_lib.reference.identifiers import Identifier, identifier, parse_identifier
from zpb_lib.reference.identifiers import label as id_label
from zpb_lib.services.imports import Db
from zpb_lib.services.smtp import Mailer, SmtpSettings, reply
from zpb_lib.store.acting import acting
from zpb_lib.store.queries import deliveries as delivery_rows
from zpb_lib.store.rights import rights_of, unit_role
from zpb_lib.store.schema import DELIVERY_SUBJECT_MAX

FIELDS = ("name", "edition", "unit")
MANIFEST = "manifest.json"


class DeliveryRefused(ZpbError):
    """A sending (or its preview) asked of a login that may not make it; nothing was sent."""


@dataclass(frozen=True)
class Recipient:
    """One institution of a preview: where its report would go, and which report."""
    institution_id: int
    ident: str  # RSPO number or POL-on id
    name: str
    locality: str
    county: str  # TERYT
    police_unit: str
    email: str | None  # from the RSPO register; None: the register gives none
    pupils: int | None  # the school's size by the register (None: unknown)
    report: Path | None  # the built PDF; None: no report built (or not as a PDF)
    data_version: str | None = None  # of the build that made the report
    fingerprint: str | None = None  # the report's, in the build's manifest

    @property
    def ready(self) -> bool:
        return self.email is not None and self.report is not None

    def label(self) -> str:
        key = "RSPO" if self.ident.isdigit() else "POL-on"
        return f"{self.name}, {self.locality} ({key} {self.ident})"


@dataclass(frozen=True)
class Preview:
    """What :func:`send` would send: every institution taking part, with its address and report."""
    edition: str
    unit: str | None  # a police unit's code; None: every unit
    lang: str
    folder: Path  # the build's folder of the edition in ``lang``
    recipients: tuple[Recipient, ...]
    built: bool  # the folder holds a build's manifest

    @property
    def ready(self) -> list[Recipient]:
        return [r for r in self.recipients if r.ready]

    @property
    def no_address(self) -> list[Recipient]:
        return [r for r in self.recipients if r.email is None]

    @property
    def no_report(self) -> list[Recipient]:
        return [r for r in self.recipients if r.report is None]

    def lines(self) -> list[str]:
        """The preview as the command line prints it."""
        who = f"police unit {self.unit}" if self.unit else "every police unit"
        out = [f"edition {self.edition}, {who}: {len(self.recipients)} institution(s) taking part; "
               f"reports ({self.lang}) from {self.folder}"]
        if not self.built:
            out.append(f"  no build there: `zpb build --edition {self.edition} --lang {self.lang}` writes the reports")
        out.append(f"  to send: {len(self.ready)}")
        out += [f"    {r.email}  ←  {r.report.name if r.report else ''}  ({r.label()})" for r in self.ready]
        out.append(f"  without an e-mail address in the RSPO register: {len(self.no_address)}")
        out += [f"    {r.label()}" for r in self.no_address]
        out.append(f"  without a built report (PDF): {len(self.no_report)}")
        out += [f"    {r.label()}" for r in self.no_report]
        return out


@dataclass(frozen=True)
class Sent:
    """One message: sent (the server took it) or failed (``detail``: why)."""
    recipient: Recipient
    outcome: str  # sent | failed
    subject: str
    detail: str | None = None


@dataclass
class _Build:
    folder: Path
    built: bool
    data_version: str | None = None
    reports: dict[str, dict] = field(default_factory=dict)  # identifier → its manifest entry


def default_subject(lang: str = "pl") -> str:
    return label("delivery.subject", lang)


def default_text(lang: str = "pl") -> str:
    return label("delivery.text", lang)


def subject_of(template: str, **values: str) -> str:
    """A subject filled in, on one line (a header never spans lines) and as long as the record keeps."""
    return " ".join(fill(template, **values).split())[:DELIVERY_SUBJECT_MAX]


def fill(template: str, **values: str) -> str:
    """``template`` with ``{name}``, ``{edition}`` and ``{unit}`` filled in; nothing else is touched."""
    out = template
    for key in FIELDS:
        out = out.replace("{" + key + "}", values.get(key, ""))
    return out


def unit_code(text: str, ref: Reference | None = None) -> str:
    """A police unit's code from its code in any case (``kpp-bochnia``) or its role's name
    (``zpb_unit_kpp_bochnia``); ValueError naming the codes otherwise."""
    ref = ref or reference()
    given = text.strip().lower()
    for code in ref.police_units:
        if given in (code.lower(), unit_role(code)):
            return code
    raise ValueError(f"unknown police unit {text.strip()!r} (known: {', '.join(ref.police_units)})")


def _build_of(reports_dir: Path, edition: str, lang: str) -> _Build:
    """What the build of ``edition`` in ``reports_dir`` holds for ``lang``: each school report built
    as a PDF, by the institution's identifier."""
    # batch.pipeline pulls the build's machinery: only when a sending is prepared
    from zpb_lib.batch.pipeline import lang_dir, load_state

    folder = lang_dir(Path(reports_dir) / edition.replace("/", "-"), lang)
    state = load_state(folder)
    out = _Build(folder, bool(state))
    inputs = state.get("inputs") if isinstance(state.get("inputs"), dict) else {}
    out.data_version = str(inputs["data_hash"]) if inputs.get("data_hash") else None
    for entry in (state.get("reports") or {}).values():
        if (isinstance(entry, dict) and entry.get("kind") == "school" and entry.get("status") == "ok"
                and _pdf_of(folder, entry) is not None):
            out.reports[str(entry.get("key"))] = entry
    return out


def _pdf_of(folder: Path, entry: dict) -> Path | None:
    """The report's PDF in ``folder``: a plain file name the manifest gives, of a regular file there
    (never a path elsewhere, nor a link)."""
    name = entry.get("pdf")
    if not isinstance(name, str) or not name.endswith(".pdf") or name.startswith(".") or "/" in name \
            or "\\" in name or os.sep in name:
        return None
    path = folder / name
    try:
        return path if stat.S_ISREG(path.lstat().st_mode) else None
    except OSError:
        return None


def preview(db: Db, *, unit: str | None, edition: str, reports_dir: "str | os.PathLike", lang: str = "pl",
            ref: Reference | None = None) -> Preview:
    """The institutions of ``unit`` (a police unit's code; None: the login's own unit, or every unit
    for an analyst) taking part in ``edition``, with their address and their report's PDF in the
    build under ``reports_dir`` (``zpb build --out``). A school whose report was built though it has
    no participation of its own (one of a complex taking part) is listed too."""
    ref = ref or reference()
    try:
        edition = ref.edition_of(edition)
    except KeyError as exc:
        raise ValueError(exc.args[0]) from None
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r} ({', '.join(LANGS)})")
    unit = unit_code(unit, ref) if unit else None
    build = _build_of(Path(reports_dir), edition, lang)
    with store.connect(db, readonly=True) as con:
        rights = rights_of(con)
        if not rights.everything:
            if not rights.units:
                raise DeliveryRefused(f"{rights.who()} sends no reports: a police unit's coordinator or an analyst "
                                      "does")
            if unit is None and len(rights.units) == 1:
                unit = next(iter(rights.units))
            if unit not in rights.units:
                mine = ", ".join(sorted(rights.units))
                raise DeliveryRefused(f"{rights.who()} sends the reports of its own unit ({mine}), not "
                                      f"{unit or 'of every unit'}: give --unit {mine}")
        rows = {r[0]: r for r in delivery_rows.taking_part(con, edition, unit)}
        units = {unit} if unit else set(ref.police_units)
        extra = [key for key, entry in build.reports.items() if entry.get("police_unit") in units]
        known = {identifier(r[1], r[2]) for r in rows.values()}
        extra = [_parsed(key) for key in extra if key not in known]
        extra = [i for i in extra if i is not None]
        for r in delivery_rows.institutions_by_identifier(con, [int(i.value) for i in extra if i.scheme == "rspo"],
                                                          [str(i.value) for i in extra if i.scheme == "polon"]):
            if r[6] in units:
                rows.setdefault(r[0], r)
    recipients = []
    for iid, rspo, polon, name, locality, county, police_unit, email, pupils in rows.values():
        ident = identifier(rspo, polon)
        entry = build.reports.get(ident)
        recipients.append(Recipient(
            iid, ident, name, locality, county, police_unit, email, pupils,
            _pdf_of(build.folder, entry) if entry else None,
            build.data_version if entry else None, str(entry["fingerprint"]) if entry and entry.get("fingerprint")
            else None))
    recipients.sort(key=lambda r: (r.county, r.name, r.ident))
    return Preview(edition, unit, lang, build.folder, tuple(recipients), build.built)


def _parsed(key: str) -> Identifier | None:
    """A manifest's report key as an identifier (None: not one, the manifest was edited by hand)."""
    try:
        return parse_identifier(key)
    except ValueError:
        return None


def message(recipient: Recipient, *, sender: str, subject: str, text: str, edition: str,
            unit_name: str) -> EmailMessage:
    """The message to one school: the text, and its report's PDF attached under the file's name."""
    values = {"name": recipient.name, "edition": edition, "unit": unit_name}
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = recipient.email
    msg["Subject"] = subject_of(subject, **values)
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    msg.set_content(fill(text, **values))
    assert recipient.report is not None
    msg.add_attachment(recipient.report.read_bytes(), maintype="application", subtype="pdf",
                       filename=recipient.report.name)
    return msg


def send(db: Db, preview: Preview, *, smtp: SmtpSettings, text: str | None = None, subject: str | None = None,
         login: str | None = None, role: str | None = None, ref: Reference | None = None) -> list[Sent]:
    """Send each ready recipient of ``preview`` its report (one message each) and record every
    sending in ``deliveries`` as ``login`` in ``role`` (default: the person the code acts for, else
    the connected login), each in a transaction of its own right after its message. Refused as a
    whole, before anything is sent, when a recipient is not the login's to send to; an SMTP server
    that cannot be reached or refuses the login: SmtpError, nothing sent or recorded."""
    ref = ref or reference()
    text = default_text(preview.lang) if text is None else text
    subject = default_subject(preview.lang) if subject is None else subject
    ready = preview.ready
    with store.connect(db) as con:
        rights = rights_of(con)
        refused = [r for r in ready if not rights.may_change(r.county)]
        if not rights.writes or refused:
            names = "; ".join(r.label() for r in refused[:5]) + (f" and {len(refused) - 5} more" if len(refused) > 5
                                                                  else "")
            raise DeliveryRefused(f"{rights.who()} may not send to {names or 'any institution'}: "
                                  "a police unit sends the reports of its own counties' institutions; nothing was sent")
        who = acting()
        login = login if login is not None else (who.person if who else rights.login)
        role = role if role is not None else (who.role if who else rights.role)
        out: list[Sent] = []
        if not ready:
            return out
        with Mailer(smtp) as mailer:
            for r in ready:
                unit = ref.police_units.get(r.police_unit)
                sent = _send_one(mailer, r, smtp.sender, subject, text, preview.edition,
                                 unit.name if unit else r.police_unit)
                with store.transaction(con):
                    delivery_rows.record(
                        con, login=login, role=role, institution_id=r.institution_id, edition=preview.edition,
                        report_file=r.report.name if r.report else "", data_version=r.data_version,
                        fingerprint=r.fingerprint, recipient=r.email or "", subject=sent.subject,
                        outcome=sent.outcome, detail=sent.detail)
                out.append(sent)
        return out


def _send_one(mailer: Mailer, r: Recipient, sender: str, subject: str, text: str, edition: str,
              unit_name: str) -> Sent:
    """One school's message sent, or why not."""
    title = subject_of(subject, name=r.name, edition=edition, unit=unit_name)
    try:
        msg = message(r, sender=sender, subject=subject, text=text, edition=edition, unit_name=unit_name)
    except OSError as exc:  # the report's file went since the preview
        return Sent(r, "failed", title, f"the report's file cannot be read: {exc.strerror or exc}")
    try:
        mailer.send(msg)
    except (smtplib.SMTPException, OSError) as exc:
        return Sent(r, "failed", title, reply(exc))
    return Sent(r, "sent", title)


def history(db: Db, institution: "str | int", edition: str | None = None, *, limit: int = 100) -> list[tuple]:
    """The sendings of one institution's reports the login may read, newest first, as rows of
    :data:`zpb_lib.store.queries.deliveries.DELIVERY_COLUMNS` (a school's page lists them)."""
    from zpb_lib.domain.institutions import lookup

    with store.connect(db, readonly=True) as con:
        inst = lookup(con, institution)
        return delivery_rows.deliveries(con, institution_id=inst.id, edition=edition, limit=limit)


@dataclass(frozen=True)
class Sending:
    """One row of a unit's record of sendings, with the institution named."""
    at: str  # ISO time, the database server's clock (UTC)
    login: str  # who sent it
    edition: str
    school: str  # the institution as :meth:`Recipient.label` names it
    recipient: str  # the address it went to
    report_file: str
    data_version: str | None  # of the build that made the report
    outcome: str  # sent | failed
    detail: str | None  # why it failed


def sendings(db: Db, unit: str | None, *, limit: int = 500, ref: Reference | None = None) -> list[Sending]:
    """The sendings to the institutions of ``unit`` (a police unit's code or role; None: every unit)
    the login may read, newest first."""
    code = unit_code(unit, ref) if unit else None
    with store.connect(db, readonly=True) as con:
        rows = delivery_rows.of_unit(con, code, limit=limit)
    out = []
    for at, login, edition, name, locality, rspo, polon, recipient, report_file, version, outcome, detail in rows:
        out.append(Sending(str(at), login, edition, f"{name}, {locality} ({id_label(rspo, polon)})", recipient,
                           report_file, version, outcome, detail))
    return out


def zip_reports(preview: Preview, out: Path) -> Path | None:
    """The built PDFs of ``preview``'s institutions (with an address or not) as one zip at ``out``, each
    under its own file name; None when none is built. Stored, not compressed: a PDF is compressed already."""
    reports = sorted({r.report for r in preview.recipients if r.report is not None}, key=lambda p: p.name)
    if not reports:
        return None
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        for path in reports:
            archive.write(path, arcname=path.name)
    return out
