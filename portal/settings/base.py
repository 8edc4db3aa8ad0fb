"""Settings shared by every environment. Everything configurable comes from environment variables."""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

import dj_database_url
from celery.schedules import crontab

# Each app's settings and their defaults (read here from the environment): portal/core/conf.py, <app>/conf.py.
from portal.core.conf import DEFAULTS as CORE

PROJECT_DIR = Path(__file__).resolve().parent.parent
BASE_DIR = PROJECT_DIR.parent
VAR_DIR = Path(os.environ.get("PORTAL_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    """Read a boolean environment variable ("1", "true", "yes", "on" are true)."""
    value = os.environ.get(name)
    if not value:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    """Read a comma-separated environment variable as a list of non-empty strings."""
    return split_list(os.environ.get(name, default))


def split_list(value: str) -> list[str]:
    """The non-empty, stripped items of a comma-separated value."""
    return [item.strip() for item in value.split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    """Read an integer environment variable, failing with a clear message if it is not one."""
    value = os.environ.get(name)
    if not value:
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from exc


def split_host_ports(entries: list[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """Split ``ALLOWED_HOSTS`` entries that carry a port ("portal.example.org:8443").

    Django compares host names only, so a request for ``portal.example.org:31337`` passes its check; the names
    go to ``ALLOWED_HOSTS`` and, when any entry names a port, every (name, port) pair to ``ALLOWED_HOST_PORTS``,
    which ``portal.core.hosts.HostPortMiddleware`` enforces ("" = no port in the Host header).
    """
    names, pairs = [], []
    for entry in entries:
        entry = entry.strip().lower()
        name, port = _host_and_port(entry)
        if port and not port.isdigit():
            raise ImproperlyConfigured(f"ALLOWED_HOSTS entry {entry!r} has an invalid port")
        names.append(name)
        pairs.append((name, port))
    if not any(port for _name, port in pairs):
        pairs = []
    return list(dict.fromkeys(names)), pairs


def _host_and_port(entry: str) -> tuple[str, str]:
    """An ``ALLOWED_HOSTS`` entry's name and port ("" when it names none)."""
    if entry.startswith("["):  # an IPv6 address: [::1] or [::1]:8000
        name, _, rest = entry.partition("]")
        return name + "]", rest.removeprefix(":")
    if entry.count(":") == 1:
        name, port = entry.split(":")
        return name, port
    return entry, ""


SECRET_KEY = os.environ.get("SECRET_KEY", "")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS, ALLOWED_HOST_PORTS = split_host_ports(env_list("ALLOWED_HOSTS"))
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "csp",
    "portal.core",
    "portal.pages",
    "portal.members",
    "portal.stats",
    "portal.hotlines",
    "portal.contributions",
    "newsletter",
    "portal.demo",  # the demo content and the seed_demo command
    # Translation workflow for editors (replaces "wagtail.locales"); 1.14.5 supports Wagtail 8 and Django 5.2.
    "wagtail_localize",
    "wagtail_localize.locales",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.sitemaps",
    "wagtail.contrib.table_block",
    "wagtail.contrib.typed_table_block",
    "wagtail.contrib.search_promotions",
    "wagtail.contrib.settings",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail.api.v2",
    "wagtail",
    "modelcluster",
    "taggit",
    "rest_framework",
    "django_countries",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django.contrib.humanize",
]

# Blocks feature apps add to every content page's body (portal.core names no feature app): name, block class.
PORTAL_CONTENT_BLOCKS = [("newsletter_signup", "newsletter.blocks.NewsletterSignupBlock")]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Refuses a Host header whose port is not the one ALLOWED_HOSTS names (Django checks names only).
    "portal.core.hosts.HostPortMiddleware",
    # Hostile paths and query strings (NUL and control characters, undecodable or overlong values) get a 400
    # before any view or cache reads them (portal.core.request_guard).
    "portal.core.request_guard.RequestGuardMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Anonymous page cache (portal.core.cache): before sessions, so a hit skips everything below.
    "portal.core.cache.AnonymousPageCacheMiddleware",
    # A memo scope per GET/HEAD request for site-wide answers (portal.core.memo); before anything that renders.
    "portal.core.memo.RequestMemoMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Language from the URL prefix (/fr/...), else the remembered choice, else Accept-Language; never redirects
    # machine endpoints (portal.core.locale_middleware).
    "portal.core.locale_middleware.PortalLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "portal.members.two_factor.StaffTwoFactorMiddleware",
    # The request's user is the viewer of everything rendered for it (render-time privacy checks).
    "portal.core.privacy.ViewerScopeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Wagtail's redirects, their lookups memoised per content generation (portal.core.redirects).
    "portal.core.redirects.CachedRedirectMiddleware",
    # Last, as django-axes requires: turns a lockout into the "too many attempts" page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
                "portal.core.context_processors.portal",
                # Last: pages that may be cached hold a CSRF placeholder, filled per visitor (portal.core.cache).
                "portal.core.cache.csrf_placeholder",
            ],
        },
    },
]

# Database: DATABASE_URL, or the embedded default (an SQLite file under var/) for a newcomer.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'portal.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A database host that vanishes from the network (no reset, packets dropped) must not hang a web or worker
    # process for the kernel's 15-minute retransmission limit: connects and unanswered writes give up in seconds.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        connect_timeout=env_int("DATABASE_CONNECT_TIMEOUT", 10),
        keepalives=1, keepalives_idle=30, keepalives_interval=10, keepalives_count=3,
        tcp_user_timeout=env_int("DATABASE_TCP_USER_TIMEOUT_MS", 30000),
    )
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default serves pages while a send writes its ledger in the same file. WAL lets readers go
    # on during a write; IMMEDIATE takes the write lock when a transaction begins, so two writers queue for it
    # (busy timeout) instead of one failing at once with "database is locked" when both upgrade a read lock.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache: CACHE_URL (or REDIS_URL) selects Redis; it must use a different Redis database from the broker.
CACHE_URL = os.environ.get("CACHE_URL") or os.environ.get("REDIS_URL") or ""
if CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": "portal",
            "TIMEOUT": 300,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "portal"}}
# Anonymous page cache (portal.core.cache): whole public pages and feeds, invalidated on every content change.
# On by default only with a shared cache (CACHE_URL), so every web and worker process sees the same invalidation.
PAGE_CACHE_ENABLED = env_bool("PAGE_CACHE_ENABLED", bool(CACHE_URL))
PAGE_CACHE_TIMEOUT = env_int("PAGE_CACHE_TIMEOUT", CORE["PAGE_CACHE_TIMEOUT"])
PAGE_CACHE_MAX_AGE = env_int("PAGE_CACHE_MAX_AGE", CORE["PAGE_CACHE_MAX_AGE"])
# Seconds a web process keeps its own copy of an entry before checking Redis again (0: always check).
PAGE_CACHE_LOCAL_SECONDS = float(os.environ.get("PAGE_CACHE_LOCAL_SECONDS") or CORE["PAGE_CACHE_LOCAL_SECONDS"])
# Query parameters that never change a page (campaign tracking), left out of entry keys; "name*" is a prefix.
PAGE_CACHE_IGNORED_PARAMETERS = tuple(
    env_list("PAGE_CACHE_IGNORED_PARAMETERS", ",".join(CORE["PAGE_CACHE_IGNORED_PARAMETERS"]))
)
# Distinct query strings stored per path and content generation; further ones are served uncached.
PAGE_CACHE_MAX_VARIANTS = env_int("PAGE_CACHE_MAX_VARIANTS", CORE["PAGE_CACHE_MAX_VARIANTS"])
# 404s and the site's redirects are stored like pages; at most this many per content generation, all paths together.
PAGE_CACHE_MAX_NOT_FOUND = env_int("PAGE_CACHE_MAX_NOT_FOUND", CORE["PAGE_CACHE_MAX_NOT_FOUND"])
# Template fragments ({% fragment %}: site navigation, article bodies...) cached per viewer class, language and
# content generation (portal.core.fragments); on by default with a shared cache, like the page cache.
FRAGMENT_CACHE_ENABLED = env_bool("FRAGMENT_CACHE_ENABLED", bool(CACHE_URL))
FRAGMENT_CACHE_TIMEOUT = env_int("FRAGMENT_CACHE_TIMEOUT", CORE["FRAGMENT_CACHE_TIMEOUT"])
# Seconds a web process reuses site-wide answers (restrictions, the privacy gate's closed paths, homes) read
# under an unchanged content generation (portal.core.memo); 0: once per request only. Needs a shared cache.
CONTENT_MEMO_SECONDS = float(
    os.environ.get("CONTENT_MEMO_SECONDS") or (30 if CACHE_URL else CORE["CONTENT_MEMO_SECONDS"])
)

# Site search (portal.pages.search): rendered results kept per query, type, page, language, viewer class and content
# generation while fragments are cached; at most this many searches per generation (random queries cannot fill
# the cache). Search counts for the promoted-results statistics are written in batches every this many seconds
# per web process (0: each search at once).
SEARCH_CACHE_MAX_ENTRIES = env_int("SEARCH_CACHE_MAX_ENTRIES", 1000)
SEARCH_HITS_FLUSH_SECONDS = float(os.environ.get("SEARCH_HITS_FLUSH_SECONDS") or (10 if CACHE_URL else 0))
# URLs in one sitemap file; with more, /sitemap.xml is an index of files of at most this many (protocol: 50,000).
SITEMAP_PAGE_SIZE = env_int("SITEMAP_PAGE_SIZE", 5000)

# Sessions: with a shared cache, read from it and written to both it and the database ("cached_db"), so a
# signed-in member's request reads no session row. Without one (a per-process cache) a logout in one process
# would not reach the others: the database alone.
SESSION_ENGINE = os.environ.get("SESSION_ENGINE") or (
    "django.contrib.sessions.backends.cached_db" if CACHE_URL else "django.contrib.sessions.backends.db"
)
# Seconds a signed-in member (not staff) is kept in the shared cache with their groups and permissions
# (portal.members.user_cache); every change to them drops the copy at once, this only bounds a change made
# without signals. 0: read from the database on every request (the default without a shared cache).
AUTH_USER_CACHE_SECONDS = env_int("AUTH_USER_CACHE_SECONDS", 300 if CACHE_URL else 0)

# Request guard (portal.core.request_guard): longest query string (bytes) and query value (characters) accepted.
REQUEST_GUARD_MAX_QUERY_LENGTH = env_int("REQUEST_GUARD_MAX_QUERY_LENGTH", CORE["REQUEST_GUARD_MAX_QUERY_LENGTH"])
REQUEST_GUARD_MAX_VALUE_LENGTH = env_int("REQUEST_GUARD_MAX_VALUE_LENGTH", CORE["REQUEST_GUARD_MAX_VALUE_LENGTH"])

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Languages: the interface and the content languages editors may translate pages into (WAGTAIL_I18N_ENABLED).
# PORTAL_LANGUAGES lists language codes; the first one is the default (and the language of untranslated pages).
PORTAL_LANGUAGE_NAMES = {
    "en": "English", "fr": "Français", "de": "Deutsch", "es": "Español", "nl": "Nederlands", "it": "Italiano",
    "pl": "Polski", "pt": "Português", "sv": "Svenska", "da": "Dansk", "fi": "Suomi", "cs": "Čeština",
    "el": "Ελληνικά", "hu": "Magyar", "ro": "Română", "bg": "Български", "hr": "Hrvatski", "sk": "Slovenčina",
    "sl": "Slovenščina", "lt": "Lietuvių", "lv": "Latviešu", "et": "Eesti",
}
_portal_languages = env_list("PORTAL_LANGUAGES", "en,fr,de,es,nl,it,pl")
LANGUAGES = [(code, PORTAL_LANGUAGE_NAMES.get(code, code)) for code in _portal_languages]
WAGTAIL_CONTENT_LANGUAGES = LANGUAGES
WAGTAIL_I18N_ENABLED = True
LANGUAGE_CODE = _portal_languages[0] if _portal_languages else "en"
LANGUAGE_COOKIE_NAME = "portal_language"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
]
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
STATIC_URL = "/static/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "/media/"
# /media/ is always answered by the portal (portal.core.media), which asks the privacy gate; the web server must
# not map it. With nginx, set this to an internal location (e.g. /protected-media/) aliased to MEDIA_ROOT and the
# file is handed over with X-Accel-Redirect after the check.
MEDIA_ACCEL_REDIRECT_PREFIX = os.environ.get("MEDIA_ACCEL_REDIRECT_PREFIX", CORE["MEDIA_ACCEL_REDIRECT_PREFIX"])
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000

# Email: SMTP settings from the environment.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
# The demo's sender is on a reserved example domain, never "localhost" (mail providers and RFC 5322 want a domain).
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Hotline Network Portal <newsletter@example.org>")
SERVER_EMAIL = os.environ.get("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
# The domain after "@" in every Message-ID (Django's and the newsletter's own); default: the sender's domain, not
# the machine's name (often "localhost" in a container). Django's SMTP client also greets the server (EHLO) with it.
EMAIL_MESSAGE_ID_DOMAIN = os.environ.get("EMAIL_MESSAGE_ID_DOMAIN", "") or (
    DEFAULT_FROM_EMAIL.rpartition("@")[2].strip(" >") or "example.org"
)
EMAIL_REPLY_TO = env_list("EMAIL_REPLY_TO")

# Newsletter subscriptions (double opt-in, links, limits). Rates are "count/seconds".
NEWSLETTER_FROM_EMAIL = os.environ.get("NEWSLETTER_FROM_EMAIL", DEFAULT_FROM_EMAIL)
NEWSLETTER_UNSUBSCRIBE_MAILTO = os.environ.get("NEWSLETTER_UNSUBSCRIBE_MAILTO", "")  # default: the sender's address
NEWSLETTER_LIST_ID = os.environ.get("NEWSLETTER_LIST_ID", "")  # default: newsletter.<SITE_URL host>
NEWSLETTER_CONFIRM_TOKEN_MAX_AGE = env_int("NEWSLETTER_CONFIRM_TOKEN_MAX_AGE", 3 * 24 * 3600)
# Click links (newsletter.services.engagement): a fetch this soon after delivery is a link scanner, not a reader;
# extra scanner user-agent patterns (regular expressions, comma-separated).
NEWSLETTER_CLICK_SCANNER_SECONDS = env_int("NEWSLETTER_CLICK_SCANNER_SECONDS", 10)
NEWSLETTER_CLICK_SCANNER_AGENTS = env_list("NEWSLETTER_CLICK_SCANNER_AGENTS")
NEWSLETTER_CONFIRMATION_RESEND_COOLDOWN = env_int("NEWSLETTER_CONFIRMATION_RESEND_COOLDOWN", 600)
NEWSLETTER_PENDING_MAX_AGE_DAYS = env_int("NEWSLETTER_PENDING_MAX_AGE_DAYS", 30)
NEWSLETTER_RATE_LIMIT_IP = os.environ.get("NEWSLETTER_RATE_LIMIT_IP", "20/3600")
NEWSLETTER_RATE_LIMIT_ADDRESS = os.environ.get("NEWSLETTER_RATE_LIMIT_ADDRESS", "5/3600")
# Requested preferences, export and erase links emailed to one address (newsletter.services.privacy.request_link).
NEWSLETTER_RATE_LIMIT_LINKS = os.environ.get("NEWSLETTER_RATE_LIMIT_LINKS", "5/3600")
# Test sends go to staff accounts' addresses, or to these (addresses, or "@domain" for a whole domain); a
# draft reaches the latter only once moderated (published) unless a moderator sends the test.
NEWSLETTER_TEST_RECIPIENTS = env_list("NEWSLETTER_TEST_RECIPIENTS")
NEWSLETTER_TEST_SEND_RATE_USER = os.environ.get("NEWSLETTER_TEST_SEND_RATE_USER", "10/3600")
NEWSLETTER_TEST_SEND_RATE_ISSUE = os.environ.get("NEWSLETTER_TEST_SEND_RATE_ISSUE", "30/3600")
# Default: every content language (Polish was missing from a hand-kept list).
NEWSLETTER_LANGUAGES = env_list("NEWSLETTER_LANGUAGES", ",".join(_portal_languages))
# Keys the hashes of IPs and erased addresses; set it before ever rotating SECRET_KEY (defaults to SECRET_KEY).
NEWSLETTER_HASH_SECRET = os.environ.get("NEWSLETTER_HASH_SECRET", "")
# Number of reverse proxies in front of the app whose X-Forwarded-For entries are trusted (0: use REMOTE_ADDR).
NEWSLETTER_TRUSTED_PROXY_COUNT = env_int("NEWSLETTER_TRUSTED_PROXY_COUNT", 0)

# Celery: with no CELERY_BROKER_URL, tasks run eagerly in-process (the embedded default).
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
if CELERY_TASK_ALWAYS_EAGER:
    # Celery opens a producer even for an eager task; with no URL kombu falls back to amqp://localhost and logs
    # "No hostname was supplied" on every email. The in-memory transport is what eager mode needs (no network);
    # it ignores the host, but kombu warns unless one is named.
    CELERY_BROKER_URL = "memory://localhost/"
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or None
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 300)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 360)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Redis redelivers unacknowledged (acks_late) messages after this many seconds.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600)}
# Periodic tasks run by `celery -A portal beat` (seconds between runs).
CELERY_BEAT_SCHEDULE: dict = {
    "publish-scheduled-pages": {"task": "portal.core.tasks.publish_scheduled_pages", "schedule": 60.0},
    "newsletter-delete-stale-pending": {
        "task": "newsletter.tasks.delete_stale_pending_subscribers", "schedule": 6 * 3600.0,
    },
    # Starts scheduled sends at their time and resumes sends whose workers died (after their lease expired).
    # The monthly digest of the previous month, on the first of each month at 07:00.
    "newsletter-monthly-digest": {
        "task": "newsletter.tasks.send_monthly_digest", "schedule": crontab(day_of_month="1", hour="7", minute="0"),
    },
    # Bounces, complaints and mailed unsubscribes (does nothing unless NEWSLETTER_BOUNCE_IMAP_HOST is set).
    "newsletter-bounce-mailbox": {
        "task": "newsletter.tasks.read_bounce_mailbox",
        "schedule": float(env_int("NEWSLETTER_BOUNCE_MAILBOX_SECONDS", 300)),
    },
    "newsletter-tick-sends": {
        "task": "newsletter.tasks.tick_sends", "schedule": float(env_int("NEWSLETTER_TICK_SECONDS", 15)),
    },
    # Mailchimp (each does nothing unless MAILCHIMP_API_KEY and MAILCHIMP_AUDIENCE_ID are set).
    "mailchimp-sync": {"task": "newsletter.tasks.mailchimp_sync",
                       "schedule": float(env_int("MAILCHIMP_SYNC_SECONDS", 900))},
    "mailchimp-full-sync": {"task": "newsletter.tasks.mailchimp_sync", "kwargs": {"full": True},
                            "schedule": crontab(day_of_week="sun", hour="3", minute="30")},
    "mailchimp-reports": {"task": "newsletter.tasks.mailchimp_reports", "schedule": 3600.0},
    # Deadline reminders for reporting periods: hourly, so a missed run is caught up the same day; each
    # reminder is recorded and goes out once.
    "contributions-deadline-reminders": {"task": "portal.contributions.tasks.send_deadline_reminders",
                                         "schedule": 3600.0},
    # Embargoed figures go into their datasets at their release time (all channels read the dataset).
    "contributions-release-figures": {"task": "portal.contributions.tasks.release_due_figures", "schedule": 60.0},
    "mailchimp-hand-over-scheduled": {"task": "newsletter.tasks.mailchimp_hand_over_scheduled", "schedule": 60.0},
}

# Newsletter delivery: batch size, worker leases, retries, throttling (across all workers), error threshold.
NEWSLETTER_BACKEND = os.environ.get("NEWSLETTER_BACKEND", "smtp")
NEWSLETTER_EMAIL_BACKEND = os.environ.get("NEWSLETTER_EMAIL_BACKEND") or None
NEWSLETTER_BATCH_SIZE = env_int("NEWSLETTER_BATCH_SIZE", 100)
NEWSLETTER_PARALLEL_BATCHES = env_int("NEWSLETTER_PARALLEL_BATCHES", 2)
# Sending is mostly waiting on the mail server: each task keeps this many batches going, one connection each.
NEWSLETTER_CONNECTIONS_PER_TASK = env_int("NEWSLETTER_CONNECTIONS_PER_TASK", 4)
NEWSLETTER_LEASE_SECONDS = env_int("NEWSLETTER_LEASE_SECONDS", 120)
NEWSLETTER_MARK_RETRY_SECONDS = env_int("NEWSLETTER_MARK_RETRY_SECONDS", 240)
NEWSLETTER_TASK_BUDGET = env_int("NEWSLETTER_TASK_BUDGET", 60)
NEWSLETTER_MAX_ATTEMPTS = env_int("NEWSLETTER_MAX_ATTEMPTS", 5)
NEWSLETTER_RETRY_BASE_SECONDS = env_int("NEWSLETTER_RETRY_BASE_SECONDS", 30)
NEWSLETTER_RETRY_MAX_SECONDS = env_int("NEWSLETTER_RETRY_MAX_SECONDS", 3600)
NEWSLETTER_RATE_PER_SECOND = float(os.environ["NEWSLETTER_RATE_PER_SECOND"]) if os.environ.get(
    "NEWSLETTER_RATE_PER_SECOND") else None
NEWSLETTER_WINDOW_CAP = env_int("NEWSLETTER_WINDOW_CAP", 0) or None
NEWSLETTER_WINDOW_SECONDS = env_int("NEWSLETTER_WINDOW_SECONDS", 3600)
NEWSLETTER_ERROR_THRESHOLD = float(os.environ.get("NEWSLETTER_ERROR_THRESHOLD") or 0.2)
NEWSLETTER_ERROR_MIN_ATTEMPTS = env_int("NEWSLETTER_ERROR_MIN_ATTEMPTS", 50)
# What comes back (newsletter.services.bounces): each message's envelope sender is this address with a token
# (bounces+<token>@domain, VERP); unset: bounces go to the From address and are not read. The mailbox the
# bounces (and mailto unsubscribes) arrive in is read over IMAP every NEWSLETTER_BOUNCE_MAILBOX_SECONDS.
NEWSLETTER_BOUNCE_ADDRESS = os.environ.get("NEWSLETTER_BOUNCE_ADDRESS", "")
NEWSLETTER_SOFT_BOUNCE_LIMIT = env_int("NEWSLETTER_SOFT_BOUNCE_LIMIT", 3)  # soft bounces within the window clean
NEWSLETTER_SOFT_BOUNCE_DAYS = env_int("NEWSLETTER_SOFT_BOUNCE_DAYS", 30)
NEWSLETTER_BOUNCE_IMAP_HOST = os.environ.get("NEWSLETTER_BOUNCE_IMAP_HOST", "")  # unset: the mailbox is not read
NEWSLETTER_BOUNCE_IMAP_PORT = env_int("NEWSLETTER_BOUNCE_IMAP_PORT", 993)
NEWSLETTER_BOUNCE_IMAP_SECURITY = os.environ.get("NEWSLETTER_BOUNCE_IMAP_SECURITY", "ssl")  # ssl, starttls, none
NEWSLETTER_BOUNCE_IMAP_USER = os.environ.get("NEWSLETTER_BOUNCE_IMAP_USER", "")
NEWSLETTER_BOUNCE_IMAP_PASSWORD = os.environ.get("NEWSLETTER_BOUNCE_IMAP_PASSWORD", "")
NEWSLETTER_BOUNCE_IMAP_FOLDER = os.environ.get("NEWSLETTER_BOUNCE_IMAP_FOLDER", "INBOX")
NEWSLETTER_BOUNCE_IMAP_DONE_FOLDER = os.environ.get("NEWSLETTER_BOUNCE_IMAP_DONE_FOLDER", "Processed")
NEWSLETTER_BOUNCE_IMAP_UNREADABLE_FOLDER = os.environ.get("NEWSLETTER_BOUNCE_IMAP_UNREADABLE_FOLDER", "Unreadable")
NEWSLETTER_BOUNCE_IMAP_TIMEOUT = env_int("NEWSLETTER_BOUNCE_IMAP_TIMEOUT", 60)
NEWSLETTER_BOUNCE_MAILBOX_BATCH = env_int("NEWSLETTER_BOUNCE_MAILBOX_BATCH", 500)  # messages per run at most
NEWSLETTER_BOUNCE_MAILBOX_SECONDS = env_int("NEWSLETTER_BOUNCE_MAILBOX_SECONDS", 300)

# Email service providers through django-anymail: sending (EMAIL_BACKEND or NEWSLETTER_EMAIL_BACKEND set to an
# anymail backend, e.g. anymail.backends.postmark.EmailBackend) and tracking webhooks
# (/newsletter/webhooks/<provider>/tracking/). Every ANYMAIL_<NAME> variable becomes ANYMAIL["<NAME>"], e.g.
# ANYMAIL_WEBHOOK_SECRET=user:password (comma-separated to rotate), ANYMAIL_POSTMARK_SERVER_TOKEN,
# ANYMAIL_MAILGUN_API_KEY, ANYMAIL_MAILGUN_WEBHOOK_SIGNING_KEY. A webhook stays off (404) until it is secured.
def _anymail_value(name: str, value: str):
    if value.lower() in {"true", "false"}:
        return value.lower() == "true"
    if name == "WEBHOOK_SECRET" and "," in value:
        return split_list(value)
    return value


ANYMAIL = {
    name.removeprefix("ANYMAIL_"): _anymail_value(name.removeprefix("ANYMAIL_"), value)
    for name, value in os.environ.items() if name.startswith("ANYMAIL_") and value
}

# Mailchimp (newsletter.mailchimp): delivery backend (NEWSLETTER_BACKEND=mailchimp) and audience sync.
MAILCHIMP_API_KEY = os.environ.get("MAILCHIMP_API_KEY", "")
MAILCHIMP_SERVER_PREFIX = os.environ.get("MAILCHIMP_SERVER_PREFIX", "")  # e.g. us21; default: from the key
MAILCHIMP_AUDIENCE_ID = os.environ.get("MAILCHIMP_AUDIENCE_ID", "")
# Replaces the client's base URL (tests, proxies). Must not contain the word "server": the client rewrites it.
MAILCHIMP_API_BASE = os.environ.get("MAILCHIMP_API_BASE", "")
MAILCHIMP_WEBHOOK_SECRET = os.environ.get("MAILCHIMP_WEBHOOK_SECRET", "")
# Webhook events dated further than this (seconds) in the future are ignored (their fired_at is not trusted).
MAILCHIMP_WEBHOOK_CLOCK_SKEW = env_int("MAILCHIMP_WEBHOOK_CLOCK_SKEW", 300)
MAILCHIMP_TIMEOUT = env_int("MAILCHIMP_TIMEOUT", 120)  # seconds to wait for an answer (Mailchimp's own limit)
MAILCHIMP_MAX_CONNECTIONS = env_int("MAILCHIMP_MAX_CONNECTIONS", 10)  # Mailchimp allows 10 per API key
MAILCHIMP_MAX_RETRIES = env_int("MAILCHIMP_MAX_RETRIES", 4)  # per request, on 429/5xx/timeouts
MAILCHIMP_RETRY_BASE_SECONDS = float(os.environ.get("MAILCHIMP_RETRY_BASE_SECONDS") or 1)
MAILCHIMP_RETRY_MAX_SECONDS = float(os.environ.get("MAILCHIMP_RETRY_MAX_SECONDS") or 60)
MAILCHIMP_REPORT_DAYS = env_int("MAILCHIMP_REPORT_DAYS", 5)
MAILCHIMP_SYNC_SECONDS = env_int("MAILCHIMP_SYNC_SECONDS", 900)

# Wagtail
WAGTAIL_SITE_NAME = "Hotline Network Portal"
WAGTAILADMIN_BASE_URL = SITE_URL
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILDOCS_EXTENSIONS = ["csv", "docx", "odt", "pdf", "pptx", "rtf", "txt", "xlsx"]
WAGTAILDOCS_MAX_UPLOAD_SIZE = 20 * 1024 * 1024
# Documents are always served through Wagtail's view so privacy checks apply (never a direct media URL).
WAGTAILDOCS_SERVE_METHOD = "serve_view"
WAGTAILIMAGES_EXTENSIONS = ["png", "jpg", "jpeg", "webp", "svg"]
WAGTAILAPI_BASE_URL = SITE_URL
WAGTAILAPI_LIMIT_MAX = 100
WAGTAIL_ENABLE_UPDATE_CHECK = False
# Shared-password privacy stores passwords in plain text: only login and group restrictions are offered.
WAGTAIL_PRIVATE_PAGE_OPTIONS = {"SHARED_PASSWORD": False}
WAGTAILDOCS_PRIVATE_COLLECTION_OPTIONS = {"SHARED_PASSWORD": False}
WAGTAIL_FRONTEND_LOGIN_URL = "/members/login/"
# Staff cannot change their own email address in the admin (an administrator does): an account's address is
# where its password resets go and what makes it a staff address for test sends (docs/security.md).
WAGTAIL_EMAIL_MANAGEMENT_ENABLED = False

# Members and accounts (portal.members)
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # must be first: refuses locked-out credentials
    "portal.members.backends.MemberBackend",  # refuses members of inactive organisations
]
LOGIN_URL = "/members/login/"
LOGIN_REDIRECT_URL = "/members/"
LOGOUT_REDIRECT_URL = "/"
MEMBERS_INVITATION_MAX_AGE_DAYS = env_int("MEMBERS_INVITATION_MAX_AGE_DAYS", 7)
MEMBERS_DOCUMENTS_COLLECTION = "Members' documents"
# Member contributions (portal.contributions): a figure more than this factor above or below the organisation's
# previous period needs a comment; reminders go this many days before a period's deadline (and on the day).
CONTRIBUTIONS_JUMP_FACTOR = os.environ.get("CONTRIBUTIONS_JUMP_FACTOR", "3")
CONTRIBUTIONS_REMINDER_DAYS = env_int("CONTRIBUTIONS_REMINDER_DAYS", 7)
CONTRIBUTIONS_MAX_UPLOAD_BYTES = env_int("CONTRIBUTIONS_MAX_UPLOAD_BYTES", 200_000)
# Staff (anyone who can use the admin) must pass a TOTP check; on by default in production only.
STAFF_2FA_REQUIRED = env_bool("STAFF_2FA_REQUIRED", False)
OTP_TOTP_ISSUER = WAGTAIL_SITE_NAME
# Members of these groups read restricted content only after a second factor (TOTP) in the session; until then
# the privacy gate treats them as anonymous visitors. Comma-separated group names; empty turns it off.
PRIVACY_SECOND_FACTOR_GROUPS = env_list("PRIVACY_SECOND_FACTOR_GROUPS", ",".join(CORE["PRIVACY_SECOND_FACTOR_GROUPS"]))
# Login throttling (django-axes): five failures for one account (whatever identifier or letter case was typed,
# from any address) lock it for an hour, and so do five failures from one address (whatever accounts it tried).
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = 1  # hours
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_USERNAME_CALLABLE = "portal.members.backends.lockout_username"
AXES_CLIENT_IP_CALLABLE = "portal.members.backends.lockout_ip_address"  # honours NEWSLETTER_TRUSTED_PROXY_COUNT
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "members/locked_out.html"
AXES_DISABLE_ACCESS_LOG = True  # keep no record of successful logins (personal data we do not need)
AXES_VERBOSE = False
WAGTAILEMBEDS_RESPONSIVE_HTML = True

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Security headers (portal.core.security; production turns the middleware on): django-csp 4 policies for the
# public site (no inline script) and the Wagtail admin (its editor needs inline scripts), and Permissions-Policy.
_EMBED_HOSTS = ["https://www.youtube-nocookie.com", "https://www.youtube.com", "https://player.vimeo.com"]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"], "script-src": ["'self'"], "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"], "font-src": ["'self'"], "connect-src": ["'self'"], "frame-src": _EMBED_HOSTS,
        "object-src": ["'none'"], "base-uri": ["'self'"], "form-action": ["'self'"], "frame-ancestors": ["'none'"],
    },
}
CONTENT_SECURITY_POLICY_ADMIN = {
    "DIRECTIVES": {
        "default-src": ["'self'"], "script-src": ["'self'", "'unsafe-inline'", "'unsafe-eval'"],
        "style-src": ["'self'", "'unsafe-inline'"], "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"], "connect-src": ["'self'"], "frame-src": ["'self'", "https:"],
        "object-src": ["'none'"], "base-uri": ["'self'"], "form-action": ["'self'"], "frame-ancestors": ["'self'"],
    },
}
SECURITY_HEADERS_MIDDLEWARE = [
    "portal.core.security.PortalCSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
]
PERMISSIONS_POLICY = {"camera": [], "microphone": [], "geolocation": [], "payment": [], "usb": [],
                      "interest-cohort": []}

