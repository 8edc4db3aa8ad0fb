"""Replay every interaction recorded from the live Mailchimp API against the fake and compare the answers.

Each recording is replayed on a fresh fake whose state is first arranged the way the recording implies
(a member a 200 GET found exists, with the status it reported; an archived member for a 405 DELETE; the
duplicate that a 400 complained about...). The fake must then answer with the same status code and content
type, a body of the same shape (every recorded key present, with the same JSON type, recursively), the same
member status and problem title, and for errors an RFC 7807 document whose ``instance`` is the
``X-Request-Id`` header.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

import pytest
import requests

from tests.fakes.mailchimp import FakeMailchimp, parse_stamp, subscriber_hash

CONTRACT = Path(os.environ.get("MAILCHIMP_CONTRACT_DIR", "/work/shared/mailchimp-contract")) / "recorded.json"
RECORDINGS = json.loads(CONTRACT.read_text()) if CONTRACT.exists() else []
KEY = "fakekey-us1"

pytestmark = pytest.mark.skipif(not RECORDINGS, reason="recorded Mailchimp contract not available")


def _known_emails() -> dict[str, str]:
    """hash -> address for every address that appears anywhere in the recordings."""
    text = CONTRACT.read_text() if CONTRACT.exists() else ""
    emails = set(re.findall(r"[\w.+-]+@[\w-]+\.[\w.]+", text))
    return {hashlib.md5(e.lower().encode()).hexdigest(): e for e in emails}


EMAILS = _known_emails()


def arrange(fake: FakeMailchimp, rec: dict) -> None:
    """Put the fake in the state the recorded answer implies."""
    path, status, body, request = rec["path"], rec["status"], rec["response_body"], rec["request_body"] or {}
    list_match = re.match(r"/lists/([^/?]+)", path)
    if list_match and not (status == 404 and re.fullmatch(r"/lists/[^/]+", path)):
        fake.add_list(list_match.group(1))
        fake.list_id = list_match.group(1)
    member_match = re.search(r"/members/([0-9a-fA-F]{32})", path)
    if member_match:
        member_hash = member_match.group(1).lower()
        email = EMAILS.get(member_hash, f"{member_hash[:8]}@example.org")
        if isinstance(body, dict) and "email_address" in body and status == 200:
            if rec["method"] == "PUT" and subscriber_hash(body["email_address"]) != member_hash:
                fake.add_member(email, member_hash=member_hash)  # a rename: the member exists under the old address
            elif rec["method"] in {"GET", "PATCH", "PUT"}:
                fake.add_member(body["email_address"], status=body.get("status", "subscribed"))
        elif status == 204:
            fake.add_member(email, member_hash=member_hash)
        elif status == 405:
            fake.add_member(email, status="archived", member_hash=member_hash)
        elif status == 400 and rec["method"] == "PUT":
            fake.add_member(request["email_address"])
            if body.get("errors"):  # renaming an existing member to an address already on the list
                fake.add_member(f"old-{member_hash[:6]}@example.org", member_hash=member_hash)
    audience = fake.lists.get(fake.list_id)
    if audience is not None and isinstance(body, dict) and status == 200 and "email_address" in body:
        # The audience's GDPR fields show on every member; tags on a new member were added by the account itself.
        audience.marketing_permissions.update({p["marketing_permission_id"]: p["text"]
                                               for p in body.get("marketing_permissions") or []})
        tags = [tag["name"] for tag in body.get("tags") or []]
        member = audience.members.get(subscriber_hash(body["email_address"])) or (
            audience.members.get(member_match.group(1).lower()) if member_match else None)
        if member is not None:
            member.tags.update(tags)
            member.marketing_permissions = {p["marketing_permission_id"]: {"text": p["text"], "enabled": p["enabled"]}
                                            for p in body.get("marketing_permissions") or []}
        elif rec["method"] == "POST":
            audience.signup_tags = tags
    if isinstance(body, dict) and isinstance(body.get("lists"), list):
        for item in body["lists"]:
            fake.add_list(item["id"], name=item.get("name", "Seeded"))
    if rec["method"] == "POST" and path.endswith("/members") and status == 400 and "Exists" in body.get("title", ""):
        fake.add_member(request["email_address"])
    if isinstance(body, dict) and isinstance(body.get("members"), list):
        for item in body["members"]:
            member_id = item.get("id", "x")
            email = item.get("email_address") or EMAILS.get(member_id, f"{member_id[:8]}@example.org")
            changed = parse_stamp(item["last_changed"]) if item.get("last_changed") else None
            fake.add_member(email, status=item.get("status", "subscribed"), last_changed=changed)
    category = re.search(r"/interest-categories/([^/]+)", path)
    audience = fake.lists.get(fake.list_id)
    if audience is not None and path.endswith("/interest-categories"):
        for item in (body or {}).get("categories", []) if status == 200 and rec["method"] == "GET" else []:
            audience.categories[item["id"]] = {"title": item["title"], "type": item["type"], "interests": {}}
        if status == 400:
            audience.categories["seeded"] = {"title": request["title"], "type": "checkboxes", "interests": {}}
    if audience is not None and category:
        entry = audience.categories.setdefault(category.group(1), {"title": "Seeded", "type": "checkboxes",
                                                                    "interests": {}})
        interest = re.search(r"/interests/([^/]+)", path)
        if interest:
            entry["interests"][interest.group(1)] = "Seeded"
        if status == 400 and request.get("name"):
            entry["interests"]["seeded"] = request["name"]
        if rec["method"] == "GET" and status == 200:
            for item in body.get("interests", []):
                entry["interests"][item["id"]] = item["name"]
    campaign = re.match(r"/campaigns/([^/]+)", path)
    if campaign and status == 200:
        fake.add_campaign(campaign.group(1))
    if path == "/campaigns" and rec["method"] == "GET":
        for item in body.get("campaigns", []):
            fake.add_campaign(item["id"], status=item.get("status", "save"))


# Objects keyed by account-specific names (merge tags, interest ids): only their type is part of the contract.
ACCOUNT_MAPS = {"merge_fields", "interests"}


def same_shape(recorded, answered, where="body") -> list[str]:
    """Differences in shape: every recorded key present in the answer, with the same JSON type."""
    problems = []
    if isinstance(recorded, dict):
        if not isinstance(answered, dict):
            return [f"{where}: expected an object, got {type(answered).__name__}"]
        for key, value in recorded.items():
            if key not in answered:
                problems.append(f"{where}.{key} missing")
            elif key in ACCOUNT_MAPS and isinstance(value, dict):
                if not isinstance(answered[key], dict):  # keys are this account's merge tags / interest ids
                    problems.append(f"{where}.{key}: expected an object")
            elif value is not None and answered[key] is not None:
                problems += same_shape(value, answered[key], f"{where}.{key}")
    elif isinstance(recorded, list):
        if not isinstance(answered, list):
            return [f"{where}: expected a list"]
        if recorded and not answered:
            # An empty answer would compare nothing: the item keys are part of the contract.
            problems.append(f"{where}: the recording has items, the answer none")
        elif recorded:
            problems += same_shape(recorded[0], answered[0], f"{where}[0]")
    elif isinstance(recorded, bool) or isinstance(answered, bool):
        if type(recorded) is not type(answered):
            problems.append(f"{where}: {type(recorded).__name__} vs {type(answered).__name__}")
    elif isinstance(recorded, int | float) and not isinstance(answered, int | float):
        problems.append(f"{where}: expected a number")
    elif isinstance(recorded, str) and not isinstance(answered, str):
        problems.append(f"{where}: expected a string")
    return problems


def replay(fake: FakeMailchimp, rec: dict, key: str) -> requests.Response:
    url = fake.base_url + rec["path"]
    data = json.dumps(rec["request_body"]) if rec["request_body"] is not None else None
    return requests.request(rec["method"], url, params=rec["query"] or None, data=data, auth=("anystring", key),
                            headers={"Content-Type": "application/json"}, timeout=10)


@pytest.mark.parametrize("rec", RECORDINGS, ids=[f"{n}-{r['method']}-{r['path_template']}-{r['status']}"
                                                 for n, r in enumerate(RECORDINGS)])
def test_fake_answers_like_the_recorded_api(rec):
    with FakeMailchimp(list_id="") as fake:
        arrange(fake, rec)
        key = "wrong-key-us1" if rec["status"] == 401 else KEY
        response = replay(fake, rec, key)

    assert response.status_code == rec["status"], response.text
    assert response.headers["Content-Type"] == rec["content_type"]
    assert response.headers.get("X-Request-Id")
    recorded = rec["response_body"]
    if rec["status"] == 204:
        assert response.content == b""
        return
    answered = response.json()
    if rec["content_type"].startswith("application/problem+json"):
        assert answered["status"] == rec["status"] == recorded["status"]
        assert answered["title"] == recorded["title"]
        assert answered["instance"] == response.headers["X-Request-Id"]
        assert isinstance(answered["detail"], str) and answered["detail"]
        if "errors" in recorded:
            assert [e.keys() for e in answered["errors"]] == [e.keys() for e in recorded["errors"]]
        if "Allow" in (rec.get("response_headers") or {}):
            assert response.headers["Allow"] == rec["response_headers"]["Allow"]
        if recorded["detail"] == "Invalid path":
            assert answered["detail"] == "Invalid path"
        return
    assert same_shape(recorded, answered) == []
    if isinstance(recorded, dict) and "status" in recorded and "email_address" in recorded:
        assert answered["status"] == recorded["status"]
        assert answered["email_address"] == recorded["email_address"]
        assert answered["id"] == subscriber_hash(recorded["email_address"]) == recorded["id"].lower()


def test_every_recording_is_replayed():
    """The parametrisation above covers the whole file (83 interactions when this was written)."""
    assert len(RECORDINGS) >= 80
