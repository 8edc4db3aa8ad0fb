"""`make lighthouse`: Lighthouse 12 (npm, pinned in package.json) on Debian's Chromium against the demo site
served as in production (gunicorn, whitenoise with compressed hashed static files, production settings).

Pages: home, an article, the statistics page and the hotline directory. Mobile (Lighthouse's default: a
mid-range phone, simulated slow 4G and CPU throttling). Goals (issue 20): accessibility, best practices and SEO
100, performance at least 95. Writes var/lighthouse/<page>.json and var/lighthouse/results.md; exits 1 when a
goal is missed.

The demo is an SQLite database under var/lighthouse (seeded once, reused). Production settings want a broker URL;
page views never use it, so a loopback Redis address that need not answer is given.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = Path(os.environ.get("LIGHTHOUSE_DIR") or ROOT / "var" / "lighthouse")
PYTHON = str(ROOT / ".venv" / "bin" / "python")
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CATEGORIES = ["performance", "accessibility", "best-practices", "seo"]
GOALS = {"performance": 0.95, "accessibility": 1.0, "best-practices": 1.0, "seo": 1.0}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def environment(port: int, production: bool) -> dict:
    env = {**os.environ, "PORTAL_VAR_DIR": str(OUT), "SITE_URL": f"http://127.0.0.1:{port}", "LOG_LEVEL": "WARNING"}
    env.pop("DATABASE_URL", None)
    env.pop("CACHE_URL", None)
    if production:
        env.update({
            "DJANGO_SETTINGS_MODULE": "portal.settings.production",
            "SECRET_KEY": secrets.token_urlsafe(60),
            "ALLOWED_HOSTS": "127.0.0.1",
            "DATABASE_URL": f"sqlite:///{OUT / 'portal.sqlite3'}",
            "CELERY_BROKER_URL": "redis://127.0.0.1:1/0",  # never contacted by page views
            "SECURE_SSL_REDIRECT": "0",
            "SECURE_HSTS_SECONDS": "0",
            "STATIC_ROOT": str(OUT / "static"),
        })
    else:
        env["DJANGO_SETTINGS_MODULE"] = "portal.settings.dev"
    return env


def manage(env: dict, *args: str) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def page_urls(base: str, env: dict) -> dict[str, str]:
    """The four pages, found in the demo's database (paths are never hard-coded)."""
    code = (
        "import django, json; django.setup()\n"
        "from portal.pages.models import ArticlePage\n"
        "from portal.stats.models import StatisticsPage\n"
        "from portal.hotlines.models import HotlineDirectoryPage\n"
        "first = lambda m: m.objects.live().filter(locale__language_code='en').order_by('path').first().url\n"
        "print(json.dumps({'article': first(ArticlePage), 'statistics': first(StatisticsPage),"
        " 'directory': first(HotlineDirectoryPage)}))\n"
    )
    found = json.loads(subprocess.run([PYTHON, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True,
                                      text=True).stdout.strip().splitlines()[-1])
    return {"home": base + "/en/", **{name: base + path for name, path in found.items()}}


def wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"the server did not answer at {url}")


ATTEMPTS = 3  # Lighthouse's own runtime errors (e.g. NO_NAVSTART, a lost trace) end with "run Lighthouse again"


def run_lighthouse(url: str, report: Path) -> None:
    """One Lighthouse run into ``report``, tried again when Lighthouse itself fails (the scores are not retried:
    a page that scores low fails the check on its first report)."""
    command = [str(LIGHTHOUSE), url, "--quiet", f"--chrome-path={CHROMIUM}",
               "--chrome-flags=--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage",
               f"--only-categories={','.join(CATEGORIES)}", "--output=json", f"--output-path={report}"]
    for attempt in range(1, ATTEMPTS + 1):
        if subprocess.run(command, cwd=ROOT).returncode == 0:
            return
        print(f"Lighthouse failed on {url} (attempt {attempt} of {ATTEMPTS})", file=sys.stderr)
    raise SystemExit(f"Lighthouse failed {ATTEMPTS} times on {url}")


def audit(name: str, url: str) -> dict[str, float]:
    report = OUT / f"{name}.json"
    run_lighthouse(url, report)
    data = json.loads(report.read_text())
    scores = {key: data["categories"][key]["score"] for key in CATEGORIES}
    failing = [audit_id for audit_id, result in data["audits"].items()
               if result.get("score") is not None and result["score"] < 1
               and result.get("scoreDisplayMode") in ("binary", "numeric")
               and any(ref["id"] == audit_id for key in CATEGORIES[1:] for ref in data["categories"][key]["auditRefs"])]
    scores["_failing"] = failing
    metrics = data["audits"]
    scores["_metrics"] = {key: metrics[key]["displayValue"] for key in (
        "first-contentful-paint", "largest-contentful-paint", "total-blocking-time", "cumulative-layout-shift",
        "speed-index") if key in metrics}
    return scores


def main() -> int:
    if not LIGHTHOUSE.exists():
        raise SystemExit("Lighthouse is not installed: run `npm ci` (make lighthouse does).")
    OUT.mkdir(parents=True, exist_ok=True)
    port = free_port()
    dev = environment(port, production=False)
    if not (OUT / "portal.sqlite3").exists():
        manage(dev, "migrate", "--noinput")
        manage(dev, "seed_demo")
    else:
        manage(dev, "migrate", "--noinput")
    prod = environment(port, production=True)
    manage(prod, "collectstatic", "--noinput")
    server = subprocess.Popen([GUNICORN, "portal.wsgi", "-b", f"127.0.0.1:{port}", "-w", "2"], cwd=ROOT, env=prod,
                              start_new_session=True)
    results = {}
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(base + "/robots.txt")  # not /health/: it reports the (absent) broker
        for name, url in page_urls(base, prod).items():
            results[name] = audit(name, url)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    lines = ["| Page | Performance | Accessibility | Best practices | SEO | LCP | TBT | CLS |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    missed = []
    for name, scores in results.items():
        metrics = scores["_metrics"]
        lines.append(f"| {name} | " + " | ".join(str(round(scores[key] * 100)) for key in CATEGORIES)
                     + f" | {metrics.get('largest-contentful-paint', '')} | {metrics.get('total-blocking-time', '')}"
                     f" | {metrics.get('cumulative-layout-shift', '')} |")
        missed += [f"{name}: {key} {round(scores[key] * 100)} < {round(goal * 100)}"
                   for key, goal in GOALS.items() if scores[key] < goal]
        if scores["_failing"]:
            lines.append(f"|  | failing audits: {', '.join(scores['_failing'])} | | | | | | |")
    table = "\n".join(lines)
    (OUT / "results.md").write_text(table + "\n")
    print(table)
    if missed:
        print("Goals missed:\n  " + "\n  ".join(missed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
