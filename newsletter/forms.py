"""Forms for the public newsletter pages and the admin list import."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from newsletter.models import Subscriber
from newsletter.services.subscriptions import CONSENT_TEXT, available_languages
from portal.core.models import Topic

HONEYPOT_FIELD = "website"
PUBLIC_SOURCES = {
    Subscriber.Source.SIGNUP_PAGE.value,
    Subscriber.Source.FOOTER.value,
    Subscriber.Source.BLOCK.value,
}


class TopicsField(forms.ModelMultipleChoiceField):
    """Topics chosen by slug (so simple HTML forms, like the footer or a page block, can name them)."""

    def __init__(self, **kwargs):
        # Subscriptions point at the default-language topics (their translations only rename them).
        originals = Topic.objects.filter(locale__language_code=settings.LANGUAGE_CODE)
        kwargs.setdefault("queryset", originals.order_by("name"))
        kwargs.setdefault("to_field_name", "slug")
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.CheckboxSelectMultiple)
        kwargs.setdefault("label", _("Topics"))
        kwargs.setdefault("help_text", _("Choose none to hear about everything."))
        super().__init__(**kwargs)


def reader_language() -> str:
    """The language the visitor is reading in, if emails can be sent in it, else English."""
    language = (get_language() or "en").split("-")[0]
    return language if language in {code for code, _name in available_languages()} else "en"


class SignupForm(forms.Form):
    """Email, topics, language and the consent checkbox; plus an invisible honeypot for bots."""

    email = forms.EmailField(
        max_length=254, label=_("Email address"),
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
    )
    topics = TopicsField()
    language = forms.ChoiceField(label=_("Language of the emails"), required=False)
    consent = forms.BooleanField(
        label=_(CONSENT_TEXT),
        error_messages={"required": _("To subscribe, tick the box to agree to receive the newsletter.")},
    )
    source = forms.CharField(required=False, widget=forms.HiddenInput)
    # Hidden from people (CSS and aria-hidden); bots that fill every field reveal themselves.
    website = forms.CharField(
        required=False, label=_("Leave this field empty"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = available_languages()
        self.fields["language"].initial = reader_language()

    def is_bot(self) -> bool:
        """Whether the honeypot was filled (checked before anything is stored)."""
        return bool(self.data.get(HONEYPOT_FIELD, "").strip())

    def clean_language(self) -> str:
        return self.cleaned_data.get("language") or reader_language()

    def clean_source(self) -> str:
        source = self.cleaned_data.get("source") or ""
        return source if source in PUBLIC_SOURCES else Subscriber.Source.SIGNUP_PAGE


class MemberSignupForm(forms.Form):
    """One click for a logged-in member: the account's verified address, optional topics."""

    topics = TopicsField()


class ResendForm(forms.Form):
    email = forms.EmailField(
        max_length=254, label=_("Email address"), widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )


class PreferencesForm(forms.Form):
    topics = TopicsField()
    frequency = forms.ChoiceField(
        label=_("How often"), choices=Subscriber.Frequency.choices, widget=forms.RadioSelect
    )
    language = forms.ChoiceField(label=_("Language of the emails"))
    click_history = forms.BooleanField(
        required=False,
        label=_("Keep a history of the links I click in the newsletter, so the team can see what interests me."),
        help_text=_("Off unless you tick it and confirm through the link we then email you. Without it, clicks "
                    "are only counted per link, never per person; unticking it deletes the history."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = available_languages()


class ResubscribeForm(forms.Form):
    consent = forms.BooleanField(
        label=_(CONSENT_TEXT),
        error_messages={"required": _("To subscribe again, tick the box to agree to receive the newsletter.")},
    )


class EraseForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("I understand that this deletes my subscription and everything stored about it, for good."),
        error_messages={"required": _("Tick the box to confirm that you want your data erased.")},
    )


class ImportForm(forms.Form):
    """Admin import of an existing list: a CSV file, a stated consent basis and an explicit confirmation."""

    MAX_BYTES = 5 * 1024 * 1024

    csv_file = forms.FileField(
        label="CSV file", help_text="One address per row, in a column headed “email” (or in the first column)."
    )
    consent_basis = forms.CharField(
        label="Consent basis", min_length=15, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="How and when these people agreed to receive this newsletter, e.g. “Ticked the newsletter box "
                  "on the 2025 conference registration form”. Stored with every imported address.",
    )
    topics = TopicsField(widget=forms.CheckboxSelectMultiple, help_text="Topics to give every imported address.")
    language = forms.ChoiceField(label="Language")
    confirm = forms.BooleanField(
        label="I confirm that every address in this file agreed to receive this newsletter on the basis above."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = available_languages()

    def clean_csv_file(self) -> str:
        upload = self.cleaned_data["csv_file"]
        if upload.size > self.MAX_BYTES:
            raise forms.ValidationError("The file is larger than 5 MB; split it into smaller files.")
        try:
            return upload.read().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise forms.ValidationError("Save the file as UTF-8 CSV and try again.") from exc
