"""Cached template fragments (portal.core.fragments): the site frame and article bodies come from the cache
on later views, yet every viewer sees exactly the pages they may read, each visitor's forms carry their own
CSRF token, a publish shows at once, and previews are never cached."""

import json
import re

from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from wagtail.models import PageViewRestriction

import pytest

from newsletter.models import Subscriber
from portal.core import cache as page_cache
from portal.core import fragments
from tests.factories import ArticlePageFactory, StandardPageFactory, UserFactory, paragraph, translate

pytestmark = pytest.mark.django_db

TOKEN_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture(autouse=True)
def fragments_on(warm_caches):
    """Every test here runs with fragments and process memos on."""




def queries_for(client: Client, url: str):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(queries), response.content.decode()


def without_tokens(html: str) -> str:
    return TOKEN_RE.sub("", html)


def test_a_second_view_comes_from_the_fragments_and_looks_the_same(home, article_index):
    article = ArticlePageFactory(parent=article_index, title="Hash matching at scale",
                                 body=paragraph("Shared hash lists cut review time."))
    first_count, first = queries_for(Client(), article.url)
    second_count, second = queries_for(Client(), article.url)
    assert without_tokens(second) == without_tokens(first)
    assert "Shared hash lists cut review time." in second
    assert second_count <= 3 < first_count  # routing only, where the first view read menus, body, taxonomy


def test_every_viewer_sees_only_their_own_menu(home, article_index):
    members_corner = StandardPageFactory(parent=home, title="Members corner", show_in_menus=True)
    PageViewRestriction.objects.create(page=members_corner, restriction_type=PageViewRestriction.LOGIN)
    article = ArticlePageFactory(parent=article_index)
    member = Client()
    member.force_login(UserFactory())

    for _ in range(2):  # fresh and from the cache, in both orders
        assert "Members corner" not in Client().get(article.url).content.decode()
        assert "Members corner" in member.get(article.url).content.decode()
    stored = b"".join(value for value in cache._cache.values() if isinstance(value, bytes))
    assert b"Members corner" in stored  # the member's fragment is cached, under the member's class only


def test_group_restricted_links_stay_with_their_group(home, article_index):
    from django.contrib.auth.models import Group

    hotlines = Group.objects.create(name="Hotline staff")
    page = StandardPageFactory(parent=home, title="Hotline analysts only", show_in_menus=True)
    restriction = PageViewRestriction.objects.create(page=page, restriction_type=PageViewRestriction.GROUPS)
    restriction.groups.add(hotlines)
    article = ArticlePageFactory(parent=article_index)
    analyst, other = Client(), Client()
    analyst_user = UserFactory()
    analyst_user.groups.add(hotlines)
    analyst.force_login(analyst_user)
    other.force_login(UserFactory())

    for _ in range(2):
        assert "Hotline analysts only" in analyst.get(article.url).content.decode()
        assert "Hotline analysts only" not in other.get(article.url).content.decode()


def test_forms_in_cached_fragments_carry_each_visitors_own_token(home, committed):
    body = json.dumps([{"type": "newsletter_signup", "value": {"heading": "Stay informed", "text": "",
                                                                "show_topics": False}}])
    page = StandardPageFactory(parent=home, title="Newsletter news", body=body)
    Client(enforce_csrf_checks=True).get(page.url)  # someone else filled the fragments

    browser = Client(enforce_csrf_checks=True)
    html = browser.get(page.url).content.decode()
    assert page_cache.CSRF_PLACEHOLDER not in html
    tokens = TOKEN_RE.findall(html)
    assert len(tokens) == 2  # the footer form (a cached fragment) and the page's signup block
    response = committed(browser.post, "/newsletter/subscribe/", {
        "csrfmiddlewaretoken": tokens[1], "email": "reader@example.org", "consent": "on", "source": "block",
        "language": "en",
    })
    assert response.status_code == 200 and "Check your inbox" in response.content.decode()
    assert Subscriber.objects.filter(email="reader@example.org").exists()


def test_a_publish_shows_at_once(home, article_index, committed):
    article = ArticlePageFactory(parent=article_index, title="Before review")
    Client().get(article.url), Client().get(article_index.url)

    article.title = "After review"
    committed(lambda: article.save_revision().publish())

    assert "After review" in Client().get(article.url).content.decode()
    assert "After review" in Client().get(article_index.url).content.decode()


def test_languages_get_their_own_fragments(home, article_index):
    article = ArticlePageFactory(parent=article_index, title="Fast takedown", show_in_menus=True)
    translate(home, "fr", title="Réseau de hotlines")
    french_index = translate(article_index, "fr", title="Bonnes pratiques", slug="bonnes-pratiques",
                             show_in_menus=True)
    french = translate(article, "fr", title="Retrait rapide", slug="retrait-rapide")

    for _ in range(2):  # fresh, then from the fragments
        english_page = Client().get(article.url).content.decode()
        french_page = Client().get(french.url).content.decode()
        assert "Skip to main content" in english_page and "Retrait rapide" not in english_page
        assert "Retrait rapide" in french_page and "Skip to main content" not in french_page
        assert french_index.title in french_page  # the French menu
        assert 'hreflang="fr"' in english_page  # the head fragment lists the French version


def test_previews_are_rendered_fresh_and_never_stored(home, article_index):
    article = ArticlePageFactory(parent=article_index, body=paragraph("Live body text."))
    Client().get(article.url)
    Client().get(article.url)  # the fragments are warm

    article.body = paragraph("Draft body text.")  # an editor's unsaved change, previewed
    preview = article.make_preview_request()
    assert "Draft body text." in preview.content.decode()

    live = Client().get(article.url).content.decode()
    assert "Live body text." in live and "Draft body text." not in live
    stored = b"".join(value for value in cache._cache.values() if isinstance(value, bytes))
    assert b"Draft body text." not in stored


def test_fragments_off_renders_everything(home, article_index, settings):
    settings.FRAGMENT_CACHE_ENABLED = False
    settings.CONTENT_MEMO_SECONDS = 0
    article = ArticlePageFactory(parent=article_index)
    first_count, _ = queries_for(Client(), article.url)
    second_count, _ = queries_for(Client(), article.url)
    assert second_count >= first_count - 1 and not len(fragments.local_copies)
