"""Providers' tracking webhooks, through django-anymail: bounces, complaints and unsubscribes from an email
service provider reach the same bounces service as the bounce mailbox.

Anymail receives each provider's webhook at ``/newsletter/webhooks/<provider>/tracking/`` (Amazon SES via SNS,
Brevo, MailerSend, Mailgun, Mailjet, Mailtrap, Mandrill, Postal, Postmark, Resend, SendGrid, SparkPost,
Unisender Go), checks it the way that provider allows (HTTP basic auth with ``ANYMAIL_WEBHOOK_SECRET``, and
the provider's signature where it signs: Mailgun, Mandrill, Postal, MailerSend, Resend, SendGrid's signed
events, Unisender Go), and sends a normalised event; :func:`on_tracking_event` turns it into a report.

A provider's webhook URL answers 404 until it is secured: neither a basic-auth secret nor that provider's
signing key configured means nobody could tell a forged event from a real one.
"""

from __future__ import annotations

import logging
import warnings

from django.core.exceptions import ImproperlyConfigured
from django.http import Http404, HttpResponseBadRequest
from django.urls import URLPattern
from django.views.decorators.csrf import csrf_exempt

from anymail.exceptions import AnymailConfigurationError, AnymailError

from newsletter.services import bounces, inbound_mail, tokens
from newsletter.services.bounces import Kind, Report, Source

logger = logging.getLogger(__name__)

# Anymail's reject reasons (the provider would not even try this recipient) → what they say about the address.
_REJECTED = {"invalid": Kind.HARD_BOUNCE, "bounced": Kind.HARD_BOUNCE, "spam": Kind.COMPLAINT,
             "unsubscribed": Kind.UNSUBSCRIBE}


def report_for(event, esp_name: str) -> Report | None:
    """The report an anymail tracking event makes, or None for events that change nothing (opens, deliveries)."""
    event_type = getattr(event, "event_type", "")
    detail = _words(event.mta_response, event.description)
    kind = _kind_of(event, event_type, detail)
    if kind is None:
        return None
    delivery_id = inbound_mail.verified_delivery(_return_path_tokens(event.metadata))
    recipient = event.recipient or ""
    if delivery_id is None and not recipient:
        return None
    return Report(
        kind=kind, source=Source.WEBHOOK,
        key=f"{esp_name.lower().replace(' ', '-')}:{_identity(event, event_type, recipient)}",
        **inbound_mail.named_by(delivery_id, recipient),
        status_code=bounces.status_code(detail), detail=f"{esp_name}: {event_type} {detail}".strip(),
    )


def _identity(event, event_type: str, recipient: str) -> str:
    """The event's id for this recipient (one provider notification may name several, as Amazon SES's do)."""
    return f"{event.event_id or f'{event.message_id}:{event_type}'}:{recipient.lower()}"


def _words(*parts) -> str:
    """The parts that are set, space-separated."""
    return " ".join(str(part) for part in parts if part)


def _kind_of(event, event_type: str, detail: str) -> str | None:
    """What an event says about the address; None for events that change nothing."""
    if event_type == "bounced":
        return _bounce_kind(event, detail)
    if event_type == "rejected":
        return _REJECTED.get(event.reject_reason, Kind.SOFT_BOUNCE)
    return {"complained": Kind.COMPLAINT, "unsubscribed": Kind.UNSUBSCRIBE}.get(event_type)


def _bounce_kind(event, detail: str) -> str:
    """A bounce by its status code; without one, by whether the provider calls it temporary."""
    return bounces.classify(bounces.status_code(detail), permanent=not _temporary(event))


_TEMPORARY = ("transient", "soft", "temporary", "mailbox full", "mailboxfull")
_SPARKPOST_TEMPORARY = {"20", "21", "22", "23", "24", "70"}


def _temporary(event) -> bool:
    """Whether the provider calls the bounce temporary (SES "Transient", Postmark "SoftBounce", SparkPost 20-24)."""
    raw = event.esp_event if isinstance(event.esp_event, dict) else {}
    text = _words(event.description, raw.get("Type"), raw.get("bounceType")).lower()
    return any(word in text for word in _TEMPORARY) or _sparkpost_bounce_class(raw) in _SPARKPOST_TEMPORARY


def _sparkpost_bounce_class(raw: dict) -> str:
    """SparkPost's bounce class (``msys.message_event.bounce_class``); "" in other providers' events."""
    msys = raw.get("msys")
    if not isinstance(msys, dict):
        return ""
    return str((msys.get("message_event", {}) or {}).get("bounce_class", ""))


def _return_path_tokens(metadata: dict) -> list[tuple[str, int, str]]:
    """The tokens in the return path the sending backend put into the message's metadata."""
    value = metadata.get("return_path") if isinstance(metadata, dict) else None
    return tokens.find_address_tokens(str(value or ""))


def on_tracking_event(sender, event, esp_name, **kwargs) -> None:
    """anymail's ``tracking`` signal: record bounces, complaints and unsubscribes."""
    report = report_for(event, esp_name)
    if report is not None:
        outcome = bounces.record(report)
        logger.info("%s webhook: %s %s", esp_name, report.kind, outcome)


def _secured_view(view_class):
    """Anymail's view, answering 404 while it is not secured (no basic auth and no signing key)."""

    @csrf_exempt
    def view(request, *args, **kwargs):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # anymail warns about insecure webhooks; we refuse them instead
                instance = view_class()
        except ImproperlyConfigured as exc:  # e.g. Mailgun without its signing key
            raise Http404("This provider's webhook is not configured.") from exc
        if instance.warn_if_no_basic_auth and not instance.basic_auth:
            raise Http404("This provider's webhook is not secured: set ANYMAIL_WEBHOOK_SECRET.")
        instance.setup(request, *args, **kwargs)
        try:
            return instance.dispatch(request, *args, **kwargs)
        except (ValueError, KeyError, TypeError, AttributeError, AnymailError, AnymailConfigurationError) as exc:
            # A body anymail cannot parse (not JSON, fields missing, an inbound event posted to the tracking URL):
            # the sender's mistake, answered as one. (Signature and auth failures are answered 400 by anymail.)
            logger.warning("%s webhook: unreadable body (%s)", view_class.esp_name, type(exc).__name__)
            return HttpResponseBadRequest("This webhook body cannot be read.")

    return view


def tracking_urlpatterns() -> list[URLPattern]:
    """Anymail's tracking webhook URLs (not its inbound-mail ones), each behind :func:`_secured_view`."""
    from anymail import urls as anymail_urls

    patterns = []
    for pattern in anymail_urls.urlpatterns:
        name = pattern.name
        if not name.endswith("_tracking_webhook") or name.startswith("sendinblue"):
            continue  # inbound mail endpoints are not ours; "sendinblue" is Brevo's old name
        view_class = pattern.callback.view_class
        patterns.append(URLPattern(pattern.pattern, _secured_view(view_class), name=name))
    return patterns
