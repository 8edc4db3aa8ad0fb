"""Factories for newsletter issues and their archive."""

import json

import factory
import wagtail_factories

from newsletter.models import Audience, NewsletterIndexPage, NewsletterIssue
from newsletter.services import gate


def featured(page) -> dict:
    return {"type": "featured_page", "value": {"page": page.pk, "summary": "", "button_label": "Read on the portal"}}


def text(html: str) -> dict:
    return {"type": "text", "value": html}


class NewsletterIndexPageFactory(wagtail_factories.PageFactory):
    title = "Newsletter"
    slug = "newsletter-archive"

    class Meta:
        model = NewsletterIndexPage


class NewsletterIssueFactory(wagtail_factories.PageFactory):
    title = factory.Sequence(lambda n: f"Issue {n}")
    slug = factory.Sequence(lambda n: f"issue-{n}")
    subject = factory.LazyAttribute(lambda o: f"Network news: {o.title}")
    preheader = "What the network learned this month"
    intro = "<p>Welcome to this issue.</p>"
    audience = Audience.PUBLIC
    body = factory.LazyFunction(lambda: json.dumps([text("<p>Hotlines removed most reported content fast.</p>")]))

    class Meta:
        model = NewsletterIssue


def make_issue(parent, *, blocks=None, topics=(), sectors=(), **kwargs) -> NewsletterIssue:
    """A published issue with the given body blocks and audience, refused as the admin form refuses it (the
    gate applies: ``newsletter.services.gate.validate_issue``)."""
    issue = NewsletterIssueFactory.build(**kwargs)
    if blocks is not None:
        issue.body = json.dumps(blocks)
    issue.audience_topics = list(topics)
    issue.audience_sectors = list(sectors)
    gate.validate_issue(issue)
    parent.add_child(instance=issue)
    issue.save_revision().publish()
    issue.refresh_from_db()
    return issue
