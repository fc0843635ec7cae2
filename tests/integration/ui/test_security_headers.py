"""Every response carries the security headers, applied once in middleware: pages (the OAuth
callback and consent pages included) get the page CSP; JSON, problem, plain-text answers (the
Graph validation echo), redirects and files get ``nosniff``, a CSP that loads nothing and
forbids framing, and ``no-store`` unless they set their own cache lifetime."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from tests.integration.ui.conftest import UiFirm, sign_in

from casecal.web.security_headers import DATA_CSP, PAGE_CSP

EVERYWHERE = {"x-content-type-options": "nosniff", "x-frame-options": "DENY",
              "referrer-policy": "same-origin"}  # fmt: skip


def _common(response: httpx.Response) -> None:
    for name, value in EVERYWHERE.items():
        assert response.headers.get(name) == value, (response.request.url, name)
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert len(response.headers.get_list("content-security-policy")) == 1  # applied once


def assert_page(response: httpx.Response) -> None:
    assert response.headers["content-type"].startswith("text/html")
    _common(response)
    assert response.headers["content-security-policy"] == PAGE_CSP
    assert response.headers["cache-control"] == "no-store"


def assert_data(response: httpx.Response, cache: str = "no-store") -> None:
    _common(response)
    assert response.headers["content-security-policy"] == DATA_CSP
    assert response.headers["cache-control"] == cache


async def test_pages_and_oauth_callback_pages(client: httpx.AsyncClient) -> None:
    assert_page(await client.get("/login"))
    refused = await client.get("/oauth/google/callback", params={"code": "x", "state": "y"})
    assert refused.status_code == 401  # not signed in: the explanation page
    assert_page(refused)
    unknown = await client.get("/oauth/nowhere/callback")
    assert unknown.status_code == 404
    assert_page(unknown)
    consented = await client.get(
        "/oauth/microsoft/adminconsent/callback", params={"admin_consent": "True", "tenant": "t"}
    )
    assert consented.status_code == 200  # the "consent recorded" page
    assert_page(consented)


async def test_signed_in_pages(client: httpx.AsyncClient, ui_firm: UiFirm) -> None:
    signed = await sign_in(client, ui_firm.admin.email)
    assert signed.status_code == 303
    assert_data(signed)  # a redirect
    for path in ("/calendar-sync", "/calendar"):
        page = await client.get(path)
        assert page.status_code == 200, path
        assert_page(page)


async def test_webhook_answers_and_the_graph_validation_echo(client: httpx.AsyncClient) -> None:
    echo = await client.post("/webhooks/microsoft", params={"validationToken": "<b>hi</b>"})
    assert echo.status_code == 200
    assert echo.text == "<b>hi</b>"
    assert echo.headers["content-type"].startswith("text/plain")
    assert_data(echo)
    lifecycle = await client.post(
        "/webhooks/microsoft/lifecycle", params={"validationToken": "abc"}
    )
    assert_data(lifecycle)
    unknown_channel = await client.post("/webhooks/google", headers={"X-Goog-Channel-ID": "x"})
    assert unknown_channel.status_code < 500
    assert_data(unknown_channel)


@pytest.mark.parametrize(
    "path",
    ["/healthz", "/readyz", "/api/openapi.json", "/api/v1/cases", "/api/v1/nothing-here",
     "/metrics", "/"],
)  # fmt: skip
async def test_json_problems_redirects_and_metrics(client: httpx.AsyncClient, path: str) -> None:
    assert_data(await client.get(path))


async def test_files_keep_their_cache_lifetime(client: httpx.AsyncClient) -> None:
    for path in ("/static/casecal.css", "/static/api-docs.js", "/static/swagger-ui/swagger-ui.css"):
        served = await client.get(path)
        assert served.status_code == 200, path
        assert_data(served, cache=served.headers["cache-control"])
        assert served.headers["cache-control"].startswith("max-age=")


async def test_api_docs_page_has_its_own_csp_and_the_rest(client: httpx.AsyncClient) -> None:
    docs = await client.get("/api/docs")
    assert docs.status_code == 200
    _common(docs)
    csp = docs.headers["content-security-policy"]
    assert "script-src" not in csp  # scripts: only CaseCal's own files, none inline
    assert "'unsafe-inline'" not in csp
    assert "img-src 'self' data:" in csp
    assert "cdn" not in docs.text.lower()
    assert "https://" not in docs.text


async def test_an_unhandled_error_still_carries_them(app: FastAPI) -> None:
    async def boom() -> None:
        raise RuntimeError("an unexpected failure")

    app.add_api_route("/boom-for-this-test", boom)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        failed = await c.get("/boom-for-this-test")
    assert failed.status_code == 500
    assert "unexpected failure" not in failed.text
    assert_data(failed)
