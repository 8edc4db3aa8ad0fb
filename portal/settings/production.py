"""Production: everything secret or host-specific must come from the environment, or we refuse to start."""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import MIDDLEWARE, SECURITY_HEADERS_MIDDLEWARE, env_bool, env_int, env_list, split_host_ports

DEBUG = False

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY or len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("SECRET_KEY must be set in the environment (at least 50 random characters).")

# Host names, each with a port where the site answers on a non-default one ("portal.example.org:8443").
ALLOWED_HOSTS, ALLOWED_HOST_PORTS = split_host_ports(env_list("ALLOWED_HOSTS"))
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set in the environment (comma-separated host names).")

# Every link in every email (password resets included) is built on SITE_URL, never on the request's Host.
# https only: its links go into List-Unsubscribe headers (RFC 8058 requires https) and into every email. Plain
# http is accepted on the loopback interface alone, for measurements on one machine (bench/, make lighthouse).
SITE_URL = os.environ.get("SITE_URL", "").rstrip("/")
if not SITE_URL:
    raise ImproperlyConfigured("SITE_URL must be set in the environment (the site's public address, https://...).")
_LOOPBACK = {"127.0.0.1", "localhost", "[::1]"}
if not SITE_URL.startswith("https://") and not (
    SITE_URL.startswith("http://") and SITE_URL.split("/")[2].rsplit(":", 1)[0] in _LOOPBACK
):
    raise ImproperlyConfigured(f"SITE_URL must be an https:// address, not {SITE_URL!r}.")
WAGTAILADMIN_BASE_URL = WAGTAILAPI_BASE_URL = SITE_URL

# An SQLite file or eager in-process tasks are never acceptable in production.
for required in ("DATABASE_URL", "CELERY_BROKER_URL"):
    if not os.environ.get(required):
        raise ImproperlyConfigured(f"{required} must be set in the environment for production.")

CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
if not SECURE_HSTS_PRELOAD:
    # Joining the browsers' HSTS preload list is a deliberate, hard-to-undo operator decision, not a default.
    SILENCED_SYSTEM_CHECKS = ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Content-Security-Policy and Permissions-Policy (portal.core.security; the policies are in base.py).
MIDDLEWARE = [*MIDDLEWARE]
MIDDLEWARE[1:1] = SECURITY_HEADERS_MIDDLEWARE
# Staff must use two-factor authentication in production unless explicitly switched off.
STAFF_2FA_REQUIRED = env_bool("STAFF_2FA_REQUIRED", True)
