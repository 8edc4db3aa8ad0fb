"""Membership requests cannot smuggle anyone into an existing organisation (issue 17, point 1).

The reproduction: a public request naming an existing law-enforcement organisation with the sector "Industry",
approved with the organisation left empty, used to invite the requester into the police organisation.
"""

import re

from django.contrib.auth.models import Group, Permission
from django.core import mail
from django.urls import reverse

from wagtail.models import ModelLogEntry

import pytest

from portal.members import services
from portal.members.models import Invitation, Membership, MembershipRequest, Organisation
from tests.factories import UserFactory
from tests.portal.members.factories import MembershipRequestFactory, OrganisationFactory, sector

PASSWORD = "lantern-orbit-meadow-42"


@pytest.fixture
def police(db):
    return OrganisationFactory(
        name="National Police Cybercrime Unit", sector=sector("law-enforcement"),
        website="https://www.police.example", email_domains="police.example", contact_email="chief@police.example",
    )


def editor_with_request_rights():
    """Staff who may decide requests but are not administrators."""
    user = UserFactory(is_staff=True)
    group = Group.objects.create(name="Request deciders")
    group.permissions.add(
        Permission.objects.get(codename="access_admin"),
        Permission.objects.get(codename="change_membershiprequest"),
    )
    user.groups.add(group)
    return user


def test_request_naming_an_existing_police_organisation_is_flagged_and_not_joined(client, home, police):
    client.post(reverse("members:request"), {
        "name": "Mallory", "email": "mallory@industry.example", "organisation_name": "national police  CYBERCRIME unit",
        "sector": sector("industry").pk, "country": "NL", "message": "Let us in.",
    })
    membership_request = MembershipRequest.objects.get()
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    url = reverse("membership_requests:approve", args=[membership_request.pk])

    page = client.get(url).content.decode()
    assert "may be about an organisation that already exists" in page
    assert "National Police Cybercrime Unit: sector <strong>Law enforcement</strong>" in page
    assert "it cannot join this organisation" in page

    # The old help text's suggestion: leave the organisation empty. Refused; nothing is created or sent.
    response = client.post(url, {"organisation": ""})
    assert response.status_code == 400
    assert "already exists" in response.content.decode()
    membership_request.refresh_from_db()
    assert membership_request.status == MembershipRequest.PENDING
    assert not Invitation.objects.exists() and Organisation.objects.count() == 1

    # Choosing the police organisation explicitly: the sectors disagree, so it is refused too.
    response = client.post(url, {"organisation": police.pk, "override_domain": "on"})
    assert response.status_code == 400
    assert "can only join an organisation of its own sector" in response.content.decode()
    assert not Invitation.objects.exists()


def test_accent_and_case_variants_and_domains_are_matched(police):
    accented = MembershipRequestFactory(organisation_name="Natiônal Police-Cybercrime Unit")
    by_domain = MembershipRequestFactory(organisation_name="Cyber desk", email="x@Police.Example")
    by_website = MembershipRequestFactory(organisation_name="Cyber desk", website="http://police.example/about")
    unrelated = MembershipRequestFactory(organisation_name="Linha Alerta", email="a@linha.example")
    assert [m.organisation for m in services.matching_organisations(accented)] == [police]
    assert services.matching_organisations(by_domain)[0].reasons == ["email domain police.example"]
    assert services.matching_organisations(by_website)[0].reasons == ["website police.example"]
    assert services.matching_organisations(unrelated) == []


def test_a_similar_organisation_needs_an_explicit_new_organisation_choice(client, home, police):
    request = MembershipRequestFactory(
        organisation_name="Police cyber desk", email="ana@police.example", sector=sector("law-enforcement"))
    with pytest.raises(services.InvitationRefused, match="Similar organisations exist"):
        services.approve_request(request, UserFactory(is_staff=True))
    services.approve_request(request, UserFactory(is_staff=True), create_new=True)
    assert Organisation.objects.get(name="Police cyber desk").sector.slug == "law-enforcement"


def test_joining_an_existing_organisation_needs_same_sector_and_a_verified_domain(home, police):
    staff = editor_with_request_rights()
    outsider = MembershipRequestFactory(email="someone@gmail.example", sector=sector("law-enforcement"))
    with pytest.raises(services.InvitationRefused, match="not on National Police Cybercrime Unit's verified"):
        services.approve_request(outsider, staff, organisation=police)
    with pytest.raises(services.InvitationRefused, match="Only an administrator"):
        services.approve_request(outsider, staff, organisation=police, override_domain=True)
    assert not Invitation.objects.exists()
    outsider.refresh_from_db()
    assert outsider.status == MembershipRequest.PENDING  # nothing half-done

    colleague = MembershipRequestFactory(email="Officer@Police.example", sector=sector("law-enforcement"))
    invitation = services.approve_request(colleague, staff, organisation=police)
    assert invitation.organisation == police and invitation.email == "officer@police.example"
    assert not ModelLogEntry.objects.filter(action="members.invitation.domain_override").exists()


def test_an_administrator_override_is_recorded(home, police):
    admin = UserFactory(is_superuser=True, is_staff=True)
    request = MembershipRequestFactory(email="liaison@ministry.example", sector=sector("law-enforcement"))
    invitation = services.approve_request(request, admin, organisation=police, override_domain=True)
    entry = ModelLogEntry.objects.get(action="members.invitation.domain_override")
    assert entry.user == admin and entry.data["email"] == "liaison@ministry.example"
    assert invitation.email == "liaison@ministry.example"


def test_staff_invite_form_refuses_an_address_outside_the_domains(client, home, police):
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    assert "Override the domain check" in client.get(reverse("invitations:add")).content.decode()
    response = client.post(reverse("invitations:add"), {"email": "friend@elsewhere.example", "organisation": police.pk})
    assert response.status_code == 200
    assert "not on National Police Cybercrime Unit&#x27;s verified email domains" in response.content.decode()
    assert not Invitation.objects.exists()
    client.post(reverse("invitations:add"), {"email": "friend@elsewhere.example", "organisation": police.pk,
                                             "override_domain": "on"})
    assert Invitation.objects.get().email == "friend@elsewhere.example"


def test_the_contact_person_is_told_when_someone_joins(client, home, police, committed):
    committed(services.invite, "new.officer@police.example", police, invited_by=UserFactory(is_staff=True))
    link = re.search(r"http://testserver(/members/join/[^/\s]+/)", mail.outbox[-1].body).group(1)
    mail.outbox.clear()
    committed(client.post, link,
              {"first_name": "New", "last_name": "Officer", "password1": PASSWORD, "password2": PASSWORD})
    assert Membership.objects.get(user__email="new.officer@police.example").organisation == police
    notes = [message for message in mail.outbox if message.to == ["chief@police.example"]]
    assert len(notes) == 1
    assert "New Officer <new.officer@police.example> has just joined National Police Cybercrime Unit" in notes[0].body
