"""The request guard: hostile query strings and paths are answered with a 400 before any view reads them.

Every view, Wagtail's API and page routing take query parameters straight into database lookups, and PostgreSQL
refuses a text value holding a NUL byte with an error (a 500 if nothing stops it). Rather than each view cleaning
each parameter, one middleware early in ``MIDDLEWARE`` refuses, with a 400 naming the parameter:

- a query string longer than ``REQUEST_GUARD_MAX_QUERY_LENGTH`` bytes (default 4096);
- a parameter name or value that is not UTF-8 once percent-decoded (Django would quietly put U+FFFD in place
  of the bytes; a browser never sends such a query for our pages, so it is a broken link or a probe);
- a name or value holding a control character (NUL, the other C0 and C1 controls; the whitespace ones, tab,
  line feed, vertical tab, form feed and carriage return, are allowed: a search pasted from a document may
  hold them, and the search view turns them into spaces);
- a value longer than ``REQUEST_GUARD_MAX_VALUE_LENGTH`` characters (default 1000; the longest legitimate one
  is a search of 200 characters or an API ``fields`` list);
- a path holding a control character.

A percent sign that starts no valid escape (``?q=100%``) is kept literally, as browsers and Django do: it
cannot reach the database as anything but text. Values that pass here may still be meaningless for a view
(``?page=-1``, ``?child_of=99999999999999999999``); each view answers those with its own 400, 404 or default.
``tests/fuzz/test_hostile_input.py`` drives every public URL pattern with hostile query strings.
"""

from __future__ import annotations

import json
import unicodedata
from html import escape
from urllib.parse import unquote_to_bytes

from django.http import HttpResponse

from portal.core.conf import conf

# Allowed although they are control characters: whitespace a pasted search term may carry.
_ALLOWED_CONTROLS = frozenset("\t\n\x0b\x0c\r")
# Paths answered with the JSON error body the Wagtail API and the statistics API use.
_API_PREFIXES = ("/api/",)


class HostileInput(ValueError):
    """A query string or path this site refuses to pass to its views; the message names what is wrong."""


def max_query_length() -> int:
    return int(conf.REQUEST_GUARD_MAX_QUERY_LENGTH)


def max_value_length() -> int:
    return int(conf.REQUEST_GUARD_MAX_VALUE_LENGTH)


def has_control_character(text: str) -> bool:
    """Whether ``text`` holds a control character other than the whitespace ones (tab, line and form feeds...)."""
    return any(unicodedata.category(char) == "Cc" and char not in _ALLOWED_CONTROLS for char in text)


def _decoded(raw: bytes, what: str) -> str:
    """One name or value of a query string as the views will see it (``+`` is a space), strictly UTF-8."""
    try:
        return unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        raise HostileInput(f"The query parameter {what} is not valid UTF-8.") from None


def check_query_string(raw: bytes) -> None:
    """Raise ``HostileInput`` if the raw query string (bytes, as the client sent them) must be refused."""
    if not raw:
        return
    if len(raw) > max_query_length():
        raise HostileInput(f"The query string is longer than {max_query_length()} characters.")
    longest = max_value_length()
    # Split as Django's QueryDict does: on "&" only (an empty pair passes every check).
    for pair in raw.split(b"&"):
        _check_parameter(pair, longest)


def _check_parameter(pair: bytes, longest: int) -> None:
    """Raise ``HostileInput`` if one ``name=value`` of a query string must be refused."""
    raw_name, _, raw_value = pair.partition(b"=")
    name = _decoded(raw_name, "name")
    if has_control_character(name):
        raise HostileInput("A query parameter name contains a control character.")
    shown = repr(name[:40])
    value = _decoded(raw_value, shown)
    if has_control_character(value):
        raise HostileInput(f"The query parameter {shown} contains a control character.")
    if len(value) > longest:
        raise HostileInput(f"The query parameter {shown} is longer than {longest} characters.")


def check_request(request) -> None:
    """Raise ``HostileInput`` if the request's path or query string must be refused."""
    if has_control_character(request.path_info):
        raise HostileInput("The address contains a control character.")
    query_string = request.META.get("QUERY_STRING", "")
    try:
        raw = query_string.encode("iso-8859-1")  # WSGI: the bytes as sent, one character each
    except UnicodeEncodeError:
        raw = query_string.encode("utf-8")  # ASGI: Django decoded them as UTF-8
    check_query_string(raw)


def refusal(request, message: str) -> HttpResponse:
    """The 400 response: JSON for the APIs, a small page (no database, no site frame) for everything else."""
    if request.path_info.startswith(_API_PREFIXES):
        # Wagtail's API names the text of an error "message", the statistics API "error": both are given.
        body = json.dumps({"message": message, "error": message})
        response = HttpResponse(body, status=400, content_type="application/json")
    else:
        body = (
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Bad request</title>'
            '<meta name="viewport" content="width=device-width, initial-scale=1"></head><body><main>'
            f"<h1>Bad request</h1><p>{escape(message)}</p>"
            '<p><a href="/">Go to the home page</a></p></main></body></html>'
        )
        response = HttpResponse(body, status=400, content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return response


class RequestGuardMiddleware:
    """Answers hostile paths and query strings with a 400 (place it first, right after SecurityMiddleware)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            check_request(request)
        except HostileInput as refused:
            return refusal(request, str(refused))
        return self.get_response(request)
