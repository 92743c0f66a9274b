"""The gateway: tokens, the WM_* headers and the access token every call needs."""

from __future__ import annotations

import pytest
import requests

from walmart_accounting.sandbox.walmart import TOKEN_TTL_S
from walmart_accounting_tests.sandbox.walmart.support import CLIENT, Walmart, _error


def _post_token(wm: "Walmart", auth=CLIENT, grant: str = "client_credentials", headers=None) -> requests.Response:
    headers = wm.base_headers() if headers is None else headers
    return requests.post(f"{wm.url}/v3/token", auth=auth, data={"grant_type": grant}, headers=headers, timeout=10)


def test_token_with_good_credentials_is_json_bearer_for_900_seconds(wm):
    r = _post_token(wm)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "Bearer" and body["expires_in"] == TOKEN_TTL_S == 900
    detail = wm.get("/v3/token/detail", headers=wm.headers() | {"WM_SEC.ACCESS_TOKEN": body["access_token"]})
    assert detail.status_code == 200


def test_token_without_json_accept_answers_xml(wm):
    headers = {k: v for k, v in wm.base_headers().items() if k != "Accept"}
    r = _post_token(wm, headers=headers)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/xml")
    for part in ("<OAuthTokenDTO>", "<accessToken>", "<expiresIn>900</expiresIn>", "<tokenType>Bearer</tokenType>"):
        assert part in r.text


@pytest.mark.parametrize("auth", [(CLIENT[0], "wrong-secret"), ("someone-else", CLIENT[1]), None])
def test_token_with_bad_or_missing_credentials_is_refused(wm, auth):
    r = _post_token(wm, auth=auth)
    assert r.status_code == 400
    err = _error(r)
    assert err["code"] == "INVALID_REQUEST_HEADER.GMP_GATEWAY_API" and err["field"] == "Authorization"
    assert "access_token" not in r.text


def test_token_refuses_other_grant_types(wm):
    r = _post_token(wm, grant="password")
    assert r.status_code == 400 and _error(r)["field"] == "grant_type"


@pytest.mark.parametrize("header", ["WM_QOS.CORRELATION_ID", "WM_SVC.NAME"])
def test_missing_qos_or_service_header_is_400_invalid_request_header(wm, header):
    headers = {k: v for k, v in wm.headers().items() if k != header}
    r = wm.get("/v3/orders?createdStartDate=2026-10-01", headers=headers)
    assert r.status_code == 400
    err = _error(r)
    assert err["code"] == "INVALID_REQUEST_HEADER.GMP_GATEWAY_API"
    assert err["field"] == header and header in err["description"]
    # The token endpoint checks them too.
    token_headers = {k: v for k, v in wm.base_headers().items() if k != header}
    r = _post_token(wm, headers=token_headers)
    assert r.status_code == 400 and _error(r)["field"] == header


@pytest.mark.parametrize("token", [None, "", "not-a-token"])
def test_missing_or_unknown_access_token_is_401_unauthorized(wm, token):
    headers = {k: v for k, v in wm.headers().items() if k != "WM_SEC.ACCESS_TOKEN"}
    if token is not None:
        headers["WM_SEC.ACCESS_TOKEN"] = token
    paths = ("/v3/orders", "/v3/returns", "/v3/report/reconreport/availableReconFiles?reportVersion=v1", "/v3/inventories")
    for path in paths:
        r = wm.get(path, headers=headers)
        assert r.status_code == 401, path
        err = _error(r)
        assert err["code"] == "UNAUTHORIZED.GMP_GATEWAY_API" and err["field"] == "UNAUTHORIZED"


def test_bearer_authorization_header_is_not_the_walmart_token_header(wm):
    headers = {k: v for k, v in wm.headers().items() if k != "WM_SEC.ACCESS_TOKEN"}
    headers["Authorization"] = f"Bearer {wm.token}"
    assert wm.get("/v3/inventories", headers=headers).status_code == 401


def test_token_expires_after_900_seconds_of_sandbox_clock(wm):
    assert wm.get("/v3/inventories").status_code == 200
    wm.clock.advance(TOKEN_TTL_S - 1)
    assert wm.get("/v3/inventories").status_code == 200
    wm.clock.advance(1)
    r = wm.get("/v3/inventories")
    assert r.status_code == 401 and _error(r)["code"] == "UNAUTHORIZED.GMP_GATEWAY_API"
    wm.token = wm.new_token()
    assert wm.get("/v3/inventories").status_code == 200


def test_token_detail(wm):
    body = wm.get("/v3/token/detail").json()
    assert body["is_valid"] is True
    assert int(body["expire_at"]) - int(body["issued_at"]) == TOKEN_TTL_S * 1000
    assert body["scopes"]["orders"] == "full_access"
