"""The receiver over real HTTP: each auth method verified as its sender signs, refusals store nothing, duplicates store once."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
import uuid

import pytest
import requests

SECRET = "hmac-client-secret"
EXACT_SECRET = "exact-webhook-secret"
PATH = "/webhooks/walmart"


def envelope(event_type: str = "PO_CREATED", event_id: str | None = None) -> bytes:
    source = {"eventType": event_type, "eventTime": "2026-03-31T06:39:54.726Z", "eventId": event_id or str(uuid.uuid1())}
    return json.dumps({"source": source, "payload": {"partnerId": "10000000359", "purchaseOrderId": "108829500000001"}}).encode()


def signed(body: bytes, *, secret: str = SECRET, path: str = PATH, timestamp: int | None = None) -> dict[str, str]:
    """Walmart's documented HMAC headers, computed here independently of the receiver's code."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    to_sign = f"POST\n{path}\n{ts}\n{hashlib.sha256(body).hexdigest()}".encode()
    signature = base64.b64encode(hmac.new(secret.encode(), to_sign, hashlib.sha256).digest()).decode()
    return {"Content-Type": "application/json", "WM_SEC.TIMESTAMP": ts, "WM_SEC.SIGNATURE": signature}


def post(receiver, path: str, body: bytes = b"", headers: dict | None = None) -> requests.Response:
    return requests.post(receiver.url + path, data=body, headers=headers or {}, timeout=10)


def exact_body(content: dict, secret: str = EXACT_SECRET) -> bytes:
    raw = json.dumps(content, separators=(",", ":")).encode()
    code = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest().upper()
    return b'{"Content":' + raw + b',"HashCode":"' + code.encode() + b'"}'


EXACT_CONTENT = {"Topic": "SalesEntries", "ClientId": "c1", "Division": 123, "Action": "Create",
                 "Key": "9a1b2c3d-0000-4000-8000-000000000001", "EventCreatedOn": "2026-03-31T06:39:54.726",
                 "ExactOnlineEndpoint": "https://start.exactonline.nl/api/v1/123/salesentry/SalesEntries(guid'x')"}


@pytest.fixture
def hmac_receiver(start_receiver):
    return start_receiver(walmart_auth="HMAC", walmart_secret=SECRET)


# -- Walmart HMAC ----------------------------------------------------------------------------------


def test_healthz_says_which_senders_are_configured(start_receiver):
    receiver = start_receiver(walmart_auth="HMAC", walmart_secret=SECRET)
    r = requests.get(receiver.url + "/healthz", timeout=10)
    assert r.status_code == 200 and r.json() == {"status": "ok", "walmart": True, "exact": False}


def test_a_signed_walmart_event_is_stored_with_its_raw_body(hmac_receiver):
    body = envelope(event_id="evt-1")
    r = post(hmac_receiver, PATH, body, signed(body))
    assert r.status_code == 200 and r.json() == {"status": "stored"}
    assert hmac_receiver.inbox() == [("walmart", "evt-1", "PO_CREATED")]
    assert hmac_receiver.store.pending_webhooks()[0].payload == body.decode()


def _bad(body):
    return signed(body, secret="not-the-secret")


def _missing(body):
    return {k: v for k, v in signed(body).items() if k != "WM_SEC.SIGNATURE"}


def _missing_timestamp(body):
    return {k: v for k, v in signed(body).items() if k != "WM_SEC.TIMESTAMP"}


def _expired(body):
    return signed(body, timestamp=int(time.time()) - 301)


def _from_the_future(body):
    return signed(body, timestamp=int(time.time()) + 301)


def _other_body(body):
    return signed(envelope(event_id="another-event"))


def _other_path(body):
    return signed(body, path="/webhooks/walmart?x=1")


def _fresh_timestamp_on_an_old_signature(body):
    old = signed(body, timestamp=int(time.time()) - 100)
    return dict(old, **{"WM_SEC.TIMESTAMP": str(int(time.time()))})


def _not_base64(body):
    return dict(signed(body), **{"WM_SEC.SIGNATURE": "%%%not base64%%%"})


@pytest.mark.parametrize("headers_for", [_bad, _missing, _missing_timestamp, _expired, _from_the_future, _other_body,
                                         _other_path, _fresh_timestamp_on_an_old_signature, _not_base64],
                         ids=lambda f: f.__name__.strip("_"))
def test_bad_missing_expired_and_forged_signatures_are_refused_and_store_nothing(hmac_receiver, headers_for):
    body = envelope()
    r = post(hmac_receiver, PATH, body, headers_for(body))
    assert r.status_code == 401 and r.json() == {"error": "unauthorized"}
    assert "WM_SEC" not in r.text and SECRET not in r.text
    assert hmac_receiver.inbox() == []


def test_a_recorded_delivery_replayed_after_the_window_is_refused(hmac_receiver):
    body = envelope(event_id="evt-replayed")
    headers = signed(body)
    hmac_receiver.clock.offset = 301  # the same bytes, sent again five minutes later
    r = post(hmac_receiver, PATH, body, headers)
    assert r.status_code == 401 and hmac_receiver.inbox() == []


def test_a_replay_inside_the_window_and_a_redelivery_are_duplicates_stored_once(hmac_receiver):
    body = envelope(event_id="evt-dup")
    headers = signed(body)
    first, replay = post(hmac_receiver, PATH, body, headers), post(hmac_receiver, PATH, body, headers)
    redelivery = post(hmac_receiver, PATH, body, signed(body, timestamp=int(time.time()) + 2))  # a retry, signed anew
    assert first.json() == {"status": "stored"}
    assert replay.status_code == redelivery.status_code == 200
    assert replay.json() == redelivery.json() == {"status": "duplicate"}
    assert hmac_receiver.inbox() == [("walmart", "evt-dup", "PO_CREATED")]


def test_an_oversized_body_is_refused_before_it_is_read_and_stores_nothing(start_receiver):
    receiver = start_receiver(walmart_auth="HMAC", walmart_secret=SECRET, max_body_bytes=1024)
    body = envelope()[:-1] + b', "pad": "' + b"x" * 4096 + b'"}'
    declared = post(receiver, PATH, body, signed(body))
    # Without Content-Length (chunked), the bytes are counted as they stream in.
    chunked = requests.post(receiver.url + PATH, data=iter([body[:512], body[512:]]), headers=signed(body), timeout=10)
    assert declared.status_code == chunked.status_code == 413
    assert "Transfer-Encoding" in chunked.request.headers
    assert receiver.inbox() == []


def test_the_default_limit_is_256_kib(hmac_receiver):
    body = envelope()[:-1] + b', "pad": "' + b"x" * (256 * 1024) + b'"}'
    assert post(hmac_receiver, PATH, body, signed(body)).status_code == 413
    small = envelope()[:-1] + b', "pad": "' + b"x" * (200 * 1024) + b'"}'
    assert post(hmac_receiver, PATH, small, signed(small)).status_code == 200


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'{"payload": {}}', b'{"source": {"eventType": "PO_CREATED"}}',
                                  json.dumps({"source": {"eventType": "PO_CREATED", "eventId": "x" * 129}}).encode()],
                         ids=["not-json", "not-an-object", "no-source", "no-event-id", "event-id-too-long"])
def test_a_verified_body_that_is_not_an_event_is_400_and_stores_nothing(hmac_receiver, body):
    r = post(hmac_receiver, PATH, body, signed(body))
    assert r.status_code == 400 and hmac_receiver.inbox() == []


def test_walmart_without_an_auth_method_refuses_everything(start_receiver):
    receiver = start_receiver(exact_secret=EXACT_SECRET)
    body = envelope()
    assert post(receiver, PATH, body, signed(body)).status_code == 401
    assert post(receiver, "/webhooks/walmart/token", b"grant_type=client_credentials").status_code == 404
    assert receiver.inbox() == []


# -- Walmart BASIC_AUTH and OAUTH ------------------------------------------------------------------


def test_basic_auth_compares_the_header(start_receiver):
    receiver = start_receiver(walmart_auth="BASIC_AUTH", walmart_user="abc", walmart_password="test",
                              walmart_auth_header="X-Walmart-Auth")
    good = base64.b64encode(b"abc:test").decode()
    for value in (None, base64.b64encode(b"abc:wrong").decode(), "Basic " + base64.b64encode(b"abc:").decode()):
        headers = {"X-Walmart-Auth": value} if value else {}
        assert post(receiver, PATH, envelope(), headers).status_code == 401
    assert post(receiver, PATH, envelope(), {"Authorization": good}).status_code == 401  # the configured header only
    assert receiver.inbox() == []
    assert post(receiver, PATH, envelope(event_id="b1"), {"X-Walmart-Auth": good}).status_code == 200
    assert post(receiver, PATH, envelope(event_id="b2"), {"X-Walmart-Auth": "Basic " + good}).status_code == 200
    assert [e[1] for e in receiver.inbox()] == ["b1", "b2"]


def test_oauth_issues_short_lived_tokens_and_requires_them(start_receiver):
    receiver = start_receiver(walmart_auth="OAUTH", walmart_client_id="cid", walmart_client_secret="csecret", token_ttl_s=60)
    token_url = receiver.url + "/webhooks/walmart/token"
    form = {"grant_type": "client_credentials"}
    assert requests.post(token_url, data=form, auth=("cid", "wrong"), timeout=10).status_code == 401
    assert requests.post(token_url, data=form, timeout=10).status_code == 401
    assert requests.post(token_url, data={"grant_type": "password"}, auth=("cid", "csecret"), timeout=10).status_code == 400
    issued = requests.post(token_url, data=form, auth=("cid", "csecret"), timeout=10)
    assert issued.status_code == 200, issued.text
    token = issued.json()
    assert set(token) == {"access_token", "token_type", "expires_in"} and token["token_type"] == "Bearer"
    assert token["expires_in"] == 60
    bearer = {"Authorization": f"Bearer {token['access_token']}"}

    expires, nonce, mac = token["access_token"].split(".")
    forged = {"Authorization": f"Bearer {int(expires) + 3600}.{nonce}.{mac}"}  # a longer life, same MAC
    for headers in ({}, {"Authorization": "Bearer nonsense"}, forged, {"Authorization": token["access_token"]}):
        assert post(receiver, PATH, envelope(), headers).status_code == 401
    assert receiver.inbox() == []
    assert post(receiver, PATH, envelope(event_id="o1"), bearer).json() == {"status": "stored"}
    receiver.clock.offset = 61
    assert post(receiver, PATH, envelope(event_id="o2"), bearer).status_code == 401  # expired
    assert [e[1] for e in receiver.inbox()] == ["o1"]


def test_a_token_of_another_receiver_is_refused(start_receiver, http_server):
    other = start_receiver(walmart_auth="OAUTH", walmart_client_id="cid", walmart_client_secret="another-secret")
    token = requests.post(other.url + "/webhooks/walmart/token", data={"grant_type": "client_credentials"},
                          auth=("cid", "another-secret"), timeout=10).json()["access_token"]
    receiver = start_receiver(walmart_auth="OAUTH", walmart_client_id="cid", walmart_client_secret="csecret")
    assert post(receiver, PATH, envelope(), {"Authorization": f"Bearer {token}"}).status_code == 401


# -- Exact -----------------------------------------------------------------------------------------


@pytest.fixture
def exact_receiver(start_receiver):
    return start_receiver(exact_secret=EXACT_SECRET)


def test_the_exact_validation_request_is_answered_and_stores_nothing(exact_receiver):
    r = requests.post(exact_receiver.url + "/webhooks/exact", timeout=10)
    assert r.request.headers["Content-Length"] == "0"
    assert r.status_code == 200 and exact_receiver.inbox() == []


def test_an_exact_event_is_stored_once_per_change(exact_receiver):
    body = exact_body(EXACT_CONTENT)
    assert post(exact_receiver, "/webhooks/exact", body).json() == {"status": "stored"}
    assert post(exact_receiver, "/webhooks/exact", body).json() == {"status": "duplicate"}
    rows = exact_receiver.inbox()
    assert len(rows) == 1 and rows[0][0] == "exact" and rows[0][2] == "SalesEntries"
    assert exact_receiver.store.pending_webhooks()[0].payload == body.decode()
    update = exact_body(dict(EXACT_CONTENT, Action="Update", EventCreatedOn="2026-03-31T07:00:00.000"))
    assert post(exact_receiver, "/webhooks/exact", update).json() == {"status": "stored"}
    assert len(exact_receiver.inbox()) == 2


def _lowercase_hex() -> bytes:
    raw = json.dumps(EXACT_CONTENT, separators=(",", ":")).encode()
    code = hmac.new(EXACT_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    return b'{"Content":' + raw + b',"HashCode":"' + code.encode() + b'"}'


@pytest.mark.parametrize("make", [
    lambda: exact_body(EXACT_CONTENT, secret="wrong"),
    lambda: exact_body(EXACT_CONTENT).replace(b'"Create"', b'"Delete"'),  # content changed after signing
    lambda: json.dumps({"Content": EXACT_CONTENT}).encode(),  # no HashCode
    lambda: json.dumps({"Content": EXACT_CONTENT, "HashCode": "0" * 64}, indent=1).encode(),
    # The whole body hashed (the pattern FACTS warns against) instead of the Content bytes.
    lambda: json.dumps(EXACT_CONTENT).encode(),
], ids=["wrong-secret", "tampered", "no-hashcode", "reformatted", "unsigned-json"])
def test_unverified_exact_deliveries_are_refused_and_store_nothing(exact_receiver, make):
    r = post(exact_receiver, "/webhooks/exact", make())
    assert r.status_code == 401 and exact_receiver.inbox() == []


def test_exact_accepts_the_hashcode_in_lowercase_too(exact_receiver):
    assert post(exact_receiver, "/webhooks/exact", _lowercase_hex()).status_code == 200


def test_a_verified_exact_body_that_is_not_an_event_is_400(exact_receiver):
    content = b'"just a string"'
    body = b'{"Content":' + content + b',"HashCode":"' + \
        hmac.new(EXACT_SECRET.encode(), content, hashlib.sha256).hexdigest().upper().encode() + b'"}'
    assert post(exact_receiver, "/webhooks/exact", body).status_code == 400
    no_key = exact_body({"Topic": "SalesEntries", "Action": "Create"})
    assert post(exact_receiver, "/webhooks/exact", no_key).status_code == 400
    assert exact_receiver.inbox() == []


def test_exact_without_a_secret_refuses_everything(start_receiver):
    receiver = start_receiver(walmart_auth="HMAC", walmart_secret=SECRET)
    assert requests.post(receiver.url + "/webhooks/exact", timeout=10).status_code == 401
    assert post(receiver, "/webhooks/exact", exact_body(EXACT_CONTENT)).status_code == 401
    assert receiver.inbox() == []


def test_an_oversized_exact_body_is_refused(start_receiver):
    receiver = start_receiver(exact_secret=EXACT_SECRET, max_body_bytes=512)
    body = exact_body(dict(EXACT_CONTENT, Pad="x" * 1024))
    assert post(receiver, "/webhooks/exact", body).status_code == 413 and receiver.inbox() == []


def test_the_log_names_events_and_reasons_never_secrets_signatures_or_tokens(start_receiver, caplog):
    caplog.set_level(logging.INFO, logger="walmart_accounting.webhooks")
    receiver = start_receiver(walmart_auth="OAUTH", walmart_client_id="cid", walmart_client_secret="csecret",
                              exact_secret=EXACT_SECRET)
    token = requests.post(receiver.url + "/webhooks/walmart/token", data={"grant_type": "client_credentials"},
                          auth=("cid", "csecret"), timeout=10).json()["access_token"]
    post(receiver, PATH, envelope(event_id="logged-1"), {"Authorization": f"Bearer {token}"})
    post(receiver, PATH, envelope(), {"Authorization": f"Bearer {token}x"})
    wrong = exact_body(EXACT_CONTENT, secret="wrong")
    post(receiver, "/webhooks/exact", wrong)
    text = caplog.text
    assert "logged-1" in text and "refused (401)" in text
    for secret in ("csecret", EXACT_SECRET, token, wrong[-66:-2].decode(), base64.b64encode(b"cid:csecret").decode()):
        assert secret not in text
