"""The portal's template tags: privacy-aware checks, lock badges with one query per request, SEO helpers."""

import json

from django.contrib.auth.models import AnonymousUser
from django.core.paginator import Paginator
from django.template import Context, Template
from django.test import RequestFactory

from wagtail.models import PageViewRestriction

import pytest

from portal.core.templatetags.portal_tags import (
    article_data,
    country_name,
    json_ld,
    menu_items,
    og_type,
    page_type_label,
)
from tests.factories import ArticlePageFactory, StandardPageFactory, UserFactory

pytestmark = pytest.mark.django_db


def make_request(user=None, path="/"):
    request = RequestFactory().get(path)
    request.user = user or AnonymousUser()
    return request


def render(source, **context):
    return Template("{% load portal_tags %}" + source).render(Context(context)).strip()


def restrict(page):
    return PageViewRestriction.objects.create(page=page, restriction_type=PageViewRestriction.LOGIN)


def test_can_view_follows_the_privacy_gate(article_index):
    public = ArticlePageFactory(parent=article_index)
    secret = ArticlePageFactory(parent=article_index)
    restrict(secret)
    source = "{% can_view p as ok %}{{ ok }}"
    assert render(source, p=public, request=make_request()) == "True"
    assert render(source, p=secret, request=make_request()) == "False"
    assert render(source, p=secret, request=make_request(UserFactory())) == "True"
    assert render(source, p=secret) == "False"  # no request: anonymous


def test_can_view_is_false_for_draft_pages(article_index):
    draft = ArticlePageFactory(parent=article_index, live=False)
    assert render("{% can_view p as ok %}{{ ok }}", p=draft, request=make_request(UserFactory())) == "False"


def test_restricted_paths_are_read_once_per_request(article_index, django_assert_num_queries):
    pages = [ArticlePageFactory(parent=article_index) for _ in range(5)]
    restrict(pages[0])
    restrict(pages[3])
    template = Template(
        "{% load portal_tags %}{% for p in pages %}{% page_is_restricted p as r %}{{ r|yesno:'L,-' }}{% endfor %}"
    )
    request = make_request()
    # Two queries: the restrictions, then the other language versions of the restricted subtrees.
    with django_assert_num_queries(2):
        assert template.render(Context({"pages": pages, "request": request})) == "L--L-"
    with django_assert_num_queries(0):  # a second listing in the same request reuses the paths
        template.render(Context({"pages": pages, "request": request}))


def test_restricted_badge_covers_pages_below_a_restricted_page(home):
    section = StandardPageFactory(parent=home)
    child = StandardPageFactory(parent=section)
    restrict(section)
    assert render("{% page_is_restricted p as r %}{{ r }}", p=child, request=make_request()) == "True"


def test_absolute_url_for_pages_and_paths(article_index):
    article = ArticlePageFactory(parent=article_index, slug="hashing")
    request = make_request()
    assert render("{% absolute_url p %}", p=article, request=request) == "http://testserver/en/best-practices/hashing/"
    assert render('{% absolute_url "/feeds/latest/rss/" %}') == "http://testserver/feeds/latest/rss/"
    assert render('{% absolute_url "https://example.org/x" %}') == "https://example.org/x"


def test_country_name_from_code_or_country():
    assert country_name("NL") == "Netherlands"
    assert country_name("") == ""


def test_page_type_label_uses_the_specific_verbose_name(article_index):
    article = ArticlePageFactory(parent=article_index)
    from wagtail.models import Page

    generic = Page.objects.get(pk=article.pk)
    assert page_type_label(article) == "Best practice article"
    assert page_type_label(generic) == "Best practice article"
    assert og_type(article) == "article"
    assert og_type(article_index) == "website"


def test_menu_items_mark_the_current_section(home):
    about = StandardPageFactory(parent=home, title="About", slug="about", show_in_menus=True)
    StandardPageFactory(parent=home, title="Hidden", show_in_menus=False)
    items = menu_items(make_request(path="/en/about/team/"))
    assert [(item["title"], item["is_current"]) for item in items] == [("About", True)]
    assert items[0]["url"] == about.url


def test_page_query_keeps_filters():
    html = render("{% page_query q 3 %}", q="topic=prevention&sector=industry")
    assert html == "?topic=prevention&amp;sector=industry&amp;page=3"  # escaped for an href attribute
    assert render("{% page_query q 2 %}", q="") == "?page=2"


def test_elided_page_range_marks_gaps_with_none():
    paginator = Paginator(range(200), 10)
    source = "{% elided_page_range p as numbers %}{% for n in numbers %}{{ n|default_if_none:'…' }} {% endfor %}"
    assert render(source, p=paginator.page(10)) == "1 … 8 9 10 11 12 … 20"


def test_json_ld_cannot_break_out_of_its_script():
    html = json_ld({"headline": "</script><script>alert(1)</script>"})
    assert html.count("</script>") == 1
    payload = html.removeprefix('<script type="application/ld+json">').removesuffix("</script>")
    assert json.loads(payload)["headline"] == "</script><script>alert(1)</script>"


def test_article_data_uses_the_author_organisation_and_site(article_index):
    article = ArticlePageFactory(parent=article_index, author_organisation="", title="T")
    data = article_data(article, make_request())
    assert data["author"] == {"@type": "Organization", "name": "Hotline Network Portal"}
    assert data["mainEntityOfPage"]["@id"].startswith("http://testserver/")
