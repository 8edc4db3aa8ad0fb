"""The Celery application. Workers: `celery -A portal worker`; schedules: `celery -A portal beat`."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.dev")

app = Celery("portal")
# All CELERY_* Django settings configure the app (JSON only, time limits, eager mode without a broker).
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
