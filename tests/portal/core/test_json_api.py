"""The portal's JSON API conventions (portal.core.json_api): one error shape, a self-describing OpenAPI document
for the host that was asked, read-only operations that answer 405 to other methods, and no CDN docs page."""

import pytest

pytestmark = pytest.mark.urls("tests.portal.core.json_api_urls")


def test_an_answer_is_plain_json(client):
    response = client.get("/api/test/things/7/?size=3")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"number": 7, "size": 3}


@pytest.mark.parametrize(
    ("url", "status", "error"),
    [
        ("/api/test/things/409/", 409, "That thing is busy."),
        ("/api/test/things/404/", 404, "Not found."),  # the model layer's message never reaches the client
        ("/api/test/things/seven/", 400, "Invalid request: number: "),
        ("/api/test/things/7/?size=big", 400, "Invalid request: size: "),
    ],
)
def test_every_error_has_the_same_shape(client, db, url, status, error):  # db: Wagtail looks up redirects on 404
    response = client.get(url)
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert set(response.json()) == {"error"}
    assert response.json()["error"].startswith(error)
    assert "said the model layer" not in response.json()["error"]


def test_other_methods_get_405_not_a_csrf_403(client):
    for method in ("post", "put", "patch", "delete"):
        response = getattr(client, method)("/api/test/things/7/")
        assert response.status_code == 405, method
        assert response["Allow"] == "GET"


def test_the_document_describes_itself_for_the_host_asked(client):
    from openapi_spec_validator import validate

    response = client.get("/api/test/openapi.json", HTTP_HOST="portal.example.org")
    document = response.json()
    validate(document)
    assert document["servers"] == [{"url": "http://portal.example.org/api/test"}]
    assert set(document["paths"]) == {"/things/{number}/", "/openapi.json"}
    assert document["paths"]["/openapi.json"]["get"]["operationId"] == "getOpenAPI"
    errors = document["paths"]["/things/{number}/"]["get"]["responses"]["409"]
    assert errors["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    assert document["components"]["schemas"]["Error"]["required"] == ["error"]
    # The document is generated once per process; the server is still the one each request asked.
    again = client.get("/api/test/openapi.json", HTTP_HOST="other.example.net", secure=True).json()
    assert again["servers"] == [{"url": "https://other.example.net/api/test"}]
    assert again["paths"] == document["paths"]


def test_no_interactive_docs_page():
    """Ninja's Swagger UI would load scripts from a CDN (against the CSP and the no-tracking rule)."""
    from django.urls import Resolver404, resolve

    with pytest.raises(Resolver404):
        resolve("/api/test/docs")
