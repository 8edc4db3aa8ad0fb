"""Page serving asks the privacy gate: no page is served that the gate would hide from this viewer.

Wagtail's own check (``before_serve_page``) looks only at restrictions on the page's own ancestors. The
portal's rule is wider (``portal.core.privacy.effective_restrictions``: language versions and alias sources
too), so serving goes through :func:`gate_serving`, registered as an ``on_serve_page`` hook, and pages report
their effective restrictions to Wagtail through :class:`EffectiveRestrictionsMixin` (the admin's privacy
indicator and Wagtail's own check then agree with the gate).
"""

from __future__ import annotations

from contextvars import ContextVar

from django.core.exceptions import PermissionDenied
from django.utils.cache import add_never_cache_headers

from wagtail.models import PageViewRestriction

from portal.core import privacy

# The page the gate is serving to a viewer it let in (set only around the rest of the serve chain).
_passed_by_gate: ContextVar[int | None] = ContextVar("portal_passed_by_gate", default=None)


def refusal(page, request):
    """The response for a viewer the gate shuts out of ``page``, or None when they may read it.

    Shared-password restrictions are disabled on this portal: any left over refuse everyone (403). Otherwise
    the visitor is sent to log in (a member lacking the sector, or a second factor, is asked again: Wagtail's
    behaviour for group restrictions).
    """
    rules = privacy.effective_restrictions(page)
    if not rules:
        return None
    viewer = privacy.Viewer.for_user(getattr(request, "user", None))
    failed = viewer.failing(rules)
    if not failed:
        return None
    if any(rule.restriction_type == PageViewRestriction.PASSWORD for rule in failed):
        raise PermissionDenied
    from wagtail.wagtail_hooks import require_wagtail_login

    response = require_wagtail_login(next=request.get_full_path())
    add_never_cache_headers(response)
    return response


def gate_serving(callback):
    """``on_serve_page`` hook: serve a page only to viewers the gate lets in; restricted pages are never
    stored by shared caches."""

    def inner(page, request, serve_args, serve_kwargs):
        response = refusal(page, request)
        if response is not None:
            return response
        token = _passed_by_gate.set(page.pk)
        try:
            response = callback(page, request, serve_args, serve_kwargs)
        finally:
            _passed_by_gate.reset(token)
        if privacy.is_restricted(page):
            add_never_cache_headers(response)
        return response

    return inner


class EffectiveRestrictionsMixin:
    """For page models: ``get_view_restrictions`` answers with the effective restrictions (no query when the
    memoised reach shows that none apply, the common case when serving a public page)."""

    def get_view_restrictions(self):
        if _passed_by_gate.get() == self.pk:
            # Serving, after the gate let this viewer in under the same (wider) rules: Wagtail's own check, run
            # inside the gate's, would read the restrictions, their groups and the user's groups again.
            return PageViewRestriction.objects.none()
        rules = privacy.effective_restrictions(self)
        if not rules:
            return PageViewRestriction.objects.none()
        return PageViewRestriction.objects.filter(pk__in=[rule.id for rule in rules])
