"""/health/: 200 when the database, broker and cache answer; 503 with the failing part named otherwise."""

from unittest import mock

from django.db import OperationalError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import override_settings

import pytest

from tests.services import require_redis

pytestmark = pytest.mark.django_db


def test_healthy_without_a_broker(client):
    response = client.get("/health/")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "not configured", "cache": "ok"}
    assert "no-store" in response["Cache-Control"]


def test_load_balancer_head_request_is_answered(client):
    assert client.head("/health/").status_code == 200


def test_database_unreachable_is_503(client):
    with mock.patch.object(BaseDatabaseWrapper, "cursor", side_effect=OperationalError("connection refused")):
        response = client.get("/health/")

    assert response.status_code == 503
    data = response.json()
    assert data["status"] == "error"
    assert data["database"].startswith("error:")
    assert data["cache"] == "ok"


@override_settings(CELERY_BROKER_URL="redis://127.0.0.1:1/0")
def test_configured_broker_unreachable_is_503(client):
    response = client.get("/health/")

    assert response.status_code == 503
    data = response.json()
    assert data["status"] == "error"
    assert data["database"] == "ok"
    assert data["broker"].startswith("error:")
    assert "127.0.0.1" not in data["broker"]  # no infrastructure details to unauthenticated callers


@pytest.mark.services
def test_configured_broker_reachable_is_200(client):
    broker = require_redis(8)
    with override_settings(CELERY_BROKER_URL=broker):
        response = client.get("/health/")

    assert response.status_code == 200
    assert response.json()["broker"] == "ok"
