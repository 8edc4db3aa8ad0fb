"""``/media/``: uploaded files served only through the privacy gate.

Wagtail writes images and their renditions as ordinary files under ``MEDIA_ROOT`` and links to them directly
(wagtail/wagtail#3880): any web-server mapping of ``/media/`` would publish images kept in restricted
collections. So the web server never serves ``media/`` itself: every request comes here, the file is matched to
its image (an original or a rendition), and it is served only to viewers who may open that image's collection.
Documents are never served from ``/media/``: Wagtail's document view (``/documents/<id>/<name>``) asks the gate.

In production the file itself can be handed to the web server after the check: set
``MEDIA_ACCEL_REDIRECT_PREFIX`` (nginx ``X-Accel-Redirect`` to an ``internal`` location, see the README).
"""

from __future__ import annotations

import mimetypes
import posixpath

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.views.decorators.http import require_safe

from portal.core import privacy
from portal.core.conf import conf

# The folders Wagtail's image models write to; nothing else under /media/ is served.
IMAGE_FOLDERS = ("original_images/", "images/")
PUBLIC_MAX_AGE = 3600


def image_for_file(name: str):
    """The image an uploaded file belongs to (its original or one of its renditions), or None."""
    from wagtail.images import get_image_model

    image_model = get_image_model()
    if name.startswith("original_images/"):
        return image_model.objects.select_related("collection").filter(file=name).first()
    rendition = image_model.get_rendition_model().objects.select_related("image__collection").filter(file=name)
    rendition = rendition.first()
    return getattr(rendition, "image", None)


@require_safe
def serve_media(request, path: str):
    """Serve one image file to a viewer who may open its collection; 404 for anything else (restricted images
    look exactly like missing ones, so their names are not confirmed either)."""
    name = posixpath.normpath(path).lstrip("/")
    if name != path or not name.startswith(IMAGE_FOLDERS):  # a normalised path in them never climbs out ("..")
        raise Http404
    image = image_for_file(name)
    if image is None or not privacy.can_view_document(image, getattr(request, "user", None)):
        raise Http404
    response = _file_response(name)
    _set_caching(response, image)
    return response


def _set_caching(response: HttpResponse, image) -> None:
    """A public image may be kept by any cache for an hour; a restricted one by none but the viewer's browser."""
    if privacy.can_view_document(image, privacy.Viewer.anonymous()):
        patch_cache_control(response, public=True, max_age=PUBLIC_MAX_AGE)
    else:
        add_never_cache_headers(response)
        patch_cache_control(response, private=True)


def _file_response(name: str) -> HttpResponse:
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    prefix = conf.MEDIA_ACCEL_REDIRECT_PREFIX
    if prefix:
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = prefix.rstrip("/") + "/" + name
        return response
    try:
        handle = default_storage.open(name, "rb")
    except (FileNotFoundError, OSError) as error:
        raise Http404 from error
    return FileResponse(handle, content_type=content_type)
