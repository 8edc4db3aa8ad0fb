"""Forms of the members app: membership requests, accepting an invitation, topic preferences, admin actions."""

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _

from portal.core.models import Topic

from .models import Invitation, Membership, MembershipRequest, Organisation


class MembershipRequestForm(forms.ModelForm):
    """The public "request membership" form."""

    # A field people never see; bots that fill every field are quietly ignored.
    nickname = forms.CharField(required=False, widget=forms.HiddenInput, label=_("Leave this empty"))

    class Meta:
        model = MembershipRequest
        fields = ["name", "email", "organisation_name", "sector", "country", "website", "message"]
        widgets = {"message": forms.Textarea(attrs={"rows": 5})}
        labels = {  # the models' verbose names, capitalised as the form showed them, made translatable
            "name": _("Your name"), "email": _("Work email"), "organisation_name": _("Organisation"),
            "sector": _("Sector"), "country": _("Country"), "website": _("Organisation website"),
            "message": _("Why your organisation wants to join"),
        }
        help_texts = {
            "email": _("We send the invitation to this address if your request is approved."),
            "message": _("Tell us what your organisation does and how it works against CSAM online."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].widget.attrs["autocomplete"] = "email"
        self.fields["name"].widget.attrs["autocomplete"] = "name"
        self.fields["organisation_name"].widget.attrs["autocomplete"] = "organization"

    def is_spam(self) -> bool:
        return bool(self.cleaned_data.get("nickname"))


class AcceptInvitationForm(forms.Form):
    """Name and password for the account an invitation creates."""

    first_name = forms.CharField(
        max_length=150, label=_("First name"),
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    last_name = forms.CharField(
        max_length=150, label=_("Last name"),
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, email: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self):
        cleaned = super().clean()
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", _("The two passwords are not the same."))
        elif password1:
            self._validate_password(password1, cleaned)
        return cleaned

    def _validate_password(self, password: str, cleaned: dict) -> None:
        """Django's password validators, against the account about to be made (so a password like the name or
        the address is refused); their messages go on the first password field."""
        from django.contrib.auth import get_user_model

        candidate = get_user_model()(
            username=self.email, email=self.email,
            first_name=cleaned.get("first_name", ""), last_name=cleaned.get("last_name", ""),
        )
        try:
            password_validation.validate_password(password, candidate)
        except forms.ValidationError as error:
            self.add_error("password1", error)


class TopicPreferencesForm(forms.ModelForm):
    """The topics a member wants on their dashboard (none chosen: every topic)."""

    topics = forms.ModelMultipleChoiceField(
        queryset=Topic.objects.filter(locale__language_code=settings.LANGUAGE_CODE), required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Leave all unticked to see updates on every topic."),
    )

    class Meta:
        model = Membership
        fields = ["topics"]


OVERRIDE_DOMAIN_HELP = (
    "Administrators only: invite this address although it is not on the organisation's verified email domains. "
    "Recorded in the audit log."
)


class InviteForm(forms.Form):
    """Staff: invite a person into an organisation (an address on its verified domains)."""

    email = forms.EmailField()
    organisation = forms.ModelChoiceField(queryset=Organisation.objects.filter(active=True))
    override_domain = forms.BooleanField(
        required=False, label="Override the domain check", help_text=OVERRIDE_DOMAIN_HELP
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance = Invitation()  # the admin's generic create view binds its panels to an instance
        if not (user is not None and user.is_superuser):
            del self.fields["override_domain"]


class ApproveRequestForm(forms.Form):
    """Staff: approve a membership request into a new organisation made from it, or explicitly into an existing one."""

    organisation = forms.ModelChoiceField(
        queryset=Organisation.objects.filter(active=True).select_related("sector"),
        required=False,
        label="Join an existing organisation",
        help_text="Only an organisation of the request's sector. Leave empty to create a new organisation "
                  "from the request's details.",
    )
    create_new = forms.BooleanField(
        required=False, label="This is a new organisation",
        help_text="Confirm that the request is not about one of the similar organisations listed above.",
    )
    override_domain = forms.BooleanField(
        required=False, label="Override the domain check", help_text=OVERRIDE_DOMAIN_HELP
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if not (user is not None and user.is_superuser):
            del self.fields["override_domain"]


class TokenForm(forms.Form):
    """A six-digit code from an authenticator app."""

    token = forms.CharField(
        label="Code from your authenticator app",
        max_length=6,
        min_length=6,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9]*"}),
    )
