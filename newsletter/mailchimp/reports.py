"""Campaign reports: Mailchimp's figures for a Send, pulled for a few days after it goes out.

``pull_due_reports`` (beat, hourly) refreshes every Mailchimp Send that went out within
``MAILCHIMP_REPORT_DAYS`` (5); the figures are kept on the Send (``provider_report``) and shown beside the
SMTP figures on the send's progress page.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.utils import timezone

from newsletter.conf import conf
from newsletter.mailchimp.client import Mailchimp, MailchimpError, MailchimpNotFound, get_client
from newsletter.models import Send

logger = logging.getLogger(__name__)


def summarise(report: dict) -> dict:
    """The figures we show, from Mailchimp's report document."""
    bounces = report.get("bounces") or {}
    opens = report.get("opens") or {}
    clicks = report.get("clicks") or {}
    return {
        "emails_sent": report.get("emails_sent", 0),
        "hard_bounces": bounces.get("hard_bounces", 0),
        "soft_bounces": bounces.get("soft_bounces", 0),
        "unique_opens": opens.get("unique_opens", 0),
        "open_rate": _percent(opens.get("open_rate")),
        "unique_clicks": clicks.get("unique_subscriber_clicks", clicks.get("unique_clicks", 0)),
        "click_rate": _percent(clicks.get("click_rate")),
        "unsubscribed": report.get("unsubscribed", 0),
        "abuse_reports": report.get("abuse_reports", 0),
        "send_time": report.get("send_time", ""),
    }


def _percent(fraction) -> float:
    """Mailchimp's rate (a fraction, or null) as a percentage with one decimal."""
    return round(100 * float(fraction or 0), 1)


def combine(figures: list[dict]) -> dict:
    """One report for a send of several campaigns (one per language): counts added, rates over all sent."""
    if len(figures) == 1:
        return figures[0]
    total = {key: sum(f.get(key, 0) for f in figures) for key in (
        "emails_sent", "hard_bounces", "soft_bounces", "unique_opens", "unique_clicks", "unsubscribed",
        "abuse_reports")}
    total["open_rate"] = _weighted_rate(figures, "open_rate", total["emails_sent"])
    total["click_rate"] = _weighted_rate(figures, "click_rate", total["emails_sent"])
    total["send_time"] = min(f.get("send_time", "") for f in figures)
    total["campaigns"] = len(figures)
    return total


def _weighted_rate(figures: list[dict], key: str, sent: int) -> float:
    """A rate over several campaigns: each campaign's rate weighted by the emails it sent."""
    return round(sum(f[key] * f["emails_sent"] for f in figures) / (sent or 1), 1)


def pull_report(send: Send, api: Mailchimp | None = None) -> dict | None:
    """Fetch and store the report of one Send's campaigns (all languages). None while Mailchimp has none yet."""
    if not send.campaign_ids:
        return None
    reports = _campaign_reports(api or get_client(), send.campaign_ids)
    if not reports:
        return None
    figures = combine(reports)
    Send.objects.filter(pk=send.pk).update(provider_report=figures, provider_report_at=timezone.now())
    send.provider_report = figures
    return figures


def _campaign_reports(api: Mailchimp, campaign_ids: list[str]) -> list[dict]:
    """The figures of each campaign Mailchimp has a report for (none yet for one that is only scheduled)."""
    reports = []
    for campaign_id in campaign_ids:
        try:
            reports.append(summarise(api.call(lambda c, campaign_id=campaign_id:
                                              c.reports.get_campaign_report(campaign_id))))
        except MailchimpNotFound:
            continue  # scheduled, not sent yet
    return reports


def due_sends(now=None):
    """Mailchimp sends that went out within the last MAILCHIMP_REPORT_DAYS days (or are due to)."""
    now = now or timezone.now()
    days = int(conf.MAILCHIMP_REPORT_DAYS)
    return Send.objects.filter(backend="mailchimp", status=Send.Status.DONE).filter(
        campaign_send_time__gte=now - timedelta(days=days), campaign_send_time__lte=now)


def pull_due_reports(now=None) -> dict:
    """Refresh the reports of recent Mailchimp sends; a Mailchimp outage only delays them to the next run."""
    api = None
    pulled, failed = 0, 0
    for send in due_sends(now):
        api = api or get_client()
        try:
            pulled += pull_report(send, api) is not None
        except MailchimpError as exc:
            failed += 1
            logger.warning("Mailchimp report for send %s not pulled: %s", send.pk, exc)
    return {"pulled": pulled, "failed": failed}
