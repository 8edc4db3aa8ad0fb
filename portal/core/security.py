"""Security headers: Content-Security-Policy from django-csp 4, Permissions-Policy from django-permissions-policy.

The policies are settings (``CONTENT_SECURITY_POLICY``, ``CONTENT_SECURITY_POLICY_ADMIN``, ``PERMISSIONS_POLICY``
in ``portal/settings/base.py``); production turns the middleware on. The public site gets a strict policy (no
inline script), the Wagtail admin under ``/admin/`` a looser one, because its editor and StreamField UI rely on
inline scripts and styles. A view that sets its own Content-Security-Policy keeps it.
"""

from django.conf import settings

from csp.middleware import CSPMiddleware, PolicyParts
from csp.utils import default_config

ADMIN_PREFIX = "/admin/"


class PortalCSPMiddleware(CSPMiddleware):
    """django-csp's middleware with the admin's own policy under ``/admin/``."""

    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only=report_only)
        admin = getattr(settings, "CONTENT_SECURITY_POLICY_ADMIN", None)
        if not report_only and parts.config is None and admin and request.path_info.startswith(ADMIN_PREFIX):
            parts.config = default_config(admin.get("DIRECTIVES", {}))
        return parts
