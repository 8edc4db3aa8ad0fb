"""The newcomer's first send, on the embedded default exactly as ``make demo`` gives it.

A separate ``manage.py runserver`` (dev settings, its own SQLite file, no broker so Celery runs eagerly inside
the request, no cache server) after ``migrate`` and ``seed_demo``; its email goes over SMTP to a loopback sink.
The editor sends a test, then sends the demo issue, and watches the progress page: no step may answer with an
error page (the embedded default used to fail with "database is locked" when several sending lanes shared
the SQLite file).
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from portal.demo.management.commands.seed_demo import EDITOR_EMAIL, EDITOR_PASSWORD, EDITOR_USERNAME
from tests.e2e.conftest import PROJECT_ROOT
from tests.smtp_sink import SMTPSink, free_port

DEMO_ISSUE = "Prevention and takedown: what worked in 2015"
# Subscribers seed_demo creates who get every issue (the others are pending, unsubscribed or digest readers),
# and a few hundred more, as a newcomer trying the demo with a real list would have: with only two recipients
# the old failure showed in about one send out of five, with two hundred more in two out of three.
EXTRA_READERS = 200
EVERY_ISSUE_READERS = {"analyst.demo@example.org", "educator.demo@example.org",
                       *(f"reader{n:03d}@example.org" for n in range(EXTRA_READERS))}
ADD_READERS = (
    "from newsletter.models import Subscriber; "
    "Subscriber.objects.bulk_create([Subscriber(email=f'reader{n:03d}@example.org', status='subscribed') "
    f"for n in range({EXTRA_READERS})])"
)
# Settings a developer's shell may carry that would take the demo off the embedded default.
NOT_EMBEDDED = ("DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE",
                "NEWSLETTER_RATE_PER_SECOND", "NEWSLETTER_BACKEND", "NEWSLETTER_EMAIL_BACKEND")


def demo_environment(var_dir: Path, sink: SMTPSink, port: int) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in NOT_EMBEDDED}
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings.dev",
        PORTAL_VAR_DIR=str(var_dir),
        SITE_URL=f"http://127.0.0.1:{port}",
        # As make demo, except that email goes to the sink instead of the console.
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST=sink.host,
        EMAIL_PORT=str(sink.port),
        PYTHONUNBUFFERED="1",
    )
    return env


@contextlib.contextmanager
def demo_server(tmp_path: Path, sink: SMTPSink) -> Iterator[str]:
    """``make demo`` in a temporary directory: migrate, seed_demo, runserver. Yields the site's URL."""
    port = free_port()
    env = demo_environment(tmp_path, sink, port)
    manage = [sys.executable, "manage.py"]
    for step in (["migrate", "--noinput"], ["seed_demo"], ["shell", "-c", ADD_READERS]):
        result = subprocess.run([*manage, *step], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
                                timeout=600, stdin=subprocess.DEVNULL)
        assert result.returncode == 0, f"{' '.join(step)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
    log_path = tmp_path / "runserver.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen([*manage, "runserver", f"127.0.0.1:{port}", "--noreload"], cwd=PROJECT_ROOT,
                                  env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not _answers(url):
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"runserver did not start:\n{log_path.read_text()[-3000:]}", pytrace=False)
            time.sleep(0.3)
        server.log_path = log_path  # type: ignore[attr-defined]
        yield url
    finally:
        server.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.wait(timeout=10)
        if server.poll() is None:
            server.kill()
            server.wait(timeout=10)
    server_log = log_path.read_text(errors="replace")
    assert "Traceback" not in server_log, f"the demo server logged an error:\n{server_log[-4000:]}"


def _answers(url: str) -> bool:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url + "/admin/login/", timeout=2):
            return True
    except (urllib.error.URLError, OSError):
        return False


def no_error_page(page, response=None) -> None:
    if response is not None:
        assert response.status < 400, f"{response.url} answered {response.status}"
    expect(page.get_by_text(re.compile("Server Error|OperationalError|database is locked"))).to_have_count(0)


def test_first_send_on_the_sqlite_demo_shows_no_error_page(page, tmp_path):
    with SMTPSink() as sink, demo_server(tmp_path, sink) as url:
        page.set_default_timeout(30_000)
        response = page.goto(url + "/admin/login/")
        no_error_page(page, response)
        page.locator("#id_username").fill(EDITOR_USERNAME)
        page.locator("#id_password").fill(EDITOR_PASSWORD)
        page.get_by_role("button", name=re.compile("Sign in", re.I)).click()
        expect(page.get_by_role("heading", level=1).first).to_be_visible()

        # The demo issue, found as an editor finds it: search the admin's pages.
        page.goto(url + "/admin/pages/search/?q=" + "Prevention takedown 2015")
        page.get_by_role("link", name=DEMO_ISSUE).first.click()
        page.get_by_role("button", name="Actions").first.click()
        with page.expect_navigation() as navigation:
            page.get_by_role("link", name="Preview, test and send").first.click()
        no_error_page(page, navigation.value)

        page.get_by_label("Send a test to").fill(EDITOR_EMAIL)  # tests go to staff addresses
        with page.expect_navigation() as navigation:
            page.get_by_role("button", name="Send test").click()
        no_error_page(page, navigation.value)
        expect(page.get_by_role("status").first).to_contain_text(f"Test sent to {EDITOR_EMAIL}.")

        page.get_by_role("radio", name="Send now").check()
        page.get_by_role("button", name="Continue").click()
        expect(page.get_by_role("main")).to_contain_text(f"to {len(EVERY_ISSUE_READERS)} recipients")
        with page.expect_navigation() as navigation:
            page.get_by_role("button", name="Yes, send now").click()
        no_error_page(page, navigation.value)

        expect(page.get_by_role("heading", name=re.compile("Newsletter send"))).to_be_visible()
        expect(page.locator("[data-field=percent]")).to_have_text("100")
        expect(page.locator("[data-field=status_label]")).to_have_text("Done")
        expect(page.locator("[data-field=sent]")).to_have_text(str(len(EVERY_ISSUE_READERS)))
        response = page.reload()
        no_error_page(page, response)

        deadline = time.monotonic() + 10
        while set(sink.recipients) < EVERY_ISSUE_READERS | {EDITOR_EMAIL} and time.monotonic() < deadline:
            time.sleep(0.1)  # the last SMTP transactions may still be landing at the sink
    issue_copies = [recipient for recipient, message in sink.envelopes if not str(message["Subject"]).startswith(
        "[Test]")]
    assert sorted(issue_copies) == sorted(EVERY_ISSUE_READERS), "each reader once, nobody else"
