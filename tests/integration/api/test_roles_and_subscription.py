"""Role rules, the subscription state machine, seats, and API tokens shown once."""

from __future__ import annotations

import hashlib
import uuid

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tests.integration.api.conftest import API, APPOINTMENT, FirmWorld, is_problem

from casecal.store.tables import ApiToken


async def test_only_admins_touch_subscription_and_seats(
    client: httpx.AsyncClient, firm_a: FirmWorld
) -> None:
    for member in (firm_a.cm1, firm_a.staff):
        for method, path, body in [
            ("GET", "/subscription", None), ("POST", "/subscription", None),
            ("POST", "/subscription/activate", None), ("POST", "/subscription/cancel", None),
            ("GET", "/subscription/seats", None),
            ("POST", "/subscription/seats", {"user_id": firm_a.cm1.id}),
            ("DELETE", f"/subscription/seats/{firm_a.cm1.id}", None),
        ]:  # fmt: skip
            response = await client.request(method, API + path, json=body, headers=member.auth)
            is_problem(response, 403)


async def test_subscription_lifecycle_and_seats(
    client: httpx.AsyncClient, firm_a: FirmWorld
) -> None:
    auth = firm_a.admin.auth
    is_problem(await client.get(f"{API}/subscription", headers=auth), 404)
    is_problem(await client.post(f"{API}/subscription/activate", headers=auth), 404)
    made = await client.post(f"{API}/subscription", headers=auth)
    assert made.status_code == 201
    assert made.json()["status"] == "requested"
    is_problem(await client.post(f"{API}/subscription", headers=auth), 409)
    seat = await client.post(
        f"{API}/subscription/seats", json={"user_id": firm_a.cm1.id}, headers=auth
    )
    assert seat.status_code == 201
    is_problem(
        await client.post(
            f"{API}/subscription/seats", json={"user_id": firm_a.cm1.id}, headers=auth
        ),
        409,
    )
    active = await client.post(f"{API}/subscription/activate", headers=auth)
    assert active.json()["status"] == "active"
    assert active.json()["activated_at"]
    is_problem(await client.post(f"{API}/subscription/activate", headers=auth), 409)
    seats = await client.get(f"{API}/subscription/seats", headers=auth)
    assert [s["user_id"] for s in seats.json()["items"]] == [firm_a.cm1.id]
    demote = await client.patch(f"{API}/users/{firm_a.cm1.id}", json={"role": "staff"},
                                headers=auth)  # fmt: skip
    is_problem(demote, 409)
    gone = await client.delete(f"{API}/subscription/seats/{firm_a.cm1.id}", headers=auth)
    assert gone.status_code == 204
    is_problem(await client.delete(f"{API}/subscription/seats/{firm_a.cm1.id}", headers=auth), 404)
    cancelled = await client.post(f"{API}/subscription/cancel", headers=auth)
    assert cancelled.json()["status"] == "cancelled"
    is_problem(await client.post(f"{API}/subscription/cancel", headers=auth), 409)
    is_problem(
        await client.post(
            f"{API}/subscription/seats", json={"user_id": firm_a.cm2.id}, headers=auth
        ),
        409,
    )
    again = await client.post(f"{API}/subscription", headers=auth)
    assert again.json()["status"] == "requested"
    assert again.json()["cancelled_at"] is None


async def test_entry_and_case_roles(client: httpx.AsyncClient, firm_a: FirmWorld) -> None:
    others = {**APPOINTMENT, "owner_id": firm_a.cm2.id}
    is_problem(await client.post(f"{API}/appointments", json=others, headers=firm_a.cm1.auth), 403)
    mine = await client.post(f"{API}/appointments", json=APPOINTMENT, headers=firm_a.cm1.auth)
    assert mine.json()["owner_id"] == firm_a.cm1.id
    url = f"{API}/appointments/{mine.json()['id']}"
    is_problem(await client.patch(url, json={"title": "x"}, headers=firm_a.cm2.auth), 403)
    is_problem(await client.delete(url, headers=firm_a.staff.auth), 403)
    assert (await client.get(url, headers=firm_a.staff.auth)).status_code == 200
    by_admin = await client.post(f"{API}/appointments", json=others, headers=firm_a.admin.auth)
    assert by_admin.status_code == 201
    case = {"number": "S-1", "beneficiary": "B"}
    is_problem(await client.post(f"{API}/cases", json=case, headers=firm_a.staff.auth), 403)
    assert (
        await client.post(f"{API}/cases", json=case, headers=firm_a.cm2.auth)
    ).status_code == 201
    user = {"email": "x@alpha.test", "name": "X", "role": "staff"}
    is_problem(await client.post(f"{API}/users", json=user, headers=firm_a.cm1.auth), 403)
    is_problem(await client.post(f"{API}/teams", json={"name": "T"}, headers=firm_a.cm1.auth), 403)


async def test_token_is_shown_once_and_stored_hashed(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], firm_a: FirmWorld
) -> None:
    own = await client.post(
        f"{API}/users/{firm_a.cm1.id}/tokens", json={"name": "laptop"}, headers=firm_a.cm1.auth
    )
    assert own.status_code == 201
    token = own.json()["token"]
    assert token.startswith("cc_")
    async with sessionmaker() as session:
        row = await session.get(ApiToken, uuid.UUID(own.json()["id"]))
        assert row is not None
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert token not in {row.token_hash, row.prefix}
    listed = await client.get(f"{API}/users/{firm_a.cm1.id}/tokens", headers=firm_a.cm1.auth)
    assert token not in listed.text
    assert "laptop" in listed.text
    other = await client.post(
        f"{API}/users/{firm_a.cm2.id}/tokens", json={}, headers=firm_a.cm1.auth
    )
    is_problem(other, 403)
    bearer = {"Authorization": f"Bearer {token}"}
    assert (await client.get(f"{API}/cases", headers=bearer)).status_code == 200
    revoked = await client.delete(
        f"{API}/users/{firm_a.cm1.id}/tokens/{own.json()['id']}", headers=firm_a.admin.auth
    )
    assert revoked.status_code == 204
    is_problem(await client.get(f"{API}/cases", headers=bearer), 401)
    is_problem(await client.get(f"{API}/cases"), 401)
    is_problem(await client.get(f"{API}/cases", headers={"Authorization": "Bearer cc_nope"}), 401)


async def test_identity_aliases_are_managed_by_the_firm_admin(
    client: httpx.AsyncClient, firm_a: FirmWorld
) -> None:
    url = f"{API}/users/{firm_a.cm1.id}/aliases"
    body = {"provider": "microsoft", "account_email": "Ann.Lee@Other.example"}
    denied = await client.post(url, json=body, headers=firm_a.cm1.auth)
    assert denied.status_code == 403
    made = await client.post(url, json=body, headers=firm_a.admin.auth)
    assert made.status_code == 201, made.text
    assert made.json()["account_email"] == "ann.lee@other.example"
    again = await client.post(url, json=body, headers=firm_a.admin.auth)
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    listed = (await client.get(url, headers=firm_a.admin.auth)).json()["items"]
    assert [a["account_email"] for a in listed] == ["ann.lee@other.example"]
    gone = await client.delete(f"{url}/{made.json()['id']}", headers=firm_a.admin.auth)
    assert gone.status_code == 204
    assert (await client.get(url, headers=firm_a.admin.auth)).json()["items"] == []
