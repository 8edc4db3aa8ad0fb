"""The newsletter issue's admin form: what the editor may not save (the model itself calls no service)."""

from wagtail.admin.forms import WagtailAdminPageForm

from newsletter.services.gate import issue_errors


class NewsletterIssueForm(WagtailAdminPageForm):
    """Refuses an audience that cannot work and pages or datasets the audience may not read, on the fields
    the editor changes (the same check runs again when a send starts)."""

    def _post_clean(self):
        super()._post_clean()  # the instance now holds the submitted values
        self._update_errors(issue_errors(self.instance))
