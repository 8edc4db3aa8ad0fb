"""The request guard (portal.core.request_guard): hostile query strings get a 400 that says what is wrong.

Issue 16, reproduction 7: a NUL byte in ``/api/v2/pages/?search=``, ``?locale=`` and an index page's ``?topic=`` or
``?sector=`` gave a 500 on PostgreSQL. ``tests/fuzz/test_hostile_input.py`` drives every public URL.
"""

import json

import pytest

from portal.core.request_guard import HostileInput, check_query_string
from tests.factories import ArticlePageFactory, TopicFactory


@pytest.fixture
def article(article_index):
    topic = TopicFactory(name="Prevention", slug="prevention")
    page = ArticlePageFactory(parent=article_index, title="Notice and takedown", slug="notice-and-takedown")
    page.topics.add(topic)
    page.save_revision().publish()
    return page


@pytest.mark.parametrize("query", ["search=%00", "locale=%00", "search=takedown%00", "type=%00", "fields=%00"])
def test_a_nul_byte_in_an_api_parameter_is_a_400_naming_it(client, article, query):
    response = client.get(f"/api/v2/pages/?{query}")
    assert response.status_code == 400
    name = query.split("=")[0]
    message = f"The query parameter '{name}' contains a control character."
    assert response.json() == {"message": message, "error": message}


@pytest.mark.parametrize("name", ["topic", "sector", "page"])
def test_a_nul_byte_in_an_index_page_filter_is_a_400_page(client, article, name):
    response = client.get(f"/en/best-practices/?{name}=%00")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert f"The query parameter &#x27;{name}&#x27; contains a control character." in response.content.decode()


def test_the_search_page_and_feeds_refuse_a_nul_byte(client, article):
    assert client.get("/en/search/?q=a%00b").status_code == 400
    assert client.get("/en/feeds/latest/rss/?x=%00").status_code == 400
    assert client.get("/api/stats/datasets/?x=%00").status_code == 400


def test_undecodable_bytes_and_overlong_values_are_refused(client, article, settings):
    settings.REQUEST_GUARD_MAX_VALUE_LENGTH = 50
    response = client.get("/api/v2/pages/?search=%FF")
    assert response.status_code == 400
    assert "not valid UTF-8" in response.json()["message"]
    response = client.get("/api/v2/pages/?search=" + "a" * 51)
    assert response.json()["message"] == "The query parameter 'search' is longer than 50 characters."
    assert client.get("/api/v2/pages/?search=" + "a" * 50).status_code == 200


def test_an_overlong_query_string_is_refused(client, article, settings):
    settings.REQUEST_GUARD_MAX_QUERY_LENGTH = 100
    assert client.get("/en/best-practices/?" + "&".join(["a=1"] * 30)).status_code == 400
    assert client.get("/en/best-practices/?" + "&".join(["a=1"] * 20)).status_code == 200


def test_ordinary_queries_still_work(client, article):
    """Tracking parameters, a literal percent sign, tabs in a pasted search and accented text pass."""
    response = client.get("/en/best-practices/?topic=prevention&utm_source=news%20letter")
    assert response.status_code == 200
    assert "Notice and takedown" in response.content.decode()
    assert client.get("/en/search/?q=100%").status_code == 200
    assert client.get("/en/search/?q=notice%09and%0Atakedown").status_code == 200
    body = json.loads(client.get("/api/v2/pages/?search=takedown%C3%BC").content)
    assert "items" in body


def test_a_control_character_in_the_path_is_refused(client, article):
    assert client.get("/en/best-practices%00/").status_code == 400
    assert client.get("/en/best-practices%1b/").status_code == 400


@pytest.mark.parametrize(
    ("raw", "refused"),
    [
        (b"q=hello+world", False), (b"q=%E2%82%AC", False), (b"q=100%", False), (b"q=%zz", False),
        (b"q=%09%0A%0B%0C%0D", False), (b"&&=&q", False), (b"q=%00", True), (b"q=%7F", True), (b"q=%C2%85", True),
        (b"q=%1C", True), (b"q=%FF", True), (b"q=%C0%80", True), (b"q=\xff", True), (b"%01=1", True),
        (b"q=a\x00", True),
    ],
)
def test_check_query_string(raw, refused):
    if refused:
        with pytest.raises(HostileInput):
            check_query_string(raw)
    else:
        check_query_string(raw)


@pytest.mark.parametrize("endpoint", ["pages", "images", "documents"])
def test_the_apis_find_with_an_id_that_is_not_a_number_is_a_400(client, article, endpoint):
    """Wagtail passed ``find/?id=`` to the query as it was: a server error (found by tests/fuzz)."""
    response = client.get(f"/api/v2/{endpoint}/find/?id=x")
    assert response.status_code == 400
    assert response.json()["message"] == "id must be a positive integer"
    assert client.get(f"/api/v2/{endpoint}/find/?id=99999999999999999999").status_code == 404
