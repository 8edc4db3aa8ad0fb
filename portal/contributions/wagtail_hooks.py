"""Admin for contributions: reporting periods, submitter roles, and the secretariat's review of submissions."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from wagtail import hooks
from wagtail.admin.ui.menus import MenuItem
from wagtail.admin.views import generic
from wagtail.admin.viewsets.base import ViewSetGroup
from wagtail.admin.viewsets.model import ModelViewSet

from .forms import AggregateForm
from .models import ReportingPeriod, Submission, SubmitterRole
from .services import submissions as workflow

REVIEW_PERMISSION = "contributions.change_submission"


class ReportingPeriodCreateView(generic.CreateView):
    def save_instance(self):
        period = self.form.save(commit=False)
        period.opened_by = self.request.user
        period.save()
        self.form.save_m2m()
        return period


class ReportingPeriodIndexView(generic.IndexView):
    def get_list_more_buttons(self, instance):
        return [*super().get_list_more_buttons(instance),
                MenuItem("Review submissions", reverse("reporting_periods:review", args=[instance.pk]),
                         icon_name="tasks", priority=1)]


class ReportingPeriodViewSet(ModelViewSet):
    """The secretariat opens a period (year or quarter) with a deadline and the measures it asks for, and
    reviews what each hotline submitted."""

    model = ReportingPeriod
    name = "reporting_periods"
    icon = "date"
    menu_label = "Reporting periods"
    add_view_class = ReportingPeriodCreateView
    index_view_class = ReportingPeriodIndexView
    list_display = ["label", "deadline", "closed"]
    list_filter = ["closed"]
    copy_view_enabled = False
    form_fields = ["year", "quarter", "deadline", "measures", "jump_factor", "closed"]

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path("<int:pk>/review/", self.review_view, name="review"),
            path("<int:pk>/review/<int:submission_id>/", self.submission_view, name="submission"),
            path("<int:pk>/aggregate/", self.aggregate_view, name="aggregate"),
        ]

    @staticmethod
    def _check(request, *also: str):
        """Refuse a user without the review permission (and the other permissions given)."""
        if not request.user.has_perms([REVIEW_PERMISSION, *also]):
            raise PermissionDenied

    def review_view(self, request, pk):
        """Per expected organisation: submitted or not, by whom and when, reminders sent, link to review."""
        self._check(request)
        period = get_object_or_404(ReportingPeriod, pk=pk)
        rows = workflow.period_overview(period)
        reminders = workflow.reminders_by_organisation(period)
        return TemplateResponse(request, "contributions/admin/review.html", {
            "aggregate_form": AggregateForm(),
            "aggregations": period.aggregations.select_related("dataset", "created_by").prefetch_related(
                "contributors"),
            "period": period, "rows": [(row, reminders.get(row.organisation.pk, [])) for row in rows],
            "submitted": sum(row.has_submitted for row in rows),
            "awaiting": sum(row.awaits_review for row in rows),
            "page_title": f"Submissions for {period}", "header_icon": "tasks",
            "index_url": reverse("reporting_periods:index"),
        })

    def aggregate_view(self, request, pk):
        """Write the period's approved figures into a dataset (POST), recording coverage and changes."""
        from .services.aggregation import aggregate

        self._check(request, "stats.change_dataset")
        if request.method != "POST":
            raise PermissionDenied
        period = get_object_or_404(ReportingPeriod, pk=pk)
        form = AggregateForm(request.POST)
        if not form.is_valid():
            messages.error(request, _errors_in_words(form))
            return redirect("reporting_periods:review", period.pk)
        data = form.cleaned_data
        aggregation = aggregate(period, data["dataset"], request.user, release_at=data["release_at"],
                                preview=data["preview"], preview_groups=data["preview_groups"],
                                newsletter_issue=data["newsletter_issue"])
        messages.success(request, f"{period} goes into {data['dataset']} {_release_in_words(aggregation)} "
                                  f"(version {aggregation.version}): {aggregation.coverage}.")
        return redirect("reporting_periods:review", period.pk)

    def submission_view(self, request, pk, submission_id):
        """One version side by side with the previous version and the previous period; approve or return it."""
        self._check(request)
        period = get_object_or_404(ReportingPeriod, pk=pk)
        submission = get_object_or_404(
            Submission.objects.select_related("organisation", "submitted_by", "reviewed_by"),
            pk=submission_id, period=period)
        error = ""
        if request.method == "POST":
            error = _apply_decision(request, submission)
            if not error:
                return redirect("reporting_periods:review", period.pk)
        versions = workflow.version_history(period, submission.organisation)
        earlier = workflow.earlier_version(versions, submission)
        previous = workflow.previous_figures(period, submission.organisation)
        return TemplateResponse(request, "contributions/admin/submission.html", {
            "period": period, "submission": submission, "earlier": earlier, "previous": previous,
            "rows": workflow.review_rows(period, submission, earlier, previous),
            "versions": versions, "error": error, "comment": request.POST.get("comment", ""),
            "page_title": f"{submission.organisation}: figures for {period}", "header_icon": "tasks",
            "review_url": reverse("reporting_periods:review", args=[period.pk]),
        }, status=400 if error else 200)


def _errors_in_words(form) -> str:
    """A form's errors in one message: each field's label (or name) and its errors."""
    return " ".join(f"{form.fields[name].label or name}: {' '.join(errors)}" for name, errors in form.errors.items())


def _release_in_words(aggregation) -> str:
    if aggregation.release_at is None:
        return "now"
    return f"at {timezone.localtime(aggregation.release_at):%d %B %Y %H:%M}; until then no channel shows them"


def _apply_decision(request, submission) -> str:
    """Approve or return the version as the reviewer posted; why it was refused, or "" when it was done."""
    approve = request.POST.get("decision") == "approve"
    try:
        workflow.decide(submission.pk, request.user, approve=approve, comment=request.POST.get("comment", ""))
    except workflow.NotAllowed as refused:
        return str(refused)
    messages.success(request, f"{submission.organisation}'s figures (version {submission.version}) "
                              f"were {'approved' if approve else 'returned'}; the submitter is emailed.")
    return ""


class SubmitterRoleViewSet(ModelViewSet):
    """Who may submit each organisation's figures (the organisation's contact person can also grant it)."""

    model = SubmitterRole
    name = "submitter_roles"
    icon = "user"
    menu_label = "Statistics submitters"
    list_display = ["user", "organisation", "granted_at", "granted_by"]
    list_filter = ["organisation"]
    search_fields = ["user__username", "user__email", "organisation__name"]
    form_fields = ["user", "organisation"]
    copy_view_enabled = False


class ContributionsGroup(ViewSetGroup):
    menu_label = "Contributions"
    menu_icon = "table"
    menu_order = 260
    items = (ReportingPeriodViewSet, SubmitterRoleViewSet)


@hooks.register("register_admin_viewset")
def register_contributions_viewsets():
    return ContributionsGroup()


@hooks.register("register_log_actions")
def register_contributions_log_actions(actions):
    actions.register_action("contributions.role.grant", "Grant statistics submitter role",
                            "Made a member a statistics submitter")
    actions.register_action("contributions.role.revoke", "Remove statistics submitter role",
                            "Removed a member's statistics submitter role")
    actions.register_action("contributions.submission.draft", "Save figures draft", "Saved a draft of the figures")
    actions.register_action("contributions.submission.submit", "Submit figures", "Submitted figures for review")
    actions.register_action("contributions.submission.approve", "Approve figures", "Approved the figures")
    actions.register_action("contributions.submission.return", "Return figures",
                            "Returned the figures for correction")
    actions.register_action("contributions.practice.submit", "Practice submitted by a member",
                            "A member submitted this page from the members' area")
    actions.register_action("contributions.period.aggregate", "Figures into the statistics",
                            "Wrote the period's approved figures into a dataset")
    actions.register_action("contributions.period.newsletter", "Newsletter at the release",
                            "Started (or could not start) the newsletter issue chosen for the release")
    actions.register_action("contributions.reminder.sent", "Deadline reminder", "Sent a deadline reminder")


@hooks.register("statistics_page_sections")
def embargoed_figures_section(request, dataset):
    """Figures before their release, for the members the version's preview audience admits (else "")."""
    from django.template.loader import render_to_string

    from .services.embargo import embargoed_figures

    figures = embargoed_figures(dataset, request.user)
    if not figures:
        return ""
    return render_to_string("contributions/embargoed_figures.html", {"embargoed": figures}, request=request)


@hooks.register("statistics_page_sections")
def released_versions_section(request, dataset):
    """Every released version of the contributed periods, with what changed and a CSV download of each."""
    from django.template.loader import render_to_string

    from .services.versions import released_versions

    versions = released_versions(dataset)
    if not versions:
        return ""
    return render_to_string("contributions/released_versions.html", {"versions": versions}, request=request)
