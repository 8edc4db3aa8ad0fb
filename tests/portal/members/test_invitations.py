"""Invitation links: valid ones work once; expired, reused and tampered ones are refused with a clear page."""

import datetime
import re

from django.contrib.auth import get_user_model
from django.core import mail, signing
from django.urls import reverse

from wagtail.models import ModelLogEntry

import pytest

from portal.members import services
from portal.members.models import Invitation
from tests.factories import UserFactory
from tests.portal.members.factories import OrganisationFactory, sector

PASSWORD = "lantern-orbit-meadow-42"


def form_data(**overrides):
    return {"first_name": "Ana", "last_name": "Silva", "password1": PASSWORD, "password2": PASSWORD, **overrides}


@pytest.fixture
def invitation(db, django_capture_on_commit_callbacks):
    organisation = OrganisationFactory(name="Linha Alerta", sector=sector("hotline"), email_domains="example.org")
    staff = UserFactory(is_staff=True)
    with django_capture_on_commit_callbacks(execute=True):
        return services.invite("Ana@Example.org", organisation, invited_by=staff)


def link_from_email() -> str:
    body = mail.outbox[-1].body
    return re.search(r"http://testserver(/members/join/[^/\s]+/)", body).group(1)


def test_invitation_email_is_sent_after_commit_with_a_working_link(invitation):
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ana@example.org"]
    assert "Linha Alerta" in message.body
    invitation.refresh_from_db()
    assert invitation.sent_at is not None
    assert ModelLogEntry.objects.filter(action="members.invitation.create").exists()


def test_valid_link_creates_account_signs_in_and_lands_on_dashboard(client, invitation):
    url = link_from_email()
    page = client.get(url)
    assert page.status_code == 200
    assert "ana@example.org" in page.content.decode()

    response = client.post(url, form_data())
    assert response.status_code == 302
    assert response["Location"] == reverse("members:dashboard")
    dashboard = client.get(response["Location"])
    assert dashboard.status_code == 200
    assert "Linha Alerta" in dashboard.content.decode()

    invitation.refresh_from_db()
    assert invitation.used_at is not None
    user = invitation.user
    assert user.email == "ana@example.org"
    assert set(user.groups.values_list("name", flat=True)) == {"Members", "Hotlines"}


def test_reused_link_is_refused_with_a_clear_page(client, invitation):
    url = link_from_email()
    client.post(url, form_data())
    client.logout()
    again = client.get(url)
    assert again.status_code == 410
    assert "already been used" in again.content.decode()
    second_post = client.post(url, form_data(first_name="Mallory"))
    assert second_post.status_code == 410
    assert not get_user_model().objects.filter(first_name="Mallory").exists()


def test_expired_link_is_refused_with_a_clear_page(client, invitation, settings):
    url = link_from_email()
    # Both the signature's timestamp and the stored row are older than the allowed age.
    Invitation.objects.filter(pk=invitation.pk).update(
        created_at=invitation.created_at - datetime.timedelta(days=settings.MEMBERS_INVITATION_MAX_AGE_DAYS + 1)
    )
    settings.MEMBERS_INVITATION_MAX_AGE_DAYS = 0
    response = client.get(url)
    assert response.status_code == 410
    assert "has expired" in response.content.decode()
    assert client.post(url, form_data()).status_code == 410
    invitation.refresh_from_db()
    assert invitation.used_at is None


@pytest.mark.parametrize(
    "mangle",
    [
        lambda token: token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb"),  # signature changed
        lambda token: "x" + token,  # payload changed
        lambda token: signing.dumps({"i": 1, "e": "ana@example.org"}, salt="some-other-salt"),  # wrong salt
    ],
    ids=["signature", "payload", "salt"],
)
def test_tampered_link_is_refused_with_a_clear_page(client, invitation, mangle):
    token = link_from_email().split("/")[-2]
    response = client.get(reverse("members:join", args=[mangle(token)]))
    assert response.status_code == 400
    assert "not valid" in response.content.decode()


def test_token_for_another_invitation_email_is_refused(client, invitation):
    forged = signing.dumps({"i": invitation.pk, "e": "mallory@example.org"}, salt=services.INVITATION_SALT)
    response = client.get(reverse("members:join", args=[forged]))
    assert response.status_code == 400


def test_weak_or_mismatched_passwords_are_explained_and_the_link_stays_usable(client, invitation):
    url = link_from_email()
    response = client.post(url, form_data(password2="something-else-entirely"))
    assert response.status_code == 200
    assert "not the same" in response.content.decode()
    response = client.post(url, form_data(password1="password", password2="password"))
    assert response.status_code == 200
    assert "too common" in response.content.decode()
    invitation.refresh_from_db()
    assert invitation.used_at is None
    assert client.post(url, form_data()).status_code == 302


def test_sending_task_is_idempotent(invitation):
    from portal.members.tasks import send_invitation

    assert len(mail.outbox) == 1
    assert send_invitation(invitation.pk) is False  # already sent: a retried or duplicated task sends nothing
    assert len(mail.outbox) == 1
