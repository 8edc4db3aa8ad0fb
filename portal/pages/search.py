"""Site search over pages: the privacy gate first, then Wagtail search, with counts per page type."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db.models import prefetch_related_objects

from wagtail.models import Page

from portal.core.privacy import visible_pages
from portal.pages.models import ArticleIndexPage, ArticlePage, ConferenceIndexPage, ConferenceNotesPage, StandardPage

MAX_QUERY_LENGTH = 200


@dataclass(frozen=True)
class SearchType:
    """A page type visitors can narrow results to with `?type=<key>`."""

    key: str
    label: str
    model: type[Page]


SEARCH_TYPES = (
    SearchType("article", "Best practice", ArticlePage),
    SearchType("conference", "Conference notes", ConferenceNotesPage),
    SearchType("standard", "Pages", StandardPage),
)
SEARCH_TYPES_BY_KEY = {search_type.key: search_type for search_type in SEARCH_TYPES}


def clean_query(raw: str | None) -> str:
    """The query as searched: trimmed, inner whitespace collapsed, at most 200 characters.

    Control characters (PostgreSQL rejects NUL) and double quotes (SQLite's full-text syntax does not
    escape them) become spaces, so no typed query can turn into a server error.
    """
    text = "".join(" " if char == '"' or unicodedata.category(char) == "Cc" else char for char in raw or "")
    return " ".join(text.split())[:MAX_QUERY_LENGTH]


def search_pages(query: str, viewer, type_key: str | None = None):
    """Search the pages this viewer may read.

    Returns ``(results, counts)``: lazy search results (narrowed to ``type_key`` when it names a
    ``SEARCH_TYPES`` entry) and the number of matches per type key (and under ``"all"``) before that narrowing.
    """
    # depth > 1 leaves out the tree's root node, which is no page anyone can visit.
    base = visible_pages(Page.objects.filter(depth__gt=1), viewer)
    all_results = base.search(query)
    by_content_type = all_results.facet("content_type_id")
    counts = {
        search_type.key: by_content_type.get(ContentType.objects.get_for_model(search_type.model).id, 0)
        for search_type in SEARCH_TYPES
    }
    counts["all"] = sum(by_content_type.values())
    search_type = SEARCH_TYPES_BY_KEY.get(type_key or "")
    if search_type is None:
        return all_results, counts
    return base.type(search_type.model).search(query), counts


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
    return list(indexes.order_by("path")[:4])
