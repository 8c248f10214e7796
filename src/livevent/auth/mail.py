"""Mail that livevent sends (an invitation's sign-in link), over SMTP with aiosmtplib.

`smtp_url` names the server: `smtp://[USER:PASSWORD@]HOST[:PORT]` speaks STARTTLS
when the server offers it (port 587 by default), `smtps://` is TLS from the first
byte (port 465). A link that goes by mail reaches only the mailbox it names: the
person who asked for it never sees the code.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

import aiosmtplib

from livevent.errors import InvalidInput, Unavailable
from livevent.settings import Settings

_SCHEMES = {"smtp": 587, "smtps": 465}
# A mail server that does not answer must not hold an invitation request for minutes.
SEND_TIMEOUT = 20.0


@dataclass(frozen=True, slots=True)
class SmtpServer:
    host: str
    port: int
    tls: bool
    username: str | None = None
    password: str | None = None

    @classmethod
    def parse(cls, url: str) -> SmtpServer:
        parts = urlsplit(url)
        if parts.scheme not in _SCHEMES or not parts.hostname:
            raise InvalidInput("smtp_url is smtp://[USER:PASSWORD@]HOST[:PORT] or smtps://...")
        try:
            port = parts.port or _SCHEMES[parts.scheme]
        except ValueError:
            raise InvalidInput("smtp_url has a bad port") from None
        return cls(
            host=parts.hostname,
            port=port,
            tls=parts.scheme == "smtps",
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


def one_line(text: str) -> str:
    """A header value: an event's name may hold line breaks, and a header must not."""
    return " ".join(text.split())


class Mailer:
    def __init__(self, server: SmtpServer, sender: str) -> None:
        self.server = server
        self.sender = sender

    @classmethod
    def from_settings(cls, settings: Settings) -> Mailer | None:
        """The configured mailer, or None when no `smtp_url` is set."""
        if settings.smtp_url is None:
            return None
        return cls(SmtpServer.parse(settings.smtp_url.get_secret_value()), settings.smtp_from)

    async def send(self, to: str, subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = one_line(subject)
        message.set_content(body)
        server = self.server
        try:
            await aiosmtplib.send(
                message,
                hostname=server.host,
                port=server.port,
                use_tls=server.tls,
                username=server.username,
                password=server.password,
                timeout=SEND_TIMEOUT,
            )
        except (aiosmtplib.SMTPException, OSError) as error:
            # The server's words may quote the address; the link never reaches the log.
            reason = type(error).__name__
            raise Unavailable(f"the mail to {to} could not be sent: {reason}") from None
