"""Who may read ``/metrics``: the bearer token of ``CASECAL_METRICS_TOKEN`` when one is set,
otherwise loopback clients only (the peer address, never a forwarded header)."""

from __future__ import annotations

import hmac
import ipaddress

from starlette.datastructures import Headers

FORWARDING_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip")
"""A request that came through a proxy is not a loopback client, even when the proxy is."""


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # not an address (a test client's name, a socket path)
        return False


def bearer_matches(authorization: str | None, token: str) -> bool:
    """``Authorization: Bearer <token>``, compared in constant time."""
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


def metrics_refusal(token: str, peer: str | None, headers: Headers) -> int | None:
    """``None`` when the request may read the metrics, else the status to refuse it with:
    401 for a missing or wrong token, 403 for a non-loopback client when no token is set."""
    if token:
        return None if bearer_matches(headers.get("authorization"), token) else 401
    if is_loopback(peer) and not any(name in headers for name in FORWARDING_HEADERS):
        return None
    return 403
