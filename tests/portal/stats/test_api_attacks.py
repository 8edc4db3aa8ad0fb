"""The statistics API under attack: group-restricted datasets, hostile query values, odd slugs, other languages.

Each answer is one a client can act on (a 400 naming the parameter, the same 404 for hidden and missing
datasets), never a server error, and a restricted dataset's figures never appear to those who may not read them.
"""

from django.contrib.auth.models import Group

import pytest

from portal.stats.models import Dataset
from tests.factories import UserFactory
from tests.portal.stats.conftest import add_observation, figures, make_dataset

LIST = "/api/stats/datasets/"
OBSERVATIONS = "/api/stats/datasets/{}/observations/"


@pytest.fixture
def board(db):
    """A public dataset, and one only the "Board" group may read (with a figure nobody else may see)."""
    public = make_dataset("pub", title="Public figures")
    add_observation(public, 2014, "DE", **figures(1, 1, 1, 1, 0, 0))
    add_observation(public, 2015, "", **figures(2, 2, 2, 1, 1, 0))
    group = Group.objects.create(name="Board")
    restricted = make_dataset("board", title="Board only", restriction=Dataset.GROUPS)
    restricted.groups.add(group)
    add_observation(restricted, 2016, **figures(888_888, 500, 400, 399, 1, 0))
    return group


def slugs(client) -> list[str]:
    return [entry["slug"] for entry in client.get(LIST).json()["results"]]


def test_a_group_dataset_does_not_exist_for_a_member_outside_the_group(client, board):
    client.force_login(UserFactory())
    assert slugs(client) == ["pub"]
    response = client.get(OBSERVATIONS.format("board") + "?country=XX&page=two")
    assert response.status_code == 404
    assert response.json() == {"error": 'No dataset "board" (or it is not visible to you).'}
    assert b"888" not in client.get(LIST).content


def test_a_group_dataset_is_read_by_its_group_and_superusers(client, board):
    member = UserFactory()
    member.groups.add(board)
    client.force_login(member)
    assert slugs(client) == ["board", "pub"]
    assert client.get(OBSERVATIONS.format("board")).json()["results"][0]["values"]["reports_received"] == 888_888
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    assert slugs(client) == ["board", "pub"]


@pytest.mark.parametrize("slug", ["BOARD", "b%C3%B6ard", "..", "%2e%2e", "board%20"])
def test_odd_slugs_are_the_same_404_as_a_missing_dataset(client, board, slug):
    response = client.get(OBSERVATIONS.format(slug))
    assert response.status_code == 404
    assert set(response.json()) == {"error"}
    assert b"888" not in response.content


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("page=1e3", "page and page_size must be whole numbers"),
        ("page=%D9%A3", "page and page_size must be whole numbers"),  # an Arabic-Indic 3: ASCII digits only
        ("page=%2B1", "page and page_size must be whole numbers"),
        ("page=%201", "page and page_size must be whole numbers"),
        ("page=", "page and page_size must be whole numbers"),
        ("page=" + "9" * 101, "page and page_size must be whole numbers"),
        ("page_size=0", "page_size must be between 1 and 1000"),
        ("page_size=1001", "page_size must be between 1 and 1000"),
        ("page_size=-5", "page_size must be between 1 and 1000"),
        ("country=NETWORK", 'Unknown country "NETWORK"'),
        ("country=DEU", 'Unknown country "DEU"'),
        ("country=%20DE", 'Unknown country " DE"'),
        ("country=%C3%BC", 'Unknown country "ü"'),
        ("period_from=20140", 'Bad period_from "20140"'),
        ("period_from=%EF%BC%92%EF%BC%90%EF%BC%91%EF%BC%94", "Bad period_from"),  # full-width digits
        ("period_to=2014-Q0", 'Bad period_to "2014-Q0"'),
        ("period_to=2014-Q4%0A", "Bad period_to"),
    ],
)
def test_hostile_values_get_a_400_naming_the_parameter(client, board, query, message):
    response = client.get(OBSERVATIONS.format("pub") + "?" + query)
    assert response.status_code == 400
    assert message in response.json()["error"]


def test_a_page_number_far_past_the_end_is_a_404_not_a_server_error(client, board):
    response = client.get(OBSERVATIONS.format("pub") + "?page=99999999999999999999999")
    assert response.status_code == 404
    assert response.json() == {"error": "Page 99999999999999999999999 does not exist; there are 1."}


@pytest.mark.parametrize("query", ["foo=bar", "country%5B%5D=DE", "period_from=2015&period_to=2014"])
def test_unknown_parameters_are_ignored_and_an_empty_range_is_an_empty_page(client, board, query):
    data = client.get(OBSERVATIONS.format("pub") + "?" + query).json()
    assert data["count"] == (0 if "period" in query else 2)


@pytest.mark.parametrize("language", ["fr", "de", "es", "nl", "it", "pl"])
def test_the_answers_are_the_same_in_every_language(client, board, language):
    """The API does not vary by language (it sends no ``Vary: Accept-Language``): country names are in English
    like "Network total", the measures and the error messages, whatever the client's Accept-Language."""
    english = client.get(OBSERVATIONS.format("pub"), HTTP_ACCEPT_LANGUAGE="en")
    other = client.get(OBSERVATIONS.format("pub"), HTTP_ACCEPT_LANGUAGE=language)
    assert other.json() == english.json()
    assert [row["country_name"] for row in other.json()["results"]] == ["Germany", "Network total"]
    assert "Accept-Language" not in other.get("Vary", "")
    error = client.get(OBSERVATIONS.format("pub") + "?country=XX", HTTP_ACCEPT_LANGUAGE=language)
    assert error.json()["error"].startswith('Unknown country "XX"')
    assert client.get(f"/{language}/api/stats/datasets/").status_code == 404  # never under a language prefix
