"""The bounce and unsubscribe mailbox, read over IMAP (``imap-tools``) by a beat task.

Each run reads up to ``NEWSLETTER_BOUNCE_MAILBOX_BATCH`` messages from ``NEWSLETTER_BOUNCE_IMAP_FOLDER``, records
what each reports through the bounces service, then moves it: to ``NEWSLETTER_BOUNCE_IMAP_DONE_FOLDER`` when it
was read (acted on, or plainly not for us: auto-replies, delay warnings), to
``NEWSLETTER_BOUNCE_IMAP_UNREADABLE_FOLDER`` when it could not be read, for a person to look at. Nothing is ever
deleted, and a message leaves the inbox once read, so none is read again and again.

Safe to run twice, even at once: a run takes a cache lock, and every message is recorded under its own key
before it is moved, so a run that stops between the two (connection lost, worker killed) finds the message again
and records nothing twice. When the database is unreachable the run stops with the message still in the inbox.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import logging
import ssl
from collections import Counter

from django.core.cache import cache
from django.db import DatabaseError

from imap_tools import MailBox, MailBoxStartTls, MailBoxUnencrypted

from newsletter.conf import conf
from newsletter.models import InboundEvent
from newsletter.services import bounces
from newsletter.services.bounces import Kind, Report, Source
from newsletter.services.inbound_mail import Reading, message_key, read_message

logger = logging.getLogger(__name__)

LOCK_KEY = "newsletter:bounce-mailbox:lock"



def configured() -> bool:
    return bool(conf.NEWSLETTER_BOUNCE_IMAP_HOST)


def connect():
    """An imap-tools mailbox logged in to the configured server (ssl, starttls or none)."""
    host = conf.NEWSLETTER_BOUNCE_IMAP_HOST
    port = int(conf.NEWSLETTER_BOUNCE_IMAP_PORT)
    timeout = int(conf.NEWSLETTER_BOUNCE_IMAP_TIMEOUT)
    security = str(conf.NEWSLETTER_BOUNCE_IMAP_SECURITY).lower()
    if security == "ssl":
        box = MailBox(host, port, timeout=timeout, ssl_context=ssl.create_default_context())
    elif security == "starttls":
        box = MailBoxStartTls(host, port, timeout=timeout, ssl_context=ssl.create_default_context())
    elif security == "none":
        box = MailBoxUnencrypted(host, port, timeout=timeout)
    else:
        raise ValueError(f"NEWSLETTER_BOUNCE_IMAP_SECURITY must be ssl, starttls or none, not {security!r}")
    return box.login(conf.NEWSLETTER_BOUNCE_IMAP_USER, conf.NEWSLETTER_BOUNCE_IMAP_PASSWORD,
                     initial_folder=None)


def _ensure_folder(box, name: str) -> None:
    if not box.folder.exists(name):
        box.folder.create(name)


def record_message(raw: bytes) -> tuple[str, Counter]:
    """Record what one message reports. Returns where it goes (``done`` or ``unreadable``) and what it counted.

    Database errors propagate (the message must stay in the inbox for the next run); anything else that goes
    wrong while reading it makes it unreadable, so one strange message is never retried forever.
    """
    reading = _read(raw)
    if reading.outcome != "reports":
        return _record_no_reports(raw, reading)
    counts: Counter = Counter()
    for report in reading.reports:
        outcome = bounces.record(report)
        counts[report.kind if outcome == bounces.RECORDED else outcome] += 1
    return "done", counts


def _read(raw: bytes) -> Reading:
    try:
        return read_message(raw)
    except DatabaseError:
        raise
    except Exception as exc:
        logger.exception("Bounce mailbox: cannot read a message")
        return Reading(unreadable=f"reading failed: {type(exc).__name__}")


# A message that reports nothing, by outcome: what it is recorded as, and where it goes.
NO_REPORTS = {"ignored": (Kind.IGNORED, "done"), "unreadable": (Kind.UNREADABLE, "unreadable")}


def _record_no_reports(raw: bytes, reading: Reading) -> tuple[str, Counter]:
    kind, destination = NO_REPORTS[reading.outcome]
    outcome = bounces.record(Report(kind=kind, source=Source.MAILBOX, key=_key_of(raw),
                                    detail=reading.unreadable or reading.ignored))
    return destination, Counter([reading.outcome if outcome != bounces.DUPLICATE else "duplicate"])


def _key_of(raw: bytes) -> str:
    try:
        message = email.message_from_bytes(raw, policy=email.policy.compat32)
    except Exception:
        message = None
    return message_key(raw, message)


def process_mailbox(*, limit: int | None = None) -> dict:
    """One run over the mailbox. Returns what it read, by outcome (empty when the mailbox is not configured)."""
    if not configured():
        return {"configured": False}
    lock_seconds = int(conf.NEWSLETTER_BOUNCE_IMAP_TIMEOUT) * 10
    if not cache.add(LOCK_KEY, "1", timeout=lock_seconds):
        return {"configured": True, "skipped": "another run is reading the mailbox"}
    counts: Counter = Counter()
    try:
        with contextlib.closing(_Session()) as session:
            counts = session.run(limit or int(conf.NEWSLETTER_BOUNCE_MAILBOX_BATCH))
    finally:
        cache.delete(LOCK_KEY)
    summary = {"configured": True, **dict(counts)}
    summary["kept_aside_total"] = InboundEvent.objects.filter(kind=Kind.UNREADABLE).count()
    if counts:
        logger.info("Bounce mailbox: %s", summary)
    return summary


class _Session:
    def __init__(self):
        self.box = connect()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.box.logout()

    def run(self, limit: int) -> Counter:
        box = self.box
        folders = {"done": conf.NEWSLETTER_BOUNCE_IMAP_DONE_FOLDER,
                   "unreadable": conf.NEWSLETTER_BOUNCE_IMAP_UNREADABLE_FOLDER}
        for folder in folders.values():
            _ensure_folder(box, folder)
        box.folder.set(conf.NEWSLETTER_BOUNCE_IMAP_FOLDER)
        counts: Counter = Counter()
        for uid in box.uids("ALL")[:limit]:
            counts.update(_file_message(box, uid, folders))
        return counts


def _file_message(box, uid: str, folders: dict[str, str]) -> Counter:
    """Record what one message reports and move it to its folder; nothing if it is gone meanwhile (another
    client moved it)."""
    raw = _fetch(box, uid)
    if raw is None:
        return Counter()
    destination, counts = record_message(raw)
    counts["read"] += 1
    box.move(uid, folders[destination])
    return counts


def _fetch(box, uid: str) -> bytes | None:
    """The message's bytes, leaving it unseen; None when it is gone."""
    status, data = box.client.uid("FETCH", uid, "(BODY.PEEK[])")
    return _message_bytes(data) if status == "OK" else None


def _message_bytes(data) -> bytes | None:
    """The message in an IMAP FETCH answer (the second item of its first (envelope, bytes) pair)."""
    return next((item[1] for item in data or [] if isinstance(item, tuple) and len(item) > 1), None)
