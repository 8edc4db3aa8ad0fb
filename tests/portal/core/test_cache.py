"""The anonymous page cache: hits for anonymous visitors, never a restricted page or a logged-in response,
fresh after every publish, 304 on revalidation, and forms that still work from a cached copy."""

import json
import re

from django.core.cache import cache
from django.http import HttpResponse
from django.test import Client, RequestFactory

from wagtail.models import PageViewRestriction

import pytest

from newsletter.models import Subscriber
from portal.core import cache as page_cache
from tests.factories import ArticlePageFactory, StandardPageFactory, TopicFactory, UserFactory

pytestmark = pytest.mark.django_db

TOKEN_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture(autouse=True)
def cache_on(settings):
    settings.PAGE_CACHE_ENABLED = True
    cache.clear()
    page_cache._local.clear()
    yield
    from django.core.cache import caches
    from django.core.cache.backends.locmem import LocMemCache

    if isinstance(caches["default"], LocMemCache):  # never flush a Redis database (the Redis test uses a prefix)
        cache.clear()
    page_cache._local.clear()




def visitor() -> Client:
    """A fresh anonymous browser (no cookies), checking CSRF like a real deployment."""
    return Client(enforce_csrf_checks=True)


def test_second_anonymous_request_is_a_hit_with_the_same_page(home, article_index):
    article = ArticlePageFactory(parent=article_index, title="Notice and takedown in practice")
    first = visitor().get(article.url)
    second = visitor().get(article.url)

    assert first.status_code == second.status_code == 200
    assert first["X-Page-Cache"] == "miss" and second["X-Page-Cache"] == "hit"
    assert "Notice and takedown in practice" in second.content.decode()
    # Headers added by inner middleware are kept on a hit.
    assert second["X-Frame-Options"] == first["X-Frame-Options"]
    assert second["Content-Type"].startswith("text/html")


def test_cached_pages_never_carry_the_placeholder_or_another_visitors_token(home, article_index):
    article = ArticlePageFactory(parent=article_index)
    first, second = visitor().get(article.url), visitor().get(article.url)
    assert second["X-Page-Cache"] == "hit"
    for response in (first, second):
        body = response.content.decode()
        assert page_cache.CSRF_PLACEHOLDER not in body
        assert TOKEN_RE.search(body)
        assert "csrftoken" in response.cookies  # each new visitor gets their own CSRF cookie
    assert first.cookies["csrftoken"].value != second.cookies["csrftoken"].value
    # A body with a token is for one browser only: no shared proxy may keep it.
    assert "private" in second["Cache-Control"] and "no-cache" in second["Cache-Control"]


def test_subscribe_form_works_from_a_cached_page(home, committed):
    body = json.dumps([{"type": "newsletter_signup", "value": {"heading": "Stay informed", "text": "",
                                                                "show_topics": False}}])
    page = StandardPageFactory(parent=home, title="Newsletter news", body=body)
    visitor().get(page.url)  # someone else filled the cache

    browser = visitor()
    cached = browser.get(page.url)
    assert cached["X-Page-Cache"] == "hit"
    tokens = TOKEN_RE.findall(cached.content.decode())
    assert len(tokens) == 2  # the footer form and the signup block
    response = committed(browser.post, "/newsletter/subscribe/", {
        "csrfmiddlewaretoken": tokens[1], "email": "reader@example.org", "consent": "on", "source": "block",
        "language": "en",
    })
    assert response.status_code == 200, response.content[:300]
    assert "Check your inbox" in response.content.decode()
    assert Subscriber.objects.filter(email="reader@example.org").exists()

    # The footer's short form from the cached page reaches the full form instead of a CSRF failure.
    footer = browser.post("/newsletter/subscribe/", {"csrfmiddlewaretoken": tokens[0], "email": "b@example.org"})
    assert footer.status_code == 200


def test_a_token_from_the_cached_copy_does_not_work_without_its_own_cookie(home):
    page = StandardPageFactory(parent=home)
    token = TOKEN_RE.search(visitor().get(page.url).content.decode()).group(1)
    stranger = visitor()
    response = stranger.post("/newsletter/subscribe/", {"csrfmiddlewaretoken": token, "email": "x@example.org",
                                                        "consent": "on"})
    assert response.status_code == 403  # CSRF protection is unchanged


def test_restricted_page_is_never_stored_nor_served_to_the_wrong_viewer(home):
    secret = StandardPageFactory(parent=home, title="Escalation contacts for members")
    PageViewRestriction.objects.create(page=secret, restriction_type=PageViewRestriction.LOGIN)

    member = Client()
    member.force_login(UserFactory())
    for _ in range(2):
        seen = member.get(secret.url)
        assert seen.status_code == 200 and "Escalation contacts for members" in seen.content.decode()
        assert "X-Page-Cache" not in seen
        assert "private" in seen["Cache-Control"]

    for _ in range(2):
        anonymous = visitor().get(secret.url)
        assert anonymous.status_code == 302 and "/members/login/" in anonymous["Location"]
        assert "Escalation contacts for members" not in anonymous.content.decode()
    stored = list(cache._cache.values())  # local-memory cache: pickled entries
    assert not any(b"Escalation contacts" in value for value in stored)


def test_a_page_restricted_after_it_was_cached_is_no_longer_served(home, committed):
    page = StandardPageFactory(parent=home, title="Analyst wellbeing guide")
    visitor().get(page.url)
    assert visitor().get(page.url)["X-Page-Cache"] == "hit"

    committed(PageViewRestriction.objects.create, page=page, restriction_type=PageViewRestriction.LOGIN)

    response = visitor().get(page.url)
    assert response.status_code == 302
    assert "Analyst wellbeing guide" not in response.content.decode()


def test_publishing_invalidates_the_page_and_the_listings_that_show_it(home, article_index, committed):
    article = ArticlePageFactory(parent=article_index, title="Old title")
    visitor().get(article.url), visitor().get(article_index.url)
    assert visitor().get(article.url)["X-Page-Cache"] == "hit"
    assert visitor().get(article_index.url)["X-Page-Cache"] == "hit"

    article.title = "New title after review"

    def publish():
        article.save_revision().publish()

    committed(publish)
    fresh = visitor().get(article.url)
    assert fresh["X-Page-Cache"] == "miss" and "New title after review" in fresh.content.decode()
    assert "New title after review" in visitor().get(article_index.url).content.decode()

    committed(article.unpublish)
    assert visitor().get(article.url).status_code == 404
    assert "New title after review" not in visitor().get(article_index.url).content.decode()


def test_deleting_and_moving_pages_and_editing_snippets_invalidate(home, article_index, committed):
    article = ArticlePageFactory(parent=article_index, title="Moved away")
    topic = TopicFactory(name="Prevention", slug="prevention")
    visitor().get(article_index.url)
    assert visitor().get(article_index.url)["X-Page-Cache"] == "hit"

    topic.name = "Prevention and awareness"
    committed(topic.save)
    assert visitor().get(article_index.url)["X-Page-Cache"] == "miss"

    visitor().get(article_index.url)
    committed(article.delete)
    fresh = visitor().get(article_index.url)
    assert fresh["X-Page-Cache"] == "miss" and "Moved away" not in fresh.content.decode()


def test_invalidation_waits_for_the_commit(home, django_capture_on_commit_callbacks):
    page = StandardPageFactory(parent=home)
    visitor().get(page.url)
    generation = page_cache.current_generation()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        page.title = "Draft in a transaction"
        page.save_revision().publish()
        assert page_cache.current_generation() == generation  # not yet: the transaction may still roll back
    assert page_cache.bump_generation in callbacks
    for callback in callbacks:
        callback()
    assert page_cache.current_generation() != generation


def test_conditional_get_answers_304_while_the_token_is_still_good(home):
    page = StandardPageFactory(parent=home)
    browser = visitor()
    first = browser.get(page.url)
    etag = first["ETag"]
    assert etag.startswith('W/"')

    again = browser.get(page.url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b""
    assert again["ETag"] == etag

    # Another browser (another CSRF cookie) gets the full page: its copy's token would not be valid.
    other = visitor().get(page.url, HTTP_IF_NONE_MATCH=etag)
    assert other.status_code == 200 and TOKEN_RE.search(other.content.decode())


def test_logged_in_members_bypass_the_cache_and_are_never_stored(home):
    page = StandardPageFactory(parent=home, title="Public page")
    member = Client()
    member.force_login(UserFactory())
    seen = member.get(page.url)
    assert "X-Page-Cache" not in seen and "Sign out" in seen.content.decode()
    assert "private" in seen["Cache-Control"]

    anonymous = visitor().get(page.url)
    assert anonymous["X-Page-Cache"] == "miss"  # the member's response was not stored
    assert "Sign out" not in anonymous.content.decode()
    assert visitor().get(page.url)["X-Page-Cache"] == "hit"
    assert "X-Page-Cache" not in member.get(page.url)  # and the member is not served the cached copy


def test_requests_with_messages_or_credentials_bypass(home):
    page = StandardPageFactory(parent=home)
    visitor().get(page.url)
    with_messages = visitor()
    with_messages.cookies["messages"] = "pending"
    assert "X-Page-Cache" not in with_messages.get(page.url)
    assert "X-Page-Cache" not in visitor().get(page.url, HTTP_AUTHORIZATION="Basic eDp5")


def test_responses_that_set_cookies_or_are_private_are_never_stored(home):
    page = StandardPageFactory(parent=home)
    request = RequestFactory().get(page.url)
    request._portal_served_page = page
    response = HttpResponse("ok")
    assert page_cache.storable(request, response)
    response.set_cookie("sessionid", "abc")
    assert not page_cache.storable(request, response)
    private = HttpResponse("ok")
    private["Cache-Control"] = "private"
    assert not page_cache.storable(request, private)
    varies = HttpResponse("ok")
    varies["Vary"] = "Accept-Language"
    assert not page_cache.storable(request, varies)


def test_admin_preview_and_newsletter_paths_are_never_cached(home):
    for path in ("/admin/", "/newsletter/subscribe/", "/members/login/"):
        assert "X-Page-Cache" not in visitor().get(path)


def test_feeds_are_cached_and_refreshed_on_publish(home, article_index, committed):
    from django.urls import reverse

    ArticlePageFactory(parent=article_index, title="First feed item")
    url = reverse("feeds:latest-rss")
    visitor().get(url)
    cached = visitor().get(url)
    assert cached["X-Page-Cache"] == "hit" and "First feed item" in cached.content.decode()

    committed(ArticlePageFactory, parent=article_index, title="Second feed item")
    assert "Second feed item" in visitor().get(url).content.decode()


def test_sitemap_files_are_cached_refreshed_on_publish_and_stay_publicly_cacheable(home, article_index, committed,
                                                                                   settings):
    settings.SITEMAP_PAGE_SIZE = 2  # an index and its files
    ArticlePageFactory(parent=article_index, slug="first-in-sitemap")
    for url in ("/sitemap.xml", "/sitemap.xml?p=1", "/sitemap.xml?p=2"):
        visitor().get(url)
        cached = visitor().get(url)
        assert cached["X-Page-Cache"] == "hit" and "public" in cached["Cache-Control"], url

    committed(ArticlePageFactory, parent=article_index, slug="second-in-sitemap")
    assert "second-in-sitemap" in b"".join(visitor().get(f"/sitemap.xml?p={n}").content for n in (1, 2)).decode()


def test_cache_off_changes_nothing(home, settings):
    settings.PAGE_CACHE_ENABLED = False
    page = StandardPageFactory(parent=home)
    response = visitor().get(page.url)
    assert "X-Page-Cache" not in response
    assert page_cache.CSRF_PLACEHOLDER not in response.content.decode()


def test_statistics_changes_invalidate_but_subscriber_changes_do_not(committed):
    from portal.stats.models import Dataset, Observation

    generation = page_cache.current_generation()
    dataset = committed(Dataset.objects.create, slug="figures", title="Figures", source="Network")
    assert page_cache.current_generation() != generation

    generation = page_cache.current_generation()
    committed(Observation.objects.create, dataset=dataset, year=2020, period_key="2020", country="", organisation="",
              values={"reports_received": 1})
    assert page_cache.current_generation() != generation

    generation = page_cache.current_generation()
    committed(Subscriber.objects.create, email="someone@example.org")
    assert page_cache.current_generation() == generation  # signups do not empty the page cache


def test_other_processes_see_an_invalidation_within_the_local_copy_time(home, settings):
    import time

    settings.PAGE_CACHE_LOCAL_SECONDS = 0.3
    page = StandardPageFactory(parent=home)
    visitor().get(page.url)
    assert visitor().get(page.url)["X-Page-Cache"] == "hit"
    cache.incr(page_cache.GENERATION_KEY)  # another process committed a change: this one still has its copy
    assert visitor().get(page.url)["X-Page-Cache"] == "hit"
    time.sleep(0.35)
    assert visitor().get(page.url)["X-Page-Cache"] == "miss"

    settings.PAGE_CACHE_LOCAL_SECONDS = 0  # no local copies: every hit is checked against the generation
    visitor().get(page.url)
    cache.incr(page_cache.GENERATION_KEY)
    assert visitor().get(page.url)["X-Page-Cache"] == "miss"


def test_the_cache_works_on_redis(home, settings, committed):
    """The same behaviour on the production backend (Redis): keys under a prefix of their own, never flushed."""
    import uuid

    from tests.services import require_redis

    url = require_redis(10)
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url,
                                   "KEY_PREFIX": f"test-page-cache-{uuid.uuid4().hex}", "TIMEOUT": 60}}
    settings.PAGE_CACHE_LOCAL_SECONDS = 0
    page = StandardPageFactory(parent=home, title="Before the change")
    assert visitor().get(page.url)["X-Page-Cache"] == "miss"
    hit = visitor().get(page.url)
    assert hit["X-Page-Cache"] == "hit" and "Before the change" in hit.content.decode()

    page.title = "After the change"
    committed(lambda: page.save_revision().publish())
    fresh = visitor().get(page.url)
    assert fresh["X-Page-Cache"] == "miss" and "After the change" in fresh.content.decode()

    member = Client()
    member.force_login(UserFactory())
    assert "X-Page-Cache" not in member.get(page.url)
