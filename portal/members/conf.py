"""The members app's settings and their defaults, in one place (``portal/settings/base.py`` reads them from the
environment; see ``portal.core.conf``)."""

from __future__ import annotations

from typing import Any

from portal.core.conf import AppSettings

DEFAULTS: dict[str, Any] = {
    # Seconds a signed-in member's user, groups and permissions are kept in the shared cache (0: not kept;
    # base.py keeps them 300 seconds with a shared cache).
    "AUTH_USER_CACHE_SECONDS": 0,
}

conf = AppSettings(DEFAULTS)
