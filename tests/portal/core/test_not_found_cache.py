"""404s and the site's redirects as cheap as a cached page (portal.core.cache, portal.core.redirects): kept for
anonymous visitors under the content generation, so a publish at that address or a new, changed or deleted
redirect shows on the very next request; never a login redirect, never for a signed-in member; a bounded
number per generation; without the page cache, the redirect lookups are memoised.
"""

import re

from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from wagtail.contrib.redirects.models import Redirect
from wagtail.models import PageViewRestriction

import pytest

from portal.core import cache as page_cache
from tests.factories import ArticlePageFactory, StandardPageFactory, UserFactory

pytestmark = pytest.mark.django_db

TOKEN_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture(autouse=True)
def page_cache_on(warm_caches, settings):
    settings.PAGE_CACHE_ENABLED = True
    page_cache._local.clear()
    yield
    page_cache._local.clear()


def get(url: str, client: Client | None = None):
    with CaptureQueriesContext(connection) as queries:
        response = (client or Client()).get(url)
    return response, len(queries)


def test_a_404_is_kept_and_is_the_same_for_every_visitor(home):
    first, _ = get("/en/no-such-page/")
    second, count = get("/en/no-such-page/")
    assert first.status_code == second.status_code == 404
    assert first["X-Page-Cache"] == "miss" and second["X-Page-Cache"] == "hit"
    assert count == 0
    body = second.content.decode()
    assert "Page not found" in body and 'href="/newsletter/subscribe/"' in body
    # No form posts from a 404 (the footer links to the signup page), so it carries no token, sets no cookie and
    # shared caches may keep it: the same bytes for every visitor.
    assert not TOKEN_RE.findall(body) and page_cache.CSRF_PLACEHOLDER not in body
    assert "csrftoken" not in second.cookies and "csrftoken" not in first.cookies
    assert second.content == first.content
    assert "public" in second["Cache-Control"]


def test_a_404_for_a_signed_in_member_shows_their_account_and_no_signup_form(home):
    client = Client()
    client.force_login(UserFactory())
    response, _ = get("/en/no-such-page/", client)
    body = response.content.decode()
    assert response.status_code == 404 and "Sign out" in body
    assert 'action="/newsletter/subscribe/"' not in body


def test_a_kept_404_is_logged_once_not_on_every_repeat(home, caplog):
    with caplog.at_level("WARNING", logger="django.request"):
        for _ in range(3):
            get("/en/scanned-path/")
    assert [record.getMessage() for record in caplog.records].count("Not Found: /en/scanned-path/") == 1


def test_publishing_at_that_address_shows_the_page_at_once(home, committed):
    assert get("/en/late-news/")[0].status_code == 404
    assert get("/en/late-news/")[0]["X-Page-Cache"] == "hit"
    committed(StandardPageFactory, parent=home, title="Late news", slug="late-news")
    response, _ = get("/en/late-news/")
    assert response.status_code == 200 and "Late news" in response.content.decode()


def test_a_redirect_is_kept_and_follows_every_change(home, article_index, committed):
    target = ArticlePageFactory(parent=article_index, title="Reporting guide", slug="reporting-guide")
    redirect = committed(Redirect.objects.create, old_path="/old-guide", redirect_page=target, is_permanent=True)
    first, _ = get("/old-guide/")
    second, count = get("/old-guide/")
    assert first.status_code == second.status_code == 301
    assert second["Location"] == first["Location"] == target.url
    assert second["X-Page-Cache"] == "hit" and count == 0

    redirect.is_permanent = False
    redirect.redirect_page = None
    redirect.redirect_link = "https://hotline.example.org/report/"
    committed(redirect.save)
    changed, _ = get("/old-guide/")
    assert changed.status_code == 302 and changed["Location"] == "https://hotline.example.org/report/"

    committed(redirect.delete)
    gone, _ = get("/old-guide/")  # no redirect any more: the language redirect, as for any unprefixed path
    assert gone.status_code == 302 and gone["Location"] == "/en/old-guide/"


def test_a_new_redirect_replaces_a_kept_404(home, committed):
    assert get("/en/annual-report/")[0].status_code == 404
    assert get("/en/annual-report/")[0]["X-Page-Cache"] == "hit"
    committed(Redirect.objects.create, old_path="/en/annual-report", redirect_link="/en/", is_permanent=False)
    response, _ = get("/en/annual-report/")
    assert response.status_code == 302 and response["Location"] == "/en/"


def test_login_redirects_and_members_are_never_served_a_kept_copy(home):
    secret = StandardPageFactory(parent=home, title="Members corner", slug="corner")
    PageViewRestriction.objects.create(page=secret, restriction_type=PageViewRestriction.LOGIN)
    for _ in range(2):
        response, _ = get(secret.url)
        assert response.status_code == 302 and response.get("X-Page-Cache") != "hit"
    member = Client()
    member.force_login(UserFactory())
    get("/en/nothing-here/")
    response, _ = get("/en/nothing-here/", member)
    assert response.status_code == 404 and "X-Page-Cache" not in response
    assert "site-account__logout" in response.content.decode()  # their own page, signed in


def test_random_paths_cannot_fill_the_cache(home, settings):
    settings.PAGE_CACHE_MAX_NOT_FOUND = 2
    for number in range(2):
        get(f"/en/scan-{number}/")
        assert get(f"/en/scan-{number}/")[0]["X-Page-Cache"] == "hit"
    response, _ = get("/en/scan-99/")
    assert response.status_code == 404 and response["X-Page-Cache"] == "bypass"
    assert get("/en/scan-99/")[0]["X-Page-Cache"] == "bypass"
    body = response.content.decode()  # a bypassed 404 is the whole page, with no placeholder left in it
    assert "Page not found" in body and page_cache.CSRF_PLACEHOLDER not in body


def test_without_the_page_cache_a_404_and_a_redirect_read_no_redirect_rows(home, settings, committed):
    settings.PAGE_CACHE_ENABLED = False
    committed(Redirect.objects.create, old_path="/from", redirect_link="/en/", is_permanent=False)
    for url, status in (("/en/missing/", 404), ("/from/", 302)):
        get(url)
        response, count = get(url)
        assert response.status_code == status
        assert count == 0, (url, count)
    cache.clear()
