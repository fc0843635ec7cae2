"""JSON $batch: at most 20 parts, unique ids, fully parallel or fully sequential (dependsOn),
424 for dependants of a failed part, per-part status; parts count toward throttling.

Graph sends the Outlook service at most four parts of an unordered batch at a time (the
throttling-limits page, "Outlook service limits"), so a parallel batch of 20 stays within a
mailbox's four concurrent requests: here its parts run in waves of four, each holding a slot
of the mailbox only while its wave runs. A part that finds no slot free (the app has other
requests in flight to the mailbox) is answered 429, as Outlook would."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

from casecal.emulators.microsoft.errors import GraphError
from casecal.emulators.microsoft.graph import (
    GraphRequest,
    GraphResponse,
    GraphRouter,
    error_response,
)
from casecal.emulators.microsoft.throttle import Throttle

MAX_PARTS = 20
PARALLEL_PARTS = 4
"""Parts of an unordered batch Graph sends the Outlook service at a time."""
METHODS = {"GET", "POST", "PATCH", "PUT", "DELETE"}


def _bad(message: str) -> GraphError:
    return GraphError(400, "BadRequest", message)


def _validate(body: object) -> list[dict[str, Any]]:
    parts = body.get("requests") if isinstance(body, dict) else None
    if not isinstance(parts, list) or not parts:
        raise _bad("Invalid batch payload format: 'requests' must be a non-empty array.")
    if len(parts) > MAX_PARTS:
        raise _bad(
            f"The number of requests in the batch ({len(parts)}) exceeds the limit of {MAX_PARTS}."
        )
    ids: set[str] = set()
    for part in parts:
        if not isinstance(part, dict):
            raise _bad("Each batch request must be an object.")
        pid, method, url = part.get("id"), part.get("method"), part.get("url")
        if not isinstance(pid, str) or not pid:
            raise _bad("Each batch request needs a string 'id'.")
        if pid in ids:
            raise _bad(f"Batch request ids must be unique; '{pid}' appears twice.")
        ids.add(pid)
        if not isinstance(method, str) or method.upper() not in METHODS:
            raise _bad(f"Request '{pid}' has an invalid method '{method}'.")
        if not isinstance(url, str) or not url or "://" in url:
            raise _bad(f"Request '{pid}' needs a relative 'url'.")
        headers = part.get("headers") or {}
        if not isinstance(headers, dict):
            raise _bad(f"Request '{pid}' has invalid headers.")
        if (
            "body" in part
            and part["body"] is not None
            and not any(k.lower() == "content-type" for k in headers)
        ):
            raise _bad(f"Request '{pid}' has a body but no Content-Type header.")
    for part in parts:
        depends = part.get("dependsOn") or []
        if not isinstance(depends, list) or any(d not in ids or d == part["id"] for d in depends):
            raise _bad(f"Request '{part['id']}' has an invalid dependsOn.")
    with_deps = sum(1 for p in parts if p.get("dependsOn"))
    if with_deps not in (0, len(parts) - 1):
        raise _bad(
            "A batch must be either fully sequential (every request but the first "
            "depends on another) or fully parallel (none does)."
        )
    return parts


def _order(parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    done: set[str] = set()
    ordered: list[dict[str, Any]] = []
    remaining = list(parts)
    while remaining:
        ready = [p for p in remaining if set(p.get("dependsOn") or []) <= done]
        if not ready:
            raise _bad("The dependsOn chain of the batch contains a cycle.")
        for part in ready:
            ordered.append(part)
            done.add(part["id"])
            remaining.remove(part)
    return ordered


def _inner(outer: GraphRequest, part: dict[str, Any]) -> GraphRequest:
    split = urlsplit(part["url"] if part["url"].startswith("/") else "/" + part["url"])
    headers = {"authorization": outer.headers.get("authorization", "")}
    headers.update({k.lower(): str(v) for k, v in (part.get("headers") or {}).items()})
    return GraphRequest(
        part["method"].upper(),
        outer.version,
        split.path,
        dict(parse_qsl(split.query, keep_blank_values=True)),
        headers,
        part.get("body"),
        outer.base,
    )


def _part(pid: str, response: GraphResponse) -> dict[str, Any]:
    out: dict[str, Any] = {"id": pid, "status": response.status, "headers": response.headers}
    if response.body is not None:
        out["body"] = response.body
    return out


async def run_batch(router: GraphRouter, throttle: Throttle, outer: GraphRequest) -> GraphResponse:
    try:
        router.authenticate(outer)
        parts = _order(_validate(outer.body))
    except GraphError as exc:
        return error_response(exc, outer.headers.get("client-request-id"))
    assert outer.caller is not None
    key = (outer.caller.client_id, outer.caller.oid)
    sequential = any(p.get("dependsOn") for p in parts)
    results: dict[str, GraphResponse] = {}
    held = 0
    for n, part in enumerate(parts):
        if not sequential and n and n % PARALLEL_PARTS == 0:  # the next wave of four
            for _ in range(held):
                throttle.release(key)
            held = 0
        failed = [d for d in part.get("dependsOn") or [] if results[d].status >= 400]
        if failed:
            results[part["id"]] = error_response(
                GraphError(
                    424, "FailedDependency", f"The request depends on failed request(s) {failed}."
                )
            )
            continue
        request = _inner(outer, part)
        if request.path.rstrip("/").endswith("$batch"):
            results[part["id"]] = error_response(_bad("Batch requests cannot be nested."))
            continue
        refused = throttle.acquire(key)
        if refused is not None:
            retry_after, message = refused
            results[part["id"]] = error_response(
                GraphError(429, "ApplicationThrottled", message, {"Retry-After": str(retry_after)})
            )
            continue
        held += 1
        try:
            results[part["id"]] = await router.dispatch(request)
        finally:
            if sequential:
                throttle.release(key)
                held -= 1
    for _ in range(held):
        throttle.release(key)
    return GraphResponse(200, {"responses": [_part(p["id"], results[p["id"]]) for p in parts]})
