"""The network at its real size: the same pages at demo size and at scale size, side by side.

    .venv/bin/python bench/scale.py                       # full size (seed_scale --scale 1.0)
    .venv/bin/python bench/scale.py --scale 0.1 --requests 300
    .venv/bin/python bench/scale.py --reuse               # the two databases of the last run

Needs PostgreSQL and Redis on 127.0.0.1 and ApacheBench ``ab``. Two scratch databases: ``portal_bench_scale_demo``
(``seed_demo``: 31 pages) and ``portal_bench_scale`` (a copy of it, then
``seed_scale``: 10,000 pages in 7 languages, 200 restricted subtrees, 2,000 members, 100,000 subscribers, 20
quarterly datasets at scale 1.0). For each size it prints:

- **SQL queries** of every page type (home, article, index, search, RSS feed, sitemap, API list, statistics page,
  a logged-in member's article): in process, production settings, page cache off, second request; once with
  fragment caches and process memos off (every request renders everything) and once with them on, warm.
  The counts must be the same at both sizes.
- **Latency under load**: gunicorn (2 sync workers, production settings) for each size, both running; each
  page is measured against the demo-size server and then the scale-size one (interleaved, so both see the same
  machine), ``ab`` 8 concurrent, with the page cache off (fragments and memos on: what a member, or the first
  visitor after a publish, gets) and then on. The static file of the same server is the ceiling each ratio is
  taken against. Goal: each page's p99 at scale within 1.5 times its p99 at demo size.
- **Admin at scale**: the page explorer of the index (thousands of children), the subscriber list and a send's
  progress page (100,000 deliveries), timed in process (median of 5 after one warm-up). Goal: under 1 s.

Load averages are printed at the start and end. Writes ``var/bench/scale.json``. The demo-size servers use
BENCH_REDIS_URL's Redis database and the scale-size ones the next (both flushed).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    PG,
    PYTHON,
    REDIS_URL,
    RESULTS_DIR,
    ROOT,
    Server,
    ab,
    manage,
    member_cookie,
    prepare_site,
    server_env,
    write_json,
)

DEMO_DB = os.environ.get("BENCH_SCALE_DEMO_DB", "portal_bench_scale_demo")
SCALE_DB = os.environ.get("BENCH_SCALE_DB", "portal_bench_scale")
PAGES = ["home", "article", "index", "search", "rss", "sitemap", "sitemap_file", "api", "statistics",
         "member_article"]
LABELS = {
    "static": "static file", "home": "home", "article": "article", "index": "article index",
    "search": "search ?q=takedown", "rss": "RSS feed", "sitemap": "/sitemap.xml (an index at scale)",
    "sitemap_file": "/sitemap.xml?p=1 (a sitemap file)", "api": "API page list",
    "statistics": "statistics page", "member_article": "article, logged-in member",
}
GOALS = {"p99_ratio": 1.5, "admin_seconds": 1.0}
SLOW_REQUESTS = 24
# Run inside ``manage.py shell`` against one database: the URLs, then every page's query count.
URLS_SCRIPT = """
import json
from django.conf import settings
from portal.pages.models import ArticleIndexPage, ArticlePage, HomePage
from portal.stats.models import StatisticsPage
from wagtail.models import PageViewRestriction
home = HomePage.objects.filter(locale__language_code=settings.LANGUAGE_CODE).first()
index = ArticleIndexPage.objects.child_of(home).first()
article = ArticlePage.objects.child_of(index).live().public().order_by("-date", "pk").first()
restricted = ArticlePage.objects.filter(
    pk__in=PageViewRestriction.objects.filter(restriction_type="groups").values("page_id")).order_by("pk").first()
statistics = StatisticsPage.objects.live().public().order_by("pk").first()
prefix = home.url.rstrip("/")
print(json.dumps({"home": home.url, "article": article.url, "index": index.url,
                  "search": prefix + "/search/?q=takedown", "rss": prefix + "/feeds/latest/rss/",
                  "sitemap": "/sitemap.xml", "sitemap_file": "/sitemap.xml?p=1", "api": "/api/v2/pages/?limit=20",
                  "statistics": statistics.url, "member_article": restricted.url,
                  "member_group": restricted.view_restrictions.first().groups.first().name}))
"""
STATIC_SCRIPT = ("from django.contrib.staticfiles.storage import staticfiles_storage as s; "
                 "print(s.url('css/portal.css'))")
QUERIES_SCRIPT = """
import json
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
urls = json.loads({urls!r})
member = get_user_model().objects.filter(is_active=True, is_staff=False, groups__name=urls["member_group"],
                                         membership__organisation__active=True).order_by("pk").first()
counts = {{}}
for name in {pages!r}:
    client = Client(HTTP_HOST="127.0.0.1")
    if name == "member_article":
        client.force_login(member)
    url = urls[name]
    for _ in range(2):  # the first request fills per-process state (content types, site, memos)
        client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    counts[name] = len(queries)
print(json.dumps(counts))
"""
ADMIN_SCRIPT = """
import json, statistics, time
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from newsletter.models import Send
from portal.demo.scale import SEND_AUDIENCE_KEY
from portal.pages.models import ArticleIndexPage, HomePage
index = ArticleIndexPage.objects.child_of(HomePage.objects.order_by("pk").first()).first()
client = Client(HTTP_HOST="127.0.0.1")
client.force_login(get_user_model().objects.filter(is_superuser=True).order_by("pk").first())
urls = {
    "page explorer (article index)": reverse("wagtailadmin_explore", args=[index.pk]),
    "subscriber list": reverse("newsletter_subscribers:index"),
    "send progress": reverse("newsletter_sending:progress", args=[Send.objects.get(audience_key=SEND_AUDIENCE_KEY).pk]),
}
result = {}
for name, url in urls.items():
    assert client.get(url).status_code == 200, url
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        client.get(url)
        timings.append(time.perf_counter() - started)
    result[name] = {"url": url, "median_s": statistics.median(timings), "max_s": max(timings)}
print(json.dumps(result))
"""


def redis_url(db: str) -> str:
    """Each size's servers on their own Redis database (BENCH_REDIS_URL's and the next one): the two sites must
    not share cached site root paths, pages or generations."""
    base, _slash, number = REDIS_URL.rpartition("/")
    return REDIS_URL if db == DEMO_DB else f"{base}/{int(number or 0) + 1}"


def bench_env(db: str, static_root: Path, *, page_cache: bool = False, **extra: str) -> dict:
    """Production settings for one database; the demo's law-enforcement member reads their article without the
    second factor (PRIVACY_SECOND_FACTOR_GROUPS off), as every other member does."""
    return server_env(db, page_cache=page_cache, static_root=static_root,
                      extra={"PRIVACY_SECOND_FACTOR_GROUPS": "", "STAFF_2FA_REQUIRED": "0", "CACHE_URL": redis_url(db),
                             "CELERY_BROKER_URL": redis_url(db), **extra})


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def shell(env: dict, script: str) -> dict:
    result = subprocess.run([PYTHON, "manage.py", "shell", "-c", script], cwd=ROOT, env=env, capture_output=True,
                            text=True)
    if result.returncode:
        raise RuntimeError(f"manage.py shell failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def prepare(scale: float) -> tuple[Path, float]:
    """Both databases; returns the static root and the seconds seed_scale took."""
    static_root, _urls = prepare_site(DEMO_DB, extra_articles_to=0)  # the demo as seed_demo makes it
    subprocess.run(["psql", PG + "/postgres", "-qc", f"DROP DATABASE IF EXISTS {SCALE_DB} WITH (FORCE)"], check=True)
    subprocess.run(["psql", PG + "/postgres", "-qc", f"CREATE DATABASE {SCALE_DB} TEMPLATE {DEMO_DB}"], check=True)
    dev = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings.dev", "DATABASE_URL": f"{PG}/{SCALE_DB}",
           "CELERY_BROKER_URL": "", "CACHE_URL": "", "LOG_LEVEL": "WARNING"}
    started = time.monotonic()
    print(manage(dev, "seed_scale", "--scale", str(scale)), flush=True)
    return static_root, time.monotonic() - started


def query_counts(db: str, static_root: Path, urls: dict) -> dict:
    """Queries per page: memos and fragments off (``cold``), and on with Redis, warm (``warm``)."""
    script = QUERIES_SCRIPT.format(urls=json.dumps(urls), pages=PAGES)
    flush_cache()
    cold = shell(bench_env(db, static_root, FRAGMENT_CACHE_ENABLED="0", CONTENT_MEMO_SECONDS="0"), script)
    flush_cache()
    warm = shell(bench_env(db, static_root), script)  # second request: fragments and memos filled by the first
    return {"cold": cold, "warm": warm}


def flush_cache() -> None:
    import redis

    for db in (DEMO_DB, SCALE_DB):
        redis.Redis.from_url(redis_url(db)).flushdb()


def load(static_root: Path, urls: dict, requests: int) -> dict:
    """p99 and req/s of every page on both sizes, interleaved, page cache off and then on."""
    secret_key = secrets.token_urlsafe(60)
    cookies = {db: member_cookie(bench_env(db, static_root, SECRET_KEY=secret_key), urls[db]["member_group"])
               for db in (DEMO_DB, SCALE_DB)}
    runs = {}
    for label, cached in (("uncached", False), ("cached", True)):
        flush_cache()
        servers = {db: Server(bench_env(db, static_root, page_cache=cached, SECRET_KEY=secret_key))
                   for db in (DEMO_DB, SCALE_DB)}
        try:
            print(f"Measuring {label} (load average {load_average()})...", flush=True)
            results: dict = {DEMO_DB: {}, SCALE_DB: {}}
            for name in ["static", *PAGES]:
                for db, server in servers.items():
                    url = server.base + (urls[db]["static"] if name == "static" else urls[db][name])
                    cookie = cookies[db] if name == "member_article" else None
                    # A sitemap file of 5,000 URLs takes seconds to render without the page cache: fewer requests.
                    count = min(requests, SLOW_REQUESTS) if name == "sitemap_file" and not cached else requests
                    ab(url, min(50, count), cookie=cookie)  # warm-up: fragments, memos, the page cache
                    results[db][name] = ab(url, count, cookie=cookie)
            runs[label] = results
        finally:
            for server in servers.values():
                server.stop()
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="seed_scale's size (default 1.0, the full size)")
    parser.add_argument("--requests", type=int, default=500, help="requests per page and size (default 500)")
    parser.add_argument("--reuse", action="store_true", help="reuse the two databases of the last run")
    parser.add_argument("--parts", default="queries,admin,load",
                        help="what to measure, comma-separated (default queries,admin,load)")
    args = parser.parse_args()
    started_load = load_average()
    print(f"Load average at the start: {started_load}", flush=True)

    site_file = RESULTS_DIR / "scale-site.json"
    if args.reuse and site_file.exists() and Path(json.loads(site_file.read_text())["static_root"]).is_dir():
        saved = json.loads(site_file.read_text())
        static_root, seed_seconds, scale = Path(saved["static_root"]), saved["seed_seconds"], saved["scale"]
    else:
        print(f"Preparing the demo database and the scale database (seed_scale --scale {args.scale})...", flush=True)
        static_root, seed_seconds = prepare(args.scale)
        scale = args.scale
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        site_file.write_text(json.dumps({"static_root": str(static_root), "seed_seconds": seed_seconds,
                                         "scale": scale}))
    print(f"seed_scale --scale {scale}: {seed_seconds:.0f} s", flush=True)

    urls = {}
    for db in (DEMO_DB, SCALE_DB):
        env = bench_env(db, static_root)
        urls[db] = shell(env, URLS_SCRIPT)
        urls[db]["static"] = subprocess.run([PYTHON, "manage.py", "shell", "-c", STATIC_SCRIPT], cwd=ROOT, env=env,
                                            check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
    print(f"URLs: {json.dumps(urls, indent=1)}", flush=True)

    parts = set(args.parts.split(","))
    queries = {db: query_counts(db, static_root, urls[db]) if "queries" in parts else {"cold": {}, "warm": {}}
               for db in (DEMO_DB, SCALE_DB)}
    print(f"\n{'page':<28} {'cold demo':>10} {'cold scale':>11} {'warm demo':>10} {'warm scale':>11}")
    for name in PAGES if "queries" in parts else []:
        print(f"{LABELS[name]:<28} {queries[DEMO_DB]['cold'][name]:>10} {queries[SCALE_DB]['cold'][name]:>11} "
              f"{queries[DEMO_DB]['warm'][name]:>10} {queries[SCALE_DB]['warm'][name]:>11}")

    admin = shell(bench_env(SCALE_DB, static_root), ADMIN_SCRIPT) if "admin" in parts else {}
    print("\nAdmin at scale (in process, median of 5 / slowest):")
    for name, timing in admin.items():
        print(f"  {name:<32} {timing['median_s'] * 1000:>7.0f} ms / {timing['max_s'] * 1000:.0f} ms  {timing['url']}")

    runs = load(static_root, urls, args.requests) if "load" in parts else {}
    rows = []
    print(f"\n{'page':<28} {'run':<9} {'demo p99':>9} {'scale p99':>10} {'p99 x':>6} {'demo ratio':>11} "
          f"{'scale ratio':>12} {'errors':>7}")
    for label, results in runs.items():
        for name in ["static", *PAGES]:
            demo, big = results[DEMO_DB][name], results[SCALE_DB][name]
            row = {"page": name, "label": LABELS[name], "run": label, "demo": demo, "scale": big,
                   "p99_factor": big["p99_ms"] / demo["p99_ms"] if demo["p99_ms"] else 0.0,
                   "demo_ratio": demo["rps"] / results[DEMO_DB]["static"]["rps"],
                   "scale_ratio": big["rps"] / results[SCALE_DB]["static"]["rps"]}
            rows.append(row)
            print(f"{LABELS[name]:<28} {label:<9} {demo['p99_ms']:>9.1f} {big['p99_ms']:>10.1f} "
                  f"{row['p99_factor']:>6.2f} {row['demo_ratio']:>11.3f} {row['scale_ratio']:>12.3f} "
                  f"{demo['errors'] + big['errors']:>7}")
    ended_load = load_average()
    print(f"\nLoad average at the start {started_load}, at the end {ended_load}")

    same_counts = all(queries[DEMO_DB][kind] == queries[SCALE_DB][kind] for kind in ("cold", "warm"))

    def within(run: str) -> bool:
        return all(row["p99_factor"] <= GOALS["p99_ratio"] for row in rows if row["run"] == run
                   and row["page"] != "static")

    goals = {
        "every page type's query count the same at both sizes": same_counts,
        f"p99 at scale within {GOALS['p99_ratio']}x of demo size, page cache off": within("uncached"),
        f"p99 at scale within {GOALS['p99_ratio']}x of demo size, page cache on": within("cached"),
        "admin explorer, subscriber list and send progress under 1 s at scale": all(
            timing["median_s"] < GOALS["admin_seconds"] for timing in admin.values()),
        "no errors": all(row["demo"]["errors"] + row["scale"]["errors"] == 0 for row in rows),
    }
    measured_by = {"queries": [0], "load": [1, 2, 4], "admin": [3]}
    kept = {index for part in parts for index in measured_by.get(part, [])}
    goals = {goal: met for index, (goal, met) in enumerate(goals.items()) if index in kept}
    print()
    for goal, met in goals.items():
        print(f"{'met' if met else 'NOT MET':>8}  {goal}")
    write_json("scale", {"scale": scale, "seed_seconds": seed_seconds, "queries": {
        "demo": queries[DEMO_DB], "scale": queries[SCALE_DB]}, "admin": admin, "rows": rows, "goals": goals,
        "load_average": {"start": started_load, "end": ended_load}, "urls": urls})


if __name__ == "__main__":
    main()
