"""Staff work in the admin: requests approved or rejected, invitations, organisations; everything is logged."""

import re

from django.contrib.auth.models import Group
from django.core import mail
from django.urls import reverse

from wagtail.models import ModelLogEntry, PageLogEntry, PageViewRestriction

from portal.members.models import Invitation, MembershipRequest, Organisation
from tests.factories import StandardPageFactory, UserFactory
from tests.portal.members.factories import MembershipRequestFactory, OrganisationFactory, sector


def staff_client(client):
    admin = UserFactory(is_superuser=True, is_staff=True)
    client.force_login(admin)
    return admin


def test_public_request_form_creates_a_pending_request(client, home):
    hotline = sector("hotline")
    page = client.get(reverse("members:request"))
    assert page.status_code == 200
    response = client.post(reverse("members:request"), {
        "name": "Ana Silva", "email": "ana@linha.example", "organisation_name": "Linha Alerta",
        "sector": hotline.pk, "country": "PT", "website": "https://linha.example",
        "message": "We run Portugal's hotline.",
    })
    assert response.status_code == 302
    assert "request is in" in client.get(response["Location"]).content.decode()
    request = MembershipRequest.objects.get()
    assert request.status == MembershipRequest.PENDING and request.organisation_name == "Linha Alerta"


def test_request_form_shows_errors(client, home):
    response = client.post(reverse("members:request"), {"name": "", "email": "not-an-email"})
    assert response.status_code == 200
    assert "Please correct" in response.content.decode()
    assert not MembershipRequest.objects.exists()


def test_staff_approve_request_creates_organisation_and_sends_invitation(
    client, home, django_capture_on_commit_callbacks
):
    admin = staff_client(client)
    request = MembershipRequestFactory(organisation_name="Linha Alerta", email="ana@linha.example")
    listing = client.get("/admin/membership_requests/")
    assert listing.status_code == 200
    assert reverse("membership_requests:approve", args=[request.pk]) in listing.content.decode()

    url = reverse("membership_requests:approve", args=[request.pk])
    assert client.get(url).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"organisation": ""})
    assert response.status_code == 302

    request.refresh_from_db()
    assert request.status == MembershipRequest.APPROVED and request.decided_by == admin
    organisation = Organisation.objects.get(name="Linha Alerta")
    invitation = Invitation.objects.get(request=request)
    assert invitation.organisation == organisation
    assert mail.outbox[-1].to == ["ana@linha.example"]
    assert re.search(r"/members/join/\S+/", mail.outbox[-1].body)
    assert ModelLogEntry.objects.filter(action="members.request.approve", user=admin).exists()
    # Approving twice does not invite twice.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"organisation": ""})
    assert Invitation.objects.filter(request=request).count() == 1


def test_staff_reject_request(client, home):
    admin = staff_client(client)
    request = MembershipRequestFactory()
    url = reverse("membership_requests:reject", args=[request.pk])
    assert "No email is sent" in client.get(url).content.decode()
    client.post(url)
    request.refresh_from_db()
    assert request.status == MembershipRequest.REJECTED
    assert not mail.outbox
    assert ModelLogEntry.objects.filter(action="members.request.reject", user=admin).exists()


def test_staff_invite_from_admin(client, home, django_capture_on_commit_callbacks):
    admin = staff_client(client)
    organisation = OrganisationFactory(name="Police Cyber Unit", sector=sector("law-enforcement"),
                                       email_domains="police.example")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/admin/invitations/new/", {"email": "officer@police.example",
                                                           "organisation": organisation.pk})
    assert response.status_code == 302
    invitation = Invitation.objects.get(email="officer@police.example")
    assert invitation.invited_by == admin and invitation.sent_at is not None
    assert mail.outbox[-1].to == ["officer@police.example"]
    assert client.get("/admin/invitations/").status_code == 200


def test_deactivating_organisation_in_admin_is_logged(client, home):
    admin = staff_client(client)
    organisation = OrganisationFactory(name="Example NGO", sector=sector("ngo"))
    assert client.get("/admin/organisation/").status_code == 200
    response = client.post(reverse("organisation:edit", args=[organisation.pk]), {
        "name": "Example NGO", "sector": organisation.sector_id, "country": "NL", "website": "",
        "member_since": "2020-01-01",  # "active" unticked
    })
    assert response.status_code == 302
    organisation.refresh_from_db()
    assert not organisation.active
    assert ModelLogEntry.objects.filter(action="members.organisation.deactivate", user=admin,
                                        object_id=str(organisation.pk)).exists()


def test_page_restriction_changes_are_logged(client, home):
    admin = staff_client(client)
    page = StandardPageFactory(parent=home, title="Operational notes", slug="operational-notes")
    police = Group.objects.get(name="Law enforcement")
    url = reverse("wagtailadmin_pages:set_privacy", args=[page.pk])
    client.post(url, {"restriction_type": "groups", "groups": [police.pk]})
    restriction = PageViewRestriction.objects.get(page=page)
    assert list(restriction.groups.all()) == [police]
    client.post(url, {"restriction_type": "none"})
    assert not PageViewRestriction.objects.filter(page=page).exists()
    actions = list(PageLogEntry.objects.filter(page=page, user=admin).values_list("action", flat=True))
    assert "wagtail.view_restriction.create" in actions
    assert "wagtail.view_restriction.delete" in actions
