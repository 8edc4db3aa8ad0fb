"""Throwaway PostgreSQL and Redis servers that fault tests may restart, and the plumbing to send through them.

The shared PostgreSQL and Redis serve other sessions and CI at the same time: a fault test never touches them.
Instead ``fault_stack`` (module-scoped) starts, in temporary directories on free loopback ports:

- a PostgreSQL cluster (``initdb`` + ``pg_ctl``, run as the ``postgres`` OS user when we are root) holding a copy
  of the test database (schema and base rows, dumped from the session's test database, so no migrations run);
- a ``redis-server`` without persistence (a restart loses every queued message, as after a failover);

and points this test process at them: the default database connection is switched to the throwaway cluster for
the module, and ``stack.producer()`` makes ``.delay()`` publish to the throwaway Redis. ``stack.worker(...)``
starts a real Celery worker (with embedded beat, which resumes stalled sends) against both.

Needs the PostgreSQL server binaries (``/usr/lib/postgresql/*/bin``), ``redis-server`` and a PostgreSQL test
database: without them the tests skip, or fail with a clear message under ``REQUIRE_SERVICES=1``.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.db import InterfaceError, OperationalError, connection

import pytest

from tests.services import celery_producer, celery_worker_process, require_service, services_required
from tests.smtp_sink import SMTPSink, free_port

# --- Locating the binaries ----------------------------------------------------------------------------------------


def postgres_bin_dir() -> Path | None:
    """The newest ``/usr/lib/postgresql/<version>/bin`` holding initdb, pg_ctl, pg_dump and postgres."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name)
                        if Path(p).parent.name.isdigit() else 0)
    for path in reversed(candidates):
        if all((Path(path) / tool).exists() for tool in ("initdb", "pg_ctl", "pg_dump", "postgres")):
            return Path(path)
    return None


def _as_postgres(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run server commands as the postgres OS user when we are root."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


# --- PostgreSQL -----------------------------------------------------------------------------------------------------


@dataclass
class ThrowawayPostgres:
    """A PostgreSQL cluster in a temporary directory on a free port; ``restart`` stops and starts it."""

    bin_dir: Path
    port: int = field(default_factory=free_port)
    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="fault-pg-")))

    @property
    def data_dir(self) -> Path:
        return self.directory / "data"

    @property
    def log_path(self) -> Path:
        return self.directory / "server.log"

    def _run(self, *args: str, timeout: float = 60) -> None:
        result = subprocess.run(_as_postgres([str(self.bin_dir / args[0]), *args[1:]]), capture_output=True,
                                text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
                               f"\n{self.log()}")

    def create(self) -> ThrowawayPostgres:
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data_dir), "-U", "postgres", "-A", "trust", "--no-sync",
                  "-E", "UTF8", "--locale=C.UTF-8")
        self.start()
        return self

    def start(self) -> None:
        # Durability off (fsync, synchronous commit): a throwaway cluster, and the tests stop it cleanly.
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.directory} -c fsync=off "
                   "-c full_page_writes=off -c shared_buffers=32MB -c max_connections=60")
        self._run("pg_ctl", "-D", str(self.data_dir), "-l", str(self.log_path), "-o", options, "-w", "-t", "60",
                  "start")

    def stop(self, mode: str = "fast") -> None:
        """``fast``: a clean shutdown (sessions cut off); ``immediate``: like a crash (recovery at next start)."""
        self._run("pg_ctl", "-D", str(self.data_dir), "-m", mode, "-w", "-t", "60", "stop")

    def restart(self, downtime: float = 0.0, mode: str = "fast") -> None:
        self.stop(mode)
        time.sleep(downtime)
        self.start()

    def psql(self, database: str, *extra: str, stdin=None) -> None:
        subprocess.run([str(self.bin_dir / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                        "-p", str(self.port), "-U", "postgres", "-d", database, *extra],
                       stdin=stdin, check=True, capture_output=True, timeout=120)

    def destroy(self) -> None:
        with contextlib.suppress(Exception):
            self.stop("immediate")
        shutil.rmtree(self.directory, ignore_errors=True)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-3000:]
        except OSError:
            return ""


def copy_database(source: dict, target: ThrowawayPostgres, name: str) -> None:
    """Copy a PostgreSQL database (Django ``settings_dict``) into ``target`` as ``name``: pg_dump | psql."""
    target.psql("postgres", "-c", f'CREATE DATABASE "{name}"')
    env = {**os.environ, "PGPASSWORD": source.get("PASSWORD") or ""}
    dump = subprocess.Popen(
        [str(target.bin_dir / "pg_dump"), "--no-owner", "--no-privileges", "-h", source.get("HOST") or "127.0.0.1",
         "-p", str(source.get("PORT") or 5432), "-U", source.get("USER") or "postgres", source["NAME"]],
        stdout=subprocess.PIPE, env=env, stdin=subprocess.DEVNULL,
    )
    try:
        target.psql(name, stdin=dump.stdout)
    finally:
        dump.stdout.close()
        if dump.wait(timeout=120) != 0:
            raise RuntimeError(f"pg_dump of {source['NAME']} failed")


# --- Redis ----------------------------------------------------------------------------------------------------------


@dataclass
class ThrowawayRedis:
    """A ``redis-server`` without persistence on a free port; ``restart`` loses every key, queued tasks included."""

    port: int = field(default_factory=free_port)
    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="fault-redis-")))
    process: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.directory), "--logfile", str(self.directory / "redis.log")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while not self.ping():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.05)

    def ping(self) -> bool:
        import redis

        client = redis.Redis(port=self.port, socket_connect_timeout=0.5, socket_timeout=0.5)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()  # no save, no goodbye: the data in memory is gone
            self.process.wait(timeout=10)
        self.process = None

    def restart(self, downtime: float = 0.0) -> None:
        self.stop()
        time.sleep(downtime)
        self.start()

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


# --- The stack: both servers, this process pointed at them, workers ------------------------------------------------

#: Short leases, ticks and backoff so a fault heals in seconds; a throttle so a few hundred messages take a few
#: seconds (the fault must land mid-send); two lanes per task as in production (default four).
WORKER_ENV = {
    "NEWSLETTER_BACKEND": "smtp",
    "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
    "EMAIL_TIMEOUT": "5",
    "NEWSLETTER_BATCH_SIZE": "25",
    "NEWSLETTER_LEASE_SECONDS": "4",
    "NEWSLETTER_TICK_SECONDS": "1",
    "NEWSLETTER_TASK_BUDGET": "5",
    "NEWSLETTER_PARALLEL_BATCHES": "1",
    "NEWSLETTER_CONNECTIONS_PER_TASK": "2",
    "NEWSLETTER_RATE_PER_SECOND": "60",
    "NEWSLETTER_RETRY_BASE_SECONDS": "2",
    "NEWSLETTER_RETRY_MAX_SECONDS": "8",
    "NEWSLETTER_MAX_ATTEMPTS": "10",
    "CELERY_VISIBILITY_TIMEOUT": "30",
}


@dataclass
class FaultStack:
    postgres: ThrowawayPostgres
    redis: ThrowawayRedis
    database: str

    @property
    def broker_url(self) -> str:
        return self.redis.url(0)

    @property
    def cache_url(self) -> str:
        return self.redis.url(1)

    @property
    def database_url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.postgres.port}/{self.database}"

    def producer(self):
        """``.delay()`` publishes to the throwaway Redis inside this block."""
        return celery_producer(self.broker_url)

    def worker(self, sink: SMTPSink, *, schedule_dir: Path, concurrency: int = 2, purge: bool = True, **extra):
        """A real Celery worker with embedded beat (tick_sends every second) against the throwaway servers."""
        env = {**WORKER_ENV, "CACHE_URL": self.cache_url, "EMAIL_HOST": sink.host, "EMAIL_PORT": str(sink.port),
               **{key: str(value) for key, value in extra.items()}}
        return celery_worker_process(
            self.broker_url, concurrency=concurrency, purge=purge, database_url=self.database_url, extra_env=env,
            extra_args=("-B", "-s", str(schedule_dir / "beat-schedule")), ready_timeout=90,
        )


def require_fault_tools() -> Path:
    """Skip (or fail under REQUIRE_SERVICES=1) unless the PostgreSQL server binaries and redis-server exist."""
    bin_dir = postgres_bin_dir()
    require_service("PostgreSQL server binaries (initdb, pg_ctl under /usr/lib/postgresql/*/bin)", bin_dir is not None)
    require_service("redis-server", shutil.which("redis-server") is not None)
    if os.geteuid() == 0:
        require_service("the postgres OS user (to run a throwaway cluster as root)", _user_exists("postgres"))
    return bin_dir


def _user_exists(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


@pytest.fixture(scope="module")
def fault_stack(django_db_setup, django_db_blocker):
    """Throwaway PostgreSQL (a copy of the test database) and Redis, with this process's database pointed at them."""
    bin_dir = require_fault_tools()
    with django_db_blocker.unblock():
        if connection.vendor != "postgresql":
            require_service("a PostgreSQL test database (DATABASE_URL=postgres://...) to copy", False)
        original = dict(connection.settings_dict)
    postgres = ThrowawayPostgres(bin_dir)
    redis_server = ThrowawayRedis()
    try:
        postgres.create()
        copy_database(original, postgres, "faults")
        redis_server.start()
    except Exception as exc:
        postgres.destroy()
        redis_server.destroy()
        if services_required():
            raise
        pytest.skip(f"could not start throwaway services: {exc}")
    with django_db_blocker.unblock():
        connection.close()
        connection.settings_dict.update(NAME="faults", HOST="127.0.0.1", PORT=str(postgres.port), USER="postgres",
                                        PASSWORD="")
        try:
            yield FaultStack(postgres, redis_server, "faults")
        finally:
            with contextlib.suppress(Exception):
                connection.close()
            connection.settings_dict.clear()
            connection.settings_dict.update(original)
            redis_server.destroy()
            postgres.destroy()


@pytest.fixture
def schedule_dir(tmp_path) -> Path:
    return tmp_path


def db_read(read, default=None):
    """Run a read on this process's connection, tolerating a database that is down or was just restarted."""
    try:
        return read()
    except (OperationalError, InterfaceError):
        with contextlib.suppress(Exception):
            connection.close()
        return default
