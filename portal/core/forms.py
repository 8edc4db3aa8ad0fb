"""The page editing form: an image may be used on a page only if every reader of the page may open it."""

from __future__ import annotations

from wagtail.admin.forms import WagtailAdminPageForm
from wagtail.images.models import AbstractImage

from portal.core import privacy


def images_in(value) -> list:
    """Every image in a field value: an image itself, or any image inside a stream, struct or list value."""
    if isinstance(value, AbstractImage):
        return [value]
    return [image for item in _parts(value) for image in images_in(item)]


def _parts(value) -> list:
    """The values inside a struct value (a dict), a stream or list value, or a list (none in any other value)."""
    if isinstance(value, dict):
        return list(value.values())
    if hasattr(value, "raw_data") or isinstance(value, list | tuple):  # StreamValue, ListValue, lists
        return [getattr(item, "value", item) for item in value]
    return []


def reader_rules(page, parent=None) -> list[privacy.RestrictionRule]:
    """The effective restrictions of a page being edited (of its parent while it is being created)."""
    target = page if getattr(page, "pk", None) else parent
    return privacy.effective_restrictions(target, fresh=True) if target is not None else []


class PortalPageForm(WagtailAdminPageForm):
    """Refuses images some readers of the page could not open (the field is named in the message)."""

    def clean(self):
        cleaned = super().clean()
        rules = reader_rules(self.instance, getattr(self, "parent_page", None))
        for name, value in list(cleaned.items()):
            for image in images_in(value):
                if not privacy.image_usable_on(image, rules):
                    self.add_error(name, f"“{image.title}” is kept in a restricted collection that some readers "
                                         "of this page may not open: choose another image, or restrict the page.")
                    break
        return cleaned
