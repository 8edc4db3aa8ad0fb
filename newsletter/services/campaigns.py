"""Sending a Send as one Mailchimp campaign, step by step, so a retried task resumes and never sends twice.

``run_send`` hands a Send here when its backend sends whole campaigns (``per_recipient = False``). By then the
access gate has been checked again, the content rendered once and the recipients frozen into Delivery rows.
The steps, each recorded on the Send (``campaign_step``) before the next begins:

1. **create** the campaign; its id is stored on the Send before anything else happens. A create whose answer
   was lost is found again by its title instead of being repeated.
2. **sync** the audience (pull opt-outs made in Mailchimp, push anyone missing), so the segment can hold
   every recipient.
3. **segment**: a static segment named after the Send, filled in batches of 500 from the frozen Delivery rows
   (suppressed ones left out). Adding a member twice is harmless, so a retry simply adds again.
4. **configure** the campaign: the segment as recipients, subject, sender.
5. **content**: our rendered HTML and text with Mailchimp's merge tags (``*|UNSUB|*``...) in place of our
   personal-link placeholders.
6. **check** Mailchimp's send checklist; a campaign that is not ready pauses the Send with Mailchimp's reasons.
7. **send** now, or **schedule** for the Send's time rounded up to a quarter hour (Mailchimp schedules only
   on :00, :15, :30, :45; the progress page says so). Before repeating an interrupted send the campaign's
   status is read back, so it is never sent twice.
8. **done**: the Delivery rows are marked sent (handed to Mailchimp) and the Send finished.

When Mailchimp is unreachable the outcome is "wait" and the task comes back later; nothing is lost.

**Languages.** A translated issue becomes one campaign per language that has readers: each recipient is in the
segment of the version they would get by SMTP (their language's translation, else the original). The original's
campaign is recorded on the Send's own fields; each translation's in ``Send.campaign_languages`` under its
language code, with its own title and segment name (``[fr]``), so every campaign is created once and a retry
resumes each at its own step. All are checked before any is sent or scheduled, for the same time.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr

from django.core.cache import cache
from django.utils import timezone

from newsletter.conf import conf
from newsletter.mailchimp import sync
from newsletter.mailchimp.client import (
    Mailchimp,
    MailchimpError,
    MailchimpNotFound,
    MailchimpRejected,
    MailchimpUnavailable,
    get_client,
)
from newsletter.models import Audience, Delivery, Send
from newsletter.services import emails, engagement, rendering
from newsletter.services.send_state import (
    BatchOutcome,
    backoff_seconds,
    pause_send,
    start_scheduled,
    stopped_outcome,
)

logger = logging.getLogger(__name__)

STEPS = ["creating", "created", "synced", "segmenting", "segment", "members", "configured", "content", "checked",
         "sending", "sent", "done"]
SEGMENT_BATCH = 500
#: Mailchimp's merge tags replacing our per-recipient placeholders.
MERGE_TAGS = {rendering.UNSUBSCRIBE: "*|UNSUB|*", rendering.PREFERENCES: "*|UPDATE_PROFILE|*",
              rendering.EMAIL: "*|EMAIL|*",
              # One campaign for everyone: click links carry no stamp (the campaign's send time stands in).
              engagement.STAMP_SLOT: ""}


class CampaignPaused(Exception):
    """The campaign cannot go out as it is; the Send is paused with this reason."""


def quarter_hour(moment: datetime) -> datetime:
    """The first quarter hour (:00, :15, :30, :45) at or after ``moment``, in UTC."""
    moment = moment.astimezone(UTC)
    floor = moment.replace(minute=moment.minute - moment.minute % 15, second=0, microsecond=0)
    return floor if floor == moment else floor + timedelta(minutes=15)


def planned_send_time(send: Send, now: datetime | None = None) -> datetime | None:
    """When Mailchimp will send a scheduled Send (rounded up to a quarter hour), or None to send at once."""
    now = now or timezone.now()
    if not send.scheduled_at:
        return None
    rounded = quarter_hour(send.scheduled_at)
    return rounded if rounded > now + timedelta(minutes=2) else None


TRACKING = {"opens": False, "html_clicks": False, "text_clicks": False}


def _language_mark(send) -> str:
    return f" [{send.language}]" if isinstance(send, _Target) else ""


def campaign_title(send: Send) -> str:
    """Unique per Send and language: how an interrupted create is recognised."""
    return f"Portal send {send.pk}{_language_mark(send)}: {send.issue.title}"[:100]


def segment_name(send: Send) -> str:
    return f"Portal send {send.pk}{_language_mark(send)}"


def campaign_content(send: Send) -> tuple[str, str]:
    """Our rendered HTML and text with Mailchimp merge tags in place of our personal placeholders."""
    html, text = send.rendered_html, send.rendered_text
    for placeholder, tag in MERGE_TAGS.items():
        html, text = html.replace(placeholder, tag), text.replace(placeholder, tag)
    return _with_unsubscribe(html, text)


def _with_unsubscribe(html: str, text: str) -> tuple[str, str]:
    """Mailchimp's unsubscribe link added to a version that has none."""
    if "*|UNSUB|*" not in html:
        html += '<p style="font-size:12px"><a href="*|UNSUB|*">Unsubscribe</a></p>'
    if "*|UNSUB|*" not in text:
        text += "\n\nUnsubscribe: *|UNSUB|*\n"
    return html, text


def _step_index(step: str) -> int:
    return STEPS.index(step) if step in STEPS else -1


def _reached(send: Send, step: str) -> bool:
    return _step_index(send.campaign_step) >= _step_index(step)


def _save(send: Send, **fields) -> None:
    """Record progress on the Send at once (each step is committed before the next begins)."""
    if isinstance(send, _Target):
        send.save(**fields)
        return
    fields.setdefault("last_activity_at", timezone.now())
    Send.objects.filter(pk=send.pk).update(**fields)
    for name, value in fields.items():
        setattr(send, name, value)


def run_campaign_send(send: Send, backend=None, *, api: Mailchimp | None = None) -> BatchOutcome:
    """Work one Send through the campaign steps (see the module docstring). Safe to call again at any point."""
    lock = f"mailchimp:campaign:{send.pk}"
    if not cache.add(lock, 1, timeout=int(conf.MAILCHIMP_CAMPAIGN_LOCK_SECONDS)):
        return BatchOutcome("idle")  # another worker is on it
    try:
        send.refresh_from_db()
        if send.status != Send.Status.SENDING:
            return stopped_outcome(send)
        return _work_campaigns(send, api or get_client())
    finally:
        cache.delete(lock)


def _work_campaigns(send: Send, api: Mailchimp) -> BatchOutcome:
    """Run the steps; what Mailchimp's refusals or absence mean for the Send (paused, or try again later)."""
    try:
        _run_steps(send, api)
    except CampaignPaused as exc:
        pause_send(send, f"Mailchimp: {exc}")
        return BatchOutcome("paused")
    except MailchimpUnavailable as exc:
        logger.warning("Send %s: Mailchimp unavailable at step %r (%s); will retry", send.pk,
                       send.campaign_step, exc)
        _save(send, paused_reason="")
        return BatchOutcome("wait", wait_seconds=backoff_seconds(1))
    except MailchimpError as exc:
        pause_send(send, f"Mailchimp refused step “{send.campaign_step or 'start'}”: {exc}")
        return BatchOutcome("paused")
    return BatchOutcome("done", sent=_finish(send))


class _Target:
    """One campaign of a Send: the original's (the Send's own fields) or a translation's (``campaign_languages``).

    It answers the Send's attributes, so the steps below work on either; ``_save`` records its progress.
    """

    FIELDS = {"provider_reference": "id", "campaign_step": "step", "campaign_segment_id": "segment"}

    def __init__(self, send: Send, language: str, emails: list[str]):
        self.send, self.language, self.emails = send, language, emails

    def __getattr__(self, name):
        if name in _Target.FIELDS:
            return self._progress().get(_Target.FIELDS[name], "")
        return getattr(self.send, name)

    def _progress(self) -> dict:
        """This language's campaign id, step and segment as recorded in ``Send.campaign_languages``."""
        return (self.send.campaign_languages or {}).get(self.language, {})

    def save(self, **fields) -> None:
        own = {_Target.FIELDS[k]: fields.pop(k) for k in list(fields) if k in _Target.FIELDS}
        languages = {**(self.send.campaign_languages or {}), self.language: {**self._progress(), **own}}
        _save(self.send, campaign_languages=languages, **fields)

    @property
    def rendered_subject(self) -> str:
        return self.send.rendered_translations[self.language]["subject"]

    @property
    def rendered_html(self) -> str:
        return self.send.rendered_translations[self.language]["html"]

    @property
    def rendered_text(self) -> str:
        return self.send.rendered_translations[self.language]["text"]

    @property
    def preheader(self) -> str:
        version = next((page for page in rendering.live_translations(self.send.issue.specific)
                        if rendering.issue_language(page) == self.language), None)
        return getattr(version, "preheader", "") or ""


def recipients_by_language(send: Send) -> dict[str, list[str]]:
    """The send's recipients grouped by the version they read: a translation's language code, or "" (original)."""
    groups: dict[str, list[str]] = {}
    rows = (Delivery.objects.filter(send=send).exclude(status=Delivery.Status.SUPPRESSED).order_by("id")
            .values_list("email", "subscriber__language"))
    for email, language in rows:
        groups.setdefault(rendering.translation_key(send, language), []).append(email)
    return groups


def _targets(send: Send) -> list:
    """The Send itself (original language) and a target per translation with readers."""
    groups = recipients_by_language(send)
    return [send] + [_Target(send, language, groups[language]) for language in sorted(groups) if language]


def _run_steps(send: Send, api: Mailchimp) -> None:
    issue = send.issue.specific
    _check_public(issue)
    list_id = sync.state_for().audience_id
    targets = _targets(send)
    _skip_original_if_unread(send, api)
    for target in targets:
        _prepare_campaign(target, issue, api, list_id)
    _send_all(send, targets, api)


def _send_all(send: Send, targets: list, api: Mailchimp) -> None:
    """Step 7 for every campaign, once all are prepared (so all go out for the same time); then the Send's."""
    for target in targets:
        if not _reached(target, "sent") and target.provider_reference:
            _send_or_schedule(target, api)
    if not _reached(send, "sent"):
        _save(send, campaign_step="sent")


def _check_public(issue) -> None:
    if issue.audience != Audience.PUBLIC:
        raise CampaignPaused(
            "only public issues are sent through Mailchimp (its audience holds the public list, and campaign "
            "archive pages are public). Send members' issues by SMTP.")


def _skip_original_if_unread(send: Send, api: Mailchimp) -> None:
    """Everyone reads a translation: no campaign in the original, but the audience is synced all the same."""
    if not recipients_by_language(send).get("") and not _reached(send, "checked"):
        sync.run_sync(api=api, wait=float(conf.MAILCHIMP_SYNC_WAIT_SECONDS))
        _save(send, campaign_step="checked")


def _prepare_campaign(send, issue, api: Mailchimp, list_id: str) -> None:
    """Steps 1 to 6 for one campaign (``send`` is the Send or a translation's ``_Target``): each step not yet
    reached, in order; each records the step it reached."""
    for step, action in _PREPARATION:
        if not _reached(send, step):
            action(send, issue, api, list_id)


def _create_campaign(send, issue, api: Mailchimp, list_id: str) -> None:
    title = campaign_title(send)
    if send.campaign_step == "creating":  # a create may have succeeded without us hearing the answer
        existing = _find_campaign(api, list_id, title)
        if existing:
            _save(send, provider_reference=existing, campaign_step="created")
            return
    _save(send, campaign_step="creating")
    _save(send, provider_reference=_create_or_find(api, list_id, title), campaign_step="created")


def _create_or_find(api: Mailchimp, list_id: str, title: str) -> str:
    """Create the campaign (once: a create whose answer was lost is found by its title); returns its id."""
    body = {"type": "regular", "recipients": {"list_id": list_id}, "settings": {"title": title}}
    try:
        return api.call(lambda c: c.campaigns.create(body), retry=False)["id"]
    except MailchimpUnavailable:
        existing = _find_campaign(api, list_id, title)
        if not existing:
            raise
        return existing


def _sync_audience(send, issue, api: Mailchimp, list_id: str) -> None:
    """The original's campaign syncs the audience for all of them, first (a translation's only records the step)."""
    if not isinstance(send, _Target):
        sync.run_sync(api=api, wait=float(conf.MAILCHIMP_SYNC_WAIT_SECONDS))
    _save(send, campaign_step="synced")


def _create_segment(send, issue, api: Mailchimp, list_id: str) -> None:
    name = segment_name(send)
    if send.campaign_step == "segmenting":  # a create may have succeeded without us hearing the answer
        found = _find_segment(api, list_id, name)
        if found:
            _save(send, campaign_segment_id=found, campaign_step="segment")
            return
    _save(send, campaign_step="segmenting")
    segment = api.call(lambda c: c.lists.create_segment(list_id, {"name": name, "static_segment": []}),
                       retry=False)
    _save(send, campaign_segment_id=str(segment["id"]), campaign_step="segment")


def _find_segment(api: Mailchimp, list_id: str, name: str) -> str:
    """The id of the audience's static segment called ``name`` ("" if there is none)."""
    page = api.call(lambda c: c.lists.list_segments(list_id, type="static", count=1000))
    found = [s for s in page.get("segments", []) if s.get("name") == name]
    return str(found[0]["id"]) if found else ""


def _fill_segment(send, issue, api: Mailchimp, list_id: str) -> None:
    emails_ = send.emails if isinstance(send, _Target) else recipients_by_language(send).get("", [])
    missing = _add_to_segment(api, list_id, send.campaign_segment_id, emails_)
    if missing:
        logger.warning("Send %s: %s recipients are not in the Mailchimp audience", send.pk, len(missing))
        Delivery.objects.filter(send_id=send.pk, email__in=missing, status=Delivery.Status.QUEUED).update(
            status=Delivery.Status.FAILED, error="Not in the Mailchimp audience (not synced or refused there).")
    _save(send, campaign_step="members")


def _add_to_segment(api: Mailchimp, list_id: str, segment_id: str, emails_: list[str]) -> list[str]:
    """Add the addresses to the segment in batches; returns those Mailchimp's audience does not hold."""
    missing = []
    for start in range(0, len(emails_), SEGMENT_BATCH):
        chunk = emails_[start:start + SEGMENT_BATCH]
        answer = api.call(lambda c, chunk=chunk: c.lists.batch_segment_members(
            {"members_to_add": chunk}, list_id, segment_id))
        missing += [address for error in answer.get("errors", []) for address in error.get("email_addresses", [])]
    return missing


def _configure_campaign(send, issue, api: Mailchimp, list_id: str) -> None:
    """Audience segment, subject, sender and preview text of the campaign (no tracking)."""
    name, address = parseaddr(emails.sender())
    preheader = send.preheader if isinstance(send, _Target) else getattr(issue, "preheader", "")
    body = {"recipients": {"list_id": list_id, "segment_opts": {"saved_segment_id": int(send.campaign_segment_id)}},
            "settings": {"subject_line": send.rendered_subject[:150], "title": campaign_title(send),
                         "from_name": (name or "Newsletter")[:100], "reply_to": address,
                         "preview_text": (preheader or "")[:150]},
            # No open pixel and no per-person click tracking: our own redirect counts clicks per link.
            "tracking": TRACKING}
    api.call(lambda c: c.campaigns.update(send.provider_reference, body))
    _save(send, campaign_step="configured")


def _set_content(send, issue, api: Mailchimp, list_id: str) -> None:
    html, text = campaign_content(send)
    api.call(lambda c: c.campaigns.set_content(send.provider_reference, {"html": html, "plain_text": text}))
    _save(send, campaign_step="content")


def _check_campaign(send, issue, api: Mailchimp, list_id: str) -> None:
    """Mailchimp's send checklist; ``CampaignPaused`` naming its errors when it is not ready."""
    checklist = api.call(lambda c: c.campaigns.get_send_checklist(send.provider_reference))
    if not checklist.get("is_ready"):
        problems = [f"{item.get('heading')}: {item.get('details')}" for item in checklist.get("items", [])
                    if item.get("type") == "error"]
        raise CampaignPaused("the send checklist is not complete: " + "; ".join(problems))
    _save(send, campaign_step="checked")


#: Steps 1 to 6 of a campaign: the step each action records, in order.
_PREPARATION = (
    ("created", _create_campaign),
    ("synced", _sync_audience),
    ("segment", _create_segment),
    ("members", _fill_segment),
    ("configured", _configure_campaign),
    ("content", _set_content),
    ("checked", _check_campaign),
)


def _find_campaign(api: Mailchimp, list_id: str, title: str) -> str:
    page = api.call(lambda c: c.campaigns.list(list_id=list_id, count=1000, sort_field="create_time",
                                               sort_dir="DESC"))
    for campaign in page.get("campaigns", []):
        if (campaign.get("settings") or {}).get("title") == title:
            return campaign["id"]
    return ""


def _send_or_schedule(send: Send, api: Mailchimp) -> None:
    campaign_id = send.provider_reference
    # Interrupted while sending: hand it over again only if Mailchimp did not act on it.
    if not (send.campaign_step == "sending" and _mailchimp_acted(api, campaign_id)):
        _hand_over(send, api, campaign_id)
    _save(send, campaign_step="sent")


def _hand_over(send: Send, api: Mailchimp, campaign_id: str) -> None:
    """Send the campaign now, or schedule it; a refusal is an error unless Mailchimp has acted on it already."""
    when = planned_send_time(send)
    _save(send, campaign_step="sending", campaign_send_time=when or timezone.now())
    try:
        _send_or_schedule_call(api, campaign_id, when)
    except (MailchimpRejected, MailchimpNotFound):
        if not _mailchimp_acted(api, campaign_id):
            raise


def _send_or_schedule_call(api: Mailchimp, campaign_id: str, when: datetime | None) -> None:
    """Mailchimp's "schedule" action for ``when``, or its "send" action (now) without one; never retried."""
    if when:
        stamp = when.isoformat()
        api.call(lambda c: c.campaigns.schedule(campaign_id, {"schedule_time": stamp}), retry=False)
    else:
        api.call(lambda c: c.campaigns.send(campaign_id), retry=False)


def _mailchimp_acted(api: Mailchimp, campaign_id: str) -> bool:
    """Whether Mailchimp has sent the campaign, is sending it or holds it scheduled."""
    return api.call(lambda c: c.campaigns.get(campaign_id)).get("status") in {"sent", "sending", "schedule"}


def _finish(send: Send) -> int:
    """Mark the frozen recipients as handed to Mailchimp and the Send as done."""
    handed_at = send.campaign_send_time or timezone.now()
    count = Delivery.objects.filter(send=send, status__in=[Delivery.Status.QUEUED, Delivery.Status.SENDING]).update(
        status=Delivery.Status.SENT, sent_at=handed_at, lease_until=None, claim="", copies=1)
    now = timezone.now()
    Send.objects.filter(pk=send.pk, status=Send.Status.SENDING).update(
        status=Send.Status.DONE, finished_at=now, campaign_step="done", last_activity_at=now)
    logger.info("Send %s handed to Mailchimp as campaign %s (%s recipients)", send.pk, send.provider_reference,
                count)
    return count


def can_unschedule(send: Send, now: datetime | None = None) -> bool:
    """Whether a Mailchimp send is held by Mailchimp for a later time (so its campaigns can still be called off)."""
    return _handed_to_mailchimp(send) and _held_for_later(send, now or timezone.now())


def _handed_to_mailchimp(send: Send) -> bool:
    """Whether a Mailchimp send has campaigns that were sent or scheduled there."""
    return bool(send.backend == "mailchimp" and send.campaign_ids
                and send.status in {Send.Status.SENDING, Send.Status.DONE} and _reached(send, "sent"))


def _held_for_later(send: Send, now: datetime) -> bool:
    """Whether Mailchimp's send time for the campaigns is still to come."""
    return bool(send.campaign_send_time and send.campaign_send_time > now)


def unschedule(send: Send, user=None, *, api: Mailchimp | None = None) -> str:
    """Call off the campaigns Mailchimp holds for later (its "unschedule" action); the Send is cancelled.

    Returns "" when done, else why not. Every campaign of the send (one per language) is unscheduled; one that
    Mailchimp has started sending stays sent, and then the Send is not cancelled (the reason names it). The
    recipients go back to queued (nothing was mailed) and the act is in the issue's history.
    """
    send.refresh_from_db()
    if not can_unschedule(send):
        return "This send is not a campaign waiting in Mailchimp."
    try:
        going = _unschedule_each(api or get_client(), send.campaign_ids)
    except MailchimpUnavailable as exc:
        return f"Mailchimp could not be reached ({exc}); try again."
    if going:
        return (f"Mailchimp did not unschedule the campaign {', '.join(going)}: it may be going out now. "
                "The send is not cancelled.")
    _cancel_unscheduled(send, user)
    return ""


def _cancel_unscheduled(send: Send, user) -> None:
    """Nothing was mailed: the recipients go back to queued, the Send is cancelled, and the issue's history says so."""
    from wagtail.log_actions import log

    now = timezone.now()
    Delivery.objects.filter(send=send, status=Delivery.Status.SENT).update(
        status=Delivery.Status.QUEUED, sent_at=None, copies=0)
    Send.objects.filter(pk=send.pk).update(status=Send.Status.CANCELLED, campaign_step="unscheduled",
                                           finished_at=now, last_activity_at=now)
    log(instance=send.issue, action="newsletter.cancel", user=user,
        data={"send_id": send.pk, "mailchimp_campaign": ", ".join(send.campaign_ids), "unscheduled": True})


def _unschedule_each(api: Mailchimp, campaign_ids: list[str]) -> list[str]:
    """Unschedule every campaign; returns those Mailchimp would not unschedule and that are not back to a draft
    (it may be sending them), as "id (status)"."""
    going = []
    for campaign_id in campaign_ids:
        try:
            api.call(lambda c, campaign_id=campaign_id: c.campaigns.unschedule(campaign_id), retry=False)
        except (MailchimpRejected, MailchimpNotFound):
            status = api.call(lambda c, campaign_id=campaign_id: c.campaigns.get(campaign_id)).get("status")
            if status not in {"save", "paused"}:
                going.append(f"{campaign_id} ({status})")
    return going


def hand_over_scheduled(now: datetime | None = None) -> list[int]:
    """Scheduled Mailchimp sends, started early so Mailchimp holds the campaign until its (rounded) time.

    Each id is returned once; the caller starts them (``start_send``). The recipient list is frozen now;
    anyone who unsubscribes before the send time is unsubscribed in Mailchimp by the sync, so Mailchimp
    skips them.
    """
    now = now or timezone.now()
    started = []
    candidates = Send.objects.filter(status=Send.Status.SCHEDULED, backend="mailchimp", scheduled_at__isnull=False)
    for send in candidates:
        if planned_send_time(send, now) is None:
            continue  # due within minutes: tick_sends starts it at its time and it goes out at once
        if start_scheduled(send.pk):
            started.append(send.pk)
    return started
