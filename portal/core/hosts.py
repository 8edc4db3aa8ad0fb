"""Host header checking with ports: Django's ``ALLOWED_HOSTS`` compares host names only.

``Host: portal.example.org:31337`` passes Django's check for ``portal.example.org``. Links in emails are built
on ``SITE_URL`` whatever the Host header says; this middleware also refuses (400) a request whose port is not
one that ``ALLOWED_HOSTS`` names, for hosts where the operator configured ports ("portal.example.org:8443").
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http.request import split_domain_port
from django.utils.http import is_same_domain


def port_allowed(host: str, rules: list[tuple[str, str]]) -> bool:
    """Whether ``host`` ("name" or "name:port") is allowed by the (name pattern, port) rules.

    A name that no rule with a port covers is left to Django's own check; "" stands for "no port given".
    """
    name, port = split_domain_port(host)
    ports = {rule_port for pattern, rule_port in rules if pattern == "*" or is_same_domain(name, pattern)}
    if not any(ports):
        return True
    return port in ports


class HostPortMiddleware:
    """Raise ``DisallowedHost`` (a 400) for a Host header whose port the configuration does not name."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        rules = settings.ALLOWED_HOST_PORTS
        if rules:
            host = request.get_host()  # Django's own name check first
            if not port_allowed(host, rules):
                raise DisallowedHost(f"Invalid HTTP_HOST header: {host!r}. The port is not in ALLOWED_HOSTS.")
        return self.get_response(request)
