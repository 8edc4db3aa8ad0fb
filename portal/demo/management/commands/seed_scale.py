"""`python manage.py seed_scale [--scale 1.0]`: the network at its real size on top of the demo content."""

import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from portal.demo import scale
from portal.pages.models import HomePage


class Command(BaseCommand):
    help = ("Add 10,000 pages in 7 languages, 200 restricted subtrees, 60 organisations with 2,000 members, "
            "100,000 subscribers and 20 quarterly datasets (times --scale) to a demo database, in bulk.")

    def add_arguments(self, parser):
        parser.add_argument("--scale", type=float, default=1.0,
                            help="Fraction of the full size (1.0); e.g. 0.01 for CI. Every count is at least 1.")

    def handle(self, *args, **options):
        if settings.SETTINGS_MODULE.endswith(".production"):
            raise CommandError("Refusing to load benchmark content with production settings.")
        if options["scale"] <= 0:
            raise CommandError("--scale must be above 0.")
        started = time.monotonic()
        if not HomePage.objects.exists():
            call_command("seed_demo", stdout=self.stdout)
        self.stdout.write(f"Seeding at scale {options['scale']}:")
        try:
            with transaction.atomic():
                made = scale.seed(options["scale"], self.stdout)
        except RuntimeError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Done in {time.monotonic() - started:.0f} s: {made}")
