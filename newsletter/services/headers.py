"""List headers for every newsletter email (RFC 2369 List-Unsubscribe, RFC 8058 one-click, RFC 2919 List-Id).

The sending work calls :func:`subscriber_list_headers` (or :func:`list_headers` with a prepared URL) for each
recipient, so every newsletter message carries a personal one-click unsubscribe link.
"""

from __future__ import annotations

import functools
from email.utils import parseaddr
from urllib.parse import quote, urlsplit

from django.conf import settings

from newsletter.conf import conf

ONE_CLICK = "List-Unsubscribe=One-Click"


def list_id() -> str:
    """The List-Id value: ``"<site> newsletter" <newsletter.host>`` (or ``NEWSLETTER_LIST_ID`` if set)."""
    label = conf.NEWSLETTER_LIST_ID or f"newsletter.{urlsplit(settings.SITE_URL).hostname}"
    description = f"{settings.WAGTAIL_SITE_NAME} newsletter".replace('"', "").replace("\\", "")
    return f'"{description}" <{label}>'


@functools.lru_cache(maxsize=16)
def _address(value: str) -> str:
    # Parsed once per setting's value: every message asks for these addresses several times.
    return parseaddr(value)[1]


def bounce_address() -> str:
    """The mailbox that bounces come back to (``NEWSLETTER_BOUNCE_ADDRESS``); empty: no return-path tokens."""
    return _address(conf.NEWSLETTER_BOUNCE_ADDRESS or "")


def tagged(address: str, token: str) -> str:
    """``local+token@domain`` (sub-addressing, as Postfix's ``recipient_delimiter = +`` and Dovecot deliver it)."""
    local, _, domain = address.rpartition("@")
    return f"{local}+{token}@{domain}" if local and domain else address


def return_path(delivery_id: int) -> str:
    """The envelope sender for one delivery: ``bounces+<token>@domain`` (VERP), or "" without a bounce address.

    A bounce for the message comes back to this address, and the token names the delivery (so the subscriber)
    without guessing from the bounce's text.
    """
    from newsletter.services.tokens import return_path_token

    address = bounce_address()
    if not address or not delivery_id:
        return ""
    return tagged(address, return_path_token(delivery_id))


def unsubscribe_mailto() -> str:
    """The mailbox that receives mailto unsubscribes: ``NEWSLETTER_UNSUBSCRIBE_MAILTO``, else the bounce mailbox
    (``NEWSLETTER_BOUNCE_ADDRESS``), else the sender's address."""
    address = conf.NEWSLETTER_UNSUBSCRIBE_MAILTO or bounce_address()
    if not address:
        sender = conf.NEWSLETTER_FROM_EMAIL or settings.DEFAULT_FROM_EMAIL
        address = _address(sender)
    return address


def _mailbox_is_ours() -> bool:
    """Whether the mailto address is a mailbox the portal reads (so sub-addressed tokens reach it)."""
    return bool(conf.NEWSLETTER_UNSUBSCRIBE_MAILTO or bounce_address())


def list_headers(unsubscribe_url: str, mailto_token: str = "") -> dict[str, str]:
    """Headers for one recipient, given that recipient's absolute one-click unsubscribe URL.

    With ``mailto_token`` the mailto link names the subscriber twice: in the address (``unsubscribe+<token>@…``,
    when the mailbox is one the portal reads) and in the subject, so a mail client that drops either still works.

    RFC 8058 one-click needs an https URL: a site on plain http (the demo on 127.0.0.1) offers only the mailto
    address, and does not claim one-click. The unsubscribe link in the email's body works either way.
    """
    one_click = unsubscribe_url.startswith("https://")
    links = [f"<{unsubscribe_url}>"] if one_click else []
    mailbox = unsubscribe_mailto()
    if mailbox:
        links.append(_mailto_link(mailbox, mailto_token))
    headers = {"List-Unsubscribe": ", ".join(links)} if links else {}
    if one_click:
        headers["List-Unsubscribe-Post"] = ONE_CLICK
    headers["List-Id"] = list_id()
    return headers


def _mailto_link(mailbox: str, mailto_token: str) -> str:
    """The mailto unsubscribe link; a token goes in the subject, and in the address when the mailbox is ours."""
    if not mailto_token:
        return f"<mailto:{quote(mailbox, safe='@+')}?subject=unsubscribe>"
    if _mailbox_is_ours():
        mailbox = tagged(mailbox, mailto_token)
    return f"<mailto:{quote(mailbox, safe='@+')}?subject=unsubscribe%20{mailto_token}>"


def subscriber_list_headers(subscriber) -> dict[str, str]:
    """The list headers for ``subscriber`` (a fresh signed unsubscribe link)."""
    from newsletter.services.tokens import mailto_unsubscribe_token, unsubscribe_url

    return list_headers(unsubscribe_url(subscriber), mailto_unsubscribe_token(subscriber))
