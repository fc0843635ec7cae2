"""The security headers of every response, by kind: pages, and everything else (JSON, plain
text, redirects, files). A route that sets one of them itself keeps its own value (the API
explorer's CSP, a static file's cache lifetime)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

PAGE_CSP = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'"
"""Pages load only CaseCal's own files: no inline script or style, nothing from elsewhere."""
DATA_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
"""A JSON or text answer opened in a browser runs and loads nothing, and is never framed."""

_COMMON = {
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}

SECURITY_HEADERS = {"Content-Security-Policy": PAGE_CSP, **_COMMON}
"""Pages are never framed (clickjacking), load only CaseCal's own files and are not cached."""
DATA_HEADERS = {"Content-Security-Policy": DATA_CSP, **_COMMON}
"""Everything that is not a page: not sniffed into something else, not framed, not cached."""


def _is_html(content_type: str) -> bool:
    return content_type.split(";", 1)[0].strip().lower() == "text/html"


def missing_headers(present: Iterable[str], content_type: str) -> Mapping[str, str]:
    """The security headers a response with ``present`` header names (any case) and this
    content type still needs."""
    have = {name.lower() for name in present}
    wanted = SECURITY_HEADERS if _is_html(content_type) else DATA_HEADERS
    return {name: value for name, value in wanted.items() if name.lower() not in have}
