"""A throwaway Dovecot IMAP server (Debian's ``dovecot-imapd``) for the bounce mailbox tests.

``ThrowawayDovecot().start()`` writes a configuration into a temporary directory and runs ``dovecot -F`` on a
free loopback port, with one user (plain-text login, no TLS: loopback only) whose maildir lives in that
directory. ``deliver(raw)`` puts a message into the inbox as the mail server would; ``folder(name)`` lists what
a folder holds. Like ``tests/faults`` it never touches a system-wide server. Without Dovecot the tests skip, or
fail with a clear message under ``REQUIRE_SERVICES=1`` (CI installs ``dovecot-imapd``).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from imap_tools import MailBoxUnencrypted

from tests.services import require_service
from tests.smtp_sink import free_port

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"

CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {directory}/run
state_dir = {directory}/state
instance_name = portal-test-{port}
log_path = {directory}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal_user}
default_login_user = {login_user}
first_valid_uid = {uid}
last_valid_uid = {uid}
mail_location = maildir:{directory}/mail/%u
mail_uid = {uid}
mail_gid = {gid}
mail_privileged_group =
namespace inbox {{
  inbox = yes
  separator = /
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {directory}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={directory}/mail/%u
}}
"""


def dovecot_available() -> bool:
    return os.path.exists(DOVECOT)


def require_dovecot() -> None:
    require_service("Dovecot IMAP server (apt-get install dovecot-imapd)", dovecot_available())


class ThrowawayDovecot:
    """Dovecot on a free loopback port with one mailbox user; ``start()`` / ``stop()``."""

    user = "bounces"
    password = "mailbox-test-password"

    def __init__(self):
        self.port = free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="dovecot-"))
        self.process: subprocess.Popen | None = None

    def _identity(self) -> tuple[str, int, int]:
        # Dovecot never lets mail processes run as root: as root, the mailbox belongs to the dovecot user.
        entry = pwd.getpwnam("dovecot") if os.geteuid() == 0 else pwd.getpwuid(os.getuid())
        return entry.pw_name, entry.pw_uid, entry.pw_gid

    def start(self) -> ThrowawayDovecot:
        name, uid, gid = self._identity()
        login_user = "dovenull" if os.geteuid() == 0 else name
        for sub in ("run", "state", "mail"):
            (self.directory / sub).mkdir()
        (self.directory / "users").write_text(f"{self.user}:{{PLAIN}}{self.password}\n")
        if os.geteuid() == 0:
            os.chmod(self.directory, 0o755)  # the auth process (user dovecot) reads the users file
            os.chmod(self.directory / "users", 0o644)
            os.chown(self.directory / "mail", uid, gid)
        config = self.directory / "dovecot.conf"
        config.write_text(CONFIG.format(directory=self.directory, port=self.port, uid=uid, gid=gid,
                                        internal_user=name, login_user=login_user))
        self.process = subprocess.Popen([DOVECOT, "-F", "-c", str(config)], stdin=subprocess.DEVNULL,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dovecot exited ({self.process.returncode}):\n{self.log()}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                if s.recv(100).startswith(b"* OK"):
                    return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"dovecot did not answer on port {self.port}:\n{self.log()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None
        shutil.rmtree(self.directory, ignore_errors=True)

    def log(self) -> str:
        path = self.directory / "dovecot.log"
        output = ""
        if self.process is not None and self.process.stdout is not None and self.process.poll() is not None:
            output = self.process.stdout.read().decode("utf-8", "replace")
        return output + (path.read_text(errors="replace")[-3000:] if path.exists() else "")

    def settings(self) -> dict:
        """The portal's settings for reading this mailbox."""
        return {
            "NEWSLETTER_BOUNCE_IMAP_HOST": "127.0.0.1",
            "NEWSLETTER_BOUNCE_IMAP_PORT": self.port,
            "NEWSLETTER_BOUNCE_IMAP_SECURITY": "none",
            "NEWSLETTER_BOUNCE_IMAP_USER": self.user,
            "NEWSLETTER_BOUNCE_IMAP_PASSWORD": self.password,
            "NEWSLETTER_BOUNCE_IMAP_FOLDER": "INBOX",
            "NEWSLETTER_BOUNCE_IMAP_DONE_FOLDER": "Processed",
            "NEWSLETTER_BOUNCE_IMAP_UNREADABLE_FOLDER": "Unreadable",
            "NEWSLETTER_BOUNCE_IMAP_TIMEOUT": 10,
        }

    def mailbox(self) -> MailBoxUnencrypted:
        return MailBoxUnencrypted("127.0.0.1", self.port, timeout=10).login(self.user, self.password)

    def deliver(self, *messages: bytes, folder: str = "INBOX") -> None:
        """Put messages into a folder, as the mail server delivering to this mailbox would."""
        with self.mailbox() as box:
            for raw in messages:
                box.append(raw, folder)

    def folder(self, name: str) -> list[bytes]:
        """The raw messages a folder holds now ([] when it does not exist)."""
        with self.mailbox() as box:
            if not box.folder.exists(name):
                return []
            box.folder.set(name)
            found = []
            for uid in box.uids("ALL"):
                _status, data = box.client.uid("FETCH", uid, "(BODY.PEEK[])")
                found.extend(item[1] for item in data if isinstance(item, tuple) and len(item) > 1)
            return found
