"""Template context shared by every page."""

from django.conf import settings


def portal(request):
    """Site-wide values templates need: the absolute site URL and the site name."""
    return {"SITE_URL": settings.SITE_URL, "PORTAL_SITE_NAME": settings.WAGTAIL_SITE_NAME}
