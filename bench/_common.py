"""Shared parts of the page, subscribe and soak benchmarks: a scratch PostgreSQL database with the demo content,
gunicorn on loopback with production settings, an ApacheBench run of a fixed request count, and the memory of
process groups. Not part of the test suite.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG = "postgres://postgres@127.0.0.1:5432"
# Cache and broker on this benchmark's own Redis database (override with BENCH_REDIS_URL).
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/10")
RESULTS_DIR = ROOT / "var" / "bench"
PYTHON = sys.executable


_MEMBER_SESSION_SCRIPT = """
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.backends.db import SessionStore
members = get_user_model().objects.filter(is_active=True, is_staff=False, membership__organisation__active=True)
user = (members.filter(groups__name={group!r}) if {group!r} else members).order_by("pk").first()
session = SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = "portal.members.backends.MemberBackend"
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.create()
print(settings.SESSION_COOKIE_NAME + "=" + session.session_key)
"""


def member_cookie(env: dict, group: str = "") -> str:
    """A session cookie of a signed-in member (of ``group``, if given), valid for servers started with ``env``'s
    SECRET_KEY."""
    script = _MEMBER_SESSION_SCRIPT.format(group=group)
    out = subprocess.run([PYTHON, "manage.py", "shell", "-c", script], cwd=ROOT, env=env, check=True,
                         capture_output=True, text=True).stdout
    return out.strip().splitlines()[-1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(db_name: str, *, page_cache: bool, static_root: Path, extra: dict | None = None) -> dict:
    """Production settings on loopback: PostgreSQL, Redis cache and broker, no HTTPS redirect."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": f"{PG}/{db_name}",
        "CELERY_BROKER_URL": REDIS_URL,
        "CACHE_URL": REDIS_URL,
        "PAGE_CACHE_ENABLED": "1" if page_cache else "0",
        "SECURE_SSL_REDIRECT": "0",
        "STATIC_ROOT": str(static_root),
        "LOG_LEVEL": "WARNING",
        "SITE_URL": "http://127.0.0.1",
    }
    env.update(extra or {})
    return env


def create_database(db_name: str) -> None:
    subprocess.run(["psql", PG + "/postgres", "-qc", f"DROP DATABASE IF EXISTS {db_name} WITH (FORCE)"], check=True)
    subprocess.run(["psql", PG + "/postgres", "-qc", f"CREATE DATABASE {db_name}"], check=True)


def manage(env: dict, *args: str) -> str:
    result = subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True,
                            text=True)
    return result.stdout


def prepare_site(db_name: str, *, extra_articles_to: int = 50) -> tuple[Path, dict]:
    """A fresh database with migrations, the demo content and an article index of ``extra_articles_to``
    children; static files collected into a temporary STATIC_ROOT. Returns the static root and the URLs."""
    create_database(db_name)
    static_root = Path(tempfile.mkdtemp(prefix="bench-static-"))
    dev = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings.dev", "DATABASE_URL": f"{PG}/{db_name}",
           "CELERY_BROKER_URL": "", "CACHE_URL": "", "STATIC_ROOT": str(static_root), "LOG_LEVEL": "WARNING"}
    manage(dev, "migrate", "--noinput", "-v0")
    manage(dev, "seed_demo")
    production = server_env(db_name, page_cache=False, static_root=static_root)
    manage(production, "collectstatic", "--noinput", "-v0")  # hashed names and the manifest, as deployed
    script = f"""
import datetime, json
from portal.pages.models import ArticleIndexPage, ArticlePage
index = ArticleIndexPage.objects.live().first()
have = ArticlePage.objects.child_of(index).count()
for n in range(have, {extra_articles_to}):
    page = ArticlePage(title=f"Benchmark article {{n}}", slug=f"benchmark-article-{{n}}",
                       summary="What one hotline learned about notice and takedown.",
                       date=datetime.date(2014, 1, 1) + datetime.timedelta(days=n),
                       body=json.dumps([{{"type": "paragraph", "value": "<p>Notice and takedown works.</p>"}}]))
    index.add_child(instance=page)
    page.save_revision().publish()
article = ArticlePage.objects.live().public().order_by("-date").first()
home = index.get_parent()
print(json.dumps({{
    "home": home.url, "article": article.url, "index": index.url,
    "count": ArticlePage.objects.child_of(index).live().count(),
}}))
"""
    out = subprocess.run([PYTHON, "manage.py", "shell", "-c", script], cwd=ROOT, env=dev, check=True,
                         capture_output=True, text=True).stdout
    urls = json.loads(out.strip().splitlines()[-1])
    static = "from django.contrib.staticfiles.storage import staticfiles_storage as s; print(s.url('css/portal.css'))"
    urls["static"] = subprocess.run([PYTHON, "manage.py", "shell", "-c", static], cwd=ROOT, env=production,
                                    check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
    language_prefix = urls["home"].rstrip("/")  # "/en" with language prefixes, "" without
    urls["search"] = f"{language_prefix}/search/?q=takedown"
    urls["rss"] = f"{language_prefix}/feeds/latest/rss/"
    return static_root, urls


class Server:
    """gunicorn (sync workers) on loopback, in its own process group."""

    def __init__(self, env: dict, workers: int = 2):
        self.port = free_port()
        self.proc = subprocess.Popen(
            [PYTHON, "-m", "gunicorn", "portal.wsgi", "-w", str(workers), "-b", f"127.0.0.1:{self.port}",
             "--log-level", "warning", "--timeout", "120"],
            cwd=ROOT, env=env, stdin=subprocess.DEVNULL, start_new_session=True,
        )
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.base + "/health/", timeout=2)
                return
            except Exception:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError("gunicorn did not start")

    def pids(self) -> list[int]:
        return group_pids(self.proc.pid)

    def stop(self) -> None:
        stop_group(self.proc)


def group_pids(pid: int) -> list[int]:
    try:
        out = subprocess.run(["pgrep", "-g", str(os.getpgid(pid))], capture_output=True, text=True).stdout
        return [int(p) for p in out.split()]
    except (OSError, ProcessLookupError):
        return [pid]


def stop_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def rss_kib(pids: list[int]) -> int:
    """Resident memory of these processes together, in KiB (from /proc)."""
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


def ab(url: str, requests: int, *, concurrency: int = 8, cookie: str | None = None, count_non2xx: bool = True) -> dict:
    """Run ApacheBench: exactly ``requests`` requests, ``concurrency`` at a time, one connection per request
    (as gunicorn's sync workers serve them), each with ``cookie`` if given (``name=value``). Returns
    requests/s, p50 and p99 latency in milliseconds and the number of failed or non-2xx/3xx responses (pages of
    varying length are not failures: ``-l``)."""
    command = ["ab", "-q", "-l", "-n", str(requests), "-c", str(concurrency), "-s", "60"]
    if cookie:
        command += ["-C", cookie]
    command.append(url)
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    values = {"non2xx": 0, "failed": 0}
    percentiles = {}
    for line in out.splitlines():
        text = line.strip()
        if text.startswith("Requests per second:"):
            values["rps"] = float(text.split()[3])
        elif text.startswith("Complete requests:"):
            values["requests"] = int(text.split()[2])
        elif text.startswith("Failed requests:"):
            values["failed"] = int(text.split()[2])
        elif text.startswith("Non-2xx responses:"):
            values["non2xx"] = int(text.split()[2])
        elif text.endswith(")") is False and "%" in text.split(" ")[0] and text.split()[0].rstrip("%").isdigit():
            percent, millis = text.split()[:2]
            percentiles[int(percent.rstrip("%"))] = float(millis)
    return {
        "requests": values.get("requests", 0),
        "rps": values.get("rps", 0.0),
        "p50_ms": percentiles.get(50, 0.0),
        "p99_ms": percentiles.get(99, 0.0),
        "errors": values["failed"] + (values["non2xx"] if count_non2xx else 0),
    }


def write_json(name: str, data) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(data, indent=2))
    return path


# --- A small threaded load generator (for POSTs and mixed loads; pages use ab) -------------------------------


def http_request(port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
                 timeout: float = 60) -> tuple[int, bytes, list[tuple[str, str]]]:
    """One request on its own connection (gunicorn's sync workers close each one): status, body, headers."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read(), response.getheaders()
    finally:
        connection.close()


def run_load(port: int, make_request, count: int, concurrency: int = 8) -> dict:
    """Send ``count`` requests from ``concurrency`` threads; ``make_request(i)`` gives (method, path, body,
    headers). Returns requests/s, p50/p99 in ms, and the status codes seen."""
    import threading
    from collections import Counter

    latencies: list[float] = []
    statuses: Counter = Counter()
    lock = threading.Lock()
    next_index = iter(range(count))

    def worker():
        while True:
            with lock:
                index = next(next_index, None)
            if index is None:
                return
            method, path, body, headers = make_request(index)
            started = time.perf_counter()
            try:
                status, _body, _headers = http_request(port, method, path, body, headers)
            except Exception:
                status = 0  # connection error
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                statuses[status] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": count,
        "rps": count / wall if wall else 0.0,
        "p50_ms": latencies[len(latencies) // 2] * 1000 if latencies else 0.0,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000 if latencies else 0.0,
        "statuses": {str(key): value for key, value in sorted(statuses.items())},
    }


def csrf_pair(port: int, path: str = "/newsletter/subscribe/") -> tuple[str, str]:
    """A CSRF cookie and a form token from one GET of a form page (reused by every POST of a burst)."""
    import re

    status, body, headers = http_request(port, "GET", path)
    assert status == 200, status
    cookie = next(value.split(";")[0] for name, value in headers
                  if name.lower() == "set-cookie" and value.startswith("csrftoken="))
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()
    return cookie, token


def sql_value(db_name: str, query: str) -> str:
    return subprocess.run(["psql", f"{PG}/{db_name}", "-Atc", query], capture_output=True, text=True,
                          check=True).stdout.strip()


def load_or_prepare_site(db_name: str, reuse: bool) -> tuple[Path, dict]:
    """The site prepared by the last page benchmark when asked to reuse it (and it still exists), else a new one."""
    site_file = RESULTS_DIR / "pages-site.json"
    if reuse and site_file.exists():
        saved = json.loads(site_file.read_text())
        if Path(saved["static_root"]).is_dir():
            dev = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings.dev", "DATABASE_URL": f"{PG}/{db_name}",
                   "CELERY_BROKER_URL": "", "CACHE_URL": "", "LOG_LEVEL": "WARNING"}
            manage(dev, "migrate", "--noinput", "-v0")  # the code may have moved on since it was prepared
            return Path(saved["static_root"]), saved["urls"]
    static_root, urls = prepare_site(db_name)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    site_file.write_text(json.dumps({"static_root": str(static_root), "urls": urls}))
    return static_root, urls
