"""A local fake of the Mailchimp Marketing API v3, served over HTTP on loopback.

It implements the subset the portal calls, with the real shapes and status codes (checked against responses
recorded from the live API in ``/work/shared/mailchimp-contract``): RFC 7807 ``application/problem+json`` errors
whose ``instance`` equals the ``X-Request-Id`` header, 204s with empty bodies, collections with ``total_items`` and
``_links``, members keyed by md5 of the lowercased address.

Switches inject faults: ``fail_next(status, times)`` answers with 429/5xx, ``drop_next(times)`` closes the
connection without an answer, ``latency`` delays every answer, ``api_key`` decides which key is accepted.
``calls`` lists every request received, ``max_in_flight`` the most requests handled at once.

The base URL (``fake.base_url``) deliberately avoids the word "server": the official client replaces it with
the data centre prefix.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import hashlib
import itertools
import json
import re
import secrets
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

ERROR_TYPE = "https://mailchimp.com/developer/marketing/docs/errors/"
MEMBER_STATUSES = {"subscribed", "unsubscribed", "cleaned", "pending", "transactional", "archived"}
# Mailchimp refuses addresses at domains it considers fake (observed: "foo@example.com looks fake or invalid").
FAKE_LOOKING_DOMAINS = {"example.com"}
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MERGE_FIELDS_INVALID = "Your merge fields were invalid."


def subscriber_hash(email: str) -> str:
    return hashlib.md5(email.strip().lower().encode()).hexdigest()


def stamp(moment: datetime | None = None) -> str:
    """Mailchimp's timestamp format: 2020-03-04T21:52:36+00:00."""
    return (moment or datetime.now(UTC)).replace(microsecond=0).isoformat()


def now_seconds() -> datetime:
    """Mailchimp keeps last_changed to the second."""
    return datetime.now(UTC).replace(microsecond=0)


def parse_stamp(value: str) -> datetime:
    value = value.strip().replace("Z", "+00:00")
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Problem(Exception):
    """An error answer (RFC 7807)."""

    def __init__(self, status: int, title: str, detail: str, *, errors=None, headers=None, with_type=True):
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail
        self.errors, self.headers, self.with_type = errors, headers or {}, with_type


def links(href: str, schema: str) -> list[dict]:
    """A resource's ``_links`` as Mailchimp writes them (self link with its schemas)."""
    root = "https://us1.api.mailchimp.com/schema/3.0/"
    return [{"rel": "self", "href": href, "method": "GET", "targetSchema": root + schema,
             "schema": root + "Paths/" + schema}]


def merge_value_error(spec: dict, value) -> str:
    """Mailchimp's message for a merge field value its type refuses ("" when the value is acceptable).

    "Please enter a number" is the recorded live message; the others follow its wording.
    """
    kind = spec.get("type", "text")
    if value in (None, ""):
        return ""
    if kind == "number":
        if isinstance(value, bool):
            return "Please enter a number"
        if isinstance(value, int | float):
            return ""
        try:
            float(str(value).replace(",", ""))
        except ValueError:
            return "Please enter a number"
        return ""
    if kind == "address":
        if not isinstance(value, dict) or not all(str(value.get(k) or "").strip()
                                                  for k in ("addr1", "city", "state", "zip")):
            return "Please enter a complete address"
        return ""
    if not isinstance(value, str):
        return "Please enter a value" if kind == "text" else f"Please enter a valid {kind}"
    if kind == "date":
        date_format = (spec.get("options") or {}).get("date_format", "MM/DD/YYYY")
        patterns = {"MM/DD/YYYY": "%m/%d/%Y", "DD/MM/YYYY": "%d/%m/%Y"}
        for pattern in (patterns.get(date_format, "%m/%d/%Y"), "%Y-%m-%d"):
            try:
                datetime.strptime(value, pattern)
                return ""
            except ValueError:
                continue
        return "Please enter a date"
    if kind == "birthday":
        return "" if re.fullmatch(r"(0?[1-9]|1[0-2])/(0?[1-9]|[12]\d|3[01])", value) else "Please enter a birthday"
    if kind in {"dropdown", "radio"}:
        choices = (spec.get("options") or {}).get("choices") or []
        return "" if value in choices else "Please choose one of the options"
    if kind in {"url", "imageurl"}:
        return "" if re.match(r"https?://", value) else "Please enter a valid URL"
    if kind == "phone":
        return "" if re.fullmatch(r"[\d\s()+.-]{6,}", value) else "Please enter a valid phone number"
    if kind == "zip":
        return "" if re.fullmatch(r"\d{5}(-\d{4})?", value) else "Please enter a valid zip code"
    return ""


def _paths(spec: str | None) -> dict:
    """``a.b,c`` → {"a": {"b": {}}, "c": {}} (an empty dict marks the end of a path)."""
    tree: dict = {}
    for path in (spec or "").split(","):
        node = tree
        for part in [p for p in path.strip().split(".") if p]:
            node = node.setdefault(part, {})
    return tree


def project(body, fields: str | None, exclude_fields: str | None):
    """Apply the ``fields`` and ``exclude_fields`` query parameters at every level of a JSON answer.

    Dotted paths walk into objects and into every item of a list (``members.merge_fields.FNAME``,
    ``members._links``, ``_links``), as the live API does.
    """
    if not isinstance(body, dict):
        return body
    wanted, unwanted = _paths(fields), _paths(exclude_fields)

    def keep(value, tree):
        if not tree:
            return value
        if isinstance(value, list):
            return [keep(item, tree) for item in value]
        if isinstance(value, dict):
            return {k: keep(v, tree[k]) for k, v in value.items() if k in tree}
        return value

    def drop(value, tree):
        if isinstance(value, list):
            return [drop(item, tree) for item in value]
        if isinstance(value, dict):
            return {k: drop(v, tree[k]) if tree.get(k) else v for k, v in value.items()
                    if not (k in tree and not tree[k])}
        return value

    return drop(keep(copy.deepcopy(body), wanted), unwanted)


def not_found(detail="The requested resource could not be found."):
    return Problem(404, "Resource Not Found", detail)


@dataclass
class Member:
    email_address: str
    status: str = "subscribed"
    merge_fields: dict = field(default_factory=dict)
    interests: dict = field(default_factory=dict)
    tags: set = field(default_factory=set)
    # marketing_permission_id -> {"text", "enabled"}: every GDPR field of the audience, off until enabled.
    marketing_permissions: dict = field(default_factory=dict)
    language: str = ""
    last_changed: datetime = field(default_factory=lambda: now_seconds())
    timestamp_signup: str = ""
    unsubscribe_reason: str = ""
    web_id: int = 0
    events: list = field(default_factory=list)
    confirmation_emails: int = 0  # opt-in emails Mailchimp would have sent (status "pending")
    hash_override: str = ""
    unsubscribed_via_api: bool = False  # only then may the API subscribe the address again

    @property
    def id(self) -> str:
        return self.hash_override or subscriber_hash(self.email_address)

    def as_json(self, list_id: str, base: str) -> dict:
        body = {
            "id": self.id,
            "email_address": self.email_address,
            "unique_email_id": self.id[:10],
            "contact_id": self.id,
            "full_name": " ".join(v for v in (self.merge_fields.get("FNAME"), self.merge_fields.get("LNAME")) if v),
            "web_id": self.web_id,
            "email_type": "html",
            "status": self.status,
            "consents_to_one_to_one_messaging": True,
            "merge_fields": dict(self.merge_fields),
            "interests": dict(self.interests),
            "stats": {"avg_open_rate": 0, "avg_click_rate": 0},
            "ip_signup": "",
            "timestamp_signup": self.timestamp_signup,
            "ip_opt": "",
            "timestamp_opt": self.timestamp_signup,
            "member_rating": 2,
            "last_changed": stamp(self.last_changed),
            "language": self.language,
            "vip": False,
            "email_client": "",
            "location": {"latitude": 0, "longitude": 0, "gmtoff": 0, "dstoff": 0, "country_code": "",
                         "timezone": "", "region": ""},
            "marketing_permissions": [
                {"marketing_permission_id": permission_id, "text": value["text"], "enabled": value["enabled"]}
                for permission_id, value in self.marketing_permissions.items()],
            "source": "API - Generic",
            "tags_count": len(self.tags),
            "tags": [{"id": abs(hash(name)) % 100000, "name": name} for name in sorted(self.tags)],
            "list_id": list_id,
            "_links": links(f"{base}/lists/{list_id}/members/{self.id}", "Lists/Members/Instance.json"),
        }
        if self.status == "unsubscribed":
            body["unsubscribe_reason"] = self.unsubscribe_reason or "N/A (Unsubscribed via API)"
        return body


@dataclass
class AudienceList:
    id: str
    name: str = "Hotline Network Portal"
    members: dict = field(default_factory=dict)  # hash -> Member
    categories: dict = field(default_factory=dict)  # id -> {"title", "type", "interests": {id: name}}
    segments: dict = field(default_factory=dict)  # id -> {"name", "type", "members": set(hash)}
    merge_fields: list = field(default_factory=lambda: [
        {"merge_id": 1, "tag": "FNAME", "name": "First Name", "type": "text"},
        {"merge_id": 2, "tag": "LNAME", "name": "Last Name", "type": "text"},
    ])
    # GDPR fields (id -> text): an audience with them lists every one on every member, enabled or not.
    marketing_permissions: dict = field(default_factory=dict)
    # Tags the account adds to every new member by itself (a signup automation or integration).
    signup_tags: list = field(default_factory=list)


@dataclass
class Campaign:
    id: str
    web_id: int
    settings: dict
    recipients: dict
    type: str = "regular"
    status: str = "save"
    html: str = ""
    plain_text: str = ""
    send_time: str = ""
    create_time: str = field(default_factory=stamp)
    emails_sent: int = 0
    report: dict = field(default_factory=dict)
    # Mailchimp's defaults for a new campaign: opens and HTML clicks tracked.
    tracking: dict = field(default_factory=lambda: {"opens": True, "html_clicks": True, "text_clicks": False})


class FakeMailchimp:
    """State and behaviour of the fake API. Use as a context manager to serve it on loopback."""

    def __init__(self, *, api_key: str = "fakekey-us1", list_id: str = "a1b2c3d4e5", latency: float = 0.0):
        self.api_key = api_key
        self.lists: dict[str, AudienceList] = {}
        self.campaigns: dict[str, Campaign] = {}
        self.latency = latency
        self.calls: list[tuple[str, str, dict]] = []
        self.lock = threading.RLock()
        self._faults: list[dict] = []  # status (0: drop the connection), path regex, requests to let through
        self.batches: list[list[str]] = []  # addresses of every batch-subscribe request that succeeded
        self._web_ids = itertools.count(1001)
        self.in_flight = 0
        self.max_in_flight = 0
        self.httpd: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None
        self.list_id = list_id
        if list_id:
            self.add_list(list_id)

    # --- Serving -------------------------------------------------------------------------------------------------

    def __enter__(self) -> FakeMailchimp:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> FakeMailchimp:
        fake = self

        class Handler(_Handler):
            api = fake

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.request_queue_size = 64
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None

    @property
    def base_url(self) -> str:
        """Base URL for ``client.api_client.host`` (no "server" in it)."""
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/3.0"

    # --- Switches and inspection ---------------------------------------------------------------------------------

    def fail_next(self, status: int = 500, times: int = 1, *, path: str | None = None, method: str | None = None,
                  after: int = 0, empty: bool = False) -> None:
        """Answer ``times`` matching requests with ``status`` (429, 500, 503...), after letting ``after`` through.

        ``path`` is a regular expression the request path (after ``/3.0``) must match in full; ``empty`` sends
        the error with an empty body (as gateways in front of Mailchimp sometimes do).
        """
        with self.lock:
            self._faults.append({"status": status, "times": times, "path": path, "method": method, "after": after,
                                 "empty": empty})

    def drop_next(self, times: int = 1, **kwargs) -> None:
        """Close the connection without answering ``times`` matching requests (they are not processed)."""
        self.fail_next(0, times, **kwargs)

    def lose_answer(self, times: int = 1, **kwargs) -> None:
        """Process ``times`` matching requests, then close the connection before answering (a crash after the
        provider acted: the caller cannot know it succeeded)."""
        self.fail_next(-1, times, **kwargs)

    def pending_faults(self) -> int:
        with self.lock:
            return sum(fault["times"] for fault in self._faults)

    def clear_faults(self) -> None:
        with self.lock:
            self._faults.clear()

    def _take_fault(self, method: str, path: str) -> int | None:
        path = path[len("/3.0"):] if path.startswith("/3.0") else path
        with self.lock:
            for fault in self._faults:
                if fault["path"] and not re.fullmatch(fault["path"], path.rstrip("/") or "/"):
                    continue
                if fault["method"] and fault["method"] != method:
                    continue
                if fault["after"]:
                    fault["after"] -= 1
                    return None
                fault["times"] -= 1
                if fault["times"] <= 0:
                    self._faults.remove(fault)
                return -fault["status"] - 1000 if fault["empty"] else fault["status"]
        return None

    def calls_to(self, method: str, pattern: str) -> list:
        return [call for call in self.calls if call[0] == method and re.fullmatch(pattern, call[1])]

    def reset_calls(self) -> None:
        with self.lock:
            self.calls.clear()

    # --- Seeding (test set-up of Mailchimp's side) ---------------------------------------------------------------

    def add_list(self, list_id: str, name: str = "Hotline Network Portal") -> AudienceList:
        with self.lock:
            return self.lists.setdefault(list_id, AudienceList(id=list_id, name=name))

    def add_member(self, email: str, status: str = "subscribed", *, list_id: str | None = None,
                   last_changed: datetime | None = None, member_hash: str = "", **extra) -> Member:
        with self.lock:
            audience = self.add_list(list_id or self.list_id)
            member = Member(email_address=email, status=status, web_id=next(self._web_ids),
                            hash_override=member_hash, timestamp_signup=stamp(), **extra)
            if last_changed:
                member.last_changed = last_changed
            audience.members[member.id] = member
            return member

    def member(self, email: str, list_id: str | None = None) -> Member | None:
        return self.lists[list_id or self.list_id].members.get(subscriber_hash(email))

    def add_campaign(self, campaign_id: str, **kwargs) -> Campaign:
        with self.lock:
            campaign = Campaign(id=campaign_id, web_id=next(self._web_ids), settings=kwargs.pop("settings", {}),
                                recipients=kwargs.pop("recipients", {"list_id": self.list_id}), **kwargs)
            self.campaigns[campaign_id] = campaign
            return campaign

    def set_report(self, campaign_id: str, **figures) -> None:
        with self.lock:
            self.campaigns[campaign_id].report.update(figures)

    # --- Dispatch ------------------------------------------------------------------------------------------------

    def handle(self, method: str, path: str, query: dict, body, auth: str | None):
        """(status, body or None, extra headers) for one request; raises Problem for errors."""
        if not self._authorised(auth):
            raise Problem(401, "API Key Invalid",
                          "Your API key may be invalid, or you've attempted to access the wrong datacenter.")
        if not path.startswith("/3.0"):
            raise not_found("Invalid path")
        path = path[len("/3.0"):].rstrip("/") or "/"
        for route_method, pattern, handler in ROUTES:
            match = re.fullmatch(pattern, path)
            if match and route_method == method:
                with self.lock:
                    status, answer, headers = handler(self, query, body, *match.groups())
                return status, project(answer, query.get("fields"), query.get("exclude_fields")), headers
        if any(re.fullmatch(pattern, path) for _, pattern, _ in ROUTES):
            raise Problem(405, "Method Not Allowed", "The requested method and resource are not compatible. "
                          "See the Allow header for this resource's available methods.")
        raise not_found("Invalid path")

    def _authorised(self, auth: str | None) -> bool:
        if not auth or not auth.startswith("Basic "):
            return False
        try:
            _, _, key = base64.b64decode(auth[6:]).decode().partition(":")
        except ValueError:
            return False
        return secrets.compare_digest(key, self.api_key)

    @property
    def base(self) -> str:
        return "https://us1.api.mailchimp.com/3.0"

    @property
    def links(self) -> list[dict]:
        return links(self.base, "Resource.json")

    def _list(self, list_id: str) -> AudienceList:
        audience = self.lists.get(list_id)
        if audience is None:
            raise not_found()
        return audience

    def _member(self, list_id: str, member_hash: str) -> Member:
        member = self._list(list_id).members.get(member_hash.lower())
        if member is None:
            raise not_found()
        return member

    # --- Handlers ------------------------------------------------------------------------------------------------

    def root(self, query, body):
        return 200, {
            "account_id": "fa6e1d0c0ffee", "login_id": "1", "account_name": "Hotline Network (fake)",
            "email": "admin@example.org", "first_name": "Fake", "last_name": "Mailchimp", "username": "fake",
            "avatar_url": "", "role": "owner", "member_since": "2020-01-01T00:00:00+00:00",
            "pricing_plan_type": "monthly", "first_payment": "", "account_timezone": "UTC",
            "account_industry": "Non-Profit", "contact": {"company": "Example", "addr1": "", "addr2": "",
                                                          "city": "", "state": "", "zip": "", "country": "GB"},
            "pro_enabled": False, "last_login": stamp(),
            "total_subscribers": sum(len(audience.members) for audience in self.lists.values()),
            "industry_stats": {"open_rate": 0.2, "bounce_rate": 0.01, "click_rate": 0.02},
            "_links": links(f"{self.base}/", "Resource.json"),
        }, {}

    def ping(self, query, body):
        return 200, {"health_status": "Everything's Chimpy!"}, {}

    def _list_json(self, audience: AudienceList) -> dict:
        counts = dict.fromkeys(("subscribed", "unsubscribed", "cleaned"), 0)
        for member in audience.members.values():
            if member.status in counts:
                counts[member.status] += 1
        return {
            "id": audience.id, "web_id": 1, "name": audience.name,
            "contact": {"company": "Example", "address1": "1 Example Street", "address2": "", "city": "Exampleton",
                        "state": "", "zip": "00000", "country": "GB", "phone": ""},
            "permission_reminder": "You signed up on the portal.", "use_archive_bar": True,
            "campaign_defaults": {"from_name": "Portal", "from_email": "news@example.org", "subject": "",
                                  "language": "en"},
            "notify_on_subscribe": "", "notify_on_unsubscribe": "", "date_created": "2020-01-01T00:00:00+00:00",
            "list_rating": 0, "email_type_option": False, "subscribe_url_short": "", "subscribe_url_long": "",
            "beamer_address": "", "visibility": "prv", "double_optin": False, "has_welcome": False,
            "marketing_permissions": bool(audience.marketing_permissions), "modules": [],
            "stats": {"member_count": counts["subscribed"], "unsubscribe_count": counts["unsubscribed"],
                      "cleaned_count": counts["cleaned"], "member_count_since_send": counts["subscribed"],
                      "unsubscribe_count_since_send": counts["unsubscribed"],
                      "cleaned_count_since_send": counts["cleaned"], "campaign_count": len(self.campaigns),
                      "campaign_last_sent": "", "merge_field_count": len(audience.merge_fields),
                      "avg_sub_rate": 0, "avg_unsub_rate": 0, "target_sub_rate": 0, "open_rate": 0,
                      "click_rate": 0, "last_sub_date": "", "last_unsub_date": ""},
            "_links": links(f"{self.base}/lists/{audience.id}", "Resource.json"),
        }

    def get_lists(self, query, body):
        items = [self._list_json(audience) for audience in self.lists.values()]
        return 200, {"lists": items, "total_items": len(items), "constraints": {
            "may_create": True, "max_instances": 100, "current_total_instances": len(items)},
            "_links": links(f"{self.base}/lists", "Resource.json")}, {}

    def get_list(self, query, body, list_id):
        return 200, self._list_json(self._list(list_id)), {}

    # Members

    def _validate_email(self, email) -> str:
        if not isinstance(email, str) or not EMAIL_RE.match(email.strip()):
            raise Problem(400, "Invalid Resource", "Please provide a valid email address.")
        email = email.strip()
        if email.rsplit("@", 1)[1].lower() in FAKE_LOOKING_DOMAINS:
            raise Problem(400, "Invalid Resource", f"{email} looks fake or invalid, please enter a real email "
                          "address.")
        return email

    def _check_merge_fields(self, audience: AudienceList, values, *, new: bool) -> dict:
        """The merge fields of a member write, validated by each field's type as Mailchimp does.

        Keys that are not one of the audience's tags are ignored (the live API ignores ``email_address`` sent as
        a merge field). A value of the wrong type, a dropdown value that is not a choice, or a required field left
        out of a new member answers 400 "Your merge fields were invalid." with one ``errors`` entry per field.
        """
        if values in (None, ""):
            values = {}
        if not isinstance(values, dict):
            raise Problem(400, "Invalid Resource", "The resource submitted could not be validated. For "
                          "field-specific details, see the 'errors' array.",
                          errors=[{"field": "merge_fields", "message": "Schema describes object, "
                                   f"{type(values).__name__} found instead"}])
        known = {f["tag"]: f for f in audience.merge_fields}
        errors, accepted = [], {}
        for tag, value in values.items():
            spec = known.get(tag.upper()) if isinstance(tag, str) else None
            if spec is None:
                continue
            message = merge_value_error(spec, value)
            if message:
                errors.append({"field": spec["tag"], "message": message})
            else:
                accepted[spec["tag"]] = value
        if new:
            errors += [{"field": f["tag"], "message": "Please enter a value"} for f in audience.merge_fields
                       if f.get("required") and accepted.get(f["tag"]) in (None, "")]
        if errors:
            raise Problem(400, "Invalid Resource", MERGE_FIELDS_INVALID, errors=errors)
        return accepted

    def _check_permissions(self, audience: AudienceList | None, permissions) -> dict:
        if not permissions:
            return {}
        known = audience.marketing_permissions if audience else {}
        if not isinstance(permissions, list) or not all(
                isinstance(item, dict) and item.get("marketing_permission_id") in known for item in permissions):
            raise Problem(400, "Invalid Resource", "The resource submitted could not be validated. For "
                          "field-specific details, see the 'errors' array.",
                          errors=[{"field": "marketing_permissions", "message": "Invalid marketing permission."}])
        return {item["marketing_permission_id"]: bool(item.get("enabled")) for item in permissions}

    def _apply(self, member: Member, data: dict, *, status_key="status", audience: AudienceList | None = None,
               new: bool = False) -> None:
        audience = audience or self.lists.get(self.list_id)
        fields = self._check_merge_fields(audience, data.get("merge_fields"), new=new) if audience else {}
        permissions = self._check_permissions(audience, data.get("marketing_permissions"))
        if fields:
            member.merge_fields.update(fields)
        for permission_id, enabled in permissions.items():
            member.marketing_permissions.setdefault(
                permission_id, {"text": audience.marketing_permissions[permission_id], "enabled": False})
            member.marketing_permissions[permission_id]["enabled"] = enabled
        if data.get("interests"):
            member.interests.update(data["interests"])
        if data.get("language"):
            member.language = data["language"]
        status = data.get(status_key)
        if status:
            self._set_status(member, status)
        member.last_changed = now_seconds()

    def _set_status(self, member: Member, status: str) -> None:
        if status not in MEMBER_STATUSES:
            raise Problem(400, "Invalid Resource", "The resource submitted could not be validated. For "
                          "field-specific details, see the 'errors' array.",
                          errors=[{"field": "status", "message": "Data presented is not one of the accepted "
                                   "values: subscribed, unsubscribed, cleaned, pending, transactional."}])
        if status == "subscribed" and (member.status == "cleaned" or (
                member.status == "unsubscribed" and not member.unsubscribed_via_api)):
            raise Problem(400, "Member In Compliance State",
                          f"{member.email_address} is already a list member in compliance state due to unsubscribe, "
                          "bounce, or compliance review and cannot be subscribed.")
        if status == "pending" and member.status != "pending":
            member.confirmation_emails += 1
        if status == "unsubscribed" and member.status != "unsubscribed":
            member.unsubscribed_via_api = True
        member.status = status

    def _new_member(self, audience: AudienceList, email: str, data: dict, status_key="status") -> Member:
        member = Member(email_address=email, status="subscribed", web_id=next(self._web_ids),
                        timestamp_signup=stamp())
        status = data.get(status_key) or data.get("status_if_new") or data.get("status")
        if not status:
            raise Problem(400, "Invalid Resource", "The resource submitted could not be validated. For "
                          "field-specific details, see the 'errors' array.",
                          errors=[{"field": "status", "message": "This value should not be blank."}])
        member.status = "pending" if status == "pending" else status
        member.confirmation_emails = int(status == "pending")
        member.marketing_permissions = {permission_id: {"text": text, "enabled": False}
                                        for permission_id, text in audience.marketing_permissions.items()}
        member.tags.update(audience.signup_tags)
        self._apply(member, {k: v for k, v in data.items() if k not in {"status", "status_if_new"}},
                    audience=audience, new=True)
        # Tags can be given when a member is added (POST .../members: a list of names).
        member.tags.update(tag for tag in data.get("tags") or [] if isinstance(tag, str) and tag.strip())
        audience.members[member.id] = member
        return member

    def get_members(self, query, body, list_id):
        audience = self._list(list_id)
        members = list(audience.members.values())
        if query.get("status"):
            members = [m for m in members if m.status == query["status"]]
        else:
            members = [m for m in members if m.status != "archived"]
        if query.get("since_last_changed"):
            since = parse_stamp(query["since_last_changed"])
            members = [m for m in members if m.last_changed > since]
        if query.get("sort_field") == "last_changed":
            members.sort(key=lambda m: (m.last_changed, m.id), reverse=query.get("sort_dir") == "DESC")
        else:
            members.sort(key=lambda m: m.web_id)
        count = min(int(query.get("count") or 10), 1000)
        offset = int(query.get("offset") or 0)
        page = [m.as_json(list_id, self.base) for m in members[offset:offset + count]]
        return 200, {"members": page, "list_id": list_id, "total_items": len(members),
                     "_links": links(f"{self.base}/lists/{list_id}/members", "Resource.json")}, {}

    def add_member_post(self, query, body, list_id):
        audience = self._list(list_id)
        email = self._validate_email(body.get("email_address"))
        if subscriber_hash(email) in audience.members:
            raise Problem(400, "Member Exists", f"{email} is already a list member. Use PUT to insert or update "
                          "list members.")
        if body.get("interests"):
            known = {i for c in audience.categories.values() for i in c["interests"]}
            unknown = [i for i in body["interests"] if i not in known]
            if unknown:
                raise Problem(400, "Invalid Resource", f"Invalid interest ID: '{unknown[0]}'.")
        member = self._new_member(audience, email, body)
        return 200, member.as_json(list_id, self.base), {}

    def get_member(self, query, body, list_id, member_hash):
        return 200, self._member(list_id, member_hash).as_json(list_id, self.base), {}

    def put_member(self, query, body, list_id, member_hash):
        audience = self._list(list_id)
        member_hash = member_hash.lower()
        member = audience.members.get(member_hash)
        email = body.get("email_address")
        if email is not None:
            email = self._validate_email(email)
        if member is None:
            if email is None:
                raise Problem(400, "Invalid Resource", "The resource submitted could not be validated. For "
                              "field-specific details, see the 'errors' array.",
                              errors=[{"field": "email_address", "message": "This value should not be blank."}])
            if subscriber_hash(email) in audience.members:
                raise Problem(400, "Member Exists", f"{email} is already a list member. Use PUT to insert or "
                              "update list members.", with_type=False)
            member = self._new_member(audience, email, body, status_key="status_if_new")
            return 200, member.as_json(list_id, self.base), {}
        if email and subscriber_hash(email) != member.id:
            other = audience.members.get(subscriber_hash(email))
            if other is not None:
                raise Problem(400, "Invalid Resource", "The resource submitted could not be validated. For "
                              "field-specific details, see the 'errors' array.",
                              errors=[{"field": "email address", "message": f'"{email}" is already in this list '
                                       f'with a status of "{other.status}".'}])
            del audience.members[member.id]
            member.email_address, member.hash_override = email, ""
            audience.members[member.id] = member
        if member.status == "archived" and not body.get("status"):
            member.status = body.get("status_if_new") or "subscribed"
        self._apply(member, body, audience=audience)
        return 200, member.as_json(list_id, self.base), {}

    def patch_member(self, query, body, list_id, member_hash):
        member = self._member(list_id, member_hash)
        self._apply(member, body, audience=self._list(list_id))
        return 200, member.as_json(list_id, self.base), {}

    def delete_member(self, query, body, list_id, member_hash):
        member = self._member(list_id, member_hash)
        if member.status in {"archived", "cleaned", "pending"}:
            raise Problem(405, "Method Not Allowed", "This list member cannot be removed. Can not archive a contact "
                          "that is bounced, pending or archived", headers={"Allow": "GET, PUT"})
        member.status = "archived"
        member.last_changed = now_seconds()
        return 204, None, {}

    def delete_permanent(self, query, body, list_id, member_hash):
        member = self._member(list_id, member_hash)
        del self._list(list_id).members[member.id]
        return 204, None, {}

    def post_tags(self, query, body, list_id, member_hash):
        member = self._member(list_id, member_hash)
        for tag in body.get("tags") or []:
            (member.tags.add if tag.get("status") == "active" else member.tags.discard)(tag["name"])
        return 204, None, {}

    def get_tags(self, query, body, list_id, member_hash):
        member = self._member(list_id, member_hash)
        tags = [{"id": abs(hash(n)) % 100000, "name": n, "date_added": stamp()} for n in sorted(member.tags)]
        return 200, {"tags": tags, "total_items": len(tags), "_links": self.links}, {}

    def post_event(self, query, body, list_id, member_hash):
        self._member(list_id, member_hash).events.append(body)
        return 204, None, {}

    def batch_subscribe(self, query, body, list_id):
        """POST /lists/{id}: up to 500 members, per-member errors, never re-subscribing compliance states."""
        audience = self._list(list_id)
        entries = body.get("members") or []
        if len(entries) > 500:
            raise Problem(400, "Invalid Resource", "The resource submitted could not be validated. For "
                          "field-specific details, see the 'errors' array.",
                          errors=[{"field": "members", "message": "This collection should contain 500 elements or "
                                   "less."}])
        update_existing = bool(body.get("update_existing"))
        created, updated, errors = [], [], []
        for entry in entries:
            email = entry.get("email_address", "")
            try:
                email = self._validate_email(email)
                member = audience.members.get(subscriber_hash(email))
                if member is None:
                    created.append(self._new_member(audience, email, entry))
                elif not update_existing:
                    raise Problem(400, "Member Exists", f"{email} is already a list member, do you want to update? "
                                  "please provide update_existing:true in the request body")
                else:
                    self._apply(member, entry, audience=audience)
                    updated.append(member)
            except Problem as problem:
                code = "ERROR_CONTACT_EXISTS" if problem.title == "Member Exists" else "ERROR_GENERIC"
                first = (problem.errors or [{}])[0]
                errors.append({"email_address": email, "error": problem.detail, "error_code": code,
                               "field": first.get("field", ""), "field_message": first.get("message", "")})
        self.batches.append([entry.get("email_address", "") for entry in entries])
        return 200, {
            "new_members": [m.as_json(list_id, self.base) for m in created],
            "updated_members": [m.as_json(list_id, self.base) for m in updated],
            "errors": errors, "total_created": len(created), "total_updated": len(updated),
            "error_count": len(errors),
            "_links": links(f"{self.base}/lists/{list_id}", "Resource.json"),
        }, {}

    def get_merge_fields(self, query, body, list_id):
        audience = self._list(list_id)
        items = [{"required": False, "default_value": "", "public": True, "display_order": n,
                  "options": {"size": 25, "default_country": 0}, "help_text": "", **f, "list_id": list_id,
                  "_links": self.links}
                 for n, f in enumerate(audience.merge_fields)]
        return 200, {"merge_fields": items, "list_id": list_id, "total_items": len(items), "_links": self.links}, {}

    def post_merge_field(self, query, body, list_id):
        audience = self._list(list_id)
        tag = (body.get("tag") or "").upper()
        if not tag or any(f["tag"] == tag for f in audience.merge_fields):
            raise Problem(400, "Invalid Resource", f'A Merge Field with the tag "{tag}" already exists for this list.')
        field_ = {"merge_id": len(audience.merge_fields) + 1, "tag": tag, "name": body.get("name", tag),
                  "type": body.get("type", "text"), "required": bool(body.get("required")),
                  "options": body.get("options") or {"size": 25}}
        audience.merge_fields.append(field_)
        return 200, {"default_value": "", "public": True, "display_order": 0, "help_text": "", **field_,
                     "list_id": list_id, "_links": self.links}, {}

    # Interests

    def _category_json(self, list_id, category_id, category, order=0):
        return {"list_id": list_id, "id": category_id, "title": category["title"], "display_order": order,
                "type": category["type"], "_links": self.links}

    def get_categories(self, query, body, list_id):
        audience = self._list(list_id)
        items = [self._category_json(list_id, cid, c, n) for n, (cid, c) in enumerate(audience.categories.items())]
        return 200, {"list_id": list_id, "categories": items, "total_items": len(items), "_links": self.links}, {}

    def post_category(self, query, body, list_id):
        audience = self._list(list_id)
        if any(c["title"] == body.get("title") for c in audience.categories.values()):
            raise Problem(400, "Invalid Resource",
                          f"An interest category with the title '{body.get('title')}' already exists.")
        category_id = secrets.token_hex(5)
        audience.categories[category_id] = {"title": body.get("title", ""), "type": body.get("type", "checkboxes"),
                                            "interests": {}}
        return 200, self._category_json(list_id, category_id, audience.categories[category_id]), {}

    def delete_category(self, query, body, list_id, category_id):
        audience = self._list(list_id)
        if audience.categories.pop(category_id, None) is None:
            raise not_found()
        return 204, None, {}

    def _category(self, list_id, category_id):
        category = self._list(list_id).categories.get(category_id)
        if category is None:
            raise not_found()
        return category

    def get_interests(self, query, body, list_id, category_id):
        category = self._category(list_id, category_id)
        items = [{"category_id": category_id, "list_id": list_id, "id": iid, "name": name, "subscriber_count": "0",
                  "display_order": n, "_links": self.links}
                 for n, (iid, name) in enumerate(category["interests"].items())]
        return 200, {"interests": items, "list_id": list_id, "category_id": category_id,
                     "total_items": len(items), "_links": self.links}, {}

    def post_interest(self, query, body, list_id, category_id):
        category = self._category(list_id, category_id)
        name = body.get("name", "")
        if name in category["interests"].values():
            raise Problem(400, "Invalid Resource", f'Cannot add "{name}" because it already exists on the list.')
        interest_id = secrets.token_hex(5)
        category["interests"][interest_id] = name
        return 200, {"category_id": category_id, "list_id": list_id, "id": interest_id, "name": name,
                     "subscriber_count": None, "display_order": len(category["interests"]), "_links": self.links}, {}

    def delete_interest(self, query, body, list_id, category_id, interest_id):
        if self._category(list_id, category_id)["interests"].pop(interest_id, None) is None:
            raise not_found()
        return 204, None, {}

    # Segments

    def _segment_json(self, list_id, segment_id, segment):
        return {"id": segment_id, "name": segment["name"], "member_count": len(segment["members"]),
                "type": segment["type"], "created_at": segment["created_at"], "updated_at": stamp(),
                "options": {}, "list_id": list_id, "_links": self.links}

    def get_segments(self, query, body, list_id):
        audience = self._list(list_id)
        items = [self._segment_json(list_id, sid, s) for sid, s in audience.segments.items()]
        return 200, {"segments": items, "list_id": list_id, "total_items": len(items), "_links": self.links}, {}

    def post_segment(self, query, body, list_id):
        audience = self._list(list_id)
        if not body.get("name"):
            raise Problem(400, "Invalid Resource", "The resource submitted could not be validated. For "
                          "field-specific details, see the 'errors' array.",
                          errors=[{"field": "name", "message": "This value should not be blank."}])
        segment_id = int(next(self._web_ids))
        static = body.get("static_segment")
        members = {subscriber_hash(e) for e in static or [] if subscriber_hash(e) in audience.members}
        audience.segments[segment_id] = {"name": body["name"], "type": "static" if static is not None else "saved",
                                         "members": members, "created_at": stamp()}
        return 200, self._segment_json(list_id, segment_id, audience.segments[segment_id]), {}

    def _segment(self, list_id, segment_id):
        segment = self._list(list_id).segments.get(int(segment_id))
        if segment is None:
            raise not_found()
        return segment

    def get_segment(self, query, body, list_id, segment_id):
        return 200, self._segment_json(list_id, int(segment_id), self._segment(list_id, segment_id)), {}

    def batch_segment(self, query, body, list_id, segment_id):
        audience = self._list(list_id)
        segment = self._segment(list_id, segment_id)
        to_add, to_remove = body.get("members_to_add") or [], body.get("members_to_remove") or []
        if len(to_add) > 500 or len(to_remove) > 500:
            raise Problem(400, "Invalid Resource", "You may only add or remove 500 members at a time.")
        added, removed, errors = [], [], []
        for email in to_add:
            member = audience.members.get(subscriber_hash(email))
            if member is None:
                errors.append({"email_addresses": [email], "error": "Email address is not subscribed to the list"})
            elif member.id not in segment["members"]:
                segment["members"].add(member.id)
                added.append(member.as_json(list_id, self.base))
        for email in to_remove:
            if subscriber_hash(email) in segment["members"]:
                segment["members"].discard(subscriber_hash(email))
                removed.append({"email_address": email})
        return 200, {"members_added": added, "members_removed": removed, "errors": errors,
                     "total_added": len(added), "total_removed": len(removed), "error_count": len(errors),
                     "_links": self.links}, {}

    def get_segment_members(self, query, body, list_id, segment_id):
        audience = self._list(list_id)
        segment = self._segment(list_id, segment_id)
        items = [audience.members[h].as_json(list_id, self.base) for h in sorted(segment["members"])]
        return 200, {"members": items, "total_items": len(items), "_links": self.links}, {}

    # Campaigns

    def _campaign(self, campaign_id) -> Campaign:
        campaign = self.campaigns.get(campaign_id)
        if campaign is None:
            raise not_found()
        return campaign

    def _campaign_json(self, c: Campaign) -> dict:
        return {
            "id": c.id, "web_id": c.web_id, "parent_campaign_id": "", "type": c.type, "create_time": c.create_time,
            "archive_url": f"http://eepurl.com/{c.id}", "long_archive_url": f"https://us1.campaign-archive.com/?id={c.id}",
            "status": c.status, "emails_sent": c.emails_sent, "send_time": c.send_time,
            "content_type": "html", "needs_block_refresh": False, "resendable": False,
            "recipients": {"list_id": "", "list_is_active": True, "list_name": "Portal", "segment_text": "",
                           **c.recipients, "recipient_count": len(self._recipients(c))},
            "settings": {"subject_line": "", "title": "", "from_name": "", "reply_to": "", "use_conversation": False,
                         "to_name": "", "folder_id": "", "authenticate": True, "auto_footer": False,
                         "inline_css": False, "auto_tweet": False, "fb_comments": True, "timewarp": False,
                         "template_id": 0, "drag_and_drop": False, **c.settings},
            "tracking": {"goal_tracking": False, "ecomm360": False, "google_analytics": "", "clicktale": "",
                         **c.tracking},
            "report_summary": {}, "delivery_status": {"enabled": False},
            "_links": links(f"{self.base}/campaigns/{c.id}", "Resource.json"),
        }

    def _recipients(self, c: Campaign) -> list[Member]:
        audience = self.lists.get(c.recipients.get("list_id", ""))
        if audience is None:
            return []
        hashes = set(audience.members)
        segment_id = (c.recipients.get("segment_opts") or {}).get("saved_segment_id")
        if segment_id is not None:
            segment = audience.segments.get(int(segment_id))
            hashes = segment["members"] if segment else set()
        return [audience.members[h] for h in hashes if audience.members[h].status == "subscribed"]

    def get_campaigns(self, query, body):
        items = list(self.campaigns.values())
        if query.get("status"):
            items = [c for c in items if c.status == query["status"]]
        if query.get("list_id"):
            items = [c for c in items if c.recipients.get("list_id") == query["list_id"]]
        count, offset = min(int(query.get("count") or 10), 1000), int(query.get("offset") or 0)
        page = [self._campaign_json(c) for c in items[offset:offset + count]]
        return 200, {"campaigns": page, "total_items": len(items),
                     "_links": links(f"{self.base}/campaigns", "Resource.json")}, {}

    def post_campaign(self, query, body):
        if body.get("type") not in {"regular", "plaintext", "absplit", "rss", "variate"}:
            raise Problem(400, "Invalid Resource", "The resource submitted could not be validated. For "
                          "field-specific details, see the 'errors' array.",
                          errors=[{"field": "type", "message": "Data presented is not one of the accepted values."}])
        recipients = body.get("recipients") or {}
        if recipients.get("list_id") and recipients["list_id"] not in self.lists:
            raise Problem(400, "Invalid Resource", "The resource submitted could not be validated. For "
                          "field-specific details, see the 'errors' array.",
                          errors=[{"field": "recipients.list_id", "message": "Invalid list ID."}])
        campaign = self.add_campaign(secrets.token_hex(5), type=body["type"], settings=body.get("settings") or {},
                                     recipients=recipients)
        campaign.tracking.update(body.get("tracking") or {})
        return 200, self._campaign_json(campaign), {}

    def get_campaign(self, query, body, campaign_id):
        return 200, self._campaign_json(self._campaign(campaign_id)), {}

    def patch_campaign(self, query, body, campaign_id):
        campaign = self._campaign(campaign_id)
        if campaign.status not in {"save", "paused"}:
            raise Problem(400, "Bad Request", "This campaign cannot be updated once it has been sent or scheduled.")
        campaign.settings.update(body.get("settings") or {})
        campaign.recipients.update(body.get("recipients") or {})
        campaign.tracking.update(body.get("tracking") or {})
        return 200, self._campaign_json(campaign), {}

    def get_content(self, query, body, campaign_id):
        campaign = self._campaign(campaign_id)
        return 200, {"plain_text": campaign.plain_text, "html": campaign.html,
                     "_links": links(f"{self.base}/campaigns/{campaign_id}/content", "Campaigns/Content.json")}, {}

    def put_content(self, query, body, campaign_id):
        campaign = self._campaign(campaign_id)
        if campaign.status not in {"save", "paused"}:
            raise Problem(400, "Bad Request", "Content cannot be changed once the campaign is sent or scheduled.")
        campaign.html = body.get("html", campaign.html)
        campaign.plain_text = body.get("plain_text", campaign.plain_text)
        return self.get_content(query, body, campaign_id)

    def checklist(self, query, body, campaign_id):
        campaign = self._campaign(campaign_id)
        items = []

        def check(ok, item_id, heading, details):
            items.append({"type": "success" if ok else "error", "id": item_id, "heading": heading,
                          "details": details})

        check(bool(campaign.recipients.get("list_id")), 1, "List", "Choose the audience for this campaign.")
        check(bool(self._recipients(campaign)), 2, "Recipients", "This campaign's segment has no subscribed members.")
        check(bool(campaign.settings.get("subject_line")), 3, "Subject line", "Add a subject line.")
        check(bool(campaign.settings.get("from_name") and campaign.settings.get("reply_to")), 4, "From",
              "Add a from name and a reply-to address.")
        check(bool(campaign.html), 5, "Content", "Add content to the campaign.")
        check("*|UNSUB|*" in campaign.html, 6, "Unsubscribe link",
              "The content must include the *|UNSUB|* merge tag (unsubscribe link).")
        return 200, {"is_ready": all(i["type"] == "success" for i in items), "items": items}, {}

    def _sendable(self, campaign: Campaign) -> None:
        if campaign.status in {"sent", "sending", "schedule"}:
            raise Problem(400, "Bad Request", f'Campaign {campaign.id} has already been {campaign.status}'
                          f'{"d" if campaign.status == "schedule" else ""}.')
        _, result, _ = self.checklist({}, None, campaign.id)
        if not result["is_ready"]:
            raise Problem(400, "Bad Request", "Your Campaign is not ready to send.",
                          errors=[{"field": i["heading"], "message": i["details"]} for i in result["items"]
                                  if i["type"] != "success"])

    def send_campaign(self, query, body, campaign_id):
        campaign = self._campaign(campaign_id)
        self._sendable(campaign)
        campaign.status = "sent"
        campaign.send_time = stamp()
        campaign.emails_sent = len(self._recipients(campaign))
        return 204, None, {}

    def schedule_campaign(self, query, body, campaign_id):
        campaign = self._campaign(campaign_id)
        when = parse_stamp((body or {}).get("schedule_time", ""))
        if when.minute % 15 or when.second or when.microsecond:
            raise Problem(400, "Invalid Resource", "Schedule time must be on the quarter-hour (:00, :15, :30, :45).")
        if when <= datetime.now(UTC):
            raise Problem(400, "Invalid Resource", "Schedule time must be in the future.")
        self._sendable(campaign)
        campaign.status = "schedule"
        campaign.send_time = stamp(when)
        campaign.emails_sent = len(self._recipients(campaign))
        return 204, None, {}

    def unschedule_campaign(self, query, body, campaign_id):
        campaign = self._campaign(campaign_id)
        if campaign.status != "schedule":
            raise Problem(400, "Bad Request", "This campaign is not scheduled.")
        campaign.status, campaign.send_time = "save", ""
        return 204, None, {}

    def report(self, query, body, campaign_id):
        campaign = self._campaign(campaign_id)
        if campaign.status not in {"sent", "sending"}:
            raise not_found()
        figures = {"hard_bounces": 0, "soft_bounces": 0, "syntax_errors": 0, "opens_total": 0, "unique_opens": 0,
                   "clicks_total": 0, "unique_clicks": 0, "unsubscribed": 0, "abuse_reports": 0}
        figures.update(campaign.report)
        sent = figures.get("emails_sent", campaign.emails_sent)
        return 200, {
            "id": campaign.id, "campaign_title": campaign.settings.get("title", ""), "type": campaign.type,
            "list_id": campaign.recipients.get("list_id", ""), "list_is_active": True, "list_name": "Portal",
            "subject_line": campaign.settings.get("subject_line", ""), "preview_text": "",
            "emails_sent": sent, "abuse_reports": figures["abuse_reports"], "unsubscribed": figures["unsubscribed"],
            "send_time": campaign.send_time,
            "bounces": {"hard_bounces": figures["hard_bounces"], "soft_bounces": figures["soft_bounces"],
                        "syntax_errors": figures["syntax_errors"]},
            "forwards": {"forwards_count": 0, "forwards_opens": 0},
            "opens": {"opens_total": figures["opens_total"], "unique_opens": figures["unique_opens"],
                      "open_rate": figures["unique_opens"] / sent if sent else 0, "last_open": ""},
            "clicks": {"clicks_total": figures["clicks_total"], "unique_clicks": figures["unique_clicks"],
                       "unique_subscriber_clicks": figures["unique_clicks"],
                       "click_rate": figures["unique_clicks"] / sent if sent else 0, "last_click": ""},
            "_links": links(f"{self.base}/reports/{campaign.id}", "Resource.json"),
        }, {}


L = r"/lists/([^/]+)"
M = L + r"/members/([0-9a-fA-F]{32})"
C = r"/campaigns/([^/]+)"
ROUTES = [
    ("GET", r"/", FakeMailchimp.root),
    ("GET", r"/ping", FakeMailchimp.ping),
    ("GET", r"/lists", FakeMailchimp.get_lists),
    ("GET", L, FakeMailchimp.get_list),
    ("POST", L, FakeMailchimp.batch_subscribe),
    ("GET", L + "/members", FakeMailchimp.get_members),
    ("POST", L + "/members", FakeMailchimp.add_member_post),
    ("GET", M, FakeMailchimp.get_member),
    ("PUT", M, FakeMailchimp.put_member),
    ("PATCH", M, FakeMailchimp.patch_member),
    ("DELETE", M, FakeMailchimp.delete_member),
    ("POST", M + "/actions/delete-permanent", FakeMailchimp.delete_permanent),
    ("POST", M + "/tags", FakeMailchimp.post_tags),
    ("GET", M + "/tags", FakeMailchimp.get_tags),
    ("POST", M + "/events", FakeMailchimp.post_event),
    ("GET", L + "/merge-fields", FakeMailchimp.get_merge_fields),
    ("POST", L + "/merge-fields", FakeMailchimp.post_merge_field),
    ("GET", L + "/interest-categories", FakeMailchimp.get_categories),
    ("POST", L + "/interest-categories", FakeMailchimp.post_category),
    ("DELETE", L + "/interest-categories/([^/]+)", FakeMailchimp.delete_category),
    ("GET", L + "/interest-categories/([^/]+)/interests", FakeMailchimp.get_interests),
    ("POST", L + "/interest-categories/([^/]+)/interests", FakeMailchimp.post_interest),
    ("DELETE", L + "/interest-categories/([^/]+)/interests/([^/]+)", FakeMailchimp.delete_interest),
    ("GET", L + "/segments", FakeMailchimp.get_segments),
    ("POST", L + "/segments", FakeMailchimp.post_segment),
    ("GET", L + r"/segments/(\d+)", FakeMailchimp.get_segment),
    ("POST", L + r"/segments/(\d+)", FakeMailchimp.batch_segment),
    ("GET", L + r"/segments/(\d+)/members", FakeMailchimp.get_segment_members),
    ("GET", r"/campaigns", FakeMailchimp.get_campaigns),
    ("POST", r"/campaigns", FakeMailchimp.post_campaign),
    ("GET", C, FakeMailchimp.get_campaign),
    ("PATCH", C, FakeMailchimp.patch_campaign),
    ("GET", C + "/content", FakeMailchimp.get_content),
    ("PUT", C + "/content", FakeMailchimp.put_content),
    ("GET", C + "/send-checklist", FakeMailchimp.checklist),
    ("POST", C + "/actions/send", FakeMailchimp.send_campaign),
    ("POST", C + "/actions/schedule", FakeMailchimp.schedule_campaign),
    ("POST", C + "/actions/unschedule", FakeMailchimp.unschedule_campaign),
    ("GET", r"/reports/([^/]+)", FakeMailchimp.report),
]


class _Handler(BaseHTTPRequestHandler):
    api: FakeMailchimp
    protocol_version = "HTTP/1.1"
    server_version = "openresty"
    sys_version = ""

    def log_message(self, *args) -> None:  # quiet
        pass

    def _serve(self, method: str) -> None:
        api = self.api
        with api.lock:
            api.in_flight += 1
            api.max_in_flight = max(api.max_in_flight, api.in_flight)
        try:
            self._serve_inner(method)
        finally:
            with api.lock:
                api.in_flight -= 1

    def _serve_inner(self, method: str) -> None:
        api = self.api
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        with api.lock:
            api.calls.append((method, parts.path, query))
        if api.latency:
            time.sleep(api.latency)
        fault = api._take_fault(method, parts.path)
        request_id = str(uuid.uuid4())
        if fault is not None and fault <= -1000:  # an error status with an empty body
            self.send_response(-fault - 1000)
            self.send_header("Content-Length", "0")
            self.send_header("X-Request-Id", request_id)
            self.end_headers()
            return
        if fault == -1:
            with contextlib.suppress(Problem):
                api.handle(method, parts.path, query, json.loads(raw) if raw.strip() else {},
                           self.headers.get("Authorization"))
            fault = 0
        if fault == 0:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        try:
            if fault:
                titles = {429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
                          503: "Service Unavailable"}
                raise Problem(fault, titles.get(fault, "Error"),
                              "You have exceeded the limit of 10 simultaneous connections." if fault == 429
                              else "An unexpected internal error has occurred. Please contact Support for more "
                              "information.")
            try:
                body = json.loads(raw) if raw.strip() else {}
            except ValueError:
                raise Problem(400, "JSON Parse Error", "We encountered an unspecified JSON parsing error.") from None
            if body is None:
                body = {}
            status, payload, headers = api.handle(method, parts.path, query, copy.deepcopy(body),
                                                  self.headers.get("Authorization"))
        except Problem as problem:
            status, headers = problem.status, problem.headers
            payload = {"type": ERROR_TYPE} if problem.with_type else {}
            payload.update({"title": problem.title, "status": problem.status, "detail": problem.detail,
                            "instance": request_id})
            if problem.errors:
                payload["errors"] = problem.errors
            self._answer(status, payload, headers, request_id, "application/problem+json; charset=utf-8")
            return
        self._answer(status, payload, headers, request_id, "application/json; charset=utf-8")

    def _answer(self, status, payload, headers, request_id, content_type) -> None:
        data = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Request-Id", request_id)
        if content_type.startswith("application/problem"):
            self.send_header("Link", '<https://us1.api.mailchimp.com/schema/3.0/Definitions/ProblemDetailDocument.json>;'
                             ' rel="describedBy"')
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if data:
            self.wfile.write(data)

    def do_GET(self):
        self._serve("GET")

    def do_POST(self):
        self._serve("POST")

    def do_PUT(self):
        self._serve("PUT")

    def do_PATCH(self):
        self._serve("PATCH")

    def do_DELETE(self):
        self._serve("DELETE")
