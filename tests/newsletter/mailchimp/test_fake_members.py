"""The fake Mailchimp holds members as the live API does (README of /work/shared/mailchimp-contract): merge fields
checked by type with the live 400 "Your merge fields were invalid." and its ``errors`` array, ``fields`` and
``exclude_fields`` at every level, and ``marketing_permissions`` and ``tags`` kept from ``POST .../members``.
Driven through the official client, as the portal calls it."""

import pytest

from newsletter.mailchimp.client import Mailchimp, MailchimpRejected

LIST = "a1b2c3d4e5"


@pytest.fixture
def audience(fake_mailchimp):
    audience = fake_mailchimp.lists[LIST]
    audience.merge_fields += [
        {"merge_id": 3, "tag": "LTV", "name": "Lifetime value", "type": "number"},
        {"merge_id": 4, "tag": "JOINED", "name": "Joined", "type": "date", "options": {"date_format": "DD/MM/YYYY"}},
        {"merge_id": 5, "tag": "SECTOR", "name": "Sector", "type": "dropdown",
         "options": {"choices": ["Hotline", "Police", "Industry"]}},
        {"merge_id": 6, "tag": "ADDRESS", "name": "Address", "type": "address"},
        {"merge_id": 7, "tag": "COUNTRY", "name": "Country", "type": "text", "required": True},
    ]
    audience.marketing_permissions = {"d7ce21601c": "Email", "75e893aca0": "Customized Online Advertising"}
    return audience


def add(body):
    return Mailchimp().call(lambda c: c.lists.add_list_member(LIST, body), retry=False)


def test_merge_fields_of_the_wrong_type_are_refused_like_the_live_api(audience):
    with pytest.raises(MailchimpRejected) as refused:
        add({"email_address": "reader@example.org", "status": "subscribed",
             "merge_fields": {"LTV": "a lot", "JOINED": "2026-13-45", "SECTOR": "Pirates", "COUNTRY": "BE",
                              "ADDRESS": {"addr1": "1 Rue", "city": ""}}})
    error = refused.value
    assert (error.status, error.title, error.detail) == (400, "Invalid Resource", "Your merge fields were invalid.")
    assert {e["field"]: e["message"] for e in error.errors} == {
        "LTV": "Please enter a number", "JOINED": "Please enter a date",
        "SECTOR": "Please choose one of the options", "ADDRESS": "Please enter a complete address",
    }
    assert not audience.members  # nothing stored from a refused write

    # A required field left out of a new member is refused too; unknown keys are ignored as the live API does.
    with pytest.raises(MailchimpRejected) as missing:
        add({"email_address": "reader@example.org", "status": "subscribed",
             "merge_fields": {"email_address": "reader@example.org"}})
    assert missing.value.errors == [{"field": "COUNTRY", "message": "Please enter a value"}]

    member = add({"email_address": "reader@example.org", "status": "subscribed",
                  "merge_fields": {"LTV": "12.5", "JOINED": "31/01/2026", "SECTOR": "Police", "COUNTRY": "BE",
                                   "ADDRESS": {"addr1": "1 Rue", "city": "Liège", "state": "LG", "zip": "4000"}}})
    assert member["merge_fields"]["LTV"] == "12.5" and member["merge_fields"]["SECTOR"] == "Police"

    # Updates are checked the same way (PATCH and PUT), and leave the member as it was.
    with pytest.raises(MailchimpRejected) as patched:
        Mailchimp().call(lambda c: c.lists.update_list_member(LIST, member["id"], {"merge_fields": {"LTV": True}}),
                         retry=False)
    assert patched.value.detail == "Your merge fields were invalid."
    assert audience.members[member["id"]].merge_fields["LTV"] == "12.5"


def test_batch_subscribe_reports_merge_field_errors_per_member(audience):
    answer = Mailchimp().call(lambda c: c.lists.batch_list_members(LIST, {"members": [
        {"email_address": "good@example.org", "status": "subscribed", "merge_fields": {"COUNTRY": "NL"}},
        {"email_address": "bad@example.org", "status": "subscribed", "merge_fields": {"COUNTRY": "NL", "LTV": "x"}},
    ]}))
    assert answer["total_created"] == 1 and answer["error_count"] == 1
    [error] = answer["errors"]
    assert error["email_address"] == "bad@example.org" and error["error"] == "Your merge fields were invalid."
    assert (error["field"], error["field_message"]) == ("LTV", "Please enter a number")


def test_marketing_permissions_and_tags_sent_with_a_new_member_are_kept(audience):
    member = add({"email_address": "reader@example.org", "status": "subscribed", "merge_fields": {"COUNTRY": "PL"},
                  "tags": ["portal", "conference 2026"],
                  "marketing_permissions": [{"marketing_permission_id": "d7ce21601c", "enabled": True}]})
    permissions = {p["marketing_permission_id"]: (p["text"], p["enabled"]) for p in member["marketing_permissions"]}
    assert permissions == {"d7ce21601c": ("Email", True), "75e893aca0": ("Customized Online Advertising", False)}
    assert sorted(tag["name"] for tag in member["tags"]) == ["conference 2026", "portal"]
    again = Mailchimp().call(lambda c: c.lists.get_list_member(LIST, member["id"]))
    assert again["tags_count"] == 2 and again["marketing_permissions"] == member["marketing_permissions"]

    with pytest.raises(MailchimpRejected) as unknown:
        add({"email_address": "other@example.org", "status": "subscribed", "merge_fields": {"COUNTRY": "PL"},
             "marketing_permissions": [{"marketing_permission_id": "nope", "enabled": True}]})
    assert unknown.value.errors[0]["field"] == "marketing_permissions"


def test_fields_and_exclude_fields_apply_at_every_level(audience, fake_mailchimp):
    for n in range(3):
        fake_mailchimp.add_member(f"m{n}@example.org", merge_fields={"COUNTRY": "FR", "LTV": n})
    api = Mailchimp()

    page = api.call(lambda c: c.lists.get_list_members_info(
        LIST, exclude_fields=["_links", "members._links", "members.merge_fields.LTV", "members.stats"]))
    assert "_links" not in page and page["total_items"] == 3
    for item in page["members"]:
        assert "_links" not in item and "stats" not in item
        assert item["merge_fields"] == {"COUNTRY": "FR"} and "email_address" in item

    narrow = api.call(lambda c: c.lists.get_list_members_info(
        LIST, fields=["members.email_address", "members.merge_fields.LTV", "total_items"]))
    assert set(narrow) == {"members", "total_items"}
    assert narrow["members"][0].keys() == {"email_address", "merge_fields"}
    assert set(narrow["members"][0]["merge_fields"]) == {"LTV"}

    # Single resources and other collections too.
    member = api.call(lambda c: c.lists.get_list_member(LIST, page["members"][0]["id"],
                                                         exclude_fields=["_links", "location"]))
    assert "_links" not in member and "location" not in member and "email_address" in member
    lists = api.call(lambda c: c.lists.get_all_lists(fields=["lists.id", "lists.stats.member_count"]))
    assert lists == {"lists": [{"id": LIST, "stats": {"member_count": 3}}]}
