"""Engagement without surveillance: clicks counted per link of a send, never opens, never a person by default.

* **No open tracking.** Issues carry no tracking pixel or per-recipient image, and Mailchimp campaigns are
  created with open and click tracking off (``campaigns.TRACKING``).
* **Links.** When a send is prepared, every web link of the rendered issue becomes
  ``/newsletter/l/<link token>/<stamp>/``. The link token is signed and names only the send and the target URL,
  so it is the same for every recipient. The stamp is added per message: it carries the time the message was
  handed over (to tell a scanner's fetch within seconds of delivery from a reader's click) and, only for
  subscribers who turned on the click history (ticked in the preference centre, confirmed through a link
  emailed to the address), their id and link key. Someone they forward such a message to clicks in their name;
  rotating their links (``subscriptions.rotate_links``) or turning the history off ends that.
* **Counting.** A click adds one to the link's counter. HEAD requests, known link-scanner user agents and
  fetches within ``NEWSLETTER_CLICK_SCANNER_SECONDS`` of delivery are counted apart as scanner fetches.
  Nothing about the request (address, user agent, time) is stored for a click without a history.
* **Safety.** The redirect goes only to the URL inside a valid signature (no open redirect) and only to
  http(s); a changed, truncated or forged link is answered with a 400 page. The target page still asks the
  privacy gate: a forwarded members' link leads to the login page, not to the content.
"""

from __future__ import annotations

import functools
import hashlib
import html as html_lib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from newsletter.conf import conf
from newsletter.models import Delivery, LinkClicks, Send, Subscriber, SubscriberClick
from portal.core import fast_signing

LINK_SALT = "newsletter.click.link"
STAMP_SALT = "newsletter.click.stamp"
# Where each message's stamp goes in a tracked link (replaced per recipient, or removed for Mailchimp).
STAMP_SLOT = "%%CLICK_STAMP%%"
MAX_TOKEN_LENGTH = 4000

_LINK = re.compile(r'(<a\b[^>]*?\shref=")([^"]*)(")', re.IGNORECASE)
# Link checkers of mail filters and chat previews; extend with NEWSLETTER_CLICK_SCANNER_AGENTS (regex parts).
SCANNER_AGENTS = (
    r"bot\b", r"crawler", r"spider", r"scanner", r"preview", r"barracuda", r"mimecast", r"proofpoint",
    r"urldefense", r"symantec", r"messagelabs", r"trend ?micro", r"forcepoint", r"sophos", r"fortinet",
    r"safelinks", r"cisco", r"ironport", r"zscaler", r"headlesschrome", r"phantomjs", r"python-", r"curl/",
    r"wget", r"go-http-client", r"java/", r"okhttp", r"libwww", r"httpclient", r"facebookexternalhit",
    r"slackbot", r"whatsapp", r"skypeuripreview", r"googleimageproxy", r"yahoomailproxy",
)


class BadLink(Exception):
    """A click link that was changed, truncated or forged (answered with a 400 page)."""


@dataclass(frozen=True)
class Click:
    send_id: int
    url: str
    delivered_at: datetime | None
    subscriber_id: int | None = None
    subscriber_key: str | None = None


def scanner_seconds() -> int:
    return int(conf.NEWSLETTER_CLICK_SCANNER_SECONDS)


def _scanner_pattern() -> re.Pattern:
    extra = tuple(conf.NEWSLETTER_CLICK_SCANNER_AGENTS or ())
    return re.compile("|".join(SCANNER_AGENTS + extra), re.IGNORECASE)


def trackable(url: str) -> bool:
    """Web links only: not placeholders, merge tags, mailto: or links that are click links already."""
    if not url.lower().startswith(("http://", "https://")):
        return False
    return "/newsletter/l/" not in url and "%%" not in url and "*|" not in url


def link_token(send_id: int, url: str) -> str:
    return signing.Signer(salt=LINK_SALT).sign_object({"s": send_id, "u": url}, compress=True)


def link_url(send_id: int, url: str) -> str:
    """The absolute click link for ``url`` in send ``send_id``, with the slot for each message's stamp."""
    path = reverse("newsletter:click", kwargs={"token": link_token(send_id, url)})
    return f"{settings.SITE_URL}{path}{STAMP_SLOT}"


def track_links(html: str, send_id: int) -> str:
    """Every web link of a send's HTML through the counting redirect (the text part is made from this HTML)."""

    def replace(match: re.Match) -> str:
        url = html_lib.unescape(match.group(2)).strip()
        if not trackable(url):
            return match.group(0)
        return f"{match.group(1)}{html_lib.escape(link_url(send_id, url))}{match.group(3)}"

    return _LINK.sub(replace, html)


def stamp(subscriber, now: datetime | None = None) -> str:
    """One message's stamp: the time it is handed over, plus who, only if they opted in to a click history."""
    second = int((now or timezone.now()).timestamp())
    if _history_on(subscriber):
        payload = {"t": second, "p": subscriber.pk, "k": subscriber.token_key}
        return fast_signing.signer(STAMP_SALT).sign_object(payload) + "/"
    return _anonymous_stamp(second, settings.SECRET_KEY)


def _history_on(subscriber) -> bool:
    """Whether the subscriber (a saved one) turned on the click history, so their stamp names them."""
    return subscriber is not None and getattr(subscriber, "click_history", False) and bool(subscriber.pk)


@functools.lru_cache(maxsize=4)
def _anonymous_stamp(second: int, secret: str) -> str:
    # Everyone who did not opt in gets the same stamp within a second: signed once, not once per message.
    return fast_signing.signer(STAMP_SALT).sign_object({"t": second}) + "/"


def read(token: str, stamp_token: str | None = None) -> Click:
    """The send and target of a click link, with the stamp's delivery time and opted-in subscriber if any."""
    payload, extra = _unsigned(token, stamp_token)
    if not _is_web_url(payload["u"]):
        raise BadLink("not a web link")
    return Click(send_id=payload["s"], url=payload["u"], **_stamp_fields(extra))


def _is_web_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in {"http", "https"} and bool(parts.netloc) and not any(ch in url for ch in "\r\n\x00")


def _stamp_fields(extra: dict) -> dict:
    """A stamp's delivery time, subscriber id and key for ``Click``, each None when not of its type."""
    delivered, person, key = extra.get("t"), extra.get("p"), extra.get("k")
    return {
        "delivered_at": datetime.fromtimestamp(delivered, tz=UTC) if isinstance(delivered, int) else None,
        "subscriber_id": person if isinstance(person, int) and not isinstance(person, bool) else None,
        "subscriber_key": key if isinstance(key, str) else None,
    }


def _unsigned(token: str, stamp_token: str | None) -> tuple[dict, dict]:
    """The link's and the stamp's signed payloads; ``BadLink`` when too long, forged or not what we sign."""
    if len(token) > MAX_TOKEN_LENGTH or len(stamp_token or "") > 500:
        raise BadLink("too long")
    payload, extra = _unsign(token, stamp_token)
    if not (_is_link_payload(payload) and isinstance(extra, dict)):
        raise BadLink("bad payload")
    return payload, extra


def _unsign(token: str, stamp_token: str | None) -> tuple:
    try:
        payload = signing.Signer(salt=LINK_SALT).unsign_object(token)
        extra = signing.Signer(salt=STAMP_SALT).unsign_object(stamp_token) if stamp_token else {}
    except (signing.BadSignature, ValueError, TypeError, UnicodeError) as exc:
        raise BadLink("bad signature") from exc
    return payload, extra


def _is_link_payload(payload) -> bool:
    """What ``link_token`` signs: the send's id and the target URL."""
    return isinstance(payload, dict) and isinstance(payload.get("s"), int) and isinstance(payload.get("u"), str)


def _delivered_at(click: Click, send: Send) -> datetime | None:
    """When the message was delivered: its stamp, else (Mailchimp) the campaign's send time."""
    if click.delivered_at is not None:
        return click.delivered_at
    return send.campaign_send_time or send.started_at


def is_scanner(method: str, user_agent: str, delivered_at: datetime | None, now: datetime) -> bool:
    """A fetch by a link scanner rather than a reader: HEAD, a scanner's user agent, or seconds after delivery."""
    if method.upper() != "GET" or _is_scanner_agent(user_agent):
        return True
    return delivered_at is not None and now - delivered_at < timedelta(seconds=scanner_seconds())


def _is_scanner_agent(user_agent: str) -> bool:
    """No user agent at all, or a link scanner's."""
    return not user_agent.strip() or bool(_scanner_pattern().search(user_agent))


def _url_hash(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()


def _link_row(send_id: int, url: str) -> LinkClicks:
    digest = _url_hash(url)
    row = LinkClicks.objects.filter(send_id=send_id, url_hash=digest).first()
    if row is None:
        try:
            with transaction.atomic():
                row = LinkClicks.objects.create(send_id=send_id, url=url, url_hash=digest)
        except IntegrityError:  # a concurrent first click
            row = LinkClicks.objects.get(send_id=send_id, url_hash=digest)
    return row


def record(click: Click, *, method: str, user_agent: str, now: datetime | None = None) -> bool:
    """Count one fetch of a click link. Returns whether it counted as a reader's click (False: a scanner's).

    A link of a send that no longer exists is not counted (the redirect still works).
    """
    now = now or timezone.now()
    send = Send.objects.filter(pk=click.send_id).only("pk", "campaign_send_time", "started_at").first()
    if send is None:
        return False
    scanner = is_scanner(method, user_agent, _delivered_at(click, send), now)
    row = _link_row(send.pk, click.url)
    field = "scanner_hits" if scanner else "clicks"
    LinkClicks.objects.filter(pk=row.pk).update(**{field: F(field) + 1})
    if not scanner:
        _add_to_history(click, row, now)
    return not scanner


def _add_to_history(click: Click, row: LinkClicks, now: datetime) -> None:
    # Only someone who turned the history on (and whose links are current) gets a row with their name on it.
    if click.subscriber_id and Subscriber.objects.filter(
            pk=click.subscriber_id, token_key=click.subscriber_key, click_history=True).exists():
        SubscriberClick.objects.create(subscriber_id=click.subscriber_id, link=row, clicked_at=now)


# --- The per-subscriber history (the preference itself: ``subscriptions.set_click_history``) ----------------

def click_history(subscriber) -> list[dict]:
    """A subscriber's recorded clicks (for their data export)."""
    rows = SubscriberClick.objects.filter(subscriber=subscriber).select_related("link__send__issue")
    return [{"url": row.link.url, "issue": row.link.send.issue.title, "clicked_at": row.clicked_at.isoformat()}
            for row in rows]


# --- The send's report ---------------------------------------------------------------------------------------

def report(send: Send) -> dict:
    """Clicks per link, and what came back about the send: bounces, complaints and unsubscribes (portal's figures).

    Bounces and complaints are the reports recorded against this send's deliveries (``bounces.figures``);
    unsubscribes are recipients who have left since the send started, by any channel.
    """
    from newsletter.services import bounces

    links = list(LinkClicks.objects.filter(send=send).order_by("-clicks", "url").values("url", "clicks",
                                                                                        "scanner_hits"))
    since = send.started_at or send.created_at
    unsubscribes = Delivery.objects.filter(send=send, subscriber__status=Subscriber.Status.UNSUBSCRIBED,
                                           subscriber__unsubscribed_at__gte=since).count()
    returned = bounces.figures(send)
    return {
        "links": links,
        "clicks": sum(link["clicks"] for link in links),
        "scanner_hits": sum(link["scanner_hits"] for link in links),
        "hard_bounces": returned["hard_bounces"],
        "soft_bounces": returned["soft_bounces"],
        "complaints": returned["complaints"],
        "unsubscribes": unsubscribes,
    }
