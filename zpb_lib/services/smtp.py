"""The unit's SMTP server, as the ``ZPB_SMTP_*`` settings describe it, and a connection to it that
sends one message at a time (the standard library's smtplib: STARTTLS, TLS from the start, or none).

A password never travels unencrypted to another machine: with ``ZPB_SMTP_TLS=none`` a login is
given only to a server on this machine (a relay the administrator runs there)."""
from __future__ import annotations

import ipaddress
import smtplib
import socket
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Mapping

from zpb_lib.core import settings
from zpb_lib.core.addresses import email_address
from zpb_lib.core.errors import ZpbError
from zpb_lib.core.settings import SettingError

TLS_MODES = ("starttls", "ssl", "none")
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
TIMEOUT = 30.0  # seconds a connection or one command may take


class SmtpError(ZpbError, ConnectionError):
    """The SMTP server could not be reached, refused the login, or spoke no encryption it was asked for."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    sender: str  # the From address
    port: int = 587
    tls: str = "starttls"  # one of TLS_MODES
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = TIMEOUT

    def __post_init__(self) -> None:
        if self.tls not in TLS_MODES:
            raise SettingError(f"${settings.SMTP_TLS.name} is {self.tls!r}: give {', '.join(TLS_MODES)}")
        if (self.user is None) != (self.password is None):
            missing = settings.SMTP_PASSWORD if self.password is None else settings.SMTP_USER
            raise SettingError(f"a login at the SMTP server needs ${settings.SMTP_USER.name} and "
                               f"${settings.SMTP_PASSWORD.name}: set ${missing.name} too")

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> "SmtpSettings":
        """The settings of ``ZPB_SMTP_*``; a SettingError names a variable that is missing or wrong."""
        def value(setting: settings.Setting) -> str | None:
            return setting.text(environ).strip() or None

        host = value(settings.SMTP_HOST)
        if host is None:
            raise SettingError(f"no SMTP server: set ${settings.SMTP_HOST.name} (and ${settings.SMTP_FROM.name}, "
                               f"${settings.SMTP_USER.name}, ${settings.SMTP_PASSWORD.name} as the server asks)")
        tls = (value(settings.SMTP_TLS) or settings.SMTP_TLS.default).lower()
        if tls not in TLS_MODES:
            raise SettingError(f"${settings.SMTP_TLS.name} is {tls!r}: give {', '.join(TLS_MODES)}")
        port = settings.SMTP_PORT.whole_number(DEFAULT_PORTS[tls], environ=environ)
        user = value(settings.SMTP_USER)
        password = settings.SMTP_PASSWORD.text(environ) or None  # a password's spaces are its own
        sender = value(settings.SMTP_FROM) or (user if user and "@" in user else None)
        if sender is None:
            raise SettingError(f"no sender's address: set ${settings.SMTP_FROM.name}, e.g. zpb@bochnia.policja.gov.pl")
        try:
            email_address(sender)
        except ValueError:
            raise SettingError(f"${settings.SMTP_FROM.name} is {sender!r}: give one e-mail address") from None
        return cls(host, sender, port, tls, user, password)

    @property
    def server(self) -> str:
        return f"{self.host}:{self.port}"

    def open(self) -> "Mailer":
        """A connection, encrypted as asked and logged in; SmtpError (one line) otherwise."""
        return Mailer(self)


def _local(host: str) -> bool:
    """Whether ``host`` is this machine (a loopback address or a name that resolves only to one)."""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError:
        return False
    return bool(addresses) and all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addresses)


class Mailer:
    """One connection to the server, for one sending (a context manager; ``QUIT`` at the end)."""

    def __init__(self, smtp: SmtpSettings):
        self.settings = smtp
        self._client: smtplib.SMTP | None = None

    def __enter__(self) -> "Mailer":
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def connect(self) -> None:
        s = self.settings
        if s.user is not None and s.tls == "none" and not _local(s.host):
            raise SmtpError(f"the password for {s.server} would go unencrypted ({settings.SMTP_TLS.name}=none): "
                            "use starttls or ssl, or a server on this machine")
        context = ssl.create_default_context()
        try:
            if s.tls == "ssl":
                client: smtplib.SMTP = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=context)
            else:
                client = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            try:
                if s.tls == "starttls":
                    client.starttls(context=context)
                if s.user is not None:
                    client.login(s.user, s.password or "")
            except BaseException:
                client.close()
                raise
        except smtplib.SMTPAuthenticationError as exc:
            raise SmtpError(f"the SMTP server {s.server} refused the login {s.user}: {reply(exc)}") from None
        except smtplib.SMTPNotSupportedError as exc:
            raise SmtpError(f"the SMTP server {s.server} does not offer what zpb asked for ({exc}); "
                            f"check {settings.SMTP_TLS.name} and {settings.SMTP_USER.name}") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise SmtpError(f"cannot reach the SMTP server {s.server}: {reply(exc)}") from None
        self._client = client

    def send(self, message: EmailMessage) -> None:
        """Send one message; smtplib's errors as they come (the caller records them)."""
        if self._client is None:
            self.connect()
        try:
            refused = self._client.send_message(message)
        except smtplib.SMTPServerDisconnected:
            self._client = None  # the next message connects again
            raise
        if refused:  # some recipients refused, others not: one recipient a message here, so never
            raise smtplib.SMTPRecipientsRefused(refused)

    def close(self) -> None:
        if self._client is not None:
            try:
                self._client.quit()
            except (smtplib.SMTPException, OSError):
                self._client.close()
            self._client = None


def reply(exc: BaseException) -> str:
    """An SMTP error as one line: the server's code and text, or the system's reason."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{who}: {reply(smtplib.SMTPResponseException(code, text))}"
                         for who, (code, text) in exc.recipients.items())
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        return f"{exc.smtp_code} {' '.join(text.split())}"
    return " ".join(str(exc).split()) or type(exc).__name__
