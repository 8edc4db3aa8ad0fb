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
from .models import ReminderSent, ReportingPeriod, Submission, SubmitterRole
from .services import submissions as workflow
from .services.validation import as_number

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
    def _check(request):
        if not request.user.has_perm(REVIEW_PERMISSION):
            raise PermissionDenied

    def review_view(self, request, pk):
        """Per expected organisation: submitted or not, by whom and when, reminders sent, link to review."""
        self._check(request)
        period = get_object_or_404(ReportingPeriod, pk=pk)
        rows = workflow.period_overview(period)
        reminders: dict[int, list[str]] = {}
        for reminder in ReminderSent.objects.filter(period=period).order_by("sent_at"):
            reminders.setdefault(reminder.organisation_id, []).append(
                f"{reminder.get_kind_display().lower()} ({reminder.sent_at:%d %b})")
        return TemplateResponse(request, "contributions/admin/review.html", {
            "aggregate_form": AggregateForm(),
            "aggregations": period.aggregations.select_related("dataset", "created_by").prefetch_related(
                "contributors"),
            "period": period, "rows": [(row, reminders.get(row.organisation.pk, [])) for row in rows],
            "submitted": sum(1 for row in rows if row.has_submitted),
            "awaiting": sum(1 for row in rows if row.latest and row.latest.status == Submission.SUBMITTED),
            "page_title": f"Submissions for {period}", "header_icon": "tasks",
            "index_url": reverse("reporting_periods:index"),
        })

    def aggregate_view(self, request, pk):
        """Write the period's approved figures into a dataset (POST), recording coverage and changes."""
        from .services.aggregation import aggregate

        self._check(request)
        if request.method != "POST" or not request.user.has_perm("stats.change_dataset"):
            raise PermissionDenied
        period = get_object_or_404(ReportingPeriod, pk=pk)
        form = AggregateForm(request.POST)
        if not form.is_valid():
            messages.error(request, " ".join(f"{form.fields[name].label or name}: {' '.join(errors)}"
                                             for name, errors in form.errors.items()))
        else:
            dataset, release_at = form.cleaned_data["dataset"], form.cleaned_data["release_at"]
            aggregation = aggregate(period, dataset, request.user, release_at=release_at,
                                    preview=form.cleaned_data["preview"],
                                    preview_groups=form.cleaned_data["preview_groups"],
                                    newsletter_issue=form.cleaned_data["newsletter_issue"])
            when = (f"at {timezone.localtime(aggregation.release_at):%d %B %Y %H:%M}; until then no channel shows "
                    "them" if aggregation.release_at else "now")
            messages.success(request, f"{period} goes into {dataset} {when} (version {aggregation.version}): "
                                      f"{aggregation.coverage}.")
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
            try:
                workflow.decide(submission.pk, request.user, approve=request.POST.get("decision") == "approve",
                                comment=request.POST.get("comment", ""))
            except workflow.NotAllowed as refused:
                error = str(refused)
            else:
                verb = "approved" if request.POST.get("decision") == "approve" else "returned"
                messages.success(request, f"{submission.organisation}'s figures (version {submission.version}) "
                                          f"were {verb}; the submitter is emailed.")
                return redirect("reporting_periods:review", period.pk)
        versions = workflow.version_history(period, submission.organisation)
        earlier = next((v for v in versions if v.version < submission.version and v.status != Submission.DRAFT),
                       None)
        previous = workflow.previous_figures(period, submission.organisation)
        jumps = workflow.check_figures(period, submission.organisation,
                                       {code: str(value) for code, value in submission.values.items()},
                                       complete=False).jumps
        rows = []
        for measure in period.ordered_measures():
            now = submission.values.get(measure.code)
            before = previous.values.get(measure.code) if previous else None
            ratio = ""
            if as_number(now) is not None and as_number(before):
                ratio = f"\u00d7{as_number(now) / as_number(before):.2f}"
            rows.append({"measure": measure, "value": now, "comment": submission.comments.get(measure.code, ""),
                         "earlier": earlier.values.get(measure.code) if earlier else None,
                         "previous": before, "ratio": ratio,
                         "jump": measure.code in jumps})
        return TemplateResponse(request, "contributions/admin/submission.html", {
            "period": period, "submission": submission, "rows": rows, "earlier": earlier, "previous": previous,
            "versions": versions, "error": error, "comment": request.POST.get("comment", ""),
            "page_title": f"{submission.organisation}: figures for {period}", "header_icon": "tasks",
            "review_url": reverse("reporting_periods:review", args=[period.pk]),
        }, status=400 if error else 200)


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
