"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives."""

import email
import email.policy
import socket
import threading
import time
from email.message import EmailMessage

from aiosmtpd.controller import Controller


class Mailbox:
    """Messages received by the loopback server, parsed."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        message = email.message_from_bytes(
            envelope.content, policy=email.policy.default
        )
        with self._lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"

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


def start(host: str = "127.0.0.1") -> tuple[Controller, Mailbox]:
    """Start a server on a free loopback port; the caller stops the controller."""
    mailbox = Mailbox()
    with socket.socket() as probe:  # aiosmtpd needs a port number up front
        probe.bind((host, 0))
        port = probe.getsockname()[1]
    controller = Controller(mailbox, hostname=host, port=port)
    controller.start()
    return controller, mailbox
