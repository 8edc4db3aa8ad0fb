"""The Mailchimp webhook endpoint: checks the secret and queues the event (``webhooks.handle_event`` applies it
in the Celery task)."""

from django.http import Http404, HttpResponse, HttpResponseForbidden, JsonResponse
from django.utils.crypto import constant_time_compare
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from newsletter.conf import conf
from newsletter.mailchimp.webhooks import EVENTS, MAX_FIELDS
from newsletter.tasks import process_mailchimp_webhook


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def mailchimp_webhook(request, secret: str):
    expected = conf.MAILCHIMP_WEBHOOK_SECRET
    if not expected:
        raise Http404
    if not constant_time_compare(secret, expected):
        return HttpResponseForbidden("Wrong secret.")
    if request.method in {"GET", "HEAD"}:
        return HttpResponse("OK", content_type="text/plain")
    payload = _event_payload(request)
    refused = _not_queued(payload)
    if refused is not None:
        return refused
    process_mailchimp_webhook.delay(payload)
    return JsonResponse({"queued": payload["type"]})


def _event_payload(request) -> dict:
    """The posted fields, at most MAX_FIELDS of them and 1,000 characters each."""
    return {key: request.POST.get(key, "")[:1000] for key in list(request.POST.keys())[:MAX_FIELDS]}


def _not_queued(payload: dict) -> JsonResponse | None:
    """The answer to an event that is not queued (not a list event, or naming no address); None to queue it."""
    kind = payload.get("type", "")
    if kind not in EVENTS:
        # Campaign events and anything new: acknowledged so Mailchimp does not retry or disable the hook.
        return JsonResponse({"ignored": kind or "no type"})
    if not payload.get("data[email]") and not payload.get("data[old_email]"):
        return JsonResponse({"error": "No address in the event."}, status=400)
    return None
