"""The statistics JSON API: listing, filters, paging, the OpenAPI document, and restricted datasets."""

import pytest

from tests.factories import UserFactory
from tests.portal.stats.conftest import add_observation, figures, make_dataset


@pytest.fixture
def big(db):
    """A dataset with 2010-2015 for DE, NL and the network (18 rows) plus 2014 quarters for DE."""
    ds = make_dataset("big", title="Big dataset")
    for year in range(2010, 2016):
        for country in ("", "DE", "NL"):
            add_observation(ds, year, country, **figures(year, 5, 4, 3, 1, 0))
    for quarter in (1, 2, 3, 4):
        add_observation(ds, 2014, "DE", quarter=quarter, items_removed=quarter)
    return ds


def test_dataset_list_shows_public_datasets_with_links(client, big, members_only):
    data = client.get("/api/stats/datasets/").json()
    assert data["count"] == 1
    (entry,) = data["results"]
    assert entry["slug"] == "big"
    assert entry["observation_count"] == 22
    assert (entry["period_from"], entry["period_to"]) == ("2010", "2015")
    assert entry["observations_url"] == "http://testserver/api/stats/datasets/big/observations/"
    assert entry["csv_url"] == "http://testserver/statistics-data/datasets/big.csv"


def test_members_see_restricted_datasets(client, big, members_only):
    client.force_login(UserFactory())
    slugs = [entry["slug"] for entry in client.get("/api/stats/datasets/").json()["results"]]
    assert slugs == ["big", "members-figures"]
    assert client.get("/api/stats/datasets/members-figures/observations/").json()["count"] == 1


def test_restricted_dataset_observations_are_404_for_anonymous(client, members_only):
    response = client.get("/api/stats/datasets/members-figures/observations/")
    assert response.status_code == 404
    assert b"777" not in response.content
    # The same answer as for a dataset that does not exist: existence does not leak.
    assert client.get("/api/stats/datasets/no-such-thing/observations/").status_code == 404


def test_country_filter(client, big):
    data = client.get("/api/stats/datasets/big/observations/?country=nl").json()
    assert data["count"] == 6
    assert {row["country"] for row in data["results"]} == {"NL"}
    assert data["results"][0]["country_name"] == "Netherlands"
    network = client.get("/api/stats/datasets/big/observations/?country=network").json()
    assert network["count"] == 6 and {row["country"] for row in network["results"]} == {None}


def test_period_filters_include_quarters_of_the_years_named(client, big):
    data = client.get("/api/stats/datasets/big/observations/?period_from=2014&period_to=2014&country=DE").json()
    assert [row["period"] for row in data["results"]] == ["2014", "2014-Q1", "2014-Q2", "2014-Q3", "2014-Q4"]
    quarters = client.get("/api/stats/datasets/big/observations/?period_from=2014-Q2&period_to=2014-Q3").json()
    assert [row["period"] for row in quarters["results"]] == ["2014-Q2", "2014-Q3"]
    years = client.get("/api/stats/datasets/big/observations/?period_from=2012&period_to=2013").json()
    assert years["count"] == 6


def test_paging_walks_every_row_once(client, big):
    first = client.get("/api/stats/datasets/big/observations/?page_size=10").json()
    assert (first["count"], first["num_pages"], first["page"], first["previous"]) == (22, 3, 1, None)
    seen = [row["period"] + (row["country"] or "") for row in first["results"]]
    url = first["next"]
    while url:
        page = client.get(url).json()
        seen += [row["period"] + (row["country"] or "") for row in page["results"]]
        url = page["next"]
    assert len(seen) == 22 == len(set(seen))
    assert "page_size=10" in first["next"] and "page=2" in first["next"]


def test_observations_carry_values_and_computed_kpis(client, big):
    row = client.get("/api/stats/datasets/big/observations/?country=DE&period_from=2015").json()["results"][0]
    assert row["values"]["items_removed"] == 4
    assert row["kpis"]["share_removed_within_3_days"] == 0.75


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("country=XX", 400, "Unknown country"),
        ("period_from=2014-Q9", 400, "Bad period_from"),
        ("period_to=last", 400, "Bad period_to"),
        ("page=two", 400, "whole numbers"),
        ("page=99", 404, "Page 99 does not exist"),
    ],
)
def test_bad_parameters_are_explained(client, big, query, status, message):
    response = client.get(f"/api/stats/datasets/big/observations/?{query}")
    assert response.status_code == status
    assert message in response.json()["error"]


def test_openapi_document_validates_and_lists_the_endpoints(client, db):
    from openapi_spec_validator import validate

    document = client.get("/api/stats/openapi.json").json()
    validate(document)
    assert set(document["paths"]) == {"/datasets/", "/datasets/{slug}/observations/", "/openapi.json"}
    parameters = {p["name"] for p in document["paths"]["/datasets/{slug}/observations/"]["get"]["parameters"]}
    assert {"country", "period_from", "period_to", "page"} <= parameters


def test_an_empty_dataset_is_one_empty_page(client, db):
    make_dataset("empty", title="Nothing yet")
    data = client.get("/api/stats/datasets/empty/observations/").json()
    assert (data["count"], data["page"], data["num_pages"], data["next"], data["results"]) == (0, 1, 1, None, [])
    assert client.get("/api/stats/datasets/empty/observations/?page=2").status_code == 404


@pytest.mark.parametrize("query", ["page=0", "page=-1"])
def test_pages_below_one_do_not_exist(client, big, query):
    response = client.get(f"/api/stats/datasets/big/observations/?{query}")
    assert response.status_code == 404
    assert "does not exist" in response.json()["error"]


def test_a_hidden_dataset_is_404_whatever_the_filters_say(client, members_only):
    """The dataset is looked up before any filter is read, so a bad filter cannot tell hidden from missing."""
    for slug in ("members-figures", "no-such-thing"):
        response = client.get(f"/api/stats/datasets/{slug}/observations/?country=XX&page=two")
        assert response.status_code == 404
        assert response.json() == {"error": f'No dataset "{slug}" (or it is not visible to you).'}


@pytest.mark.parametrize("url", ["/api/stats/datasets/", "/api/stats/datasets/big/observations/",
                                 "/api/stats/openapi.json"])
def test_only_get_is_allowed(client, big, url):
    assert client.get(url)["Content-Type"] == "application/json"
    for method in ("post", "put", "patch", "delete"):
        response = getattr(client, method)(url)
        assert response.status_code == 405, method  # not the CSRF check's 403
        assert response["Allow"] == "GET"


def test_openapi_document_names_this_host_and_documents_every_error(client, db):
    document = client.get("/api/stats/openapi.json", HTTP_HOST="stats.example.org").json()
    assert document["servers"] == [{"url": "http://stats.example.org/api/stats"}]
    responses = document["paths"]["/datasets/{slug}/observations/"]["get"]["responses"]
    assert set(responses) == {"200", "400", "404"}
    for status in ("400", "404"):
        assert responses[status]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    country = next(p for p in document["paths"]["/datasets/{slug}/observations/"]["get"]["parameters"]
                   if p["name"] == "country")
    assert {"", "DE", "de", "network"} <= set(country["schema"]["enum"])
