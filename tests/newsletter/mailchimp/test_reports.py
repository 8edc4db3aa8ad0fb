"""Mailchimp's campaign report pulled after the send and shown beside the SMTP figures in the progress view."""

from datetime import timedelta

from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

import pytest

from newsletter.models import Audience, Send
from newsletter.services import dispatch
from newsletter.tasks import mailchimp_hand_over_scheduled, mailchimp_reports
from tests.factories import UserFactory
from tests.newsletter.factories import SubscriberFactory
from tests.newsletter.issue_factories import NewsletterIndexPageFactory, make_issue


@pytest.fixture
def moderator(db):
    return UserFactory(username="moderator", is_staff=True, groups=[Group.objects.get(name="Moderators")])


@pytest.fixture
def issue(home, settings, fake_mailchimp):
    settings.NEWSLETTER_BACKEND = "mailchimp"
    for n in range(5):
        SubscriberFactory(email=f"report{n}@example.org")
    return make_issue(NewsletterIndexPageFactory(parent=home), audience=Audience.PUBLIC, subject="Report news")


def test_report_is_pulled_and_shown_beside_the_smtp_figures(client, moderator, issue, fake_mailchimp):
    send, _ = dispatch.create_send(issue)
    dispatch.run_send(send.pk)
    send.refresh_from_db()
    fake_mailchimp.set_report(send.provider_reference, unique_opens=3, opens_total=7, unique_clicks=2,
                              hard_bounces=1, soft_bounces=2, unsubscribed=1)

    assert mailchimp_reports.delay().get() == {"pulled": 1, "failed": 0}

    send.refresh_from_db()
    assert send.provider_report["emails_sent"] == 5
    assert send.provider_report["unique_opens"] == 3 and send.provider_report["open_rate"] == 60.0
    client.force_login(moderator)
    html = client.get(reverse("newsletter_sending:progress", args=[send.pk])).content.decode()
    assert 'data-field="sent">5<' in html  # our own ledger
    assert "Mailchimp campaign" in html and send.provider_reference in html
    assert "<td>3 (60.0%)</td>" in html  # unique opens
    assert "<td>1 / 2</td>" in html  # bounces hard / soft


def test_reports_are_pulled_only_for_a_few_days(issue, fake_mailchimp, settings):
    settings.MAILCHIMP_REPORT_DAYS = 5
    send, _ = dispatch.create_send(issue)
    dispatch.run_send(send.pk)
    Send.objects.filter(pk=send.pk).update(campaign_send_time=timezone.now() - timedelta(days=6))
    fake_mailchimp.reset_calls()

    assert mailchimp_reports.delay().get() == {"pulled": 0, "failed": 0}
    assert fake_mailchimp.calls == []


def test_scheduling_tells_the_editor_about_the_quarter_hour(client, moderator, issue, fake_mailchimp):
    client.force_login(moderator)
    response = client.post(reverse("newsletter_sending:issue", args=[issue.pk]), {
        "send-when": "schedule", "send-scheduled_at": "2099-01-01T09:07", "send-confirmed": "True"}, follow=True)
    html = response.content.decode()
    assert "Mailchimp schedules only on the quarter hour" in html and "2099-01-01 09:15" in html

    send = Send.objects.get()
    assert mailchimp_hand_over_scheduled.delay().get() == [send.pk]
    send.refresh_from_db()
    assert send.status == Send.Status.DONE
    campaign = fake_mailchimp.campaigns[send.provider_reference]
    assert campaign.status == "schedule" and campaign.send_time.startswith("2099-01-01T09:15")
    page = client.get(reverse("newsletter_sending:progress", args=[send.pk])).content.decode()
    assert "Mailchimp sends at <strong>2099-01-01 09:15 UTC</strong>" in page
    assert "rounded up" in page
