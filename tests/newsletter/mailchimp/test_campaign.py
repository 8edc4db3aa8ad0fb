"""Sending an issue as one Mailchimp campaign, against the fake Mailchimp over HTTP."""

from datetime import UTC, datetime, timedelta

from django.utils import timezone

from wagtail.models import PageViewRestriction

import pytest

from newsletter.models import Audience, Delivery, Send, Subscriber
from newsletter.services import campaigns, dispatch
from tests.factories import StandardPageFactory
from tests.newsletter.factories import SubscriberFactory
from tests.newsletter.issue_factories import NewsletterIndexPageFactory, featured, make_issue

LIST = "a1b2c3d4e5"


@pytest.fixture
def archive(home):
    return NewsletterIndexPageFactory(parent=home)


@pytest.fixture
def mailchimp(settings, fake_mailchimp):
    settings.NEWSLETTER_BACKEND = "mailchimp"
    return fake_mailchimp


@pytest.fixture
def readers(db):
    people = [SubscriberFactory(email=f"reader{n}@example.org") for n in range(12)]
    SubscriberFactory(email="left@example.org", status=Subscriber.Status.UNSUBSCRIBED)
    return people


def run_until_settled(send, limit=30):
    outcomes = []
    for _ in range(limit):
        outcome = dispatch.run_send(send.pk)
        outcomes.append(outcome.state)
        if outcome.state != "wait":
            break
    send.refresh_from_db()
    return outcomes


def only_campaign(fake):
    assert len(fake.campaigns) == 1
    return next(iter(fake.campaigns.values()))


def test_issue_goes_out_as_one_campaign_to_the_frozen_recipients(archive, readers, mailchimp):
    issue = make_issue(archive, audience=Audience.PUBLIC, subject="Takedown news")
    send, _ = dispatch.create_send(issue)

    assert run_until_settled(send) == ["done"]

    campaign = only_campaign(mailchimp)
    assert send.provider_reference == campaign.id
    assert campaign.status == "sent" and campaign.emails_sent == 12
    assert campaign.settings["subject_line"] == "Takedown news"
    segment = mailchimp.lists[LIST].segments[int(send.campaign_segment_id)]
    assert {mailchimp.lists[LIST].members[h].email_address for h in segment["members"]} == {
        p.email for p in readers}
    assert send.status == Send.Status.DONE
    assert set(Delivery.objects.filter(send=send).values_list("status", flat=True)) == {Delivery.Status.SENT}


def test_content_carries_mailchimps_unsubscribe_merge_tag(archive, readers, mailchimp):
    send, _ = dispatch.create_send(make_issue(archive, audience=Audience.PUBLIC))
    run_until_settled(send)

    campaign = only_campaign(mailchimp)
    assert "*|UNSUB|*" in campaign.html and "*|UNSUB|*" in campaign.plain_text
    assert "%%" not in campaign.html and "%%" not in campaign.plain_text
    assert "Hotlines removed most reported content fast." in campaign.html


STEP_CALLS = [
    ("POST", r"/campaigns"),
    ("POST", rf"/lists/{LIST}"),
    ("POST", rf"/lists/{LIST}/segments"),
    ("POST", rf"/lists/{LIST}/segments/\d+"),
    ("PATCH", r"/campaigns/\w+"),
    ("PUT", r"/campaigns/\w+/content"),
    ("GET", r"/campaigns/\w+/send-checklist"),
    ("POST", r"/campaigns/\w+/actions/send"),
]


def test_one_send_creates_one_campaign_even_when_retried_after_each_step(archive, readers, mailchimp, settings):
    """Every step's request is carried out by Mailchimp but its answer is lost; the task is retried each time."""
    settings.MAILCHIMP_MAX_RETRIES = 0
    for method, path in STEP_CALLS:
        mailchimp.lose_answer(method=method, path=path)
    send, _ = dispatch.create_send(make_issue(archive, audience=Audience.PUBLIC))

    outcomes = run_until_settled(send)

    assert outcomes[-1] == "done" and outcomes.count("wait") >= len(STEP_CALLS) - 1
    assert mailchimp.pending_faults() == 0  # every step's answer really was lost once
    campaign = only_campaign(mailchimp)
    assert campaign.status == "sent" and campaign.emails_sent == 12
    assert len(mailchimp.lists[LIST].segments) == 1
    assert send.provider_reference == campaign.id and send.status == Send.Status.DONE
    # A further retry (e.g. a duplicate task message) does nothing at all.
    mailchimp.reset_calls()
    assert dispatch.run_send(send.pk).state == "idle"
    assert mailchimp.calls == []


def test_429_then_success(archive, readers, mailchimp):
    mailchimp.fail_next(429, times=2, method="POST", path=r"/campaigns")
    send, _ = dispatch.create_send(make_issue(archive, audience=Audience.PUBLIC))

    assert run_until_settled(send) == ["done"]

    assert len(mailchimp.calls_to("POST", r"/3.0/campaigns")) == 3
    assert only_campaign(mailchimp).status == "sent"


def test_mailchimp_down_waits_and_resumes_without_losing_anyone(archive, readers, mailchimp, settings):
    settings.MAILCHIMP_MAX_RETRIES = 1
    mailchimp.fail_next(503, times=1000, path=r"/campaigns/\w+/content")
    send, _ = dispatch.create_send(make_issue(archive, audience=Audience.PUBLIC))

    assert dispatch.run_send(send.pk).state == "wait"
    send.refresh_from_db()
    assert send.status == Send.Status.SENDING and send.campaign_step == "configured"
    assert Delivery.objects.filter(send=send, status=Delivery.Status.QUEUED).count() == 12

    mailchimp.clear_faults()
    assert run_until_settled(send) == ["done"]
    assert only_campaign(mailchimp).emails_sent == 12


def test_schedule_rounds_up_to_a_quarter_hour(archive, readers, mailchimp):
    asked = (timezone.now() + timedelta(days=1)).replace(hour=9, minute=7, second=30, microsecond=0)
    send, _ = dispatch.create_send(make_issue(archive, audience=Audience.PUBLIC), scheduled_at=asked)

    assert campaigns.hand_over_scheduled() == [send.pk]
    assert run_until_settled(send) == ["done"]

    campaign = only_campaign(mailchimp)
    expected = asked.astimezone(UTC).replace(minute=15, second=0)
    assert campaign.status == "schedule"
    assert campaign.send_time == expected.isoformat()
    assert send.campaign_send_time == expected


@pytest.mark.parametrize(("asked", "rounded"), [
    ("2026-12-01T09:00:00", "2026-12-01T09:00:00"),
    ("2026-12-01T09:00:01", "2026-12-01T09:15:00"),
    ("2026-12-01T09:44:59", "2026-12-01T09:45:00"),
    ("2026-12-01T23:50:00", "2026-12-02T00:00:00"),
])
def test_quarter_hour_rounding(asked, rounded):
    as_utc = datetime.fromisoformat(asked).replace(tzinfo=UTC)
    assert campaigns.quarter_hour(as_utc) == datetime.fromisoformat(rounded).replace(tzinfo=UTC)


def test_members_only_page_cannot_reach_a_public_audience_through_mailchimp(archive, home, readers, mailchimp):
    page = StandardPageFactory(parent=home, title="Open for now")
    issue = make_issue(archive, blocks=[featured(page)], audience=Audience.PUBLIC)
    send, _ = dispatch.create_send(issue)
    PageViewRestriction.objects.create(page=page, restriction_type=PageViewRestriction.LOGIN)

    dispatch.run_send(send.pk)

    send.refresh_from_db()
    assert send.status == Send.Status.PAUSED and "Open for now" in send.paused_reason
    assert mailchimp.campaigns == {}
    assert not [call for call in mailchimp.calls if "/campaigns" in call[1]]


def test_members_audience_is_not_sent_through_mailchimp(archive, readers, mailchimp):
    send, _ = dispatch.create_send(make_issue(archive, audience=Audience.MEMBERS))

    assert dispatch.run_send(send.pk).state == "paused"

    send.refresh_from_db()
    assert send.status == Send.Status.PAUSED and "only public issues" in send.paused_reason
    assert mailchimp.campaigns == {}


def test_the_celery_tasks_send_one_campaign(archive, readers, mailchimp, settings):
    """start_send runs two parallel workers (eagerly here): only one campaign goes out."""
    from newsletter.tasks import start_send

    settings.NEWSLETTER_PARALLEL_BATCHES = 2
    send, _ = dispatch.create_send(make_issue(archive, audience=Audience.PUBLIC))

    assert start_send.delay(send.pk).get() == "started"

    send.refresh_from_db()
    assert send.status == Send.Status.DONE
    assert only_campaign(mailchimp).emails_sent == 12
    assert len(mailchimp.calls_to("POST", r"/3.0/campaigns/\w+/actions/send")) == 1


def test_campaign_tracks_no_opens_and_counts_clicks_through_the_portal_only(archive, readers, mailchimp):
    """No open pixel from Mailchimp either; links go through the portal's anonymous per-link counter."""
    send, _ = dispatch.create_send(make_issue(archive, audience=Audience.PUBLIC, blocks=[
        {"type": "text", "value": '<p><a href="https://hotline.example.net/report">Report</a></p>'}]))
    run_until_settled(send)

    tracking = mailchimp._campaign_json(only_campaign(mailchimp))["tracking"]
    assert (tracking["opens"], tracking["html_clicks"], tracking["text_clicks"]) == (False, False, False)
    html = only_campaign(mailchimp).html
    assert "/newsletter/l/" in html and "https://hotline.example.net/report" not in html
    assert "CLICK_STAMP" not in html and "CLICK_STAMP" not in only_campaign(mailchimp).plain_text


def test_a_campaign_mailchimp_holds_can_be_unscheduled_from_the_admin(archive, readers, mailchimp, client,
                                                                       admin_user):
    from django.urls import reverse

    from wagtail.models import PageLogEntry

    asked = timezone.now() + timedelta(days=2)
    send, _ = dispatch.create_send(make_issue(archive, audience=Audience.PUBLIC), scheduled_at=asked)
    assert campaigns.hand_over_scheduled() == [send.pk]
    run_until_settled(send)
    campaign = only_campaign(mailchimp)
    assert campaign.status == "schedule" and send.status == Send.Status.DONE

    client.force_login(admin_user)
    progress = client.get(reverse("newsletter_sending:progress", args=[send.pk])).content.decode()
    assert "unschedule the Mailchimp campaign" in progress
    answer = client.post(reverse("newsletter_sending:action", args=[send.pk, "cancel"]), follow=True)

    assert "campaign is unscheduled" in answer.content.decode()
    assert campaign.status == "save" and campaign.send_time == ""
    assert len(mailchimp.calls_to("POST", rf"/3.0/campaigns/{campaign.id}/actions/unschedule")) == 1
    send.refresh_from_db()
    assert send.status == Send.Status.CANCELLED
    assert set(Delivery.objects.filter(send=send).values_list("status", flat=True)) == {Delivery.Status.QUEUED}
    entry = PageLogEntry.objects.filter(action="newsletter.cancel").get()
    assert entry.user == admin_user and entry.data["mailchimp_campaign"] == campaign.id
    # Asking again changes nothing (the button is gone, a replayed POST is refused without calling Mailchimp).
    again = client.post(reverse("newsletter_sending:action", args=[send.pk, "cancel"]), follow=True)
    assert "could not be cancelled" in again.content.decode()
    assert len(mailchimp.calls_to("POST", r"/3.0/campaigns/\w+/actions/unschedule")) == 1


def test_a_campaign_already_going_out_is_not_reported_as_cancelled(archive, readers, mailchimp, client,
                                                                   admin_user):
    from django.urls import reverse

    send, _ = dispatch.create_send(make_issue(archive, audience=Audience.PUBLIC),
                                   scheduled_at=timezone.now() + timedelta(days=1))
    campaigns.hand_over_scheduled()
    run_until_settled(send)
    only_campaign(mailchimp).status = "sending"  # Mailchimp started while the editor was deciding

    client.force_login(admin_user)
    answer = client.post(reverse("newsletter_sending:action", args=[send.pk, "cancel"]), follow=True)

    assert "Mailchimp did not unschedule the campaign" in answer.content.decode()
    send.refresh_from_db()
    assert send.status == Send.Status.DONE
    assert set(Delivery.objects.filter(send=send).values_list("status", flat=True)) == {Delivery.Status.SENT}
