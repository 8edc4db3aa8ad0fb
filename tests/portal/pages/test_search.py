"""Site search: finds pages by their body text, only pages the visitor may read, with type filter and paging."""

import re

from wagtail.contrib.search_promotions.models import Query
from wagtail.models import PageViewRestriction

import pytest

from tests.factories import (
    ArticlePageFactory,
    ConferenceNotesPageFactory,
    StandardPageFactory,
    UserFactory,
    paragraph,
)

pytestmark = pytest.mark.django_db


def result_titles(response) -> list[str]:
    """Titles of the result cards, in order."""
    html = response.content.decode()
    results = html.split('class="card-grid search-results"', 1)
    if len(results) < 2:
        return []
    return re.findall(r'class="card__link"[^>]*>([^<]+)</a>', results[1].split("</ul>", 1)[0])


def test_finds_a_page_by_a_word_only_in_its_body(client, article_index):
    ArticlePageFactory(parent=article_index, title="Takedown times", body=paragraph("Hashes catch zorblax quickly."))
    ArticlePageFactory(parent=article_index, title="Unrelated", body=paragraph("Nothing to see here."))

    response = client.get("/en/search/", {"q": "zorblax"})

    assert response.status_code == 200
    assert result_titles(response) == ["Takedown times"]
    assert "Best practice article" in response.content.decode()  # the page type label on the card


def test_unpublished_pages_are_never_found(client, article_index):
    draft = ArticlePageFactory(parent=article_index, title="Draft", body=paragraph("quillbeak draft"))
    draft.unpublish()

    response = client.get("/en/search/", {"q": "quillbeak"})

    assert result_titles(response) == []
    assert "No results for" in response.content.decode()


def test_restricted_page_is_found_only_by_those_who_may_read_it(client, article_index):
    secret = ArticlePageFactory(parent=article_index, title="Members briefing", body=paragraph("vexmorrow plan"))
    PageViewRestriction.objects.create(page=secret, restriction_type=PageViewRestriction.LOGIN)

    anonymous = client.get("/en/search/", {"q": "vexmorrow"})
    assert result_titles(anonymous) == []
    assert "vexmorrow plan" not in anonymous.content.decode()

    client.force_login(UserFactory())
    member = client.get("/en/search/", {"q": "vexmorrow"})
    assert result_titles(member) == ["Members briefing"]


def test_type_filter_narrows_results_and_shows_counts(client, article_index, conference_index, home):
    ArticlePageFactory(parent=article_index, title="Article on glimmerfen", body=paragraph("glimmerfen"))
    ConferenceNotesPageFactory(parent=conference_index, title="Conference on glimmerfen", summary="glimmerfen talks")
    StandardPageFactory(parent=home, title="About glimmerfen", intro="glimmerfen")

    everything = client.get("/en/search/", {"q": "glimmerfen"})
    assert sorted(result_titles(everything)) == [
        "About glimmerfen",
        "Article on glimmerfen",
        "Conference on glimmerfen",
    ]
    html = everything.content.decode()
    assert "All types (3)" in html
    assert "Conference notes (1)" in html

    conferences = client.get("/en/search/", {"q": "glimmerfen", "type": "conference"})
    assert result_titles(conferences) == ["Conference on glimmerfen"]

    # An unknown type is ignored rather than hiding everything.
    unknown = client.get("/en/search/", {"q": "glimmerfen", "type": "nonsense"})
    assert len(result_titles(unknown)) == 3


def test_pagination_keeps_query_and_type(client, article_index):
    for number in range(14):
        ArticlePageFactory(parent=article_index, title=f"Hotline report {number}", body=paragraph("brindlewick"))

    first = client.get("/en/search/", {"q": "brindlewick", "type": "article"})
    assert len(result_titles(first)) == 12
    html = first.content.decode()
    assert 'href="?q=brindlewick&amp;type=article&amp;page=2"' in html

    second = client.get("/en/search/", {"q": "brindlewick", "type": "article", "page": "2"})
    assert len(result_titles(second)) == 2
    assert set(result_titles(first)).isdisjoint(result_titles(second))


def test_empty_query_shows_a_prompt_and_records_nothing(client, article_index):
    response = client.get("/en/search/", {"q": "   "})

    assert response.status_code == 200
    html = response.content.decode()
    assert "What are you looking for?" in html
    assert 'href="/en/best-practices/"' in html  # a section to browse
    assert not Query.objects.exists()


def test_non_empty_query_is_recorded_once_per_search(client, article_index):
    ArticlePageFactory(parent=article_index, body=paragraph("ploverstone"))

    client.get("/en/search/", {"q": "Ploverstone"})
    client.get("/en/search/", {"q": "ploverstone", "page": "2"})

    assert Query.get("ploverstone").hits == 1


def test_no_results_suggests_other_types_and_sections(client, article_index, home):
    StandardPageFactory(parent=home, title="About fernwhistle", intro="fernwhistle")

    response = client.get("/en/search/", {"q": "fernwhistle", "type": "article"})

    html = response.content.decode()
    assert result_titles(response) == []
    assert "Search all types of content" in html
    assert 'href="/en/best-practices/"' in html


def test_results_page_makes_a_bounded_number_of_queries(
    client, article_index, conference_index, django_assert_max_num_queries
):
    for number in range(12):
        ArticlePageFactory(parent=article_index, title=f"Bounded {number}", body=paragraph("quenchmoor"))
        ConferenceNotesPageFactory(parent=conference_index, title=f"Bounded talk {number}", summary="quenchmoor")

    # 28: the first search for a term also records it for the promoted-results statistics (two more writes on
    # PostgreSQL); the count does not grow with the number of results.
    with django_assert_max_num_queries(28):
        response = client.get("/en/search/", {"q": "quenchmoor"})
    assert len(result_titles(response)) == 12


@pytest.mark.parametrize(
    "hostile", ['"', 'quenchmoor"', "'", "\\", "NEAR(", "a OR", "(((", "*", "form\x0cfeed", "x" * 500]
)
def test_odd_queries_never_break_the_page(client, article_index, hostile):
    ArticlePageFactory(parent=article_index, title="Quotes", body=paragraph("quenchmoor"))

    response = client.get("/en/search/", {"q": hostile})

    assert response.status_code == 200


def test_a_nul_byte_in_the_query_is_a_400_not_a_server_error(client, article_index):
    """The request guard (portal.core.request_guard) refuses it before the search runs."""
    response = client.get("/en/search/", {"q": "nul\x00byte"})
    assert response.status_code == 400
    assert "control character" in response.content.decode()


def test_a_stray_quote_does_not_hide_matches(client, article_index):
    ArticlePageFactory(parent=article_index, title="Quoted", body=paragraph("thistlegrove"))

    assert result_titles(client.get("/en/search/", {"q": '"thistlegrove'})) == ["Quoted"]


def test_the_tree_root_is_never_a_result(client, article_index):
    from django.core.management import call_command

    call_command("update_index", verbosity=0)  # indexes every page, the tree's root node included

    assert result_titles(client.get("/en/search/", {"q": "Root"})) == []
