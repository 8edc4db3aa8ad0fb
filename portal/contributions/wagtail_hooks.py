"""Admin for contributions: reporting periods, submitter roles, and the secretariat's review of submissions."""

from wagtail import hooks
from wagtail.admin.viewsets.base import ViewSetGroup
from wagtail.admin.viewsets.model import ModelViewSet

from .models import ReportingPeriod, SubmitterRole


class ReportingPeriodViewSet(ModelViewSet):
    """The secretariat opens a period (year or quarter) with a deadline and the measures it asks for."""

    model = ReportingPeriod
    name = "reporting_periods"
    icon = "date"
    menu_label = "Reporting periods"
    list_display = ["label", "deadline", "closed"]
    list_filter = ["closed"]
    copy_view_enabled = False
    form_fields = ["year", "quarter", "deadline", "measures", "jump_factor", "closed"]


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
    actions.register_action("contributions.reminder.sent", "Deadline reminder", "Sent a deadline reminder")

