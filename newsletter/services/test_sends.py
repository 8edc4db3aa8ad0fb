"""Who may receive a test send of an issue, and how often (issue 17, point 6).

A test shows the editor's draft, from the newsletter's own sender address, so it must not become a way to mail
unreviewed content to anyone: tests go to staff accounts' addresses, or to the configured
``NEWSLETTER_TEST_RECIPIENTS`` (addresses, or ``@domain`` entries); a draft with unpublished (so unmoderated)
changes reaches those outside addresses only when a moderator (someone who may publish the issue) sends it.
Tests are rate-limited per user and per issue and audit-logged by the caller.
"""

from __future__ import annotations

import functools
import operator

from django.contrib.auth import get_user_model

from newsletter.conf import conf
from newsletter.services import ratelimit


class TestSendRefused(Exception):
    """A test send that may not go out; the message says why, for the form."""


def staff_addresses(addresses: list[str]) -> set[str]:
    """Those of ``addresses`` (lower-cased) that belong to an active account able to use the admin."""
    from django.db.models import Q

    query = functools.reduce(operator.or_, (Q(email__iexact=address) for address in {a.lower() for a in addresses}),
                             Q())
    users = get_user_model().objects.filter(query, is_active=True).prefetch_related("groups__permissions")
    return {user.email.lower() for user in users if _uses_admin(user)}


def _uses_admin(user) -> bool:
    return user.is_staff or user.is_superuser or user.has_perm("wagtailadmin.access_admin")


def configured_address(address: str) -> bool:
    """Whether an address is on ``NEWSLETTER_TEST_RECIPIENTS`` (as itself or by its ``@domain``)."""
    entries = {entry.strip().lower() for entry in conf.NEWSLETTER_TEST_RECIPIENTS}
    address = address.lower()
    return address in entries or "@" + address.rpartition("@")[2] in entries


def check_test_send(issue, recipients: list[str], user) -> None:
    """Raise ``TestSendRefused`` unless ``user`` may send the issue's current draft to ``recipients`` now.

    Counts against the per-user and per-issue limits only when the addresses are acceptable.
    """
    staff = staff_addresses(recipients)
    outside = [address for address in recipients if address.lower() not in staff]
    _check_configured(outside)
    _check_moderated(issue, outside, user)
    _count_test_send(issue, user)


def _check_configured(outside: list[str]) -> None:
    """Addresses outside the staff must be on the configured test list."""
    not_allowed = [address for address in outside if not configured_address(address)]
    if not_allowed:
        raise TestSendRefused(
            f"Tests go only to staff accounts' addresses or the configured test list; not to {', '.join(not_allowed)}."
        )


def _check_moderated(issue, outside: list[str], user) -> None:
    """An unapproved draft goes to addresses outside the staff only when a moderator sends it."""
    if outside and not _approved_or_moderator(issue, user):
        raise TestSendRefused(
            "This draft has not been approved yet: until a moderator publishes it, tests go to staff addresses "
            f"only (not to {', '.join(outside)}), unless a moderator sends the test."
        )


def _approved_or_moderator(issue, user) -> bool:
    """Whether the issue is published without later changes, or ``user`` may publish it."""
    return (issue.live and not issue.has_unpublished_changes) or issue.permissions_for_user(user).can_publish()


def _count_test_send(issue, user) -> None:
    """Count the test against the per-user and per-issue limits; refuse it when either is exceeded."""
    for scope, identifier, rate, who in (
        ("test-user", str(user.pk), conf.NEWSLETTER_TEST_SEND_RATE_USER, "you"),
        ("test-issue", str(issue.pk), conf.NEWSLETTER_TEST_SEND_RATE_ISSUE, "this issue"),
    ):
        throttled = ratelimit.hit(scope, identifier, rate)
        if throttled:
            minutes = max(1, round(throttled.retry_after / 60))
            raise TestSendRefused(f"Too many test sends by {who} lately: try again in {minutes} minutes.")
