"""Fifty simultaneous submissions of one address against a real server on PostgreSQL.

Every request must get the same answer, exactly one Subscriber row may exist afterwards, and at most one
confirmation email may leave (it goes through a real SMTP server on loopback).
Run with ``DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_subs``; skipped on SQLite unless
REQUIRE_SERVICES=1, where it fails.
"""

import re
import threading
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from django.core.servers.basehttp import ThreadedWSGIServer
from django.db import connection
from django.test.testcases import LiveServerThread, _StaticFilesHandler

import pytest

from newsletter.models import ConsentRecord, Subscriber
from tests.services import require_postgres, restore_wagtail_base_data, services_required

# Skip at collection on SQLite, before any transactional set-up: a skipped run then flushes nothing that later
# (serialized-rollback) tests rely on. With REQUIRE_SERVICES=1 the test runs and require_postgres() fails it.
pytestmark = [
    pytest.mark.services,
    pytest.mark.skipif(
        connection.vendor != "postgresql" and not services_required(),
        reason="PostgreSQL not in use (DATABASE_URL=postgres://...); REQUIRE_SERVICES=1 makes this a failure",
    ),
]

PARALLEL = 50
ADDRESS = "Racing.Reader@example.org"


class _RoomyServer(ThreadedWSGIServer):
    # The default listen backlog (10) resets connections when 50 arrive in the same instant.
    request_queue_size = 256


class _RoomyServerThread(LiveServerThread):
    server_class = _RoomyServer


@pytest.fixture
def roomy_live_server(transactional_db):
    """A live server (one thread per request, own DB connections) that can queue 50 simultaneous connections."""
    restore_wagtail_base_data()  # an earlier transactional test may have flushed Wagtail's migration rows
    thread = _RoomyServerThread("127.0.0.1", _StaticFilesHandler)
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    if thread.error:
        raise thread.error
    yield f"http://127.0.0.1:{thread.port}"
    thread.terminate()


def _csrf(base_url: str) -> tuple[str, str]:
    """A CSRF cookie and matching form token from the signup page, like a browser would have."""
    with urllib.request.urlopen(base_url + "/newsletter/subscribe/", timeout=30) as response:
        cookie = next(value.split(";", 1)[0] for name, value in response.getheaders()
                      if name.lower() == "set-cookie" and value.startswith("csrftoken="))
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.read().decode()).group(1)
    return cookie, token


# Transactional tests run after all others (pytest-django orders them last), so a plain flush at the end is fine.
@pytest.mark.django_db(transaction=True)
def test_fifty_parallel_submissions_of_one_address_make_one_row_and_at_most_one_email(roomy_live_server, smtp,
                                                                                      settings):
    require_postgres()
    settings.NEWSLETTER_RATE_LIMIT_IP = "1000/600"  # this test is about races, not throttling
    settings.NEWSLETTER_RATE_LIMIT_ADDRESS = "1000/600"
    cookie, token = _csrf(roomy_live_server)
    body = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "email": ADDRESS, "consent": "on"}).encode()
    start = threading.Barrier(PARALLEL)

    def submit(_):
        request = urllib.request.Request(
            roomy_live_server + "/newsletter/subscribe/", data=body, method="POST",
            headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
        )
        start.wait(timeout=60)
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, response.read().decode()

    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        results = list(pool.map(submit, range(PARALLEL)))

    assert [status for status, _ in results] == [200] * PARALLEL
    bodies = {re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html) for _, html in results}
    assert len(bodies) == 1 and "Check your inbox" in bodies.pop()
    assert Subscriber.objects.filter(email__iexact=ADDRESS).count() == 1
    subscriber = Subscriber.objects.get()
    assert subscriber.status == Subscriber.Status.PENDING
    assert ConsentRecord.objects.filter(subscriber=subscriber, event="given").count() == 1

    smtp.wait_for(1, timeout=30)
    time.sleep(1.0)  # give any (wrong) extra message time to arrive
    assert smtp.recipients == [ADDRESS]
