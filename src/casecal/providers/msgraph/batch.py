"""The Graph adapter's one JSON ``$batch`` loop, for reads and writes alike.

Parts are independent: none names another in ``dependsOn``, so one part that fails does not
fail the ones after it with 424. Graph sends the Outlook service at most four parts of an
unordered batch at a time, which keeps a batch of 20 within a mailbox's four concurrent
requests; every part counts against the mailbox's request budget (``cost``). A part refused
for now (429, 5xx, or left unanswered) goes into the next envelope together with the other
parts that were refused, after the longest Retry-After among them; a part that failed for good
is answered and never sent again. What is still refused after ``ROUNDS`` envelopes is left to
the caller, which sends it on its own under the HTTP layer's retry rules."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from casecal.providers._http import HttpLayer, parse_retry_after
from casecal.providers.errors import PermanentError, ProviderError, Transient
from casecal.providers.msgraph.wire import classify_parts

MAX_PARTS = 20
"""Graph's limit of requests in one ``$batch``."""
ROUNDS = 3
"""Envelopes a part refused for now may ride in before it is left to the caller."""
MAX_WAIT = 60.0
"""The longest Retry-After of a refused part waited for before the next envelope."""


@dataclass(frozen=True)
class Part:
    """One request of a batch: ``url`` relative to the API version."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: dict[str, Any] | None = None


@dataclass(frozen=True)
class Answer:
    """A part's answer: its status and body, and ``error`` (None for a 2xx) in the taxonomy."""

    status: int
    body: Any
    error: ProviderError | None


async def run(
    http: HttpLayer, url: str, parts: Sequence[Part], *, idempotent: bool
) -> list[Answer | None]:
    """The answers of ``parts`` in their order: None for a part still refused for now after
    the last round."""
    answers: list[Answer | None] = [None] * len(parts)
    pending = list(range(len(parts)))
    for round_ in range(ROUNDS):
        refused: list[int] = []
        wait = 0.0
        for start in range(0, len(pending), MAX_PARTS):
            chunk = pending[start : start + MAX_PARTS]
            body = await http.json(
                "POST",
                url,
                json={"requests": [_request(n, parts[i]) for n, i in enumerate(chunk)]},
                idempotent=idempotent,
                cost=len(chunk),  # Graph counts each part against the mailbox's budget
            )
            got = {str(a.get("id")): a for a in body.get("responses", []) if isinstance(a, dict)}
            for n, index in enumerate(chunk):
                raw = got.get(str(n))
                answer = _answer(raw) if raw is not None else None
                if answer is None or refused_for_now(answer.error):
                    refused.append(index)
                    wait = max(wait, _retry_after(raw))
                else:
                    answers[index] = answer
        if not refused:
            return answers
        pending = refused
        if round_ + 1 < ROUNDS and wait > 0:
            await http.sleep(min(wait, MAX_WAIT))
    return answers


def refused_for_now(error: ProviderError | None) -> bool:
    """Whether a part's failure is worth sending again: throttled, a server error, or (from a
    batch that chained its parts) skipped because the part it depended on failed."""
    if error is None:
        return False
    return isinstance(error, Transient) or (
        isinstance(error, PermanentError) and error.status == 424
    )


def _request(index: int, part: Part) -> dict[str, Any]:
    headers = dict(part.headers)
    request: dict[str, Any] = {"id": str(index), "method": part.method, "url": part.url}
    if part.body is not None:
        headers["Content-Type"] = "application/json"
        request["body"] = part.body
    request["headers"] = headers
    return request


def _answer(raw: dict[str, Any]) -> Answer:
    status = int(raw.get("status", 0))
    body = raw.get("body")
    error = None if 200 <= status < 300 else classify_parts(status, body)
    return Answer(status, body, error)


def _retry_after(raw: dict[str, Any] | None) -> float:
    headers = raw.get("headers") if raw is not None else None
    if not isinstance(headers, dict):
        return 0.0
    value = next((str(v) for k, v in headers.items() if str(k).lower() == "retry-after"), None)
    return parse_retry_after(value) or 0.0
