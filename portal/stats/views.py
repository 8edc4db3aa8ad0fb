"""CSV downloads of datasets and charts. Restricted datasets answer 404 to those who may not read them."""

from __future__ import annotations

from django.http import Http404
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from wagtail.models import Page

from portal.core.privacy import can_view
from portal.stats.blocks import ChartBlock
from portal.stats.models import StatisticsPage, get_visible_dataset_or_404
from portal.stats.services.data import load_dataset_data
from portal.stats.services.export import csv_response, dataset_csv_rows
from portal.stats.services.tables import period_notes


@require_GET
def dataset_csv(request, slug: str):
    """Every observation of a dataset as CSV, in the same column format the import reads."""
    dataset = get_visible_dataset_or_404(slug, request.user)
    return csv_response(dataset_csv_rows(dataset), dataset.slug)


@require_GET
@vary_on_headers("Accept-Language", "Cookie")  # country names in the reader's language, as on the page's table
def chart_csv(request, page_id: int, block_id: str):
    """The numbers of one chart on a statistics page, exactly as its table shows them (unformatted)."""
    page = Page.objects.filter(pk=page_id).type(StatisticsPage).specific().first()
    if page is None or not can_view(page, request.user):
        raise Http404("No such chart")
    dataset = get_visible_dataset_or_404(page.dataset.slug, request.user)
    child = next((child for child in page.body if child.id == block_id), None)
    if child is None or not isinstance(child.block, ChartBlock):
        raise Http404("No such chart")
    data = load_dataset_data(dataset)
    table = child.block.chart_table(child.value, data)
    return csv_response(table.csv_rows(period_notes(table, data)), f"{dataset.slug}-{child.block_type}-{block_id[:8]}")
