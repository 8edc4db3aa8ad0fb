"""Wagtail admin for sending issues: audit-log actions, preview, test send, send/schedule, progress, reports.

Imported from ``wagtail_hooks`` so its hooks register with the rest of the newsletter admin.
"""

from __future__ import annotations

from collections import defaultdict

from wagtail import hooks
from wagtail.log_actions import LogFormatter

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
