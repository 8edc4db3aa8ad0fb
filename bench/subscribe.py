"""Subscribe endpoint benchmark: a burst of distinct addresses and a burst of one address, on loopback.

    .venv/bin/python bench/subscribe.py                  # 2,000 distinct, 500 duplicate, 16 at a time
    .venv/bin/python bench/subscribe.py --reuse          # reuse the database bench/pages.py prepared

gunicorn (2 sync workers, production settings) on PostgreSQL, the confirmation emails queued to Redis (this
benchmark's database; no worker runs, the queue is emptied afterwards). The signup rate limits are raised for
the run (``NEWSLETTER_RATE_LIMIT_IP`` and ``_ADDRESS``): every request comes from 127.0.0.1, and the limits are
not what is measured. Each POST is the full signup form with consent and a valid CSRF cookie and token.

Checks, besides throughput and p99 latency: no 5xx, every answer 200, and nothing lost or doubled: pending
subscribers in the database == distinct addresses sent (N for the distinct burst, 1 for the duplicate burst).
The generator (Python threads, one connection per request) is measured against the static file in the same
run, so its own ceiling is printed beside the results. Writes ``var/bench/subscribe.json``.
"""

from __future__ import annotations

import argparse
import sys
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    REDIS_URL,
    Server,
    csrf_pair,
    load_or_prepare_site,
    run_load,
    server_env,
    sql_value,
    write_json,
)

DB_NAME = "portal_bench_pages"
LIMITS = {"NEWSLETTER_RATE_LIMIT_IP": "1000000/3600", "NEWSLETTER_RATE_LIMIT_ADDRESS": "1000000/3600"}


def signup_request(cookie: str, token: str, email_for):
    def make(index: int):
        body = urllib.parse.urlencode({
            "csrfmiddlewaretoken": token, "email": email_for(index), "consent": "on", "language": "en",
            "source": "signup_page",
        }).encode()
        headers = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}
        return "POST", "/newsletter/subscribe/", body, headers

    return make


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--distinct", type=int, default=2000)
    parser.add_argument("--duplicates", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--reuse", action="store_true", help="reuse the database bench/pages.py prepared")
    args = parser.parse_args()

    static_root, urls = load_or_prepare_site(DB_NAME, args.reuse)
    run_id = time.strftime("%H%M%S")
    server = Server(server_env(DB_NAME, page_cache=True, static_root=static_root, extra=LIMITS))
    try:
        ceiling = run_load(server.port, lambda i: ("GET", urls["static"], None, {}), args.distinct,
                           args.concurrency)
        cookie, token = csrf_pair(server.port)
        distinct = run_load(server.port, signup_request(cookie, token, lambda i: f"burst-{run_id}-{i}@example.org"),
                            args.distinct, args.concurrency)
        duplicate = run_load(server.port, signup_request(cookie, token, lambda i: f"dup-{run_id}@example.org"),
                             args.duplicates, args.concurrency)
    finally:
        server.stop()
        import redis

        redis.Redis.from_url(REDIS_URL).flushdb()  # the queued confirmation emails: nobody will send them

    distinct["rows"] = int(sql_value(DB_NAME, f"SELECT count(*) FROM newsletter_subscriber "
                                              f"WHERE email LIKE 'burst-{run_id}-%'"))
    duplicate["rows"] = int(sql_value(DB_NAME, f"SELECT count(*) FROM newsletter_subscriber "
                                               f"WHERE email = 'dup-{run_id}@example.org'"))
    distinct["expected_rows"], duplicate["expected_rows"] = args.distinct, 1

    print(f"\n{'burst':<28} {'requests':>8} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'rows':>6} {'expected':>8}  "
          "statuses")
    for label, result in (("static file (generator)", ceiling), ("distinct addresses", distinct),
                          ("one address, repeated", duplicate)):
        rows = result.get("rows", "-")
        expected = result.get("expected_rows", "-")
        print(f"{label:<28} {result['requests']:>8} {result['rps']:>8.0f} {result['p50_ms']:>8.1f} "
              f"{result['p99_ms']:>8.1f} {rows!s:>6} {expected!s:>8}  {result['statuses']}")
    goals = {
        "no 5xx and every answer 200": all(set(r["statuses"]) == {"200"} for r in (distinct, duplicate)),
        "rows == distinct addresses": distinct["rows"] == args.distinct and duplicate["rows"] == 1,
    }
    print()
    for goal, met in goals.items():
        print(f"{'met' if met else 'NOT MET':>8}  {goal}")
    write_json("subscribe", {"generator_ceiling": ceiling, "distinct": distinct, "duplicate": duplicate,
                             "goals": goals, "concurrency": args.concurrency})


if __name__ == "__main__":
    main()
