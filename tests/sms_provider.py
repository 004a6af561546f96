"""A loopback Vonage SMS API for tests, speaking its wire format.

`FakeVonage` listens on 127.0.0.1 (a free port) in a thread. It takes
``POST /sms/json`` with Vonage's form parameters, checks them as Vonage does
(credentials, required parameters, numbers, client-ref, callback URL) and
answers in Vonage's JSON, one entry per part of a long text. It remembers
what it accepted (`messages`), can fail, drop or stall the next requests,
and sends delivery receipts and inbound SMS to webhooks, signed the way
Vonage signs them (SHA-256 HMAC; written here independently of the adapter,
so the tests cross-check the two).

Use the `sms_provider` fixture: ``from tests.sms_provider import sms_provider``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import secrets
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from carnet.notifications.sms import VonageConfig

GSM7 = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_DOUBLE = frozenset("\f^{}\\[~]|€")  # extension table: escape + character
NETWORKS = {"33": "20801", "49": "26201", "41": "22801", "39": "22201", "44": "23410"}
PRICE = "0.05780000"


def vonage_signature(params: dict[str, str], secret: str) -> str:
    """Vonage's HMAC-SHA256 webhook signature: sorted "&k=v", & and = in values → _."""
    message = ""
    for name in sorted(params):
        if name == "sig":
            continue
        value = params[name].replace("&", "_").replace("=", "_")
        message += "&" + name + "=" + value
    mac = hmac.new(secret.encode(), message.encode(), hashlib.sha256)
    return mac.hexdigest().upper()


def count_parts(text: str, *, unicode: bool) -> int:
    """How many SMS a text takes: 160/153 septets in GSM-7, 70/67 UTF-16 units in UCS-2."""
    if unicode:
        units = len(text.encode("utf-16-le")) // 2
        return 1 if units <= 70 else math.ceil(units / 67)
    septets = sum(2 if c in GSM7_DOUBLE else 1 for c in text)
    return 1 if septets <= 160 else math.ceil(septets / 153)


@dataclass
class SentSms:
    """One accepted /sms/json request (all its parts)."""

    to: str
    text: str
    client_ref: str | None
    sender: str
    type: str
    callback: str | None
    status_report_req: str | None
    message_ids: list[str] = field(default_factory=list)
    network: str = "23410"

    @property
    def parts(self) -> int:
        return len(self.message_ids)

    @property
    def handset_text(self) -> str:
        """What the phone shows: sent as "text", characters outside GSM-7 become "?"."""
        if self.type == "unicode":
            return self.text
        return "".join(c if c in GSM7 or c in GSM7_DOUBLE else "?" for c in self.text)


class FakeVonage:
    """The fake provider; see the module docstring. Start with `start()`, end with `stop()`."""

    def __init__(
        self,
        *,
        api_key: str = "carnet-test-key",
        api_secret: str = "carnet-test-secret",  # noqa: S107 - a test double's
        signature_secret: str = "carnet-test-signature-secret",  # noqa: S107
        sender: str = "Carnet",
        balance: float = 100.0,
    ) -> None:
        self.api_key = api_key
        self.api_secret = api_secret
        self.signature_secret = signature_secret
        self.sender = sender
        self.balance = balance
        self.requests = 0  # every POST /sms/json received, whatever happened to it
        self._messages: list[SentSms] = []
        self._actions: list[tuple[str, dict]] = []
        self._lock = threading.Lock()
        self._accepted = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- life cycle ---------------------------------------------------------

    def start(self) -> FakeVonage:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.fake = self  # type: ignore[attr-defined]
        server.handle_error = lambda request, address: None  # type: ignore[method-assign]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-vonage",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() the fake first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def config(self, **overrides) -> VonageConfig:
        """A VonageConfig pointing at this fake, with its credentials."""
        values = {
            "base_url": self.base_url,
            "api_key": self.api_key,
            "api_secret": self.api_secret,
            "signature_secret": self.signature_secret,
            "sender": self.sender,
            "timeout": 5.0,
        }
        values.update(overrides)
        return VonageConfig(**values)

    # -- what was sent --------------------------------------------------------

    @property
    def messages(self) -> list[SentSms]:
        """Accepted requests, in order (a copy)."""
        with self._lock:
            return list(self._messages)

    def by_client_ref(self, client_ref: str) -> list[SentSms]:
        """Every accepted request that carried `client_ref` (more than one: a duplicate)."""
        return [m for m in self.messages if m.client_ref == client_ref]

    def wait_for(
        self, predicate: Callable[[SentSms], bool] = lambda m: True, *, timeout=5.0
    ) -> SentSms:
        """The first accepted message matching `predicate`, waiting up to `timeout` s."""
        deadline = time.monotonic() + timeout
        with self._accepted:
            while True:
                for message in self._messages:
                    if predicate(message):
                        return message
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError("no matching SMS reached the fake Vonage")
                self._accepted.wait(remaining)

    # -- fault injection (each call queues actions for the next requests) ----

    def fail_next(self, count: int = 1, *, status: str = "1") -> None:
        """Answer the next `count` requests with Vonage status `status` (1 = throttled)."""
        self._queue("status", count, status=status)

    def drop_next(self, count: int = 1, *, after_accept: bool = False) -> None:
        """Close the connection without an answer; `after_accept`: once the SMS is queued."""
        self._queue("drop", count, after_accept=after_accept)

    def delay_next(self, count: int = 1, *, seconds: float) -> None:
        """Stall `seconds` before handling the next requests (then accept as usual)."""
        self._queue("delay", count, seconds=seconds)

    def answer_http_next(
        self, count: int = 1, *, code: int = 500, body: bytes = b""
    ) -> None:
        """Answer the next requests with this raw HTTP status and body."""
        self._queue("http", count, code=code, body=body)

    def _queue(self, kind: str, count: int, **options) -> None:
        with self._lock:
            self._actions.extend([(kind, options)] * count)

    def _next_action(self) -> tuple[str, dict] | None:
        with self._lock:
            self.requests += 1
            return self._actions.pop(0) if self._actions else None

    # -- the API --------------------------------------------------------------

    def _send(self, params: dict[str, str]) -> dict:
        """Vonage's checks and answer for /sms/json (a JSON document)."""
        for name in ("api_key", "api_secret"):
            if not params.get(name):
                return _refusal("2", f"Missing {name}")
        if not (
            hmac.compare_digest(params["api_key"], self.api_key)
            and hmac.compare_digest(params["api_secret"], self.api_secret)
        ):
            return _refusal("4", "Bad Credentials")
        message_type = params.get("type", "text")
        for name in ("from", "to", "text"):
            if not params.get(name):
                return _refusal("2", f"Missing {name} param")
        to = params["to"]
        if not (to.isascii() and to.isdigit() and 7 <= len(to) <= 15) or to[0] == "0":
            return _refusal("3", "Invalid to address")
        if message_type not in {"text", "unicode"}:
            return _refusal("3", "Invalid message type")
        client_ref = params.get("client-ref")
        if client_ref is not None and len(client_ref) > 100:
            return _refusal("3", "Invalid client-ref")
        callback = params.get("callback")
        if callback is not None and urllib.parse.urlsplit(callback).scheme not in {
            "http",
            "https",
        }:
            return _refusal("23", "Invalid callback url")
        network = next(
            (code for prefix, code in NETWORKS.items() if to.startswith(prefix)),
            "23410",
        )
        parts = count_parts(params["text"], unicode=message_type == "unicode")
        sms = SentSms(
            to=to,
            text=params["text"],
            client_ref=client_ref,
            sender=params["from"],
            type=message_type,
            callback=callback,
            status_report_req=params.get("status-report-req"),
            message_ids=[secrets.token_hex(8).upper() for _ in range(parts)],
            network=network,
        )
        answers = []
        with self._accepted:
            self._messages.append(sms)
            for message_id in sms.message_ids:
                self.balance -= float(PRICE)
                answer = {
                    "to": to,
                    "message-id": message_id,
                    "status": "0",
                    "remaining-balance": f"{self.balance:.8f}",
                    "message-price": PRICE,
                    "network": network,
                }
                if client_ref is not None:
                    answer["client-ref"] = client_ref
                answers.append(answer)
            self._accepted.notify_all()
        return {"message-count": str(len(answers)), "messages": answers}

    # -- webhooks we call -------------------------------------------------------

    def sign(self, params: dict[str, str], *, now: datetime | None = None) -> dict:
        """`params` plus timestamp, nonce and sig, as Vonage signs its webhooks."""
        moment = now or datetime.now(UTC)
        signed = dict(params)
        signed["timestamp"] = str(int(moment.timestamp()))
        signed["nonce"] = str(uuid.uuid4())
        signed["sig"] = vonage_signature(signed, self.signature_secret)
        return signed

    def receipt_params(
        self,
        sms: SentSms,
        *,
        status: str = "delivered",
        err_code: str = "0",
        part: int = 0,
        now: datetime | None = None,
    ) -> dict[str, str]:
        """The signed delivery receipt Vonage would send for one part of `sms`."""
        moment = now or datetime.now(UTC)
        params = {
            "msisdn": sms.to,
            "to": sms.sender,
            "network-code": sms.network,
            "messageId": sms.message_ids[part],
            "price": PRICE,
            "status": status,
            "scts": moment.strftime("%y%m%d%H%M"),
            "err-code": err_code,
            "api-key": self.api_key,
            "message-timestamp": moment.strftime("%Y-%m-%d %H:%M:%S"),
        }
        if sms.client_ref is not None:
            params["client-ref"] = sms.client_ref
        return self.sign(params, now=moment)

    def deliver_receipt(
        self,
        sms: SentSms,
        *,
        url: str | None = None,
        method: str = "GET",
        **receipt,
    ) -> int:
        """Call the DLR webhook (`sms.callback` unless `url`); its HTTP status.

        `method`: "GET" (query), "POST" (form) or "POST-JSON", as configurable
        in Vonage's dashboard.
        """
        target = url or sms.callback
        assert target, "the SMS asked for no delivery receipt"
        return call_webhook(target, self.receipt_params(sms, **receipt), method=method)

    def inbound_params(
        self,
        *,
        sender: str,
        text: str,
        to: str = "447700900000",
        now: datetime | None = None,
    ) -> dict[str, str]:
        """The signed inbound-SMS webhook parameters for a text `sender` sent us."""
        moment = now or datetime.now(UTC)
        msisdn = "".join(c for c in sender if c.isdigit())
        if sender.strip().startswith("00"):
            msisdn = msisdn[2:]
        words = text.split()
        params = {
            "msisdn": msisdn,
            "to": to,
            "messageId": secrets.token_hex(8).upper(),
            "text": text,
            "type": "unicode" if any(c not in GSM7 for c in text) else "text",
            "keyword": words[0].upper() if words else "",
            "api-key": self.api_key,
            "message-timestamp": moment.strftime("%Y-%m-%d %H:%M:%S"),
        }
        return self.sign(params, now=moment)

    def send_inbound(
        self, url: str, *, sender: str, text: str, method: str = "POST", **extra
    ) -> int:
        """Call the inbound-SMS webhook at `url`; its HTTP status."""
        params = self.inbound_params(sender=sender, text=text, **extra)
        return call_webhook(url, params, method=method)


def call_webhook(url: str, params: dict[str, str], *, method: str = "GET") -> int:
    """Call a webhook as Vonage does (GET query, POST form or POST JSON); its status."""
    data: bytes | None = None
    headers: dict[str, str] = {}
    if method == "GET":
        separator = "&" if urllib.parse.urlsplit(url).query else "?"
        url = url + separator + urllib.parse.urlencode(params)
    elif method == "POST":
        data = urllib.parse.urlencode(params).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif method == "POST-JSON":
        data = json.dumps(params).encode()
        headers["Content-Type"] = "application/json"
    else:
        raise ValueError(method)
    assert urllib.parse.urlsplit(url).scheme in {"http", "https"}
    request = urllib.request.Request(url, data=data, headers=headers)  # noqa: S310 - checked above
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _refusal(status: str, text: str) -> dict:
    return {
        "message-count": "1",
        "messages": [{"status": status, "error-text": text}],
    }


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args) -> None:
        pass  # quiet: request lines carry phone numbers in webhook queries

    def do_GET(self) -> None:
        self._answer(405, b"")

    def do_POST(self) -> None:
        fake: FakeVonage = self.server.fake  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        path = urllib.parse.urlsplit(self.path).path
        if path != "/sms/json":
            self._answer(404, b"")
            return
        action = fake._next_action()
        kind, options = action or ("", {})
        if kind == "delay" and fake._stopping.wait(options["seconds"]):
            return  # the fake is stopping
        if kind == "drop" and not options["after_accept"]:
            self.close_connection = True
            return
        if kind == "http":
            self._answer(options["code"], options["body"])
            return
        params = dict(
            urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True)
        )
        if kind == "status":
            document = _refusal(options["status"], "Injected failure")
        else:
            document = fake._send(params)
        if kind == "drop":  # accepted, but the answer is lost
            self.close_connection = True
            return
        self._answer(200, json.dumps(document).encode(), "application/json")

    def _answer(self, code: int, body: bytes, content_type: str = "text/plain") -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def sms_provider():
    """A running FakeVonage on loopback; `sms_provider.config()` is the adapter config."""
    fake = FakeVonage().start()
    yield fake
    fake.stop()
