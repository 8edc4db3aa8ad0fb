"""Search engines' Dataset data on the statistics page (issue 20, point 11): what the page shows, public only."""

import json

from bs4 import BeautifulSoup

from tests.factories import UserFactory
from tests.portal.stats.conftest import make_stats_page


def structured(response) -> dict[str, dict]:
    assert response.status_code == 200
    soup = BeautifulSoup(response.content, "html.parser")
    found = [json.loads(script.string) for script in soup.select("script[type='application/ld+json']")]
    return {data["@type"]: data for data in found}


def test_a_public_statistics_page_describes_its_dataset_with_its_years_countries_and_downloads(client, home, dataset):
    page = make_stats_page(home, dataset)
    data = structured(client.get(page.url))

    described = data["Dataset"]
    assert described["@context"] == "https://schema.org"
    assert described["name"] == "Network statistics 2013-2014"
    assert described["url"] == f"http://testserver{page.url}"
    assert described["temporalCoverage"] == "2013/2014"
    assert [place["name"] for place in described["spatialCoverage"]] == ["Germany", "Netherlands"]
    assert described["creator"] == {"@type": "Organization", "name": "Hotline network"}
    assert described["isAccessibleForFree"] is True
    assert described["description"]
    measured = {variable["name"] for variable in described["variableMeasured"]}
    assert "Reports received" in measured
    downloads = {item["encodingFormat"]: item["contentUrl"] for item in described["distribution"]}
    assert downloads["text/csv"] == "http://testserver/statistics-data/datasets/network.csv"
    assert client.get(downloads["text/csv"].removeprefix("http://testserver")).status_code == 200
    # The page also has the breadcrumb trail every inner page carries.
    assert [item["position"] for item in data["BreadcrumbList"]["itemListElement"]] == [1, 2]


def test_a_restricted_dataset_is_never_described(client, home, members_only):
    page = make_stats_page(home, members_only, slug="members-statistics")
    client.force_login(UserFactory())
    response = client.get(page.url)
    assert "777,777" in response.content.decode()  # the member reads the figures on the page
    data = structured(response)
    assert "Dataset" not in data
    assert "777777" not in json.dumps(data) and "Members-only figures" not in json.dumps(data)
