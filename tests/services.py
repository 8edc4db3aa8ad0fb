"""Helpers for tests that need real services: PostgreSQL, Redis and real Celery workers.

Without a service such a test is skipped, unless ``REQUIRE_SERVICES=1`` is set (as CI does), in which case it
fails with a message saying what is missing. Typical use in a test module::

    import pytest

    from tests.services import celery_producer, celery_worker_process, require_postgres, require_redis

    pytestmark = pytest.mark.services

    @pytest.mark.django_db(transaction=True)   # the worker only sees committed rows
    def test_something_real():
        require_postgres()                     # SQLite test databases live in memory: a worker cannot see them
        restore_wagtail_base_data()            # an earlier transactional test's flush removed the root page
        home = make_site_home()                # (use plain functions, not fixtures that ran before this line)
        broker = require_redis(5)              # your own Redis database number
        with celery_worker_process(broker), celery_producer(broker):
            my_task.delay(obj.id)              # goes to Redis, runs in the worker process
            wait_for(lambda: ..., timeout=30)

To simulate a crash, start two workers (``purge=False`` for the second, so it does not drop queued messages)
and call ``kill_worker(proc)`` on one: it SIGKILLs the worker's whole process group, pool children included.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
WORKER_SETTINGS = "portal.settings.worker_test"


def services_required() -> bool:
    """True when missing services must fail tests instead of skipping them (REQUIRE_SERVICES=1)."""
    return os.environ.get("REQUIRE_SERVICES", "").strip().lower() in {"1", "true", "yes", "on"}


def require_service(name: str, available: bool) -> None:
    """Skip the current test when a service is unavailable, or fail it when REQUIRE_SERVICES=1."""
    if available:
        return
    if services_required():
        pytest.fail(f"{name} is required (REQUIRE_SERVICES=1) but is not available", pytrace=False)
    pytest.skip(f"{name} not available (set REQUIRE_SERVICES=1 to make this a failure)")


# --- PostgreSQL -----------------------------------------------------------------------------------------------


def postgres_available() -> bool:
    """True when the tests' default database is PostgreSQL and answers."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return False
    try:
        connection.ensure_connection()
    except Exception:
        return False
    return True


def require_postgres() -> None:
    """Skip (or fail under REQUIRE_SERVICES=1) unless the tests run on PostgreSQL."""
    require_service("PostgreSQL (DATABASE_URL=postgres://...)", postgres_available())


def restore_wagtail_base_data() -> None:
    """Recreate the rows Wagtail's migrations insert (default locale, root page, root collection) if missing.

    A transactional test (``django_db(transaction=True)``) ends by flushing every table, which also removes this
    migration data; any later transactional test that builds pages must call this first. (Django's
    ``serialized_rollback`` is no cure: it collides with the content types a plain flush re-creates.)
    """
    from django.conf import settings
    from django.contrib.contenttypes.models import ContentType

    from wagtail.coreutils import get_supported_content_language_variant
    from wagtail.models import Collection, Locale, Page

    # The flush re-created content types under new ids; cached ones would point at rows that no longer exist.
    ContentType.objects.clear_cache()
    Locale.objects.get_or_create(language_code=get_supported_content_language_variant(settings.LANGUAGE_CODE))
    if not Page.objects.filter(depth=1).exists():
        Page.add_root(instance=Page(title="Root", slug="root"))
    if not Collection.objects.filter(depth=1).exists():
        Collection.add_root(name="Root")


# Migrations that insert data the site needs (not schema: triggers and indexes survive a flush).
DATA_MIGRATIONS = [("members", "0002_groups_permissions_workflow"), ("stats", "0002_shipped_measures"),
                   ("stats", "0003_measure_caveat_kind_limit")]
_MIGRATION_DATA: list = []


def restore_migration_data() -> None:
    """Re-run the data migrations in DATA_MIGRATIONS (groups, permissions, moderation workflow, measures).

    A transactional test ends with a flush that empties every table, including rows that data migrations
    inserted; the tests after it need them (the sector groups, the moderation workflow, the shipped measures).
    Each ``RunPython`` step runs again; they are written to be re-run safely (get_or_create / update_or_create).
    Add a new data migration to the list when tests need its rows.
    """
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.operations.special import RunPython

    if not _MIGRATION_DATA:
        loader = MigrationLoader(connection)
        for key in DATA_MIGRATIONS:
            steps = [op for op in loader.graph.nodes[key].operations if isinstance(op, RunPython)]
            # Today's models, not the migration's historical ones: a column added later (NOT NULL, with a
            # model default) would otherwise make the re-run insert fail.
            _MIGRATION_DATA.append((loader.project_state().apps, steps))
    for apps, steps in _MIGRATION_DATA:
        apps.get_model("contenttypes", "ContentType").objects.clear_cache()
        for step in steps:
            step.code(apps, None)


def restore_after_flush(sender, **kwargs) -> None:
    """``post_migrate`` receiver: after a flush (a transactional test's teardown), put the migration rows back.

    A flush sends ``post_migrate`` without a ``plan`` (``migrate`` sends one), once per app; connect it with the
    last installed app as sender so content types and permissions of every app exist by then. Without it, one
    browser or worker test empties the locale, root page, groups and measures of every test that runs after it.
    """
    if kwargs.get("plan") is not None:
        return
    restore_wagtail_base_data()
    restore_migration_data()


def database_url_for_worker() -> str:
    """A DATABASE_URL pointing at the database this test process uses (pytest-django's test database).

    Call it inside a test: pytest-django renames the database to ``test_<name>`` only once the test DB exists.
    """
    from django.db import connection

    if connection.vendor != "postgresql":
        raise RuntimeError("A separate worker process cannot share an SQLite test database; use PostgreSQL.")
    settings = connection.settings_dict
    user = quote(settings.get("USER") or "", safe="")
    password = quote(settings.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings.get("HOST") or "127.0.0.1"
    port = f":{settings['PORT']}" if settings.get("PORT") else ""
    return f"postgres://{credentials}{host}{port}/{quote(settings['NAME'], safe='')}"


# --- Redis ----------------------------------------------------------------------------------------------------


def redis_url(db: int) -> str:
    """The URL of Redis database ``db`` on the test Redis server.

    The server comes from CELERY_TEST_BROKER_URL (or REDIS_TEST_URL) when set, else 127.0.0.1:6379.
    """
    base = os.environ.get("REDIS_TEST_URL") or os.environ.get("CELERY_TEST_BROKER_URL") or DEFAULT_REDIS
    parts = urlsplit(base)
    return urlunsplit((parts.scheme or "redis", parts.netloc, f"/{db}", "", ""))


def redis_available(url: str) -> bool:
    """True when the Redis server at ``url`` answers PING."""
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        return False


def require_redis(db: int) -> str:
    """Skip (or fail under REQUIRE_SERVICES=1) unless Redis answers; returns the URL of database ``db``."""
    url = redis_url(db)
    require_service(f"Redis ({url})", redis_available(url))
    return url


# --- Celery ---------------------------------------------------------------------------------------------------


def wait_for(condition: Callable[[], object], timeout: float = 30.0, interval: float = 0.2, message: str = ""):
    """Poll ``condition`` until it returns something truthy (returned) or fail the test after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(message or f"condition not met within {timeout} s", pytrace=False)
        time.sleep(interval)


def _reset_producer_pools(app) -> None:
    """Forget cached broker connections so the next send uses the current broker_url."""
    if app._pool is not None:
        with contextlib.suppress(Exception):
            app._pool.force_close_all()
    app._pool = None
    amqp = app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None
    # kombu also caches producer pools globally, keyed by broker URL: drop those too, or the next block
    # that talks to the same broker would get a pool closed above.
    from kombu import pools

    pools.reset()


@contextlib.contextmanager
def celery_producer(broker_url: str) -> Iterator:
    """Make this (test) process send tasks to ``broker_url`` instead of running them eagerly.

    Test settings force ``task_always_eager`` and a memory broker; inside this block ``.delay()`` really
    publishes to the broker, so a worker started with :func:`celery_worker_process` runs the task. The
    previous configuration is restored on exit. Yields the Celery app.
    """
    from portal.celery import app

    keys = ("task_always_eager", "broker_url", "result_backend")
    saved = {key: app.conf.get(key) for key in keys}
    app.conf.update(task_always_eager=False, broker_url=broker_url, result_backend=None)
    _reset_producer_pools(app)
    try:
        yield app
    finally:
        _reset_producer_pools(app)
        app.conf.update(saved)


def purge_broker(broker_url: str, queues: tuple[str, ...] = ("celery",)) -> None:
    """Delete waiting messages (and unacked bookkeeping) left in ``queues`` by earlier runs."""
    import redis

    client = redis.Redis.from_url(broker_url)
    try:
        client.delete(*queues, "unacked", "unacked_index", "unacked_mutex")
    finally:
        client.close()


def _ping(broker_url: str, node_name: str) -> bool:
    """Ask one worker node (by its full name) whether it is ready, through the broker."""
    from celery import Celery

    probe = Celery("probe", broker=broker_url, set_as_current=False)
    try:
        replies = probe.control.ping(destination=[node_name], timeout=0.5) or []
    except Exception:
        return False
    finally:
        probe.close()
    return any(node_name in reply for reply in replies)


def _read_log(path: Path, limit: int = 4000) -> str:
    try:
        return path.read_text(errors="replace")[-limit:]
    except OSError:
        return ""


@contextlib.contextmanager
def celery_worker_process(
    broker_url: str,
    queues: tuple[str, ...] | list[str] = ("celery",),
    concurrency: int = 1,
    *,
    pool: str = "prefork",
    purge: bool = True,
    database_url: str | None = None,
    extra_env: dict[str, str] | None = None,
    extra_args: tuple[str, ...] = (),
    ready_timeout: float = 60.0,
    stop_timeout: float = 15.0,
) -> Iterator[subprocess.Popen]:
    """Run a real ``celery -A portal worker`` subprocess against ``broker_url`` and the test database.

    The worker uses ``portal.settings.worker_test`` (not eager, broker from the environment), the same database
    as the calling test (pytest-django's test database: call this inside a
    ``@pytest.mark.django_db(transaction=True)`` test on PostgreSQL), and its own process group. Waits until
    the worker answers a ping, yields the ``Popen`` (with ``.node_name`` and ``.log_path`` attributes), then
    stops it with SIGTERM and, after ``stop_timeout`` seconds, SIGKILL. ``purge`` drops messages already
    waiting in ``queues`` before start: pass ``purge=False`` for a second worker that joins a running test.
    """
    from django.conf import settings as django_settings

    database_url = database_url or database_url_for_worker()
    if purge:
        purge_broker(broker_url, tuple(queues))
    node_name = f"test-{uuid.uuid4().hex[:8]}@localhost"
    log_file = tempfile.NamedTemporaryFile(prefix="celery-worker-", suffix=".log", delete=False)  # noqa: SIM115
    log_path = Path(log_file.name)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": WORKER_SETTINGS,
        # Tokens signed by the worker (links in emails) must verify in the test process, and vice versa.
        "SECRET_KEY": django_settings.SECRET_KEY,
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker_url,
        "PYTHONUNBUFFERED": "1",
        **(extra_env or {}),
    }
    command = [
        sys.executable, "-m", "celery", "-A", "portal", "worker",
        "--loglevel=INFO", f"--pool={pool}", f"--concurrency={concurrency}",
        "-Q", ",".join(queues), "-n", node_name, "--without-gossip", "--without-mingle", *extra_args,
    ]
    proc = subprocess.Popen(
        command, cwd=PROJECT_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log_file,
        stderr=subprocess.STDOUT, start_new_session=True,
    )
    log_file.close()
    proc.node_name = node_name  # type: ignore[attr-defined]
    proc.log_path = log_path  # type: ignore[attr-defined]
    try:
        deadline = time.monotonic() + ready_timeout
        while not _ping(broker_url, node_name):
            if proc.poll() is not None:
                pytest.fail(f"Celery worker exited with {proc.returncode}:\n{_read_log(log_path)}", pytrace=False)
            if time.monotonic() > deadline:
                pytest.fail(f"Celery worker not ready after {ready_timeout} s:\n{_read_log(log_path)}",
                            pytrace=False)
            time.sleep(0.3)
        yield proc
    finally:
        stop_worker(proc, timeout=stop_timeout)
        with contextlib.suppress(OSError):
            log_path.unlink()


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def kill_worker(proc: subprocess.Popen, timeout: float = 10.0) -> None:
    """Hard-kill a worker (SIGKILL to its whole process group, as in a machine crash) and reap it."""
    _signal_group(proc, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=timeout)


def stop_worker(proc: subprocess.Popen, timeout: float = 15.0) -> None:
    """Stop a worker gracefully (SIGTERM: finish the current task), killing it if it takes too long."""
    if proc.poll() is None:
        _signal_group(proc, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=timeout)
    # Reap pool children too, even when the main process is already gone.
    kill_worker(proc)


def worker_log(proc: subprocess.Popen) -> str:
    """The last lines the worker wrote (for assertion messages)."""
    return _read_log(proc.log_path)  # type: ignore[attr-defined]

