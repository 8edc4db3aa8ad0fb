"""Cached template fragments: the parts of a page that are the same for everyone who may see the same pages.

``{% fragment "name" page.pk %}…{% endfragment %}`` (``portal_cache`` tag library) keeps the rendered HTML of its
body, so a page rendered for a logged-in member, or for the first visitor after a publish, does not re-run the
site navigation's, the language switcher's or an article body's queries and templates.

What a key says
    The fragment's name, the template being rendered (a child template may override blocks inside it), the
    active language, the *viewer class* (anonymous, or logged in with the groups some restriction names, or
    superuser: exactly what the privacy gate decides by, so a members-only link never reaches a fragment shown
    to someone who may not follow it, and every member with the same relevant groups shares one copy), the
    content generation (``portal.core.cache``: bumped after the commit of every change pages may show) and the
    values given after the name (the page, the path...).

What must stay outside a fragment
    Anything about one person besides the privacy class: their name, the messages, the account links. CSRF
    tokens are the exception handled here: the body is rendered with a placeholder token, and each response
    gets the visitor's own token (or keeps the placeholder when the whole page may be stored by the page
    cache, which fills it in the same way).

Where fragments live
    In the shared cache (Redis) for ``FRAGMENT_CACHE_TIMEOUT`` seconds, and in each web process's memory
    (at most ``LOCAL_MAX_ENTRIES``) for the same generation, so a warm fragment costs no round trip. Nothing is
    cached without a request, for previews, for requests other than GET and HEAD, or when the generation cannot
    be read (the cache is down): then the body is simply rendered. Nor for a query string beyond the variants
    of its path the page cache keeps (``PAGE_CACHE_MAX_VARIANTS``).

Settings: ``FRAGMENT_CACHE_ENABLED`` (default: on with ``CACHE_URL``), ``FRAGMENT_CACHE_TIMEOUT`` (300).
"""

from __future__ import annotations

import hashlib
import logging

from django.conf import settings
from django.core.cache import cache
from django.middleware.csrf import get_token
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from portal.core import memo
from portal.core.cache import _STATE_ATTR, CSRF_PLACEHOLDER, entry_key, fragments_enabled, may_store_variant
from portal.core.privacy import as_viewer

logger = logging.getLogger(__name__)

KEY_PREFIX = "portal:fragment:"
LOCAL_MAX_ENTRIES = 256

# This process's fragments, each kept while process memos last (CONTENT_MEMO_SECONDS); keys hold the generation.
local_copies = memo.LocalCopies(LOCAL_MAX_ENTRIES, memo.process_seconds)


def viewer_class(request) -> str:
    """The part of a viewer that decides what they may see, as a short stable string: anonymous, superuser, or
    logged in with the groups some restriction names (``Viewer.effective``). Every member with the same
    restriction-relevant groups shares one copy (a group no restriction names changes nothing they may see);
    a group that starts to matter moves the content generation with the restriction that names it."""
    viewer = as_viewer(getattr(request, "user", None)).effective()
    if viewer.superuser:
        return "superuser"
    if not viewer.authenticated:
        return "anonymous"
    return "member:" + ",".join(str(group_id) for group_id in sorted(viewer.group_ids))


def fragment_key(request, name: str, template_name: str, vary: tuple, generation: int) -> str | None:
    """The cache key of one fragment for this request, or None when it must not be cached."""
    parts = [name, template_name or "", get_language() or "", viewer_class(request), str(generation)]
    parts.extend(repr(value) for value in vary)
    return KEY_PREFIX + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def cacheable_request(request) -> bool:
    """Fragments are cached only while serving a GET/HEAD request that is not a preview."""
    if request is None or not fragments_enabled():
        return False
    if getattr(request, "is_preview", False) or request.method not in ("GET", "HEAD"):
        return False
    return memo.in_request_scope()


def render_fragment(context, name: str, vary: tuple, render) -> SafeString:
    """The fragment's HTML from the process copy, the shared cache or ``render(context)``."""
    request = context.get("request")
    generation = memo.request_generation() if cacheable_request(request) else None
    if generation is None:
        return render(context)
    key = fragment_key(request, name, _template_name(context), vary, generation)
    html = local_copies.get(key)
    if html is None:
        try:
            html = cache.get(key)
        except Exception:
            logger.warning("Fragment cache unavailable; rendering %s", name, exc_info=True)
            return render(context)
        if html is None:
            html = _render_and_store(context, name, key, generation, render)
        else:
            local_copies.put(key, html)
    return mark_safe(_with_visitor_token(request, html))  # noqa: S308 - our own rendered template output


def _template_name(context) -> str:
    origin = getattr(getattr(context, "template", None), "origin", None)
    return str(getattr(origin, "template_name", None) or getattr(origin, "name", ""))


def _render_and_store(context, name: str, key: str, generation: int, render) -> str:
    """Render the fragment with the placeholder token, and keep it (shared and in this process) when the request's
    variant of its page may be kept."""
    with context.push(csrf_token=CSRF_PLACEHOLDER):
        html = str(render(context))
    if _within_variant_bound(context.get("request"), generation):
        try:
            cache.set(key, html, timeout=settings.FRAGMENT_CACHE_TIMEOUT)
        except Exception:
            logger.warning("Could not store fragment %s", name, exc_info=True)
        local_copies.put(key, html)
    return html


def _within_variant_bound(request, generation: int) -> bool:
    """Whether fragments of this request may be stored: it has no query string, or its query is one of the
    variants of its path the page cache keeps (``PAGE_CACHE_MAX_VARIANTS``), so random parameters cannot fill
    the cache with fragments either."""
    try:
        return may_store_variant(request, entry_key(request), generation)
    except Exception:
        logger.warning("Fragment cache unavailable", exc_info=True)
        return False


def _with_visitor_token(request, html: str) -> str:
    """Put the visitor's CSRF token in place of the placeholder, unless the page cache fills it later."""
    if CSRF_PLACEHOLDER not in html or getattr(request, _STATE_ATTR, None) is not None:
        return html
    return html.replace(CSRF_PLACEHOLDER, get_token(request))

