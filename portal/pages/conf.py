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
    # URLs in one sitemap file (portal.pages.sitemaps); with more, /sitemap.xml is a sitemap index. The protocol
    # allows 50,000 URLs and 50 MB a file; an entry with its hreflang alternates in 7 languages is about 1 KB.
    "SITEMAP_PAGE_SIZE": 5000,
}

conf = AppSettings(DEFAULTS)
