"""python manage.py import_stats FILE --dataset SLUG [--dry-run] [--progress-every N]"""

from __future__ import annotations

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from portal.stats.models import Dataset
from portal.stats.services.importer import import_csv

MAX_ERRORS_SHOWN = 200


class Command(BaseCommand):
    help = "Import observations from a CSV file (format: docs/statistics.md). All or nothing; re-runs are no-ops."

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path to the CSV file (UTF-8).")
        parser.add_argument("--dataset", required=True, help="Slug of the dataset to import into.")
        parser.add_argument("--dry-run", action="store_true", help="Check the file and report, but write nothing.")
        parser.add_argument("--progress-every", type=int, default=5000, help="Print progress every N rows.")

    def handle(self, *args, **options):
        dataset = _dataset(options["dataset"])
        text = _read(Path(options["file"]))
        started = time.monotonic()
        result = import_csv(dataset, text, dry_run=options["dry_run"], progress=self._progress,
                            progress_every=options["progress_every"])
        elapsed = time.monotonic() - started
        if not result.ok:
            self._list_problems(result.errors)
            raise CommandError(result.summary())
        prefix = "Dry run: " if result.dry_run else ""
        self.stdout.write(self.style.SUCCESS(f"{prefix}{result.summary()} ({elapsed:.1f} s)"))

    def _progress(self, stage: str, done: int, total: int) -> None:
        suffix = f" of {total}" if total else ""
        self.stdout.write(f"  {stage}: {done} rows{suffix}")

    def _list_problems(self, errors: list) -> None:
        for error in errors[:MAX_ERRORS_SHOWN]:
            self.stderr.write(str(error))
        if len(errors) > MAX_ERRORS_SHOWN:
            self.stderr.write(f"... and {len(errors) - MAX_ERRORS_SHOWN} more problems.")


def _dataset(slug: str) -> Dataset:
    try:
        return Dataset.objects.get(slug=slug)
    except Dataset.DoesNotExist as exc:
        raise CommandError(f'No dataset with the slug "{slug}".') from exc


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise CommandError(f"No such file: {path}") from exc
    except UnicodeDecodeError as exc:
        raise CommandError(f"{path} is not UTF-8 text; save it as CSV UTF-8.") from exc
