"""A translated issue through Mailchimp: one campaign per language with readers, each to the segment of those who
read that version (the same split as by SMTP), created once however often a step is retried; reports and the
unschedule action cover all of them."""

import json
from datetime import timedelta

from django.utils import timezone

import pytest

from newsletter.mailchimp import reports
from newsletter.models import Audience, Delivery, Send
from newsletter.services import campaigns, dispatch
from tests.factories import translate
from tests.newsletter.factories import SubscriberFactory
from tests.newsletter.issue_factories import NewsletterIndexPageFactory, make_issue, text

LIST = "a1b2c3d4e5"


@pytest.fixture
def mailchimp(settings, fake_mailchimp):
    settings.NEWSLETTER_BACKEND = "mailchimp"
    return fake_mailchimp


@pytest.fixture
def issue(home):
    archive = NewsletterIndexPageFactory(parent=home)
    translate(home, "fr", title="Réseau de hotlines")
    translate(archive, "fr", title="Lettre d'information")
    translate(home, "de", title="Hotline-Netzwerk")
    translate(archive, "de", title="Newsletter")
    original = make_issue(archive, audience=Audience.PUBLIC, subject="Network news: takedown", preheader="In short",
                          blocks=[text("<p>Hotlines removed most reported content fast.</p>")])
    translate(original, "fr", subject="Nouvelles du réseau : retrait", preheader="En bref",
              body=json.dumps([text("<p>Les hotlines ont retiré vite la plupart des contenus signalés.</p>")]))
    translate(original, "de", subject="Netzwerk-Neuigkeiten",
              body=json.dumps([text("<p>Hotlines entfernten das meiste schnell.</p>")]))
    return original


@pytest.fixture
def readers(db):
    return {
        "en": [SubscriberFactory(email=f"ann{n}@example.org", language="en") for n in range(3)]
        + [SubscriberFactory(email="daan@example.org", language="nl")],  # no Dutch translation: the original
        "fr": [SubscriberFactory(email=f"claire{n}@example.org", language="fr") for n in range(2)]
        + [SubscriberFactory(email="belgian@example.org", language="fr-be")],
        "de": [SubscriberFactory(email="jonas@example.org", language="de")],
    }


def run_until_settled(send, limit=40):
    outcomes = []
    for _ in range(limit):
        outcomes.append(dispatch.run_send(send.pk).state)
        if outcomes[-1] != "wait":
            break
    send.refresh_from_db()
    return outcomes


def by_subject(fake):
    return {campaign.settings["subject_line"]: campaign for campaign in fake.campaigns.values()}


def segment_emails(fake, campaign):
    segment = fake.lists[LIST].segments[int(campaign.recipients["segment_opts"]["saved_segment_id"])]
    return {fake.lists[LIST].members[h].email_address for h in segment["members"]}


def test_each_language_gets_its_own_campaign_to_its_own_readers(issue, readers, mailchimp):
    send, _ = dispatch.create_send(issue)
    assert run_until_settled(send) == ["done"]

    campaigns_ = by_subject(mailchimp)
    assert set(campaigns_) == {"Network news: takedown", "Nouvelles du réseau : retrait", "Netzwerk-Neuigkeiten"}
    english, french, german = (campaigns_[s] for s in ("Network news: takedown", "Nouvelles du réseau : retrait",
                                                        "Netzwerk-Neuigkeiten"))
    assert segment_emails(mailchimp, english) == {p.email for p in readers["en"]}
    assert segment_emails(mailchimp, french) == {p.email for p in readers["fr"]}
    assert segment_emails(mailchimp, german) == {"jonas@example.org"}
    assert "Les hotlines ont retiré vite" in french.html and "Hotlines removed" not in french.html
    assert "Hotlines removed most reported content fast." in english.html
    assert french.settings["preview_text"] == "En bref" and english.settings["preview_text"] == "In short"
    assert "[fr]" in french.settings["title"] and "*|UNSUB|*" in french.html
    assert "/newsletter/l/" in french.html and "CLICK_STAMP" not in french.html + french.plain_text
    assert all(c.status == "sent" for c in campaigns_.values())
    assert sum(c.emails_sent for c in campaigns_.values()) == 8
    assert send.provider_reference == english.id and send.campaign_ids == [english.id, german.id, french.id]
    assert set(Delivery.objects.filter(send=send).values_list("status", flat=True)) == {Delivery.Status.SENT}
    for campaign in campaigns_.values():
        tracking = mailchimp._campaign_json(campaign)["tracking"]
        assert tracking["opens"] is False and tracking["html_clicks"] is False


STEPS = [("POST", r"/campaigns"), ("POST", rf"/lists/{LIST}/segments"), ("POST", rf"/lists/{LIST}/segments/\d+"),
         ("PATCH", r"/campaigns/\w+"), ("PUT", r"/campaigns/\w+/content"), ("POST", r"/campaigns/\w+/actions/send")]


def test_lost_answers_at_every_step_of_every_language_create_and_send_each_campaign_once(
    issue, readers, mailchimp, settings
):
    settings.MAILCHIMP_MAX_RETRIES = 0
    for method, path in STEPS:
        mailchimp.lose_answer(times=3, method=method, path=path)  # one per campaign
    send, _ = dispatch.create_send(issue)

    outcomes = run_until_settled(send, limit=80)

    assert outcomes[-1] == "done" and mailchimp.pending_faults() == 0
    assert len(mailchimp.campaigns) == 3 and len(mailchimp.lists[LIST].segments) == 3
    assert all(c.status == "sent" for c in mailchimp.campaigns.values())
    # Each campaign was sent by exactly one request: after a lost answer its status is read back, not re-sent.
    assert len(mailchimp.calls_to("POST", r"/3.0/campaigns/\w+/actions/send")) == 3
    assert sorted(c.emails_sent for c in mailchimp.campaigns.values()) == [1, 3, 4]
    mailchimp.reset_calls()
    assert dispatch.run_send(send.pk).state == "idle" and mailchimp.calls == []


def test_only_translations_with_readers_get_a_campaign_and_no_empty_original(issue, mailchimp):
    SubscriberFactory(email="claire@example.org", language="fr")
    send, _ = dispatch.create_send(issue)
    assert run_until_settled(send) == ["done"]

    [campaign] = mailchimp.campaigns.values()
    assert campaign.settings["subject_line"] == "Nouvelles du réseau : retrait" and campaign.status == "sent"
    assert send.provider_reference == "" and send.campaign_ids == [campaign.id]
    assert len(mailchimp.calls_to("POST", rf"/3.0/lists/{LIST}")) >= 1  # the audience was still synced first


def test_unschedule_calls_off_every_language_campaign(issue, readers, mailchimp):
    send, _ = dispatch.create_send(issue, scheduled_at=timezone.now() + timedelta(days=1))
    assert campaigns.hand_over_scheduled() == [send.pk]
    run_until_settled(send)
    assert {c.status for c in mailchimp.campaigns.values()} == {"schedule"} and len(mailchimp.campaigns) == 3
    assert campaigns.can_unschedule(send)

    assert campaigns.unschedule(send) == ""

    assert {c.status for c in mailchimp.campaigns.values()} == {"save"}
    send.refresh_from_db()
    assert send.status == Send.Status.CANCELLED and not campaigns.can_unschedule(send)


def test_the_progress_page_names_each_language_campaign(issue, readers, mailchimp, client, admin_user):
    from django.urls import reverse

    send, _ = dispatch.create_send(issue)
    run_until_settled(send)
    client.force_login(admin_user)
    page = client.get(reverse("newsletter_sending:progress", args=[send.pk])).content.decode()
    assert "Campaigns (original, de, fr)" in page
    assert ", ".join(send.campaign_ids) in page


def test_the_report_adds_up_the_language_campaigns(issue, readers, mailchimp):
    send, _ = dispatch.create_send(issue)
    run_until_settled(send)
    for n, campaign in enumerate(mailchimp.campaigns.values()):
        mailchimp.set_report(campaign.id, emails_sent=10 * (n + 1), hard_bounces=1, soft_bounces=n,
                             abuse_reports=n, unsubscribed=1)

    figures = reports.pull_report(send)

    assert figures["emails_sent"] == 60 and figures["hard_bounces"] == 3 and figures["soft_bounces"] == 3
    assert figures["abuse_reports"] == 3 and figures["unsubscribed"] == 3 and figures["campaigns"] == 3
