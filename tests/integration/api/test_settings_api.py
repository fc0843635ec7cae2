"""`/api/v1/settings`: effective values with their source, locks that bind every level below,
values set where the caller may, every change audited, other firms' ids missing."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from tests.integration.api.conftest import API, FirmWorld, Member, is_problem

from casecal.domain.entries import EntryKind
from casecal.domain.guard import Limits
from casecal.store.tables import AuditEvent, Firm
from casecal.sync.settings_query import effective_for

URL = f"{API}/settings"


async def _settings(
    client: httpx.AsyncClient, who: Member, **params: str
) -> dict[str, dict[str, Any]]:
    got = await client.get(URL, params=params, headers=who.auth)
    assert got.status_code == 200, got.text
    return {s["key"]: s for s in got.json()["settings"]}


async def _put(client: httpx.AsyncClient, who: Member, key: str, **body: Any) -> httpx.Response:
    return await client.put(f"{URL}/{key}", json=body, headers=who.auth)


async def _team_with(client: httpx.AsyncClient, firm: FirmWorld, member: Member) -> str:
    team = await client.post(f"{API}/teams", json={"name": "Asylum"}, headers=firm.admin.auth)
    assert team.status_code == 201, team.text
    team_id: str = team.json()["id"]
    moved = await client.patch(
        f"{API}/users/{member.id}", json={"team_id": team_id}, headers=firm.admin.auth
    )
    assert moved.status_code == 200, moved.text
    return team_id


async def test_with_nothing_set_every_setting_is_its_default(
    client: httpx.AsyncClient, firm_a: FirmWorld
) -> None:
    mine = await _settings(client, firm_a.cm1)
    assert {s["source"] for s in mine.values()} == {"default"}
    assert mine["sync.court_date"]["value"] == "on"
    assert mine["sync.step_reminder"]["value"] == "opt_in"
    assert mine["guard.percent"]["value"] == 20
    assert mine["providers.allowed"]["value"] == ["google", "microsoft", "caldav"]
    assert mine["sync.court_date"]["may_edit"] is True
    assert mine["guard.percent"]["may_edit"] is False  # a firm rule, not a preference
    assert mine["sync.court_date"]["may_lock"] is False


async def test_a_firm_lock_refuses_a_user_change_naming_the_firm_and_the_engine_follows_it(
    client: httpx.AsyncClient, firm_a: FirmWorld, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    own = await _put(client, firm_a.cm1, "sync.court_date", value="on")
    assert own.status_code == 200, own.text
    assert (own.json()["source"], own.json()["value"]) == ("user", "on")

    lock = await _put(client, firm_a.admin, "sync.court_date", level="firm", value="off",
                      locked=True)  # fmt: skip
    assert lock.status_code == 200, lock.text

    refused = await _put(client, firm_a.cm1, "sync.court_date", value="on")
    body = is_problem(refused, 403)
    assert "locked by your firm" in str(body["detail"])
    removal = await client.delete(f"{URL}/sync.court_date", headers=firm_a.cm1.auth)
    assert "locked by your firm" in str(is_problem(removal, 403)["detail"])
    below = await _put(client, firm_a.admin, "sync.court_date", level="user",
                       user_id=firm_a.cm1.id, value="on")  # fmt: skip
    assert "locked by your firm" in str(is_problem(below, 403)["detail"])

    seen = (await _settings(client, firm_a.cm1))["sync.court_date"]
    assert (seen["value"], seen["source"], seen["locked"]) == ("off", "firm", True)
    assert (seen["lock_owner"], seen["lock_owner_name"]) == ("firm", "your firm")
    assert seen["lock_set_by"] == firm_a.admin.id
    assert seen["own_value"] == "on"  # kept, shown through again once the lock is lifted
    assert seen["may_edit"] is False

    async with sessionmaker() as session:
        engine_view = await effective_for(session, uuid.UUID(firm_a.id), uuid.UUID(firm_a.cm1.id))
    assert not engine_view.syncs(EntryKind.COURT_DATE, opted_in=True)

    unlock = await _put(client, firm_a.admin, "sync.court_date", level="firm", value="off")
    assert unlock.status_code == 200, unlock.text
    seen = (await _settings(client, firm_a.cm1))["sync.court_date"]
    assert (seen["value"], seen["source"], seen["locked"]) == ("on", "user", False)


async def test_a_team_cannot_unlock_what_the_firm_locked(
    client: httpx.AsyncClient, firm_a: FirmWorld
) -> None:
    team_id = await _team_with(client, firm_a, firm_a.cm1)
    locked = await _put(client, firm_a.admin, "guard.percent", level="firm",
                        value=10, locked=True)  # fmt: skip
    assert locked.status_code == 200, locked.text
    for lock in (False, True):
        attempt = await _put(client, firm_a.admin, "guard.percent", level="team",
                             team_id=team_id, value=50, locked=lock)  # fmt: skip
        assert "locked by your firm" in str(is_problem(attempt, 403)["detail"])
    team_view = await _settings(client, firm_a.admin, level="team", team_id=team_id)
    assert team_view["guard.percent"]["value"] == 10
    assert team_view["guard.percent"]["lock_owner"] == "firm"


async def test_a_team_lock_binds_its_members_only(
    client: httpx.AsyncClient, firm_a: FirmWorld
) -> None:
    team_id = await _team_with(client, firm_a, firm_a.cm1)
    lock = await _put(client, firm_a.admin, "conflicts.appointment", level="team",
                      team_id=team_id, value="host_wins", locked=True)  # fmt: skip
    assert lock.status_code == 200, lock.text
    refused = await _put(client, firm_a.cm1, "conflicts.appointment", value="remote_wins")
    assert "locked by your team" in str(is_problem(refused, 403)["detail"])
    other = await _put(client, firm_a.cm2, "conflicts.appointment", value="remote_wins")
    assert other.status_code == 200, other.text
    seen = (await _settings(client, firm_a.cm1))["conflicts.appointment"]
    assert (seen["value"], seen["source"], seen["lock_owner"]) == ("host_wins", "team", "team")


async def test_removing_a_value_falls_back_to_the_level_above(
    client: httpx.AsyncClient, firm_a: FirmWorld
) -> None:
    firm = await _put(client, firm_a.admin, "reminders.court_date", level="firm", value=[60])
    assert firm.status_code == 200, firm.text
    mine = await _put(client, firm_a.cm1, "reminders.court_date", value=[10, 30, 10])
    assert (mine.json()["value"], mine.json()["source"]) == ([30, 10], "user")
    gone = await client.delete(f"{URL}/reminders.court_date", headers=firm_a.cm1.auth)
    assert gone.status_code == 204, gone.text
    seen = (await _settings(client, firm_a.cm1))["reminders.court_date"]
    assert (seen["value"], seen["source"]) == ([60], "firm")
    again = await client.delete(f"{URL}/reminders.court_date", headers=firm_a.cm1.auth)
    is_problem(again, 404)


async def test_values_and_locks_that_do_not_fit_answer_422_with_the_field(
    client: httpx.AsyncClient, firm_a: FirmWorld
) -> None:
    bad = await _put(client, firm_a.cm1, "sync.court_date", value="sometimes")
    assert is_problem(bad, 422)["field"] == "value"
    bad = await _put(client, firm_a.admin, "guard.percent", level="firm", value=250)
    assert is_problem(bad, 422)["field"] == "value"
    bad = await _put(client, firm_a.admin, "sync.interview", level="user",
                     user_id=firm_a.cm1.id, value="off", locked=True)  # fmt: skip
    assert is_problem(bad, 422)["field"] == "locked"
    missing = await client.put(f"{URL}/sync.court_date", json={}, headers=firm_a.cm1.auth)
    is_problem(missing, 422)
    unknown = await _put(client, firm_a.admin, "no.such_setting", level="firm", value=True)
    is_problem(unknown, 404)


async def test_users_write_only_their_own_preferences(
    client: httpx.AsyncClient, firm_a: FirmWorld
) -> None:
    for attempt in (
        await _put(client, firm_a.cm1, "sync.court_date", level="firm", value="off"),
        await _put(client, firm_a.cm1, "sync.court_date", user_id=firm_a.cm2.id, value="off"),
        await _put(client, firm_a.cm1, "guard.minimum", value=1),
    ):
        is_problem(attempt, 403)
    own_lock = await _put(client, firm_a.cm1, "sync.court_date", value="off", locked=True)
    assert is_problem(own_lock, 422)["field"] == "locked"
    peek = await client.get(URL, params={"user_id": firm_a.cm2.id}, headers=firm_a.cm1.auth)
    is_problem(peek, 403)
    admin_view = await _settings(client, firm_a.admin, user_id=firm_a.cm2.id)
    assert admin_view["guard.minimum"]["may_edit"] is True


async def test_every_change_is_in_the_audit_log(
    client: httpx.AsyncClient, firm_a: FirmWorld, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await _put(client, firm_a.admin, "providers.allowed", level="firm", value=["google"],
               locked=True)  # fmt: skip
    await _put(client, firm_a.cm1, "show_as.interview", value="free")
    await client.delete(f"{URL}/show_as.interview", headers=firm_a.cm1.auth)
    async with sessionmaker() as session:
        events = (
            await session.scalars(
                select(AuditEvent)
                .where(AuditEvent.action.like("setting.%"))
                .order_by(AuditEvent.id)
            )
        ).all()
    assert [(e.action, e.details["key"], str(e.actor_user_id)) for e in events] == [
        ("setting.set", "providers.allowed", firm_a.admin.id),
        ("setting.set", "show_as.interview", firm_a.cm1.id),
        ("setting.cleared", "show_as.interview", firm_a.cm1.id),
    ]
    assert events[0].details["locked"] is True
    assert events[0].target == "Calendar providers allowed (the firm)"
    assert events[1].target == "Interviews show as (cm1)"
    assert events[1].details["scope_id"] == firm_a.cm1.id
    assert events[2].details["before"] == {"value": "free", "locked": False}


async def test_another_firms_ids_look_missing(
    client: httpx.AsyncClient, firm_a: FirmWorld, firm_b: FirmWorld
) -> None:
    team_id = await _team_with(client, firm_a, firm_a.cm1)
    is_problem(
        await client.get(URL, params={"user_id": firm_a.cm1.id}, headers=firm_b.admin.auth), 404
    )
    is_problem(
        await client.get(URL, params={"level": "team", "team_id": team_id},
                         headers=firm_b.admin.auth), 404,
    )  # fmt: skip
    attempt = await _put(client, firm_b.admin, "sync.court_date", level="team", team_id=team_id,
                         value="off", locked=True)  # fmt: skip
    is_problem(attempt, 404)
    attempt = await _put(client, firm_b.admin, "sync.court_date", level="user",
                         user_id=firm_a.cm1.id, value="off")  # fmt: skip
    is_problem(attempt, 404)
    firm_lock = await _put(client, firm_b.admin, "sync.court_date", level="firm", value="off",
                           locked=True)  # fmt: skip
    assert firm_lock.status_code == 200, firm_lock.text
    assert (await _settings(client, firm_a.cm1))["sync.court_date"]["source"] == "default"


async def test_values_the_firm_set_before_settings_existed_are_its_firm_values(
    client: httpx.AsyncClient, firm_a: FirmWorld, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    async with sessionmaker() as session:
        firm = await session.get(Firm, uuid.UUID(firm_a.id))
        assert firm is not None
        firm.settings = {"conflicts": "host_wins", "graph_invite_attendees": ["appointment"]}
        await session.commit()
    mine = await _settings(client, firm_a.cm1)
    assert (mine["conflicts.appointment"]["value"], mine["conflicts.appointment"]["source"]) == (
        "host_wins",
        "firm",
    )
    assert mine["invitations.graph_attendees"]["value"] == ["appointment"]


async def test_the_operations_are_documented(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/api/openapi.json")).json()
    assert {"get"} <= set(spec["paths"][URL])
    assert {"put", "delete"} <= set(spec["paths"][f"{URL}/{{key}}"])
    assert "SettingPublic" in spec["components"]["schemas"]
    assert "SettingWrite" in spec["components"]["schemas"]


async def test_the_engines_loader_reads_in_two_queries_and_only_the_firms_own_values(
    client: httpx.AsyncClient,
    firm_a: FirmWorld,
    firm_b: FirmWorld,
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    team_id = await _team_with(client, firm_a, firm_a.cm1)
    await _put(client, firm_a.admin, "guard.minimum", level="firm", value=40)
    await _put(client, firm_a.admin, "guard.percent", level="team", team_id=team_id, value=5)
    await _put(client, firm_a.cm1, "reminders.interview", value=[15])
    await _put(client, firm_b.admin, "guard.minimum", level="firm", value=1, locked=True)
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        async with sessionmaker() as session:
            mine = await effective_for(session, uuid.UUID(firm_a.id), uuid.UUID(firm_a.cm1.id))
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
    assert len(statements) == 2, statements
    assert mine.limits() == Limits(percent=5, minimum=40)
    assert mine.reminders(EntryKind.INTERVIEW) == (15,)
    async with sessionmaker() as session:
        stranger = await effective_for(session, uuid.UUID(firm_b.id), uuid.UUID(firm_a.cm1.id))
    assert stranger.limits() == Limits(percent=20, minimum=1)  # firm b's own, nobody else's
    assert stranger.reminders(EntryKind.INTERVIEW) == (24 * 60, 60)
