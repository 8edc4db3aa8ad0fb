"""The portal's JSON APIs on django-ninja: one ``PortalAPI`` per feature app, each with its own OpenAPI document.

A feature app builds its API (``api = PortalAPI(title=..., urls_namespace="stats_api")``), adds its operations
with ninja's decorators or routers, and the root URLconf mounts it (``path("api/stats/", api.urls)``), so this
module knows no feature app. What every portal API shares:

- Errors are JSON ``{"error": "<message>"}`` (the ``Error`` schema): raise ``ninja.errors.HttpError(status,
  message)`` anywhere under an operation. Ninja's own answers take the same shape: an unknown object is a 404 and
  a parameter that does not validate a 400 (not ninja's 422 with a list of pydantic errors).
- ``GET <root>/openapi.json`` is an operation of the API, so the document lists itself. Its paths are relative to
  ``servers[0].url``, the absolute URL of the API's root on the host that was asked.
- No interactive documentation page: ninja's Swagger UI loads its scripts from a CDN, which the CSP and the
  no-tracking rule forbid.
- Read-only APIs need no CSRF token: ninja checks CSRF only for cookie authentication, which these do not
  declare (the session still tells who is asking, as ``request.user``).
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse

from ninja import NinjaAPI, Schema
from ninja.errors import HttpError, ValidationError


class Error(Schema):
    """The body of every error answer."""

    error: str


class PortalAPI(NinjaAPI):
    """A ninja API with the portal's error shape and a self-describing ``openapi.json`` (see the module)."""

    def __init__(self, *, title: str, description: str, urls_namespace: str, version: str = "1.0.0") -> None:
        super().__init__(title=title, description=description, version=version, urls_namespace=urls_namespace,
                         openapi_url=None, docs_url=None)

        def openapi_json(request: HttpRequest) -> dict[str, Any]:
            """The OpenAPI document of this API."""
            return self.openapi_document(request)

        self.get("/openapi.json", response=dict[str, Any], operation_id="getOpenAPI", summary="This document",
                 url_name="openapi")(openapi_json)

    def set_default_exception_handlers(self) -> None:
        super().set_default_exception_handlers()
        self.add_exception_handler(HttpError, self._http_error)
        self.add_exception_handler(Http404, self._not_found)
        self.add_exception_handler(ValidationError, self._invalid)

    def get_content_type(self) -> str:
        return self.renderer.media_type  # JSON is UTF-8 by definition: no charset parameter (RFC 8259)

    def error_response(self, request: HttpRequest, message: str, status: int) -> HttpResponse:
        """An ``{"error": message}`` answer."""
        return self.create_response(request, {"error": message}, status=status)

    def openapi_document(self, request: HttpRequest) -> dict[str, Any]:
        """The OpenAPI document of this API, for the host that was asked."""
        server = request.build_absolute_uri(self.get_root_path({})).rstrip("/")
        return {**self._document, "servers": [{"url": server}]}

    @cached_property
    def _document(self) -> dict[str, Any]:
        # Generated once per process: the operations do not change while it runs, and generating costs tens of
        # milliseconds, which an anonymous client could otherwise ask for again and again.
        return dict(self.get_openapi_schema(path_prefix=""))

    def _http_error(self, request: HttpRequest, exc: HttpError) -> HttpResponse:
        return self.error_response(request, exc.message, exc.status_code)

    def _not_found(self, request: HttpRequest, exc: Http404) -> HttpResponse:
        return self.error_response(request, "Not found.", 404)

    def _invalid(self, request: HttpRequest, exc: ValidationError) -> HttpResponse:
        problems = "; ".join(f"{'.'.join(map(str, error['loc'][1:]))}: {error['msg']}" for error in exc.errors)
        return self.error_response(request, f"Invalid request: {problems}.", 400)
