"""Structured data for search engines (issue 20, point 11): the network as an Organization on the home page, the
breadcrumb trail of every inner page, and an article's share image only when every reader may open it."""

import json

import pytest
from bs4 import BeautifulSoup

from tests.factories import ArticleIndexPageFactory, ArticlePageFactory

pytestmark = pytest.mark.django_db


def structured(response) -> dict[str, dict]:
    assert response.status_code == 200
    soup = BeautifulSoup(response.content, "html.parser")
    found = [json.loads(script.string) for script in soup.select("script[type='application/ld+json']")]
    assert len(found) == len({data["@type"] for data in found})  # one of each
    return {data["@type"]: data for data in found}


def test_the_home_page_describes_the_network_and_no_breadcrumb(client, home):
    data = structured(client.get(home.url))
    organization = data["Organization"]
    assert organization["name"] == "Hotline Network Portal"
    assert organization["url"] == f"http://testserver{home.url}"
    assert organization["logo"].startswith("http://testserver/static/")
    assert "BreadcrumbList" not in data


def test_an_article_has_its_breadcrumb_trail_as_on_the_page(client, home):
    index = ArticleIndexPageFactory(parent=home, title="Best practices", slug="best-practices")
    article = ArticlePageFactory(parent=index, title="Fast takedown", slug="fast-takedown")
    response = client.get(article.url)
    trail = structured(response)["BreadcrumbList"]["itemListElement"]
    assert [(item["position"], item["name"], item["item"]) for item in trail] == [
        (1, "Home", f"http://testserver{home.url}"),
        (2, "Best practices", f"http://testserver{index.url}"),
        (3, "Fast takedown", f"http://testserver{article.url}"),
    ]
    shown = [a.get_text(strip=True) for a in BeautifulSoup(response.content, "html.parser").select(".breadcrumbs a")]
    assert shown == [item["name"] for item in trail]
    assert "Organization" not in structured(response)  # the network is described once, on its home page
