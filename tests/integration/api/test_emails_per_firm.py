"""Emails are unique per firm, so the API is no oracle of other firms' addresses: an admin
creating (or renaming) a user with another firm's email gets the same answer as with a new
address; only their own firm's addresses are taken."""

from __future__ import annotations

import httpx
from tests.integration.api.conftest import API, FirmWorld, is_problem


async def test_another_firms_email_is_free_and_answers_like_a_new_one(
    client: httpx.AsyncClient, firm_a: FirmWorld, firm_b: FirmWorld
) -> None:
    taken = await client.post(
        f"{API}/users", json={"email": "CM1@bravo.test", "name": "Twin", "role": "staff"},
        headers=firm_a.admin.auth,
    )  # fmt: skip
    assert taken.status_code == 201, taken.text
    assert taken.json()["email"] == "cm1@bravo.test"
    fresh = await client.post(
        f"{API}/users", json={"email": "nobody@bravo.test", "name": "New", "role": "staff"},
        headers=firm_a.admin.auth,
    )  # fmt: skip
    assert fresh.status_code == 201
    assert set(fresh.json()) == set(taken.json())

    renamed = await client.patch(
        f"{API}/users/{firm_a.staff.id}", json={"email": "staff@bravo.test"},
        headers=firm_a.admin.auth,
    )  # fmt: skip
    assert renamed.status_code == 200, renamed.text
    bravo = await client.get(f"{API}/users/{firm_b.staff.id}", headers=firm_b.admin.auth)
    assert bravo.json()["email"] == "staff@bravo.test"  # firm B's user is untouched


async def test_an_email_of_the_same_firm_is_taken(
    client: httpx.AsyncClient, firm_a: FirmWorld
) -> None:
    again = await client.post(
        f"{API}/users", json={"email": "cm1@alpha.test", "name": "Again", "role": "staff"},
        headers=firm_a.admin.auth,
    )  # fmt: skip
    body = is_problem(again, 409)
    assert "in this firm" in str(body["detail"])
    renamed = await client.patch(
        f"{API}/users/{firm_a.staff.id}", json={"email": "cm2@alpha.test"},
        headers=firm_a.admin.auth,
    )  # fmt: skip
    is_problem(renamed, 409)
