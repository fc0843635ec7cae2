"""Reading a request body up to a bound: a larger one is refused as soon as its declared length
or its bytes so far exceed the bound, without being buffered whole."""

from __future__ import annotations

from starlette.requests import Request


class BodyTooLarge(Exception):
    """The body is longer than the receiver accepts (answered 413)."""


async def read_bounded(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)
