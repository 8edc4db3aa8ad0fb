"""Two-way audience sync between our subscribers (the source of truth) and a Mailchimp audience.

One run does three things, in this order:

1. **Pull** what changed in Mailchimp since the last run (``since_last_changed``, pages of up to 1,000): people
   who unsubscribed there or whose address was cleaned are unsubscribed/cleaned here through the subscription
   services (so consent records stay right); people who subscribed through Mailchimp's own forms are added
   or re-subscribed with a consent record that says so. Running the pull first means a push never overwrites a
   fresh opt-out made in Mailchimp.
2. **Push** local changes since the push cursor (``Subscriber.updated_at``), in batch-subscribe calls of at
   most 500 members: status, language, merge fields and topics (as interests). What Mailchimp last received
   is fingerprinted per subscriber (``MailchimpMember.digest``), so unchanged people are skipped and a run that
   failed midway resumes where it stopped without pushing anyone twice.
3. Move both cursors. The pull cursor moves to Mailchimp's own ``last_changed`` of our last push, so our own
   changes do not come back on the next pull.

Compliance: someone Mailchimp reports as unsubscribed or cleaned is never pushed as "subscribed". If they
confirmed with us again after leaving Mailchimp, they are pushed as "pending": Mailchimp then sends its own
opt-in email. Mailchimp also refuses ("Member In Compliance State") and that refusal is recorded the same way.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta

from django.core.cache import cache
from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from newsletter.conf import conf
from newsletter.mailchimp.client import Mailchimp, MailchimpError, MailchimpUnavailable, audience_id, get_client
from newsletter.models import MailchimpMember, MailchimpSyncState, Subscriber
from newsletter.services import bounces, subscriptions
from portal.core.models import Topic

logger = logging.getLogger(__name__)

BATCH_LIMIT = 500  # Mailchimp's maximum per batch-subscribe call
PAGE_LIMIT = 1000  # Mailchimp's maximum page size
TOPICS_CATEGORY = "Topics"
# Changes committed late (a long transaction) carry an earlier updated_at than the cursor: look back this far.
CURSOR_MARGIN = timedelta(minutes=2)
OPTED_OUT_REMOTE = {"unsubscribed", "cleaned"}
GONE_REMOTE = OPTED_OUT_REMOTE | {"archived"}
PULL_FIELDS = [f"members.{name}" for name in (
    "email_address", "status", "last_changed", "language", "interests", "unsubscribe_reason")] + ["total_items"]

Progress = Callable[[str, int, int], None]


def merge_field_map() -> dict[str, str]:
    """Mailchimp merge tag → Subscriber attribute (``MAILCHIMP_MERGE_FIELDS``, default FREQUENCY)."""
    return dict(conf.MAILCHIMP_MERGE_FIELDS or {"FREQUENCY": "frequency"})


@dataclass
class SyncSummary:
    """What one run did (shown on the command line and in the admin)."""

    pulled: int = 0
    pulled_changes: int = 0
    pushed: int = 0
    skipped_compliance: int = 0
    errors: list[str] = field(default_factory=list)
    calls: int = 0
    batches: int = 0
    setup_calls: int = 0

    def as_dict(self) -> dict:
        data = asdict(self)
        data["errors"] = self.errors[:50]
        return data


def state_for() -> MailchimpSyncState:
    """The sync state of the configured audience."""
    state, _ = MailchimpSyncState.objects.get_or_create(audience_id=audience_id())
    return state


def stamp_to_datetime(value: str | None) -> datetime | None:
    """A Mailchimp time (ISO 8601; one without a zone is UTC) as an aware datetime; None when there is none."""
    if not value:
        return None
    moment = parse_datetime(value.replace("Z", "+00:00"))
    if moment is not None and timezone.is_naive(moment):
        moment = timezone.make_aware(moment, UTC)
    return moment


def _save_progress(state: MailchimpSyncState, phase: str, done: int, total: int, progress: Progress | None) -> None:
    MailchimpSyncState.objects.filter(pk=state.pk).update(phase=phase, done=done, total=total)
    if progress:
        progress(phase, done, total)


# --- Set-up: topics as interests, merge fields ----------------------------------------------------------------------


def ensure_setup(api: Mailchimp, state: MailchimpSyncState, topic_ids: set[int]) -> int:
    """Make sure the merge fields and a "Topics" interest per topic exist in Mailchimp. Returns calls made.

    Only calls Mailchimp for what is missing from the stored mapping, so a routine run makes no set-up calls.
    """
    calls_before = api.calls
    if not state.merge_fields_ready:
        _add_merge_fields(api, state.audience_id)
        state.merge_fields_ready = True
    wanted = {str(pk) for pk in topic_ids}
    missing = wanted - set(state.topic_interests)
    if missing:
        if not state.topic_category_id:
            state.topic_category_id = _topics_category(api, state.audience_id)
        _add_topic_interests(api, state, missing)
    MailchimpSyncState.objects.filter(pk=state.pk).update(
        merge_fields_ready=state.merge_fields_ready, topic_category_id=state.topic_category_id,
        topic_interests=state.topic_interests)
    return api.calls - calls_before


def _add_merge_fields(api: Mailchimp, list_id: str) -> None:
    existing = api.call(lambda c: c.lists.get_list_merge_fields(list_id, count=PAGE_LIMIT))
    tags = {item["tag"] for item in existing.get("merge_fields", [])}
    for tag in merge_field_map():
        if tag not in tags:
            api.call(lambda c, tag=tag: c.lists.add_list_merge_field(
                list_id, {"tag": tag, "name": tag.title(), "type": "text", "public": False}), retry=False)


def _topics_category(api: Mailchimp, list_id: str) -> str:
    """The id of the audience's "Topics" interest category, created when missing."""
    categories = api.call(lambda c: c.lists.get_list_interest_categories(list_id, count=PAGE_LIMIT))
    found = [c for c in categories.get("categories", []) if c["title"] == TOPICS_CATEGORY]
    if found:
        return found[0]["id"]
    created = api.call(lambda c: c.lists.create_list_interest_category(
        list_id, {"title": TOPICS_CATEGORY, "type": "checkboxes"}), retry=False)
    return created["id"]


def _add_topic_interests(api: Mailchimp, state: MailchimpSyncState, missing: set[str]) -> None:
    """Map each missing topic to its interest (by name), creating the interests Mailchimp does not have."""
    list_id, category_id = state.audience_id, state.topic_category_id
    interests = api.call(lambda c: c.lists.list_interest_category_interests(list_id, category_id,
                                                                             count=PAGE_LIMIT))
    by_name = {item["name"]: item["id"] for item in interests.get("interests", [])}
    names = dict(Topic.objects.filter(pk__in=missing).values_list("pk", "name"))
    for pk, name in names.items():
        interest_id = by_name.get(name[:100])
        if interest_id is None:
            interest_id = api.call(lambda c, name=name: c.lists.create_interest_category_interest(
                list_id, category_id, {"name": name[:100]}), retry=False)["id"]
        state.topic_interests[str(pk)] = interest_id


# --- Push -------------------------------------------------------------------------------------------------------


def desired_status(subscriber: Subscriber, mirror: MailchimpMember | None) -> str | None:
    """The status to push for a subscriber, or None to leave Mailchimp alone.

    Never "subscribed" for someone Mailchimp reports unsubscribed/cleaned: "pending" (Mailchimp's own opt-in)
    if they confirmed with us again after that, else nothing.
    """
    if subscriber.status == Subscriber.Status.PENDING:
        return None  # our own double opt-in is still running
    if subscriber.status == Subscriber.Status.SUBSCRIBED:
        return _status_of_subscribed(subscriber, mirror)
    return _status_of_opted_out(mirror)


def _status_of_subscribed(subscriber: Subscriber, mirror: MailchimpMember | None) -> str | None:
    """"subscribed"; for someone Mailchimp reports gone, "pending" if they confirmed with us since, else None."""
    if mirror is None or mirror.remote_status not in OPTED_OUT_REMOTE:
        return "subscribed"
    return "pending" if _confirmed_since(subscriber, mirror.remote_changed_at) else None


def _confirmed_since(subscriber: Subscriber, opted_out_at: datetime | None) -> bool:
    """Whether the subscriber confirmed with us after leaving Mailchimp (False when either moment is unknown)."""
    return bool(subscriber.confirmed_at and opted_out_at and subscriber.confirmed_at > opted_out_at)


def _status_of_opted_out(mirror: MailchimpMember | None) -> str | None:
    """Unsubscribed, complained, cleaned: tell Mailchimp only about people it already has (no new data about
    people who left). Mailchimp cannot be told "cleaned" through the API: unsubscribed stops mail just as well."""
    if mirror is None or mirror.remote_status in GONE_REMOTE:
        return None
    return "unsubscribed"


def member_payload(subscriber: Subscriber, status: str, state: MailchimpSyncState,
                   topic_ids: list[int]) -> dict:
    interests = _interests(state, topic_ids)
    payload = {"email_address": subscriber.email, "status": status, "language": subscriber.language,
               "merge_fields": _merge_fields(subscriber)}
    if interests:
        payload["interests"] = interests
    return payload


def _interests(state: MailchimpSyncState, topic_ids: list[int]) -> dict[str, bool]:
    """Every mapped topic's interest: True for the chosen topics, False for the others."""
    interests = dict.fromkeys(state.topic_interests.values(), False)
    for pk in topic_ids:
        if str(pk) in state.topic_interests:
            interests[state.topic_interests[str(pk)]] = True
    return interests


def _merge_fields(subscriber: Subscriber) -> dict[str, str]:
    return {tag: str(getattr(subscriber, attribute, "") or "") for tag, attribute in merge_field_map().items()}


def digest_of(payload: dict) -> str:
    """Fingerprint of a pushed member. Only the chosen interests count: a topic mapped later (False for
    everyone who did not choose it, Mailchimp's default) must not make every member look changed."""
    chosen = sorted(key for key, value in payload.get("interests", {}).items() if value)
    data = json.dumps({**payload, "interests": chosen}, sort_keys=True)
    return hashlib.md5(data.encode()).hexdigest()  # noqa: S324 - a fingerprint, not security


def push_candidates(state: MailchimpSyncState, *, full: bool = False):
    """Public-list subscribers changed since the push cursor (all of them with ``full``), oldest first."""
    queryset = Subscriber.objects.filter(public_list=True)
    if state.push_cursor and not full:
        queryset = queryset.filter(updated_at__gte=state.push_cursor - CURSOR_MARGIN)
    return queryset.order_by("updated_at", "id")


def push(api: Mailchimp, state: MailchimpSyncState, summary: SyncSummary, *, full: bool = False,
         progress: Progress | None = None) -> str:
    """Push changed subscribers in batches of 500. Returns Mailchimp's latest last_changed seen (or "")."""
    ids = list(push_candidates(state, full=full).values_list("id", flat=True))
    mirrors = _mirrors_of(ids)
    topic_map = _topics_of(ids)
    summary.setup_calls += ensure_setup(api, state, set().union(*topic_map.values()))
    queue = _push_queue(ids, mirrors, topic_map, state, summary)
    return _push_batches(api, state, queue, summary, progress)


def _mirrors_of(ids: list[int]) -> dict[int, MailchimpMember]:
    """What Mailchimp last received or reported for each of these subscribers."""
    return {m.subscriber_id: m for m in MailchimpMember.objects.filter(subscriber_id__in=ids)}


def _topics_of(ids: list[int]) -> dict[int, list[int]]:
    """Each subscriber's chosen topic ids."""
    topic_map: dict[int, list[int]] = {}
    for subscriber_id, topic_id in Subscriber.topics.through.objects.filter(subscriber_id__in=ids).values_list(
            "subscriber_id", "topic_id"):
        topic_map.setdefault(subscriber_id, []).append(topic_id)
    return topic_map


def _push_queue(ids: list[int], mirrors: dict, topic_map: dict, state: MailchimpSyncState,
                summary: SyncSummary) -> list[tuple[Subscriber, dict, str]]:
    """What to send: skip anyone whose fingerprint matches what Mailchimp already has."""
    queue: list[tuple[Subscriber, dict, str]] = []
    for chunk_start in range(0, len(ids), 2000):
        for subscriber in Subscriber.objects.filter(id__in=ids[chunk_start:chunk_start + 2000]).order_by(
                "updated_at", "id"):
            item = _queue_item(subscriber, mirrors.get(subscriber.pk), topic_map, state, summary)
            if item is not None:
                queue.append(item)
    return queue


def _queue_item(subscriber: Subscriber, mirror: MailchimpMember | None, topic_map: dict,
                state: MailchimpSyncState, summary: SyncSummary) -> tuple[Subscriber, dict, str] | None:
    status = desired_status(subscriber, mirror)
    if status is None:
        if subscriber.status == Subscriber.Status.SUBSCRIBED:
            summary.skipped_compliance += 1
        return None
    payload = member_payload(subscriber, status, state, topic_map.get(subscriber.pk, []))
    digest = digest_of(payload)
    if _already_pushed(mirror, subscriber, digest):
        return None
    return subscriber, payload, digest


def _already_pushed(mirror: MailchimpMember | None, subscriber: Subscriber, digest: str) -> bool:
    """Whether Mailchimp last received exactly this, for this address."""
    return bool(mirror and mirror.digest == digest and mirror.email.lower() == subscriber.email.lower())


def _push_batches(api: Mailchimp, state: MailchimpSyncState, queue: list, summary: SyncSummary,
                  progress: Progress | None) -> str:
    """Send the queue in batches, recording each; Mailchimp's latest last_changed seen (or "")."""
    latest = ""
    total = len(queue)
    _save_progress(state, "push", 0, total, progress)
    for start in range(0, total, BATCH_LIMIT):
        batch = queue[start:start + BATCH_LIMIT]
        body = {"members": [payload for _, payload, _ in batch], "update_existing": True}
        answer = api.call(lambda c, body=body: c.lists.batch_list_members(state.audience_id, body))
        summary.batches += 1
        latest = max([latest] + [m.get("last_changed", "") for m in _members_taken(answer)])
        _record_batch(batch, answer, summary)
        summary.pushed += len(batch) - len(answer.get("errors", []))
        _save_progress(state, "push", min(start + BATCH_LIMIT, total), total, progress)
    return latest


def _members_taken(answer: dict) -> list[dict]:
    """The members a batch-subscribe answer says Mailchimp added or updated."""
    return [*answer.get("new_members", []), *answer.get("updated_members", [])]


def _record_batch(batch, answer: dict, summary: SyncSummary) -> None:
    """Store the fingerprint of every member Mailchimp took, and what it refused (compliance, invalid).

    One transaction and two bulk statements per batch, so a run that stops later keeps this batch's work.
    """
    now = timezone.now()
    accepted, refused = _answer_by_address(answer)
    existing = _mirrors_of([subscriber.pk for subscriber, _, _ in batch])
    to_create, to_update = [], []
    for subscriber, payload, digest in batch:
        address = subscriber.email.lower()
        mirror = existing.get(subscriber.pk) or MailchimpMember(subscriber=subscriber)
        mirror.email, mirror.pushed_at = subscriber.email, now
        if address in refused:
            _record_refusal(mirror, refused[address], digest, summary, now)
        else:
            _record_acceptance(mirror, accepted.get(address, {}), payload, digest, now)
        (to_update if mirror.pk else to_create).append(mirror)
    with transaction.atomic():
        MailchimpMember.objects.bulk_create(to_create, batch_size=BATCH_LIMIT)
        MailchimpMember.objects.bulk_update(
            to_update, ["email", "pushed_at", "error", "digest", "remote_status", "remote_changed_at"],
            batch_size=BATCH_LIMIT)


def _answer_by_address(answer: dict) -> tuple[dict[str, dict], dict[str, str]]:
    """A batch answer by lowercased address: the members Mailchimp took, and the reasons it refused the others."""
    accepted = {m["email_address"].lower(): m for m in _members_taken(answer)}
    refused = {e.get("email_address", "").lower(): e.get("error", "") for e in answer.get("errors", [])}
    return accepted, refused


def _record_refusal(mirror: MailchimpMember, error: str, digest: str, summary: SyncSummary, now: datetime) -> None:
    """A member Mailchimp refused: in compliance state (they left Mailchimp) or an invalid address."""
    mirror.error = error[:1000]
    if "compliance state" in mirror.error.lower():
        mirror.remote_status, mirror.remote_changed_at, mirror.digest = "unsubscribed", now, ""
        summary.skipped_compliance += 1
    else:
        mirror.digest = digest  # do not retry an invalid address until it changes
        summary.errors.append(f"{mirror.email}: {mirror.error}")


def _record_acceptance(mirror: MailchimpMember, member: dict, payload: dict, digest: str, now: datetime) -> None:
    """A member Mailchimp took: remember what it now has."""
    mirror.digest, mirror.error = digest, ""
    mirror.remote_status = member.get("status", payload["status"])
    mirror.remote_changed_at = stamp_to_datetime(member.get("last_changed")) or now


# --- Pull -------------------------------------------------------------------------------------------------------


def pull(api: Mailchimp, state: MailchimpSyncState, summary: SyncSummary, *, full: bool = False,
         progress: Progress | None = None) -> str:
    """Apply changes made in Mailchimp since the pull cursor. Returns the latest last_changed seen."""
    offset, latest = 0, ""
    while True:
        params = _page_params(state, offset, full)
        page = api.call(lambda c, params=params: c.lists.get_list_members_info(state.audience_id, **params))
        members = page.get("members", [])
        latest = max(latest, _apply_remote_members(members, state, summary))
        offset += len(members)
        _save_progress(state, "pull", offset, page.get("total_items", offset), progress)
        if len(members) < PAGE_LIMIT or offset >= page.get("total_items", 0):
            return latest


def _page_params(state: MailchimpSyncState, offset: int, full: bool) -> dict:
    """A page of the members changed since the pull cursor (of every member with ``full``), oldest change first."""
    params = {"count": PAGE_LIMIT, "offset": offset, "fields": PULL_FIELDS, "sort_field": "last_changed",
              "sort_dir": "ASC"}
    if state.pull_cursor and not full:
        params["since_last_changed"] = state.pull_cursor
    return params


def _apply_remote_members(members: list[dict], state: MailchimpSyncState, summary: SyncSummary) -> str:
    """Apply one page of members; the latest last_changed among them (or "")."""
    latest = ""
    for member in members:
        summary.pulled_changes += apply_remote_member(member, state)
        latest = max(latest, member.get("last_changed", ""))
    summary.pulled += len(members)
    return latest


def apply_remote_member(member: dict, state: MailchimpSyncState) -> int:
    """Bring one local subscriber in step with what Mailchimp reports. Returns 1 if something changed here."""
    email = member.get("email_address", "")
    remote_status = member.get("status", "")
    changed_at = stamp_to_datetime(member.get("last_changed")) or timezone.now()
    subscriber = Subscriber.objects.annotate(lower=Lower("email")).filter(lower=email.lower()).first()
    changed = 0
    if subscriber is not None:
        changed = apply_remote_status(subscriber, remote_status, changed_at,
                                      reason=member.get("unsubscribe_reason", ""))
        subscriber.refresh_from_db()
    elif remote_status == "subscribed":
        changed, subscriber = _import_remote_member(member)
    if subscriber is None:
        return changed
    _mirror_remote_member(subscriber, email, remote_status, changed_at, state)
    return changed


def _import_remote_member(member: dict) -> tuple[int, Subscriber | None]:
    """Someone who subscribed through Mailchimp's own form: imported with that consent basis."""
    email = member.get("email_address", "")
    report = subscriptions.import_subscribers(
        [(0, email)], basis="Subscribed through Mailchimp's own signup form (audience sync).", actor=None,
        language=(member.get("language") or "en")[:10])
    return report.created, Subscriber.objects.for_email(email).first()


def _mirror_remote_member(subscriber: Subscriber, email: str, remote_status: str, changed_at: datetime,
                          state: MailchimpSyncState) -> None:
    """Remember what Mailchimp reports for this subscriber."""
    mirror, _ = MailchimpMember.objects.get_or_create(subscriber=subscriber, defaults={"email": email})
    mirror.email, mirror.remote_status, mirror.remote_changed_at = email, remote_status, changed_at
    # Mailchimp already has this state: remember it so the push does not send it back.
    status = desired_status(subscriber, mirror)
    if status == remote_status:
        topics = list(subscriber.topics.values_list("pk", flat=True))
        mirror.digest = digest_of(member_payload(subscriber, status, state, topics))
    mirror.save()


def apply_remote_status(subscriber: Subscriber, remote_status: str, changed_at: datetime, *, reason: str = "",
                        form: str = "mailchimp") -> int:
    """Apply a status Mailchimp reports, through the subscription services. Returns 1 if it changed anything.

    An opt-out in Mailchimp wins unless the person confirmed with us after it. A subscription in Mailchimp
    re-subscribes someone who left only if it is newer than their opt-out here.
    """
    if remote_status in OPTED_OUT_REMOTE and subscriber.status in ON_THE_LIST:
        return _apply_remote_opt_out(subscriber, remote_status, changed_at, form)
    if remote_status == "subscribed":
        return _apply_remote_subscription(subscriber, changed_at)
    return 0


ON_THE_LIST = (Subscriber.Status.SUBSCRIBED, Subscriber.Status.PENDING)


def _apply_remote_opt_out(subscriber: Subscriber, remote_status: str, changed_at: datetime, form: str) -> int:
    """Unsubscribed or cleaned in Mailchimp: the same here, unless they confirmed with us since."""
    if _confirmed_since(subscriber, changed_at):
        return 0  # they opted in again with us after leaving Mailchimp: the push asks Mailchimp to confirm
    if remote_status == "cleaned":
        return int(bounces.record_bounce(subscriber.email, bounces.BOUNCE, detail="Mailchimp: address cleaned"))
    return int(subscriptions.unsubscribe(subscriber, form=form))


def _apply_remote_subscription(subscriber: Subscriber, changed_at: datetime) -> int:
    """Subscribed in Mailchimp: confirms a pending subscriber; re-subscribes someone who left before that."""
    if subscriber.status == Subscriber.Status.PENDING:
        # They confirmed through Mailchimp's opt-in email (the "pending" we pushed after an opt-out).
        outcome = subscriptions.confirm_subscription(subscriber)
        return int(outcome == subscriptions.ConfirmOutcome.CONFIRMED)
    if subscriber.status in subscriptions.OPTED_OUT and (subscriber.unsubscribed_at is None
                                                         or changed_at > subscriber.unsubscribed_at):
        return int(subscriptions.resubscribe(subscriber))
    return 0


# --- One run ----------------------------------------------------------------------------------------------------


class SyncBusy(MailchimpUnavailable):
    """Another sync is running (beat, the command or a campaign about to be sent): try again shortly."""


LOCK_KEY = "mailchimp:sync:running"


@contextmanager
def sync_lock(wait: float = 0.0):
    """One sync at a time across processes (shared cache). Waits up to ``wait`` seconds, then raises SyncBusy."""
    deadline = time.monotonic() + wait
    while not cache.add(LOCK_KEY, 1, timeout=int(conf.MAILCHIMP_SYNC_LOCK_SECONDS)):
        if time.monotonic() >= deadline:
            raise SyncBusy("another Mailchimp sync is running", status=None, title="Busy")
        time.sleep(0.5)
    try:
        yield
    finally:
        cache.delete(LOCK_KEY)


def run_sync(*, full: bool = False, api: Mailchimp | None = None, progress: Progress | None = None,
             wait: float = 0.0) -> SyncSummary:
    """Pull, then push, then move the cursors. Raises MailchimpError when Mailchimp stays unreachable.

    Safe to run again at any time: a run that failed midway resumes (already pushed members are skipped by
    their fingerprint; cursors only move after a complete run). Runs never overlap (``sync_lock``).
    """
    with sync_lock(wait):
        return _run_sync(full=full, api=api, progress=progress)


def _run_sync(*, full: bool, api: Mailchimp | None, progress: Progress | None) -> SyncSummary:
    api = api or get_client()
    state = state_for()
    summary = SyncSummary()
    started = timezone.now()
    calls_before = api.calls
    MailchimpSyncState.objects.filter(pk=state.pk).update(started_at=started, phase="pull", done=0, total=0,
                                                          last_error="")
    try:
        pulled_latest = pull(api, state, summary, full=full, progress=progress)
        state.refresh_from_db()
        pushed_latest = push(api, state, summary, full=full, progress=progress)
    except MailchimpError as exc:
        summary.calls = api.calls - calls_before
        MailchimpSyncState.objects.filter(pk=state.pk).update(phase="failed", last_error=str(exc)[:2000],
                                                              last_summary=summary.as_dict())
        raise
    summary.calls = api.calls - calls_before
    pull_cursor = max(state.pull_cursor, pulled_latest, pushed_latest)
    MailchimpSyncState.objects.filter(pk=state.pk).update(
        push_cursor=started, pull_cursor=pull_cursor, phase="done", finished_at=timezone.now(),
        last_summary=summary.as_dict(), last_error="")
    logger.info("Mailchimp sync: %s", summary.as_dict())
    return summary
