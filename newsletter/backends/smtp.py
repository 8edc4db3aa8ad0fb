"""SMTP delivery through Django's email backend (so anymail providers plug in the same way).

One connection is opened per batch and reused for every message in it. smtplib resets the SMTP
transaction after a refusal, so one refused recipient does not spoil the rest of the batch.
"""

from __future__ import annotations

import contextlib
import smtplib
from collections.abc import Iterable

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection

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
        self.email_backend = email_backend or getattr(settings, "NEWSLETTER_EMAIL_BACKEND", None) or None
        self.connection_kwargs = connection_kwargs

    def build_email(self, message: OutgoingMessage, connection) -> EmailMultiAlternatives:
        """The Django email object for one outgoing message."""
        email = EmailMultiAlternatives(
            subject=message.subject,
            body=message.text,
            from_email=message.from_email,
            to=[message.to],
            headers=dict(message.headers),
            reply_to=list(message.reply_to),
            connection=connection,
        )
        if message.html:
            email.attach_alternative(message.html, "text/html")
        return email

    def deliver_batch(self, messages: Iterable[OutgoingMessage], on_result: ResultCallback) -> None:
        try:
            connection = get_connection(self.email_backend, fail_silently=False, **self.connection_kwargs)
            connection.open()
        except (OSError, smtplib.SMTPException) as exc:
            raise BatchInterrupted(f"cannot connect: {exc}") from exc
        try:
            for message in messages:
                try:
                    connection.send_messages([self.build_email(message, connection)])
                except smtplib.SMTPException as exc:
                    classified = classify_smtp_error(exc, message.to)
                    if classified is None:
                        raise BatchInterrupted(f"connection lost: {exc}") from exc
                    outcome, detail = classified
                    on_result(DeliveryResult(message.delivery_id, outcome, detail))
                    continue
                except OSError as exc:  # refused, reset, timed out
                    raise BatchInterrupted(f"connection lost: {exc}") from exc
                on_result(DeliveryResult(message.delivery_id, Outcome.SENT))
        finally:
            # The server may already have dropped us; nothing is left to send on this connection.
            with contextlib.suppress(OSError, smtplib.SMTPException):
                connection.close()
