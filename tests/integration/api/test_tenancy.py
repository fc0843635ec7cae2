"""Tenant isolation: every endpoint, called by firm A's admin with firm B's ids, answers 404
exactly like a missing id, and firm B's data stays byte-for-byte the same."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tests.integration.api.conftest import (
    API,
    APPOINTMENT,
    COURT,
    INTERVIEW,
    REMINDER,
    FirmWorld,
    is_problem,
)

from casecal.store.tables import (
    Base,
    ConflictRecord,
    Connection,
    ConnectionApproval,
    ConnectionStatus,
    EntryKind,
    IdentityAlias,
    ProviderName,
    SyncRun,
)

PARAM = re.compile(r"\{(\w+)\}")
TENANT_TABLES = (
    "firms", "teams", "users", "api_tokens", "cases", "case_assignments", "appointments",
    "court_dates", "interviews", "step_reminders", "subscriptions", "seats", "outbox",
    "connections", "sync_cursors", "links", "conflicts", "sync_runs", "audit_log",
    "identity_aliases", "connection_approvals", "team_admins",
)  # fmt: skip


async def _seed_b_sync(
    sessionmaker: async_sessionmaker[AsyncSession], b: FirmWorld, appointment_id: str
) -> dict[str, str]:
    """Firm B's connection with a run and a conflict, written directly (no OAuth needed)."""
    firm_id, user_id = uuid.UUID(b.id), uuid.UUID(b.cm1.id)
    connection = Connection(
        firm_id=firm_id, user_id=user_id, provider=ProviderName.GOOGLE,
        status=ConnectionStatus.PAUSED_DELETIONS, calendar_id="b@example.com",
    )  # fmt: skip
    async with sessionmaker() as session, session.begin():
        session.add(connection)
        await session.flush()
        session.add(SyncRun(firm_id=firm_id, connection_id=connection.id, outcome="paused"))
        conflict = ConflictRecord(
            firm_id=firm_id, connection_id=connection.id, entry_kind=EntryKind.APPOINTMENT,
            entry_id=uuid.UUID(appointment_id), winner="host",
            loser_snapshot={"deleted": True},
        )  # fmt: skip
        session.add(conflict)
        alias = IdentityAlias(
            firm_id=firm_id, user_id=user_id, provider=ProviderName.GOOGLE,
            account_email="b-alias@example.com",
        )  # fmt: skip
        session.add(alias)
        session.add(ConnectionApproval(  # firm B's connection waits for B's admin
            firm_id=firm_id, connection_id=connection.id, user_id=user_id,
        ))  # fmt: skip
        await session.flush()
        return {
            "connection_id": str(connection.id),
            "conflict_id": str(conflict.id),
            "alias_id": str(alias.id),
        }


async def _seed_b(client: httpx.AsyncClient, b: FirmWorld) -> dict[str, str]:
    auth = b.admin.auth

    async def made(path: str, body: dict[str, Any]) -> str:
        response = await client.post(f"{API}/{path}", json=body, headers=auth)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    ids = {
        "user_id": b.cm1.id,
        "case_id": b.case_id,
        "team_id": await made("teams", {"name": "Bravo team"}),
        "appointment_id": await made("appointments", {**APPOINTMENT, "owner_id": b.cm1.id}),
        "court_date_id": await made("court-dates", {**COURT, "case_id": b.case_id}),
        "interview_id": await made("interviews", {**INTERVIEW, "case_id": b.case_id}),
        "step_reminder_id": await made("step-reminders", {**REMINDER, "case_id": b.case_id}),
    }
    tokens = await client.get(f"{API}/users/{b.cm1.id}/tokens", headers=auth)
    ids["token_id"] = tokens.json()["items"][0]["id"]
    assert (await client.post(f"{API}/subscription", headers=auth)).status_code == 201
    seat = await client.post(f"{API}/subscription/seats", json={"user_id": b.cm1.id}, headers=auth)
    assert seat.status_code == 201
    return ids


REFERENCES = {"team_id", "case_id", "owner_id", "user_id", "manager_ids"}
"""Body fields that name another row: firm B's answer 404."""
NAMES = {"key": "sync.court_date"}
"""Path parameters that name something every firm shares (a setting's key), not a row."""


def _bodies(b: dict[str, str]) -> dict[tuple[str, str], dict[str, Any] | None]:
    """A body per endpoint; where a body can name another row, it names firm B's."""
    p = API
    return {
        ("POST", f"{p}/users"): {"email": "n@alpha.test", "name": "N", "role": "staff",
                                 "team_id": b["team_id"]},
        ("PATCH", f"{p}/users/{{user_id}}"): {"name": "Taken over", "team_id": b["team_id"]},
        ("POST", f"{p}/users/{{user_id}}/tokens"): {"name": "stolen"},
        ("POST", f"{p}/teams"): {"name": "Alpha new team"},
        ("PATCH", f"{p}/teams/{{team_id}}"): {"name": "Renamed"},
        ("POST", f"{p}/cases"): {"number": "X-1", "beneficiary": "X",
                                 "manager_ids": [b["user_id"]]},
        ("PATCH", f"{p}/cases/{{case_id}}"): {"manager_ids": []},
        ("POST", f"{p}/appointments"): {**APPOINTMENT, "owner_id": b["user_id"]},
        ("PATCH", f"{p}/appointments/{{appointment_id}}"): {"title": "Hacked"},
        ("POST", f"{p}/appointments/{{appointment_id}}/share"): None,
        ("POST", f"{p}/appointments/{{appointment_id}}/unshare"): None,
        ("POST", f"{p}/court-dates"): {**COURT, "case_id": b["case_id"]},
        ("PATCH", f"{p}/court-dates/{{court_date_id}}"): {"judge": "Hacked"},
        ("POST", f"{p}/interviews"): {**INTERVIEW, "case_id": b["case_id"]},
        ("PATCH", f"{p}/interviews/{{interview_id}}"): {"officer": "Hacked"},
        ("POST", f"{p}/step-reminders"): {**REMINDER, "case_id": b["case_id"]},
        ("PATCH", f"{p}/step-reminders/{{step_reminder_id}}"): {"notes": "Hacked"},
        ("POST", f"{p}/subscription"): None,
        ("POST", f"{p}/subscription/activate"): None,
        ("POST", f"{p}/subscription/cancel"): None,
        ("POST", f"{p}/subscription/seats"): {"user_id": b["user_id"]},
        ("POST", f"{p}/connections/{{connection_id}}/sync"): None,
        ("POST", f"{p}/connections/{{connection_id}}/confirm-deletions"): None,
        ("POST", f"{p}/connections/{{connection_id}}/cleanup"): None,
        ("POST", f"{p}/conflicts/{{conflict_id}}/restore"): None,
        ("PUT", f"{p}/settings/{{key}}"): {"level": "team", "team_id": b["team_id"],
                                           "value": "off"},
        ("POST", f"{p}/users/{{user_id}}/aliases"): {
            "provider": "google", "account_email": "taken-over@example.com",
        },
        ("POST", f"{p}/approvals/{{connection_id}}/approve"): None,
        ("POST", f"{p}/approvals/{{connection_id}}/decline"): {"reason": "Taken over"},
        ("PUT", f"{p}/teams/{{team_id}}/admins/{{user_id}}"): None,
    }  # fmt: skip


async def _snapshot(sessionmaker: async_sessionmaker[AsyncSession], firm_id: str) -> list[Any]:
    """Every row of every table that belongs to the firm, as plain values."""
    out: list[Any] = []
    async with sessionmaker() as session:
        for name in TENANT_TABLES:
            table = Base.metadata.tables[name]
            column = table.c.firm_id if name != "firms" else table.c.id
            rows = await session.execute(select(table).where(column == uuid.UUID(firm_id)))
            out.append((table.name, sorted(tuple(map(str, r)) for r in rows)))
    return out


async def test_every_endpoint_hides_other_firms(
    app: FastAPI,
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    firm_a: FirmWorld,
    firm_b: FirmWorld,
) -> None:
    b_ids = await _seed_b(client, firm_b)
    b_ids |= await _seed_b_sync(sessionmaker, firm_b, b_ids["appointment_id"])
    bodies = _bodies(b_ids)
    before = await _snapshot(sessionmaker, firm_b.id)
    auth = firm_a.admin.auth
    walked: set[tuple[str, str]] = set()
    for path, operations in app.openapi()["paths"].items():  # every endpoint the app serves
        if not path.startswith(API):
            continue
        for method in sorted(m.upper() for m in operations):
            walked.add((method, path))
            names = PARAM.findall(path)
            params = [name for name in names if name not in NAMES]  # ids, not names
            body = bodies.get((method, path))
            if method in ("POST", "PATCH", "PUT") and body is None:
                assert (method, path) in bodies, f"no body for {method} {path}"
            url = path.format(**{name: {**b_ids, **NAMES}[name] for name in names})
            response = await client.request(method, url, json=body, headers=auth)
            if params:
                problem = is_problem(response, 404)
                missing_url = path.format(
                    **{n: str(uuid.uuid4()) for n in params},
                    **{n: NAMES[n] for n in names if n in NAMES},
                )
                missing = await client.request(method, missing_url, json=body, headers=auth)
                assert missing.status_code == 404
                assert set(missing.json()) == set(problem), path
                assert _shape(missing.json()["detail"]) == _shape(str(problem["detail"]))
            elif method in ("POST", "PUT") and body and set(body) & REFERENCES:
                is_problem(response, 404)
            else:
                assert response.status_code < 500, response.text
                for other_id in b_ids.values():
                    assert other_id not in response.text, (method, path)
    assert set(bodies) <= walked
    assert len(walked) >= 35
    assert await _snapshot(sessionmaker, firm_b.id) == before


def _shape(detail: str) -> str:
    return re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}", "<id>", detail)


async def test_own_entry_cannot_point_at_other_firms_rows(
    client: httpx.AsyncClient, firm_a: FirmWorld, firm_b: FirmWorld
) -> None:
    auth = firm_a.admin.auth
    court = await client.post(
        f"{API}/court-dates", json={**COURT, "case_id": firm_a.case_id}, headers=auth
    )
    url = f"{API}/court-dates/{court.json()['id']}"
    for change in ({"case_id": firm_b.case_id}, {"assigned_user_id": firm_b.cm1.id}):
        problem = is_problem(await client.patch(url, json=change, headers=auth), 404)
        assert problem["field"] == next(iter(change))
    assert (await client.get(url, headers=auth)).json()["version"] == 1
