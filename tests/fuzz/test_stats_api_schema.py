"""Schemathesis against the statistics API's own OpenAPI document, in-process through the WSGI application.

For every operation in /api/stats/openapi.json, schemathesis generates requests (valid ones and, for the
filters, invalid ones) and checks each response: never a server error, status codes and bodies as documented,
and invalid input refused with a 4xx. The database holds a public dataset (with network, country and quarter
rows) and a members-only one, so listing, filtering, paging and the restricted 404 are all exercised.
"""

from __future__ import annotations

from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections

import pytest
import schemathesis
from hypothesis import given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from tests.portal.stats.conftest import add_observation, figures, make_dataset


@pytest.fixture
def stats_data(db):
    public = make_dataset("network", title="Network statistics")
    for year in (2013, 2014):
        add_observation(public, year, **figures(1000, 500, 400, 300, 60, 40))
        add_observation(public, year, "DE", organisation="Hotline DE", **figures(300, 150, 100, 90, 5, 5))
    add_observation(public, 2014, "NL", quarter=2, items_removed=7)
    restricted = make_dataset("members-figures", title="Members only", restriction="login")
    add_observation(restricted, 2016, **figures(777_777, 500, 400, 399, 1, 0))
    # The raw WSGI handler closes the database connection after each request, which would end the test's
    # transaction; Django's own test client disconnects this handler in the same way.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


# Loaded once at collection, through the app itself (the OpenAPI view reads no database). The lazy
# ``schemathesis.pytest.from_fixture`` loader would be the natural choice, but schemathesis 4.32 relies on a
# private pytest attribute that pytest 9 removed.
schema = schemathesis.openapi.from_wsgi("/api/stats/openapi.json", get_wsgi_application())


@schema.parametrize()
@settings(max_examples=40)
def test_stats_api_conforms_to_its_openapi_document(case, stats_data):
    """Every operation with generated paths and parameters (mostly unknown dataset slugs: the JSON 404)."""
    case.call_and_validate()


observations = schema["/datasets/{slug}/observations/"]["GET"]


def _cases_for(slug: str):
    fixed = {"slug": slug}
    return st.one_of(observations.as_strategy(GenerationMode.POSITIVE, path_parameters=fixed),
                     observations.as_strategy(GenerationMode.NEGATIVE, path_parameters=fixed))


@given(case=st.sampled_from(["network", "network", "members-figures"]).flatmap(_cases_for))
@settings(max_examples=120)
def test_filters_and_paging_of_a_real_dataset_conform(stats_data, case):
    """Valid and invalid filters and pages on a dataset that exists (and on one hidden from anonymous readers)."""
    response = case.call_and_validate()
    if case.path_parameters["slug"] == "members-figures":
        if response.status_code == 400:
            # Refused by the request guard before any view ran (a control character or an overlong value):
            # the same answer for every dataset, so it tells nothing about this one.
            assert "query parameter" in response.json()["error"]
        else:
            assert response.status_code == 404
        assert "777" not in response.text  # a restricted figure never leaks through an error message
