"""Delivery backends behind one interface; ``get_backend()`` returns the one selected by settings."""

from django.utils.module_loading import import_string

from newsletter.conf import conf

from .base import BatchInterrupted, DeliveryBackend, DeliveryResult, Outcome, OutgoingMessage

BACKENDS = {
    "smtp": "newsletter.backends.smtp.SMTPBackend",
    "mailchimp": "newsletter.backends.mailchimp.MailchimpBackend",
}

__all__ = ["BatchInterrupted", "DeliveryBackend", "DeliveryResult", "Outcome", "OutgoingMessage", "get_backend"]


def get_backend(name: str | None = None) -> DeliveryBackend:
    """The delivery backend named by ``NEWSLETTER_BACKEND`` ("smtp" or "mailchimp", or a dotted path)."""
    name = name or conf.NEWSLETTER_BACKEND
    return import_string(BACKENDS.get(name, name))()
