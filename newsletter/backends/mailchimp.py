"""Mailchimp as a delivery backend: the whole Send goes out as one campaign to a static segment.

The portal does not hand Mailchimp one message per recipient (``per_recipient = False``): ``run_send``
passes the Send to :func:`newsletter.services.campaigns.run_campaign_send`, which creates the campaign,
targets the frozen recipient list, sets our rendered content and sends or schedules it.
"""

from __future__ import annotations

from collections.abc import Iterable

from newsletter.backends.base import DeliveryBackend, OutgoingMessage, ResultCallback


class MailchimpBackend(DeliveryBackend):
    name = "mailchimp"
    per_recipient = False

    def prepare(self, send) -> None:
        """Nothing to do while the list is frozen: the campaign steps all run in ``run_campaign_send``."""

    def deliver_batch(self, messages: Iterable[OutgoingMessage], on_result: ResultCallback) -> None:
        raise NotImplementedError("Mailchimp sends whole campaigns; see newsletter.services.campaigns.")

    def report(self, send) -> dict:
        """The campaign report last pulled from Mailchimp (sent, bounces, opens, clicks, unsubscribes)."""
        return dict(send.provider_report or {})
