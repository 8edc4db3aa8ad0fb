"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, for email tests.

    with SMTPSink() as sink:
        settings.EMAIL_PORT = sink.port
        ...
        sink.wait_for(1)
        sink.messages[0]["Subject"]

``sink.refuse["x@example.org"] = (550, "No such user")`` makes it refuse one recipient; ``sink.delay = 2.0`` makes
it answer each message's data two seconds late (a tarpitting or busy server), without blocking other connections.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
import time
from email.message import EmailMessage

from aiosmtpd.controller import Controller


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Handler:
    def __init__(self, sink: SMTPSink):
        self.sink = sink

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        refusal = self.sink.refuse.get(address.lower())
        if refusal:
            code, text = refusal
            return f"{code} {text}"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.sink.delay:
            await asyncio.sleep(self.sink.delay)
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        with self.sink.lock:
            for recipient in envelope.rcpt_tos:
                self.sink.envelopes.append((recipient, message))
                self.sink.senders.append((envelope.mail_from, recipient))
            self.sink.messages.append(message)
            self.sink.arrival_times.append(time.monotonic())
        return "250 Message accepted"


class SMTPSink:
    """An SMTP server in a background thread that records every message it accepts."""

    def __init__(self, host: str = "127.0.0.1", port: int | None = None):
        self.host = host
        self.port = port or free_port()
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, EmailMessage]] = []
        self.senders: list[tuple[str, str]] = []  # (envelope sender, recipient) of every accepted copy
        self.refuse: dict[str, tuple[int, str]] = {}
        self.arrival_times: list[float] = []  # time.monotonic() of each accepted message
        self.delay: float = 0.0  # seconds before answering each message's data
        self.lock = threading.Lock()
        self._controller: Controller | None = None

    def start(self) -> SMTPSink:
        self._controller = Controller(_Handler(self), hostname=self.host, port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SMTPSink:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def recipients(self) -> list[str]:
        """Every accepted envelope recipient, in arrival order (duplicates kept)."""
        with self.lock:
            return [recipient for recipient, _ in self.envelopes]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        """Wait until at least ``count`` messages arrived; fail with a clear message otherwise."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.02)
        raise AssertionError(f"expected {count} messages at the SMTP sink, got {len(self.messages)}")
