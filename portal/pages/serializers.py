"""Serializers the read API uses for fields that are not plain values (taxonomy terms, countries)."""

from rest_framework import serializers


class TaxonomyTermSerializer(serializers.Serializer):
    """A topic or sector as the API shows it: its name and the slug used in `?topic=` filters."""

    name = serializers.CharField(read_only=True)
    slug = serializers.CharField(read_only=True)


def taxonomy_field():
    """A read-only list of taxonomy terms for an `APIField` on a many-to-many field."""
    return TaxonomyTermSerializer(many=True, read_only=True)


def country_field():
    """A country as `{"code": "NL", "name": "Netherlands"}` for an `APIField`."""
    from django_countries.serializer_fields import CountryField

    return CountryField(country_dict=True, read_only=True)
