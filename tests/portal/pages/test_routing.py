"""URL routing: BasePage.route finds the same page as Wagtail's own Page.route, in at most two queries.

Every comparison runs the same URL through Wagtail's stock routing (BasePage's override removed for the
duration, so every page type falls back to ``Page.route``) and through ours, on a tree with draft, restricted,
translated, aliased and newsletter pages, and checks that visitors get the same page, 404 or login redirect.
"""

from contextlib import contextmanager

from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from wagtail.models import Page, PageViewRestriction
from wagtail.url_routing import RouteResult

import pytest

from newsletter.models import Audience
from portal.members.models import MEMBERS_GROUP_NAME
from portal.pages.models import BasePage, StandardPage
from tests.factories import ArticlePageFactory, StandardPageFactory, translate
from tests.newsletter.issue_factories import NewsletterIndexPageFactory, make_issue

pytestmark = pytest.mark.django_db


@contextmanager
def stock_wagtail_routing():
    """Route as Wagtail does out of the box: without BasePage.route every page type inherits Page.route."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delattr(BasePage, "route")
        yield


def outcome(start: Page, request, components: list[str]):
    """What routing from ``start`` gives: the page (its class and id), its parent, args and kwargs; or 404."""
    try:
        page, args, kwargs = start.route(request, components)
    except Http404:
        return "404"
    parent = page.get_parent()
    return type(page), page.pk, type(parent), parent.pk, tuple(args or ()), dict(kwargs or {})


def stock_and_ours(start: Page, request, components: list[str]):
    with stock_wagtail_routing():
        stock = outcome(Page.objects.get(pk=start.pk).specific, request, components)
    ours = outcome(Page.objects.get(pk=start.pk).specific, request, components)
    return stock, ours


@pytest.fixture
def tree(home, article_index):
    """Home, then up to four levels: articles, a section with a draft in the middle, a members-only subtree,
    an alias, the newsletter archive with a public and a members-only issue."""
    article = ArticlePageFactory(parent=article_index, slug="some-article")
    ArticlePageFactory(parent=article_index, slug="draft-article", live=False)
    about = StandardPageFactory(parent=home, slug="about")
    team = StandardPageFactory(parent=about, slug="team")
    history = StandardPageFactory(parent=team, slug="history")
    StandardPageFactory(parent=history, slug="archive")
    StandardPageFactory(parent=about, slug="empty")
    draft_section = StandardPageFactory(parent=about, slug="draft-section", live=False)
    StandardPageFactory(parent=draft_section, slug="still-live")
    StandardPageFactory(parent=draft_section, slug="draft-too", live=False)
    members = StandardPageFactory(parent=home, slug="members-area")
    PageViewRestriction.objects.create(page=members, restriction_type=PageViewRestriction.LOGIN)
    StandardPageFactory(parent=members, slug="team")  # the same slug as /about/team/, one level higher
    article.create_alias(parent=team, update_slug="shared-article")
    archive = NewsletterIndexPageFactory(parent=home)
    public_issue = make_issue(archive, slug="march-news")
    members_issue = make_issue(archive, slug="members-news", audience=Audience.MEMBERS)
    return {"home": home, "article": article, "public_issue": public_issue, "members_issue": members_issue}


PATHS = [
    [],
    ["best-practices"],
    ["best-practices", "some-article"],
    ["best-practices", "draft-article"],
    ["best-practices", "unknown"],
    ["best-practices", "some-article", "best-practices"],
    ["unknown"],
    ["some-article"],  # exists, but one level deeper
    ["about", "team", "history", "archive"],
    ["about", "team", "history", "archive", "more"],
    ["about", "history"],
    ["about", "team", "team"],
    ["about", "empty"],
    ["about", "empty", "anything"],
    ["about", "draft-section"],
    ["about", "draft-section", "still-live"],
    ["about", "draft-section", "draft-too"],
    ["about", "team", "shared-article"],
    ["members-area"],
    ["members-area", "team"],
    ["members-area", "team", "history"],
    ["newsletter-archive"],
    ["newsletter-archive", "march-news"],
    ["newsletter-archive", "members-news"],
    ["newsletter-archive", "no-such-issue"],
    ["BEST-PRACTICES"],
]


@pytest.mark.parametrize("components", PATHS, ids=lambda c: "/".join(c) or "home")
def test_route_finds_what_wagtail_finds(rf, tree, components):
    stock, ours = stock_and_ours(tree["home"], rf.get("/"), components)
    assert ours == stock


def test_route_gives_the_specific_live_page_and_404_for_drafts(rf, tree):
    request = rf.get("/")
    home = tree["home"]
    page = home.route(request, ["about", "draft-section", "still-live"]).page
    assert type(page) is StandardPage and page.slug == "still-live"
    assert home.route(request, ["newsletter-archive", "march-news"]).page == tree["public_issue"]
    alias = home.route(request, ["about", "team", "shared-article"]).page
    assert alias.alias_of_id == tree["article"].pk
    for missing in (["about", "draft-section"], ["best-practices", "draft-article"], ["about", "history"]):
        with pytest.raises(Http404):
            home.route(request, missing)


def test_route_follows_a_french_translation(rf, home, article_index):
    article = ArticlePageFactory(parent=article_index, slug="fast-takedown")
    french_home = translate(home, "fr", title="Réseau de hotlines")
    translate(article_index, "fr", title="Bonnes pratiques", slug="bonnes-pratiques")
    french_article = translate(article, "fr", title="Retrait rapide", slug="retrait-rapide")
    paths = (["bonnes-pratiques", "retrait-rapide"], ["best-practices", "fast-takedown"], ["bonnes-pratiques"])
    for components in paths:
        stock, ours = stock_and_ours(french_home, rf.get("/"), components)
        assert ours == stock
    french_home.refresh_from_db()  # its child count changed when the index was translated
    assert french_home.route(rf.get("/"), ["bonnes-pratiques", "retrait-rapide"]).page == french_article


URLS = [
    "/en/",
    "/en/best-practices/some-article/",
    "/en/best-practices/some-article",  # no trailing slash: redirected to the slash
    "/en/best-practices/draft-article/",
    "/en/best-practices/unknown/",
    "/en/about/team/history/archive/",
    "/en/about/draft-section/",
    "/en/about/draft-section/still-live/",
    "/en/about/team/shared-article/",
    "/en/members-area/",
    "/en/members-area/team/",
    "/en/newsletter-archive/",
    "/en/newsletter-archive/march-news/",
    "/en/newsletter-archive/members-news/",
]


def responses(client, urls):
    result = {}
    for url in urls:
        response = client.get(url)
        result[url] = (response.status_code, response.headers.get("Location"))
    return result


def test_visitors_and_members_get_the_same_responses_as_with_wagtail_routing(client, tree, member):
    with stock_wagtail_routing():
        stock_anonymous = responses(client, URLS)
    anonymous = responses(client, URLS)
    assert anonymous == stock_anonymous
    # View restrictions are still enforced after routing: members-only pages send visitors to sign in.
    assert anonymous["/en/members-area/team/"] == (302, "/members/login/?next=/en/members-area/team/")
    assert anonymous["/en/newsletter-archive/members-news/"][0] == 302
    assert anonymous["/en/best-practices/some-article/"] == (200, None)
    assert anonymous["/en/about/draft-section/still-live/"] == (200, None)
    assert anonymous["/en/best-practices/draft-article/"][0] == 404
    member.groups.add(Group.objects.get_or_create(name=MEMBERS_GROUP_NAME)[0])  # members-only issues
    client.force_login(member)
    with stock_wagtail_routing():
        stock_member = responses(client, URLS)
    as_member = responses(client, URLS)
    assert as_member == stock_member
    assert as_member["/en/members-area/team/"] == (200, None)
    assert as_member["/en/newsletter-archive/members-news/"] == (200, None)


def test_a_page_type_with_its_own_route_takes_over_where_wagtail_would_call_it(rf, tree, monkeypatch):
    """A routable page type (none in the portal yet) receives the rest of the URL, as under Wagtail."""

    def calendar_route(self, request, path_components):
        if len(path_components) == 1 and path_components[0].isdigit():
            return RouteResult(self, args=(int(path_components[0]),))
        return super(StandardPage, self).route(request, path_components)

    monkeypatch.setattr(StandardPage, "route", calendar_route)
    for components in (["about", "team", "2024"], ["about", "team", "history"], ["about", "2024"], ["about"]):
        stock, ours = stock_and_ours(tree["home"], rf.get("/"), components)
        assert ours == stock
    page, args, _kwargs = tree["home"].route(rf.get("/"), ["about", "team", "2024"])
    assert page.slug == "team" and args == (2024,)


def test_duplicate_sibling_slugs_are_an_error_as_under_wagtail(rf, tree):
    Page.objects.filter(slug="empty").update(slug="team")
    with stock_wagtail_routing(), pytest.raises(Page.MultipleObjectsReturned):
        Page.objects.get(pk=tree["home"].pk).specific.route(rf.get("/"), ["about", "team"])
    with pytest.raises(Page.MultipleObjectsReturned):
        Page.objects.get(pk=tree["home"].pk).specific.route(rf.get("/"), ["about", "team"])


def test_a_page_counted_as_childless_has_no_children_as_under_wagtail(rf, tree):
    """Treebeard trusts a page's child count: zero means no children are looked for."""
    Page.objects.filter(slug="history").update(numchild=0)
    stock, ours = stock_and_ours(tree["home"], rf.get("/"), ["about", "team", "history", "archive"])
    assert ours == stock == "404"


def test_routing_a_four_level_url_costs_at_most_two_queries(rf, tree):
    components = ["about", "team", "history", "archive"]
    home = Page.objects.get(pk=tree["home"].pk).specific
    for content_type in ContentType.objects.all():  # a running server has these cached
        ContentType.objects.get_for_id(content_type.pk)
    with CaptureQueriesContext(connection) as queries:
        page = home.route(rf.get("/"), components).page
        parent = page.get_parent()
    assert len(queries) <= 2, [query["sql"] for query in queries]
    assert (page.slug, parent.slug, type(parent)) == ("archive", "history", StandardPage)
    with stock_wagtail_routing(), CaptureQueriesContext(connection) as stock_queries:
        Page.objects.get(pk=tree["home"].pk).specific.route(rf.get("/"), components)
    assert len(stock_queries) > len(queries)
