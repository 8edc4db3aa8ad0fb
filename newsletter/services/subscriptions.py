"""Subscribe, confirm, change preferences, unsubscribe, expire stale signups and import lists.

The rules that keep the list honest live here:

* A signup never reveals whether an address was already known: callers get no answer that differs.
* Concurrent signups of one address produce one row (unique constraint + retry) and at most one confirmation
  email (an atomic "claim" of ``confirmation_sent_at`` that only one request wins, plus a resend cooldown).
* Only a confirmed opt-in (or a verified member account, or an import with a stated basis) subscribes.
* An address that unsubscribed, bounced, complained or was erased is never re-added by an import.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from enum import Enum

from django.contrib.auth.base_user import BaseUserManager
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_noop

from newsletter.conf import conf
from newsletter.email_tasks import send_confirmation_email, send_welcome_email
from newsletter.models import ConsentRecord, Subscriber, SuppressedAddress, new_token_key
from newsletter.services import tokens
from newsletter.services.privacy import hash_email, hash_ip, user_agent_family

logger = logging.getLogger(__name__)

# The consent statement shown next to every signup form. Changing the wording requires a new version, so
# each ConsentRecord keeps pointing at the exact text the person agreed to.
CONSENT_VERSION = "2026-11"
CONSENT_TEXT = gettext_noop(  # stored in English; the form shows it translated
    "I want to receive the Hotline Network Portal newsletter by email. I can unsubscribe at any time with one "
    "click from any email. The portal keeps my email address, my topic and language choices and a record of "
    "this consent (with my IP address only in hashed form) to send the newsletter, and shares them with no one."
)

OPTED_OUT = (Subscriber.Status.UNSUBSCRIBED, Subscriber.Status.CLEANED, Subscriber.Status.COMPLAINED)


@dataclass(frozen=True)
class RequestInfo:
    """Where a request came from, reduced to what consent records keep (hashed IP, browser family)."""

    ip: str = ""
    user_agent: str = ""

    @property
    def ip_hash(self) -> str:
        return hash_ip(self.ip)

    @property
    def ua_family(self) -> str:
        return user_agent_family(self.user_agent)


class SignupOutcome(Enum):
    """What a signup did. For logs and tests only: views must answer the same in every case."""

    CREATED = "created"
    PENDING_RESENT = "pending_resent"
    PENDING_UNCHANGED = "pending_unchanged"
    ALREADY_SUBSCRIBED = "already_subscribed"
    RESUBSCRIBING = "resubscribing"


class ConfirmOutcome(Enum):
    CONFIRMED = "confirmed"
    ALREADY_CONFIRMED = "already_confirmed"
    NOT_PENDING = "not_pending"


def normalize_email(email: str) -> str:
    """Strip spaces and lowercase the domain (the unique constraint also ignores the local part's case)."""
    return BaseUserManager.normalize_email((email or "").strip())


def available_languages() -> list[tuple[str, str]]:
    """(code, name) pairs for the languages subscribers can choose (``NEWSLETTER_LANGUAGES``), each named in
    itself and capitalised as a name in a list ("Français", not Django's "français")."""
    from django.conf.locale import LANG_INFO
    from django.utils.text import capfirst

    codes = conf.NEWSLETTER_LANGUAGES or ["en"]
    return [(code, capfirst(LANG_INFO.get(code, {}).get("name_local", code))) for code in codes]


def resend_cooldown() -> timedelta:
    return timedelta(seconds=int(conf.NEWSLETTER_CONFIRMATION_RESEND_COOLDOWN))


def _record_consent(subscriber, event, form, info: RequestInfo, *, basis="", actor=None, text=CONSENT_TEXT,
                    version=CONSENT_VERSION) -> ConsentRecord:
    return ConsentRecord.objects.create(
        subscriber=subscriber, event=event, consent_text=text, consent_version=version, form=form, basis=basis,
        ip_hash=info.ip_hash, user_agent_family=info.ua_family, actor=actor,
    )


def _claim_confirmation(subscriber_id: int, now) -> bool:
    """Atomically take the right to send a confirmation email: True for exactly one concurrent caller.

    The UPDATE only matches while no confirmation was sent within the cooldown, so of many simultaneous
    requests one updates the row and the rest match nothing.
    """
    recent = now - resend_cooldown()
    claimed = (
        Subscriber.objects.filter(pk=subscriber_id, status=Subscriber.Status.PENDING)
        .filter(Q(confirmation_sent_at__isnull=True) | Q(confirmation_sent_at__lte=recent))
        .update(confirmation_sent_at=now)
    )
    return claimed == 1


def _queue_confirmation(subscriber_id: int) -> None:
    # robust: a broker (or, in eager mode, SMTP) failure is logged, never turned into an error page that
    # would differ from the normal answer.
    transaction.on_commit(lambda: send_confirmation_email.delay(subscriber_id), robust=True)


def _queue_welcome(subscriber_id: int) -> None:
    transaction.on_commit(lambda: send_welcome_email.delay(subscriber_id), robust=True)


def request_subscription(
    email: str,
    *,
    topics: Iterable = (),
    language: str = "en",
    frequency: str = Subscriber.Frequency.EVERY_ISSUE,
    source: str = Subscriber.Source.SIGNUP_PAGE,
    info: RequestInfo = RequestInfo(),
) -> SignupOutcome:
    """Record a signup request and queue a confirmation email when one is due.

    New addresses and addresses that had left become ``PENDING`` with a consent record; a pending address
    gets a fresh confirmation at most once per cooldown; a subscribed address is left untouched (a stranger
    must not change someone else's choices). Safe under concurrency: retried on a unique-constraint race.
    """
    return _retrying_races(_request_subscription_once, normalize_email(email), list(topics), language, frequency,
                           source, info)


def _retrying_races(function, *args):
    """``function(*args)`` in a transaction, tried again (three times in all) when it fails on a unique
    constraint: another request inserted the same address first, and the next attempt finds its row."""
    for attempt in range(3):
        try:
            with transaction.atomic():
                return function(*args)
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _request_subscription_once(email, topics, language, frequency, source, info) -> SignupOutcome:
    now = timezone.now()
    subscriber = Subscriber.objects.select_for_update().for_email(email).first()
    if subscriber is None:
        subscriber = Subscriber.objects.create(
            email=email, status=Subscriber.Status.PENDING, language=language, frequency=frequency,
            source=source, created_at=now, requested_at=now,
        )
        subscriber.topics.set(topics)
        outcome = SignupOutcome.CREATED
    elif subscriber.status == Subscriber.Status.SUBSCRIBED:
        return SignupOutcome.ALREADY_SUBSCRIBED
    elif subscriber.status in OPTED_OUT:
        # A new opt-in by someone who had left: pending again, with fresh links, until they confirm.
        subscriber.status_before_signup = subscriber.status
        subscriber.status = Subscriber.Status.PENDING
        subscriber.requested_at = now
        subscriber.confirmation_sent_at = None
        subscriber.token_key = new_token_key()
        subscriber.language, subscriber.frequency, subscriber.source = language, frequency, source
        subscriber.save()
        subscriber.topics.set(topics)
        outcome = SignupOutcome.RESUBSCRIBING
    else:
        outcome = SignupOutcome.PENDING_UNCHANGED
    return _confirmation_if_due(subscriber, outcome, topics, source, info, now)


def _confirmation_if_due(subscriber, outcome: SignupOutcome, topics, source, info, now) -> SignupOutcome:
    """A confirmation email, with a consent record, unless one went out within the cooldown. A signup that was
    pending already and gets one again is ``PENDING_RESENT``, its request time and topics renewed."""
    if not _claim_confirmation(subscriber.pk, now):
        return outcome
    if outcome == SignupOutcome.PENDING_UNCHANGED:
        outcome = SignupOutcome.PENDING_RESENT
        Subscriber.objects.filter(pk=subscriber.pk).update(requested_at=now)
        subscriber.topics.set(topics)
    _record_consent(subscriber, ConsentRecord.Event.GIVEN, source, info)
    _queue_confirmation(subscriber.pk)
    return outcome


def resend_confirmation(email: str) -> bool:
    """Send a new confirmation link if (and only if) this address is pending and the cooldown has passed."""
    subscriber = Subscriber.objects.for_email(normalize_email(email)).filter(status=Subscriber.Status.PENDING).first()
    if subscriber is None:
        return False
    with transaction.atomic():
        if not _claim_confirmation(subscriber.pk, timezone.now()):
            return False
        _queue_confirmation(subscriber.pk)
    return True


def confirm_subscription(subscriber, info: RequestInfo = RequestInfo()) -> ConfirmOutcome:
    """Confirm a pending subscriber (from a valid confirmation link). Harmless when repeated.

    A confirmation link never re-subscribes someone who has since unsubscribed (``NOT_PENDING``).
    Confirming lifts any suppression of the address: this is a fresh, proven opt-in.
    """
    now = timezone.now()
    with transaction.atomic():
        confirmed = Subscriber.objects.filter(
            pk=subscriber.pk, status=Subscriber.Status.PENDING, token_key=subscriber.token_key
        ).update(status=Subscriber.Status.SUBSCRIBED, confirmed_at=now, status_before_signup="")
        if not confirmed:
            subscriber.refresh_from_db()
            if subscriber.status == Subscriber.Status.SUBSCRIBED:
                return ConfirmOutcome.ALREADY_CONFIRMED
            return ConfirmOutcome.NOT_PENDING
        text, version = _consent_given(subscriber)
        _record_consent(subscriber, ConsentRecord.Event.CONFIRMED, "confirmation_link", info, text=text,
                        version=version)
        SuppressedAddress.objects.filter(email_hash=hash_email(subscriber.email)).delete()
        _queue_welcome(subscriber.pk)
    subscriber.refresh_from_db()
    return ConfirmOutcome.CONFIRMED


def _consent_given(subscriber) -> tuple[str, str]:
    """The consent text and version the person agreed to when signing up (today's, if no record says)."""
    given = subscriber.consents.filter(event=ConsentRecord.Event.GIVEN).order_by("-created_at", "-id").first()
    if given is None:
        return CONSENT_TEXT, CONSENT_VERSION
    return given.consent_text, given.consent_version


def subscribe_member(user, *, topics: Iterable = (), info: RequestInfo = RequestInfo()) -> Subscriber:
    """Subscribe a logged-in member with their account's (already verified) address, confirmed at once."""
    email = normalize_email(user.email)
    if not email:
        raise ValueError("This account has no email address.")
    return _retrying_races(_subscribe_member_once, user, email, list(topics), info)


def _subscribe_member_once(user, email: str, topics: list, info: RequestInfo) -> Subscriber:
    now = timezone.now()
    subscriber, created = Subscriber.objects.select_for_update().get_or_create(
        email__iexact=email,
        defaults={"email": email, "status": Subscriber.Status.SUBSCRIBED, "source": Subscriber.Source.MEMBER,
                  "created_at": now, "requested_at": now, "confirmed_at": now, "user": user},
    )
    if created:
        _welcome_member(subscriber, email, topics, info)
    elif subscriber.status != Subscriber.Status.SUBSCRIBED:
        _confirm_member(subscriber, user, now)
        _welcome_member(subscriber, email, topics, info)
    elif topics:
        subscriber.topics.add(*topics)
    return subscriber


def _confirm_member(subscriber, user, now) -> None:
    """An existing record of a member's address, subscribed and confirmed now (linked to the account if not yet)."""
    subscriber.status = Subscriber.Status.SUBSCRIBED
    subscriber.confirmed_at = now
    subscriber.requested_at = now
    subscriber.status_before_signup = ""
    subscriber.user = subscriber.user or user
    subscriber.save()


def _welcome_member(subscriber, email: str, topics: list, info: RequestInfo) -> None:
    """A member's new subscription: their topics, a consent record, any suppression lifted, a welcome email."""
    subscriber.topics.set(topics)
    _record_consent(subscriber, ConsentRecord.Event.CONFIRMED, "member_account", info)
    SuppressedAddress.objects.filter(email_hash=hash_email(email)).delete()
    _queue_welcome(subscriber.pk)


def unsubscribe(subscriber, *, form: str = "one_click", info: RequestInfo = RequestInfo()) -> bool:
    """Take an address off the list at once (idempotent). Returns whether anything changed."""
    with transaction.atomic():
        changed = Subscriber.objects.filter(
            pk=subscriber.pk, status__in=[Subscriber.Status.SUBSCRIBED, Subscriber.Status.PENDING]
        ).update(status=Subscriber.Status.UNSUBSCRIBED, unsubscribed_at=timezone.now(), status_before_signup="")
        if changed:
            _record_consent(subscriber, ConsentRecord.Event.WITHDRAWN, form, info, text="", version="")
    subscriber.refresh_from_db()
    return bool(changed)


def resubscribe(subscriber, *, info: RequestInfo = RequestInfo()) -> bool:
    """Subscribe again from the preference centre: the link came by email to this address, so it is proven."""
    with transaction.atomic():
        changed = Subscriber.objects.filter(pk=subscriber.pk, status__in=OPTED_OUT).update(
            status=Subscriber.Status.SUBSCRIBED, confirmed_at=timezone.now(), status_before_signup=""
        )
        if changed:
            _record_consent(subscriber, ConsentRecord.Event.CONFIRMED, "preferences", info)
    subscriber.refresh_from_db()
    return bool(changed)


def update_preferences(subscriber, *, topics: Iterable, frequency: str, language: str,
                       click_history: bool | None = None, info: RequestInfo = RequestInfo()) -> None:
    """Save topic, frequency and language choices (and the click history choice, when the form has it)."""
    with transaction.atomic():
        Subscriber.objects.filter(pk=subscriber.pk).update(frequency=frequency, language=language)
        subscriber.topics.set(list(topics))
        if click_history is not None:
            set_click_history(subscriber, click_history, info=info)
    subscriber.refresh_from_db()


CLICK_HISTORY_TEXT = (
    "Keep a history of the links I click in the newsletter, so the team can see what interests me. "
    "Without it, clicks are only counted per link, never per person."
)
CLICK_HISTORY_VERSION = "click-history-1"


def set_click_history(subscriber, enabled: bool, *, form: str = "preferences",
                      info: RequestInfo = RequestInfo()) -> bool:
    """Turn the per-subscriber click history on or off, with a consent record; off deletes the history kept.

    Off by default: without it the subscriber's clicks are only counted per link. Returns whether it changed.
    """
    from newsletter.models import SubscriberClick

    with transaction.atomic():
        changed = Subscriber.objects.filter(pk=subscriber.pk).exclude(click_history=enabled).update(
            click_history=enabled)
        if changed:
            event = ConsentRecord.Event.CLICKS_ON if enabled else ConsentRecord.Event.CLICKS_OFF
            _record_consent(subscriber, event, form, info, text=CLICK_HISTORY_TEXT, version=CLICK_HISTORY_VERSION)
            if not enabled:
                SubscriberClick.objects.filter(subscriber=subscriber).delete()
    subscriber.click_history = enabled
    return bool(changed)


def rotate_links(subscriber) -> None:
    """Invalidate every link sent to this subscriber so far (new key for all tokens)."""
    subscriber.token_key = new_token_key()
    subscriber.save(update_fields=["token_key"])


def delete_stale_pending(now=None) -> tuple[int, int]:
    """Discard signups that were never confirmed within ``NEWSLETTER_PENDING_MAX_AGE_DAYS``.

    New addresses are deleted. Addresses that had unsubscribed (or bounced/complained) before this unconfirmed
    signup go back to that status, so their opt-out is not forgotten. Returns (deleted, restored).
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=int(conf.NEWSLETTER_PENDING_MAX_AGE_DAYS))
    stale = Subscriber.objects.filter(status=Subscriber.Status.PENDING, requested_at__lt=cutoff)
    restored = 0
    with transaction.atomic():
        for status in OPTED_OUT:
            restored += stale.filter(status_before_signup=status).update(
                status=status, status_before_signup="", token_key=new_token_key()
            )
        _, per_model = stale.filter(status_before_signup="").delete()
    deleted = per_model.get(Subscriber._meta.label, 0)  # delete() also counts cascaded consent records
    logger.info("newsletter: removed %s stale pending signups, restored %s opt-outs", deleted, restored)
    return deleted, restored


# --- List import ---------------------------------------------------------------------------------------------

IMPORT_MAX_ROWS = 20_000


@dataclass
class ImportReport:
    """What an import did, row by row where something was skipped."""

    created: int = 0
    skipped: list[tuple[int, str, str]] = field(default_factory=list)  # (line, address, reason)


SKIP_INVALID = "not a valid email address"
SKIP_DUPLICATE = "appears earlier in the file"
SKIP_SUBSCRIBED = "already subscribed"
SKIP_PENDING = "awaiting their own confirmation"
SKIP_OPTED_OUT = "unsubscribed, bounced or complained: never re-added by import"
SKIP_SUPPRESSED = "erased or suppressed: only the person can sign up again"


def parse_import_csv(text: str) -> list[tuple[int, str]]:
    """(line number, address) pairs from CSV text with an ``email`` column (or addresses in the first column)."""
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        return []
    column, start = _email_column(rows[0])
    result = [(number, row[column].strip()) for number, row in enumerate(rows[start:], start=start + 1)
              if len(row) > column and row[column].strip()]
    if len(result) > IMPORT_MAX_ROWS:
        raise ValidationError(f"Import at most {IMPORT_MAX_ROWS} addresses at a time.")
    return result


def _email_column(first_row: list[str]) -> tuple[int, int]:
    """The column of the addresses and the index of the first row of them: an ``email`` column after a header
    row, else the first column from the first row."""
    header = [cell.strip().lower() for cell in first_row]
    return (header.index("email"), 1) if "email" in header else (0, 0)


IMPORT_CHUNK_SIZE = 500
# Why an address already on the list is not imported, by its status; any other status means it left.
SKIP_BY_STATUS = {Subscriber.Status.SUBSCRIBED: SKIP_SUBSCRIBED, Subscriber.Status.PENDING: SKIP_PENDING}


def import_subscribers(rows: list[tuple[int, str]], *, basis: str, actor, topics: Iterable = (),
                       language: str = "en") -> ImportReport:
    """Add addresses from an existing list as subscribed, with an IMPORTED consent record stating ``basis``.

    Skips (and reports) invalid and duplicate addresses, anything already on the list in any status, and
    every suppressed (erased) address: an import can never re-subscribe someone who left.
    """
    if not (basis or "").strip():
        raise ValidationError("State the consent basis for these addresses.")
    topics = list(topics)
    report = ImportReport()
    candidates = _new_in_file(rows, report)
    for start in range(0, len(candidates), IMPORT_CHUNK_SIZE):
        _import_chunk(candidates[start:start + IMPORT_CHUNK_SIZE], report, basis, actor, topics, language)
    logger.info("newsletter import by user %s: %s added, %s skipped", getattr(actor, "pk", None),
                report.created, len(report.skipped))
    return report


def _new_in_file(rows: list[tuple[int, str]], report: ImportReport) -> list[tuple[int, str]]:
    """The rows with a valid address that does not appear earlier in the file (normalised); the others are
    skipped in the report."""
    candidates: list[tuple[int, str]] = []
    seen: set[str] = set()
    for line, raw in rows:
        email = normalize_email(raw)
        if not _is_valid_email(email):
            report.skipped.append((line, raw, SKIP_INVALID))
        elif email.lower() in seen:
            report.skipped.append((line, email, SKIP_DUPLICATE))
        else:
            seen.add(email.lower())
            candidates.append((line, email))
    return candidates


def _is_valid_email(email: str) -> bool:
    try:
        validate_email(email)
    except ValidationError:
        return False
    return True


def _import_chunk(chunk: list[tuple[int, str]], report: ImportReport, basis, actor, topics, language) -> None:
    """Import one chunk of addresses, skipping those already on the list or suppressed."""
    lowered = [email.lower() for _, email in chunk]
    with transaction.atomic():
        statuses = _statuses_by_email(lowered)
        suppressed = _suppressed_among(lowered)
        for line, email in chunk:
            reason = _skip_reason(statuses.get(email.lower()), email.lower() in suppressed)
            if reason is None:
                _import_one(email, basis, actor, topics, language)
                report.created += 1
            else:
                report.skipped.append((line, email, reason))


def _statuses_by_email(lowered: list[str]) -> dict[str, str]:
    """The status of each of these (lowercased) addresses that is on the list."""
    return dict(Subscriber.objects.annotate(lower_email=Lower("email"))
                .filter(lower_email__in=lowered).values_list("lower_email", "status"))


def _suppressed_among(lowered: list[str]) -> set[str]:
    """Those of these (lowercased) addresses that were erased or suppressed (by their hash)."""
    hashes = {email: hash_email(email) for email in lowered}
    found = set(SuppressedAddress.objects.filter(email_hash__in=hashes.values()).values_list("email_hash", flat=True))
    return {email for email, digest in hashes.items() if digest in found}


def _skip_reason(status: str | None, suppressed: bool) -> str | None:
    """Why an address is not imported (None: it is): suppressed, or already on the list."""
    if suppressed:
        return SKIP_SUPPRESSED
    if status is None:
        return None
    return SKIP_BY_STATUS.get(status, SKIP_OPTED_OUT)


def _import_one(email, basis, actor, topics, language) -> None:
    now = timezone.now()
    with transaction.atomic():
        subscriber = Subscriber.objects.create(
            email=email, status=Subscriber.Status.SUBSCRIBED, source=Subscriber.Source.IMPORT, language=language,
            created_at=now, requested_at=now,
        )
        if topics:
            subscriber.topics.set(topics)
        _record_consent(subscriber, ConsentRecord.Event.IMPORTED, "import", RequestInfo(), basis=basis.strip(),
                        actor=actor, text="", version="")


def tokens_for(subscriber) -> dict[str, str]:
    """The three personal links of a subscriber (used by the demo and by staff tools)."""
    return {
        "confirm": tokens.confirm_url(subscriber),
        "preferences": tokens.preferences_url(subscriber),
        "unsubscribe": tokens.unsubscribe_url(subscriber),
    }
