"""Real bounce, complaint and unsubscribe messages, built with the ``email`` package in the shapes receivers send.

Each builder takes what the original newsletter message carried (its envelope sender, i.e. return path, its
recipient, its List-Unsubscribe header) and returns the bytes that would land in the bounce mailbox:

- ``postfix_dsn``: RFC 3464 DSN as Postfix writes it (text, message/delivery-status, text/rfc822-headers);
- ``gmail_dsn``: Gmail's "Address not found" (multipart/alternative text and HTML, then the status part);
- ``microsoft_ndr``: Microsoft 365 / Exchange Online NDR (lower-case field names, 5.1.10, message/rfc822);
- ``exim_bounce``: classic Exim, not RFC 3464 (X-Failed-Recipients, "Auto-Submitted: auto-replied");
- ``yahoo_bounce``: Yahoo's own plain-text "Sorry, we were unable to deliver your message";
- ``arf_complaint``: a feedback-loop report (RFC 5965), as Yahoo's CFL and Microsoft's JMRP send them;
- ``mailto_unsubscribe``: what Gmail (or any mail client) sends to a List-Unsubscribe mailto link.
"""

from __future__ import annotations

import email.policy
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formatdate, make_msgid
from urllib.parse import unquote

POLICY = email.policy.SMTP


def original_message(return_path: str, recipient: str, list_unsubscribe: str = "",
                     subject: str = "Hotline network news") -> Message:
    """The newsletter message as the receiving server saw it (it adds Return-Path from MAIL FROM)."""
    message = MIMEText("Dear reader, the network's news.\n", "plain", "utf-8")
    message["Return-Path"] = f"<{return_path}>"
    message["From"] = "Hotline News <news@example.org>"
    message["To"] = recipient
    message["Subject"] = subject
    message["Date"] = formatdate()
    message["Message-ID"] = make_msgid(domain="portal.example.org")
    if list_unsubscribe:
        message["List-Unsubscribe"] = list_unsubscribe
    return message


def _headers_only(message: Message) -> MIMEText:
    text = "".join(f"{name}: {value}\n" for name, value in message.items())
    return MIMEText(text, "rfc822-headers", "us-ascii")


def _status_part(fields: list[list[tuple[str, str]]]) -> Message:
    part = MIMEBase("message", "delivery-status")
    blocks = []
    for group in fields:
        block = Message()
        for name, value in group:
            block[name] = value
        blocks.append(block)
    part.set_payload(blocks)
    return part


def _report(report_type: str, sender: str, to: str, subject: str, parts, **headers) -> bytes:
    report = MIMEMultipart("report", report_type=report_type)
    report["From"] = sender
    report["To"] = to
    report["Subject"] = subject
    report["Date"] = formatdate()
    report["Message-ID"] = make_msgid(domain="mx.example.net")
    for name, value in headers.items():
        report[name.replace("_", "-")] = value
    for part in parts:
        report.attach(part)
    return report.as_bytes()


def postfix_dsn(return_path: str, recipient: str, *, status: str = "5.1.1", action: str = "failed",
                diagnostic: str = "") -> bytes:
    diagnostic = diagnostic or f"smtp; 550 {status} <{recipient}>: Recipient address rejected: User unknown"
    human = MIMEText(
        "This is the mail system at host mx.example.net.\n\nI'm sorry to have to inform you that your message could"
        " not\nbe delivered to one or more recipients. It's attached below.\n\n"
        f"<{recipient}>: host mail.example.net[192.0.2.10] said: {diagnostic.split(';', 1)[-1].strip()}\n",
        "plain", "us-ascii")
    human.add_header("Content-Description", "Notification")
    status_part = _status_part([
        [("Reporting-MTA", "dns; mx.example.net"), ("X-Postfix-Queue-ID", "4Q8Zx12abcz"),
         ("X-Postfix-Sender", f"rfc822; {return_path}"), ("Arrival-Date", formatdate())],
        [("Final-Recipient", f"rfc822; {recipient}"), ("Original-Recipient", f"rfc822;{recipient}"),
         ("Action", action), ("Status", status), ("Remote-MTA", "dns; mail.example.net"),
         ("Diagnostic-Code", diagnostic)],
    ])
    subject = "Delayed Mail (still being retried)" if action == "delayed" else "Undelivered Mail Returned to Sender"
    return _report("delivery-status", "MAILER-DAEMON@mx.example.net (Mail Delivery System)", return_path, subject,
                   [human, status_part, _headers_only(original_message(return_path, recipient))],
                   Auto_Submitted="auto-replied")


def gmail_dsn(return_path: str, recipient: str) -> bytes:
    text = MIMEMultipart("alternative")
    text.attach(MIMEText(
        f"** Address not found **\n\nYour message wasn't delivered to {recipient} because the address couldn't "
        "be found, or is unable to receive mail.\n\nThe response from the remote server was:\n550 5.1.1 The email "
        "account that you tried to reach does not exist.\n", "plain", "utf-8"))
    text.attach(MIMEText(f"<html><body><h2>Address not found</h2><p>Your message wasn't delivered to "
                         f"<b>{recipient}</b>.</p></body></html>", "html", "utf-8"))
    status_part = _status_part([
        [("Reporting-MTA", "dns; googlemail.com"), ("Received-From-MTA", "dns; news@example.org"),
         ("Arrival-Date", formatdate())],
        [("Final-Recipient", f"rfc822; {recipient}"), ("Action", "failed"), ("Status", "5.1.1"),
         ("Remote-MTA", "dns; gmail-smtp-in.l.google.com. (2607:f8b0:4864:20::52, the server for the domain "
                        "gmail.com.)"),
         ("Diagnostic-Code", "smtp; 550-5.1.1 The email account that you tried to reach does not exist. Please "
                             "try 550-5.1.1 double-checking the recipient's email address for typos or 550 5.1.1 "
                             "unnecessary spaces. https://support.google.com/mail/?p=NoSuchUser"),
         ("Last-Attempt-Date", formatdate())],
    ])
    return _report("delivery-status", "Mail Delivery Subsystem <mailer-daemon@googlemail.com>", return_path,
                   "Delivery Status Notification (Failure)",
                   [text, status_part, MIMEMessage(original_message(return_path, recipient))],
                   X_Failed_Recipients=recipient, Auto_Submitted="auto-replied")


def microsoft_ndr(return_path: str, recipient: str, *, status: str = "5.1.10") -> bytes:
    text = MIMEMultipart("alternative")
    text.attach(MIMEText(
        "Your message to " + recipient + " couldn't be delivered.\n" + recipient.split("@")[0] + " wasn't found "
        "at " + recipient.split("@")[1] + ".\n\nDiagnostic information for administrators:\nGenerating server: "
        "AM0PR01MB1234.eurprd01.prod.outlook.com\n" + recipient + "\nRemote server returned '550 " + status +
        " RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup'\n", "plain", "utf-8"))
    text.attach(MIMEText("<html><body><p>Delivery has failed to these recipients or groups:</p></body></html>",
                         "html", "utf-8"))
    status_part = _status_part([
        [("Reporting-MTA", "dns;AM0PR01MB1234.eurprd01.prod.outlook.com"),
         ("Received-From-MTA", "dns;mx.example.org"), ("Arrival-Date", formatdate())],
        [("Final-recipient", f"RFC822; {recipient}"), ("Action", "failed"), ("Status", status),
         ("Diagnostic-code", f"smtp;550 {status} RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP "
                             "address lookup")],
    ])
    return _report("delivery-status", "Microsoft Outlook <MAILER-DAEMON@AM0PR01MB1234.eurprd01.prod.outlook.com>",
                   return_path, "Undeliverable: Hotline network news",
                   [text, status_part, MIMEMessage(original_message(return_path, recipient))],
                   X_MS_Exchange_Message_Is_Ndr="", Auto_Submitted="auto-generated")


def exim_bounce(return_path: str, recipient: str, *, error: str = "550 5.1.1 No such user here") -> bytes:
    body = (
        "This message was created automatically by mail delivery software.\n\n"
        "A message that you sent could not be delivered to one or more of its\n"
        "recipients. This is a permanent error. The following address(es) failed:\n\n"
        f"  {recipient}\n    host mail.example.net [192.0.2.25]\n"
        f"    SMTP error from remote mail server after RCPT TO:<{recipient}>:\n    {error}\n\n"
        "------ This is a copy of the message, including all the headers. ------\n\n"
        + original_message(return_path, recipient).as_string()
    )
    message = MIMEText(body, "plain", "us-ascii")
    message["Return-path"] = "<>"
    message["X-Failed-Recipients"] = recipient
    message["Auto-Submitted"] = "auto-replied"
    message["From"] = "Mail Delivery System <Mailer-Daemon@exim.example.net>"
    message["To"] = return_path
    message["Subject"] = "Mail delivery failed: returning message to sender"
    message["Message-Id"] = make_msgid(domain="exim.example.net")
    message["Date"] = formatdate()
    return message.as_bytes()


def yahoo_bounce(return_path: str, recipient: str) -> bytes:
    body = (
        "Sorry, we were unable to deliver your message to the following address.\n\n"
        f"<{recipient}>:\n554: delivery error: dd This user doesn't have a yahoo.com account ({recipient}) [0] - "
        "mta1234.mail.ne1.yahoo.com\n\n--- Below this line is a copy of the message.\n\n"
        + original_message(return_path, recipient).as_string()
    )
    message = MIMEText(body, "plain", "us-ascii")
    message["From"] = "MAILER-DAEMON@yahoo.com"
    message["To"] = return_path
    message["Subject"] = "Failure Notice"
    message["Message-ID"] = make_msgid(domain="yahoo.com")
    message["Date"] = formatdate()
    return message.as_bytes()


def arf_complaint(return_path: str, recipient: str, list_unsubscribe: str, *, to: str,
                  reporter: str = "Yahoo! Mail AntiSpam Feedback <feedback@arf.mail.yahoo.com>",
                  user_agent: str = "Yahoo!-Mail-Feedback/2.0", with_mail_from: bool = True) -> bytes:
    human = MIMEText("This is an email abuse report for an email message received from IP 192.0.2.1.\n", "plain",
                     "us-ascii")
    feedback = MIMEBase("message", "feedback-report")
    fields = Message()
    fields["Feedback-Type"] = "abuse"
    fields["User-Agent"] = user_agent
    fields["Version"] = "1"
    if with_mail_from:
        fields["Original-Mail-From"] = f"<{return_path}>"
    fields["Original-Rcpt-To"] = f"<{recipient}>"
    fields["Arrival-Date"] = formatdate()
    fields["Reporting-MTA"] = "dns; mta1.example.net"
    fields["Source-IP"] = "192.0.2.1"
    feedback.set_payload([fields])
    original = original_message(return_path, recipient, list_unsubscribe)
    return _report("feedback-report", reporter, to, "FW: Hotline network news", [human, feedback,
                   MIMEMessage(original)])


def mailto_unsubscribe(mailto: str, sender: str) -> bytes:
    """What a mail client sends for ``<mailto:address?subject=...>`` (Gmail's automatic unsubscribe)."""
    address, _, query = mailto.partition("?")
    subject = unquote(query.partition("subject=")[2]) if "subject=" in query else "unsubscribe"
    message = MIMEText("This message was automatically generated by Gmail.\n", "plain", "utf-8")
    message["From"] = sender
    message["To"] = address
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="mail.gmail.com")
    message["Date"] = formatdate()
    return message.as_bytes()


def auto_reply(to: str) -> bytes:
    message = MIMEText("I am out of the office until Monday.\n", "plain", "utf-8")
    message["From"] = "Away Reader <away@example.org>"
    message["To"] = to
    message["Subject"] = "Out of office: Hotline network news"
    message["Auto-Submitted"] = "auto-replied"
    message["Message-ID"] = make_msgid(domain="example.org")
    return message.as_bytes()
