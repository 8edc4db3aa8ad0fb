"""Local development: debug on, console email, eager Celery unless a broker is configured."""

import os

from .base import *  # noqa: F403
from .base import VAR_DIR, env_bool, env_list, split_host_ports

DEBUG = env_bool("DEBUG", True)  # benchmarks turn it off: debug keeps every query in memory
SECRET_KEY = os.environ.get("SECRET_KEY") or "dev-only-insecure-key-never-use-in-production"
ALLOWED_HOSTS, ALLOWED_HOST_PORTS = split_host_ports(env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver"))
# A newcomer sees every email (confirmation links included) in the console unless SMTP is configured.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
VAR_DIR.mkdir(parents=True, exist_ok=True)
