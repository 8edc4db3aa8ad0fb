"""Query budgets: every public page type renders in a fixed number of SQL queries, whether the listing behind
it holds 5 or 500 items. A budget that only holds for 5 would be an N+1 waiting for real content.

Counted for an anonymous visitor with the page cache, the fragment caches and the process memos off (the worst
case: every request renders everything), and for a logged-in member where the page shows members-only content
differently; and, with fragments and memos on, for a warm process. The budgets are the counts measured
when they were set, plus a little room; raise one only with a reason.
"""

import datetime
import json

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from wagtail.models import Page, PageViewRestriction

import pytest

from portal.pages.models import (
    ArticlePage,
    ArticleRelatedPage,
    ConferenceNotesPage,
    HomeFeaturedPage,
    StandardPage,
)
from tests.factories import TopicFactory, UserFactory, paragraph

pytestmark = pytest.mark.django_db

SIZES = (5, 500)
# Measured on 28 Nov 2026 (anonymous; members in brackets), with the privacy gate and site lookups read once per
# request (portal.core.memo) and routing in two queries: home 16 (22), index 19-20 (25), article 20 (26),
# conference notes 13, standard 11, search 11-14, feeds 4-6, newsletter archive 15. Before those changes:
# home 23 (30), index 29-30 (35), article 30 (37), conference notes 18, standard 14, search 13-16, archive 18.
BUDGET_HOME = 18
BUDGET_INDEX = 27
BUDGET_ARTICLE = 22
BUDGET_CONFERENCE = 15
BUDGET_STANDARD = 13
BUDGET_SEARCH = 16
BUDGET_FEED = 7
BUDGET_ARCHIVE = 17
# A warm web process with fragment caches and process memos (production with Redis), page cache off: what a
# logged-in member's or a first visitor's view of a page costs once the site frame and body are cached. Members:
# 7 queries for an article before cached sessions and users (session, user, two permission reads, the groups twice,
# page), 1 after (7 Dec 2026).
# Index pages also read their listing (count, page, filter terms) on every view: they pick the page number.
BUDGET_WARM = 3
BUDGET_WARM_INDEX = 5


def count_queries(client: Client, url: str) -> int:
    client.get(url)  # warm per-process caches (content types, site root paths) as a running server has them
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(queries)


@pytest.fixture(autouse=True)
def fast_page_creation(settings):
    """Building 500 pages is the slow part: skip search indexing (the search test turns it back on) and the
    reference index while building; neither changes what the counted page views query."""
    settings.WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database",
                                                   "AUTO_UPDATE": False}}


def add_pages(parent: Page, model, count: int, make) -> list[Page]:
    """Add ``count`` live children quickly (no revisions: the page rows are what listings read)."""
    from wagtail.signal_handlers import disable_reference_index_auto_update

    pages = []
    with disable_reference_index_auto_update():
        for number in range(count):
            page = make(number)
            parent.add_child(instance=page)
            pages.append(page)
    return pages


def article(number: int, topics=()) -> ArticlePage:
    return ArticlePage(
        title=f"Article {number}", slug=f"article-{number}", summary="What one hotline learned.",
        date=datetime.date(2015, 1, 1) + datetime.timedelta(days=number),
        body=paragraph("Notice and takedown works when hosting providers act fast."),
    )


def conference(number: int) -> ConferenceNotesPage:
    day = datetime.date(2015, 1, 1) + datetime.timedelta(days=number)
    return ConferenceNotesPage(
        title=f"Conference {number}", slug=f"conference-{number}", event_name="Network meeting",
        start_date=day, end_date=day, city="Lyon", country="FR", organisers="Hotline Network",
        summary="Prevention across hotlines.",
    )


@pytest.fixture
def topics(db):
    return [TopicFactory(name=f"Topic {n}", slug=f"topic-{n}") for n in range(3)]


def tag_all(pages, topics):
    for page in pages:
        page.topics.set(topics)
        page.save()


@pytest.fixture
def member_client(db):
    client = Client()
    client.force_login(UserFactory())
    return client


def test_home_page(client, member_client, home, article_index, conference_index, topics):
    """Home: featured pages, latest articles and conferences, the menu; 500 articles change nothing."""
    counts = {}
    for size in SIZES:
        have = ArticlePage.objects.count()
        articles = add_pages(article_index, ArticlePage, size - have, lambda n, have=have: article(have + n))
        tag_all(articles[:20], topics)
        add_pages(conference_index, ConferenceNotesPage, size - ConferenceNotesPage.objects.count(),
                  lambda n, size=size: conference(size * 1000 + n))
        for page in articles[:6]:
            HomeFeaturedPage.objects.get_or_create(home=home, page=page)
        counts[size] = (count_queries(client, home.url), count_queries(member_client, home.url))
    assert counts[5] == counts[500], counts
    assert counts[500][0] <= BUDGET_HOME and counts[500][1] <= BUDGET_HOME + 6, counts


@pytest.mark.parametrize("model,make,index_fixture", [
    (ArticlePage, article, "article_index"),
    (ConferenceNotesPage, conference, "conference_index"),
])
def test_index_pages(client, member_client, request, model, make, index_fixture, topics):
    """Index pages list 12 children per page with topics and lock badges; 500 children cost the same."""
    index = request.getfixturevalue(index_fixture)
    counts = {}
    for size in SIZES:
        have = model.objects.count()
        children = add_pages(index, model, size - have, lambda n, have=have: make(have + n))
        tag_all(children[:15], topics)
        if size == 5:  # one members-only child: hidden from anonymous visitors, a lock badge for members
            PageViewRestriction.objects.create(page=children[0], restriction_type=PageViewRestriction.LOGIN)
        counts[size] = (
            count_queries(client, index.url),
            count_queries(member_client, index.url),
            count_queries(client, index.url + "?page=3&topic=topic-1"),
        )
    assert counts[5][:2] == counts[500][:2], counts
    assert max(counts[500]) <= BUDGET_INDEX, counts


def test_article_page(client, member_client, home, article_index, topics):
    """An article with topics, sectors and related pages; 500 siblings and 500 topics elsewhere change nothing."""
    counts = {}
    target = None
    for size in SIZES:
        have = ArticlePage.objects.count()
        add_pages(article_index, ArticlePage, size - have, lambda n, have=have: article(have + n))
        if target is None:
            target = ArticlePage.objects.order_by("id").first()
            target.topics.set(topics)
            body = [{"type": "related_page", "value": {"page": p.pk, "title": ""}}
                    for p in ArticlePage.objects.exclude(pk=target.pk)[:3]]
            target.body = json.dumps(body + json.loads(paragraph("What worked for us.")))
            target.save()
            for page in ArticlePage.objects.exclude(pk=target.pk)[:4]:
                ArticleRelatedPage.objects.create(article=target, page=page)
        counts[size] = (count_queries(client, target.url), count_queries(member_client, target.url))
    assert counts[5] == counts[500], counts
    assert counts[500][0] <= BUDGET_ARTICLE and counts[500][1] <= BUDGET_ARTICLE + 6, counts


def test_conference_notes_page(client, home, conference_index, topics):
    counts = {}
    for size in SIZES:
        have = ConferenceNotesPage.objects.count()
        add_pages(conference_index, ConferenceNotesPage, size - have, lambda n, have=have: conference(have + n))
        target = ConferenceNotesPage.objects.order_by("id").first()
        target.topics.set(topics)
        target.save()
        counts[size] = count_queries(client, target.url)
    assert counts[5] == counts[500], counts
    assert counts[500] <= BUDGET_CONFERENCE, counts


def test_standard_page(client, home):
    counts = {}
    for size in SIZES:
        have = StandardPage.objects.count()
        add_pages(home, StandardPage, size - have,
                  lambda n, have=have: StandardPage(title=f"About {have + n}", slug=f"about-{have + n}",
                                                    intro="About the network.", show_in_menus=(have + n) < 8))
        target = StandardPage.objects.order_by("id").first()
        counts[size] = count_queries(client, target.url)
    assert counts[5] == counts[500], counts
    assert counts[500] <= BUDGET_STANDARD, counts


def test_search_page(client, home, article_index, settings):
    settings.WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
    counts = {}
    for size in SIZES:
        have = ArticlePage.objects.count()
        add_pages(article_index, ArticlePage, size - have, lambda n, have=have: article(have + n))
        counts[size] = (count_queries(client, reverse("search") + "?q=takedown"),
                        count_queries(client, reverse("search") + "?q=nothingmatches"))
    assert counts[5] == counts[500], counts
    assert max(counts[500]) <= BUDGET_SEARCH, counts


def test_feeds(client, home, article_index, conference_index, topics):
    counts = {}
    for size in SIZES:
        have = ArticlePage.objects.count()
        tag_all(add_pages(article_index, ArticlePage, size - have, lambda n, have=have: article(have + n)), topics)
        counts[size] = (count_queries(client, reverse("feeds:latest-rss")),
                        count_queries(client, reverse("feeds:topic-atom", args=["topic-1"])))
    assert counts[5] == counts[500], counts
    assert max(counts[500]) <= BUDGET_FEED, counts


def test_newsletter_archive(client, home):
    """The newsletter archive lists public issues, 12 a page; 500 issues cost what 5 do."""
    from newsletter.models import NewsletterIssue
    from tests.newsletter.issue_factories import NewsletterIndexPageFactory, NewsletterIssueFactory

    archive = NewsletterIndexPageFactory(parent=home)
    counts = {}
    for size in SIZES:
        have = NewsletterIssue.objects.count()
        add_pages(archive, NewsletterIssue, size - have, lambda n, have=have: NewsletterIssueFactory.build(
            title=f"Issue {have + n}", slug=f"issue-{have + n}"))
        counts[size] = count_queries(client, archive.url)
    assert counts[5] == counts[500], counts
    assert counts[500] <= BUDGET_ARCHIVE, counts


@pytest.mark.parametrize("kind", ["home", "article", "index", "conference", "standard"])
def test_warm_process_pages_cost_at_most_a_few_queries(client, home, article_index, conference_index, topics,
                                                       warm_caches, settings, kind):
    """Fragments, process memos, cached sessions and members on (as in production with Redis), page cache off:
    after the first view, a page is routed and served in at most BUDGET_WARM queries, with 5 or 500 siblings,
    for an anonymous visitor and for a signed-in member of a sector (production's two-factor rules and login
    throttling on: no session, user, group or permission query)."""
    from portal.core import memo
    from tests.portal.members.factories import member_of

    settings.STAFF_2FA_REQUIRED = True
    settings.PRIVACY_SECOND_FACTOR_GROUPS = ["Law enforcement"]
    settings.AXES_ENABLED = True
    member = Client()
    member.force_login(member_of("industry"))
    counts = {}
    for size in SIZES:
        have = ArticlePage.objects.count()
        add_pages(article_index, ArticlePage, size - have, lambda n, have=have: article(have + n))
        target = {
            "home": home,
            "article": ArticlePage.objects.order_by("id").first(),
            "index": article_index,
            "conference": conference_index,
            "standard": StandardPage.objects.first() or StandardPage(title="About", slug="about"),
        }[kind]
        if target.pk is None:
            home.add_child(instance=target)
        memo.forget()  # the pages just added bump the generation: start this size's count warm, not stale
        counts[size] = (count_queries(client, target.url), count_queries(member, target.url))
    assert counts[5] == counts[500], counts
    assert max(counts[500]) <= (BUDGET_WARM_INDEX if kind in ("index", "conference") else BUDGET_WARM), counts
