"""The portal as separate hosts, in Linux network namespaces the test makes itself (``ip netns``, veth, a bridge).

    lan (bridge br0) ── db      10.X.0.2   PostgreSQL and Redis (throwaway servers, as ``conftest.py`` starts)
                     ── w1      10.X.0.11  a Celery worker host
                     ── w2      10.X.0.12  a Celery worker host
                     ── beat    10.X.0.20  celery beat
                     ── (test)  10.X.0.254 this test process, which also runs the mail sink (aiosmtpd)

Every namespace is the test's own and removed at the end; no traffic leaves the machine. ``cut(host, other)``
drops every packet from one host to another (a blackhole route: nothing answers, nothing resets, as when a
network partitions) and ``heal`` removes it. Needs root and ``ip``; without them the tests skip (or fail under
``REQUIRE_SERVICES=1``).
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.faults.conftest import ThrowawayPostgres, ThrowawayRedis, _as_postgres
from tests.services import PROJECT_ROOT, WORKER_SETTINGS, _ping, _read_log, require_service

HOST_NUMBERS = {"db": 2, "w1": 11, "w2": 12, "beat": 20}
TEST_NUMBER = 254


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check, timeout=30)


def namespaces_available() -> tuple[bool, str]:
    """Whether this process may make network namespaces (root and ``ip``), with the reason when not."""
    if shutil.which("ip") is None:
        return False, "the ip command (iproute2)"
    if os.geteuid() != 0:
        return False, "root (to make network namespaces)"
    probe = f"dlprobe{os.getpid()}"
    made = _ip("netns", "add", probe, check=False)
    _ip("netns", "del", probe, check=False)
    return made.returncode == 0, f"network namespaces (ip netns add: {made.stderr.strip()})"


@dataclass
class Network:
    """A bridge and one namespace per host, each with an address on the bridge; this process joins it too."""

    tag: str = field(default_factory=lambda: f"d{os.getpid() % 10000}{random.randint(0, 9)}")
    subnet: int = field(default_factory=lambda: random.randint(100, 250))
    hosts: tuple[str, ...] = tuple(HOST_NUMBERS)

    def ns(self, host: str) -> str:
        return f"{self.tag}-{host}"

    def address(self, host: str) -> str:
        return f"10.{self.subnet}.0.{TEST_NUMBER if host == 'test' else HOST_NUMBERS[host]}"

    def create(self) -> Network:
        lan = self.ns("lan")
        _ip("netns", "add", lan)
        _ip("-n", lan, "link", "add", "br0", "type", "bridge")
        _ip("-n", lan, "link", "set", "br0", "up")
        for index, host in enumerate((*self.hosts, "test")):
            inside, port = f"{self.tag}{index}a", f"{self.tag}{index}b"
            _ip("link", "add", inside, "type", "veth", "peer", "name", port)
            _ip("link", "set", port, "netns", lan)
            _ip("-n", lan, "link", "set", port, "master", "br0", "up")
            prefix: list[str] = []
            if host != "test":
                _ip("netns", "add", self.ns(host))
                _ip("link", "set", inside, "netns", self.ns(host))
                prefix = ["-n", self.ns(host)]
                _ip(*prefix, "link", "set", "lo", "up")
            _ip(*prefix, "addr", "add", f"{self.address(host)}/24", "dev", inside)
            _ip(*prefix, "link", "set", inside, "up")
        return self

    def run_in(self, host: str) -> list[str]:
        """The command prefix that runs a program on ``host``."""
        return ["ip", "netns", "exec", self.ns(host)]

    def cut(self, host: str, other: str) -> None:
        """Drop every packet ``host`` sends to ``other``: a partition, with no reset and no answer."""
        _ip("-n", self.ns(host), "route", "add", "blackhole", f"{self.address(other)}/32")

    def heal(self, host: str, other: str) -> None:
        _ip("-n", self.ns(host), "route", "del", "blackhole", f"{self.address(other)}/32", check=False)

    def destroy(self) -> None:
        for host in self.hosts:
            _ip("netns", "del", self.ns(host), check=False)
        _ip("netns", "del", self.ns("lan"), check=False)  # takes this process's veth end with it


class HostPostgres(ThrowawayPostgres):
    """The throwaway PostgreSQL cluster, run on the db host and listening on its address."""

    def __init__(self, bin_dir: Path, network: Network):
        super().__init__(bin_dir)
        self.network = network

    @property
    def host(self) -> str:
        return self.network.address("db")

    def _run(self, *args: str, timeout: float = 60) -> None:
        command = [*self.network.run_in("db"), *_as_postgres([str(self.bin_dir / args[0]), *args[1:]])]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
                               f"\n{self.log()}")

    def create(self) -> HostPostgres:
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data_dir), "-U", "postgres", "-A", "trust", "--no-sync",
                  "-E", "UTF8", "--locale=C.UTF-8")
        with open(self.data_dir / "pg_hba.conf", "a") as hba:
            hba.write(f"host all all 10.{self.network.subnet}.0.0/24 trust\n")
        self.start()
        return self

    def start(self) -> None:
        options = (f"-p {self.port} -c listen_addresses={self.host} -k {self.directory} -c fsync=off "
                   "-c full_page_writes=off -c shared_buffers=64MB -c max_connections=120")
        self._run("pg_ctl", "-D", str(self.data_dir), "-l", str(self.log_path), "-o", options, "-w", "-t", "60",
                  "start")

    def psql(self, database: str, *extra: str, stdin=None) -> None:
        subprocess.run([str(self.bin_dir / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", self.host,
                        "-p", str(self.port), "-U", "postgres", "-d", database, *extra],
                       stdin=stdin, check=True, capture_output=True, timeout=120)


class HostRedis(ThrowawayRedis):
    """The throwaway redis-server, run on the db host."""

    def __init__(self, network: Network):
        super().__init__()
        self.network = network

    def url(self, db: int = 0) -> str:
        return f"redis://{self.network.address('db')}:{self.port}/{db}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [*self.network.run_in("db"), "redis-server", "--port", str(self.port), "--bind",
             self.network.address("db"), "--protected-mode", "no", "--save", "", "--appendonly", "no",
             "--dir", str(self.directory),
             "--logfile", str(self.directory / "redis.log")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while not self.ping():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start on the db host, port {self.port}")
            time.sleep(0.05)

    def ping(self) -> bool:
        import redis

        client = redis.Redis(host=self.network.address("db"), port=self.port, socket_connect_timeout=0.5,
                             socket_timeout=0.5)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()


@dataclass
class HostProcess:
    """A Celery process (worker or beat) running on one host."""

    host: str
    process: subprocess.Popen
    log_path: Path
    node_name: str = ""

    def log(self) -> str:
        return _read_log(self.log_path, limit=6000)

    def kill(self) -> None:
        """SIGKILL the whole process group, pool children included (a host that dies)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)

    def stop(self, timeout: float = 15) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=timeout)
        self.kill()


def start_celery(network: Network, host: str, role: str, env: dict[str, str], broker_url: str,
                 concurrency: int = 2) -> HostProcess:
    """``celery -A portal worker`` (or ``beat``) on ``host``, with the worker test settings and ``env``."""
    log_path = Path(tempfile.mkstemp(prefix=f"celery-{host}-", suffix=".log")[1])
    node_name = f"{host}-{uuid.uuid4().hex[:6]}@{host}"
    if role == "worker":
        args = ["worker", "--loglevel=INFO", "--pool=prefork", f"--concurrency={concurrency}", "-n", node_name,
                "--without-gossip", "--without-mingle"]
    else:
        args = ["beat", "--loglevel=INFO", "-s", str(log_path.with_suffix(".schedule"))]
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [*network.run_in(host), sys.executable, "-m", "celery", "-A", "portal", *args],
            cwd=PROJECT_ROOT, env={**os.environ, "DJANGO_SETTINGS_MODULE": WORKER_SETTINGS, "PYTHONUNBUFFERED": "1",
                                   **env},
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    started = HostProcess(host, process, log_path, node_name if role == "worker" else "")
    if role == "worker":
        deadline = time.monotonic() + 90
        while not _ping(broker_url, node_name):
            if process.poll() is not None or time.monotonic() > deadline:
                started.stop()
                pytest.fail(f"worker on {host} did not start:\n{started.log()}", pytrace=False)
            time.sleep(0.3)
    return started


def require_namespaces() -> None:
    available, what = namespaces_available()
    require_service(what, available)
