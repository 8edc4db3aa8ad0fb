"""Template helpers of the hotline directory."""

from __future__ import annotations

from django import template

from portal.hotlines.map import directory_map as build_map

register = template.Library()


@register.simple_tag(takes_context=True)
def directory_map(context, directory):
    """The tile-grid map for the directory's countries, links keeping the page's address."""
    page = context.get("page")
    request = context.get("request")
    base = page.get_url(request=request) if page is not None else ""
    selected = directory.country.code if directory.country else ""
    return build_map(directory.countries, selected, url_for=lambda code: f"{base}?country={code}#results")


@register.filter
def invalid_described(bound_field):
    """The field's widget, marked invalid and pointing at its error message when it has one."""
    if bound_field.errors:
        described = f"{bound_field.id_for_label}-error"
        return bound_field.as_widget(attrs={"aria-invalid": "true", "aria-describedby": described})
    return bound_field.as_widget()
