"""Provider webhooks for delivery reports (bounces, complaints) from an SMTP relay.

POST JSON ``{"email": "...", "type": "bounce"|"complaint", "send_id": 12?, "detail": "..."}`` (or a list of
them) to ``/newsletter/webhooks/bounces/<secret>/``. The secret in the URL (``NEWSLETTER_WEBHOOK_SECRET``)
is compared in constant time; without a configured secret the endpoint does not exist.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.http import Http404, HttpResponseForbidden, JsonResponse
from django.utils.crypto import constant_time_compare
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from newsletter.services import bounces

MAX_EVENTS = 1000


@csrf_exempt
@require_POST
def bounce_webhook(request, secret: str):
    expected = getattr(settings, "NEWSLETTER_WEBHOOK_SECRET", "")
    if not expected:
        raise Http404
    if not constant_time_compare(secret, expected):
        return HttpResponseForbidden("Wrong secret.")
    try:
        payload = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        return JsonResponse({"error": "Body must be JSON."}, status=400)
    events = payload if isinstance(payload, list) else [payload]
    if not events or len(events) > MAX_EVENTS:
        return JsonResponse({"error": f"Send between 1 and {MAX_EVENTS} events."}, status=400)
    errors = []
    for number, event in enumerate(events):
        if not isinstance(event, dict) or not isinstance(event.get("email"), str) or event.get("type") not in {
            bounces.BOUNCE, bounces.COMPLAINT
        }:
            errors.append(f"event {number}: needs an 'email' and a 'type' of 'bounce' or 'complaint'")
    if errors:
        return JsonResponse({"error": "Nothing recorded.", "details": errors}, status=400)
    known = 0
    for event in events:
        send_id = event.get("send_id") if isinstance(event.get("send_id"), int) else None
        known += bounces.record_bounce(event["email"], event["type"], send_id=send_id,
                                       detail=str(event.get("detail", ""))[:500])
    return JsonResponse({"recorded": len(events), "known_addresses": known})
