"""Public views of the pages app that are not Wagtail pages: site search."""

from urllib.parse import urlencode

from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET

from wagtail.contrib.search_promotions.models import Query

from portal.core.privacy import Viewer
from portal.pages.search import (
    SEARCH_TYPES,
    SEARCH_TYPES_BY_KEY,
    browse_sections,
    clean_query,
    search_pages,
    with_specific,
)

SEARCH_PAGE_SIZE = 12


@require_GET
def search(request):
    """`/search/?q=...&type=...&page=...`: pages the visitor may read that match the query."""
    query = clean_query(request.GET.get("q"))
    type_key = request.GET.get("type", "")
    if type_key not in SEARCH_TYPES_BY_KEY:
        type_key = ""
    viewer = Viewer.for_user(request.user)
    context = {
        "search_query": query,
        "active_type": type_key,
        "search_types": SEARCH_TYPES,
        "page_obj": None,
        "results": [],
    }
    if query:
        results, counts = search_pages(query, viewer, type_key)
        paginator = Paginator(results, SEARCH_PAGE_SIZE)
        raw_page = request.GET.get("page", "1")
        try:
            page_obj = paginator.page(raw_page)
        except PageNotAnInteger:
            page_obj = paginator.page(1)
        except EmptyPage:
            page_obj = paginator.page(paginator.num_pages)
        if raw_page in ("", "1"):
            # Count each search once, not once per results page visited.
            Query.get(query).add_hit()
        filter_params = {"q": query, **({"type": type_key} if type_key else {})}
        context.update(
            {
                "page_obj": page_obj,
                "paginator": paginator,
                "results": with_specific(page_obj.object_list),
                "type_counts": [(search_type, counts[search_type.key]) for search_type in SEARCH_TYPES],
                "total_count": counts["all"],
                "filter_query": urlencode(filter_params),
                "all_types_query": urlencode({"q": query}),
            }
        )
    if not context["results"]:
        context["browse_sections"] = browse_sections(viewer)
    return render(request, "search/search.html", context)
