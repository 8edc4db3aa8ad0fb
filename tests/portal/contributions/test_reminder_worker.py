"""Deadline reminders on a real Celery worker on Redis, through a real SMTP server: twice queued, once sent."""

import datetime
import time

from django.conf import settings

import pytest

from portal.contributions.models import ReminderSent
from portal.contributions.tasks import send_deadline_reminders
from tests.portal.contributions.factories import ReportingPeriodFactory, hotline, submitter_for
from tests.services import (
    celery_producer,
    celery_worker_process,
    require_postgres,
    require_redis,
    restore_wagtail_base_data,
    wait_for,
)
from tests.smtp_sink import SMTPSink

pytestmark = pytest.mark.services

REDIS_DB = 7


def test_reminders_run_hourly_in_beat():
    entry = settings.CELERY_BEAT_SCHEDULE["contributions-deadline-reminders"]
    assert entry["task"] == send_deadline_reminders.name


@pytest.mark.django_db(transaction=True)
def test_two_runs_on_two_worker_processes_send_each_reminder_once():
    require_postgres()
    broker = require_redis(REDIS_DB)
    restore_wagtail_base_data()
    ReportingPeriodFactory(year=2026, deadline=datetime.date(2026, 3, 31))
    for name in ("Alpha Hotline", "Beta Hotline", "Gamma Hotline"):
        submitter_for(hotline(name), email=f"stats@{name.split()[0].lower()}.example")
    with SMTPSink() as sink:
        env = {"EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend", "EMAIL_HOST": sink.host,
               "EMAIL_PORT": str(sink.port)}
        with celery_worker_process(broker, concurrency=2, extra_env=env), celery_producer(broker):
            send_deadline_reminders.delay("2026-03-31")
            send_deadline_reminders.delay("2026-03-31")
            wait_for(lambda: ReminderSent.objects.count() == 3, timeout=30, message="reminders were not sent")
            sink.wait_for(3)
            time.sleep(1.5)  # long enough for a duplicate from the second run to arrive
        assert sorted(sink.recipients) == ["stats@alpha.example", "stats@beta.example", "stats@gamma.example"]
