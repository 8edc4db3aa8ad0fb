"""Admin page for the Mailchimp audience sync: where it stands, what the last run did, and "Sync now".

Its URL and menu item are registered from ``newsletter.admin_sending`` (imported by the newsletter's hooks).
Reading needs the "change subscriber" permission; starting a sync too.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path

from wagtail.admin.menu import MenuItem

PERMISSION = "newsletter.change_subscriber"


def sync_status(state) -> dict:
    """What the page (and a JSON caller) shows about a sync state row."""
    if state is None:
        return {"state": None, "percent": 0.0, "summary": {}}
    return {"state": state, "percent": _percent_done(state), "summary": state.last_summary or {}}


def _percent_done(state) -> float:
    if state.total:
        return round(100 * state.done / state.total, 1)
    return 100.0 if state.phase == "done" else 0.0


def sync_view(request):
    from newsletter.mailchimp import client
    from newsletter.models import MailchimpSyncState

    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied
    configured = client.is_configured()
    if request.method == "POST":
        _start_sync(request, configured)
        return redirect("mailchimp_sync")
    state = None
    if configured:
        state = MailchimpSyncState.objects.filter(audience_id=client.audience_id()).first()
    return TemplateResponse(request, "newsletter/admin/mailchimp_sync.html",
                            {"configured": configured, **sync_status(state)})


def _start_sync(request, configured: bool) -> None:
    """Queue a sync (a full one if asked) once the request's transaction commits."""
    if not configured:
        messages.error(request, "Mailchimp is not configured (MAILCHIMP_API_KEY, MAILCHIMP_AUDIENCE_ID).")
        return
    from newsletter.tasks import mailchimp_sync

    full = request.POST.get("full") == "1"
    transaction.on_commit(lambda: mailchimp_sync.delay(full=full))
    messages.success(request, "Sync started." if not full else "Full sync started.")


urlpatterns = [path("newsletter-mailchimp/", sync_view, name="mailchimp_sync")]


class SyncMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.has_perm(PERMISSION)
