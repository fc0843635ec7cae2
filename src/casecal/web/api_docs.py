"""``GET /api/docs``: the Swagger UI explorer of the OpenAPI document, from files installed with
CaseCal (the ``fastapi-offline`` package ships Swagger UI's), so it works without internet.

The page has no inline script: ``/static/api-docs.js`` starts Swagger UI, so the page's CSP is
the other pages' plus ``data:`` images (Swagger UI's icons are data URIs)."""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from casecal.web.security_headers import SECURITY_HEADERS

DOCS_CSP = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'"

_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title} - API</title>
  <link rel="stylesheet" href="/static/swagger-ui/swagger-ui.css">
  <link rel="icon" href="/static/swagger-ui/favicon.png">
</head>
<body>
  <div id="swagger-ui" data-openapi-url="{openapi_url}"></div>
  <script src="/static/swagger-ui/swagger-ui-bundle.js"></script>
  <script src="/static/api-docs.js"></script>
</body>
</html>
"""

router = APIRouter(include_in_schema=False)


@router.get("/api/docs")
async def api_docs(request: Request) -> HTMLResponse:
    openapi_url = request.scope.get("root_path", "") + (request.app.openapi_url or "")
    html = _PAGE.format(title=escape(request.app.title), openapi_url=escape(openapi_url))
    return HTMLResponse(html, headers={**SECURITY_HEADERS, "Content-Security-Policy": DOCS_CSP})
