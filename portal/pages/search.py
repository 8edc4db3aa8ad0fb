"""Site search over pages: the privacy gate first, then Wagtail search, with counts per page type."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import prefetch_related_objects
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from wagtail.models import Locale, Page

from portal.core.privacy import visible_pages
from portal.pages.models import ArticleIndexPage, ArticlePage, ConferenceIndexPage, ConferenceNotesPage, StandardPage

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


def clean_query(raw: str | None) -> str:
    """The query as searched: trimmed, inner whitespace collapsed, at most 200 characters.

    Control characters (PostgreSQL rejects NUL) and double quotes (SQLite's full-text syntax does not
    escape them) become spaces, so no typed query can turn into a server error.
    """
    text = "".join(" " if char == '"' or unicodedata.category(char) == "Cc" else char for char in raw or "")
    return " ".join(text.split())[:MAX_QUERY_LENGTH]


class ChainedResults:
    """Two lazy search result sets read as one: the reader's language first, then the fallback.

    Supports what the paginator needs (``count()``, ``len()`` and slicing), querying each part only for
    the slice asked for.
    """

    def __init__(self, *parts):
        self.parts = parts
        self._counts = None

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

    def __getitem__(self, key):
        if isinstance(key, int):
            items = self[key:key + 1]
            if not items:
                raise IndexError(key)
            return items[0]
        start, stop = key.start or 0, key.stop
        items: list = []
        offset = 0
        for part, size in zip(self.parts, self._part_counts(), strict=True):
            part_start = max(start - offset, 0)
            part_stop = size if stop is None else min(stop - offset, size)
            if part_start < part_stop:
                items.extend(part[part_start:part_stop])
            offset += size
        return items


def search_pages(query: str, viewer, type_key: str | None = None, language: str | None = None):
    """Search the pages this viewer may read, in the reader's language first.

    Pages in ``language`` (the active language by default) come first; then, as a fallback, pages in the
    default language (English) that have no live translation in ``language``. A reader of the default
    language sees its pages only.

    Returns ``(results, counts)``: lazy search results (narrowed to ``type_key`` when it names a
    ``SEARCH_TYPES`` entry) and the number of matches per type key (and under ``"all"``) before that narrowing.
    """
    language = language or get_language() or settings.LANGUAGE_CODE
    # depth > 1 leaves out the tree's root node, which is no page anyone can visit.
    base = visible_pages(Page.objects.filter(depth__gt=1), viewer)
    locales = dict(Locale.objects.filter(language_code__in={language, settings.LANGUAGE_CODE}).values_list(
        "language_code", "id"))
    # The search backend filters on the locale's id (an indexed filter field), not on its language code.
    parts = [base.filter(locale_id=locales.get(language))]
    if language != settings.LANGUAGE_CODE:
        translated = list(
            Page.objects.live().filter(locale_id=locales.get(language)).values_list("translation_key", flat=True)
        )
        parts.append(base.filter(locale_id=locales.get(settings.LANGUAGE_CODE)).exclude(translation_key__in=translated))
    by_content_type: dict[int, int] = {}
    for part in parts:
        for content_type_id, count in part.search(query).facet("content_type_id").items():
            by_content_type[content_type_id] = by_content_type.get(content_type_id, 0) + count
    counts = {
        search_type.key: by_content_type.get(ContentType.objects.get_for_model(search_type.model).id, 0)
        for search_type in SEARCH_TYPES
    }
    counts["all"] = sum(by_content_type.values())
    search_type = SEARCH_TYPES_BY_KEY.get(type_key or "")
    if search_type is not None:
        parts = [part.type(search_type.model) for part in parts]
    results = [part.search(query) for part in parts]
    return (results[0] if len(results) == 1 else ChainedResults(*results)), counts


def with_specific(pages) -> list[Page]:
    """The specific instances of these pages in the same order, in one query per page type.

    Topics are prefetched for the types that have them, so cards and summaries cost no further queries.
    """
    pages = list(pages)
    if not pages:
        return []
    ids = [page.id for page in pages]
    by_id = {page.id: page for page in Page.objects.filter(id__in=ids).defer_streamfields().specific()}
    ordered = [by_id[pk] for pk in ids if pk in by_id]
    for model in (ArticlePage, ConferenceNotesPage):
        of_model = [page for page in ordered if isinstance(page, model)]
        if of_model:
            prefetch_related_objects(of_model, "topics")
    return ordered


def browse_sections(viewer) -> list[Page]:
    """Index pages to suggest when a search finds nothing (only those the viewer may read)."""
    indexes = visible_pages(Page.objects.type(ArticleIndexPage, ConferenceIndexPage), viewer)
    in_language = indexes.filter(locale__language_code=get_language() or settings.LANGUAGE_CODE)
    return list(in_language.order_by("path")[:4]) or list(
        indexes.filter(locale__language_code=settings.LANGUAGE_CODE).order_by("path")[:4]
    )
