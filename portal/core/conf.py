"""The core's settings and their defaults, in one place (as django-newsletter's and wagtail-cache's ``settings``).

``portal/settings/base.py`` reads each from the environment with the default given here (some defaults depend on
the environment there: the caches are on when ``CACHE_URL`` is set). Code reads them through ``conf``, so a
changed setting (a test's ``settings`` fixture) is seen at once::

    from portal.core.conf import conf

    if conf.PAGE_CACHE_ENABLED:
        ...

Feature apps keep their own settings the same way, each in its ``conf.py`` with an ``AppSettings`` of its own.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings


class AppSettings:
    """Attribute access to an app's settings: the project's value, else the app's default."""

    def __init__(self, defaults: dict[str, Any]):
        self.defaults = dict(defaults)

    def __getattr__(self, name: str) -> Any:
        if name == "defaults":
            raise AttributeError(name)
        try:
            default = self.defaults[name]
        except KeyError:
            raise AttributeError(f"{name} is not one of this app's settings") from None
        return getattr(settings, name, default)


DEFAULTS: dict[str, Any] = {
    # Anonymous page cache (portal.core.cache); base.py turns it on with a shared cache (CACHE_URL).
    "PAGE_CACHE_ENABLED": False,
    "PAGE_CACHE_TIMEOUT": 300,  # seconds an entry is kept at most
    "PAGE_CACHE_MAX_AGE": 60,  # browser/proxy max-age of token-free public responses
    # Seconds a web process trusts its own copy of an entry, and its reading of the content generation.
    "PAGE_CACHE_LOCAL_SECONDS": 1.0,
    # Query parameters that never change a page (campaign tracking); "name*" is a prefix.
    "PAGE_CACHE_IGNORED_PARAMETERS": ("utm_*", "mc_cid", "mc_eid", "fbclid", "gclid", "msclkid", "dclid", "_ga",
                                      "_gl"),
    "PAGE_CACHE_MAX_VARIANTS": 32,  # query strings stored per path and content generation
    "PAGE_CACHE_MAX_NOT_FOUND": 256,  # 404s and redirects stored per content generation, all paths together
    # Template fragments ({% fragment %}, portal.core.fragments); on with a shared cache, like the page cache.
    "FRAGMENT_CACHE_ENABLED": False,
    "FRAGMENT_CACHE_TIMEOUT": 300,
    # Seconds a process reuses site-wide answers under one content generation (portal.core.memo); 0: per request.
    "CONTENT_MEMO_SECONDS": 0.0,
    # Request guard (portal.core.request_guard): longest query string (bytes) and query value (characters).
    "REQUEST_GUARD_MAX_QUERY_LENGTH": 4096,
    "REQUEST_GUARD_MAX_VALUE_LENGTH": 1000,
    # X-Accel-Redirect prefix for media files the portal checked (portal.core.media); "": the portal sends them.
    "MEDIA_ACCEL_REDIRECT_PREFIX": "",
    # Groups whose members need a second factor to read what is restricted to them (portal.core.privacy).
    "PRIVACY_SECOND_FACTOR_GROUPS": ("Law enforcement",),
    # Reverse proxies in front of the app whose X-Forwarded-For entries are trusted (0: REMOTE_ADDR), for the
    # client address that login throttling (portal.members) and signup rate limits (newsletter) count.
    "NEWSLETTER_TRUSTED_PROXY_COUNT": 0,
    # Domain of Message-IDs and the SMTP EHLO name ("": the machine's name; base.py: the sender's domain).
    "EMAIL_MESSAGE_ID_DOMAIN": "",
    # Blocks feature apps add to every content page's body: (name, dotted path of the block class).
    "PORTAL_CONTENT_BLOCKS": (),
}

conf = AppSettings(DEFAULTS)
