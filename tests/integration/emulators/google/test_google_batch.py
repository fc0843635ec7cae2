"""The batch endpoint: multipart/mixed in and out, Content-ID matching with responses in
shuffled order, each part run as its own call, and the 1000-part and same-API limits."""

from __future__ import annotations

import json
from collections.abc import Sequence
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32
from typing import Any

import httpx
from gemu_support import EVENTS, event

BOUNDARY = "batch_foobarbaz"


Part = tuple[str, str, str, dict[str, Any] | None]


def multipart(parts: Sequence[Part]) -> bytes:
    chunks = []
    for content_id, method, path, body in parts:
        inner = f"{method} {path} HTTP/1.1\r\n"
        if body is not None:
            data = json.dumps(body)
            inner += f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n{data}"
        else:
            inner += "\r\n"
        chunks.append(
            f"--{BOUNDARY}\r\nContent-Type: application/http\r\nContent-ID: <{content_id}>\r\n"
            f"Content-Transfer-Encoding: binary\r\n\r\n{inner}\r\n"
        )
    return ("".join(chunks) + f"--{BOUNDARY}--\r\n").encode()


def parse(response: httpx.Response) -> dict[str, tuple[int, str]]:
    head = f"Content-Type: {response.headers['content-type']}\r\n\r\n".encode()
    message = BytesParser(policy=compat32).parsebytes(head + response.content)
    out = {}
    for part in message.get_payload():
        assert isinstance(part, Message)
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        raw = payload.decode()
        status_line, _, rest = raw.partition("\r\n")
        out[part["Content-ID"]] = (int(status_line.split()[1]), rest.partition("\r\n\r\n")[2])
    return out


async def test_batch_runs_each_part_and_matches_content_ids(api: httpx.AsyncClient) -> None:
    parts: list[Part] = [
        (f"item{i}", "POST", EVENTS, event(f"B{i}", id=f"batchitem{i:02d}")) for i in range(8)
    ]
    parts.append(("missing", "GET", f"{EVENTS}/doesnotexist", None))
    parts.append(("dup", "POST", EVENTS, event(id="batchitem00")))
    r = await api.post(
        "/batch/calendar/v3",
        content=multipart(parts),
        headers={"Content-Type": f"multipart/mixed; boundary={BOUNDARY}"},
    )
    assert r.status_code == 200
    answers = parse(r)
    assert set(answers) == {f"<response-{p[0]}>" for p in parts}
    assert list(answers) != [f"<response-{p[0]}>" for p in parts], "order is shuffled"
    assert answers["<response-item3>"][0] == 200
    assert json.loads(answers["<response-item3>"][1])["summary"] == "B3"
    assert answers["<response-missing>"][0] == 404
    statuses = {answers["<response-dup>"][0], answers["<response-item0>"][0]}
    assert statuses == {200, 409}
    listed = (await api.get(EVENTS)).json()["items"]
    assert len(listed) == 8


async def test_batch_limits(api: httpx.AsyncClient) -> None:
    headers = {"Content-Type": f"multipart/mixed; boundary={BOUNDARY}"}
    too_many: list[Part] = [(f"i{i}", "GET", EVENTS, None) for i in range(1001)]
    r = await api.post("/batch/calendar/v3", content=multipart(too_many), headers=headers)
    assert r.status_code == 400
    other_api: list[Part] = [("a", "GET", "/drive/v3/files", None)]
    r = await api.post("/batch/calendar/v3", content=multipart(other_api), headers=headers)
    assert r.status_code == 400
    r = await api.post("/batch/calendar/v3", json={"not": "multipart"})
    assert r.status_code == 400
