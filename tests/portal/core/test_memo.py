"""Site-wide answers memoised per request and per process (portal.core.memo): the privacy gate asks the
database once per request, a warm process not at all, and a restriction applies to the very next request once
its change commits, in this process and (through the generation) in every other."""

import re
import time

from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from wagtail.models import PageViewRestriction

import pytest

from portal.core import cache as page_cache
from portal.core import privacy
from tests.factories import ArticlePageFactory, StandardPageFactory, UserFactory

pytestmark = pytest.mark.django_db

RESTRICTION_TABLE = re.compile(r'FROM "wagtailcore_pageviewrestriction"')


def restriction_queries(client: Client, url: str) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    return sum(1 for query in queries if RESTRICTION_TABLE.search(query["sql"])), response


def insert_restriction_as_another_process(page) -> None:
    """A restriction written as another process would: no signal reaches this one (only, later, the generation
    bumped in the shared cache)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO wagtailcore_pageviewrestriction (restriction_type, password, page_id) VALUES (%s, '', %s)",
            [PageViewRestriction.LOGIN, page.pk],
        )


@pytest.fixture
def process_memos(warm_caches):
    """Process memos on (with the fragment caches, as in production)."""




def test_one_request_reads_the_restrictions_once(home, article_index):
    """Menu, language switcher, hreflang links, lock badges and related cards share one reading."""
    section = StandardPageFactory(parent=home, title="Members' corner", show_in_menus=True)
    PageViewRestriction.objects.create(page=section, restriction_type=PageViewRestriction.LOGIN)
    article = ArticlePageFactory(parent=article_index)
    client = Client()
    client.get(article.url)
    count, response = restriction_queries(client, article.url)
    assert response.status_code == 200
    assert count == 1
    assert "Members&#x27; corner" not in response.content.decode()  # and the answer is still right


def test_a_warm_process_serves_without_reading_restrictions(home, article_index, process_memos):
    article = ArticlePageFactory(parent=article_index)
    client = Client()
    client.get(article.url)
    count, response = restriction_queries(client, article.url)
    assert response.status_code == 200 and count == 0


def test_a_restriction_applies_to_the_next_request_after_its_commit(home, article_index, process_memos, committed):
    page = StandardPageFactory(parent=home, title="Analyst wellbeing guide", show_in_menus=True)
    article = ArticlePageFactory(parent=article_index)
    client = Client()
    assert client.get(page.url).status_code == 200
    assert "Analyst wellbeing guide" in client.get(article.url).content.decode()  # in the menu

    committed(PageViewRestriction.objects.create, page=page, restriction_type=PageViewRestriction.LOGIN)

    refused = client.get(page.url)
    assert refused.status_code == 302 and "/members/login/" in refused["Location"]
    assert "Analyst wellbeing guide" not in client.get(article.url).content.decode()
    member = Client()
    member.force_login(UserFactory())
    assert member.get(page.url).status_code == 200


def test_another_process_sees_the_restriction_through_the_generation(home, process_memos, settings):
    """Another web process never sees this process's forget(): only the generation bumped on commit."""
    page = StandardPageFactory(parent=home, title="Hash list governance")
    client = Client()
    assert client.get(page.url).status_code == 200

    insert_restriction_as_another_process(page)
    assert client.get(page.url).status_code == 200  # this process still answers from its memo...
    cache.incr(page_cache.GENERATION_KEY)  # ...until the other process's commit bumps the generation
    settings.PAGE_CACHE_LOCAL_SECONDS = 0.2  # which this process reads again after PAGE_CACHE_LOCAL_SECONDS
    time.sleep(0.3)
    refused = client.get(page.url)
    assert refused.status_code == 302 and "/members/login/" in refused["Location"]


def test_outside_a_request_every_question_reads_the_database(home, process_memos):
    """Tasks (newsletter gate, sends) always decide on the current restrictions, whatever a process kept."""
    page = StandardPageFactory(parent=home)
    anonymous = privacy.Viewer.anonymous()
    assert privacy.closed_paths(anonymous) == []
    insert_restriction_as_another_process(page)
    assert privacy.closed_paths(anonymous) == [page.path]
