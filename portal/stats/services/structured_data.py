"""Schema.org ``Dataset`` data for a statistics page (search engines' dataset search): what the page already shows.

Only a public dataset is described (a restricted dataset's page is restricted too, and its figures stay off every
public channel); nothing beyond what the page and the public CSV show: names, years, countries, measures, links.
"""

from __future__ import annotations

from operator import attrgetter

from django.conf import settings

from portal.stats.services.data import DatasetData
from portal.stats.services.tables import place_name


def _absolute(url: str) -> str:
    return url if url.startswith(("http://", "https://")) else settings.SITE_URL + url


def dataset_data(page, data: DatasetData, request=None) -> dict | None:
    """The ``Dataset`` for ``page`` showing ``data``; None when the dataset is not public or has no figures."""
    dataset = data.dataset
    if not dataset.is_public or not data.observations:
        return None
    result = {
        "@context": "https://schema.org",
        "@type": "Dataset",
        **_described(page, dataset, request),
        **_coverage(data),
        "distribution": [
            {"@type": "DataDownload", "encodingFormat": "text/csv", "contentUrl": _absolute(dataset.get_csv_url())},
            {"@type": "DataDownload", "encodingFormat": "application/json",
             "contentUrl": _absolute(dataset.get_api_url())},
        ],
    }
    return {key: value for key, value in result.items() if value not in (None, [], "")}


def _described(page, dataset, request) -> dict:
    """What the dataset is, where its page is, who made and publishes it, under which licence."""
    organisation = {"@type": "Organization", "name": settings.WAGTAIL_SITE_NAME, "url": settings.SITE_URL + "/"}
    return {
        "name": dataset.title,
        "description": dataset.description or page.get_summary() or dataset.title,
        "url": _absolute(page.get_url(request=request) or "/"),
        "creator": {"@type": "Organization", "name": dataset.source} if dataset.source else organisation,
        "publisher": organisation,
        "license": dataset.licence,  # left out when blank, as every empty value
        "isAccessibleForFree": True,
        "dateModified": dataset.updated_at.isoformat(),  # set on every save (auto_now), so never missing
    }


def _coverage(data: DatasetData) -> dict:
    """The years and countries the figures cover, and the measures they count."""
    years = {obs.year for obs in data.observations}
    first, last = min(years), max(years)
    return {
        "temporalCoverage": f"{first}/{last}" if last > first else str(first),
        "spatialCoverage": [{"@type": "Place", "name": str(place_name(code))} for code in data.countries],
        "variableMeasured": _measured(data),
    }


def _measured(data: DatasetData) -> list[dict]:
    """The measures that have figures, in their display order, as schema.org properties."""
    used = {code for obs in data.observations for code in obs.values}
    measures = sorted((measure for code, measure in data.measures.items() if code in used),
                      key=attrgetter("sort_order"))
    return [
        {"@type": "PropertyValue", "name": measure.label, "unitText": measure.unit,
         **({"description": measure.description} if measure.description else {})}
        for measure in measures
    ]
