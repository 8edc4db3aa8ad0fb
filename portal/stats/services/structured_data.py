"""Schema.org ``Dataset`` data for a statistics page (search engines' dataset search): what the page already shows.

Only a public dataset is described (a restricted dataset's page is restricted too, and its figures stay off every
public channel); nothing beyond what the page and the public CSV show: names, years, countries, measures, links.
"""

from __future__ import annotations

from django.conf import settings

from django_countries import countries

from portal.stats.services.data import DatasetData


def _absolute(url: str) -> str:
    return url if url.startswith(("http://", "https://")) else settings.SITE_URL + url


def dataset_data(page, data: DatasetData, request=None) -> dict | None:
    """The ``Dataset`` for ``page`` showing ``data``; None when the dataset is not public or has no figures."""
    dataset = data.dataset
    if not dataset.is_public or not data.observations:
        return None
    years = sorted({obs.year for obs in data.observations})
    organisation = {"@type": "Organization", "name": settings.WAGTAIL_SITE_NAME, "url": settings.SITE_URL + "/"}
    description = dataset.description or page.get_summary() or dataset.title
    result = {
        "@context": "https://schema.org",
        "@type": "Dataset",
        "name": dataset.title,
        "description": description,
        "url": _absolute(page.get_url(request=request) or "/"),
        "creator": {"@type": "Organization", "name": dataset.source} if dataset.source else organisation,
        "publisher": organisation,
        "license": dataset.licence or None,
        "isAccessibleForFree": True,
        "dateModified": dataset.updated_at.isoformat() if dataset.updated_at else None,
        "temporalCoverage": f"{years[0]}/{years[-1]}" if len(years) > 1 else str(years[0]),
        "spatialCoverage": [{"@type": "Place", "name": str(countries.name(code) or code)} for code in data.countries],
        "variableMeasured": _measured(data),
        "distribution": [
            {"@type": "DataDownload", "encodingFormat": "text/csv", "contentUrl": _absolute(dataset.get_csv_url())},
            {"@type": "DataDownload", "encodingFormat": "application/json",
             "contentUrl": _absolute(dataset.get_api_url())},
        ],
    }
    return {key: value for key, value in result.items() if value not in (None, [], "")}


def _measured(data: DatasetData) -> list[dict]:
    """The measures that have figures, in their display order, as schema.org properties."""
    used = {code for obs in data.observations for code in obs.values}
    measures = [measure for code, measure in sorted(data.measures.items(), key=lambda item: item[1].sort_order)
                if code in used]
    return [
        {"@type": "PropertyValue", "name": measure.label, "unitText": measure.unit,
         **({"description": measure.description} if measure.description else {})}
        for measure in measures
    ]
