"""The Nu HTML Checker (npm ``vnu-jar``, run on Debian's Java) finds no error in any public template, rendered
from the demo site: every page type, the directory's states, search, the newsletter and member forms, an error
page and a page not translated yet. ``npm ci`` installs the checker (package.json pins it); CI installs Java."""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.error
import urllib.request

from django.urls import reverse

from wagtail.models import Page

from tests.e2e.conftest import PROJECT_ROOT
from tests.services import require_service

VNU = PROJECT_ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"


def fetch(url: str) -> str:
    """The page's HTML whatever its status (a 400 or 404 page must be valid too)."""
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.read().decode()
    except urllib.error.HTTPError as error:
        return error.read().decode()


def public_urls(site) -> dict[str, str]:
    """One URL per public template: the first live page of each page type, and the views beside them."""
    urls = {}
    for page in Page.objects.live().filter(depth__gt=1).specific().order_by("path"):
        name = type(page).__name__
        if name not in urls and page.get_view_restrictions().count() == 0 and page.url:
            urls[name] = page.url
    directory = urls.get("HotlineDirectoryPage", "/en/where-to-report/")
    urls.update({
        "directory: a country": directory + "?country=FR",
        "directory: fallback and filters": directory + "?country=LU&accepts=grooming&language=en",
        "directory: bad input": directory + "?country=ZZ",
        "index filtered": urls.get("ArticleIndexPage", "/en/") + "?topic=prevention",
        "search: empty": reverse("search"),
        "search: results": reverse("search") + "?q=takedown",
        "search: nothing found": reverse("search") + "?q=zzzzqqq",
        "newsletter subscribe": reverse("newsletter:subscribe"),
        "member sign-in": reverse("members:login"),
        "membership request": reverse("members:request"),
        "not found": "/en/no-such-page/",
        "not translated yet": "/es/",
    })
    return {name: site.absolute(url) for name, url in urls.items()}


def test_public_templates_have_no_html_errors(site, tmp_path):
    require_service("the Nu HTML Checker (npm ci) and Java (apt-get install default-jre-headless)",
                    VNU.exists() and shutil.which("java") is not None)
    files = {}
    for index, (name, url) in enumerate(public_urls(site).items()):
        path = tmp_path / f"{index:02d}.html"
        path.write_text(fetch(url), encoding="utf-8")
        files[str(path)] = f"{name} ({url})"
    result = subprocess.run(["java", "-jar", str(VNU), "--errors-only", "--format", "json", *files],
                            capture_output=True, text=True, timeout=300)
    messages = json.loads(result.stderr or "{}").get("messages", [])
    errors = [
        f"{files.get(m.get('url', '').removeprefix('file:'), m.get('url'))}: line {m.get('lastLine')}: {m['message']}"
        for m in messages if m.get("type") == "error"
    ]
    assert len(files) >= 20
    assert not errors, "\n".join(errors)
