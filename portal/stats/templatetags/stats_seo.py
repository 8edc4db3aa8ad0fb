"""``{% dataset_json_ld page stats_data %}``: the statistics page's schema.org Dataset (portal.stats.services)."""

from django import template

from portal.core.templatetags.portal_tags import json_ld
from portal.stats.services.structured_data import dataset_data

register = template.Library()


@register.simple_tag(takes_context=True)
def dataset_json_ld(context, page, stats_data) -> str:
    """The JSON-LD script describing a public dataset, "" for a restricted one."""
    data = dataset_data(page, stats_data, context.get("request"))
    return json_ld(data) if data else ""
