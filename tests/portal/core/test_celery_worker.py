"""A real Celery worker on Redis publishes a page whose scheduled go-live time has passed."""

import datetime

from django.conf import settings
from django.utils import timezone

import pytest

from portal.core.tasks import publish_scheduled_pages
from portal.pages.models import StandardPage
from tests.factories import StandardPageFactory, make_site_home
from tests.services import (
    celery_producer,
    celery_worker_process,
    require_postgres,
    require_redis,
    restore_wagtail_base_data,
    wait_for,
)

pytestmark = pytest.mark.services

INFRA_REDIS_DB = 1


def schedule_page(home, go_live_in: datetime.timedelta) -> StandardPage:
    """A draft page an editor approved for publication at now + ``go_live_in`` (as the admin's scheduling does)."""
    page = StandardPageFactory(parent=home, title="Scheduled network update", slug="scheduled-update", live=False)
    page.go_live_at = timezone.now() + go_live_in
    revision = page.save_revision()
    revision.publish()
    page.refresh_from_db()
    return page


def let_time_pass(page: StandardPage) -> None:
    """Move the approved go-live time of the page's scheduled revision into the past."""
    past = timezone.now() - datetime.timedelta(minutes=1)
    revision = page.scheduled_revision
    revision.approved_go_live_at = past
    revision.content["go_live_at"] = past.isoformat()
    revision.save(update_fields=["approved_go_live_at", "content"])


def test_publish_scheduled_pages_runs_every_minute_in_beat():
    entry = settings.CELERY_BEAT_SCHEDULE["publish-scheduled-pages"]
    assert entry["task"] == publish_scheduled_pages.name
    assert entry["schedule"] == 60.0


@pytest.mark.django_db
def test_scheduled_page_stays_draft_until_its_time(home):
    page = schedule_page(home, datetime.timedelta(hours=1))
    publish_scheduled_pages.delay()  # eager in tests
    page.refresh_from_db()
    assert not page.live
    assert page.scheduled_revision is not None


@pytest.mark.django_db
def test_task_publishes_due_page_and_is_idempotent(home):
    page = schedule_page(home, datetime.timedelta(hours=1))
    let_time_pass(page)
    publish_scheduled_pages.delay()
    page.refresh_from_db()
    assert page.live
    revisions = page.revisions.count()
    publish_scheduled_pages.delay()
    page.refresh_from_db()
    assert page.live
    assert page.revisions.count() == revisions


@pytest.mark.django_db
def test_task_unpublishes_expired_page(home):
    page = StandardPageFactory(parent=home, title="Old call for papers", slug="old-call")
    StandardPage.objects.filter(pk=page.pk).update(expire_at=timezone.now() - datetime.timedelta(minutes=5))
    publish_scheduled_pages.delay()
    page.refresh_from_db()
    assert not page.live
    assert page.expired


@pytest.mark.django_db(transaction=True)
def test_real_worker_on_redis_publishes_due_page(client):
    require_postgres()
    broker = require_redis(INFRA_REDIS_DB)
    restore_wagtail_base_data()
    home = make_site_home()
    page = schedule_page(home, datetime.timedelta(hours=1))
    assert client.get(page.url).status_code == 404
    let_time_pass(page)

    with celery_worker_process(broker) as worker, celery_producer(broker):
        publish_scheduled_pages.delay()
        wait_for(
            lambda: StandardPage.objects.filter(pk=page.pk, live=True).exists(),
            timeout=30,
            message="the worker did not publish the due page",
        )
        assert worker.poll() is None

    page.refresh_from_db()
    assert page.live
    assert page.live_revision_id is not None
    assert not page.revisions.filter(approved_go_live_at__isnull=False).exists()
