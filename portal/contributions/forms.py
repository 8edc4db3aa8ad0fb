"""The members' area form for practice submissions."""

from django import forms
from django.conf import settings

from django_countries.fields import CountryField

from portal.core.models import Topic

from .models import Aggregation, PracticeSubmission
from .services.practice import MAX_ATTACHMENTS


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented recipe)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)] if data else []


class UploadForm(forms.Form):
    """The filled-in CSV template (``services/csvfile.py`` reads what is in it)."""

    file = forms.FileField(allow_empty_file=True, error_messages={"required": "Choose the CSV file to upload."})

    def clean_file(self):
        upload, limit = self.cleaned_data["file"], settings.CONTRIBUTIONS_MAX_UPLOAD_BYTES
        if upload.size > limit:
            raise forms.ValidationError(f"The file is larger than {limit // 1000} kB; the template is a few lines.")
        return upload


class PracticeForm(forms.Form):
    kind = forms.ChoiceField(label="What are you sending?", choices=PracticeSubmission.KIND_CHOICES,
                             widget=forms.RadioSelect, initial=PracticeSubmission.ARTICLE)
    title = forms.CharField(max_length=200)
    summary = forms.CharField(max_length=600, widget=forms.Textarea(attrs={"rows": 3}),
                              help_text="One or two sentences shown on cards and in the newsletter.")
    body = forms.CharField(max_length=30_000, widget=forms.Textarea(attrs={"rows": 12}),
                           help_text="Plain text; leave an empty line between paragraphs. The editors format it.")
    topics = forms.ModelMultipleChoiceField(queryset=Topic.objects.all(), required=False,
                                            widget=forms.CheckboxSelectMultiple)
    attachments = MultipleFileField(
        required=False,
        help_text=f"Up to {MAX_ATTACHMENTS} documents ({', '.join(settings.WAGTAILDOCS_EXTENSIONS)}). "
                  "Never attach or link to abusive material.",
    )
    event_name = forms.CharField(label="Conference", max_length=250, required=False,
                                 help_text="For conference notes.")
    start_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    city = forms.CharField(max_length=120, required=False)
    country = CountryField(blank=True).formfield(required=False)
    organisers = forms.CharField(max_length=400, required=False, help_text="Comma-separated names.")

    CONFERENCE_FIELDS = ("event_name", "start_date", "end_date", "city", "country", "organisers")

    def clean_attachments(self):
        attachments = self.cleaned_data["attachments"]
        if len(attachments) > MAX_ATTACHMENTS:
            raise forms.ValidationError(f"Attach at most {MAX_ATTACHMENTS} files.")
        return attachments

    def clean(self):
        data = super().clean()
        if data.get("kind") == PracticeSubmission.CONFERENCE:
            self._check_conference(data)
        return data

    def _check_conference(self, data: dict) -> None:
        """Conference notes need every conference field, and an end no earlier than the start."""
        for name in self.CONFERENCE_FIELDS:
            if not data.get(name):
                self.add_error(name, "Needed for conference notes.")
        if data.get("start_date") and data.get("end_date") and data["end_date"] < data["start_date"]:
            self.add_error("end_date", "The conference cannot end before it starts.")

    @property
    def conference(self) -> dict:
        """The conference fields as cleaned (empty for an article)."""
        return {name: self.cleaned_data[name] for name in self.CONFERENCE_FIELDS}


class AggregateForm(forms.Form):
    """Which dataset the approved figures go into, and when (blank: now)."""

    dataset = forms.ModelChoiceField(queryset=None, empty_label=None)
    release_at = forms.DateTimeField(
        required=False, input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="Blank: now. Until then the figures are on no page, feed, download or API.",
    )
    preview = forms.ChoiceField(
        label="Before the release, who may read them", required=False, choices=Aggregation.PREVIEW_CHOICES,
        initial=Aggregation.LOGIN,
        help_text='On the statistics page only, marked "embargoed until …"; never the public.',
    )
    preview_groups = forms.ModelMultipleChoiceField(
        label="Groups", queryset=None, required=False, widget=forms.CheckboxSelectMultiple,
        help_text="For “only members of the groups below”.",
    )

    newsletter_issue = forms.ModelChoiceField(
        label="Newsletter issue to send at the release", queryset=None, required=False,
        help_text="Sent to its audience through the newsletter pipeline when the figures are released (at once "
                  "if they are released now). Publish it first, or schedule its publishing for the release time; "
                  "its statistics blocks show the figures only from the release.",
    )

    def __init__(self, *args, **kwargs):
        from django.contrib.auth.models import Group

        from newsletter.models import NewsletterIssue, Send
        from portal.stats.models import Dataset

        super().__init__(*args, **kwargs)
        self.fields["dataset"].queryset = Dataset.objects.order_by("title")
        self.fields["preview_groups"].queryset = Group.objects.order_by("name")
        sent = Send.objects.values("issue_id")
        self.fields["newsletter_issue"].queryset = (NewsletterIssue.objects.exclude(pk__in=sent)
                                                    .filter(alias_of__isnull=True).order_by("-latest_revision_created_at"))

    def clean(self):
        data = super().clean()
        if data.get("preview") == Aggregation.GROUPS and not data.get("preview_groups"):
            self.add_error("preview_groups", "Choose at least one group, or another audience.")
        return data
