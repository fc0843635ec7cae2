"""The demo firm's calendar reads like a real office's: seeded on a Friday in December, no
review falls on a Saturday, no hearing, interview or deadline on a weekend or on Christmas."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casecal.config import Settings
from casecal.demo import ZONE, seed_demo, working_day
from casecal.store.tables import Appointment, CourtDate, Interview, StepReminder

FRIDAY = date(2026, 12, 4)
"""Seeded that day, the old offsets put the weekly review on Saturdays and an interview on
25 December."""


def _working(day: date) -> bool:
    return day.weekday() < 5 and (day.month, day.day) not in {(12, 25), (1, 1), (7, 4)}


def test_working_day_skips_weekends_and_holidays_both_ways() -> None:
    assert working_day(date(2026, 12, 5)) == date(2026, 12, 7)  # Saturday -> Monday
    assert working_day(date(2026, 12, 25)) == date(2026, 12, 28)  # Christmas (Fri) -> Monday
    assert working_day(date(2026, 12, 27), -1) == date(2026, 12, 24)
    assert working_day(date(2026, 12, 8)) == date(2026, 12, 8)


async def test_seeded_days_are_working_days(
    app_settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await seed_demo(app_settings, today=FRIDAY)
    zone = ZoneInfo(ZONE)
    async with sessionmaker() as session:
        days: dict[str, date] = {}
        for court in await session.scalars(select(CourtDate)):
            days[f"court date {court.start_at}"] = court.start_at.astimezone(zone).date()
        for interview in await session.scalars(select(Interview)):
            days[f"interview {interview.start_at}"] = interview.start_at.astimezone(zone).date()
        for step in await session.scalars(select(StepReminder)):
            days[f"deadline {step.due_date}"] = step.due_date
        for row in await session.scalars(select(Appointment)):
            first = row.start_date if row.all_day else row.starts_at.astimezone(zone).date()
            assert first is not None
            days[f"{row.title} {first}"] = first
    assert len(days) >= 12, days
    assert {what: day for what, day in days.items() if not _working(day)} == {}
