"""Query parameters of the statistics API: the observation filter and paging.

Every parameter arrives as text and is read exactly as the OpenAPI document describes it (no trimming, ASCII
digits only). The checks run in the operation, after the dataset is found, so an unknown or hidden dataset is a
404 whatever the query says, and each problem has its own message: typed parameters would make ninja refuse
the request before the dataset lookup, with a generic message. The documented schema sits beside each field.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from django.core.paginator import EmptyPage, Page, Paginator
from django.db.models import Q, QuerySet

from ninja import Field, FilterSchema, Schema
from ninja.errors import HttpError
from pydantic import GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from portal.stats.models import country_codes, period_key

NETWORK = "network"
PERIOD = r"([0-9]{4})(?:-?[Qq]([1-4]))?"  # a year, or a year and quarter: 2014, 2014-Q2, 2014q2
PERIOD_RE = re.compile(PERIOD)
WHOLE_NUMBER_RE = re.compile(r"-?[0-9]{1,100}")  # int() of thousands of digits would raise
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


class _CountryFilterValues:
    """Lists the values the country filter accepts in the document, when the document is generated."""

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        codes = sorted(country_codes())
        return {**handler(schema), "enum": ["", *codes, *(code.lower() for code in codes), NETWORK]}


def _period_field(description: str) -> Any:
    return Field("", description=description, json_schema_extra={"pattern": f"^({PERIOD})?$"})


def _period_bound(name: str, raw: str, *, end: bool) -> Q:
    """``period_key >=`` the period written in ``raw`` (``<=`` for the end); blank: no bound."""
    if not raw:
        return Q()
    key = _period_key(name, raw, end=end)
    return Q(period_key__lte=key) if end else Q(period_key__gte=key)


def _period_key(name: str, raw: str, *, end: bool) -> int:
    """The period's key; a year stands for its first period at the start and its last at the end."""
    match = PERIOD_RE.fullmatch(raw)
    if not match:
        raise HttpError(400, f'Bad {name} "{raw}": use a year such as 2014 or a quarter such as 2014-Q2.')
    year, quarter = int(match.group(1)), match.group(2)
    return period_key(year, int(quarter)) if quarter else year * 10 + (9 if end else 0)


class ObservationFilter(FilterSchema):
    """Which observations to list: by country (or network-wide rows) and by a range of periods."""

    country: Annotated[str, _CountryFilterValues()] = Field(
        "", description='ISO 3166 alpha-2 code (upper or lower case), or "network" for network-wide rows; empty: '
                        "every row.")
    period_from: str = _period_field("First period, e.g. 2012 or 2012-Q3 (inclusive).")
    period_to: str = _period_field("Last period, e.g. 2015 (inclusive; a year includes its quarters).")

    def filter_country(self, value: str) -> Q:
        if not value:
            return Q()
        if value == NETWORK:
            return Q(country="")
        if len(value) == 2 and value.upper() in country_codes():
            return Q(country=value.upper())
        raise HttpError(400, f'Unknown country "{value}": use a two-letter ISO 3166 code or "network".')

    def filter_period_from(self, value: str) -> Q:
        return _period_bound("period_from", value, end=False)

    def filter_period_to(self, value: str) -> Q:
        return _period_bound("period_to", value, end=True)


def _whole_number(raw: str) -> int | None:
    return int(raw) if WHOLE_NUMBER_RE.fullmatch(raw) else None


def _whole_number_field(default: int, **bounds: int) -> Any:
    """Read as text (see ``Paging.page_of``), documented as the whole number it must be."""
    return Field(str(default), json_schema_extra={"type": "integer", "default": default, **bounds})


class Paging(Schema):
    """Which page of the listing, and how many observations a page holds."""

    page: str = _whole_number_field(1, minimum=1)
    page_size: str = _whole_number_field(DEFAULT_PAGE_SIZE, minimum=1, maximum=MAX_PAGE_SIZE)

    def page_of(self, queryset: QuerySet) -> Page:
        """The page asked for; 400 for a bad number or size, 404 for a page past the end (or below 1)."""
        number, size = _whole_number(self.page), _whole_number(self.page_size)
        if number is None or size is None:
            raise HttpError(400, "page and page_size must be whole numbers.")
        if not 1 <= size <= MAX_PAGE_SIZE:  # as documented (a silent clamp would surprise clients)
            raise HttpError(400, f"page_size must be between 1 and {MAX_PAGE_SIZE}.")
        paginator = Paginator(queryset, size)
        try:
            return paginator.page(number)
        except EmptyPage:
            raise HttpError(404, f"Page {number} does not exist; there are {paginator.num_pages}.") from None
