"""Celery tasks of the stats app: thin wrappers that call services with ids."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from celery import shared_task

from portal.stats.models import ImportRun
from portal.stats.services.importer import import_csv


@shared_task(acks_late=True)
def run_import(import_run_id: int) -> str:
    """Import a confirmed upload. Idempotent: only a run in the "importing" state is processed, and the
    import itself is an all-or-nothing upsert, so a redelivered message cannot import twice."""
    with transaction.atomic():
        run = ImportRun.objects.select_for_update().select_related("dataset").filter(pk=import_run_id).first()
        if run is None or run.status != ImportRun.RUNNING:
            return "skipped"
        result = import_csv(run.dataset, run.content)
        run.rows, run.created = result.rows, result.created
        run.updated, run.unchanged = result.updated, result.unchanged
        run.errors = [str(error) for error in result.errors]
        run.status = ImportRun.DONE if result.ok else ImportRun.FAILED
        run.finished_at = timezone.now()
        run.save()
        return run.status
