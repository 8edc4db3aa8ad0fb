"""/api/hotlines/: the directory for member sites and apps, with its OpenAPI document."""

import pytest

pytestmark = pytest.mark.django_db


def test_lists_active_hotlines(client, hotlines):
    body = client.get("/api/hotlines/").json()
    assert body["count"] == 4
    assert "Closed Hotline" not in {item["name"] for item in body["results"]}
    ligne = next(item for item in body["results"] if item["name"] == "Ligne Claire")
    assert ligne["countries"] == ["FR"] and ligne["report_url"] == "https://report.ligne-claire.example/"
    assert set(ligne) >= {"languages", "accepts", "anonymous", "email", "phone"}


def test_a_country_and_its_fallback(client, hotlines):
    body = client.get("/api/hotlines/?country=fr&accepts=grooming").json()
    assert [item["name"] for item in body["results"]] == ["Signal Jeunesse"] and not body["fallback"]
    body = client.get("/api/hotlines/?country=LU").json()
    assert body["fallback"] and [item["name"] for item in body["results"]] == ["Meldpunt Lage Landen"]


@pytest.mark.parametrize(("query", "word"), [("country=ZZ", "country"), ("accepts=spam", "kind"),
                                             ("language=xx", "language"), ("country=%00", "country")])
def test_bad_filters_are_400_with_a_message(client, hotlines, query, word):
    response = client.get(f"/api/hotlines/?{query}")
    assert response.status_code == 400
    assert word in response.json()["error"].lower()


def test_the_openapi_document_is_valid_and_lists_the_endpoint(client):
    from openapi_spec_validator import validate

    document = client.get("/api/hotlines/openapi.json").json()
    validate(document)
    assert "/" in document["paths"] and document["servers"][0]["url"].endswith("/api/hotlines")
