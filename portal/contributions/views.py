"""Members' area: the figures form, the CSV template and upload, and the submitter roles for the contact person."""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from portal.members.models import Membership

from .forms import PracticeForm, UploadForm
from .models import PracticeSubmission, ReportingPeriod, Submission, SubmitterRole
from .services import csvfile
from .services import submissions as workflow


def _measure_rows(period, values: dict, comments: dict, problems, jumps: dict, previous):
    """One entry per measure for the template: the measure, the value and comment shown, its problems."""
    by_code: dict[str, list[str]] = {}
    for problem in problems:
        by_code.setdefault(problem.code, []).append(str(problem))
    return [{
        "measure": measure, "value": values.get(measure.code, ""), "comment": comments.get(measure.code, ""),
        "errors": by_code.get(measure.code, []), "jump": jumps.get(measure.code, ""),
        "previous": (previous.values.get(measure.code, "") if previous else ""),
    } for measure in period.ordered_measures()]


@login_required
@never_cache
def index(request):
    """The open periods for the member's organisation and the state of its figures."""
    organisation = workflow.organisation_of(request.user)
    allowed = workflow.can_submit(request.user, organisation)
    context = {"organisation": organisation, "allowed": allowed, "periods": [], "history": [],
               "is_contact": organisation is not None and workflow.is_contact(request.user, organisation)}
    if allowed:
        context.update(periods=workflow.open_periods(organisation), history=workflow.sent_versions(organisation))
    return render(request, "contributions/index.html", context)


def _period_for(request, period_id):
    organisation = workflow.organisation_of(request.user)
    period = get_object_or_404(ReportingPeriod, pk=period_id)
    if not workflow.can_submit(request.user, organisation):
        return organisation, period, render(request, "contributions/not_allowed.html",
                                            {"organisation": organisation}, status=403)
    return organisation, period, None


def _chosen_step(request):
    """The workflow step the member's button asks for: submit for review, or save a draft."""
    return workflow.submit if request.POST.get("action") == "submit" else workflow.save_draft


def _saved_figures(submission) -> tuple[dict, dict]:
    """(values, comments) of a saved version, or empty ones when there is none."""
    return (dict(submission.values), dict(submission.comments)) if submission else ({}, {})


def _posted_figures(request, period) -> tuple[dict, dict]:
    """(values, comments) as typed into the form, one of each per measure."""
    measures = period.ordered_measures()
    return ({m.code: request.POST.get(f"value-{m.code}", "") for m in measures},
            {m.code: request.POST.get(f"comment-{m.code}", "") for m in measures})


def _saved_message(saved, period) -> str:
    if saved.status == Submission.SUBMITTED:
        return (f"Thank you: version {saved.version} of your figures for {period} was submitted. The secretariat "
                "will review it.")
    return "Your draft is saved. Submit it when it is complete."


def _period_page(request, period, organisation, current, values: dict, comments: dict, *, problems=(),
                 jumps=None, status=200, **context):
    """The figures page: one row per measure with the values shown, the versions and the upload form."""
    previous = workflow.previous_figures(period, organisation)
    return render(request, "contributions/period_form.html", {
        "period": period, "organisation": organisation, "current": current, "previous": previous,
        "rows": _measure_rows(period, values, comments, problems, jumps or {}, previous), "problems": problems,
        "versions": workflow.version_history(period, organisation),
        "max_upload_kb": settings.CONTRIBUTIONS_MAX_UPLOAD_BYTES // 1000, **context,
    }, status=status)


@login_required
@never_cache
def period_form(request, period_id: int):
    """Enter figures for a period, save a draft or submit them; shows the returned comment and the versions."""
    organisation, period, refusal = _period_for(request, period_id)
    if refusal:
        return refusal
    current = workflow.latest(period, organisation)
    if request.method != "POST":
        values, comments = _saved_figures(current)
        return _period_page(request, period, organisation, current, values, comments,
                            jumps=workflow.jumps_in(period, organisation, values))
    if not period.is_open:
        messages.error(request, f"The reporting period {period} is closed.")
        return redirect("contributions:period", period.pk)
    values, comments = _posted_figures(request, period)
    try:
        saved = _chosen_step(request)(request.user, period, organisation, values, comments)
    except workflow.Invalid as invalid:
        return _period_page(request, period, organisation, current, values, comments, problems=invalid.problems,
                            jumps=invalid.checked.jumps, status=400)
    except workflow.NotAllowed as refused:
        messages.error(request, str(refused))
        return _period_page(request, period, organisation, current, values, comments, status=409)
    messages.success(request, _saved_message(saved, period))
    return redirect("contributions:period", period.pk)


@login_required
@never_cache
def template_csv(request, period_id: int):
    """The CSV template for the period, prefilled with the organisation's newest figures."""
    organisation, period, refusal = _period_for(request, period_id)
    if refusal:
        return refusal
    values, comments = _saved_figures(workflow.latest(period, organisation))
    text = csvfile.template_csv(period.ordered_measures(), values, comments)
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="figures-{period.label}.csv"'
    return response


def _save_upload(request, period, organisation):
    """Read the uploaded template and save or submit its figures, as the member's button asks: (the file, the
    version saved)."""
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        raise csvfile.UploadError(form.errors["file"][0])
    upload_file = form.cleaned_data["file"]
    values, comments, rows, row_problems = csvfile.read_upload(csvfile.decode(upload_file.read()),
                                                               workflow.specs_for(period))
    return upload_file, _chosen_step(request)(request.user, period, organisation, values, comments,
                                              source=Submission.CSV, rows=rows, extra_problems=row_problems)


@login_required
@require_POST
@never_cache
def upload(request, period_id: int):
    """Upload the filled-in template: saved as a draft, or submitted, with every problem naming its row."""
    organisation, period, refusal = _period_for(request, period_id)
    if refusal:
        return refusal
    problems, error = [], ""
    try:
        upload_file, saved = _save_upload(request, period, organisation)
    except (csvfile.UploadError, workflow.NotAllowed) as refused:
        error = str(refused)
    except workflow.Invalid as invalid:
        problems = invalid.problems
    else:
        verb = "submitted" if saved.status == Submission.SUBMITTED else "saved as a draft"
        messages.success(request, f"{upload_file.name}: your figures were {verb} (version {saved.version}).")
        return redirect("contributions:period", period.pk)
    current = workflow.latest(period, organisation)
    values, comments = _saved_figures(current)
    return _period_page(request, period, organisation, current, values, comments, status=400,
                        upload_problems=problems, upload_error=error)


@login_required
@never_cache
def submitters(request):
    """The organisation's contact person grants and removes the statistics submitter role."""
    organisation = workflow.organisation_of(request.user)
    if organisation is None or not workflow.can_grant(request.user, organisation):
        return render(request, "contributions/not_allowed.html", {"organisation": organisation, "contact": True},
                      status=403)
    members = list(Membership.objects.filter(organisation=organisation).select_related("user")
                   .order_by("user__last_name", "user__username"))
    holders = set(SubmitterRole.objects.filter(organisation=organisation).values_list("user_id", flat=True))
    return render(request, "contributions/submitters.html", {
        "organisation": organisation, "members": [(m.user, m.user_id in holders) for m in members],
    })


# A user id as the submitters page posts it: ASCII digits, short enough for the database's integers.
USER_ID_RE = re.compile(r"[0-9]{1,11}")


def _chosen_membership(organisation, user_id: str) -> Membership | None:
    """The membership in the organisation of the user the contact person chose, if there is one."""
    if not USER_ID_RE.fullmatch(user_id):
        return None
    return Membership.objects.filter(organisation=organisation, user_id=int(user_id)).select_related("user").first()


# The contact person's two buttons: the workflow step and what it tells them afterwards.
ROLE_CHANGES = {
    True: (workflow.grant_role, "{name} can now submit your organisation's figures."),
    False: (workflow.revoke_role, "{name} can no longer submit figures."),
}


@login_required
@require_POST
def change_submitter(request):
    organisation = workflow.organisation_of(request.user)
    if organisation is None:
        return render(request, "contributions/not_allowed.html", {"organisation": None}, status=403)
    membership = _chosen_membership(organisation, request.POST.get("user", ""))
    if membership is None:
        messages.error(request, "Choose a member of your organisation.")
        return redirect("contributions:submitters")
    change, done = ROLE_CHANGES[request.POST.get("grant") == "1"]
    try:
        change(membership.user, organisation, request.user)
    except workflow.NotAllowed as refused:
        messages.error(request, str(refused))
        return render(request, "contributions/not_allowed.html", {"organisation": organisation, "contact": True},
                      status=403)
    messages.success(request, done.format(name=workflow.display_name(membership.user)))
    return redirect("contributions:submitters")


# --- Practice submissions -------------------------------------------------------------------------------------


@login_required
@never_cache
def practice_index(request):
    """The member's practice submissions and the state of each (submitted, in review, returned, published)."""
    from .services.practice import state_of

    organisation = workflow.organisation_of(request.user)
    submissions = list(PracticeSubmission.objects.filter(user=request.user).select_related("page"))
    return render(request, "contributions/practice_index.html", {
        "organisation": organisation, "submissions": [(item, state_of(item)) for item in submissions],
    })


def _send_practice(request, organisation, form):
    """Send the form's article or notes to the editors; None if the form has errors or the editors' side
    refused it (the reason is then added to the form)."""
    from .services.practice import PracticeRefused, submit_practice

    if not form.is_valid():
        return None
    data = form.cleaned_data
    try:
        return submit_practice(request.user, organisation, kind=data["kind"], title=data["title"],
                               summary=data["summary"], body=data["body"], topics=data["topics"],
                               attachments=data["attachments"], conference=form.conference)
    except PracticeRefused as refused:
        form.add_error(None, str(refused))
        return None


@login_required
@never_cache
def practice_new(request):
    """Send a best-practice article or conference notes to the editors."""
    organisation = workflow.organisation_of(request.user)
    if organisation is None:
        return render(request, "contributions/not_allowed.html", {"organisation": None}, status=403)
    form = PracticeForm(request.POST or None, request.FILES or None)
    if request.method != "POST":
        return render(request, "contributions/practice_form.html", {"form": form, "organisation": organisation})
    submission = _send_practice(request, organisation, form)
    if submission is None:
        return render(request, "contributions/practice_form.html", {"form": form, "organisation": organisation},
                      status=400)
    messages.success(request, f"Thank you: “{submission.title}” went to the editors. You can follow its state here.")
    return redirect("contributions:practice")


@require_safe
def version_csv(request, aggregation_id: int):
    """One released version of a period's figures as CSV; 404 for a version not released (the embargo) or a
    dataset the viewer may not read, so neither leaks that it exists."""
    from django.utils import timezone

    from portal.stats.models import get_visible_dataset_or_404
    from portal.stats.services.export import csv_response

    from .models import Aggregation
    from .services.versions import version_csv_rows

    aggregation = get_object_or_404(Aggregation.objects.select_related("period", "dataset"), pk=aggregation_id,
                                    released_at__isnull=False, released_at__lte=timezone.now())
    dataset = get_visible_dataset_or_404(aggregation.dataset.slug, request.user)
    return csv_response(version_csv_rows(aggregation),
                        f"{dataset.slug}-{aggregation.period.label}-version-{aggregation.version}")
