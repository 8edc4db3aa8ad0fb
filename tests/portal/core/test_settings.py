"""Settings read from the environment: production refuses to start half-configured, and passes deploy checks."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[3]
CONFIG_VARS = (
    "SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "CACHE_URL",
    "REDIS_URL", "DEBUG", "DJANGO_SETTINGS_MODULE", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SITE_URL",
)
PRODUCTION_ENV = {
    "SECRET_KEY": "k3-" + "x9Q!vR2#mT7&pL4@wZ8^nB6*cF1%hJ5" * 2,
    "ALLOWED_HOSTS": "portal.example.org",
    "DATABASE_URL": "postgres://portal:secret@db.internal:5432/portal",
    "CELERY_BROKER_URL": "redis://redis.internal:6379/0",
    "SITE_URL": "https://portal.example.org",
}


def run_python(code: str, settings: str, tmp_path, **env: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter with only the given configuration variables set."""
    clean = {key: value for key, value in os.environ.items() if key not in CONFIG_VARS}
    clean.update(DJANGO_SETTINGS_MODULE=settings, PORTAL_VAR_DIR=str(tmp_path), **env)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, env=clean, capture_output=True, text=True, timeout=120
    )


def load_settings(settings: str, tmp_path, *names: str, **env: str) -> dict:
    """The values of the named Django settings as a fresh process configured by ``env`` sees them."""
    code = (
        "import json, django; from django.conf import settings; django.setup(); "
        f"print(json.dumps({{n: getattr(settings, n) for n in {list(names)!r}}}, default=str))"
    )
    result = run_python(code, settings, tmp_path, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "CELERY_BROKER_URL", "SITE_URL"])
def test_production_refuses_to_start_without_required_variable(missing, tmp_path):
    env = {key: value for key, value in PRODUCTION_ENV.items() if key != missing}
    result = run_python("import django; django.setup()", "portal.settings.production", tmp_path, **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert missing in result.stderr.strip().splitlines()[-1]


def test_production_rejects_a_short_secret_key(tmp_path):
    env = {**PRODUCTION_ENV, "SECRET_KEY": "too-short"}
    result = run_python("import django; django.setup()", "portal.settings.production", tmp_path, **env)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_passes_deploy_checks(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=PROJECT_ROOT,
        env={
            **{key: value for key, value in os.environ.items() if key not in CONFIG_VARS},
            "DJANGO_SETTINGS_MODULE": "portal.settings.production",
            "PORTAL_VAR_DIR": str(tmp_path),
            **PRODUCTION_ENV,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "no issues" in output, output


def test_production_settings_are_secure(tmp_path):
    values = load_settings(
        "portal.settings.production", tmp_path, "DEBUG", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE",
        "SECURE_SSL_REDIRECT", "ALLOWED_HOSTS", "CELERY_TASK_ALWAYS_EAGER", **PRODUCTION_ENV,
    )
    assert values["DEBUG"] is False
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["ALLOWED_HOSTS"] == ["portal.example.org"]
    assert values["CELERY_TASK_ALWAYS_EAGER"] is False


def test_database_url_is_parsed(tmp_path):
    values = load_settings(
        "portal.settings.dev", tmp_path, "DATABASES",
        DATABASE_URL="postgres://portal:s%40cret@db.internal:6543/portal_live",
    )
    database = values["DATABASES"]["default"]
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert (database["NAME"], database["USER"], database["PASSWORD"]) == ("portal_live", "portal", "s@cret")
    assert (database["HOST"], str(database["PORT"])) == ("db.internal", "6543")


def test_without_database_url_a_newcomer_gets_sqlite_under_var(tmp_path):
    values = load_settings("portal.settings.dev", tmp_path, "DATABASES")
    database = values["DATABASES"]["default"]
    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert Path(database["NAME"]).parent == tmp_path


def test_without_a_broker_tasks_run_eagerly(tmp_path):
    code = (
        "import django; django.setup(); from portal.celery import app; "
        "print(app.conf.task_always_eager, app.conf.broker_url)"
    )
    result = run_python(code, "portal.settings.dev", tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == "True"


def test_an_eager_task_in_the_demo_logs_no_broker_warning(tmp_path):
    # Every email the demo sends went through an eager task that logged kombu's "No hostname was supplied.
    # Reverting to default 'localhost'" (issue 20, point 14): the demo must not print a warning for its normal work.
    code = (
        "import django; django.setup(); from portal.celery import app\n"
        "@app.task\ndef add(a, b):\n    return a + b\n"
        "print('result', add.delay(2, 3).get())"
    )
    result = run_python(code, "portal.settings.dev", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "result 5" in result.stdout
    assert "No hostname" not in result.stderr + result.stdout
    assert "WARNING" not in result.stderr


def test_demo_emails_name_a_domain_and_carry_no_http_unsubscribe_link(tmp_path):
    # Issue 20, point 10: the demo's From and Message-ID said "localhost", and its List-Unsubscribe was http://.
    code = (
        "import json, django; django.setup()\n"
        "from django.conf import settings; from django.core.mail import EmailMessage\n"
        "from newsletter.services.headers import list_headers\n"
        "message = EmailMessage('Hello', 'Body', to=['reader@example.org']).message()\n"
        "headers = list_headers(settings.SITE_URL + '/newsletter/unsubscribe/token/')\n"
        "print(json.dumps({'from': message['From'], 'id': message['Message-ID'], 'site': settings.SITE_URL, "
        "**headers}))"
    )
    result = run_python(code, "portal.settings.dev", tmp_path)
    assert result.returncode == 0, result.stderr
    sent = json.loads(result.stdout.strip().splitlines()[-1])
    assert sent["site"].startswith("http://")  # the demo is served on plain http
    assert sent["from"] == "Hotline Network Portal <newsletter@example.org>"
    assert sent["id"].endswith("@example.org>")
    assert sent["List-Unsubscribe"] == "<mailto:newsletter@example.org?subject=unsubscribe>"
    assert "List-Unsubscribe-Post" not in sent
    assert "localhost" not in json.dumps(sent)


def test_with_a_broker_tasks_are_queued(tmp_path):
    code = (
        "import django; django.setup(); from portal.celery import app; "
        "print(app.conf.task_always_eager, app.conf.broker_url)"
    )
    result = run_python(code, "portal.settings.dev", tmp_path, CELERY_BROKER_URL="redis://127.0.0.1:6379/1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "redis://127.0.0.1:6379/1"]


def test_cache_uses_redis_when_configured(tmp_path):
    values = load_settings("portal.settings.dev", tmp_path, "CACHES", CACHE_URL="redis://127.0.0.1:6379/2")
    cache = values["CACHES"]["default"]
    assert cache["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert cache["LOCATION"] == "redis://127.0.0.1:6379/2"


def test_production_allowed_hosts_keep_their_ports(tmp_path):
    values = load_settings(
        "portal.settings.production", tmp_path, "ALLOWED_HOSTS", "ALLOWED_HOST_PORTS", "WAGTAILADMIN_BASE_URL",
        **{**PRODUCTION_ENV, "ALLOWED_HOSTS": "portal.example.org:8443,portal.example.org",
           "SITE_URL": "https://portal.example.org:8443/"},
    )
    assert values["ALLOWED_HOSTS"] == ["portal.example.org"]
    assert values["ALLOWED_HOST_PORTS"] == [["portal.example.org", "8443"], ["portal.example.org", ""]]
    assert values["WAGTAILADMIN_BASE_URL"] == "https://portal.example.org:8443"


@pytest.mark.parametrize("site_url", ["http://portal.example.org", "ftp://portal.example.org",
                                      "http://127.0.0.1.example.org", "portal.example.org"])
def test_production_refuses_a_site_url_that_is_not_https(site_url, tmp_path):
    env = {**PRODUCTION_ENV, "SITE_URL": site_url}
    result = run_python("import django; django.setup()", "portal.settings.production", tmp_path, **env)
    assert result.returncode != 0
    assert "SITE_URL must be an https:// address" in result.stderr
