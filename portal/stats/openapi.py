"""The OpenAPI 3.0 description of the statistics API, written as a Python dict."""

from __future__ import annotations

from django_countries import countries

_error = {"$ref": "#/components/schemas/Error"}


def openapi_document(server_url: str = "/") -> dict:
    """The OpenAPI document; ``server_url`` is the site's root URL."""
    country_codes = sorted(code for code, _name in countries)  # the list the observations filter checks
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Hotline Network statistics API",
            "version": "1.0.0",
            "description": (
                "Network statistics published on the portal: datasets and their observations (figures per "
                "period, country and organisation). Datasets restricted to members are only visible to "
                "signed-in members; to everyone else they do not exist (404)."
            ),
        },
        "servers": [{"url": server_url.rstrip("/") + "/api/stats"}],
        "paths": {
            "/datasets/": {
                "get": {
                    "operationId": "listDatasets",
                    "summary": "Datasets you may read",
                    "responses": {
                        "200": {
                            "description": "The datasets",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/DatasetList"}}},
                        }
                    },
                }
            },
            "/datasets/{slug}/observations/": {
                "get": {
                    "operationId": "listObservations",
                    "summary": "Observations of one dataset, filtered and paged",
                    "parameters": [
                        {"name": "slug", "in": "path", "required": True,
                         "schema": {"type": "string", "pattern": "^[-a-zA-Z0-9_]+$"}},
                        {
                            "name": "country",
                            "in": "query",
                            "description": 'ISO 3166 alpha-2 code (upper or lower case), or "network" for '
                                           "network-wide rows; empty: every row.",
                            "schema": {"type": "string",
                                       "enum": ["", *country_codes, *(c.lower() for c in country_codes), "network"]},
                        },
                        {
                            "name": "period_from",
                            "in": "query",
                            "description": "First period, e.g. 2012 or 2012-Q3 (inclusive).",
                            "schema": {"type": "string", "pattern": "^([0-9]{4}(-?[Qq][1-4])?)?$"},
                        },
                        {
                            "name": "period_to",
                            "in": "query",
                            "description": "Last period, e.g. 2015 (inclusive; a year includes its quarters).",
                            "schema": {"type": "string", "pattern": "^([0-9]{4}(-?[Qq][1-4])?)?$"},
                        },
                        {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}},
                        {
                            "name": "page_size",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100},
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "One page of observations",
                            "content": {
                                "application/json": {"schema": {"$ref": "#/components/schemas/ObservationPage"}}
                            },
                        },
                        "400": {"description": "A bad filter", "content": {"application/json": {"schema": _error}}},
                        "404": {
                            "description": "No such dataset (or not visible to you), or no such page",
                            "content": {"application/json": {"schema": _error}},
                        },
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "operationId": "getOpenAPI",
                    "summary": "This document",
                    "responses": {"200": {"description": "The OpenAPI document",
                                          "content": {"application/json": {"schema": {"type": "object"}}}}},
                }
            },
        },
        "components": {
            "schemas": {
                "Error": {"type": "object", "properties": {"error": {"type": "string"}}, "required": ["error"]},
                "Dataset": {
                    "type": "object",
                    "required": ["slug", "title", "observations_url", "csv_url"],
                    "properties": {
                        "slug": {"type": "string"},
                        "title": {"type": "string"},
                        "description": {"type": "string"},
                        "source": {"type": "string"},
                        "licence": {"type": "string"},
                        "unit_notes": {"type": "string"},
                        "illustrative": {"type": "boolean"},
                        "observation_count": {"type": "integer"},
                        "period_from": {"type": "string", "nullable": True},
                        "period_to": {"type": "string", "nullable": True},
                        "observations_url": {"type": "string", "format": "uri"},
                        "csv_url": {"type": "string", "format": "uri"},
                    },
                },
                "DatasetList": {
                    "type": "object",
                    "required": ["count", "results"],
                    "properties": {
                        "count": {"type": "integer"},
                        "results": {"type": "array", "items": {"$ref": "#/components/schemas/Dataset"}},
                    },
                },
                "Observation": {
                    "type": "object",
                    "required": ["period", "year", "values"],
                    "properties": {
                        "period": {"type": "string", "example": "2014"},
                        "year": {"type": "integer"},
                        "quarter": {"type": "integer", "nullable": True, "minimum": 1, "maximum": 4},
                        "country": {"type": "string", "nullable": True, "description": "null: network-wide"},
                        "country_name": {"type": "string"},
                        "organisation": {"type": "string", "nullable": True},
                        "values": {
                            "type": "object",
                            "description": "Figures keyed by measure code; a missing code was not reported.",
                            "additionalProperties": {"type": "integer", "minimum": 0},
                        },
                        "kpis": {
                            "type": "object",
                            "properties": {
                                "share_removed_within_3_days": {"type": "number", "nullable": True},
                            },
                        },
                    },
                },
                "ObservationPage": {
                    "type": "object",
                    "required": ["dataset", "count", "page", "num_pages", "results"],
                    "properties": {
                        "dataset": {"type": "string"},
                        "illustrative": {"type": "boolean"},
                        "count": {"type": "integer"},
                        "page": {"type": "integer"},
                        "page_size": {"type": "integer"},
                        "num_pages": {"type": "integer"},
                        "next": {"type": "string", "format": "uri", "nullable": True},
                        "previous": {"type": "string", "format": "uri", "nullable": True},
                        "measures": {
                            "type": "object",
                            "additionalProperties": {
                                "type": "object",
                                "properties": {"label": {"type": "string"}, "unit": {"type": "string"}},
                            },
                        },
                        "results": {"type": "array", "items": {"$ref": "#/components/schemas/Observation"}},
                    },
                },
            }
        },
    }
