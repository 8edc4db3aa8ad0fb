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
import re
import smtplib
import time
import uuid
from collections.abc import Iterable
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
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return None
    if isinstance(exc, smtplib.SMTPResponseException):
        return _by_code(exc.smtp_code, exc.smtp_error)
    return None


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
        headers = dict(message.headers)
        from_email = message.from_email
        metadata = None
        if message.envelope_sender:
            if _is_anymail(connection):
                metadata = {"return_path": message.envelope_sender.partition("@")[0].rpartition("+")[2]}
            else:
                headers["From"] = message.from_email
                from_email = message.envelope_sender
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
        try:
            connection = get_connection(self.email_backend, fail_silently=False, **self.connection_kwargs)
            connection.open()
        except (OSError, smtplib.SMTPException) as exc:
            raise BatchInterrupted(f"cannot connect: {exc}") from exc
        raw_smtp = isinstance(connection, DjangoSMTPBackend) and connection.connection is not None
        assembler = MimeAssembler()
        try:
            for message in messages:
                try:
                    if raw_smtp and assembler.can_assemble(message):
                        send_one(connection.connection, assembler.envelope_sender(message), message.to,
                                 assembler.assemble(message))
                    else:
                        email = self.build_email(message, connection)
                        connection.send_messages([email])
                        refused = _provider_refusal(email, message.to)
                        if refused:
                            on_result(DeliveryResult(message.delivery_id, Outcome.PERMANENT, refused))
                            continue
                except smtplib.SMTPException as exc:
                    classified = classify_smtp_error(exc, message.to)
                    if classified is None:
                        raise BatchInterrupted(f"connection lost: {exc}", message.delivery_id) from exc
                    outcome, detail = classified
                    on_result(DeliveryResult(message.delivery_id, outcome, detail))
                    continue
                except OSError as exc:  # refused, reset, timed out
                    raise BatchInterrupted(f"connection lost: {exc}", message.delivery_id) from exc
                except AnymailRecipientsRefused as exc:  # a provider's API refused this recipient
                    on_result(DeliveryResult(message.delivery_id, Outcome.PERMANENT,
                                             f"5.1.0 provider refused the recipient: {exc}"[:500]))
                    continue
                except AnymailInvalidAddress as exc:
                    on_result(DeliveryResult(message.delivery_id, Outcome.PERMANENT, f"5.1.3 {exc}"[:500]))
                    continue
                except AnymailError as exc:  # the provider's API failed or is unreachable: retry later
                    raise BatchInterrupted(f"provider error: {exc}"[:500], message.delivery_id) from exc
                on_result(DeliveryResult(message.delivery_id, Outcome.SENT))
        finally:
            # The server may already have dropped us; nothing is left to send on this connection.
            with contextlib.suppress(OSError, smtplib.SMTPException):
                connection.close()


def _is_anymail(connection) -> bool:
    return type(connection).__module__.startswith("anymail.")


def _provider_refusal(email, recipient: str) -> str:
    """A provider API's refusal of the recipient (anymail reports "rejected" or "invalid" per recipient), or ""."""
    status = getattr(email, "anymail_status", None)
    recipients = getattr(status, "recipients", None) or {}
    found = recipients.get(recipient) or next(iter(recipients.values()), None)
    if found is not None and found.status == "invalid":
        return "5.1.3 provider refused the recipient: invalid address"
    if found is not None and found.status == "rejected":
        return "5.7.1 provider refused the recipient: rejected"
    return ""


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
    if code != 250:
        _end_transaction(smtp, code)
        raise smtplib.SMTPSenderRefused(code, response, sender)
    smtp.putcmd("rcpt", f"TO:<{recipient}>")
    code, response = smtp.getreply()
    if code not in (250, 251):
        _end_transaction(smtp, code)
        raise smtplib.SMTPRecipientsRefused({recipient: (code, response)})
    code, response = smtp.data(payload)
    if code != 250:
        _end_transaction(smtp, code)
        raise smtplib.SMTPDataError(code, response)


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
        self._senders: dict[str, str] = {}
        # Message-IDs and boundaries: one random prefix per batch and a counter (reading the system's random
        # source twice per message costs more than assembling the message).
        self._prefix = uuid.uuid4().hex
        self._count = 0
        self._date = ("", 0)

    @staticmethod
    def can_assemble(message: OutgoingMessage) -> bool:
        """Plain ASCII recipient and header values (anything else goes through Django's email classes)."""
        values = [message.to, *message.headers.values()]
        return all(value.isascii() and "\n" not in value and "\r" not in value for value in values)

    def envelope_sender(self, message: OutgoingMessage) -> str:
        if message.envelope_sender:
            return message.envelope_sender
        sender = self._senders.get(message.from_email)
        if sender is None:
            sender = self._senders[message.from_email] = parseaddr(message.from_email)[1]
        return sender

    def _shared_headers(self, message: OutgoingMessage) -> bytes:
        key = (message.from_email, message.subject, message.reply_to)
        cached = self._header_cache.get(key)
        if cached is None:
            name, address = parseaddr(message.from_email)
            if not name:
                sender = address
            elif name.isascii():
                sender = formataddr((name, address))
            else:
                sender = f"{Header(name, 'utf-8').encode()} <{address}>"
            subject = message.subject if message.subject.isascii() else Header(message.subject, "utf-8").encode()
            lines = [f"From: {sender}", f"Subject: {subject}", "MIME-Version: 1.0"]
            if message.reply_to:
                lines.append(f"Reply-To: {', '.join(message.reply_to)}")
            cached = ("\r\n".join(lines) + "\r\n").encode("ascii")
            self._header_cache[key] = cached
        return cached

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
        parts = [self._shared_headers(message), ("\r\n".join(personal) + "\r\n\r\n").encode("ascii")]
        for subtype, body in (("plain", message.text), ("html", message.html)):
            if subtype == "html" and not body:
                continue
            parts.append(
                f"--{boundary}\r\nContent-Type: text/{subtype}; charset=\"utf-8\"\r\n"
                f"Content-Transfer-Encoding: quoted-printable\r\n\r\n".encode("ascii")
            )
            parts.append(_quoted_printable(body))
            parts.append(b"\r\n")
        parts.append(f"--{boundary}--\r\n".encode("ascii"))
        return b"".join(parts)


def _quoted_printable(text: str) -> bytes:
    """UTF-8 text as quoted-printable with CRLF line endings (lines stay under SMTP's length limit)."""
    encoded = binascii.b2a_qp(text.replace("\r\n", "\n").encode("utf-8"), istext=True)
    return encoded.replace(b"\n", b"\r\n")
