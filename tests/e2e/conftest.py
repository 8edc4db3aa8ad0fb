"""Browser tests: Debian's Chromium driven by pytest-playwright against pytest-django's live server.

What a test gets from here:

* ``site``: the demo content (``seed_demo``'s steps and its editor) loaded into the live server's database,
  email sent over SMTP to a loopback sink (``site.sink``), Celery eager inside the server thread, and
  ``site.url`` / ``site.go(page, "...")`` helpers. Paths are never hard-coded: tests click links or resolve
  URLs with ``reverse()`` / ``Page.get_url()`` at test time (the site may put a language prefix in front).
* ``page`` / ``new_context``: pytest-playwright's fixtures, on a Chromium started from ``CHROMIUM_PATH``
  (default ``/usr/bin/chromium``, Debian's package). Without it the tests are skipped, or fail with a clear
  message under ``REQUIRE_SERVICES=1`` (as in CI). Never run ``playwright install``: nothing is downloaded.

Playwright's sync API keeps an asyncio loop running in the main thread, which trips Django's async-unsafe
check on every ORM call from the test body. The browser fixtures are therefore scoped to this package, and
``DJANGO_ALLOW_ASYNC_UNSAFE`` is set only while they live, so the rest of the suite keeps the check.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urljoin

import pytest

from tests.services import require_service, restore_migration_data, restore_wagtail_base_data
from tests.smtp_sink import SMTPSink

CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PROJECT_ROOT = Path(__file__).resolve().parents[2]
# Screenshots are test artifacts (git-ignored); E2E_SCREENSHOT_DIR moves them, e.g. to a CI artifact folder.
SCREENSHOT_DIR = Path(os.environ.get("E2E_SCREENSHOT_DIR")
                      or Path(os.environ.get("PORTAL_VAR_DIR") or PROJECT_ROOT / "var") / "screenshots")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


def pytest_configure(config):
    config.addinivalue_line("markers", "e2e: browser test in Chromium (tests/e2e)")


def pytest_collection_modifyitems(config, items):
    """Mark every test in this folder ``e2e`` (``-m "not e2e"`` leaves the browser out)."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)


def chromium_executable() -> str | None:
    """The Chromium binary to drive, or None when it is not installed."""
    path = shutil.which(CHROMIUM_PATH) or (CHROMIUM_PATH if os.access(CHROMIUM_PATH, os.X_OK) else None)
    return path


# --- Browser fixtures, package-scoped (see the module docstring) -----------------------------------------------


@pytest.fixture(scope="package")
def browser_type_launch_args(pytestconfig) -> dict:
    executable = chromium_executable()
    require_service(
        f"Chromium at {CHROMIUM_PATH} (apt-get install --no-install-recommends chromium, or set CHROMIUM_PATH)",
        executable is not None,
    )
    args = {"executable_path": executable, "args": CHROMIUM_ARGS, "headless": True}
    if pytestconfig.getoption("--headed"):
        args["headless"] = False
        args["args"] = [arg for arg in CHROMIUM_ARGS if arg != "--headless"]
    return args


@pytest.fixture(scope="package")
def playwright(browser_type_launch_args, _pw_api_request_contexts):
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    pw = sync_playwright().start()
    if _pw_api_request_contexts:
        _pw_api_request_contexts.instrument(pw)
    try:
        yield pw
    finally:
        pw.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="package")
def browser_type(playwright):
    return playwright.chromium


@pytest.fixture(scope="package")
def launch_browser(browser_type_launch_args, browser_type):
    def launch(**kwargs):
        return browser_type.launch(**{**browser_type_launch_args, **kwargs})

    return launch


@pytest.fixture(scope="package")
def browser(launch_browser):
    chromium = launch_browser()
    yield chromium
    chromium.close()


@pytest.fixture(scope="package")
def browser_context_args() -> dict:
    return {"locale": "en-GB"}  # default viewport 1280x720; tests pass viewport= for other widths


def short_timeouts(page):
    """Fail within seconds, not Playwright's 30 s default, when something the test waits for never shows."""
    page.set_default_timeout(10_000)
    page.set_default_navigation_timeout(20_000)
    return page


def fresh_page(new_context, **context_args):
    """A page in a new browser context (another person: own cookies, own viewport or JavaScript setting)."""
    return short_timeouts(new_context(**context_args).new_page())


@pytest.fixture(autouse=True)
def _short_timeouts(request):
    if "page" in request.fixturenames:
        short_timeouts(request.getfixturevalue("page"))


# --- The site under test -------------------------------------------------------------------------------------


@pytest.fixture(scope="package")
def smtp_sink() -> Iterator[SMTPSink]:
    with SMTPSink() as sink:
        yield sink


@dataclass
class Site:
    """The live site: its base URL, the SMTP sink that receives its email, and a few helpers."""

    url: str
    sink: SMTPSink

    def absolute(self, path_or_url: str) -> str:
        return urljoin(self.url + "/", path_or_url)

    def home(self, page):
        """Open the home page (whatever it redirects to) and return the Playwright response."""
        return page.goto(self.url + "/")

    def emails_to(self, address: str) -> list[EmailMessage]:
        with self.sink.lock:
            return [message for recipient, message in self.sink.envelopes if recipient.lower() == address.lower()]

    def wait_for_email(self, address: str, subject_contains: str = "", timeout: float = 15.0) -> EmailMessage:
        """The first email to ``address`` whose subject contains the text; fails after ``timeout`` s."""
        from tests.services import wait_for

        def found():
            return next((m for m in self.emails_to(address) if subject_contains in str(m["Subject"])), None)

        return wait_for(found, timeout=timeout,
                        message=f"no email to {address} with {subject_contains!r} in the subject reached the sink; "
                                f"got {[str(m['Subject']) for m in self.emails_to(address)]}")


def email_text(message: EmailMessage) -> str:
    """The plain-text body of an email (or its HTML when it has no text part)."""
    part = message.get_body(preferencelist=("plain", "html"))
    return part.get_content() if part is not None else ""


def email_html(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    return part.get_content() if part is not None else ""


def links_in(text: str) -> list[str]:
    return re.findall(r"https?://[^\s\"'<>]+", text)


# The demo's French and German translations are left out: the i18n tests cover them, and copying pages for
# translation would double the seeding time of every browser test.
SKIPPED_DEMO_STEPS = {"portal.demo.translations"}


def seed_demo_content() -> None:
    """Run seed_demo's steps (but SKIPPED_DEMO_STEPS) and create its editor, as ``manage.py seed_demo`` does.

    (The command itself reads ``settings.SETTINGS_MODULE``, which pytest-django's ``settings`` fixture hides.)
    """
    import importlib

    from django.db import transaction

    from portal.demo.management.commands.seed_demo import DEMO_STEPS, Command, step_installed

    out = io.StringIO()
    for path in DEMO_STEPS:
        if path in SKIPPED_DEMO_STEPS:
            continue
        if step_installed(path):
            with transaction.atomic():
                importlib.import_module(path).seed(out)
    Command(stdout=out).ensure_editor()


@pytest.fixture
def site(live_server, smtp_sink, settings) -> Site:
    """The demo site served by the live server, with email going to the SMTP sink."""
    from django.core.cache import caches

    url = live_server.url
    settings.SITE_URL = url
    settings.WAGTAILADMIN_BASE_URL = url
    settings.WAGTAILAPI_BASE_URL = url
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = smtp_sink.host
    settings.EMAIL_PORT = smtp_sink.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.NEWSLETTER_EMAIL_BACKEND = None
    settings.NEWSLETTER_BACKEND = "smtp"
    # Nothing cached by an earlier test (its database is gone) may answer for this one.
    for cache in caches.all():
        cache.clear()
    with smtp_sink.lock:
        smtp_sink.messages.clear()
        smtp_sink.envelopes.clear()
        smtp_sink.arrival_times.clear()
    restore_wagtail_base_data()  # an earlier transactional test flushed Wagtail's migration rows
    restore_migration_data()  # ... and ours (groups, workflow, measures)
    seed_demo_content()
    yield Site(url=url, sink=smtp_sink)
    for cache in caches.all():
        with contextlib.suppress(Exception):
            cache.clear()


# --- Helpers shared by the journeys --------------------------------------------------------------------------


def log_in(page, site: Site, username: str, password: str) -> None:
    """Sign in through the site's member sign-in link, as a person would."""
    site.home(page)
    page.get_by_role("link", name="Member sign-in").click()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name=re.compile("sign in|log in", re.I)).click()


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot under SCREENSHOT_DIR and return its path."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
