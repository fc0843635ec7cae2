"""A NUL (or another control character) in any string of a request is a 422, on PostgreSQL too,
which refuses a NUL in text and answered 500."""

from __future__ import annotations

import httpx
import pytest
from tests.integration.api.conftest import API, APPOINTMENT, FirmWorld, is_problem


@pytest.mark.parametrize("bad", ["\x00", "\x01", "\x7f"])
async def test_control_characters_in_request_strings_are_a_422(
    client: httpx.AsyncClient, firm_a: FirmWorld, bad: str
) -> None:
    auth = firm_a.admin.auth
    user = {"email": f"x{bad}@y.test", "name": "n", "role": "staff"}
    is_problem(await client.post(f"{API}/users", json=user, headers=auth), 422)
    staff = f"{API}/users/{firm_a.staff.id}"
    is_problem(await client.patch(staff, json={"email": f"s{bad}@y.test"}, headers=auth), 422)
    alias = {"provider": "google", "account_email": f"a{bad}@y.test"}
    is_problem(await client.post(f"{staff}/aliases", json=alias, headers=auth), 422)
    series = {**APPOINTMENT, "rrule": "FREQ=DAILY;COUNT=3", "exdates": [f"2026-03-13{bad}"]}
    is_problem(await client.post(f"{API}/appointments", json=series, headers=auth), 422)
    guest = {**APPOINTMENT, "attendees": [{"email": f"g{bad}@y.test"}]}
    is_problem(await client.post(f"{API}/appointments", json=guest, headers=auth), 422)
    case = {"number": f"N{bad}1", "beneficiary": "B"}
    is_problem(await client.post(f"{API}/cases", json=case, headers=auth), 422)
    fine = {"email": "tab\t@y.test"}  # whitespace is refused by the address rule, not a 500
    is_problem(await client.post(f"{API}/users", json={**user, **fine}, headers=auth), 422)
    made = await client.post(f"{API}/users", json={**user, "email": "ok@y.test"}, headers=auth)
    assert made.status_code == 201, made.text
