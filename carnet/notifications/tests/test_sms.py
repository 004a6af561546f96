"""The Vonage adapter against the loopback fake Vonage (tests/sms_provider.py)."""

import json
import logging
import socket
import threading
import time
import urllib.parse
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carnet.notifications.sms import (
    CLIENT_REF_MAX_LENGTH,
    DeliveryReceipt,
    InboundSms,
    SmsAccepted,
    SmsPermanentError,
    SmsRetryableError,
    SmsWebhookError,
    VonageConfig,
    compute_signature,
    needs_unicode,
    normalise_msisdn,
    parse_delivery_receipt,
    parse_inbound,
    send_sms,
    sign_params,
    verify_signature,
)
from tests import sms_provider as fake_vonage
from tests.sms_provider import vonage_signature

sms_provider = fake_vonage.sms_provider  # the fixture, found by name

PHONE = "+33 6 12 34 56 78"
MSISDN = "33612345678"
TEXT = "Rappel : Dr Martin, lundi 9 h, 12 rue de la Paix."
CALLBACK = "https://carnet.example/webhooks/sms/receipts"


@pytest.fixture
def config(sms_provider):
    return sms_provider.config()


def send(config, **overrides):
    arguments = {
        "config": config,
        "to": PHONE,
        "text": TEXT,
        "client_ref": "reminder-42-24h",
        "callback_url": CALLBACK,
    }
    arguments.update(overrides)
    return send_sms(**arguments)


def now() -> datetime:
    return datetime.now(UTC)


# -- sending --------------------------------------------------------------------


def test_send_queues_the_sms_with_the_real_parameters(sms_provider, config):
    accepted = send(config)

    (sent,) = sms_provider.messages
    assert accepted == SmsAccepted(message_ids=tuple(sent.message_ids), parts=1)
    assert (sent.to, sent.text, sent.client_ref) == (MSISDN, TEXT, "reminder-42-24h")
    assert (sent.sender, sent.type) == ("Carnet", "text")
    assert (sent.callback, sent.status_report_req) == (CALLBACK, "1")


def test_without_callback_no_receipt_is_requested(sms_provider, config):
    send(config, callback_url=None)

    (sent,) = sms_provider.messages
    assert (sent.callback, sent.status_report_req) == (None, None)


def test_a_long_text_goes_as_several_parts(sms_provider, config):
    accepted = send(config, text="x" * 161)

    assert accepted.parts == 2
    assert len(set(accepted.message_ids)) == 2
    assert accepted.message_ids == tuple(sms_provider.messages[0].message_ids)
    assert send(config, text="y" * 160, client_ref="other").parts == 1
    assert send(config, text="z" * (153 * 3), client_ref="third").parts == 3


@pytest.mark.parametrize(
    "text",
    [
        "Rendez-vous à 9 h : Dr Müller, Zürich. Frühstück? Ça va. Perché sì!",
        "Prix : 10 € [salle 2] {étage ~1}",
    ],
)
def test_texts_in_the_gsm_alphabet_go_as_text(sms_provider, config, text):
    send(config, text=text)

    (sent,) = sms_provider.messages
    assert sent.type == "text"
    assert sent.handset_text == text


@pytest.mark.parametrize(
    "text",
    [
        "Rendez-vous confirmé ? Répondez 1 — ou 2 pour annuler.",  # em dash
        "Dr Lefèvre, forêt de Fontainebleau, août",  # ê, û
        "Запись подтверждена",
        "Termin bestätigt 👍",
    ],
)
def test_other_texts_go_as_unicode_and_arrive_intact(sms_provider, config, text):
    assert needs_unicode(text)

    send(config, text=text)

    (sent,) = sms_provider.messages
    assert sent.type == "unicode"
    assert sent.handset_text == text


def test_a_long_unicode_text_takes_parts_of_67(config):
    assert send(config, text="ê" * 70).parts == 1
    assert send(config, text="ê" * 71, client_ref="b").parts == 2
    assert send(config, text="ê" * 135, client_ref="c").parts == 3


def test_throttled_is_retryable_and_the_retry_goes_through(sms_provider, config):
    sms_provider.fail_next(status="1")

    with pytest.raises(SmsRetryableError) as caught:
        send(config)

    error = caught.value
    assert (error.code, error.provider_status, error.maybe_sent) == (
        "throttled",
        "1",
        False,
    )
    assert sms_provider.messages == []
    send(config)
    assert len(sms_provider.by_client_ref("reminder-42-24h")) == 1


def test_bad_credentials_are_permanent(sms_provider):
    config = sms_provider.config(api_secret="not-the-secret")

    with pytest.raises(SmsPermanentError) as caught:
        send(config)

    assert (caught.value.code, caught.value.provider_status) == (
        "invalid-credentials",
        "4",
    )
    assert sms_provider.messages == []


@pytest.mark.parametrize(
    ("status", "code", "retryable"),
    [
        ("1", "throttled", True),
        ("2", "missing-params", False),
        ("3", "invalid-params", False),
        ("4", "invalid-credentials", False),
        ("5", "internal-error", True),
        ("6", "invalid-message", False),
        ("7", "number-barred", False),
        ("8", "account-barred", False),
        ("9", "quota-exceeded", True),
        ("10", "too-many-binds", True),
        ("15", "invalid-sender", False),
        ("29", "non-whitelisted-destination", False),
        ("99", "provider-error", False),
    ],
)
def test_every_vonage_status_is_classified(
    sms_provider, config, status, code, retryable
):
    sms_provider.fail_next(status=status)

    with pytest.raises((SmsRetryableError, SmsPermanentError)) as caught:
        send(config)

    assert (caught.value.code, caught.value.retryable) == (code, retryable)
    assert caught.value.provider_status == status
    assert not caught.value.maybe_sent


def test_missing_sender_is_refused_by_vonage_as_missing_params(sms_provider):
    with pytest.raises(SmsPermanentError) as caught:
        send(sms_provider.config(sender=""))

    assert caught.value.code == "missing-params"


def test_connection_dropped_before_accepting_is_retryable(sms_provider, config):
    sms_provider.drop_next()

    with pytest.raises(SmsRetryableError) as caught:
        send(config)

    assert (caught.value.code, caught.value.maybe_sent) == ("connection-lost", True)
    assert sms_provider.messages == []
    assert send(config).parts == 1


def test_connection_dropped_after_accepting_says_it_may_have_been_sent(
    sms_provider, config
):
    sms_provider.drop_next(after_accept=True)

    with pytest.raises(SmsRetryableError) as caught:
        send(config)

    assert caught.value.maybe_sent
    assert len(sms_provider.by_client_ref("reminder-42-24h")) == 1


def test_nobody_listening_is_retryable_and_surely_not_sent():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    config = VonageConfig(
        base_url=f"http://127.0.0.1:{port}",
        api_key="k",
        api_secret="s",
        signature_secret="g",
        sender="Carnet",
        timeout=2,
    )

    with pytest.raises(SmsRetryableError) as caught:
        send(config)

    assert (caught.value.code, caught.value.maybe_sent) == ("connection-failed", False)


def test_a_stalled_provider_times_out(sms_provider):
    config = sms_provider.config(timeout=0.3)
    sms_provider.delay_next(seconds=3)
    started = time.monotonic()

    with pytest.raises(SmsRetryableError) as caught:
        send(config)

    assert time.monotonic() - started < 2
    assert (caught.value.code, caught.value.maybe_sent) == ("timeout", True)


@pytest.mark.parametrize(
    ("code", "error", "maybe_sent"),
    [
        (500, SmsRetryableError, True),
        (503, SmsRetryableError, True),
        (429, SmsRetryableError, False),
        (401, SmsPermanentError, False),
        (404, SmsPermanentError, False),
    ],
)
def test_http_errors(sms_provider, config, code, error, maybe_sent):
    sms_provider.answer_http_next(code=code)

    with pytest.raises(error) as caught:
        send(config)

    assert (caught.value.code, caught.value.maybe_sent) == (f"http-{code}", maybe_sent)


@pytest.mark.parametrize("body", [b"<html>oops</html>", b"{}", b'{"messages": []}'])
def test_an_unreadable_answer_is_retryable_but_may_have_been_sent(
    sms_provider, config, body
):
    sms_provider.answer_http_next(code=200, body=body)

    with pytest.raises(SmsRetryableError) as caught:
        send(config)

    assert (caught.value.code, caught.value.maybe_sent) == ("bad-response", True)


def test_some_parts_refused_is_permanent_and_may_have_been_sent(config):
    document = {
        "message-count": "2",
        "messages": [
            {"to": MSISDN, "message-id": "0C0000001", "status": "0"},
            {"status": "5", "error-text": "Internal Error"},
        ],
    }
    server, url = _serve_once(200, json.dumps(document).encode())
    try:
        with pytest.raises(SmsPermanentError) as caught:
            send(replace(config, base_url=url))
    finally:
        server.shutdown()
        server.server_close()
    assert (caught.value.code, caught.value.provider_status) == ("partially-sent", "5")
    assert caught.value.maybe_sent


def test_a_client_ref_over_100_characters_is_refused_before_sending(
    sms_provider, config
):
    with pytest.raises(SmsPermanentError) as caught:
        send(config, client_ref="r" * (CLIENT_REF_MAX_LENGTH + 1))

    assert caught.value.code == "client-ref-too-long"
    assert sms_provider.requests == 0
    send(config, client_ref="r" * CLIENT_REF_MAX_LENGTH)
    assert sms_provider.messages[0].client_ref == "r" * 100


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"to": "06 12 34 56 78"}, "invalid-number"),
        ({"to": "not a number"}, "invalid-number"),
        ({"text": ""}, "empty-text"),
        ({"client_ref": ""}, "client-ref-missing"),
    ],
)
def test_bad_input_is_refused_before_sending(sms_provider, config, overrides, code):
    with pytest.raises(SmsPermanentError) as caught:
        send(config, **overrides)

    assert caught.value.code == code
    assert sms_provider.requests == 0


def test_neither_logs_nor_errors_carry_the_number_or_the_text(
    sms_provider, config, caplog
):
    caplog.set_level(logging.DEBUG)
    send(config)
    sms_provider.fail_next(status="7")
    with pytest.raises(SmsPermanentError) as caught:
        send(config)
    sms_provider.drop_next()
    with pytest.raises(SmsRetryableError) as dropped:
        send(config)

    written = caplog.text + str(caught.value) + str(dropped.value)
    for secret in (MSISDN, "612345678", "Martin", "rue de la Paix", config.api_secret):
        assert secret not in written
    assert "number-barred" in caplog.text


@pytest.mark.parametrize(
    ("number", "msisdn"),
    [
        ("+33 6 12 34 56 78", "33612345678"),
        ("0033612345678", "33612345678"),
        ("+41-79-123.45.67", "41791234567"),
        ("+49 30 1234567", "49301234567"),
        ("33612345678", "33612345678"),
        ("+39\u00a0333\u00a01234567", "393331234567"),
    ],
)
def test_normalise_msisdn(number, msisdn):
    assert normalise_msisdn(number) == msisdn


@pytest.mark.parametrize(
    "number", ["06 12 34 56 78", "+0612345678", "+33 6 12 ab", "", "+123", "+1" * 9]
)
def test_normalise_msisdn_refuses_what_is_not_international(number):
    with pytest.raises(ValueError, match="not an international"):
        normalise_msisdn(number)


# -- delivery receipts ------------------------------------------------------------


def test_a_delivery_receipt_is_parsed_and_verified(sms_provider, config):
    send(config)
    (sent,) = sms_provider.messages

    receipt = parse_delivery_receipt(
        sms_provider.receipt_params(sent), config=config, now=now()
    )

    assert receipt == DeliveryReceipt(
        client_ref="reminder-42-24h",
        message_id=sent.message_ids[0],
        status="delivered",
        delivered=True,
        final=True,
        error_code=0,
    )


@pytest.mark.parametrize(
    ("status", "err_code", "delivered", "final", "error_code"),
    [
        ("accepted", "0", False, False, 0),
        ("buffered", "0", False, False, 0),
        ("expired", "2", False, True, 2),
        ("failed", "9", False, True, 9),
        ("rejected", "6", False, True, 6),
        ("unknown", "1", False, True, 1),
        ("delivered", "", True, True, None),
    ],
)
def test_receipt_statuses(
    sms_provider, config, status, err_code, delivered, final, error_code
):
    send(config)
    (sent,) = sms_provider.messages
    params = sms_provider.receipt_params(sent, status=status, err_code=err_code)

    receipt = parse_delivery_receipt(params, config=config, now=now())

    assert (receipt.status, receipt.delivered, receipt.final, receipt.error_code) == (
        status,
        delivered,
        final,
        error_code,
    )


def test_each_part_of_a_long_text_has_its_receipt(sms_provider, config):
    accepted = send(config, text="x" * 400)
    (sent,) = sms_provider.messages

    receipts = [
        parse_delivery_receipt(
            sms_provider.receipt_params(sent, part=part), config=config, now=now()
        )
        for part in range(accepted.parts)
    ]

    assert [r.message_id for r in receipts] == list(accepted.message_ids)
    assert {r.client_ref for r in receipts} == {"reminder-42-24h"}


@pytest.mark.parametrize("method", ["GET", "POST", "POST-JSON"])
def test_the_fake_calls_the_receipt_webhook_over_http(sms_provider, config, method):
    received, url, stop = _capture_webhook()
    try:
        send(config, callback_url=url)
        (sent,) = sms_provider.messages
        assert sms_provider.deliver_receipt(sent, method=method) == 204
    finally:
        stop()

    receipt = parse_delivery_receipt(received[0], config=config, now=now())
    assert (receipt.message_id, receipt.delivered) == (sent.message_ids[0], True)


def test_a_tampered_receipt_is_refused(sms_provider, config):
    send(config)
    params = sms_provider.receipt_params(sms_provider.messages[0], status="failed")
    params["status"] = "delivered"

    with pytest.raises(SmsWebhookError) as caught:
        parse_delivery_receipt(params, config=config, now=now())

    assert caught.value.code == "bad-signature"


def test_a_receipt_signed_with_another_secret_is_refused(sms_provider):
    config = sms_provider.config(signature_secret="someone-else")
    send(config)

    with pytest.raises(SmsWebhookError) as caught:
        parse_delivery_receipt(
            sms_provider.receipt_params(sms_provider.messages[0]),
            config=config,
            now=now(),
        )

    assert caught.value.code == "bad-signature"


def test_an_unsigned_receipt_is_refused(sms_provider, config):
    send(config)
    params = sms_provider.receipt_params(sms_provider.messages[0])
    del params["sig"]

    with pytest.raises(SmsWebhookError) as caught:
        parse_delivery_receipt(params, config=config, now=now())

    assert caught.value.code == "unsigned"


def test_receipts_are_refused_without_a_signature_secret(sms_provider):
    config = sms_provider.config(signature_secret="")
    send(config)

    with pytest.raises(SmsWebhookError) as caught:
        parse_delivery_receipt(
            sms_provider.receipt_params(sms_provider.messages[0]),
            config=config,
            now=now(),
        )

    assert caught.value.code == "not-configured"


@pytest.mark.parametrize(
    ("shift", "accepted"),
    [
        (timedelta(minutes=-4, seconds=-59), True),
        (timedelta(minutes=4, seconds=59), True),
        (timedelta(minutes=-5, seconds=-2), False),
        (timedelta(minutes=5, seconds=2), False),
        (timedelta(days=-1), False),
    ],
)
def test_signatures_expire_after_five_minutes(sms_provider, config, shift, accepted):
    send(config)
    signed_at = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
    params = sms_provider.receipt_params(sms_provider.messages[0], now=signed_at)

    if accepted:
        parse_delivery_receipt(params, config=config, now=signed_at - shift)
    else:
        with pytest.raises(SmsWebhookError) as caught:
            parse_delivery_receipt(params, config=config, now=signed_at - shift)
        assert caught.value.code == "stale"


def test_a_receipt_for_another_account_is_refused(sms_provider, config):
    send(config)
    params = dict(sms_provider.receipt_params(sms_provider.messages[0]))
    params["api-key"] = "another-account"
    params["sig"] = vonage_signature(params, sms_provider.signature_secret)

    with pytest.raises(SmsWebhookError) as caught:
        parse_delivery_receipt(params, config=config, now=now())

    assert caught.value.code == "wrong-account"


def test_a_receipt_without_message_id_is_refused(sms_provider, config):
    params = sms_provider.sign({"status": "delivered", "api-key": config.api_key})

    with pytest.raises(SmsWebhookError) as caught:
        parse_delivery_receipt(params, config=config, now=now())

    assert caught.value.code == "missing-field"


def test_signatures_are_case_insensitive_hex(sms_provider, config):
    send(config)
    params = sms_provider.receipt_params(sms_provider.messages[0])
    params["sig"] = params["sig"].lower()

    assert parse_delivery_receipt(params, config=config, now=now()).delivered


def test_verify_refuses_a_naive_now(sms_provider):
    params = sms_provider.sign({"a": "1"})

    naive = datetime.now()  # noqa: DTZ005 - the point of the test
    with pytest.raises(ValueError, match="aware"):
        verify_signature(params, secret=sms_provider.signature_secret, now=naive)


# -- inbound SMS --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sender", "text", "e164"),
    [
        ("+41 79 123 45 67", "2", "+41791234567"),
        ("+33612345678", " 1 ", "+33612345678"),
        ("0049301234567", "Danke, ich komme 👍", "+49301234567"),
    ],
)
def test_an_inbound_sms_is_parsed_and_verified(
    sms_provider, config, sender, text, e164
):
    params = sms_provider.inbound_params(sender=sender, text=text)

    inbound = parse_inbound(params, config=config, now=now())

    assert inbound == InboundSms(sender=e164, text=text, message_id=params["messageId"])


def test_a_forged_inbound_sms_is_refused(sms_provider, config):
    params = sms_provider.inbound_params(sender="+41791234567", text="1")
    params["text"] = "2"

    with pytest.raises(SmsWebhookError) as caught:
        parse_inbound(params, config=config, now=now())

    assert caught.value.code == "bad-signature"


def test_a_stale_inbound_sms_is_refused(sms_provider, config):
    params = sms_provider.inbound_params(
        sender="+41791234567", text="2", now=now() - timedelta(minutes=6)
    )

    with pytest.raises(SmsWebhookError) as caught:
        parse_inbound(params, config=config, now=now())

    assert caught.value.code == "stale"


def test_a_binary_inbound_sms_is_refused(sms_provider, config):
    params = sms_provider.inbound_params(sender="+41791234567", text="2")
    params["type"] = "binary"
    params["sig"] = vonage_signature(params, sms_provider.signature_secret)

    with pytest.raises(SmsWebhookError) as caught:
        parse_inbound(params, config=config, now=now())

    assert caught.value.code == "unsupported-type"


def test_the_fake_calls_the_inbound_webhook_over_http(sms_provider, config):
    received, url, stop = _capture_webhook()
    try:
        assert sms_provider.send_inbound(url, sender="+33612345678", text="2") == 204
    finally:
        stop()

    inbound = parse_inbound(received[0], config=config, now=now())
    assert (inbound.sender, inbound.text) == ("+33612345678", "2")


# -- the signature, as a property ---------------------------------------------------

names = st.from_regex(r"[a-z][a-z0-9_\-]{0,15}", fullmatch=True).filter(
    lambda name: name not in {"sig", "timestamp"}
)
values = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
parameters = st.dictionaries(names, values, max_size=8)
secrets_ = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=40)
SIGNED_AT = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)


def _escaped(value: str) -> str:
    return value.replace("&", "_").replace("=", "_")


@settings(max_examples=300, deadline=None)
@given(params=parameters, secret=secrets_)
def test_verify_accepts_what_the_signer_produced(params, secret):
    signed = sign_params(params, secret=secret, now=SIGNED_AT)

    verify_signature(signed, secret=secret, now=SIGNED_AT)
    assert signed["sig"] == vonage_signature(signed, secret)  # the fake's signer
    assert compute_signature(signed, secret=secret) == signed["sig"]


@settings(max_examples=300, deadline=None)
@given(params=parameters, secret=secrets_, data=st.data())
def test_verify_refuses_anything_the_signer_did_not_produce(params, secret, data):
    signed = sign_params(params, secret=secret, now=SIGNED_AT)
    tampered = dict(signed)
    how = data.draw(st.sampled_from(["value", "add", "remove", "secret", "sig"]))
    if how == "value" and params:
        name = data.draw(st.sampled_from(sorted(params)))
        new = data.draw(values.filter(lambda v: _escaped(v) != _escaped(params[name])))
        tampered[name] = new
    elif how == "remove" and params:
        del tampered[data.draw(st.sampled_from(sorted(params)))]
    elif how == "secret":
        other = data.draw(secrets_.filter(lambda s: s != secret))
        with pytest.raises(SmsWebhookError):
            verify_signature(signed, secret=other, now=SIGNED_AT)
        return
    elif how == "sig":
        tampered["sig"] = data.draw(
            st.text(max_size=70).filter(lambda s: s.strip().upper() != signed["sig"])
        )
    else:
        name = data.draw(names.filter(lambda n: n not in signed))
        tampered[name] = data.draw(values)

    with pytest.raises(SmsWebhookError) as caught:
        verify_signature(tampered, secret=secret, now=SIGNED_AT)
    assert caught.value.code in {"bad-signature", "unsigned"}


# -- helpers --------------------------------------------------------------------------


def _serve_once(code: int, body: bytes):
    """A loopback server answering every POST with `code` and `body`."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def _capture_webhook():
    """A loopback webhook answering 204; the parameters of each call, its URL, stop()."""
    received: list[dict[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def _record(self, params):
            received.append(params)
            self.send_response(204)
            self.end_headers()

        def do_GET(self):
            query = urllib.parse.urlsplit(self.path).query
            self._record(dict(urllib.parse.parse_qsl(query, keep_blank_values=True)))

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.headers.get("Content-Type") == "application/json":
                self._record(json.loads(body))
            else:
                self._record(
                    dict(urllib.parse.parse_qsl(body.decode(), keep_blank_values=True))
                )

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()

    def stop():
        server.shutdown()
        server.server_close()

    return received, f"http://127.0.0.1:{server.server_address[1]}/dlr", stop
