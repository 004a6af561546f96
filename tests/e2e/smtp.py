"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives.

With ``dedupe=True`` it behaves like a submission relay with a duplicate
filter: a message whose Message-ID it has already accepted is answered
``250`` (the sender is told it is done) and dropped, and counted in
``duplicates``. ``delay`` slows each DATA answer down (a busy relay), and
``refuse_next(code)`` answers the next messages with an SMTP error.
"""

import email
import email.policy
import socket
import threading
import time
from collections import Counter
from email.message import EmailMessage

from aiosmtpd.controller import Controller


class Mailbox:
    """Messages received by the loopback server, parsed."""

    def __init__(self, *, dedupe: bool = False, delay: float = 0.0) -> None:
        self.messages: list[EmailMessage] = []
        self.dedupe = dedupe
        self.delay = delay
        self.duplicates: Counter[str] = Counter()
        self.received = 0  # every message whose data ended, kept or not
        self._seen: set[str] = set()
        self._refusals: list[str] = []
        self._lock = threading.Lock()

    def refuse_next(self, answer: str, count: int = 1) -> None:
        """Answer the next `count` messages with `answer` (e.g. "451 4.3.0 Try later")."""
        with self._lock:
            self._refusals.extend([answer] * count)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        if self.delay:
            time.sleep(self.delay)  # blocks the server's loop: a slow relay
        message = email.message_from_bytes(
            envelope.content, policy=email.policy.default
        )
        with self._lock:
            self.received += 1
            if self._refusals:
                return self._refusals.pop(0)
            message_id = message["Message-ID"] or ""
            if self.dedupe and message_id and message_id in self._seen:
                self.duplicates[message_id] += 1
                return "250 2.0.0 Already accepted (duplicate Message-ID dropped)"
            self._seen.add(message_id)
            self.messages.append(message)
        return "250 Message accepted for delivery"

    def count(self) -> int:
        """How many messages were kept so far."""
        with self._lock:
            return len(self.messages)

    def by_message_id(self) -> Counter[str]:
        """How many messages were kept per Message-ID."""
        with self._lock:
            return Counter(message["Message-ID"] for message in self.messages)

    def matching(self, predicate) -> list[EmailMessage]:
        """Every kept message matching `predicate`."""
        with self._lock:
            return [message for message in self.messages if predicate(message)]

    def wait_for(self, predicate, timeout: float = 10.0) -> EmailMessage:
        """The first message matching `predicate`, waiting up to `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                for message in self.messages:
                    if predicate(message):
                        return message
            time.sleep(0.05)
        raise AssertionError(f"no matching e-mail in {len(self.messages)} received")


def start(
    host: str = "127.0.0.1", *, dedupe: bool = False, delay: float = 0.0
) -> tuple[Controller, Mailbox]:
    """Start a server on a free loopback port; the caller stops the controller."""
    mailbox = Mailbox(dedupe=dedupe, delay=delay)
    with socket.socket() as probe:  # aiosmtpd needs a port number up front
        probe.bind((host, 0))
        port = probe.getsockname()[1]
    controller = Controller(mailbox, hostname=host, port=port)
    controller.start()
    return controller, mailbox


def send_here(settings, controller: Controller) -> None:
    """Point Django's SMTP backend at the loopback server (pytest-django's `settings`)."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = controller.hostname
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
