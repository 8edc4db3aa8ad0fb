"""The monthly digest: an issue assembled from the month's published public pages, per topic.

Assembled on the first of each month (Celery beat) for the previous month and sent to subscribers who chose
the monthly digest. Only pages the public may read are included; assembling twice finds the same issue.
"""

from __future__ import annotations

import datetime
import json

from django.db import transaction
from django.utils import timezone

from wagtail.models import Page

from newsletter.models import Audience, NewsletterIndexPage, NewsletterIssue
from newsletter.services.languages import one_version_each
from portal.core.models import Topic
from portal.core.privacy import Viewer, visible_pages
from portal.pages.models import ArticlePage, ConferenceNotesPage


def month_bounds(month: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """The first instant of the month and of the next one, in the current time zone."""
    first = month.replace(day=1)
    following = (first + datetime.timedelta(days=32)).replace(day=1)
    zone = timezone.get_current_timezone()
    return (datetime.datetime.combine(first, datetime.time.min, tzinfo=zone),
            datetime.datetime.combine(following, datetime.time.min, tzinfo=zone))


def pages_of_month(month: datetime.date, language: str | None = None) -> list[Page]:
    """Public articles and conference notes first published during the month, oldest first.

    One version of each: the one in ``language`` (the digest's), else the original. A translation published
    this month of an older page is not new.
    """
    start, end = month_bounds(month)
    ids = [*ArticlePage.objects.values_list("id", flat=True), *ConferenceNotesPage.objects.values_list("id", flat=True)]
    public = visible_pages(Page.objects.filter(id__in=ids), Viewer.anonymous())
    keys = public.filter(first_published_at__gte=start, first_published_at__lt=end).values("translation_key")
    versions = public.filter(translation_key__in=keys)
    earlier = versions.filter(first_published_at__lt=start).values("translation_key")
    chosen = one_version_each(versions.exclude(translation_key__in=earlier), language)[::-1]
    by_id = {page.pk: page for page in Page.objects.filter(id__in=chosen).specific()}
    return [by_id[page_id] for page_id in chosen]


def _by_topic(pages: list[Page]) -> dict[str, list[Page]]:
    """The pages by the name of their first topic (by id), "More from the network" for those without one."""
    by_topic: dict[str, list[Page]] = {}
    topic_names = dict(Topic.objects.values_list("id", "name"))
    for page in pages:
        topic_ids = sorted(page.topics.values_list("id", flat=True))
        name = topic_names[topic_ids[0]] if topic_ids else "More from the network"
        by_topic.setdefault(name, []).append(page)
    return by_topic


def digest_body(pages: list[Page]) -> list[dict]:
    """StreamField data: a heading per topic, then a card per page (pages without topic under "More")."""
    by_topic = _by_topic(pages)
    body = []
    for name in sorted(by_topic, key=lambda n: (n == "More from the network", n)):
        body.append({"type": "text", "value": f"<h3>{name}</h3>"})
        body.extend(
            {"type": "featured_page", "value": {"page": page.pk, "summary": "", "button_label": "Read on the portal"}}
            for page in by_topic[name]
        )
    return body


def assemble_monthly_digest(month: datetime.date, *, publish: bool = True) -> NewsletterIssue | None:
    """Create (once) and publish the digest issue for ``month``; None if nothing was published that month."""
    first = month.replace(day=1)
    archive = NewsletterIndexPage.objects.first()
    if archive is None:
        return None
    existing = NewsletterIssue.objects.filter(digest_month=first).first()
    if existing is not None:
        return existing
    pages = pages_of_month(first, archive.locale.language_code)
    if not pages:
        return None
    issue = _digest_issue(first, pages)
    _add_to_archive(archive, issue, publish=publish)
    return issue


def _add_to_archive(archive: NewsletterIndexPage, issue: NewsletterIssue, *, publish: bool) -> None:
    """The issue as a page of the archive, with its first revision (published, unless ``publish`` is false)."""
    with transaction.atomic():
        archive.add_child(instance=issue)
        revision = issue.save_revision()
        if publish:
            revision.publish()


def _digest_issue(first: datetime.date, pages: list[Page]) -> NewsletterIssue:
    """The (unsaved) digest issue of the month starting on ``first``, with a card for each of ``pages``."""
    label = first.strftime("%B %Y")
    return NewsletterIssue(
        title=f"Monthly digest: {label}",
        slug=f"digest-{first:%Y-%m}",
        subject=f"{label} in the network: {len(pages)} new page{'s' if len(pages) != 1 else ''}",
        preheader="New best practice and conference notes from the past month.",
        intro=f"<p>Everything the network published in {label}, by topic.</p>",
        audience=Audience.PUBLIC,
        digest_month=first,
        body=json.dumps(digest_body(pages)),
    )
