"""The one interface every delivery backend implements (SMTP now, Mailchimp next).

The pipeline hands a backend batches of fully rendered messages and learns the outcome of each one through a
callback, so it can mark every Delivery row the moment the provider accepts (or refuses) that message.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field


class Outcome(enum.StrEnum):
    """What happened to one message."""

    SENT = "sent"  # the provider accepted it
    TEMPORARY = "temporary"  # try again later (4xx, connection trouble)
    PERMANENT = "permanent"  # never retry (5xx: no such mailbox, rejected content)


@dataclass(frozen=True)
class OutgoingMessage:
    """One personalised newsletter email, ready to hand to a provider."""

    delivery_id: int
    to: str
    subject: str
    text: str
    html: str
    from_email: str
    headers: dict[str, str] = field(default_factory=dict)
    reply_to: tuple[str, ...] = ()
    #: The SMTP envelope sender (MAIL FROM, later the Return-Path) when it differs from the From address: the
    #: delivery's own bounce address (VERP, ``newsletter.services.headers.return_path``).
    envelope_sender: str = ""


@dataclass(frozen=True)
class DeliveryResult:
    """The provider's answer for one message."""

    delivery_id: int
    outcome: Outcome
    detail: str = ""
    provider_id: str = ""


class BatchInterrupted(Exception):
    """The connection to the provider failed mid-batch: messages not yet reported were not sent.

    Raised after the results for every message already handled have been reported, so the caller can retry
    the rest with backoff.
    """

    def __init__(self, detail: str, in_flight: int | None = None):
        super().__init__(detail)
        self.detail = detail
        #: The delivery being handed over when the connection broke (None: it broke between messages, or
        #: before the first). Only that message may have caused it, so only it spends a retry attempt.
        self.in_flight = in_flight


ResultCallback = Callable[[DeliveryResult], None]


class DeliveryBackend(ABC):
    """Interface: prepare a send once, deliver batches of messages, report figures afterwards."""

    #: Short name used in settings and reports.
    name: str = ""
    #: True when the portal hands the backend one message per recipient (SMTP); False when the provider
    #: sends a campaign to a list itself (Mailchimp).
    per_recipient: bool = True

    def prepare(self, send) -> None:  # noqa: B027 - optional hook, most backends need nothing
        """Do once-per-send set-up (e.g. create a campaign). Must be safe to call again after a crash."""

    @abstractmethod
    def deliver_batch(self, messages: Iterable[OutgoingMessage], on_result: ResultCallback) -> None:
        """Send the messages in order, calling ``on_result`` for each as soon as its fate is known.

        Raises :class:`BatchInterrupted` when the provider becomes unreachable; messages without a result
        were not sent.
        """

    def report(self, send) -> dict:
        """Figures the provider knows about a send (bounces, opens...); empty when it keeps none."""
        return {}
