"""Deactivating an organisation revokes its members' access on their very next request."""

from django.urls import reverse

from wagtail.models import PageViewRestriction

from portal.members.services import set_organisation_active
from tests.factories import StandardPageFactory, UserFactory, paragraph
from tests.portal.members.factories import member_of


def restricted_page(home, word, groups=None):
    page = StandardPageFactory(parent=home, title=f"Page {word}", slug=word.lower(), body=paragraph(word))
    if groups:
        restriction = PageViewRestriction.objects.create(page=page, restriction_type=PageViewRestriction.GROUPS)
        restriction.groups.set(groups)
    else:
        PageViewRestriction.objects.create(page=page, restriction_type=PageViewRestriction.LOGIN)
    return page


def test_deactivating_organisation_revokes_access_on_next_request(client, home, law_enforcement_group):
    members_page = restricted_page(home, "Quartzmembers")
    police_page = restricted_page(home, "Quartzpolice", groups=[law_enforcement_group])
    officer = member_of("law-enforcement")
    client.force_login(officer)

    assert "Quartzmembers" in client.get(members_page.url).content.decode()
    assert "Quartzpolice" in client.get(police_page.url).content.decode()
    assert client.get(reverse("members:dashboard")).status_code == 200

    set_organisation_active(officer.membership.organisation, False)

    for page in (members_page, police_page):
        response = client.get(page.url)
        assert response.status_code == 302
        assert response["Location"].startswith("/members/login/")
    assert client.get(reverse("members:dashboard")).status_code == 302


def test_member_of_inactive_organisation_cannot_sign_in(client, home):
    officer = member_of("law-enforcement", username="officer")
    set_organisation_active(officer.membership.organisation, False)
    response = client.post(reverse("members:login"), {"username": "officer", "password": "correct-horse-battery"})
    assert response.status_code == 200
    assert "not active" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_staff_without_organisation_still_sign_in(client, home):
    UserFactory(username="secretariat", is_staff=True)
    response = client.post(reverse("members:login"), {"username": "secretariat", "password": "correct-horse-battery"})
    assert response.status_code == 302
    assert response["Location"] == "/members/"


def test_restricted_page_sends_anonymous_visitor_to_styled_login(client, home):
    page = restricted_page(home, "Quartzlogin")
    response = client.get(page.url, follow=True)
    body = response.content.decode()
    assert response.redirect_chain[0][0].startswith("/members/login/?next=")
    assert "Sign in" in body and "members of the network only" in body
    assert "Quartzlogin" not in body


def test_members_can_sign_in_with_their_email_address(client, home):
    member_of("ngo", username="ngo-user", email="Someone@NGO.example")
    response = client.post(reverse("members:login"), {"username": "someone@ngo.example",
                                                      "password": "correct-horse-battery"})
    assert response.status_code == 302
    assert response["Location"] == "/members/"


def test_member_of_another_sector_sees_a_clear_refusal_not_a_redirect_loop(client, home, law_enforcement_group):
    page = restricted_page(home, "Quartzsector", groups=[law_enforcement_group])
    client.force_login(member_of("hotline"))
    response = client.get(page.url, follow=True)
    assert response.status_code == 200
    assert len(response.redirect_chain) == 1
    body = response.content.decode()
    assert "Your account cannot open that page" in body
    assert "Quartzsector" not in body  # title and body text; only the lower-case slug is in ?next=
