"""Page serving benchmark: the seeded portal under gunicorn (2 sync workers) on PostgreSQL, uncached and cached,
against a static file served by whitenoise in the same run (the ceiling).

    .venv/bin/python bench/pages.py                      # default request counts
    .venv/bin/python bench/pages.py --requests 500       # quicker

Needs PostgreSQL and Redis on 127.0.0.1 and ApacheBench ``ab`` (``make bench`` installs Debian's
``apache2-utils`` when it is missing). It creates the scratch database ``portal_bench_pages``, loads
``seed_demo`` plus enough articles for an index of 50 children (``--reuse`` keeps the last one), then for
each of three gunicorn runs (``none``: no page cache, no fragment cache, no process memos; ``uncached``: no page
cache, with fragments and memos; ``cached``: everything on; production settings otherwise) measures the
static file, the home page, an article (anonymous and a logged-in member), the 50-child index, a search
(anonymous and a member: the same query repeated), a 404, one of the site's redirects and the RSS feed: a
fixed number of requests each, 8 concurrent, from ``ab`` on loopback, no cookies (first-time visitors: every
page response carries a fresh CSRF cookie). It prints requests/s, p50/p99 latency and each page's ratio to the static
ceiling of the same run, and writes ``var/bench/pages.json``.

The load generator's own ceiling is measured in the same run against a one-line socket responder
(``generator_ceiling_rps`` in the JSON); it is well above what the portal serves, so the ratios measure the
portal, not ``ab``.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import REDIS_URL, RESULTS_DIR, ROOT, Server, ab, member_cookie, prepare_site, server_env, write_json

# BENCH_PAGES_DB: another scratch database name, so two checkouts can measure on one machine.
DB_NAME = os.environ.get("BENCH_PAGES_DB", "portal_bench_pages")
TARGETS = ["static", "home", "article", "member_article", "index", "search", "member_search", "not_found",
           "redirect", "rss"]
LABELS = {
    "static": "static file (whitenoise)", "home": "home", "article": "article",
    "member_article": "article, logged-in member", "index": "index, 50 children", "search": "search ?q=takedown",
    "member_search": "search, logged-in member", "not_found": "404", "redirect": "redirect (site's table)",
    "rss": "RSS feed",
}
# Answered with a 404 or a redirect on purpose: ab's non-2xx count is no error for these.
EXPECTED_NON2XX = {"not_found", "redirect"}
MEMBER_TARGETS = {"member_article": "article", "member_search": "search"}
# One of the site's redirects (Settings → Redirects), to the benchmark's article (created once per database).
REDIRECT_SCRIPT = """
from wagtail.contrib.redirects.models import Redirect
from wagtail.models import Page
target = Page.objects.get(url_path__endswith={slug!r}, live=True)
Redirect.objects.get_or_create(old_path="/old-report", defaults={{"redirect_page": target}})
"""
# A demo member's session, created in the scratch database for the run's SECRET_KEY (sessions are signed).
GOALS = {"cached": 0.5, "uncached_article": 0.1, "member_vs_article": 0.6, "search": 0.3, "not_found": 0.5}


def flush_cache() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


def tiny_responder() -> tuple[socket.socket, int]:
    """A minimal HTTP responder, to measure the load generator's own ceiling on this machine."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    reply = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"

    def serve():
        import selectors

        selector = selectors.DefaultSelector()
        selector.register(sock, selectors.EVENT_READ)
        while True:
            for key, _ in selector.select():
                if key.fileobj is sock:
                    try:
                        conn, _addr = sock.accept()
                    except OSError:
                        return
                    conn.setblocking(False)
                    selector.register(conn, selectors.EVENT_READ)
                else:
                    conn = key.fileobj
                    try:
                        data = conn.recv(65536)
                    except OSError:
                        data = b""
                    if not data:
                        selector.unregister(conn)
                        conn.close()
                        continue
                    conn.sendall(reply)  # one request per connection, as ab sends them
                    selector.unregister(conn)
                    conn.close()

    threading.Thread(target=serve, daemon=True).start()
    return sock, sock.getsockname()[1]


def check_targets(base: str, urls: dict, *, cached: bool) -> None:
    """Every target answers 200, and in the cached run the pages (not search) come from the cache."""
    for name in TARGETS:
        if name in MEMBER_TARGETS:
            continue  # check_member
        url = base + urls[name]
        for _ in range(2):  # the second request of a page is a hit
            status, state = _status(url)
            expected = {"not_found": 404, "redirect": 301}.get(name, 200)
            assert status == expected, (url, status)
        if cached and name in ("home", "article", "index", "rss", "not_found", "redirect"):
            assert state == "hit", f"{url} was not served from the cache ({state})"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _status(url: str) -> tuple[int, str | None]:
    """Status and X-Page-Cache of a GET, redirects not followed, 4xx not raised."""
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(url, timeout=30) as response:
            return response.status, response.headers.get("X-Page-Cache")
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("X-Page-Cache")


def check_member(url: str, cookie: str) -> None:
    """The member's cookie really logs them in (the page shows the sign-out button) and is never cached."""
    request = urllib.request.Request(url, headers={"Cookie": cookie})
    with urllib.request.urlopen(request, timeout=30) as response:
        body = response.read().decode()
        assert response.status == 200 and "X-Page-Cache" not in response.headers, url
    assert "site-account__logout" in body, "the benchmark member is not logged in"


def measure(server: Server, urls: dict, counts: dict, cookie: str) -> dict:
    results = {}
    for name in TARGETS:
        url = server.base + urls[MEMBER_TARGETS.get(name, name)]
        results[name] = ab(url, counts[name], cookie=cookie if name in MEMBER_TARGETS else None,
                           count_non2xx=name not in EXPECTED_NON2XX)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=1000, help="requests per uncached page (default 1000)")
    parser.add_argument("--fast-requests", type=int, default=5000,
                        help="requests for the static file and cached pages (default 5000)")
    parser.add_argument("--reuse", action="store_true", help="reuse the database prepared by the last run")
    args = parser.parse_args()

    site_file = RESULTS_DIR / "pages-site.json"
    if args.reuse and site_file.exists() and Path(json.loads(site_file.read_text())["static_root"]).is_dir():
        saved = json.loads(site_file.read_text())
        static_root, urls = Path(saved["static_root"]), saved["urls"]
    else:
        print("Preparing the database (seed_demo and a 50-child index)...", flush=True)
        static_root, urls = prepare_site(DB_NAME)
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        site_file.write_text(json.dumps({"static_root": str(static_root), "urls": urls}))
    urls["not_found"] = urls["home"].rstrip("/") + "/no-such-page/"
    urls["redirect"] = "/old-report/"
    subprocess.run([sys.executable, "manage.py", "shell", "-c",
                    REDIRECT_SCRIPT.format(slug=urls["article"].rstrip("/").rsplit("/", 1)[-1] + "/")],
                   cwd=ROOT, env=server_env(DB_NAME, page_cache=False, static_root=static_root), check=True,
                   capture_output=True)
    print(f"URLs: {urls}", flush=True)

    responder, port = tiny_responder()
    ceiling = ab(f"http://127.0.0.1:{port}/", 20000)
    responder.close()
    print(f"ab ceiling against a one-line responder: {ceiling['rps']:.0f} req/s", flush=True)

    secret_key = secrets.token_urlsafe(60)
    cookie = member_cookie(server_env(DB_NAME, page_cache=False, static_root=static_root,
                                      extra={"SECRET_KEY": secret_key}))
    runs = {}
    for label, cached in (("none", False), ("uncached", False), ("cached", True)):
        flush_cache()
        # "none": no cache at all (stock Wagtail's situation); "uncached": no page cache, but template
        # fragments and per-process memos, as a logged-in member or the first visitor after a publish gets.
        extra = {"SECRET_KEY": secret_key}
        if label == "none":
            extra |= {"FRAGMENT_CACHE_ENABLED": "0", "CONTENT_MEMO_SECONDS": "0"}
        server = Server(server_env(DB_NAME, page_cache=cached, static_root=static_root, extra=extra))
        try:
            check_targets(server.base, urls, cached=cached)
            check_member(server.base + urls["article"], cookie)
            counts = {name: args.fast_requests if (cached and name not in ("search", *MEMBER_TARGETS))
                      else args.requests for name in TARGETS}
            counts["static"] = args.fast_requests
            print(f"Measuring {label}...", flush=True)
            runs[label] = measure(server, urls, counts, cookie)
        finally:
            server.stop()

    rows = []
    print(f"\n{'page':<26} {'run':<9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'ratio':>6} {'errors':>6}")
    for label in ("none", "uncached", "cached"):
        static_rps = runs[label]["static"]["rps"]
        for name in TARGETS:
            result = runs[label][name]
            ratio = result["rps"] / static_rps if static_rps else 0.0
            rows.append({"page": name, "label": LABELS[name], "run": label, **result, "ratio": ratio})
            print(f"{LABELS[name]:<26} {label:<9} {result['rps']:>8.0f} {result['p50_ms']:>8.1f} "
                  f"{result['p99_ms']:>8.1f} {ratio:>6.2f} {result['errors']:>6}")

    print(f"\n{'logged-in member, as a share of the anonymous article of the same run':<72}")
    member_ratios = {}
    for label in ("none", "uncached", "cached"):
        article_rps = runs[label]["article"]["rps"]
        member_ratios[label] = runs[label]["member_article"]["rps"] / article_rps if article_rps else 0.0
        print(f"  {label:<9} member article / anonymous article: {member_ratios[label]:.2f}")

    def row(run, page):
        return next(r for r in rows if r["run"] == run and r["page"] == page)

    cached_pages = [r for r in rows if r["run"] == "cached" and r["page"] in ("home", "article", "index", "rss")]
    uncached_article = row("uncached", "article")
    goals = {
        "cached pages >= 0.5 of static": all(r["ratio"] >= GOALS["cached"] for r in cached_pages),
        "uncached article (no page cache) >= 0.1 of static": uncached_article["ratio"] >= GOALS["uncached_article"],
        "member article >= 0.6 of the anonymous uncached article": member_ratios["uncached"]
        >= GOALS["member_vs_article"],
        "repeated search >= 0.3 of static (cached run)": row("cached", "search")["ratio"] >= GOALS["search"],
        "404 and redirect >= 0.5 of static (cached run)": all(row("cached", page)["ratio"] >= GOALS["not_found"]
                                                               for page in ("not_found", "redirect")),
        "no errors": all(r["errors"] == 0 for r in rows),
    }
    print()
    for goal, met in goals.items():
        print(f"{'met' if met else 'NOT MET':>8}  {goal}")
    write_json("pages", {"rows": rows, "goals": goals, "generator_ceiling_rps": ceiling["rps"], "urls": urls,
                         "member_vs_article": member_ratios})


if __name__ == "__main__":
    main()
