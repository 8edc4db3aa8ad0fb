"""The official ``mailchimp-marketing`` client, configured from settings and wrapped for safe use.

* Configuration: ``MAILCHIMP_API_KEY``, ``MAILCHIMP_SERVER_PREFIX`` (e.g. ``us21``), ``MAILCHIMP_AUDIENCE_ID`` and an
  optional ``MAILCHIMP_API_BASE`` that replaces ``client.api_client.host`` (tests, proxies). The client replaces
  the word "server" anywhere in a URL with the prefix, so the base must not contain that word.
* Timeouts: 10 s to connect, ``MAILCHIMP_TIMEOUT`` (120 s, Mailchimp's own limit) to read.
* Errors become our own exceptions (:class:`MailchimpError` and subclasses). The client returns a raw
  ``requests.Response`` instead of raising when an error answer has an empty body; that is handled too.
* 429 and 5xx answers, timeouts and dropped connections are retried with exponential backoff and jitter; when
  they persist, :class:`MailchimpUnavailable` tells the caller to wait and try again later (nothing is lost).
* At most ``MAILCHIMP_MAX_CONNECTIONS`` (10, Mailchimp's limit per key) requests run at once: a semaphore in the
  process plus slots in the shared cache across processes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import threading
import time
from collections.abc import Callable
from typing import Any

from django.core.cache import cache

import mailchimp_marketing
import requests
from mailchimp_marketing.api_client import ApiClientError

from newsletter.conf import conf

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT = 10


class MailchimpError(Exception):
    """An error answer from Mailchimp (RFC 7807 problem document) or a failure to reach it."""

    default_detail = ""  # when the answer says nothing

    def __init__(self, detail: str, *, status: int | None = None, title: str = "", request_id: str = "",
                 errors: list | None = None):
        super().__init__(f"{status or 'no answer'} {title}: {detail}".strip())
        self.status, self.title, self.detail = status, title, detail
        self.request_id, self.errors = request_id, errors or []


class MailchimpNotConfigured(MailchimpError):
    """API key or audience missing from the settings."""


class MailchimpUnavailable(MailchimpError):
    """Temporary trouble (429, 5xx, timeout, connection): try again later."""

    default_detail = "temporary error"


class MailchimpNotFound(MailchimpError):
    """404: the list, member or campaign does not exist."""


class MailchimpRejected(MailchimpError):
    """Any other 4xx: the request itself is wrong and retrying will not help."""


# The exception for an error answer's status; any other 5xx is MailchimpUnavailable, any other 4xx MailchimpRejected.
_ERROR_BY_STATUS: dict[int, type[MailchimpError]] = {404: MailchimpNotFound, 429: MailchimpUnavailable}


def subscriber_hash(email: str) -> str:
    """Mailchimp's member id: md5 of the lowercased address."""
    return hashlib.md5(email.strip().lower().encode()).hexdigest()  # noqa: S324 - Mailchimp's scheme, not security


def audience_id() -> str:
    value = conf.MAILCHIMP_AUDIENCE_ID
    if not value:
        raise MailchimpNotConfigured("MAILCHIMP_AUDIENCE_ID is not set.")
    return value


def is_configured() -> bool:
    return bool(conf.MAILCHIMP_API_KEY and conf.MAILCHIMP_AUDIENCE_ID)


def _error_from(exc: ApiClientError | None = None, response: requests.Response | None = None) -> MailchimpError:
    """Map the client's error (or a raw response with an empty body) to one of our exceptions."""
    if response is not None:
        return _error_for_status(response.status_code, response.reason, request_id=_request_id(response))
    if exc.status_code is None:  # the request never got an answer: timeout, refused or dropped connection
        return MailchimpUnavailable(str(exc.text) or "no answer", status=None, title="Connection failed")
    problem = _problem_of(exc.text)
    text = exc.text if isinstance(exc.text, str) else ""
    return _error_for_status(exc.status_code, problem.get("detail") or text, title=problem.get("title", ""),
                             errors=problem.get("errors"), request_id=problem.get("instance") or "")


def _error_for_status(status: int, detail: str, **details) -> MailchimpError:
    """The exception for an error answer: temporary (429, 5xx), not found (404) or rejected (other 4xx)."""
    error_class = MailchimpUnavailable if status >= 500 else _ERROR_BY_STATUS.get(status, MailchimpRejected)
    return error_class(detail or error_class.default_detail, status=status, **details)


def _problem_of(body) -> dict:
    """Mailchimp's problem document (RFC 7807) in an error body: given as a dict, as JSON text, or none."""
    if isinstance(body, dict):
        return body
    if not isinstance(body, str) or not body.strip().startswith("{"):
        return {}
    try:
        return json.loads(body)
    except ValueError:
        return {}


def _request_id(response: requests.Response) -> str:
    return response.headers.get("X-Request-Id", "")


# --- Concurrency limit ----------------------------------------------------------------------------------------------

_local_slots: dict[str, threading.BoundedSemaphore] = {}
_local_lock = threading.Lock()


class _Slot:
    """One of the ``MAILCHIMP_MAX_CONNECTIONS`` connections allowed per API key (process and shared cache)."""

    def __init__(self, key: str):
        self.limit = int(conf.MAILCHIMP_MAX_CONNECTIONS)
        self.key = hashlib.sha256(key.encode()).hexdigest()[:16]
        with _local_lock:
            self.semaphore = _local_slots.setdefault(self.key, threading.BoundedSemaphore(self.limit))
        self.cache_key = ""

    def __enter__(self):
        self.semaphore.acquire()
        ttl = int(conf.MAILCHIMP_TIMEOUT) + CONNECT_TIMEOUT + 5
        deadline = time.monotonic() + ttl
        # Slots held by dead processes expire: past the deadline, go on without one rather than wait forever.
        while not self._claim_shared_slot(ttl) and time.monotonic() <= deadline:
            time.sleep(0.02)
        return self

    def _claim_shared_slot(self, ttl: int) -> bool:
        """Take a free slot in the shared cache. True as well when the cache fails (the semaphore still limits)."""
        for number in range(self.limit):
            candidate = f"mailchimp:slot:{self.key}:{number}"
            try:
                if cache.add(candidate, 1, timeout=ttl):
                    self.cache_key = candidate
                    return True
            except Exception:
                return True
        return False

    def __exit__(self, *exc):
        if self.cache_key:
            try:
                cache.delete(self.cache_key)
            except Exception:
                logger.warning("Could not release a Mailchimp connection slot")
        self.semaphore.release()


# --- The wrapper ----------------------------------------------------------------------------------------------------


def _given_or(value, setting):
    """An argument given to the client (even empty), else the setting."""
    return value if value is not None else setting


def _server_prefix(api_key: str, server: str | None) -> str:
    """The data centre (``us21``): given, else ``MAILCHIMP_SERVER_PREFIX``, else the API key's suffix."""
    return server or conf.MAILCHIMP_SERVER_PREFIX or (api_key.rsplit("-", 1)[1] if "-" in api_key else "")


def _checked_base(base: str) -> str:
    """``MAILCHIMP_API_BASE`` as the client's host; refused if it holds the word the client rewrites."""
    if "server" in base:
        raise MailchimpNotConfigured("MAILCHIMP_API_BASE must not contain the word 'server' (the client rewrites it).")
    return base.rstrip("/")


class Mailchimp:
    """The configured official client plus retries, the connection limit and error mapping.

    ``api.call(lambda c: c.lists.get_list(list_id))`` runs one request; ``calls`` counts HTTP requests made.
    """

    def __init__(self, *, api_key: str | None = None, server: str | None = None, base: str | None = None,
                 max_retries: int | None = None):
        api_key = _given_or(api_key, conf.MAILCHIMP_API_KEY)
        if not api_key:
            raise MailchimpNotConfigured("MAILCHIMP_API_KEY is not set.")
        self.client = mailchimp_marketing.Client({"api_key": api_key, "server": _server_prefix(api_key, server)})
        base = _given_or(base, conf.MAILCHIMP_API_BASE)
        if base:
            self.client.api_client.host = _checked_base(base)
        self.client.api_client.timeout = (CONNECT_TIMEOUT, float(conf.MAILCHIMP_TIMEOUT))
        self.api_key = api_key
        self.max_retries = int(_given_or(max_retries, conf.MAILCHIMP_MAX_RETRIES))
        self.calls = 0

    def backoff(self, attempt: int) -> float:
        """base · 2^attempt, capped, times a random factor in [0.5, 1.5)."""
        base = float(conf.MAILCHIMP_RETRY_BASE_SECONDS)
        cap = float(conf.MAILCHIMP_RETRY_MAX_SECONDS)
        return min(cap, base * 2 ** attempt) * (0.5 + random.random())  # noqa: S311 - jitter, not crypto

    def call(self, operation: Callable[[mailchimp_marketing.Client], Any], *, retry: bool = True) -> Any:
        """Run one API call; returns the decoded JSON body, or None for an empty success (204).

        ``retry=False`` retries only 429 (the request was not processed); use it for creations that must not
        happen twice when a connection drops after Mailchimp acted.
        """
        for attempt in range(self.max_retries):
            try:
                return self._once(operation)
            except MailchimpUnavailable as exc:
                if not _retriable(exc, retry):
                    raise
                delay = self.backoff(attempt)
                logger.info("Mailchimp: %s; retrying in %.2fs", exc, delay)
                time.sleep(delay)
        return self._once(operation)  # the last try: its error goes to the caller

    def _once(self, operation):
        with _Slot(self.api_key):
            self.calls += 1
            try:
                result = operation(self.client)
            except ApiClientError as exc:
                raise _error_from(exc) from None
        return _body_of(result)

    # Convenience shortcuts used across the package.

    def ping(self) -> dict:
        return self.call(lambda c: c.ping.get())


def _body_of(result):
    """The decoded answer. The client returns a raw response for an empty body: None when it is a success."""
    if not isinstance(result, requests.Response):
        return result
    if result.ok:
        return None
    raise _error_from(response=result)


def _retriable(exc: MailchimpUnavailable, retry: bool) -> bool:
    """Whether to try again: any temporary error with ``retry``, else only 429 (Mailchimp did not process it)."""
    return retry or exc.status == 429


def get_client(**kwargs) -> Mailchimp:
    return Mailchimp(**kwargs)
