"""What per-recipient sending (``dispatch``) and campaign sending (``campaigns``) share: a worker's next step,
the backoff after a failure, and pausing a send."""

from __future__ import annotations

import random
from dataclasses import dataclass

from wagtail.log_actions import log

from newsletter.conf import conf
from newsletter.models import Send

ACTIVE = (Send.Status.PREPARING, Send.Status.SENDING)


@dataclass
class BatchOutcome:
    """What a worker should do next for a send."""

    state: str  # "more", "done", "idle", "paused", "wait"
    wait_seconds: float = 0.0
    sent: int = 0


def stopped_outcome(send: Send) -> BatchOutcome:
    """What a worker reports for a send that is not sending: paused, or idle (nothing for it to do)."""
    return BatchOutcome("paused" if send.status == Send.Status.PAUSED else "idle")


def start_scheduled(send_id: int) -> bool:
    """Switch a scheduled send to preparing; True for the one caller that did (several may ask at once)."""
    return bool(Send.objects.filter(pk=send_id, status=Send.Status.SCHEDULED).update(status=Send.Status.PREPARING))


def backoff_seconds(attempt: int) -> float:
    """Exponential backoff with jitter: base · 2^(attempt-1), capped, times a random factor in [0.5, 1.5)."""
    base = float(conf.NEWSLETTER_RETRY_BASE_SECONDS)
    cap = float(conf.NEWSLETTER_RETRY_MAX_SECONDS)
    return min(cap, base * 2 ** max(0, attempt - 1)) * (0.5 + random.random())  # noqa: S311 - jitter, not crypto


def pause_send(send: Send, reason: str, user=None) -> bool:
    changed = Send.objects.filter(pk=send.pk, status__in=ACTIVE).update(status=Send.Status.PAUSED,
                                                                         paused_reason=reason)
    if changed:
        log(instance=send.issue, action="newsletter.pause", user=user, data={"send_id": send.pk, "reason": reason})
    return bool(changed)
