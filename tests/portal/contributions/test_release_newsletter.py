"""A newsletter issue chosen for a release goes out through the newsletter pipeline when the embargo lifts:
not before, once however often beat runs, with the released figures in its statistics block, and audited.

Real parts: the newsletter's dispatch (eager Celery tasks) delivering to an SMTP server on loopback.
"""

import datetime
import json

from django.utils import timezone

from wagtail.models import ModelLogEntry, PageLogEntry

import pytest

from newsletter.models import Send
from portal.contributions.services import submissions as workflow
from portal.contributions.services.aggregation import aggregate, release_due, send_waiting_newsletters
from portal.contributions.tasks import release_due_figures
from tests.newsletter.conftest import smtp  # noqa: F401 - the SMTP sink fixture
from tests.newsletter.factories import SubscriberFactory
from tests.newsletter.issue_factories import NewsletterIndexPageFactory, NewsletterIssueFactory, make_issue
from tests.portal.contributions.factories import ReportingPeriodFactory, hotline, submitter_for
from tests.portal.stats.conftest import add_observation, figures, make_dataset

pytestmark = pytest.mark.django_db

MARK = "987,654"


@pytest.fixture
def sending(settings, smtp):  # noqa: F811
    settings.NEWSLETTER_BACKEND = "smtp"
    settings.NEWSLETTER_EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.NEWSLETTER_RATE_PER_SECOND = None
    settings.NEWSLETTER_WINDOW_CAP = None
    return smtp


@pytest.fixture
def scheduled(home, admin_user):
    """2026 figures approved for one hotline and aggregated into a public dataset for release in an hour."""
    dataset = make_dataset("network", title="Network statistics")
    add_observation(dataset, 2014, **figures(1200, 600, 500, 455, 30, 15))
    period = ReportingPeriodFactory(year=2026)
    organisation = hotline("Release Hotline", country="NL")
    submission = workflow.submit(submitter_for(organisation), period, organisation, {
        "reports_received": "987654", "reports_illegal": "1000", "items_removed": "900",
        "removed_within_3_days": "850"})
    workflow.decide(submission.pk, admin_user, approve=True)
    return dataset, period


def highlight(dataset) -> list[dict]:
    return [{"type": "statistics",
             "value": {"dataset": dataset.pk, "style": "kpis", "measure": "items_removed", "period": "2026"}}]


def later(hours=2):
    moment = timezone.now() + datetime.timedelta(hours=hours)
    return lambda: moment


def body(message) -> str:
    return message.get_body(("plain",)).get_content()


def test_the_issue_goes_out_once_at_the_release_with_the_figures(home, scheduled, admin_user, sending, committed):
    dataset, period = scheduled
    readers = [SubscriberFactory(email=f"release{n}@example.org") for n in range(3)]
    issue = make_issue(NewsletterIndexPageFactory(parent=home), blocks=highlight(dataset), subject="Figures 2026")
    aggregation = aggregate(period, dataset, admin_user, release_at=timezone.now() + datetime.timedelta(hours=1),
                            newsletter_issue=issue)
    assert committed(release_due_figures) == 0  # before the release time: nothing, and no send
    assert not Send.objects.filter(issue=issue).exists() and sending.messages == []

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(timezone, "now", later())
        assert committed(release_due_figures) == 1
        assert committed(release_due_figures) == 0  # beat again (or a second worker): nothing more
        assert committed(send_waiting_newsletters) == 0
    messages = sending.wait_for(len(readers))
    assert sorted(sending.recipients) == sorted(reader.email for reader in readers)  # each reader once
    assert all(MARK in body(message) for message in messages)  # the released figures, in the statistics block
    aggregation.refresh_from_db()
    assert Send.objects.filter(issue=issue).count() == 1 and aggregation.newsletter_send.issue_id == issue.pk
    entry = ModelLogEntry.objects.get(action="contributions.period.newsletter")
    assert entry.user == admin_user and entry.data["send"] == aggregation.newsletter_send_id
    assert PageLogEntry.objects.filter(action="newsletter.send", user=admin_user, page=issue).count() == 1


def test_an_issue_published_after_the_release_goes_out_when_it_is_published(home, scheduled, admin_user, sending,
                                                                           committed):
    dataset, period = scheduled
    SubscriberFactory(email="late@example.org")
    archive = NewsletterIndexPageFactory(parent=home)
    issue = NewsletterIssueFactory.build(subject="Figures 2026, late", body=json.dumps(highlight(dataset)))
    archive.add_child(instance=issue)
    issue.save_revision()
    if issue.live:
        issue.unpublish()  # a draft: its publishing is scheduled for after the release
    aggregation = aggregate(period, dataset, admin_user, release_at=timezone.now() + datetime.timedelta(hours=1),
                            newsletter_issue=issue)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(timezone, "now", later())
        assert committed(release_due) == 1
    aggregation.refresh_from_db()
    assert aggregation.released_at and aggregation.newsletter_send is None  # waits for the issue
    assert sending.messages == []
    issue.refresh_from_db()
    issue.get_latest_revision().publish()
    assert committed(send_waiting_newsletters) == 1
    assert committed(send_waiting_newsletters) == 0
    assert sending.wait_for(1)[0]["To"] == "late@example.org"


def test_figures_released_now_send_their_issue_at_once(home, scheduled, admin_user, sending, committed):
    dataset, period = scheduled
    SubscriberFactory(email="now@example.org")
    issue = make_issue(NewsletterIndexPageFactory(parent=home), blocks=highlight(dataset))
    committed(aggregate, period, dataset, admin_user, newsletter_issue=issue)
    assert MARK in body(sending.wait_for(1)[0])
    assert committed(send_waiting_newsletters) == 0


def test_the_review_page_offers_unsent_issues_and_shows_the_send(admin_client, home, scheduled):
    from django.urls import reverse

    dataset, period = scheduled
    issue = make_issue(NewsletterIndexPageFactory(parent=home), blocks=highlight(dataset), title="Release issue")
    response = admin_client.post(reverse("reporting_periods:aggregate", args=[period.pk]), {
        "dataset": dataset.pk, "release_at": "2099-01-01T09:00", "preview": "login",
        "newsletter_issue": issue.pk}, follow=True)
    html = response.content.decode()
    assert "Release issue: goes out at the release" in html
    assert period.aggregations.get().newsletter_issue_id == issue.pk
