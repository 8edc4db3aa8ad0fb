"""Security headers added in production: Content-Security-Policy and Permissions-Policy.

A small middleware rather than django-csp: the public site gets a strict policy (no inline script), the
Wagtail admin a looser one, because its editor and StreamField UI rely on inline scripts and styles.
"""

from django.conf import settings

DEFAULT_SITE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; "
    "frame-src https://www.youtube-nocookie.com https://www.youtube.com https://player.vimeo.com; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
DEFAULT_ADMIN_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; frame-src 'self' https:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'"
)
DEFAULT_PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"


class SecurityHeadersMiddleware:
    """Set CSP (site or admin policy) and Permissions-Policy unless a view already set them."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.site_csp = getattr(settings, "CSP_SITE_POLICY", DEFAULT_SITE_CSP)
        self.admin_csp = getattr(settings, "CSP_ADMIN_POLICY", DEFAULT_ADMIN_CSP)
        self.permissions_policy = getattr(settings, "PERMISSIONS_POLICY", DEFAULT_PERMISSIONS_POLICY)

    def __call__(self, request):
        response = self.get_response(request)
        policy = self.admin_csp if request.path_info.startswith("/admin/") else self.site_csp
        if policy:
            response.headers.setdefault("Content-Security-Policy", policy)
        if self.permissions_policy:
            response.headers.setdefault("Permissions-Policy", self.permissions_policy)
        return response
