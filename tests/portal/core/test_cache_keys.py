"""Page-cache keys: tracking parameters share the plain page's copy, and one path keeps a bounded number of
query variants (issue 16, reproduction 8: every ``?utm_source=``, ``fbclid`` or random parameter stored a new
copy, so anyone could fill the cache). Each test runs on the local-memory cache and on a real Redis."""

import uuid

from django.test import Client

import pytest

from tests.factories import ArticlePageFactory, StandardPageFactory, TopicFactory, UserFactory
from tests.portal.core.conftest import stored_entries, stored_fragments

pytestmark = pytest.mark.django_db


def visit(url: str):
    return Client().get(url)


def test_tracking_parameters_are_served_the_plain_pages_copy(home, cache_backend):
    page = StandardPageFactory(parent=home, title="Reporting channels")
    assert visit(page.url)["X-Page-Cache"] == "miss"
    for query in ("utm_source=newsletter&utm_medium=email", "mc_cid=abc123&mc_eid=def456", "fbclid=IwAR0x",
                  "gclid=Cj0K", "utm_campaign=%C3%A9t%C3%A9"):
        response = visit(f"{page.url}?{query}")
        assert response["X-Page-Cache"] == "hit", query
        assert "Reporting channels" in response.content.decode()
    assert len(stored_entries()) == 1


def test_a_copy_never_carries_someone_elses_tracking_parameters(article_index, cache_backend):
    """The view does not see them: the pagination and filter links of the shared copy are clean."""
    topic = TopicFactory(name="Prevention", slug="prevention")
    for number in range(14):  # two pages of results
        article = ArticlePageFactory(parent=article_index, title=f"Practice {number}")
        article.topics.add(topic)
        article.save_revision().publish()
    first = visit(f"{article_index.url}?topic=prevention&utm_source=partner-mailing&fbclid=xyz")
    assert first["X-Page-Cache"] == "miss"
    body = first.content.decode()
    assert "page=2" in body and "topic=prevention" in body
    assert "utm_source" not in body and "partner-mailing" not in body and "fbclid" not in body
    assert visit(f"{article_index.url}?topic=prevention")["X-Page-Cache"] == "hit"


def test_the_order_of_parameters_does_not_make_a_new_copy(article_index, cache_backend):
    ArticlePageFactory(parent=article_index)
    assert visit(f"{article_index.url}?page=1&topic=a")["X-Page-Cache"] == "miss"
    assert visit(f"{article_index.url}?topic=a&page=1")["X-Page-Cache"] == "hit"
    assert visit(f"{article_index.url}?topic=a&utm_term=x&page=1")["X-Page-Cache"] == "hit"


def test_random_parameters_cannot_fill_the_cache_or_push_out_the_common_copies(home, settings, cache_backend):
    settings.PAGE_CACHE_MAX_VARIANTS = 4
    page = StandardPageFactory(parent=home, title="Annual report")
    visit(page.url)
    common = [f"{page.url}?page={number}" for number in (1, 2, 3)]
    for url in common:
        assert visit(url)["X-Page-Cache"] == "miss"

    flood = [f"{page.url}?{uuid.uuid4().hex}={number}" for number in range(40)]
    answers = [visit(url)["X-Page-Cache"] for url in flood]
    assert answers.count("miss") == 1  # the fourth and last variant stored
    assert answers.count("bypass") == 39
    assert all("Annual report" in visit(url).content.decode() for url in flood[-3:])  # still served, fresh

    assert len(stored_entries()) == 1 + 4  # the plain page and four variants, whatever the flood
    for url in [page.url, *common, flood[0]]:
        assert visit(url)["X-Page-Cache"] == "hit", url
    assert visit(flood[-1])["X-Page-Cache"] == "bypass"


def test_the_bound_starts_again_with_each_content_generation(home, settings, cache_backend, committed):
    settings.PAGE_CACHE_MAX_VARIANTS = 2
    page = StandardPageFactory(parent=home, title="Before")
    for query in ("a=1", "b=1", "c=1"):
        visit(f"{page.url}?{query}")
    assert visit(f"{page.url}?c=1")["X-Page-Cache"] == "bypass"

    page.title = "After"
    committed(lambda: page.save_revision().publish())
    response = visit(f"{page.url}?c=1")
    assert response["X-Page-Cache"] == "miss" and "After" in response.content.decode()
    assert visit(f"{page.url}?c=1")["X-Page-Cache"] == "hit"


def test_the_ignored_parameters_are_a_setting(home, settings, cache_backend):
    settings.PAGE_CACHE_IGNORED_PARAMETERS = ("ref", "campaign_*")
    page = StandardPageFactory(parent=home)
    visit(page.url)
    assert visit(f"{page.url}?ref=partner&campaign_id=7")["X-Page-Cache"] == "hit"
    assert visit(f"{page.url}?utm_source=x")["X-Page-Cache"] == "miss"  # no longer ignored


def member_browser() -> Client:
    browser = Client()
    browser.force_login(UserFactory())
    return browser


def test_random_parameters_cannot_fill_the_fragment_cache_either(article_index, settings, cache_backend):
    """A logged-in member's pages are never in the page cache but are built from fragments; the index page's
    listing varies on the query string, so each new query would store a new fragment without the bound."""
    settings.PAGE_CACHE_MAX_VARIANTS = 3
    ArticlePageFactory(parent=article_index, title="Listed practice")
    browser = member_browser()
    browser.get(article_index.url)
    before = len(stored_fragments())
    browser.get(f"{article_index.url}?page=1")
    per_variant = len(stored_fragments()) - before
    assert per_variant >= 1  # the listing
    for number in range(30):
        response = browser.get(f"{article_index.url}?{uuid.uuid4().hex}={number}")
        assert "Listed practice" in response.content.decode()
    assert len(stored_fragments()) - before == 3 * per_variant


def test_a_member_with_tracking_parameters_or_another_order_shares_the_fragments(article_index, cache_backend):
    ArticlePageFactory(parent=article_index, title="Listed practice")
    browser = member_browser()
    first = browser.get(f"{article_index.url}?topic=&page=1&utm_source=partner-mailing")
    assert "partner-mailing" not in first.content.decode()
    count = len(stored_fragments())
    browser.get(f"{article_index.url}?page=1&topic=")
    browser.get(f"{article_index.url}?utm_medium=email&page=1&topic=")
    assert len(stored_fragments()) == count
