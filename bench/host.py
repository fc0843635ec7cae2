"""CaseCal's side of a sample: a fresh SQLite database in a temp dir, one firm, one case manager
with an active connection, the sync engine, and host edits through the service layer."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bench.workload import HostSpec
from casecal.providers.base import Provider
from casecal.services.access import Actor
from casecal.services.appointments import create_appointment, update_appointment
from casecal.services.entries import delete_entry
from casecal.services.firms import create_firm
from casecal.services.users import create_user
from casecal.store.db import make_engine, make_sessionmaker
from casecal.store.migrate import upgrade_async
from casecal.store.tables import (
    Appointment,
    Backfill,
    Connection,
    ConnectionStatus,
    ProviderName,
    Role,
)
from casecal.sync.engine import PassReport, SyncEngine

BASE_URL = "http://casecal.bench"


@dataclass
class Host:
    tmp: tempfile.TemporaryDirectory[str]
    db: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    manager: Actor
    connection_id: uuid.UUID
    engine: SyncEngine

    @classmethod
    async def create(
        cls, provider_name: str, email: str, calendar_id: str, provider: Provider
    ) -> Host:
        tmp = tempfile.TemporaryDirectory(prefix="casecal-bench-")
        url = f"sqlite+aiosqlite:///{Path(tmp.name) / 'bench.db'}"
        await upgrade_async(url)
        db = make_engine(url)
        sessionmaker = make_sessionmaker(db)
        async with sessionmaker() as session:
            firm = await create_firm(
                session, name="Bench Firm", admin_email=f"admin.{email}", admin_name="Admin"
            )
            admin = Actor(user_id=firm.admin_user_id, firm_id=firm.firm_id, role=Role.FIRM_ADMIN)
            user = await create_user(
                session, admin, {"email": email, "name": "Case Manager", "role": "case_manager"}
            )
            manager = Actor.of(user)
        connection_id = uuid.uuid4()
        async with sessionmaker() as session, session.begin():
            session.add(
                Connection(
                    id=connection_id, firm_id=firm.firm_id, user_id=manager.user_id,
                    provider=ProviderName(provider_name), status=ConnectionStatus.ACTIVE,
                    account_email=email, calendar_id=calendar_id, backfill=Backfill.UPCOMING,
                    activated_at=datetime.now(UTC),
                )
            )  # fmt: skip

        async def provider_for(_connection: Connection) -> Provider:
            return provider

        engine = SyncEngine(sessionmaker, provider_for, base_url=BASE_URL)
        return cls(tmp, db, sessionmaker, manager, connection_id, engine)

    async def sync(self) -> PassReport:
        report = await self.engine.run_pass(self.manager.firm_id, self.connection_id)
        if report.outcome != "ok":
            raise RuntimeError(f"sync pass ended {report.outcome}: {report.error}")
        return report

    async def add(self, specs: Sequence[HostSpec]) -> list[uuid.UUID]:
        ids: list[uuid.UUID] = []
        async with self.sessionmaker() as session:
            for spec in specs:
                ids.append((await create_appointment(session, self.manager, spec.fields())).id)
        return ids

    async def retitle(self, entry_ids: Sequence[uuid.UUID], suffix: str) -> None:
        async with self.sessionmaker() as session:
            for entry_id in entry_ids:
                await update_appointment(
                    session,
                    self.manager,
                    entry_id,
                    {"title": f"Edited {suffix} {entry_id.hex[:6]}"},
                )

    async def delete(self, entry_ids: Sequence[uuid.UUID]) -> None:
        async with self.sessionmaker() as session:
            for entry_id in entry_ids:
                await delete_entry(session, self.manager, Appointment, entry_id)

    async def close(self) -> None:
        await self.db.dispose()
        self.tmp.cleanup()
