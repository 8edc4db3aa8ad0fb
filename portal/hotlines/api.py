"""The hotline directory as JSON at /api/hotlines/ (django-ninja, OpenAPI at /api/hotlines/openapi.json), so
member sites and apps can show the same directory. Read-only and public: only active hotlines, only what the
directory page shows."""

from __future__ import annotations

from django.http import HttpRequest

from ninja import Field, Query, Schema
from ninja.errors import HttpError

from portal.core.json_api import Error, PortalAPI
from portal.hotlines import services
from portal.hotlines.choices import CATEGORY_CODES, LANGUAGE_CODES

api = PortalAPI(
    title="Hotline directory API",
    description=(
        "The network's member hotlines: where and how the public can report child sexual abuse material and "
        "other illegal content, by country, language and kind of content. For a country with no hotline of its "
        "own, the channels the network recommends instead (``fallback: true``)."
    ),
    urls_namespace="hotlines_api",
)


class HotlineOut(Schema):
    name: str
    countries: list[str] = Field(description="ISO 3166 alpha-2 codes of the countries it serves")
    report_url: str = Field(description="Its online reporting form (https), or empty")
    email: str
    phone: str
    languages: list[str] = Field(description="ISO 639-1 codes of the languages reports can be made in")
    accepts: list[str] = Field(description=f"What it takes reports of: {', '.join(CATEGORY_CODES)}")
    anonymous: bool = Field(description="Whether reports can be made without giving a name")
    description: str
    international: bool = Field(description="Recommended for countries with no hotline of their own")

    @staticmethod
    def resolve_countries(hotline) -> list[str]:
        return hotline.country_codes


class HotlineList(Schema):
    count: int
    country: str = Field(description="The country asked for, or empty")
    fallback: bool = Field(description="True when the country has no hotline and these are the recommended channels")
    results: list[HotlineOut]


class HotlineFilter(Schema):
    country: str = Field("", description="ISO 3166 alpha-2 code, either case; empty: every hotline",
                         json_schema_extra={"pattern": "^([A-Za-z]{2})?$"})
    accepts: str = Field("", description="Only hotlines that take reports of this kind",
                         json_schema_extra={"enum": ["", *CATEGORY_CODES]})
    language: str = Field("", description="Only hotlines that take reports in this language (ISO 639-1)",
                          json_schema_extra={"enum": ["", *LANGUAGE_CODES]})


def _unknown_filter(filters: HotlineFilter, country: str) -> str:
    """Why the filters cannot be answered (an unknown country, kind of content or language), or ""."""
    from django_countries import countries

    if country not in {"", *dict(countries)}:
        return f'Unknown country "{filters.country}": use an ISO 3166 alpha-2 code such as FR.'
    if filters.accepts not in {"", *CATEGORY_CODES}:
        return f'Unknown kind of content "{filters.accepts}": use one of {", ".join(CATEGORY_CODES)}.'
    if filters.language not in {"", *LANGUAGE_CODES}:
        return f'Unknown language "{filters.language}": use an ISO 639-1 code such as fr.'
    return ""


@api.get("/", response={200: HotlineList, 400: Error}, url_name="hotlines", operation_id="listHotlines",
         summary="Active hotlines, by country, kind of content and language",
         openapi_extra={"responses": {400: {"description": "An unknown country, kind of content or language"}}})
def hotline_list(request: HttpRequest, filters: Query[HotlineFilter]):
    """Active hotlines. With ``country``: those serving it, or the recommended fallback when it has none."""
    country = filters.country.upper()
    refusal = _unknown_filter(filters, country)
    if refusal:
        raise HttpError(400, refusal)
    shown, fallback = services.active_hotlines(), False
    if country:
        shown, fallback = services.candidates_for(shown, country)
    shown = [hotline for hotline in shown if services.matches(hotline, filters.accepts, filters.language)]
    return {"count": len(shown), "country": country, "fallback": fallback, "results": shown}
