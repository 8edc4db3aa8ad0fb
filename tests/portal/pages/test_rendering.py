"""Every page type renders with its content, the site chrome, SEO meta, privacy and bounded queries."""

import json

from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.template import Context, Template
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

import factory
import pytest
import wagtail_factories
from bs4 import BeautifulSoup

from portal.core.blocks import (
    HeadlineStatBlock,
    KeyFactBlock,
    QuoteBlock,
    RelatedPageBlock,
    SessionBlock,
    TableBlock,
)
from portal.pages.models import HomeFeaturedPage
from tests.factories import (
    ArticlePageFactory,
    ConferenceNotesPageFactory,
    StandardPageFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def soup_of(response) -> BeautifulSoup:
    assert response.status_code == 200, response.status_code
    return BeautifulSoup(response.content, "html.parser")


def text_of(soup: BeautifulSoup) -> str:
    return " ".join(soup.get_text(" ").split())


def assert_site_chrome(soup: BeautifulSoup):
    """Landmarks, skip link, search form, newsletter form and the report link are on every page."""
    skip = soup.select_one("a.skip-link")
    assert skip is not None and skip["href"] == "#main"
    assert soup.select_one("header") is not None
    assert soup.select_one("nav[aria-label=Main]") is not None
    assert soup.select_one("main#main") is not None
    assert soup.select_one("footer") is not None
    search = soup.select_one("form[role=search]")
    assert search["action"] == "/en/search/" and search.get("method", "get").lower() == "get"
    search_input = search.select_one("input[name=q]")
    assert soup.select_one(f"label[for={search_input['id']}]") is not None
    newsletter = soup.select_one("form[action='/newsletter/subscribe/']")
    assert newsletter["method"] == "post"
    assert newsletter.select_one("input[name=csrfmiddlewaretoken]") is not None
    assert newsletter.select_one("input[name=email][type=email]") is not None
    assert soup.find("a", string=lambda s: s and "Report illegal content" in s) is not None
    assert "never hosts" in text_of(soup.select_one("footer"))


def assert_seo_meta(soup: BeautifulSoup, page, description: str):
    url = f"http://testserver{page.url}"
    assert soup.select_one("link[rel=canonical]")["href"] == url
    assert soup.select_one("meta[property='og:url']")["content"] == url
    assert soup.select_one("meta[property='og:title']")["content"] == page.title
    assert soup.select_one("meta[property='og:description']")["content"] == description
    assert soup.select_one("meta[name=description]")["content"] == description
    assert soup.select_one("meta[property='og:site_name']")["content"]
    assert soup.select_one("meta[name='twitter:card']") is not None


# ---- Home ----------------------------------------------------------------------------------------------


def test_home_page_shows_hero_figures_featured_and_latest(client, home, article_index, conference_index):
    home.hero_title = "Together against abuse material online"
    home.headline_stats = [
        ("stat", {"value": "91%", "label": "removed within three days", "source": "Network statistics 2014"})
    ]
    home.search_description = "The network of internet hotlines."
    home.save()
    about = StandardPageFactory(parent=home, title="About the network", listing_summary="Who we are.")
    HomeFeaturedPage.objects.create(home=home, page=about, sort_order=0)
    ArticlePageFactory(parent=article_index, title="Fast takedown with hosting providers")
    ConferenceNotesPageFactory(parent=conference_index, title="Prevention conference 2015")

    soup = soup_of(client.get("/en/"))

    assert_site_chrome(soup)
    assert soup.select_one("h1").get_text(strip=True) == "Together against abuse material online"
    stats = text_of(soup.select_one(".stats"))
    assert "91%" in stats and "removed within three days" in stats and "Network statistics 2014" in stats
    cards = [text_of(card) for card in soup.select(".card")]
    assert any("About the network" in card and "Who we are." in card for card in cards)
    assert any("Fast takedown with hosting providers" in card for card in cards)
    assert any("Prevention conference 2015" in card and "Netherlands" in card for card in cards)
    assert soup.select_one("link[rel=canonical]")["href"] == "http://testserver/en/"


def test_main_menu_lists_only_pages_in_menus_the_viewer_may_see(client, home, member, restrict):
    StandardPageFactory(parent=home, title="About us", show_in_menus=True)
    StandardPageFactory(parent=home, title="Imprint", show_in_menus=False)
    restrict(StandardPageFactory(parent=home, title="Members area", show_in_menus=True))

    anonymous_menu = text_of(soup_of(client.get("/en/")).select_one("nav[aria-label=Main]"))
    assert "About us" in anonymous_menu
    assert "Imprint" not in anonymous_menu
    assert "Members area" not in anonymous_menu

    client.force_login(member)
    member_menu = text_of(soup_of(client.get("/en/")).select_one("nav[aria-label=Main]"))
    assert "Members area" in member_menu


def test_header_offers_sign_in_to_visitors_and_sign_out_to_members(client, home, member):
    page = StandardPageFactory(parent=home, slug="about")
    header = soup_of(client.get(page.url)).select_one("header")
    assert header.find("a", string="Member sign-in")["href"] == "/members/login/?next=/en/about/"
    assert header.select_one("form[action='/members/logout/']") is None

    client.force_login(member)
    header = soup_of(client.get(page.url)).select_one("header")
    assert header.find("a", string="Members\u2019 area")["href"] == "/members/"
    logout = header.select_one("form[action='/members/logout/']")
    assert logout["method"] == "post" and logout.select_one("input[name=csrfmiddlewaretoken]") is not None


def test_current_section_is_marked_in_the_menu(client, home):
    about = StandardPageFactory(parent=home, title="About us", slug="about", show_in_menus=True)
    soup = soup_of(client.get(about.url))
    current = soup.select_one("nav[aria-label=Main] a[aria-current]")
    assert current is not None and current.get_text(strip=True) == "About us"


def test_report_link_points_to_the_how_to_report_page_when_it_exists(client, home):
    assert soup_of(client.get("/en/")).select_one("a.button--report")["href"] == "/how-to-report/"
    StandardPageFactory(parent=home, title="Report illegal content", slug="how-to-report")
    page = StandardPageFactory(parent=home, title="Another page")
    soup = soup_of(client.get(page.url))
    assert {a["href"] for a in soup.select("a.button--report")} == {"/en/how-to-report/"}


def test_social_image_feeds_and_messages_in_the_head_and_main(client, home, member):
    image = wagtail_factories.ImageFactory(title="Network shapes")
    page = StandardPageFactory(parent=home, title="About", social_image=image, seo_title="About the network")

    soup = soup_of(client.get(page.url))

    assert soup.select_one("title").get_text().startswith("About the network |")
    og_image = soup.select_one("meta[property='og:image']")["content"]
    assert og_image.startswith("http://testserver/media/") and "fill-1200x630" in og_image
    assert soup.select_one("meta[name='twitter:card']")["content"] == "summary_large_image"
    assert soup.select_one("meta[name='twitter:image']")["content"] == og_image
    feeds = {link["type"]: link["href"] for link in soup.select("link[rel=alternate]")}
    assert feeds["application/rss+xml"] == "/en/feeds/latest/rss/"
    assert feeds["application/atom+xml"] == "/en/feeds/latest/atom/"


def test_flash_messages_are_announced_as_status(rf, home):
    from django.contrib.messages import constants
    from django.contrib.messages.storage.base import Message
    from django.template.loader import render_to_string

    request = rf.get("/")
    request.user = AnonymousUser()
    html = render_to_string(
        "base.html", {"messages": [Message(constants.SUCCESS, "Thanks, please check your inbox.")]}, request=request
    )
    status = BeautifulSoup(html, "html.parser").select_one("main [role=status]")
    assert "Thanks, please check your inbox." in text_of(status)


# ---- Index pages ---------------------------------------------------------------------------------------


def test_article_index_lists_children_with_filter_state_and_paginated_links_keep_the_filter(
    client, article_index, prevention, takedown, industry
):
    for n in range(14):
        article = ArticlePageFactory(parent=article_index, title=f"Prevention practice {n:02d}")
        article.topics.add(prevention)
        article.sectors.add(industry)
        article.save()
    other = ArticlePageFactory(parent=article_index, title="Takedown practice")
    other.topics.add(takedown)
    other.save()

    soup = soup_of(client.get(article_index.url, {"topic": "prevention", "sector": "industry"}))

    assert_site_chrome(soup)
    assert soup.select_one("#filter-topic option[selected]")["value"] == "prevention"
    assert soup.select_one("#filter-sector option[selected]")["value"] == "industry"
    assert soup.select_one("form.filters button[type=submit]") is not None
    state = text_of(soup.select_one(".filters__state"))
    assert "14" in state and "Prevention" in state and "Industry" in state
    assert soup.select_one("a.filters__clear")["href"] == article_index.url
    titles = [text_of(a) for a in soup.select(".card__title a")]
    assert len(titles) == 12
    assert "Takedown practice" not in titles

    pagination = soup.select_one("nav[aria-label=Pagination]")
    assert pagination.select_one("[aria-current=page]").get_text(" ", strip=True).endswith("1")
    page_two = pagination.select_one("a[rel=next]")["href"]
    assert "topic=prevention" in page_two and "sector=industry" in page_two and "page=2" in page_two

    second = soup_of(client.get(article_index.url + page_two))
    assert len(second.select(".card")) == 2
    assert second.select_one("#filter-topic option[selected]")["value"] == "prevention"
    assert "topic=prevention" in second.select_one("nav[aria-label=Pagination] a[rel=prev]")["href"]


def test_index_without_filters_has_no_clear_link_and_an_empty_state(client, conference_index):
    soup = soup_of(client.get(conference_index.url))
    assert soup.select_one("a.filters__clear") is None
    assert soup.select_one(".card") is None
    assert "Nothing has been published here yet" in text_of(soup.select_one(".empty"))
    assert soup.select_one("nav[aria-label=Pagination]") is None


def test_index_filter_with_no_match_says_so_and_offers_to_clear(client, conference_index, prevention):
    ConferenceNotesPageFactory(parent=conference_index, title="Unrelated conference")
    soup = soup_of(client.get(conference_index.url, {"topic": "prevention"}))
    empty = soup.select_one(".empty")
    assert "No conference notes match these filters" in text_of(empty)
    assert empty.select_one("a")["href"] == conference_index.url


def test_index_hides_members_only_children_from_anonymous_and_badges_them_for_members(
    client, article_index, member, restrict
):
    ArticlePageFactory(parent=article_index, title="Public practice")
    restrict(ArticlePageFactory(parent=article_index, title="Members practice"))

    anonymous = text_of(soup_of(client.get(article_index.url)))
    assert "Public practice" in anonymous and "Members practice" not in anonymous

    client.force_login(member)
    soup = soup_of(client.get(article_index.url))
    locked = [card for card in soup.select(".card") if card.select_one(".badge--lock")]
    assert [text_of(card.select_one(".card__title")) for card in locked] == ["Members practice"]


# ---- Article -------------------------------------------------------------------------------------------


def test_article_page_shows_its_fields_taxonomy_links_and_meta(client, article_index, prevention, industry):
    article = ArticlePageFactory(
        parent=article_index,
        title="Working with registrars",
        summary="How registrars help hotlines remove material quickly.",
        author_organisation="Example Hotline Association",
    )
    article.topics.add(prevention)
    article.sectors.add(industry)
    article.save()

    soup = soup_of(client.get(article.url))

    assert_site_chrome(soup)
    assert_seo_meta(soup, article, "How registrars help hotlines remove material quickly.")
    assert soup.select_one("meta[property='og:type']")["content"] == "article"
    assert soup.select_one("h1").get_text(strip=True) == "Working with registrars"
    main = text_of(soup.select_one("main"))
    assert "How registrars help hotlines remove material quickly." in main
    assert "Example Hotline Association" in main
    assert "Notice and takedown works when hosting providers act fast." in main  # body
    assert soup.select_one("time")["datetime"] == article.date.isoformat()
    assert "1 min" in main
    links = {a.get_text(strip=True): a["href"] for a in soup.select(".taxonomy a")}
    assert links["Prevention"] == f"{article_index.url}?topic=prevention"
    assert links["Industry"] == f"{article_index.url}?sector=industry"


def test_article_json_ld_describes_the_article(client, article_index):
    article = ArticlePageFactory(
        parent=article_index, title="Hashing </script> at scale", author_organisation="Example Hotline"
    )
    soup = soup_of(client.get(article.url))
    scripts = [script for script in soup.select("script[type='application/ld+json']")
               if json.loads(script.string)["@type"] == "Article"]
    assert len(scripts) == 1  # beside the BreadcrumbList of every inner page
    data = json.loads(scripts[0].string)
    assert data["@type"] == "Article"
    assert data["headline"] == "Hashing </script> at scale"
    assert data["description"] == article.summary
    assert data["datePublished"] == article.date.isoformat()
    assert data["dateModified"]
    assert data["author"] == {"@type": "Organization", "name": "Example Hotline"}
    assert data["publisher"]["@type"] == "Organization"
    assert data["mainEntityOfPage"]["@id"] == f"http://testserver{article.url}"
    assert "</script> at" not in scripts[0].string  # escaped so the title cannot end the script early


def test_related_pages_the_viewer_may_not_see_are_left_out(client, article_index, member, restrict):
    public = ArticlePageFactory(parent=article_index, title="Public related practice")
    secret = ArticlePageFactory(parent=article_index, title="Members related practice")
    restrict(secret)
    article = ArticlePageFactory(parent=article_index, title="Main article")
    article.related_pages.create(page=public, sort_order=0)
    article.related_pages.create(page=secret, sort_order=1)
    article.save()

    related = text_of(soup_of(client.get(article.url)).select_one("#related-heading").parent)
    assert "Public related practice" in related
    assert "Members related practice" not in related

    client.force_login(member)
    related = text_of(soup_of(client.get(article.url)).select_one("#related-heading").parent)
    assert "Members related practice" in related and "Members only" in related


def test_related_page_block_renders_nothing_for_a_page_the_viewer_may_not_see(article_index, restrict):
    public = ArticlePageFactory(parent=article_index, title="Open practice")
    secret = ArticlePageFactory(parent=article_index, title="Closed practice")
    restrict(secret)
    block = RelatedPageBlock()
    template = Template("{% load wagtailcore_tags %}{% include_block value %}")

    def render(page, user):
        request = RequestFactory().get("/")
        request.user = user
        value = block.to_python({"page": page.pk, "title": ""})
        return template.render(Context({"request": request, "value": block.bind(value)}))

    assert "Open practice" in render(public, AnonymousUser())
    assert render(secret, AnonymousUser()).strip() == ""
    assert "Closed practice" in render(secret, UserFactory())


# ---- Conference notes and standard pages ---------------------------------------------------------------


def test_conference_notes_page_shows_event_sessions_and_takeaways(client, conference_index):
    notes = ConferenceNotesPageFactory(
        parent=conference_index,
        title="Notes from The Hague",
        event_name="Joint prevention and awareness conference",
        city="The Hague",
        country="NL",
        organisers="Hotline Network, European police cooperation",
        partners="Safer Internet Centre",
        summary="Prevention and awareness across hotlines and law enforcement.",
        key_takeaways=[("takeaway", "Prevention needs anonymous help lines.")],
        sessions=[
            (
                "session",
                {
                    "title": "Reaching people before abuse happens",
                    "speakers": ["Programme lead"],
                    "summary": "<p>Ten years of a confidential help line.</p>",
                    "takeaways": ["Non-judgemental help works."],
                },
            )
        ],
    )

    soup = soup_of(client.get(notes.url))

    assert_site_chrome(soup)
    assert_seo_meta(soup, notes, "Prevention and awareness across hotlines and law enforcement.")
    main = text_of(soup.select_one("main"))
    for expected in [
        "Notes from The Hague",
        "Joint prevention and awareness conference",
        "The Hague, Netherlands",
        "Hotline Network",
        "European police cooperation",
        "Safer Internet Centre",
        "Prevention needs anonymous help lines.",
        "Reaching people before abuse happens",
        "Programme lead",
        "Ten years of a confidential help line.",
        "Non-judgemental help works.",
        "1 June 2015 to 2 June 2015",
    ]:
        assert expected in main, expected
    organisers = [li.get_text(strip=True) for li in soup.select(".event-facts ul")[0].select("li")]
    assert organisers == ["Hotline Network", "European police cooperation"]
    event = json.loads(soup.select_one("script[type='application/ld+json']").string)
    assert event["@type"] == "Event"
    assert event["name"] == "Joint prevention and awareness conference"
    assert (event["startDate"], event["endDate"]) == ("2015-06-01", "2015-06-02")
    assert event["location"]["address"] == {
        "@type": "PostalAddress", "addressLocality": "The Hague", "addressCountry": "NL"
    }


def test_standard_page_shows_intro_and_body(client, home):
    page = StandardPageFactory(
        parent=home,
        title="About the network",
        intro="Hotlines in many countries.",
        body=json.dumps(
            [
                {"type": "heading", "value": {"text": "Our members", "level": "h2"}},
                {"type": "paragraph", "value": "<p>Members assess reports.</p>"},
                {"type": "quote", "value": {"quote": "Every removal counts.", "attribution": "An analyst", "role": ""}},
                {"type": "key_fact", "value": {"figure": "91%", "title": "removed in three days", "text": "",
                                               "source": "2014", "tone": "highlight"}},
                {"type": "table", "value": {"caption": "Reports per year", "table": {
                    "first_row_is_table_header": True, "first_col_is_header": False,
                    "data": [["Year", "Reports"], ["2014", "89,758"]]}}},
            ]
        ),
    )

    soup = soup_of(client.get(page.url))

    assert_site_chrome(soup)
    assert_seo_meta(soup, page, "Hotlines in many countries.")
    main = soup.select_one("main")
    assert main.select_one("h2#our-members").get_text(strip=True) == "Our members"
    assert "Members assess reports." in text_of(main)
    assert main.select_one("blockquote").get_text(strip=True) == "Every removal counts."
    assert main.select_one("figure.quote cite").get_text(strip=True) == "An analyst"
    assert "91%" in text_of(main.select_one(".callout"))
    table = main.select_one("table")
    assert table.select_one("caption").get_text(strip=True) == "Reports per year"
    assert [th.get_text(strip=True) for th in table.select("thead th")] == ["Year", "Reports"]
    assert [td.get_text(strip=True) for td in table.select("tbody td")] == ["2014", "89,758"]


def test_image_and_document_blocks(client, home):
    image = wagtail_factories.ImageFactory(title="Generated shapes")
    document = wagtail_factories.DocumentFactory(
        title="Annual report", file=factory.django.FileField(filename="annual-report.pdf", data=b"x" * 2048)
    )
    page = StandardPageFactory(
        parent=home,
        body=json.dumps(
            [
                {"type": "image", "value": {"image": image.pk, "alt_text": "Circles joined by lines",
                                            "decorative": False, "caption": "The network as shapes"}},
                {"type": "image", "value": {"image": image.pk, "alt_text": "ignored", "decorative": True,
                                            "caption": ""}},
                {"type": "document", "value": {"document": document.pk, "title": "", "description": "Our year."}},
            ]
        ),
    )

    main = soup_of(client.get(page.url)).select_one("main")

    figures = main.select("figure.figure")
    assert figures[0].select_one("img")["alt"] == "Circles joined by lines"
    assert figures[0].select_one("figcaption").get_text(strip=True) == "The network as shapes"
    assert figures[1].select_one("img")["alt"] == ""  # decorative: screen readers skip it
    assert figures[1].select_one("figcaption") is None
    link = main.select_one(".document-link a")
    assert link["href"] == document.url
    assert text_of(link) == "Annual report (PDF, 2.0 KB)"
    assert "Our year." in text_of(main.select_one(".document-link"))


# ---- Error pages ---------------------------------------------------------------------------------------


def test_missing_page_gets_the_themed_404(client, home):
    response = client.get("/en/no-such-page/")
    assert response.status_code == 404
    soup = BeautifulSoup(response.content, "html.parser")
    assert soup.select_one("h1").get_text(strip=True) == "Page not found"
    assert soup.select_one("a.skip-link") is not None
    assert soup.select_one("meta[name=robots]")["content"] == "noindex"


def test_500_template_renders_without_context_or_database(django_assert_num_queries):
    from django.template.loader import get_template

    with django_assert_num_queries(0):
        html = get_template("500.html").render({})
    assert "Sorry, something went wrong" in html


# ---- Bounded queries -----------------------------------------------------------------------------------


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_home_page_queries_do_not_grow_with_content(
    client, home, article_index, conference_index, prevention, member, restrict, django_assert_max_num_queries
):
    client.force_login(member)  # a member also sees lock badges, the costlier case

    def add(count):
        for _ in range(count):
            article = ArticlePageFactory(parent=article_index, listing_summary="")
            article.topics.add(prevention)
            article.save()
            ConferenceNotesPageFactory(parent=conference_index)
            page = StandardPageFactory(parent=home, show_in_menus=True)
            if HomeFeaturedPage.objects.count() < 6:
                HomeFeaturedPage.objects.create(home=home, page=article)
                HomeFeaturedPage.objects.create(home=home, page=page)

    add(5)
    restrict(ArticlePageFactory(parent=article_index))
    client.get("/en/")  # warm per-process caches (content types, site root paths)
    baseline = count_queries(client, "/en/")
    assert baseline <= 40  # the language switcher, hreflang links and translation-aware gate add a few
    add(45)
    with django_assert_max_num_queries(baseline):
        client.get("/en/")


@pytest.mark.parametrize("index_fixture,factory", [
    ("article_index", ArticlePageFactory),
    ("conference_index", ConferenceNotesPageFactory),
])
def test_index_page_queries_do_not_grow_with_children(
    client, request, index_fixture, factory, prevention, member, restrict, django_assert_max_num_queries
):
    index = request.getfixturevalue(index_fixture)
    client.force_login(member)

    def add(count):
        for _ in range(count):
            child = factory(parent=index)
            child.topics.add(prevention)
            child.save()  # ParentalManyToMany relations are written on save

    add(5)
    restrict(factory(parent=index))  # a members-only card with a lock badge
    client.get(index.url)
    baseline = count_queries(client, index.url + "?topic=prevention")
    assert baseline <= 40  # the language switcher, hreflang links and translation-aware gate add a few
    add(45)
    with django_assert_max_num_queries(baseline):
        response = client.get(index.url + "?topic=prevention")
    assert len(BeautifulSoup(response.content, "html.parser").select(".card")) == 12


# ---- Admin block previews ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "block_class,expected",
    [
        (KeyFactBlock, "of reported illegal content removed within three days"),
        (QuoteBlock, "not re-victimised by another view"),
        (TableBlock, "Reports processed by member hotlines"),
        (SessionBlock, "Reaching people at risk of offending"),
        (HeadlineStatBlock, "91%"),
    ],
)
def test_admin_block_previews_use_the_site_theme(client, home, block_class, expected):
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    block = block_class()
    block.set_name("preview_me")
    response = client.get(reverse("wagtailadmin_block_preview"), {"id": block.definition_prefix})
    soup = soup_of(response)
    assert soup.select_one("link[rel=stylesheet]")["href"].endswith("css/portal.css")
    assert expected in text_of(soup.select_one("main"))
