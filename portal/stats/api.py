"""JSON API for statistics: datasets, their observations (filtered, paged) and an OpenAPI document.

Plain Django views: the responses are small and fixed, and plain views keep the privacy rule in one
visible place (``Dataset.objects.visible_to`` / ``get_visible_dataset_or_404``). Restricted datasets
do not exist for viewers who may not read them (404).
"""

from __future__ import annotations

import re

from django.core.paginator import EmptyPage, Paginator
from django.db.models import Count, Max, Min
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from django_countries import countries

from portal.stats.models import Dataset, Measure, Observation, get_visible_dataset_or_404, period_key, period_label
from portal.stats.openapi import openapi_document
from portal.stats.services.kpis import share_removed_within_three_days

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
PERIOD_RE = re.compile(r"^([0-9]{4})(?:-?Q([1-4]))?$", re.IGNORECASE)  # as documented: ASCII digits
SLUG_RE = re.compile(r"^[-a-zA-Z0-9_]+\Z")
WHOLE_NUMBER_RE = re.compile(r"-?[0-9]{1,100}")  # int() of thousands of digits would raise


def _error(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _label(key: int | None) -> str | None:
    return period_label(key // 10, key % 10 or None) if key is not None else None


@csrf_exempt  # read-only: any other method gets 405 (the CSRF check would answer 403)
@require_GET
def dataset_list(request):
    """Every dataset the viewer may read, with its period range and links (one query)."""
    datasets = (
        Dataset.objects.visible_to(request.user)
        .annotate(observation_count=Count("observations"), first=Min("observations__period_key"),
                  last=Max("observations__period_key"))
        .order_by("title")
    )
    results = [
        {
            "slug": dataset.slug,
            "title": dataset.title,
            "description": dataset.description,
            "source": dataset.source,
            "licence": dataset.licence,
            "unit_notes": dataset.unit_notes,
            "illustrative": dataset.illustrative,
            "observation_count": dataset.observation_count,
            "period_from": _label(dataset.first),
            "period_to": _label(dataset.last),
            "observations_url": request.build_absolute_uri(dataset.get_api_url()),
            "csv_url": request.build_absolute_uri(dataset.get_csv_url()),
        }
        for dataset in datasets
    ]
    return JsonResponse({"count": len(results), "results": results})


def _whole_number(raw: str) -> int | None:
    return int(raw) if WHOLE_NUMBER_RE.fullmatch(raw) else None


def _parse_period(raw: str, end: bool) -> int | None:
    match = PERIOD_RE.fullmatch(raw)
    if not match:
        return None
    year = int(match.group(1))
    if match.group(2):
        return period_key(year, int(match.group(2)))
    return year * 10 + (9 if end else 0)  # a year includes its quarters


@csrf_exempt  # read-only: any other method gets 405 (the CSRF check would answer 403)
@require_GET
def observation_list(request, slug: str):
    """A dataset's observations, filtered by ``country`` and ``period_from``/``period_to``, paged."""
    try:
        if not SLUG_RE.match(slug):
            raise Http404("Not a slug")  # never hand arbitrary path text (NUL bytes...) to the database
        dataset = get_visible_dataset_or_404(slug, request.user)
    except Http404:
        return _error(f'No dataset "{slug}" (or it is not visible to you).', status=404)
    queryset = Observation.objects.filter(dataset=dataset).order_by("period_key", "country", "organisation")

    # Filters are read exactly as the OpenAPI document describes them (no trimming, ASCII digits only).
    country = request.GET.get("country", "")
    if country:
        if country == "network":
            queryset = queryset.filter(country="")
        elif len(country) == 2 and country.upper() in dict(countries):
            queryset = queryset.filter(country=country.upper())
        else:
            return _error(f'Unknown country "{country}": use a two-letter ISO 3166 code or "network".')
    for name, end in (("period_from", False), ("period_to", True)):
        raw = request.GET.get(name, "")
        if raw:
            key = _parse_period(raw, end)
            if key is None:
                return _error(f'Bad {name} "{raw}": use a year such as 2014 or a quarter such as 2014-Q2.')
            queryset = queryset.filter(**{"period_key__gte" if not end else "period_key__lte": key})

    page_size = _whole_number(request.GET.get("page_size", str(DEFAULT_PAGE_SIZE)))
    page_number = _whole_number(request.GET.get("page", "1"))
    if page_size is None or page_number is None:
        return _error("page and page_size must be whole numbers.")
    if not 1 <= page_size <= MAX_PAGE_SIZE:  # as the OpenAPI document says (a silent clamp would surprise clients)
        return _error(f"page_size must be between 1 and {MAX_PAGE_SIZE}.")
    paginator = Paginator(queryset, page_size)
    try:
        page = paginator.page(page_number)
    except EmptyPage:
        if page_number == 1:
            page = None
        else:
            return _error(f"Page {page_number} does not exist; there are {paginator.num_pages}.", status=404)

    def link(number: int) -> str:
        query = request.GET.copy()
        query["page"] = str(number)
        return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")

    measures = {m.code: {"label": m.label, "unit": m.unit} for m in Measure.objects.all()}
    results = [
        {
            "period": obs.period,
            "year": obs.year,
            "quarter": obs.quarter,
            "country": obs.country or None,
            "country_name": obs.country_name,
            "organisation": obs.organisation or None,
            "values": obs.values,
            "kpis": {"share_removed_within_3_days": share_removed_within_three_days(obs.values)},
        }
        for obs in (page.object_list if page else [])
    ]
    return JsonResponse(
        {
            "dataset": dataset.slug,
            "illustrative": dataset.illustrative,
            "count": paginator.count,
            "page": page.number if page else 1,
            "page_size": page_size,
            "num_pages": paginator.num_pages,
            "next": link(page.next_page_number()) if page and page.has_next() else None,
            "previous": link(page.previous_page_number()) if page and page.has_previous() else None,
            "measures": measures,
            "results": results,
        }
    )


@csrf_exempt  # read-only: any other method gets 405 (the CSRF check would answer 403)
@require_GET
def openapi_json(request):
    """The OpenAPI 3 description of this API."""
    return JsonResponse(openapi_document(server_url=request.build_absolute_uri("/")))
