"""Public views of the pages app that are not Wagtail pages: site search."""

from urllib.parse import urlencode

from django.conf import settings
from django.core.paginator import Paginator
from django.shortcuts import render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET

from portal.core.cache import mark_cacheable
from portal.core.privacy import Viewer
from portal.pages import search_hits
from portal.pages.search import (
    SEARCH_TYPES,
    SEARCH_TYPES_BY_KEY,
    browse_sections,
    cached_results_html,
    clean_query,
    search_pages,
    with_specific,
)

SEARCH_PAGE_SIZE = 12


@require_GET
def search(request):
    """`/search/?q=...&type=...&page=...`: pages the visitor may read that match the query.

    The results section is kept per query, type, page, language, viewer class and content generation
    (``cached_results_html``): a repeated search reads nothing but its count for the search statistics.
    """
    query = clean_query(request.GET.get("q"))
    type_key = request.GET.get("type", "")
    if type_key not in SEARCH_TYPES_BY_KEY:
        type_key = ""
    raw_page = request.GET.get("page", "1")
    viewer = Viewer.for_user(request.user)
    context = {
        "search_query": query,
        "active_type": type_key,
        "search_types": SEARCH_TYPES,
    }
    first_page = raw_page in ("", "1")
    # Anonymous searches may be stored whole by the page cache, one entry per query (up to
    # SEARCH_CACHE_MAX_ENTRIES a generation); a copy served from it still counts the search.
    mark_cacheable(request, max_variants=settings.SEARCH_CACHE_MAX_ENTRIES,
                   on_hit=("search-hit", (query,)) if query and first_page else None)
    if query:
        if first_page:
            # Count each search once, not once per results page visited.
            search_hits.record(query)
        context["results_html"] = cached_results_html(
            request, query, type_key, raw_page,
            lambda: render_to_string("search/_results.html",
                                     results_context(query, type_key, raw_page, viewer), request),
        )
    else:
        context["browse_sections"] = browse_sections(viewer)
    return render(request, "search/search.html", context)


def results_context(query: str, type_key: str, raw_page: str, viewer) -> dict:
    """What the results section shows: counts per type, one page of cards, pagination."""
    results, counts = search_pages(query, viewer, type_key)
    paginator = Paginator(results, SEARCH_PAGE_SIZE)
    page_obj = paginator.get_page(raw_page)  # not a number: the first page; too far: the last
    filter_params = {"q": query, **({"type": type_key} if type_key else {})}
    context = {
        "search_query": query,
        "active_type": type_key,
        "search_types": SEARCH_TYPES,
        "page_obj": page_obj,
        "paginator": paginator,
        "results": with_specific(page_obj.object_list),
        "type_counts": [(search_type, counts[search_type.key]) for search_type in SEARCH_TYPES],
        "total_count": counts["all"],
        "filter_query": urlencode(filter_params),
        "all_types_query": urlencode({"q": query}),
    }
    if not context["results"]:
        context["browse_sections"] = browse_sections(viewer)
    return context
