"""A change saved in CaseCal starts its pass at once: the commit that wrote outbox rows kicks
the active connections of those users (the embedded scheduler, or in scale-out the workers'
queue), so nothing waits for the periodic sweep."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import text
from sync_world import World

from casecal.config import Settings
from casecal.services.firms import create_firm
from casecal.store.tables import Backfill, Connection, ConnectionStatus, ProviderName
from casecal.sync.queue import SYNC_TASK, apply_queue_schema
from casecal.web.app import create_app

SOON = datetime.now(UTC).replace(microsecond=0, second=0, minute=0) + timedelta(days=3)


def _body(title: str) -> dict[str, str]:
    return {"title": title, "start_at": SOON.isoformat(),
            "end_at": (SOON + timedelta(hours=1)).isoformat(), "time_zone": "UTC"}  # fmt: skip


async def test_saving_an_entry_kicks_its_case_managers_connection(world: World) -> None:
    scheduler = world.app.state.scheduler
    before = scheduler.stats.kicks
    await world.post("/appointments", _body("Client meeting"))
    await world.app.state.outbox_trigger.settle()
    assert scheduler.stats.kicks == before + 1
    assert scheduler.depth == 1  # one pass pending for the connection


async def test_a_failed_save_kicks_nothing(world: World) -> None:
    scheduler = world.app.state.scheduler
    before = scheduler.stats.kicks
    bad = {**_body("No end"), "end_at": (SOON - timedelta(hours=1)).isoformat()}
    response = await world.api.post("/api/v1/appointments", json=bad, headers=world.manager)
    assert response.status_code == 422
    await world.app.state.outbox_trigger.settle()
    assert scheduler.stats.kicks == before


async def test_a_user_without_a_connection_kicks_nothing(world: World) -> None:
    await world.update_connection(status=ConnectionStatus.NEEDS_REAUTH)
    scheduler = world.app.state.scheduler
    before = scheduler.stats.kicks
    await world.post("/appointments", _body("Client meeting"))
    await world.app.state.outbox_trigger.settle()
    assert scheduler.stats.kicks == before


@pytest.mark.postgres
async def test_scale_out_hands_the_trigger_to_the_workers_queue(
    postgres_url: str, tmp_path: Path
) -> None:
    """With queue_triggers on PostgreSQL, the web process enqueues the pass itself: a job for
    the connection is waiting the moment the save returns, before any sweep."""
    # Scale-out's settings, the point of this test: the workers run passes, not this process.
    # No secret_keys: the key file in data_dir, as in the default install.
    settings = Settings(
        data_dir=tmp_path, database_url=postgres_url,
        base_url="http://testserver", embedded_scheduler=False, queue_triggers=True,
    )  # fmt: skip
    await apply_queue_schema(settings)
    app = create_app(settings)
    async with LifespanManager(app):
        sessionmaker = app.state.sessionmaker
        async with sessionmaker() as session, session.begin():
            await session.execute(text("TRUNCATE procrastinate_jobs CASCADE"))
        async with sessionmaker() as session:
            firm = await create_firm(
                session, name=f"Q {uuid.uuid4().hex[:6]}", admin_email="a@q.example",
                admin_name="A",
            )  # fmt: skip
        connection_id = uuid.uuid4()
        async with sessionmaker() as session, session.begin():
            session.add(Connection(
                id=connection_id, firm_id=firm.firm_id, user_id=firm.admin_user_id,
                provider=ProviderName.GOOGLE, status=ConnectionStatus.ACTIVE,
                calendar_id="primary", backfill=Backfill.UPCOMING,
                activated_at=datetime.now(UTC),
            ))  # fmt: skip
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {firm.token}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as api:
            for title in ("First", "Second"):
                response = await api.post("/api/v1/appointments", json=_body(title),
                                          headers=headers)  # fmt: skip
                assert response.status_code == 201, response.text
        await app.state.outbox_trigger.settle()
        query = text(
            "SELECT args->>'connection_id', status::text FROM procrastinate_jobs "
            "WHERE task_name = :t"
        )
        async with sessionmaker() as session:
            rows = (await session.execute(query, {"t": SYNC_TASK})).all()
        # Two saves, one pending pass: the queueing lock coalesced the second trigger.
        assert rows == [(str(connection_id), "todo")]
