"""The pages app's settings and their defaults, in one place (``portal/settings/base.py`` reads them from the
environment; see ``portal.core.conf``)."""

from __future__ import annotations

from typing import Any

from portal.core.conf import AppSettings

DEFAULTS: dict[str, Any] = {
    # Search answers kept per content generation at most (portal.pages.search).
    "SEARCH_CACHE_MAX_ENTRIES": 1000,
    # Seconds search hits are counted in the shared cache before they are written (0: written at once; base.py:
    # 10 with a shared cache).
    "SEARCH_HITS_FLUSH_SECONDS": 0.0,
}

conf = AppSettings(DEFAULTS)
