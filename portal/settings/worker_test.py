"""Settings for a real Celery worker started by the test suite (see tests/services.py).

Like dev settings, but never eager: the worker consumes from CELERY_BROKER_URL and uses the test database
given in DATABASE_URL. Test settings cannot be used because they force eager tasks and a memory broker.
"""

import os

from django.core.exceptions import ImproperlyConfigured

from .dev import *  # noqa: F403

DEBUG = False
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
if not CELERY_BROKER_URL or not os.environ.get("DATABASE_URL"):
    raise ImproperlyConfigured("A test worker needs CELERY_BROKER_URL and DATABASE_URL (the test database).")
CELERY_TASK_ALWAYS_EAGER = False
CELERY_RESULT_BACKEND = None
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SITE_URL = os.environ.get("TEST_WORKER_SITE_URL", "http://testserver")  # a test may need https (one-click)
WAGTAILADMIN_BASE_URL = SITE_URL
WAGTAILAPI_BASE_URL = SITE_URL
# Workers of a test never keep connections open: the test database is dropped when the session ends.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
