"""Admin form for uploading a statistics CSV."""

from django import forms

from portal.stats.models import Dataset

MAX_UPLOAD_BYTES = 20 * 1024 * 1024


class ImportUploadForm(forms.Form):
    dataset = forms.ModelChoiceField(queryset=Dataset.objects.all(), help_text="The dataset the figures belong to.")
    file = forms.FileField(
        label="CSV file",
        help_text="UTF-8 CSV with the columns described in the statistics guide (period, country, organisation, "
        "and measure columns). You will see what would change before anything is saved.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError("The file is larger than 20 MB; split it or use manage.py import_stats.")
        raw = upload.read()
        try:
            self.cleaned_data["text"] = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise forms.ValidationError("The file is not UTF-8 text. Save it as “CSV UTF-8” and try again.") from exc
        return upload
