"""A small PortalAPI mounted for tests/portal/core/test_json_api.py (not part of the site's URLs)."""

from django.http import Http404
from django.urls import path

from ninja.errors import HttpError

from portal.core.json_api import Error, PortalAPI

api = PortalAPI(title="Test API", description="For the tests.", urls_namespace="test_json_api")


@api.get("/things/{number}/", response={200: dict, 404: Error, 409: Error}, operation_id="getThing")
def thing(request, number: int, size: int = 1):
    if number == 404:
        raise Http404("No such thing, said the model layer")
    if number == 409:
        raise HttpError(409, "That thing is busy.")
    return {"number": number, "size": size}


urlpatterns = [path("api/test/", api.urls)]
