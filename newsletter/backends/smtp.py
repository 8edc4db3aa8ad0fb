"""SMTP delivery through Django's email backend (so anymail providers plug in the same way).

One connection is opened per batch and reused for every message in it. smtplib resets the SMTP
transaction after a refusal, so one refused recipient does not spoil the rest of the batch.

With Django's own SMTP backend, messages are assembled directly as MIME bytes (headers that are the same
for the whole batch encoded once, bodies quoted-printable) and handed to its smtplib connection: building a
``email.message`` tree per recipient would cost more than sending it. Any other email backend (anymail,
console, locmem) gets ordinary Django email objects.
"""

from __future__ import annotations

import binascii
import contextlib
import functools
import re
import smtplib
import time
import uuid
from collections.abc import Callable, Iterable
from email.header import Header
from email.utils import formataddr, formatdate, parseaddr

from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.smtp import EmailBackend as DjangoSMTPBackend
from django.core.mail.utils import DNS_NAME

from anymail.exceptions import AnymailError, AnymailInvalidAddress, AnymailRecipientsRefused

from newsletter.conf import conf

from .base import BatchInterrupted, DeliveryBackend, DeliveryResult, Outcome, OutgoingMessage, ResultCallback


def classify_smtp_error(exc: smtplib.SMTPException, recipient: str) -> tuple[Outcome, str] | None:
    """Map an SMTP error for one message to an outcome; None means the connection itself is gone."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, message = exc.recipients.get(recipient, next(iter(exc.recipients.values()), (450, b"")))
        return _by_code(code, message)
    if isinstance(exc, smtplib.SMTPResponseException):
        return _by_code(exc.smtp_code, exc.smtp_error)
    return None  # no answer about this message (SMTPServerDisconnected and the like): the connection is gone


def _by_code(code: int, message) -> tuple[Outcome, str]:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
    outcome = Outcome.PERMANENT if 500 <= int(code) < 600 else Outcome.TEMPORARY
    return outcome, f"{code} {text}".strip()


class SMTPBackend(DeliveryBackend):
    """Deliver each message over Django's configured email connection."""

    name = "smtp"
    per_recipient = True

    def __init__(self, email_backend: str | None = None, **connection_kwargs):
        self.email_backend = email_backend or conf.NEWSLETTER_EMAIL_BACKEND or None
        self.connection_kwargs = connection_kwargs

    def build_email(self, message: OutgoingMessage, connection) -> EmailMultiAlternatives:
        """The Django email object for one outgoing message.

        Django's SMTP backend uses ``from_email`` as the envelope sender, so the delivery's return path goes
        there and the From header stays the newsletter's sender. A provider's API backend (anymail) is given the
        return-path token as metadata instead: its tracking webhooks echo it back with each event.
        """
        headers, from_email, metadata = _sender_fields(message, _is_anymail(connection))
        email = EmailMultiAlternatives(
            subject=message.subject,
            body=message.text,
            from_email=from_email,
            to=[message.to],
            headers=headers,
            reply_to=list(message.reply_to),
            connection=connection,
        )
        if metadata:
            email.metadata = metadata
        if message.html:
            email.attach_alternative(message.html, "text/html")
        return email

    def deliver_batch(self, messages: Iterable[OutgoingMessage], on_result: ResultCallback) -> None:
        connection = self._open_connection()
        send = functools.partial(self._send, connection=connection, assembler=_assembler_for(connection))
        try:
            for message in messages:
                on_result(_delivery_result(message, send))
        finally:
            # The server may already have dropped us; nothing is left to send on this connection.
            with contextlib.suppress(OSError, smtplib.SMTPException):
                connection.close()

    def _open_connection(self):
        try:
            connection = get_connection(self.email_backend, fail_silently=False, **self.connection_kwargs)
            connection.open()
        except (OSError, smtplib.SMTPException) as exc:
            raise BatchInterrupted(f"cannot connect: {exc}") from exc
        return connection

    def _send(self, message: OutgoingMessage, connection, assembler: MimeAssembler | None) -> str:
        """Hand one message to the connection: as assembled MIME bytes over Django's raw SMTP connection when it
        can be, else as a Django email. Returns a provider API's refusal of the recipient, or ""."""
        if assembler is not None and assembler.can_assemble(message):
            send_one(connection.connection, assembler.envelope_sender(message), message.to,
                     assembler.assemble(message))
            return ""
        email = self.build_email(message, connection)
        connection.send_messages([email])
        return _provider_refusal(email, message.to)


def _assembler_for(connection) -> MimeAssembler | None:
    """A MIME assembler when the connection is Django's own SMTP one (its smtplib connection takes bytes)."""
    if isinstance(connection, DjangoSMTPBackend) and connection.connection is not None:
        return MimeAssembler()
    return None


def _delivery_result(message: OutgoingMessage, send: Callable[[OutgoingMessage], str]) -> DeliveryResult:
    """Send one message (``send`` returns a provider's refusal of the recipient, or ""): its outcome, or
    BatchInterrupted when the connection or the provider's API is gone."""
    try:
        refused = send(message)
    except smtplib.SMTPException as exc:  # before OSError, which it subclasses
        return _smtp_failure(exc, message)
    except OSError as exc:  # refused, reset, timed out
        raise BatchInterrupted(f"connection lost: {exc}", message.delivery_id) from exc
    except AnymailRecipientsRefused as exc:  # a provider's API refused this recipient
        return DeliveryResult(message.delivery_id, Outcome.PERMANENT,
                              f"5.1.0 provider refused the recipient: {exc}"[:500])
    except AnymailInvalidAddress as exc:
        return DeliveryResult(message.delivery_id, Outcome.PERMANENT, f"5.1.3 {exc}"[:500])
    except AnymailError as exc:  # the provider's API failed or is unreachable: retry later
        raise BatchInterrupted(f"provider error: {exc}"[:500], message.delivery_id) from exc
    if refused:
        return DeliveryResult(message.delivery_id, Outcome.PERMANENT, refused)
    return DeliveryResult(message.delivery_id, Outcome.SENT)


def _smtp_failure(exc: smtplib.SMTPException, message: OutgoingMessage) -> DeliveryResult:
    """The recipient's outcome for an SMTP error; BatchInterrupted when the connection itself is gone."""
    classified = classify_smtp_error(exc, message.to)
    if classified is None:
        raise BatchInterrupted(f"connection lost: {exc}", message.delivery_id) from exc
    return DeliveryResult(message.delivery_id, *classified)


def _sender_fields(message: OutgoingMessage, anymail: bool) -> tuple[dict, str, dict | None]:
    """Headers, ``from_email`` and provider metadata that carry the message's return path (see ``build_email``)."""
    headers = dict(message.headers)
    if not message.envelope_sender:
        return headers, message.from_email, None
    if anymail:
        token = message.envelope_sender.partition("@")[0].rpartition("+")[2]
        return headers, message.from_email, {"return_path": token}
    return {**headers, "From": message.from_email}, message.envelope_sender, None


def _is_anymail(connection) -> bool:
    return type(connection).__module__.startswith("anymail.")


def _provider_refusal(email, recipient: str) -> str:
    """A provider API's refusal of the recipient (anymail reports "rejected" or "invalid" per recipient), or ""."""
    status = getattr(email, "anymail_status", None)
    recipients = getattr(status, "recipients", None) or {}
    found = recipients.get(recipient) or next(iter(recipients.values()), None)
    return _PROVIDER_REFUSALS.get(getattr(found, "status", None), "")


# anymail's per-recipient statuses that refuse the recipient, and how a delivery records them.
_PROVIDER_REFUSALS = {"invalid": "5.1.3 provider refused the recipient: invalid address",
                      "rejected": "5.7.1 provider refused the recipient: rejected"}


_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+")


def send_one(smtp: smtplib.SMTP, sender: str, recipient: str, payload: bytes) -> None:
    """``smtp.sendmail(sender, [recipient], payload)`` for one recipient, without re-parsing plain addresses.

    smtplib parses every address again for each command; for a newsletter that is a noticeable share of a
    worker's time. Addresses that are not plain ``local@domain`` go through ``sendmail`` unchanged. Errors are
    the ones ``sendmail`` raises, and the transaction is reset after a refusal in the same way.
    """
    if not (_PLAIN_ADDRESS.fullmatch(sender) and _PLAIN_ADDRESS.fullmatch(recipient)):
        smtp.sendmail(sender, [recipient], payload)
        return
    smtp.ehlo_or_helo_if_needed()
    size = f" size={len(payload)}" if smtp.does_esmtp and smtp.has_extn("size") else ""
    smtp.putcmd("mail", f"FROM:<{sender}>{size}")
    code, response = smtp.getreply()
    _expect(smtp, code, (250,), smtplib.SMTPSenderRefused(code, response, sender))
    smtp.putcmd("rcpt", f"TO:<{recipient}>")
    code, response = smtp.getreply()
    _expect(smtp, code, (250, 251), smtplib.SMTPRecipientsRefused({recipient: (code, response)}))
    code, response = smtp.data(payload)
    _expect(smtp, code, (250,), smtplib.SMTPDataError(code, response))


def _expect(smtp: smtplib.SMTP, code: int, accepted: tuple[int, ...], refusal: smtplib.SMTPException) -> None:
    """Raise ``refusal`` (after ending the transaction) unless the server's reply code is an accepted one."""
    if code not in accepted:
        _end_transaction(smtp, code)
        raise refusal


def _end_transaction(smtp: smtplib.SMTP, code: int) -> None:
    # As smtplib does: 421 means the server is closing the connection; anything else resets the transaction.
    if code == 421:
        smtp.close()
    else:
        smtp._rset()


class MimeAssembler:
    """Builds multipart/alternative MIME bytes for newsletter messages, caching what a batch shares."""

    def __init__(self):
        self._header_cache: dict[tuple, bytes] = {}
        # Message-IDs and boundaries: one random prefix per batch and a counter (reading the system's random
        # source twice per message costs more than assembling the message).
        self._prefix = uuid.uuid4().hex
        self._count = 0
        self._date = ("", 0)

    @staticmethod
    def can_assemble(message: OutgoingMessage) -> bool:
        """Plain ASCII recipient and header values (anything else goes through Django's email classes)."""
        return all(map(_is_plain_header_value, [message.to, *message.headers.values()]))

    def envelope_sender(self, message: OutgoingMessage) -> str:
        return message.envelope_sender or _address_of(message.from_email)

    def _shared_headers(self, message: OutgoingMessage) -> bytes:
        key = (message.from_email, message.subject, message.reply_to)
        if key not in self._header_cache:
            self._header_cache[key] = _shared_header_lines(message)
        return self._header_cache[key]

    def _now(self) -> str:
        second = int(time.time())
        if self._date[1] != second:
            self._date = (formatdate(second, localtime=False), second)
        return self._date[0]

    def assemble(self, message: OutgoingMessage) -> bytes:
        """The full message as bytes with CRLF line endings, ready for smtplib.sendmail."""
        self._count += 1
        unique = f"{self._prefix}.{self._count}"
        boundary = f"=_portal_{unique}"
        personal = [
            f"To: {message.to}",
            f"Date: {self._now()}",
            f"Message-ID: <{unique}@{DNS_NAME}>",
            *(f"{name}: {value}" for name, value in message.headers.items()),
            f'Content-Type: multipart/alternative; boundary="{boundary}"',
        ]
        parts = [self._shared_headers(message), ("\r\n".join(personal) + "\r\n\r\n").encode("ascii"),
                 _body_part(boundary, "plain", message.text)]
        if message.html:
            parts.append(_body_part(boundary, "html", message.html))
        parts.append(f"--{boundary}--\r\n".encode("ascii"))
        return b"".join(parts)


def _is_plain_header_value(value: str) -> bool:
    """ASCII on one line: written into the message as it is."""
    return value.isascii() and "\n" not in value and "\r" not in value


@functools.lru_cache(maxsize=64)
def _address_of(from_email: str) -> str:
    """The address in a From value ("Name <address>")."""
    return parseaddr(from_email)[1]


def _shared_header_lines(message: OutgoingMessage) -> bytes:
    """The headers every message with this sender, subject and reply address shares."""
    subject = message.subject if message.subject.isascii() else Header(message.subject, "utf-8").encode()
    lines = [f"From: {_from_header(message.from_email)}", f"Subject: {subject}", "MIME-Version: 1.0"]
    if message.reply_to:
        lines.append(f"Reply-To: {', '.join(message.reply_to)}")
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


def _from_header(from_email: str) -> str:
    """The From header's value: a non-ASCII display name encoded (RFC 2047), the address as it is."""
    name, address = parseaddr(from_email)
    if not name:
        return address
    if name.isascii():
        return formataddr((name, address))
    return f"{Header(name, 'utf-8').encode()} <{address}>"


def _body_part(boundary: str, subtype: str, body: str) -> bytes:
    """One part of the multipart/alternative body, UTF-8 in quoted-printable."""
    return (
        f"--{boundary}\r\nContent-Type: text/{subtype}; charset=\"utf-8\"\r\n"
        f"Content-Transfer-Encoding: quoted-printable\r\n\r\n".encode("ascii")
        + _quoted_printable(body) + b"\r\n"
    )


def _quoted_printable(text: str) -> bytes:
    """UTF-8 text as quoted-printable with CRLF line endings (lines stay under SMTP's length limit)."""
    encoded = binascii.b2a_qp(text.replace("\r\n", "\n").encode("utf-8"), istext=True)
    return encoded.replace(b"\n", b"\r\n")
