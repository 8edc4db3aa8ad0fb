"""What editors can save: a way to report, https only, known languages and categories."""

from django.core.exceptions import ValidationError

import pytest

from portal.hotlines.models import Hotline

pytestmark = pytest.mark.django_db


def errors_of(**fields) -> dict:
    hotline = Hotline(name="Test hotline", countries=["FR"], **fields)
    with pytest.raises(ValidationError) as caught:
        hotline.full_clean()
    return caught.value.message_dict


def test_a_hotline_needs_a_way_to_report():
    assert "report_url" in errors_of(languages=["fr"], accepts=["csam"])


def test_a_report_form_must_be_https():
    assert "https" in errors_of(report_url="http://report.hotline.example/")["report_url"][0]


def test_unknown_languages_and_categories_are_named():
    errors = errors_of(report_url="https://report.hotline.example/", languages=["fr", "xx"], accepts=["spam"])
    assert "xx" in errors["languages"][0]
    assert "spam" in errors["accepts"][0]


def test_an_active_hotline_serves_a_country_or_is_a_fallback():
    hotline = Hotline(name="Nowhere", report_url="https://report.nowhere.example/")
    with pytest.raises(ValidationError) as caught:
        hotline.full_clean()
    assert "countries" in caught.value.message_dict
    hotline.international = True
    hotline.full_clean()


def test_labels_are_in_the_readers_language():
    from django.utils import translation

    hotline = Hotline(languages=["fr", "de"], accepts=["grooming", "csam"])
    with translation.override("en"):
        assert hotline.language_names == ["French", "German"]
        assert hotline.accept_labels == ["Child sexual abuse material", "Online grooming"]
