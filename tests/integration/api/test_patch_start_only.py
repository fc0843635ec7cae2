"""Moving an appointment by its start alone keeps its length (it answered 500: datetime +
datetime)."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
from tests.integration.api.conftest import API, APPOINTMENT, FirmWorld


async def test_patch_with_only_start_at_keeps_the_duration(
    client: httpx.AsyncClient, firm_a: FirmWorld
) -> None:
    made = await client.post(f"{API}/appointments", json=APPOINTMENT, headers=firm_a.cm1.auth)
    assert made.status_code == 201, made.text
    url = f"{API}/appointments/{made.json()['id']}"

    moved = await client.patch(
        url, json={"start_at": "2026-03-13T09:30:00Z"}, headers=firm_a.cm1.auth
    )

    assert moved.status_code == 200, moved.text
    body = moved.json()
    start = datetime.fromisoformat(body["start_at"])
    assert start == datetime.fromisoformat("2026-03-13T09:30:00+00:00")
    assert datetime.fromisoformat(body["end_at"]) - start == timedelta(hours=1)
    again = (await client.get(url, headers=firm_a.cm1.auth)).json()
    assert again["end_at"] == body["end_at"]
