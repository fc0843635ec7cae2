"""The sync API: sync now, the run log, conflicts and restore, the deletion confirmation, and
that nobody but the owner (or a firm admin) can see or drive a connection."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sync_world import World

SOON = datetime.now(UTC).replace(microsecond=0, second=0, minute=0) + timedelta(days=3)


async def _appointment(world: World, title: str) -> dict[str, str]:
    body = {"title": title, "start_at": SOON.isoformat(),
            "end_at": (SOON + timedelta(hours=1)).isoformat(), "time_zone": "UTC"}  # fmt: skip
    result: dict[str, str] = await world.post("/appointments", body)
    return result


async def test_sync_now_runs_a_pass_and_logs_it(world: World) -> None:
    world.app.state.sync_engine = world.engine
    await _appointment(world, "Via the API")
    url = f"/api/v1/connections/{world.connection_id}"
    response = await world.api.post(f"{url}/sync", headers=world.manager)
    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "ok"
    assert response.json()["counts"]["out"] == {"appointment.create": 1}
    assert world.titles() == ["Via the API"]
    runs = (await world.api.get(f"{url}/runs", headers=world.manager)).json()
    assert [r["outcome"] for r in runs] == ["ok"]
    assert runs[0]["trigger"] == "sync_now"
    status = (await world.api.get(url, headers=world.manager)).json()
    assert status["status"] == "active"
    assert status["last_sync_at"] is not None


async def test_conflict_is_listed_and_restored(world: World) -> None:
    world.app.state.sync_engine = world.engine
    appointment = await _appointment(world, "Original")
    await world.sync()
    [event] = world.remote.items()
    await world.patch(f"/appointments/{appointment['id']}", {"title": "Host title"})
    world.remote.retitle(event.id, "Remote title")
    await world.sync()
    [conflict] = (await world.api.get("/api/v1/conflicts", headers=world.manager)).json()["items"]
    loser = conflict["loser_snapshot"]["title"]
    restored = await world.api.post(
        f"/api/v1/conflicts/{conflict['id']}/restore", headers=world.manager
    )
    assert restored.status_code == 200, restored.text
    assert restored.json()["restored_at"] is not None
    await world.sync()
    assert [a["title"] for a in await world.appointments()] == [loser]
    assert world.titles() == [loser]
    again = await world.api.post(
        f"/api/v1/conflicts/{conflict['id']}/restore", headers=world.manager
    )
    assert again.status_code == 409
    assert (await world.api.get("/api/v1/conflicts", headers=world.manager)).json()["items"] == []


async def test_confirm_deletions_releases_the_guard(world: World) -> None:
    world.app.state.sync_engine = world.engine
    for n in range(26):
        await _appointment(world, f"Meeting {n}")
    await world.sync()
    for event in world.remote.items():
        world.remote.delete(event.id)
    url = f"/api/v1/connections/{world.connection_id}"
    paused = (await world.api.post(f"{url}/sync", headers=world.manager)).json()
    assert paused["outcome"] == "paused"
    assert paused["counts"]["guard"] == {"deletions": 26, "linked": 26}
    blocked = await world.api.post(f"{url}/sync", headers=world.manager)
    assert blocked.status_code == 409
    assert "paused_deletions" in blocked.json()["detail"]
    confirmed = await world.api.post(f"{url}/confirm-deletions", headers=world.manager)
    assert confirmed.status_code == 200
    assert confirmed.json()["status"] == "active"
    done = (await world.api.post(f"{url}/sync", headers=world.manager)).json()
    assert done["outcome"] == "ok"
    assert await world.appointments() == []
    twice = await world.api.post(f"{url}/confirm-deletions", headers=world.manager)
    assert twice.status_code == 409


async def test_other_users_cannot_see_or_drive_the_connection(world: World) -> None:
    world.app.state.sync_engine = world.engine
    other = await world.post(
        "/users",
        {"email": "other@sync.example", "name": "Other", "role": "case_manager"},
        as_admin=True,
    )
    token = await world.post(f"/users/{other['id']}/tokens", {}, as_admin=True)
    headers = {"Authorization": f"Bearer {token['token']}"}
    url = f"/api/v1/connections/{world.connection_id}"
    assert (await world.api.get(url, headers=headers)).status_code == 404
    assert (await world.api.post(f"{url}/sync", headers=headers)).status_code == 404
    assert (await world.api.get(f"{url}/runs", headers=headers)).status_code == 404
    assert (await world.api.get("/api/v1/connections", headers=headers)).json()["items"] == []
    admin_view = (await world.api.get("/api/v1/connections", headers=world.admin)).json()["items"]
    assert [c["id"] for c in admin_view] == [str(world.connection_id)]
