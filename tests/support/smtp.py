"""A real SMTP server for the tests of reports sent by e-mail (aiosmtpd, on this machine), and the
school reports such a sending needs, built by `zpb build`."""
from __future__ import annotations

import contextlib
import json
import socket
from email import message_from_bytes, policy
from pathlib import Path
from typing import Iterator

from aiosmtpd.controller import Controller


class Inbox:
    """What the server was given: (recipients, parsed message) per message; refuses ``refuse``."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], object]] = []
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802, ANN001
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802, ANN001
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content, policy=policy.default)))
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def smtp_server(inbox: Inbox, **options: object) -> Iterator[Controller]:
    """An SMTP server on 127.0.0.1 delivering into ``inbox`` (``options``: aiosmtpd's, e.g. a login)."""
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), **options)
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


def build_school_reports(db: "str | Path", out: Path, edition: str, idents: list[str]) -> dict:
    """The PDF school reports of ``idents`` (RSPO numbers or POL-on ids) built into ``out`` by
    `zpb build`; the edition's manifest, as the build wrote it."""
    from zpb_lib.cli import main

    assert main(["build", "--db", str(db), "--edition", edition, "--only", "school", "--format", "pdf", "--jobs", "1",
                 "--out", str(out), "--quiet", *[a for i in idents for a in ("--institution", i)]]) == 0
    return json.loads((out / edition.replace("/", "-") / "manifest.json").read_text(encoding="utf-8"))


def report_of(folder: Path, manifest: dict, ident: "int | str") -> tuple[Path, dict]:
    """The built PDF of the institution ``ident`` in the build's ``folder`` (``reports/2025-2026``) of
    ``manifest``, and its manifest entry."""
    entry = next(e for e in manifest["reports"].values() if e["key"] == str(ident))
    return folder / entry["pdf"], entry
