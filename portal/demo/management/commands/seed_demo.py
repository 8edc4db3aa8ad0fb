"""`python manage.py seed_demo`: demo content and a demo editor account, safe to run again and again."""

import contextlib
import importlib
import importlib.util
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

# Each step is a module with ``seed(stdout) -> None`` that creates what is missing and leaves what exists.
# Apps add their own step here; steps whose module is not installed are skipped.
DEMO_STEPS = [
    "portal.demo.pages",
    "portal.demo.stats",
    "portal.demo.members",
    "portal.demo.newsletter",
    "portal.demo.translations",  # French and German translations of a few pages (last: they copy finished pages)
    "portal.demo.hotlines",  # after members (hotlines link to their organisations) and the translated homes
    "portal.demo.contributions",  # after members: reporting periods and hotlines' submissions
]

# Loggers that report every page save, index update and background task at INFO: hundreds of lines that bury
# the few a newcomer needs (the URLs and the login), and a "Task ... succeeded" line for every email the demo
# sends. Shown again with --verbosity 2.
CHATTY_LOGGERS = ("django_tasks", "wagtail", "modelsearch", "wagtail_localize", "celery.app.trace")

EDITOR_USERNAME = "editor"
EDITOR_PASSWORD = "demo-editor-2015"  # noqa: S105 - a published demo credential, refused in production
EDITOR_EMAIL = "editor@example.org"


def step_installed(path: str) -> bool:
    """True when the step's module can be imported (its app may not exist yet)."""
    try:
        return importlib.util.find_spec(path) is not None
    except ModuleNotFoundError:
        return False


@contextlib.contextmanager
def _level(logger: logging.Logger, level: int):
    """The logger at ``level`` at least while the block runs."""
    previous = logger.level
    logger.setLevel(max(level, previous))
    try:
        yield
    finally:
        logger.setLevel(previous)


@contextlib.contextmanager
def _quiet_unless_verbose(verbosity: int):
    """The CHATTY_LOGGERS at WARNING while the block runs, unless ``--verbosity 2`` or more asks for them."""
    with contextlib.ExitStack() as quiet:
        if verbosity < 2:
            for name in CHATTY_LOGGERS:
                quiet.enter_context(_level(logging.getLogger(name), logging.WARNING))
        yield


class Command(BaseCommand):
    help = "Load the demo content (idempotent) and create the demo editor account."

    def add_arguments(self, parser):
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Seed even with production settings (creates a superuser with a published password).",
        )

    def handle(self, *args, **options):
        if settings.SETTINGS_MODULE.endswith(".production") and not options["allow_production"]:
            raise CommandError("Refusing to load demo content and a demo superuser with production settings.")

        with _quiet_unless_verbose(options["verbosity"]):
            for path in DEMO_STEPS:
                self.run_step(path)
        self.print_ready(created=self.ensure_editor())

    def run_step(self, path: str) -> None:
        """Run one step's ``seed`` in a transaction, or say that its module is not installed."""
        if not step_installed(path):
            self.stdout.write(f"Step {path}: not installed, skipped")
            return
        self.stdout.write(f"Step {path}:")
        module = importlib.import_module(path)
        with transaction.atomic():
            module.seed(self.stdout)

    def print_ready(self, *, created: bool) -> None:
        """Where the demo is and how to sign in (the password as set when the editor account was created)."""
        site_url = settings.SITE_URL.rstrip("/")
        self.stdout.write(self.style.SUCCESS("\nDemo content is ready."))
        self.stdout.write(f"  Site:     {site_url}/")
        self.stdout.write(f"  Admin:    {site_url}/admin/")
        self.stdout.write(f"  Username: {EDITOR_USERNAME}")
        unless_changed = "" if created else " (unless you changed it; the account already existed)"
        self.stdout.write(f"  Password: {EDITOR_PASSWORD}{unless_changed}")
        self.stdout.write("  Email is printed to this console, not sent.")

    def ensure_editor(self) -> bool:
        """Create the demo editor superuser if missing; never touch an existing account's password."""
        User = get_user_model()
        if User.objects.filter(username=EDITOR_USERNAME).exists():
            return False
        User.objects.create_superuser(
            username=EDITOR_USERNAME, email=EDITOR_EMAIL, password=EDITOR_PASSWORD,
            first_name="Demo", last_name="Editor",
        )
        return True
