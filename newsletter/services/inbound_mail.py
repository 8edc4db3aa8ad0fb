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
import hashlib
import re
from dataclasses import dataclass, field
from email.message import Message
from email.utils import getaddresses, parseaddr

from flufl.bounce import all_failures

from newsletter.services import tokens
from newsletter.services.bounces import Kind, Report, Source, classify, status_code

# Headers that say to which address this message was delivered (the return path of the bounced message).
RECIPIENT_HEADERS = ("Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To", "X-Rcpt-To", "To", "Cc")
AUTO_REPLY_SUBJECT = re.compile(r"^(auto(matic)?[ -]?reply|out of (the )?office|abwesenheit|absence)", re.I)


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
    message_id = (message.get("Message-ID", "") if message is not None else "") or ""
    message_id = " ".join(str(message_id).split())
    if message_id:
        return "mail:" + hashlib.sha256(message_id.encode("utf-8", "replace")).hexdigest()[:40]
    return "mail:" + hashlib.sha256(raw).hexdigest()[:40]


def addresses_trusted() -> bool:
    """Whether a bounce or complaint may name its recipient by address alone, without a valid token.

    Only without return-path tokens (no ``NEWSLETTER_BOUNCE_ADDRESS``). With them, every genuine bounce carries
    one, and anyone can mail the bounce mailbox a made-up bounce naming any address: such a message is kept aside
    for a person instead of cleaning a subscriber.
    """
    from newsletter.services.headers import bounce_address

    return not bounce_address()


UNTRUSTED = "names no message of ours (no valid return-path token): kept for a person to check"


def _tokens_in(texts) -> list[tuple[str, int, str]]:
    found = []
    for text in texts:
        found.extend(tokens.find_address_tokens(str(text or "")))
    return found


def _verified_delivery(candidates) -> int | None:
    for purpose, object_id, token in candidates:
        if purpose == tokens.RETURN_PATH and tokens.check_address_token(token, purpose, object_id):
            return object_id
    return None


def _verified_subscriber(candidates) -> int | None:
    from newsletter.models import Subscriber

    for purpose, object_id, token in candidates:
        if purpose != tokens.MAILTO_UNSUBSCRIBE:
            continue
        key = Subscriber.objects.filter(pk=object_id).values_list("token_key", flat=True).first()
        if key is not None and tokens.check_address_token(token, purpose, object_id, key):
            return object_id
    return None


def _recipient_texts(message: Message) -> list[str]:
    texts = []
    for name in RECIPIENT_HEADERS:
        texts.extend(str(value) for value in message.get_all(name, []))
    return texts


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


def _enclosed_headers(report: Message) -> list[Message]:
    """The original message (or its headers) enclosed in a report."""
    enclosed = []
    for part in report.walk():
        content_type = part.get_content_type()
        if content_type in ("message/rfc822", "message/global"):
            payload = part.get_payload()
            if isinstance(payload, list) and payload:
                enclosed.append(payload[0])
        elif content_type in ("text/rfc822-headers", "text/global-headers"):
            text = part.get_payload(decode=True) or b""
            enclosed.append(email.message_from_bytes(text, policy=email.policy.compat32))
    return enclosed


def _status_groups(part: Message) -> list[Message]:
    """The field groups of a ``message/delivery-status`` (or ``message/feedback-report``) part.

    The email package parses the first group as headers and the rest as sub-messages; some senders' parts come
    out as one text blob instead, which is split and parsed here.
    """
    payload = part.get_payload()
    if isinstance(payload, list):
        return [group for group in payload if isinstance(group, Message)]
    text = part.get_payload(decode=True) or b""
    blocks = re.split(rb"\r?\n\s*\r?\n", text.strip())
    return [email.message_from_bytes(block + b"\n", policy=email.policy.compat32) for block in blocks if block]


def _address(field_value: str) -> str:
    """``rfc822; user@example.org`` → ``user@example.org``."""
    value = (field_value or "").split(";", 1)[-1].strip()
    return parseaddr(value)[1] or value


def _enclosed_tokens(report: Message) -> list[tuple[str, int, str]]:
    texts = []
    for headers in _enclosed_headers(report):
        for name in ("Return-Path", "List-Unsubscribe", "Sender", "Errors-To"):
            texts.extend(str(value) for value in headers.get_all(name, []))
    return _tokens_in(texts)


def read_message(raw: bytes, *, key: str | None = None) -> Reading:
    """What one raw message from the bounce mailbox reports (no database writes)."""
    try:
        message = email.message_from_bytes(raw, policy=email.policy.compat32)
    except Exception as exc:
        return Reading(unreadable=f"cannot parse the message: {type(exc).__name__}")
    key = key or message_key(raw, message)
    recipient_tokens = _tokens_in(_local_parts(_recipient_texts(message)))

    complaints = _report_parts(message, "feedback-report")
    if complaints:
        return _read_complaint(complaints[0], recipient_tokens, key)
    dsns = _report_parts(message, "delivery-status")
    if dsns:
        return _read_dsn(message, dsns[0], recipient_tokens, key)

    subject = str(message.get("Subject", "") or "")
    subscriber_id = _verified_subscriber(recipient_tokens) or _verified_subscriber(_tokens_in([subject]))
    if subscriber_id is not None:
        return Reading(reports=[Report(kind=Kind.UNSUBSCRIBE, source=Source.MAILBOX, key=key,
                                       subscriber_id=subscriber_id, detail="unsubscribe requested by mail")])

    # Before the auto-reply test: Exim marks its (non-standard) bounces "Auto-Submitted: auto-replied".
    nonstandard = _read_nonstandard(message, recipient_tokens, key)
    if nonstandard is not None:
        return nonstandard
    if _is_auto_reply(message):
        return Reading(ignored="an automatic reply")
    if any(purpose == tokens.MAILTO_UNSUBSCRIBE for purpose, _id, _token in _tokens_in([subject, *_recipient_texts(
            message)])):
        return Reading(unreadable="an unsubscribe request whose token is not valid (forged or superseded)")
    return Reading(unreadable="neither a bounce, a complaint nor an unsubscribe request")


def _is_auto_reply(message: Message) -> bool:
    auto = str(message.get("Auto-Submitted", "") or "").lower()
    if auto and auto != "no" and not _report_parts(message, "delivery-status"):
        return True
    if message.get("X-Autoreply") or message.get("X-Autorespond"):
        return True
    if str(message.get("Precedence", "")).lower() == "auto_reply":
        return True
    return bool(AUTO_REPLY_SUBJECT.match(str(message.get("Subject", "") or "").strip()))


def _read_complaint(report: Message, recipient_tokens, key: str) -> Reading:
    fields = {}
    for part in report.walk():
        if part.get_content_type() == "message/feedback-report":
            for group in _status_groups(part):
                for name, value in group.items():
                    fields.setdefault(name.lower(), str(value))
    feedback_type = fields.get("feedback-type", "abuse").strip().lower()
    if feedback_type == "not-spam":
        return Reading(ignored="a not-spam feedback report")
    candidates = (_tokens_in(_local_parts([fields.get("original-mail-from", "")])) + _enclosed_tokens(report)
                  + recipient_tokens)
    delivery_id = _verified_delivery(candidates)
    subscriber_id = None if delivery_id else _verified_subscriber(candidates)
    email_address = _address(fields.get("original-rcpt-to", ""))
    if delivery_id is None and subscriber_id is None and not (email_address and addresses_trusted()):
        return Reading(unreadable=f"a complaint that {UNTRUSTED}")
    return Reading(reports=[Report(
        kind=Kind.COMPLAINT, source=Source.MAILBOX, key=key, delivery_id=delivery_id, subscriber_id=subscriber_id,
        email="" if (delivery_id or subscriber_id) else email_address,
        detail=f"feedback report: {feedback_type} from {fields.get('user-agent', 'unknown')}"[:200],
    )])


def _read_dsn(message: Message, report: Message, recipient_tokens, key: str) -> Reading:
    recipients = _dsn_recipients(report)
    failed = [r for r in recipients if r[1] == "failed"]
    if not failed:
        if recipients:
            actions = ", ".join(sorted({r[1] or "none" for r in recipients}))
            return Reading(ignored=f"a delivery status notification without a failure ({actions})")
        # A report that says delivery-status but carries none: let the detectors try, else unreadable.
        return _read_nonstandard(message, recipient_tokens, key) or Reading(
            unreadable="a delivery status notification without recipients")
    delivery_id = _verified_delivery(recipient_tokens) or _verified_delivery(_enclosed_tokens(report))
    if delivery_id is not None:
        failed = failed[:1]  # each of our messages has one recipient: the return path names it
    elif not addresses_trusted():
        return Reading(unreadable=f"a bounce that {UNTRUSTED}")
    return Reading(reports=[_dsn_report(number, recipient, key, delivery_id)
                            for number, recipient in enumerate(failed)])


def _dsn_recipients(report: Message) -> list[tuple[str, str, str, str]]:
    """(address, action, status, diagnostic) of each recipient named in the report's delivery-status parts."""
    recipients = []
    for part in report.walk():
        if part.get_content_type() not in ("message/delivery-status", "message/global-delivery-status"):
            continue
        for group in _status_groups(part):
            final = group.get("Final-Recipient") or group.get("Original-Recipient")
            if not final:
                continue
            recipients.append((
                _address(str(final)),
                str(group.get("Action", "") or "").strip().lower(),
                str(group.get("Status", "") or "").strip(),
                " ".join(str(group.get("Diagnostic-Code", "") or "").split()),
            ))
    return recipients


def _dsn_report(number: int, recipient: tuple[str, str, str, str], key: str, delivery_id) -> Report:
    address, _action, code, diagnostic = recipient
    code = status_code(code) or status_code(diagnostic)
    return Report(
        kind=classify(code, permanent=True), source=Source.MAILBOX, key=f"{key}:{number}", delivery_id=delivery_id,
        email="" if delivery_id else address, status_code=code, detail=diagnostic or f"status {code}",
    )


def _body_text(message: Message) -> str:
    texts = []
    for part in message.walk():
        if part.get_content_maintype() == "text":
            payload = part.get_payload(decode=True) or b""
            texts.append(payload.decode(part.get_content_charset() or "utf-8", "replace"))
    return "\n".join(texts)


def _read_nonstandard(message: Message, recipient_tokens, key: str) -> Reading | None:
    """A bounce in a format other than RFC 3464, through ``flufl.bounce``'s detectors; None if none matched."""
    try:
        temporary, permanent = all_failures(message)
    except Exception:
        return None
    if not temporary and not permanent:
        return None
    body = _body_text(message)
    code = status_code(body)
    delivery_id = _verified_delivery(recipient_tokens)
    failures = [(address, True) for address in sorted(permanent)] + [(address, False) for address in sorted(temporary)]
    if delivery_id is not None:
        failures = failures[:1]
    elif not addresses_trusted():
        return Reading(unreadable=f"a bounce that {UNTRUSTED}")
    diagnostic = next((line.strip() for line in body.splitlines() if code and code in line), "")
    reports = []
    for number, (address, is_permanent) in enumerate(failures):
        text = address.decode("ascii", "replace") if isinstance(address, bytes) else str(address)
        reports.append(Report(kind=_nonstandard_kind(body, code, is_permanent), source=Source.MAILBOX,
                              key=f"{key}:{number}", delivery_id=delivery_id, email="" if delivery_id else text,
                              status_code=code, detail=diagnostic or "non-standard bounce"))
    return Reading(reports=reports)


def _nonstandard_kind(body: str, code: str, is_permanent: bool) -> str:
    """Hard or soft: a detector's temporary failure, or wording that says the mailbox will take mail later."""
    if not is_permanent:
        return Kind.SOFT_BOUNCE
    if re.search(r"retry time(out)? (not reached|exceeded)|mailbox (is )?full|over quota", body, re.I):
        return Kind.SOFT_BOUNCE
    return classify(code, permanent=True)
