"""The datasets and their observations: thin operations over the filter (``params``) and the serialisers
(``schemas``). Restricted datasets do not exist for viewers who may not read them (404), decided by
``Dataset.objects.visible_to`` and ``get_visible_dataset_or_404`` as on the page and in the CSV."""

from __future__ import annotations

import re
from contextlib import suppress
from typing import Annotated

from django.db.models import Count, Max, Min
from django.http import Http404, HttpRequest

from ninja import Query, Router
from ninja.errors import HttpError
from pydantic import WithJsonSchema

from portal.core.json_api import Error
from portal.stats.api import schemas
from portal.stats.api.params import ObservationFilter, Paging
from portal.stats.models import Dataset, Measure, Observation, get_visible_dataset_or_404

SLUG = "[-a-zA-Z0-9_]+"
SLUG_RE = re.compile(SLUG)
Slug = Annotated[str, WithJsonSchema({"type": "string", "pattern": f"^{SLUG}$"})]  # checked by _visible_dataset

router = Router()


@router.get("/datasets/", response=schemas.DatasetList, url_name="datasets", operation_id="listDatasets",
            summary="Datasets you may read")
def dataset_list(request: HttpRequest):
    """Every dataset you may read, with the range of its periods and links to its figures."""
    datasets = list(
        Dataset.objects.visible_to(request.user)
        .annotate(observation_count=Count("observations"), first=Min("observations__period_key"),
                  last=Max("observations__period_key"))
        .order_by("title")
    )
    return {"count": len(datasets), "results": datasets}


@router.get("/datasets/{slug}/observations/", response={200: schemas.ObservationPage, 400: Error, 404: Error},
            url_name="observations", operation_id="listObservations",
            summary="Observations of one dataset, filtered and paged",
            openapi_extra={"responses": {400: {"description": "A bad filter or page number"},
                                         404: {"description": "No such dataset (or not visible to you), or no "
                                                              "such page"}}})
def observation_list(request: HttpRequest, slug: Slug, filters: Query[ObservationFilter], paging: Query[Paging]):
    """A dataset's observations, oldest period first, filtered by country and by a range of periods."""
    dataset = _visible_dataset(request, slug)
    observations = Observation.objects.filter(dataset=dataset).order_by("period_key", "country", "organisation")
    page = paging.page_of(filters.filter(observations))
    return schemas.observation_page(request, dataset, page, Measure.objects.all())


def _visible_dataset(request: HttpRequest, slug: str) -> Dataset:
    """The dataset, or the same 404 whether it does not exist or the viewer may not read it."""
    if SLUG_RE.fullmatch(slug):  # never hand arbitrary path text (NUL bytes...) to the database
        with suppress(Http404):
            return get_visible_dataset_or_404(slug, request.user)
    raise HttpError(404, f'No dataset "{slug}" (or it is not visible to you).')
