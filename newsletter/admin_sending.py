"""Wagtail admin for sending issues: audit-log actions, preview, test send, send/schedule, progress, reports.

Imported from ``wagtail_hooks`` so its hooks register with the rest of the newsletter admin.
"""

from __future__ import annotations

import re
from collections import defaultdict

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.validators import validate_email
from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import include, path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from wagtail import hooks
from wagtail.admin.widgets import Button
from wagtail.log_actions import LogFormatter, log

from newsletter.backends import OutgoingMessage, get_backend
from newsletter.mailchimp import admin_views as mailchimp_admin_views
from newsletter.models import Delivery, NewsletterIssue, Send
from newsletter.services import campaigns, dispatch, emails, engagement, gate, rendering
from newsletter.services.audience import audience_label, audience_size
from newsletter.services.campaigns import quarter_hour
from newsletter.services.rendering import html_to_text
from newsletter.services.test_sends import TestSendRefused, check_test_send
from newsletter.tasks import queue_send, start_send, tick_sends

SEND_LOG_ACTIONS = {
    "newsletter.send": ("Send newsletter", "Sent to {audience} (send {send_id})"),
    "newsletter.schedule": ("Schedule newsletter", "Scheduled for {audience} at {scheduled_at}"),
    "newsletter.cancel": ("Cancel newsletter", "Cancelled send {send_id}"),
    "newsletter.pause": ("Pause newsletter", "Paused send {send_id}: {reason}"),
    "newsletter.resume": ("Resume newsletter", "Resumed send {send_id}"),
    "newsletter.test_send": ("Send test newsletter", "Test sent to {recipients}"),
}


class SendLogFormatter(LogFormatter):
    """Audit-log lines for sending actions, filled from the entry's data (missing values left blank)."""

    template = ""

    def format_message(self, log_entry):
        return self.template.format_map(defaultdict(str, log_entry.data or {}))


@hooks.register("register_log_actions")
def register_send_log_actions(actions):
    for action, (label, template) in SEND_LOG_ACTIONS.items():
        formatter = type("SendLogFormatter", (SendLogFormatter,), {"label": label, "template": template})
        actions.register_action(action)(formatter)


# --- Views -------------------------------------------------------------------------------------------------------

MAX_TEST_RECIPIENTS = 5


class TestSendForm(forms.Form):
    recipients = forms.CharField(
        label="Send a test to",
        help_text=f"Up to {MAX_TEST_RECIPIENTS} staff addresses (or addresses on the configured test list), separated "
                  "by commas. Test emails say so in the subject.",
    )

    def clean_recipients(self):
        addresses = _split_addresses(self.cleaned_data["recipients"])
        if not addresses:
            raise forms.ValidationError("Enter at least one address.")
        if len(addresses) > MAX_TEST_RECIPIENTS:
            raise forms.ValidationError(f"At most {MAX_TEST_RECIPIENTS} addresses for a test.")
        _validate_addresses(addresses)
        return addresses


def _split_addresses(text: str) -> list[str]:
    """Addresses separated by commas or semicolons, blanks dropped."""
    return list(filter(None, (part.strip() for part in re.split("[,;]", text))))


def _validate_addresses(addresses: list[str]) -> None:
    """Refuse the first entry that is not an email address, naming it."""
    for address in addresses:
        try:
            validate_email(address)
        except forms.ValidationError as exc:
            raise forms.ValidationError(f"“{address}” is not an email address.") from exc


class SendForm(forms.Form):
    when = forms.ChoiceField(choices=[("now", "Send now"), ("schedule", "Schedule for later")],
                             widget=forms.RadioSelect, initial="now")
    scheduled_at = forms.DateTimeField(
        required=False, label="Send at", help_text="Your local time, e.g. 2026-12-01 09:00",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        error = _schedule_error(data)
        if error:
            self.add_error("scheduled_at", error)
        return data


def _schedule_error(data: dict) -> str:
    """What is wrong with the time chosen for a scheduled send ("" when nothing is, or when sending now)."""
    if data.get("when") != "schedule":
        return ""
    at = data.get("scheduled_at")
    if not at:
        return "Choose when to send."
    if at <= timezone.now():
        return "Choose a time in the future."
    return ""


def _issue_for(request, page_id: int, *, publish: bool = False):
    issue = get_object_or_404(NewsletterIssue, pk=page_id)
    permissions = issue.permissions_for_user(request.user)
    if not (permissions.can_publish() if publish else permissions.can_edit()):
        raise PermissionDenied
    return issue


def _draft(issue):
    """The issue as the editor last saved it (previews and tests show the draft)."""
    return issue.get_latest_revision_as_object() if issue.has_unpublished_changes else issue


def _preview_html(issue) -> str:
    html = rendering.render_issue(issue).html
    for placeholder in (rendering.UNSUBSCRIBE, rendering.PREFERENCES):
        html = html.replace(placeholder, "#")
    return html.replace(rendering.EMAIL, "reader@example.org")


def issue_send_view(request, page_id: int):
    """Overview of an issue's sending: audience and size, gate check, previews, test send, send or schedule."""
    issue = _issue_for(request, page_id)
    can_send = issue.permissions_for_user(request.user).can_publish()
    forms_ = {"test_form": TestSendForm(prefix="test"), "send_form": SendForm(prefix="send"), "confirm": False}
    response = _handle_post(request, issue, can_send, forms_) if request.method == "POST" else None
    if response is not None:
        return response
    return TemplateResponse(request, "newsletter/admin/issue_send.html",
                            _send_page_context(request, issue, can_send, forms_))


def _handle_post(request, issue, can_send: bool, forms_: dict):
    """The test-send form or the send form, whichever was posted: a redirect, or None to show the page again."""
    if "test-recipients" in request.POST:
        return _handle_test_send(request, issue, forms_)
    return _handle_send(request, issue, can_send, forms_)


def _handle_test_send(request, issue, forms_: dict):
    """Send the draft to the test addresses, or leave the form with the reason it was refused."""
    form = forms_["test_form"] = TestSendForm(request.POST, prefix="test")
    if not form.is_valid():
        return None
    recipients = form.cleaned_data["recipients"]
    try:
        check_test_send(issue, recipients, request.user)
    except TestSendRefused as refused:
        form.add_error("recipients", str(refused))
        return None
    send_test(_draft(issue), recipients, request.user)
    messages.success(request, f"Test sent to {', '.join(recipients)}.")
    return redirect("newsletter_sending:issue", page_id=issue.pk)


def _handle_send(request, issue, can_send: bool, forms_: dict):
    """Send or schedule once the editor confirmed (the first valid post asks for the confirmation)."""
    if not can_send:
        raise PermissionDenied
    form = forms_["send_form"] = SendForm(request.POST, prefix="send")
    if not issue.live or issue.has_unpublished_changes:
        messages.error(request, "Publish the latest version of the issue before sending it.")
        return None
    if not form.is_valid():
        return None
    if not form.cleaned_data.get("confirmed"):
        forms_["confirm"] = True  # show the audience size and ask once more
        return None
    return _confirmed_send(request, issue, form.cleaned_data)


def _confirmed_send(request, issue, data: dict):
    """Create the send once (a second press finds it) and start it now or leave it scheduled."""
    scheduled_at = data["scheduled_at"] if data["when"] == "schedule" else None
    try:
        send, created = queue_send(issue, user=request.user, scheduled_at=scheduled_at)
    except gate.GateError as exc:
        _say_refused(request, exc)
        return redirect("newsletter_sending:issue", page_id=issue.pk)
    if not created:
        messages.warning(request, "This issue was already sent (or scheduled) to this audience.")
    elif scheduled_at and send.backend == "mailchimp":
        _note_quarter_hour(request, scheduled_at)
    return redirect("newsletter_sending:progress", send_id=send.pk)


def _say_refused(request, refusal: gate.GateError) -> None:
    """Each reason the access gate gives for refusing the send (a page the audience may not read...)."""
    for violation in refusal.violations:
        messages.error(request, violation.message)


def _note_quarter_hour(request, scheduled_at) -> None:
    rounded = quarter_hour(scheduled_at)
    if rounded != scheduled_at:
        messages.info(request, "Mailchimp schedules only on the quarter hour: this issue will go "
                      f"out at {rounded:%Y-%m-%d %H:%M} UTC.")


def _send_page_context(request, issue, can_send: bool, forms_: dict) -> dict:
    return {
        "issue": issue,
        "audience": audience_label(issue),
        "audience_size": audience_size(issue),
        "violations": gate.gate_violations(issue),
        "sends": Send.objects.filter(issue=issue).order_by("-created_at"),
        **forms_,
        "scheduled_raw": request.POST.get("send-scheduled_at", ""),
        "can_send": can_send,
        "draft_url": reverse("wagtailadmin_pages:view_draft", args=[issue.pk]),
        "email_preview_url": reverse("newsletter_sending:email_preview", args=[issue.pk]),
        "edit_url": reverse("wagtailadmin_pages:edit", args=[issue.pk]),
    }


def send_test(issue, recipients: list[str], user) -> None:
    """Email the issue to a few addresses, marked as a test, without touching subscribers or sends."""
    html = _preview_html(issue)

    messages_ = [
        OutgoingMessage(delivery_id=0, to=address, subject=f"[Test] {issue.subject}", text=html_to_text(html),
                        html=html, from_email=emails.sender())
        for address in recipients
    ]
    get_backend("smtp").deliver_batch(messages_, lambda result: None)
    log(instance=issue, action="newsletter.test_send", user=user, data={
        "recipients": ", ".join(recipients), "revision": issue.latest_revision_id,
        "draft": bool(issue.has_unpublished_changes),
    })


def email_preview_view(request, page_id: int):
    """The draft issue exactly as the email's HTML (personal links disabled)."""
    issue = _draft(_issue_for(request, page_id))
    response = HttpResponse(_preview_html(issue))
    response["X-Frame-Options"] = "SAMEORIGIN"
    return response


def progress_view(request, send_id: int):
    send = get_object_or_404(Send.objects.select_related("issue"), pk=send_id)
    _issue_for(request, send.issue_id)
    if settings.CELERY_TASK_ALWAYS_EAGER:
        # The embedded default has no broker, hence no beat: opening a progress page does beat's round
        # (a due scheduled send starts, a send held back by a mail server outage is tried again).
        tick_sends.delay()
    # Recipients' addresses and failure reasons are personal data: only staff who may see subscribers get them.
    can_see_recipients = any(request.user.has_perm(f"newsletter.{perm}_subscriber") for perm in ("view", "change"))
    failures = _failures(send) if can_see_recipients else None
    context = {
        "send": send,
        "progress": dispatch.progress(send),
        "campaign": _campaign_context(send),
        "engagement": engagement.report(send),
        "failures": failures,
        "can_see_recipients": can_see_recipients,
        "progress_url": reverse("newsletter_sending:progress_json", args=[send.pk]),
        "issue_url": reverse("newsletter_sending:issue", args=[send.issue_id]),
        "can_send": send.issue.permissions_for_user(request.user).can_publish(),
    }
    return TemplateResponse(request, "newsletter/admin/send_progress.html", context)


def _failures(send):
    """The send's failed and bounced deliveries (the first 200) with their reasons."""
    return Delivery.objects.filter(send=send, status__in=[Delivery.Status.FAILED, Delivery.Status.BOUNCED]).only(
        "email", "status", "error", "attempts")[:200]


def _campaign_context(send) -> dict | None:
    """The Mailchimp side of a send (campaign, schedule, report) for the progress page; None for SMTP sends."""
    if send.backend != "mailchimp":
        return None
    send_time, rounded = _campaign_schedule(send)
    return {
        "campaign_id": ", ".join(send.campaign_ids),
        "languages": _campaign_languages(send),
        "can_unschedule": campaigns.can_unschedule(send),
        "step": send.campaign_step,
        "send_time": send_time,
        "rounded": rounded,
        "report": send.provider_report or {},
        "report_at": send.provider_report_at,
    }


def _campaign_languages(send) -> list[str]:
    """Which campaign is which, in the order of campaign_id: the original's (if it had readers), then by language."""
    return (["original"] if send.provider_reference else []) + sorted(send.campaign_languages or {})


def _campaign_schedule(send) -> tuple:
    """When Mailchimp sends a scheduled send (its own answer, else the quarter hour it rounds to) and whether that
    differs from the time the editor chose."""
    if not send.scheduled_at:
        return send.campaign_send_time, False
    planned = quarter_hour(send.scheduled_at)
    send_time = send.campaign_send_time or planned
    return send_time, send_time != send.scheduled_at or planned != send.scheduled_at


def progress_json_view(request, send_id: int):
    send = get_object_or_404(Send.objects.select_related("issue"), pk=send_id)
    _issue_for(request, send.issue_id)
    return JsonResponse(dispatch.progress(send), headers={"Cache-Control": "no-store"})


@require_POST
def send_action_view(request, send_id: int, action: str):
    """Pause, resume or cancel a send (publishers only); every action is audit-logged."""
    send = get_object_or_404(Send, pk=send_id)
    _issue_for(request, send.issue_id, publish=True)
    if action not in SEND_ACTIONS:
        raise PermissionDenied
    SEND_ACTIONS[action](request, send)
    return redirect("newsletter_sending:progress", send_id=send.pk)


def _pause(request, send) -> None:
    _say_done(request, dispatch.pause_send(send, f"Paused by {request.user.get_username()}", user=request.user),
              "paused")


def _resume(request, send) -> None:
    with transaction.atomic():
        done = dispatch.resume_send(send, user=request.user)
        if done:
            transaction.on_commit(lambda: start_send.delay(send.pk))
    _say_done(request, done, "resumed")


def _cancel(request, send) -> None:
    if campaigns.can_unschedule(send):  # already handed to Mailchimp, which holds it for its time
        _unschedule(request, send)
    else:
        _say_done(request, dispatch.cancel_send(send, user=request.user), "cancelled")


def _unschedule(request, send) -> None:
    refused = campaigns.unschedule(send, user=request.user)
    if refused:
        messages.error(request, refused)
    else:
        messages.success(request, "Send cancelled: the Mailchimp campaign is unscheduled; it will not go out.")


def _say_done(request, done: bool, word: str) -> None:
    if done:
        messages.success(request, f"Send {word}.")
    else:
        messages.warning(request, f"The send could not be {word} in its current state.")


SEND_ACTIONS = {"pause": _pause, "resume": _resume, "cancel": _cancel}


@hooks.register("register_admin_urls")
def register_sending_urls():
    urls = [
        path("issues/<int:page_id>/", issue_send_view, name="issue"),
        path("issues/<int:page_id>/email-preview/", email_preview_view, name="email_preview"),
        path("sends/<int:send_id>/", progress_view, name="progress"),
        path("sends/<int:send_id>/progress.json", progress_json_view, name="progress_json"),
        path("sends/<int:send_id>/<str:action>/", send_action_view, name="action"),
    ]
    return [path("newsletter-sending/", include((urls, "newsletter_sending")))]


@hooks.register("register_page_header_buttons")
def issue_send_button(page, user, view_name, next_url=None):
    if isinstance(page.specific_deferred, NewsletterIssue) and page.permissions_for_user(user).can_edit():
        yield Button("Preview, test and send", reverse("newsletter_sending:issue", args=[page.pk]), icon_name="mail",
                     priority=5)


@hooks.register("register_admin_urls")
def register_mailchimp_urls():
    return mailchimp_admin_views.urlpatterns


@hooks.register("register_settings_menu_item")
def register_mailchimp_menu_item():
    return mailchimp_admin_views.SyncMenuItem("Mailchimp sync", reverse("mailchimp_sync"), icon_name="mail", order=900)
