"""The directory's filter form: a plain GET form, so it works without JavaScript and every answer has a URL."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from django_countries import countries

from portal.hotlines.choices import CATEGORIES, language_choices


class DirectoryFilterForm(forms.Form):
    """Country, what to report and the language to report in; every field may be left empty."""

    country = forms.ChoiceField(label=_("Your country"), required=False)
    accepts = forms.ChoiceField(label=_("What you want to report"), required=False,
                                choices=[("", _("Anything illegal")), *CATEGORIES])
    language = forms.ChoiceField(label=_("Language you want to report in"), required=False)

    def __init__(self, data=None, *, languages: list[str], **kwargs):
        super().__init__(_country_in_upper_case(data), **kwargs)
        # Country names in the reader's language, in its alphabetical order (django-countries sorts them).
        self.fields["country"].choices = [("", _("Choose a country")), *list(countries)]
        offered = dict(language_choices())
        named = sorted(((code, offered.get(code, code)) for code in languages), key=lambda pair: pair[1])
        self.fields["language"].choices = [("", _("Any language")), *named]


def _country_in_upper_case(data):
    """Country codes arrive in either case (?country=fr); the form's choices are upper case."""
    if data is None or not data.get("country"):
        return data
    data = data.copy()
    data["country"] = data["country"].strip().upper()
    return data
