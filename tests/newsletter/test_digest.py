"""The monthly digest holds the month's public pages only and goes to digest subscribers only."""

import datetime

from django.utils import timezone

from wagtail.models import Page, PageViewRestriction

import pytest

from newsletter.models import Send, Subscriber
from newsletter.services.digest import assemble_monthly_digest
from newsletter.tasks import send_monthly_digest
from tests.factories import ArticlePageFactory
from tests.newsletter.factories import SubscriberFactory
from tests.newsletter.issue_factories import NewsletterIndexPageFactory


def published_on(page, day: datetime.date):
    moment = datetime.datetime.combine(day, datetime.time(12), tzinfo=timezone.get_current_timezone())
    Page.objects.filter(pk=page.pk).update(first_published_at=moment)
    return page


@pytest.fixture
def month_of_pages(home, article_index, topics):
    NewsletterIndexPageFactory(parent=home)
    takedown, _prevention = topics
    inside = published_on(ArticlePageFactory(parent=article_index, title="October takedown"),
                          datetime.date(2026, 10, 3))
    inside.topics.set([takedown])
    published_on(ArticlePageFactory(parent=article_index, title="October prevention"), datetime.date(2026, 10, 30))
    published_on(ArticlePageFactory(parent=article_index, title="September page"), datetime.date(2026, 9, 30))
    published_on(ArticlePageFactory(parent=article_index, title="November page"), datetime.date(2026, 11, 1))
    private = published_on(ArticlePageFactory(parent=article_index, title="October members page"),
                           datetime.date(2026, 10, 15))
    PageViewRestriction.objects.create(page=private, restriction_type=PageViewRestriction.LOGIN)


def test_digest_contains_the_months_public_pages_only(month_of_pages):
    issue = assemble_monthly_digest(datetime.date(2026, 10, 1))
    featured = [block.value["page"].title for block in issue.body if block.block_type == "featured_page"]
    assert sorted(featured) == ["October prevention", "October takedown"]
    assert issue.live and issue.subject.startswith("October 2026")
    assert assemble_monthly_digest(datetime.date(2026, 10, 20)).pk == issue.pk  # once per month
    assert assemble_monthly_digest(datetime.date(2026, 8, 1)) is None  # nothing published then


def test_digest_goes_to_digest_subscribers_only(month_of_pages, smtp, settings, django_capture_on_commit_callbacks):
    settings.NEWSLETTER_EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    SubscriberFactory(email="monthly@example.org", frequency=Subscriber.Frequency.MONTHLY_DIGEST)
    SubscriberFactory(email="every-issue@example.org", frequency=Subscriber.Frequency.EVERY_ISSUE)
    SubscriberFactory(email="pending@example.org", frequency=Subscriber.Frequency.MONTHLY_DIGEST,
                      status=Subscriber.Status.PENDING)

    with django_capture_on_commit_callbacks(execute=True):
        send_monthly_digest("2026-10-01")
        send_monthly_digest("2026-10-01")  # beat fired twice: still one send
    assert Send.objects.count() == 1
    assert smtp.recipients == ["monthly@example.org"]
    text = smtp.messages[0].get_body(("plain",)).get_content()
    assert "October takedown" in text and "September page" not in text and "October members page" not in text
