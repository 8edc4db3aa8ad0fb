"""List headers for every newsletter email (RFC 2369 List-Unsubscribe, RFC 8058 one-click, RFC 2919 List-Id).

The sending work calls :func:`subscriber_list_headers` (or :func:`list_headers` with a prepared URL) for each
recipient, so every newsletter message carries a personal one-click unsubscribe link.
"""

from __future__ import annotations

from email.utils import parseaddr
from urllib.parse import quote, urlsplit

from django.conf import settings

ONE_CLICK = "List-Unsubscribe=One-Click"


def list_id() -> str:
    """The List-Id value: ``"<site> newsletter" <newsletter.host>`` (or ``NEWSLETTER_LIST_ID`` if set)."""
    label = getattr(settings, "NEWSLETTER_LIST_ID", "") or f"newsletter.{urlsplit(settings.SITE_URL).hostname}"
    description = f"{settings.WAGTAIL_SITE_NAME} newsletter".replace('"', "").replace("\\", "")
    return f'"{description}" <{label}>'


def unsubscribe_mailto() -> str:
    """The mailbox that receives mailto unsubscribes: ``NEWSLETTER_UNSUBSCRIBE_MAILTO`` or the sender's address."""
    address = getattr(settings, "NEWSLETTER_UNSUBSCRIBE_MAILTO", "")
    if not address:
        sender = getattr(settings, "NEWSLETTER_FROM_EMAIL", "") or settings.DEFAULT_FROM_EMAIL
        address = parseaddr(sender)[1]
    return address


def list_headers(unsubscribe_url: str) -> dict[str, str]:
    """Headers for one recipient, given that recipient's absolute one-click unsubscribe URL."""
    links = [f"<{unsubscribe_url}>"]
    mailbox = unsubscribe_mailto()
    if mailbox:
        links.append(f"<mailto:{quote(mailbox, safe='@')}?subject=unsubscribe>")
    return {
        "List-Unsubscribe": ", ".join(links),
        "List-Unsubscribe-Post": ONE_CLICK,
        "List-Id": list_id(),
    }


def subscriber_list_headers(subscriber) -> dict[str, str]:
    """The list headers for ``subscriber`` (a fresh signed unsubscribe link)."""
    from newsletter.services.tokens import unsubscribe_url

    return list_headers(unsubscribe_url(subscriber))
