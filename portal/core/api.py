"""The read-only API (Wagtail API v2 at /api/v2/): pages, images and documents, behind the privacy gate.

Pages in every language are listed; Wagtail's own ``?locale=fr`` and ``?translation_of=<id>`` filters narrow
them (each item carries ``meta.locale``).

Wagtail's stock endpoints decide visibility with their own request checks; ours ask the portal's gate
(`portal.core.privacy`) so the API can never show more than the site does to the same viewer.
"""

import re

from django.db.models import Prefetch

from wagtail.api.v2.router import WagtailAPIRouter
from wagtail.api.v2.utils import BadRequestError
from wagtail.api.v2.views import PagesAPIViewSet
from wagtail.api.validators import SiteFilterValidator
from wagtail.documents.api.v2.views import DocumentsAPIViewSet
from wagtail.images.api.v2.views import ImagesAPIViewSet
from wagtail.models import Page

from rest_framework.authentication import SessionAuthentication

from portal.core.models import Sector, Topic
from portal.core.privacy import Viewer, under, visible_documents, visible_pages

# Only the site's own login session counts: HTTP Basic credentials would let anyone try passwords here,
# around the login form's throttling and second factor.
API_AUTHENTICATION = [SessionAuthentication]

# Many-to-many fields exposed through `api_fields`; prefetched so a listing costs a fixed number of queries.
_TAXONOMY_PREFETCH = {"topics": Topic, "sectors": Sector}
_DIGITS = re.compile(r"[0-9]+")


class FindByIdValidated:
    """``find/?id=`` answers a 400 for an id that is not a number (Wagtail passes it to the query as it is,
    which raised a server error)."""

    def find_object(self, queryset, request):
        raw = request.GET.get("id")
        if raw is not None and not _DIGITS.fullmatch(raw):
            raise BadRequestError("id must be a positive integer")
        return super().find_object(queryset, request)


class GatedPagesAPIViewSet(FindByIdValidated, PagesAPIViewSet):
    """Pages endpoint listing only the live pages the requesting user may read (detail 404s otherwise)."""

    authentication_classes = API_AUTHENTICATION

    def get_base_queryset(self):
        """Pages visible to this user on the requested site (or the site serving the request)."""
        queryset = visible_pages(Page.objects.all(), Viewer.for_user(self.request.user))
        try:
            site = SiteFilterValidator(site=self.request.GET.get("site"), request=self.request).site_obj
        except ValueError as exc:
            raise BadRequestError(str(exc)) from exc
        if site is None:
            return queryset.none()
        # Every language version of the site's home heads a tree of that site (`?locale=fr` narrows to one).
        homes = Page.objects.filter(translation_key=site.root_page.translation_key).values_list("path", flat=True)
        return queryset.filter(under(homes))

    def get_queryset(self):
        queryset = super().get_queryset().select_related("locale")  # every item shows its meta.locale
        model = queryset.model
        # Only a single-type listing (`?type=pages.ArticlePage`) has the specific model's relations at hand.
        fields = {field.name for field in model._meta.get_fields()}
        return queryset.prefetch_related(*(
            Prefetch(name, queryset=term_model.objects.only("id", "name", "slug"))
            for name, term_model in _TAXONOMY_PREFETCH.items() if name in fields
        ))


class GatedDocumentsAPIViewSet(FindByIdValidated, DocumentsAPIViewSet):
    """Documents endpoint listing only documents outside collections the requesting user may not open."""

    authentication_classes = API_AUTHENTICATION

    def get_queryset(self):
        queryset = self.model.objects.all().order_by("id")
        return visible_documents(queryset, Viewer.for_user(self.request.user))


class GatedImagesAPIViewSet(FindByIdValidated, ImagesAPIViewSet):
    """Images endpoint with the same collection rule as documents."""

    authentication_classes = API_AUTHENTICATION

    def get_queryset(self):
        queryset = self.model.objects.all().order_by("id")
        return visible_documents(queryset, Viewer.for_user(self.request.user))


api_router = WagtailAPIRouter("wagtailapi")
api_router.register_endpoint("pages", GatedPagesAPIViewSet)
api_router.register_endpoint("images", GatedImagesAPIViewSet)
api_router.register_endpoint("documents", GatedDocumentsAPIViewSet)
