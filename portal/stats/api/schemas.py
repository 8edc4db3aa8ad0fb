"""What the statistics API answers: datasets and pages of observations as JSON (the serialisers).

The OpenAPI document's components are generated from these classes, and ninja checks every answer against them.
Fields named like the models' are read from the objects; ``resolve_*`` methods compute the others.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

from django.conf import settings
from django.core.paginator import Page
from django.http import HttpRequest
from django.utils import translation

from ninja import Field, Schema
from pydantic import NonNegativeInt

from portal.stats.models import period_label
from portal.stats.services.kpis import share_removed_within_three_days

AbsoluteURL = Annotated[str, Field(json_schema_extra={"format": "uri"})]


def _label(key: int | None) -> str | None:
    return period_label(key // 10, key % 10 or None) if key is not None else None


class Dataset(Schema):
    """A dataset, the range of its periods and where to fetch its figures."""

    # Read from a queryset annotated with observation_count and the first and last period keys.

    slug: str
    title: str
    description: str
    source: str
    licence: str
    unit_notes: str
    illustrative: bool
    observation_count: int
    period_from: str | None
    period_to: str | None
    observations_url: AbsoluteURL
    csv_url: AbsoluteURL

    @staticmethod
    def resolve_period_from(dataset) -> str | None:
        return _label(dataset.first)

    @staticmethod
    def resolve_period_to(dataset) -> str | None:
        return _label(dataset.last)

    @staticmethod
    def resolve_observations_url(dataset, context) -> str:
        return context["request"].build_absolute_uri(dataset.get_api_url())

    @staticmethod
    def resolve_csv_url(dataset, context) -> str:
        return context["request"].build_absolute_uri(dataset.get_csv_url())


class DatasetList(Schema):
    """The datasets you may read."""

    count: int
    results: list[Dataset]


class Kpis(Schema):
    """Indicators computed from the figures; null when they cannot be computed (a missing or zero total)."""

    share_removed_within_3_days: float | None


class Observation(Schema):
    """The figures of one period, country and organisation."""

    period: str = Field(examples=["2014", "2014-Q2"])
    year: int
    quarter: Annotated[int, Field(ge=1, le=4)] | None
    country: str | None = Field(description="ISO 3166 alpha-2 code; null: network-wide.")
    country_name: str
    organisation: str | None = Field(description="null: every organisation of the country (or the network).")
    values: dict[str, NonNegativeInt] = Field(description="Figures keyed by measure code; a missing code was not "
                                                          "reported.")
    kpis: Kpis

    @staticmethod
    def resolve_country(observation) -> str | None:
        return observation.country or None

    @staticmethod
    def resolve_country_name(observation) -> str:
        """In the site's default language, as every other word of the API, whatever language the client asks
        for: the API's answers do not vary by language (``portal.core.locale_middleware.NEGOTIATED_PATHS``)."""
        with translation.override(settings.LANGUAGE_CODE):
            return observation.country_name

    @staticmethod
    def resolve_organisation(observation) -> str | None:
        return observation.organisation or None

    @staticmethod
    def resolve_kpis(observation) -> dict[str, float | None]:
        return {"share_removed_within_3_days": share_removed_within_three_days(observation.values)}


class MeasureInfo(Schema):
    """What a measure code counts: its definition, unit and what it is not."""

    label: str
    unit: str
    definition: str = Field("", description="What is counted.")
    caveat: str = Field("", description="What the figure is not (e.g. not comparable between countries).")


class PeriodNoteInfo(Schema):
    """Where a period's figures come from and whether they changed after release."""

    coverage: str = Field("", description='e.g. "figures from 41 of 46 member hotlines"; empty when not recorded.')
    correction: str = Field("", description="What changed after the figures were first released; empty if nothing.")


class ObservationPage(Schema):
    """One page of a dataset's observations, with the labels of the measures they use."""

    dataset: str
    illustrative: bool
    count: int
    page: int
    page_size: int
    num_pages: int
    next: AbsoluteURL | None
    previous: AbsoluteURL | None
    measures: dict[str, MeasureInfo]
    notes: dict[str, PeriodNoteInfo] = Field(default_factory=dict, description="Keyed by period (2014, 2014-Q3).")
    results: list[Observation]


def observation_page(request: HttpRequest, dataset, page: Page, measures: Iterable) -> dict[str, Any]:
    """One page of a dataset's observations, with links to the pages beside it and the measures' labels."""
    paginator = page.paginator
    return {
        "dataset": dataset.slug,
        "illustrative": dataset.illustrative,
        "count": paginator.count,
        "page": page.number,
        "page_size": paginator.per_page,
        "num_pages": paginator.num_pages,
        "next": _page_link(request, page.next_page_number()) if page.has_next() else None,
        "previous": _page_link(request, page.previous_page_number()) if page.has_previous() else None,
        "measures": {measure.code: {"label": measure.label, "unit": measure.unit, "definition": measure.description,
                                    "caveat": measure.caveat} for measure in measures},
        "notes": {note.period: {"coverage": note.coverage, "correction": note.correction}
                  for note in dataset.period_notes.all()},
        "results": page.object_list,
    }


def _page_link(request: HttpRequest, number: int) -> str:
    """This request's URL with another page number (every other parameter kept)."""
    query = request.GET.copy()
    query["page"] = str(number)
    return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
