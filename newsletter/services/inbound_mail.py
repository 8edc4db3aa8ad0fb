"""Reading one message from the bounce mailbox: what it reports, about whom.

The mailbox receives three kinds of mail, told apart in this order:

1. **Complaints**: feedback-loop reports (ARF, RFC 5965: ``multipart/report; report-type=feedback-report``). The
   complained-about message is enclosed, so its return path (``Original-Mail-From``, ``Return-Path``) or its
   List-Unsubscribe mailto names the delivery or the subscriber.
2. **Bounces**: delivery status notifications (RFC 3464: ``multipart/report; report-type=delivery-status``, as
   Postfix, Gmail, Microsoft 365 and modern Exim send them), and the non-standard formats others send, which
   ``flufl.bounce``'s detectors read (classic Exim, Yahoo, qmail...). The bounce is addressed to the message's
   return path (``bounces+<token>@``), whose token names the delivery; the status code says hard or soft.
3. **Unsubscribe requests** mailed to the List-Unsubscribe address (``…+<token>@``, token also in the subject).

Anything else is ignored when it is plainly not for us to act on (auto-replies, delay warnings) and otherwise
declared unreadable, to be kept aside for a person. Nothing here touches the database beyond checking tokens.
"""

from __future__ import annotations

import email
import email.policy
import functools
import hashlib
import re
from dataclasses import dataclass, field
from email.message import Message
from email.utils import getaddresses, parseaddr
from typing import NamedTuple

from flufl.bounce import all_failures

from newsletter.services import tokens
from newsletter.services.bounces import Kind, Report, Source, classify, status_code

# Headers that say to which address this message was delivered (the return path of the bounced message).
RECIPIENT_HEADERS = ("Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To", "X-Rcpt-To", "To", "Cc")
# Headers of the original message, enclosed in a report, that carry our tokens.
ENCLOSED_TOKEN_HEADERS = ("Return-Path", "List-Unsubscribe", "Sender", "Errors-To")
# What marks a message as sent automatically (RFC 3834's Auto-Submitted, anything but "no", and the common
# non-standard headers and subjects): each header's value is matched whole.
AUTO_REPLY_HEADERS = (
    ("Auto-Submitted", re.compile(r"(?!no\Z).+", re.I | re.S)),
    ("X-Autoreply", re.compile(r".+", re.S)),
    ("X-Autorespond", re.compile(r".+", re.S)),
    ("Precedence", re.compile(r"auto_reply", re.I)),
    ("Subject", re.compile(r"\s*(auto(matic)?[ -]?reply|out of (the )?office|abwesenheit|absence).*", re.I | re.S)),
)
DELIVERY_STATUS_TYPES = ("message/delivery-status", "message/global-delivery-status")


@dataclass
class Reading:
    """What one message says: reports to record, or why there are none (``ignored`` / ``unreadable``)."""

    reports: list[Report] = field(default_factory=list)
    ignored: str = ""
    unreadable: str = ""

    @property
    def outcome(self) -> str:
        if self.reports:
            return "reports"
        return "ignored" if self.ignored else "unreadable"


def message_key(raw: bytes, message: Message | None) -> str:
    """A stable name for one message: its Message-ID, else a hash of its bytes (the same message read twice)."""
    message_id = " ".join(_header(message, "Message-ID").split()) if message is not None else ""
    named = message_id.encode("utf-8", "replace") if message_id else raw
    return "mail:" + hashlib.sha256(named).hexdigest()[:40]


def addresses_trusted() -> bool:
    """Whether a bounce or complaint may name its recipient by address alone, without a valid token.

    Only without return-path tokens (no ``NEWSLETTER_BOUNCE_ADDRESS``). With them, every genuine bounce carries
    one, and anyone can mail the bounce mailbox a made-up bounce naming any address: such a message is kept aside
    for a person instead of cleaning a subscriber.
    """
    from newsletter.services.headers import bounce_address

    return not bounce_address()


UNTRUSTED = "names no message of ours (no valid return-path token): kept for a person to check"


def _header(message: Message, name: str) -> str:
    return str(message.get(name, ""))


def _header_values(message: Message, names) -> list[str]:
    """Every value of each of these headers, in the order of ``names``."""
    return [str(value) for name in names for value in message.get_all(name, [])]


def _tokens_in(texts) -> list[tuple[str, int, str]]:
    found = []
    for text in texts:
        found.extend(tokens.find_address_tokens(text))
    return found


def _first_valid(candidates, purpose: str, is_valid) -> int | None:
    """The id named by the first of the candidate tokens that has this purpose and ``is_valid(token, id)``."""
    return next((object_id for token_purpose, object_id, token in candidates
                 if token_purpose == purpose and is_valid(token, object_id)), None)


def _valid_return_path_token(token: str, delivery_id: int) -> bool:
    return tokens.check_address_token(token, tokens.RETURN_PATH, delivery_id)


def _valid_mailto_token(token: str, subscriber_id: int) -> bool:
    """Whether a mailto token was signed with the subscriber's current key (rotating their links voids it)."""
    from newsletter.models import Subscriber

    key = Subscriber.objects.filter(pk=subscriber_id).values_list("token_key", flat=True).first()
    return key is not None and tokens.check_address_token(token, tokens.MAILTO_UNSUBSCRIBE, subscriber_id, key)


def verified_delivery(candidates) -> int | None:
    """The delivery named by the first valid return-path token among the candidates (``tokens.find_address_tokens``'s
    finds in a bounce's addresses and headers, or in the metadata a provider's webhook returns)."""
    return _first_valid(candidates, tokens.RETURN_PATH, _valid_return_path_token)


def named_by(delivery_id: int | None, address: str) -> dict:
    """Whom a bounce names, as ``Report`` fields: the delivery its token names, else the address it quotes."""
    return {"delivery_id": delivery_id, "email": "" if delivery_id else address}


def _verified_subscriber(candidates) -> int | None:
    """The subscriber named by the first valid mailto token among the candidates."""
    return _first_valid(candidates, tokens.MAILTO_UNSUBSCRIBE, _valid_mailto_token)


def _local_parts(texts) -> list[str]:
    """Only the local parts of the addresses (a token lives there; the domain may look like one by chance)."""
    return [address.partition("@")[0].rpartition("+")[2] for _name, address in getaddresses(texts) if address]


def _report_parts(message: Message, report_type: str) -> list[Message]:
    """The ``multipart/report`` parts of ``report_type`` anywhere in the message (some relays wrap them)."""
    found = []
    for part in message.walk():
        if part.get_content_type() == "multipart/report" and part.get_param("report-type", "").lower() == report_type:
            found.append(part)
    return found


def _first_report(message: Message, report_type: str) -> Message | None:
    return next(iter(_report_parts(message, report_type)), None)


def _enclosed_message(part: Message) -> list[Message]:
    payload = part.get_payload()
    return payload[:1] if isinstance(payload, list) else []


def _enclosed_header_block(part: Message) -> list[Message]:
    text = part.get_payload(decode=True)
    return [email.message_from_bytes(text, policy=email.policy.compat32)]


# How the original message is enclosed in a report: whole, or its headers only.
ENCLOSED_READERS = {
    "message/rfc822": _enclosed_message,
    "message/global": _enclosed_message,
    "text/rfc822-headers": _enclosed_header_block,
    "text/global-headers": _enclosed_header_block,
}


def _enclosed_headers(report: Message) -> list[Message]:
    """The original message (or its headers) enclosed in a report."""
    enclosed = []
    for part in report.walk():
        read = ENCLOSED_READERS.get(part.get_content_type())
        if read is not None:
            enclosed.extend(read(part))
    return enclosed


def _status_groups(part: Message) -> list[Message]:
    """The field groups of a ``message/delivery-status`` (or ``message/feedback-report``) part.

    The email package parses the first group as headers and the rest as sub-messages; some senders' parts come
    out as one text blob instead, which is split and parsed here.
    """
    payload = part.get_payload()
    if isinstance(payload, list):
        return payload
    return _groups_in_text(part.get_payload(decode=True))


def _groups_in_text(text: bytes) -> list[Message]:
    """Field groups separated by blank lines, each parsed as headers."""
    blocks = re.split(rb"\r?\n\s*\r?\n", text.strip())
    return [email.message_from_bytes(block + b"\n", policy=email.policy.compat32) for block in blocks if block]


def _status_groups_of(report: Message, content_types) -> list[Message]:
    """The field groups of every part of these content types in the report."""
    return [group for part in report.walk() if part.get_content_type() in content_types
            for group in _status_groups(part)]


def _address(field_value: str) -> str:
    """``rfc822; user@example.org`` → ``user@example.org``."""
    value = field_value.split(";", 1)[-1].strip()
    return parseaddr(value)[1] or value


def _enclosed_tokens(report: Message) -> list[tuple[str, int, str]]:
    return _tokens_in([text for headers in _enclosed_headers(report)
                       for text in _header_values(headers, ENCLOSED_TOKEN_HEADERS)])


def _bounce_reading(failures: list, delivery_id: int | None, reports_of) -> Reading:
    """A bounce's reports, ``reports_of(failures)``: of the first failure only when a return-path token names
    the delivery (each of our messages has one recipient: the return path names it), of all of them when
    addresses are trusted; otherwise the bounce names no message of ours and is unreadable."""
    if delivery_id is not None:
        failures = failures[:1]
    elif not addresses_trusted():
        return Reading(unreadable=f"a bounce that {UNTRUSTED}")
    return Reading(reports=reports_of(failures))


def read_message(raw: bytes) -> Reading:
    """What one raw message from the bounce mailbox reports (no database writes)."""
    try:
        message = email.message_from_bytes(raw, policy=email.policy.compat32)
    except Exception as exc:
        return Reading(unreadable=f"cannot parse the message: {type(exc).__name__}")
    key = message_key(raw, message)
    recipient_tokens = _tokens_in(_local_parts(_header_values(message, RECIPIENT_HEADERS)))
    for read in READERS:
        reading = read(message, recipient_tokens, key)
        if reading is not None:
            return reading
    return Reading(unreadable="neither a bounce, a complaint nor an unsubscribe request")


def _read_complaint(message: Message, recipient_tokens, key: str) -> Reading | None:
    """A feedback-loop report (ARF), unless it says not-spam; None when the message is not one."""
    report = _first_report(message, "feedback-report")
    if report is None:
        return None
    fields = _feedback_fields(report)
    feedback_type = fields.get("feedback-type", "abuse").strip().lower()
    if feedback_type == "not-spam":
        return Reading(ignored="a not-spam feedback report")
    candidates = (_tokens_in(_local_parts([fields.get("original-mail-from", "")])) + _enclosed_tokens(report)
                  + recipient_tokens)
    named = _complained_about(candidates, _address(fields.get("original-rcpt-to", "")))
    if named is None:
        return Reading(unreadable=f"a complaint that {UNTRUSTED}")
    return Reading(reports=[Report(
        kind=Kind.COMPLAINT, source=Source.MAILBOX, key=key, **named,
        detail=f"feedback report: {feedback_type} from {fields.get('user-agent', 'unknown')}"[:200],
    )])


def _feedback_fields(report: Message) -> dict[str, str]:
    """The fields of a feedback report, by lowercased name (the first of each name counts)."""
    fields = {}
    for group in _status_groups_of(report, ("message/feedback-report",)):
        for name, value in group.items():
            fields.setdefault(name.lower(), str(value))
    return fields


def _complained_about(candidates, address: str) -> dict | None:
    """Who a complaint names: the delivery a return-path token names, else the subscriber a mailto token names,
    else the address it quotes when addresses are trusted; None when nothing trustworthy names anyone."""
    delivery_id = verified_delivery(candidates)
    if delivery_id:
        return {"delivery_id": delivery_id}
    subscriber_id = _verified_subscriber(candidates)
    if subscriber_id:
        return {"subscriber_id": subscriber_id}
    if address and addresses_trusted():
        return {"email": address}
    return None


class _DsnRecipient(NamedTuple):
    address: str
    action: str
    status: str
    diagnostic: str


def _read_dsn(message: Message, recipient_tokens, key: str) -> Reading | None:
    """A delivery status notification (RFC 3464); None when the message is not one."""
    report = _first_report(message, "delivery-status")
    if report is None:
        return None
    recipients = _dsn_recipients(report)
    failed = [recipient for recipient in recipients if recipient.action == "failed"]
    if not failed:
        return _read_dsn_without_failure(message, recipients, recipient_tokens, key)
    delivery_id = verified_delivery(recipient_tokens + _enclosed_tokens(report))
    return _bounce_reading(failed, delivery_id, functools.partial(_dsn_reports, key, delivery_id))


def _read_dsn_without_failure(message: Message, recipients, recipient_tokens, key: str) -> Reading:
    if recipients:
        actions = ", ".join(sorted({recipient.action or "none" for recipient in recipients}))
        return Reading(ignored=f"a delivery status notification without a failure ({actions})")
    # A report that says delivery-status but carries none: let the detectors try, else unreadable.
    return _read_nonstandard(message, recipient_tokens, key) or Reading(
        unreadable="a delivery status notification without recipients")


def _dsn_recipients(report: Message) -> list[_DsnRecipient]:
    """Each recipient named in the report's delivery-status parts."""
    recipients = (_dsn_recipient(group) for group in _status_groups_of(report, DELIVERY_STATUS_TYPES))
    return [recipient for recipient in recipients if recipient is not None]


def _dsn_recipient(group: Message) -> _DsnRecipient | None:
    final = group.get("Final-Recipient") or group.get("Original-Recipient")
    if not final:
        return None
    return _DsnRecipient(
        _address(str(final)),
        _header(group, "Action").strip().lower(),
        _header(group, "Status").strip(),
        " ".join(_header(group, "Diagnostic-Code").split()),
    )


def _dsn_reports(key: str, delivery_id: int | None, failed: list[_DsnRecipient]) -> list[Report]:
    return [_dsn_report(number, recipient, key, delivery_id) for number, recipient in enumerate(failed)]


def _dsn_report(number: int, recipient: _DsnRecipient, key: str, delivery_id) -> Report:
    code = status_code(recipient.status) or status_code(recipient.diagnostic)
    return Report(
        kind=classify(code, permanent=True), source=Source.MAILBOX, key=f"{key}:{number}",
        **named_by(delivery_id, recipient.address), status_code=code,
        detail=recipient.diagnostic or f"status {code}",
    )


def _read_unsubscribe(message: Message, recipient_tokens, key: str) -> Reading | None:
    """A mail to the List-Unsubscribe address, its token valid (in the address or the subject); else None."""
    subscriber_id = _verified_subscriber(recipient_tokens + _tokens_in([_header(message, "Subject")]))
    if subscriber_id is None:
        return None
    return Reading(reports=[Report(kind=Kind.UNSUBSCRIBE, source=Source.MAILBOX, key=key,
                                   subscriber_id=subscriber_id, detail="unsubscribe requested by mail")])


def _read_auto_reply(message: Message, recipient_tokens, key: str) -> Reading | None:
    if any(pattern.fullmatch(_header(message, name)) for name, pattern in AUTO_REPLY_HEADERS):
        return Reading(ignored="an automatic reply")
    return None


def _read_forged_unsubscribe(message: Message, recipient_tokens, key: str) -> Reading | None:
    texts = [_header(message, "Subject"), *_header_values(message, RECIPIENT_HEADERS)]
    if any(purpose == tokens.MAILTO_UNSUBSCRIBE for purpose, _id, _token in _tokens_in(texts)):
        return Reading(unreadable="an unsubscribe request whose token is not valid (forged or superseded)")
    return None


def _body_text(message: Message) -> str:
    return "\n".join(_decoded(part) for part in message.walk() if part.get_content_maintype() == "text")


def _decoded(part: Message) -> str:
    payload = part.get_payload(decode=True)
    return payload.decode(part.get_content_charset() or "utf-8", "replace")


def _read_nonstandard(message: Message, recipient_tokens, key: str) -> Reading | None:
    """A bounce in a format other than RFC 3464, through ``flufl.bounce``'s detectors; None if none matched."""
    failures = _detected_failures(message)
    if not failures:
        return None
    delivery_id = verified_delivery(recipient_tokens)
    return _bounce_reading(failures, delivery_id, functools.partial(_nonstandard_reports, message, key, delivery_id))


def _nonstandard_reports(message: Message, key: str, delivery_id: int | None, failures) -> list[Report]:
    """A report per failure, with the status code and the line quoting it found in the message's text."""
    body = _body_text(message)
    code = status_code(body)
    detail = _line_with(body, code) or "non-standard bounce"
    return [
        Report(kind=_nonstandard_kind(body, code, is_permanent), source=Source.MAILBOX, key=f"{key}:{number}",
               **named_by(delivery_id, address), status_code=code, detail=detail)
        for number, (address, is_permanent) in enumerate(failures)
    ]


def _detected_failures(message: Message) -> list[tuple[str, bool]]:
    """(address, permanent) of each failure the detectors find, permanent ones first; [] when none (or one broke)."""
    try:
        temporary, permanent = all_failures(message)
    except Exception:
        return []
    return ([(_address_text(address), True) for address in sorted(permanent)]
            + [(_address_text(address), False) for address in sorted(temporary)])


def _address_text(address) -> str:
    return address.decode("ascii", "replace") if isinstance(address, bytes) else str(address)


def _line_with(body: str, code: str) -> str:
    """The first line of the body that quotes the status code, stripped ("" without a code)."""
    return next((line.strip() for line in body.splitlines() if code and code in line), "")


def _nonstandard_kind(body: str, code: str, is_permanent: bool) -> str:
    """Hard or soft: a detector's temporary failure, or wording that says the mailbox will take mail later."""
    if not is_permanent:
        return Kind.SOFT_BOUNCE
    if re.search(r"retry time(out)? (not reached|exceeded)|mailbox (is )?full|over quota", body, re.I):
        return Kind.SOFT_BOUNCE
    return classify(code, permanent=True)


# What a message from the bounce mailbox may be, asked in this order; each reader answers None when the message
# is not its kind. A non-standard bounce is tried before the auto-reply test: Exim marks its bounces
# "Auto-Submitted: auto-replied".
READERS = (_read_complaint, _read_dsn, _read_unsubscribe, _read_nonstandard, _read_auto_reply,
           _read_forged_unsubscribe)
