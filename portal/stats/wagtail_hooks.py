"""Wagtail admin for statistics: datasets and measures as snippets, and CSV import with a dry run.

Import flow: upload → the file is checked and a dry run shows how many rows would be created, updated or left
unchanged (or every problem, by row and column) → the editor confirms → a Celery task imports it (queued on
commit) → the page shows the counts. Every upload is kept as an ImportRun with who sent it.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from portal.stats.forms import ImportUploadForm
from portal.stats.models import Dataset, ImportRun, Measure, StatisticsPage
from portal.stats.services.importer import check_upload

IMPORT_PERMISSION = "stats.add_importrun"


@hooks.register("before_serve_page", order=-100)
def hide_restricted_statistics(page, request, serve_args, serve_kwargs):
    """A statistics page whose dataset the viewer may not read does not exist for them (404), before
    Wagtail's own view-restriction check would redirect to the login form and so reveal it."""
    if isinstance(page, StatisticsPage) and not page.dataset.is_visible_to(request.user):
        raise Http404("No such page")


class DatasetViewSet(SnippetViewSet):
    model = Dataset
    icon = "table"
    list_display = ["title", "slug", "restriction", "illustrative", "updated_at"]
    search_fields = ["title"]


class MeasureViewSet(SnippetViewSet):
    model = Measure
    icon = "order"
    list_display = ["label", "code", "unit"]


class StatisticsGroup(SnippetViewSetGroup):
    menu_label = "Statistics"
    menu_icon = "table"
    menu_order = 250
    items = (DatasetViewSet, MeasureViewSet)


register_snippet(StatisticsGroup)


def _check(request):
    if not request.user.has_perm(IMPORT_PERMISSION):
        raise PermissionDenied


def import_upload(request):
    """Upload a CSV and see a dry run of what it would change."""
    _check(request)
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        run = check_upload(data["dataset"], data["file"].name, data["text"], request.user)
        return redirect("stats_import_run", run.pk)
    recent = ImportRun.objects.select_related("dataset", "uploaded_by").defer("content")[:10]
    return render(request, "stats/admin/import_upload.html", {"form": form, "recent": recent})


def import_run(request, pk: int):
    """The dry-run result (with a confirm button) or the outcome of an import."""
    _check(request)
    run = get_object_or_404(ImportRun.objects.select_related("dataset", "uploaded_by").defer("content"), pk=pk)
    return render(request, "stats/admin/import_run.html", {"run": run, "errors": run.errors[:200],
                                                             "more_errors": max(len(run.errors) - 200, 0)})


@require_POST
def import_confirm(request, pk: int):
    """Confirm a checked upload: queue the import once (a second click does nothing)."""
    from portal.stats.tasks import run_import

    _check(request)
    with transaction.atomic():
        run = get_object_or_404(ImportRun.objects.select_for_update(), pk=pk)
        if run.status == ImportRun.PENDING:
            run.status = ImportRun.RUNNING
            run.save(update_fields=["status"])
            transaction.on_commit(lambda: run_import.delay(run.pk))
    return redirect("stats_import_run", pk)


@hooks.register("register_admin_urls")
def register_import_urls():
    return [
        path("stats/import/", import_upload, name="stats_import"),
        path("stats/import/<int:pk>/", import_run, name="stats_import_run"),
        path("stats/import/<int:pk>/confirm/", import_confirm, name="stats_import_confirm"),
    ]


class ImportMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.has_perm(IMPORT_PERMISSION)


@hooks.register("register_admin_menu_item")
def register_import_menu_item():
    return ImportMenuItem("Import statistics", reverse("stats_import"), icon_name="upload", order=251)
