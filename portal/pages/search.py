"""Site search over pages: the privacy gate first, then Wagtail search, with counts per page type."""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from wagtail.models import Locale, Page

from portal.core import memo
from portal.core.privacy import visible_pages
from portal.pages.conf import conf
from portal.pages.models import ArticleIndexPage, ArticlePage, ConferenceIndexPage, ConferenceNotesPage, StandardPage

logger = logging.getLogger(__name__)

MAX_QUERY_LENGTH = 200


@dataclass(frozen=True)
class SearchType:
    """A page type visitors can narrow results to with `?type=<key>`: a model, or an "app.Model" label for page
    types of apps above this one (the newsletter's issues), resolved when asked."""

    key: str
    label: str
    model_or_label: type[Page] | str

    @property
    def model(self) -> type[Page]:
        if isinstance(self.model_or_label, str):
            return apps.get_model(self.model_or_label)
        return self.model_or_label


SEARCH_TYPES = (
    SearchType("article", _("Best practice"), ArticlePage),
    SearchType("conference", _("Conference notes"), ConferenceNotesPage),
    SearchType("standard", _("Pages"), StandardPage),
    # Counted in "All types" before they had a facet of their own (issue 20, point 5).
    SearchType("newsletter", _("Newsletter issues"), "newsletter.NewsletterIssue"),
)
SEARCH_TYPES_BY_KEY = {search_type.key: search_type for search_type in SEARCH_TYPES}


# Double quotes and the control characters (Unicode category Cc: U+0000-U+001F and U+007F-U+009F) become spaces.
_BLANKED = dict.fromkeys([ord('"'), *range(0x20), *range(0x7F, 0xA0)], " ")


def clean_query(raw: str | None) -> str:
    """The query as searched: trimmed, inner whitespace collapsed, at most 200 characters.

    Control characters (PostgreSQL rejects NUL) and double quotes (SQLite's full-text syntax does not
    escape them) become spaces, so no typed query can turn into a server error.
    """
    text = (raw or "").translate(_BLANKED)
    return " ".join(text.split())[:MAX_QUERY_LENGTH]


class ChainedResults:
    """Lazy search result sets read as one: the reader's language first, then the fallback.

    Supports what the paginator needs (``count()``, ``len()`` and slicing), querying each part only for
    the slice asked for. ``counts`` (each part's size, when the caller already knows them from the facets)
    saves the count queries.
    """

    def __init__(self, *parts, counts: list[int] | None = None):
        self.parts = parts
        self._counts = counts

    def _part_counts(self) -> list[int]:
        if self._counts is None:
            self._counts = [part.count() for part in self.parts]
        return self._counts

    def count(self) -> int:
        return sum(self._part_counts())

    def __len__(self) -> int:
        return self.count()

    def __iter__(self):
        for part in self.parts:
            yield from part

    def __getitem__(self, key: slice) -> list:
        return self._slice(key.start or 0, key.stop)

    def _slice(self, start: int, stop: int | None) -> list:
        """The results from ``start`` to ``stop`` (the end when None), each part queried for its share only."""
        items: list = []
        offset = 0
        for part, size in zip(self.parts, self._part_counts(), strict=True):
            part_start = max(start - offset, 0)
            part_stop = size if stop is None else min(stop - offset, size)
            if part_start < part_stop:
                items.extend(part[part_start:part_stop])
            offset += size
        return items


def _locale_ids(languages) -> dict[str, int]:
    """Locale ids by language code (memoised per request and content generation: locales move it)."""
    languages = tuple(sorted(set(languages)))
    return dict(memo.remember(("search:locale-ids", languages), lambda: tuple(
        Locale.objects.filter(language_code__in=languages).values_list("language_code", "id"))))


def _of_type(content_type_id: int, model) -> bool:
    """Whether pages of this content type are ``model`` pages (subclasses included, as ``PageQuerySet.type``)."""
    model_class = ContentType.objects.get_for_id(content_type_id).model_class()
    return model_class is not None and issubclass(model_class, model)


def search_pages(query: str, viewer, type_key: str | None = None):
    """Search the pages this viewer may read, in the reader's language first.

    Pages in the active language come first; then, as a fallback, pages in the default language (English)
    that have no live translation in it. A reader of the default language sees its pages only.

    Returns ``(results, counts)``: lazy search results (narrowed to ``type_key`` when it names a
    ``SEARCH_TYPES`` entry) and the number of matches per type key (and under ``"all"``) before that narrowing.
    Each part's matches are counted once, by content type (the facet); the results reuse those counts.
    """
    language = get_language() or settings.LANGUAGE_CODE
    parts = _language_parts(visible_pages(Page.objects.filter(depth__gt=1), viewer), language)
    facets = [dict(part.search(query).facet("content_type_id").items()) for part in parts]
    counts = _type_counts(facets)
    search_type = SEARCH_TYPES_BY_KEY.get(type_key)
    part_counts = [_matches_of_type(facet, search_type) for facet in facets]
    if search_type is not None:
        parts = [part.type(search_type.model) for part in parts]
    return ChainedResults(*(part.search(query) for part in parts), counts=part_counts), counts


def _matches_of_type(facet: dict[int, int], search_type: SearchType | None) -> int:
    """A part's matches of this search type (all its matches when None), from its counts per content type."""
    if search_type is None:
        return sum(facet.values())
    return sum(count for content_type_id, count in facet.items() if _of_type(content_type_id, search_type.model))


def _language_parts(base, language: str) -> list:
    """The pages in ``language``, then (another language than the default) the default language's pages that
    have no live translation in it. ``base`` leaves out the tree's root (depth > 1), which nobody can visit."""
    locales = _locale_ids({language, settings.LANGUAGE_CODE})
    # The search backend filters on the locale's id (an indexed filter field), not on its language code.
    parts = [base.filter(locale_id=locales.get(language))]
    if language != settings.LANGUAGE_CODE:
        translated = Page.objects.live().filter(locale_id=locales.get(language)).values("translation_key")
        parts.append(base.filter(locale_id=locales.get(settings.LANGUAGE_CODE)).exclude(translation_key__in=translated))
    return parts


def _type_counts(facets: list[dict[int, int]]) -> dict[str, int]:
    """Matches per search type key and under "all", from the parts' counts per content type."""
    by_content_type = sum((Counter(facet) for facet in facets), Counter())
    counts = {
        search_type.key: by_content_type[ContentType.objects.get_for_model(search_type.model).id]
        for search_type in SEARCH_TYPES
    }
    counts["all"] = sum(by_content_type.values())
    return counts


def with_specific(pages) -> list[Page]:
    """The specific instances of these pages in the same order, in one query per page type (the cards need
    nothing else: no topics, no body)."""
    pages = list(pages)
    ids_by_type: dict[int, list[int]] = {}
    for page in pages:
        ids_by_type.setdefault(page.content_type_id, []).append(page.id)
    by_id: dict[int, Page] = {}
    for content_type_id, ids in ids_by_type.items():
        model = ContentType.objects.get_for_id(content_type_id).model_class() or Page
        by_id.update((page.id, page) for page in model.objects.filter(id__in=ids).defer_streamfields())
    return [by_id[page.id] for page in pages if page.id in by_id]


def browse_sections(viewer) -> list[Page]:
    """Index pages to suggest when a search finds nothing (only those the viewer may read)."""
    indexes = visible_pages(Page.objects.type(ArticleIndexPage, ConferenceIndexPage), viewer)
    in_language = indexes.filter(locale__language_code=get_language() or settings.LANGUAGE_CODE)
    return list(in_language.order_by("path")[:4]) or list(
        indexes.filter(locale__language_code=settings.LANGUAGE_CODE).order_by("path")[:4]
    )


# --- Cached results (issue 22) -----------------------------------------------------------------------------
# The rendered results of a search (counts, type filters, cards, pagination) are the same for everyone of one
# viewer class reading one language until the content changes: they are kept per (query, type, page, language,
# viewer class, content generation), in Redis and in each web process, like template fragments. The number of
# searches kept per generation is bounded (SEARCH_CACHE_MAX_ENTRIES), so random queries cannot fill the cache.

RESULTS_PREFIX = "portal:search:results:"
RESULTS_COUNT_PREFIX = "portal:search:stored:"
_local_results = memo.LocalCopies(256, memo.process_seconds)


def results_key(query: str, type_key: str, raw_page: str, language: str, viewer_class: str, generation: int) -> str:
    parts = [query, type_key, raw_page, language, viewer_class, str(generation)]
    return RESULTS_PREFIX + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _may_store(generation: int) -> bool:
    """Whether one more search may be stored under this generation (``SEARCH_CACHE_MAX_ENTRIES``)."""
    counter = f"{RESULTS_COUNT_PREFIX}{generation}"
    cache.add(counter, 0, timeout=settings.FRAGMENT_CACHE_TIMEOUT)
    return cache.incr(counter) <= int(conf.SEARCH_CACHE_MAX_ENTRIES)


def cached_results_html(request, query: str, type_key: str, raw_page: str, render) -> str:
    """The results section for this search, from the process copy, the shared cache or ``render()``.

    Kept only while fragments are (``FRAGMENT_CACHE_ENABLED``, a content generation readable); the viewer class
    is the fragments' one (``portal.core.fragments.viewer_class``): anonymous, superuser, or signed in with the
    groups some restriction names, so results are never shown to a viewer of another class.
    """
    from portal.core import fragments

    generation = memo.request_generation() if fragments.cacheable_request(request) else None
    if generation is None:
        return render()
    key = results_key(query, type_key, raw_page[:12], get_language() or "", fragments.viewer_class(request),
                      generation)
    html = _local_results.get(key)
    if html is not None:
        return html
    try:
        html = cache.get(key)
    except Exception:
        logger.warning("Search cache unavailable; searching", exc_info=True)
        return render()
    if html is None:
        html = render()
        _store_results(key, html, generation)
    _local_results.put(key, html)
    return html


def _store_results(key: str, html: str, generation: int) -> None:
    """Keep rendered results in the shared cache, unless this generation holds its share of searches already
    (``SEARCH_CACHE_MAX_ENTRIES``); a cache that fails is logged, the reader still gets the results."""
    try:
        if _may_store(generation):
            cache.set(key, html, timeout=settings.FRAGMENT_CACHE_TIMEOUT)
    except Exception:
        logger.warning("Could not store search results", exc_info=True)
