"""Records read as a person reads them: a conflict names the fields that differed with both
values in the viewer's zone, the audit log names actions, people and calendars (no raw keys or
ids), and the consent panel names each tenant's domain beside its id."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tests.integration.ui.conftest import UiFirm, signed_in_page

from casecal.services import audit
from casecal.store.tables import (
    ConflictRecord,
    Connection,
    ConnectionStatus,
    EntryKind,
    ProviderName,
    TenantConsent,
)
from casecal.web.ui.audit_view import Names, action_label, detail_line, target_label
from casecal.web.ui.conflict_view import describe

PAGE = "/calendar-sync"


def test_a_conflict_names_the_fields_that_differed_in_the_viewers_zone() -> None:
    kept = {"title": "Client call", "start": "2026-03-04T16:00:00+00:00",
            "end": "2026-03-04T17:00:00+00:00", "time_zone": "UTC", "location": "",
            "description": "", "fingerprint": "abc"}  # fmt: skip
    other = kept | {"start": "2026-03-04T10:00:00-05:00", "end": "2026-03-04T11:00:00-05:00",
                    "fingerprint": "def", "location": "Room 2"}  # fmt: skip
    view = describe("remote", kept, other, "America/New_York")
    assert [d.label for d in view.diffs] == ["Start", "End", "Location"]
    start = view.diffs[0]
    assert (start.kept, start.other) == ("Wed 04 Mar 2026, 11:00 EST", "Wed 04 Mar 2026, 10:00 EST")
    assert view.diffs[2].kept == "(empty)"
    assert view.kept_side == "calendar"
    assert "start, end, location differed" in view.summary
    same_instant = other | {"start": "2026-03-04T16:00:00+00:00", "end": kept["end"]}
    assert "Start" not in [d.label for d in describe("host", same_instant, kept, "UTC").diffs]


def test_a_deleted_side_and_an_occurrence_read_plainly() -> None:
    view = describe("host", {"title": "Hearing"}, {"deleted": True}, "UTC")
    assert view.summary == "The calendar version had deleted it; the CaseCal version was kept."
    occurrence = describe(
        "remote",
        {"occurrence": True, "original_start": "2026-03-10T09:00:00", "title": "Standup (moved)",
         "start": "2026-03-10T10:00:00"},
        {"occurrence": True, "original_start": "2026-03-10T09:00:00", "title": "Standup",
         "start": "2026-03-10T09:00:00"},
        "Europe/Berlin",
    )  # fmt: skip
    assert occurrence.occurrence == "Tue 10 Mar 2026, 09:00"
    assert [(d.label, d.kept, d.other) for d in occurrence.diffs] == [
        ("Title", "Standup (moved)", "Standup"),
        ("Start", "Tue 10 Mar 2026, 10:00", "Tue 10 Mar 2026, 09:00"),
    ]


def test_audit_events_read_as_words_and_names() -> None:
    ann, conn = uuid.uuid4(), uuid.uuid4()
    names = Names({ann: "Ann Lee"}, {conn: (ann, "microsoft")}, {"tid-1": "contoso.com"})
    assert action_label("connection.authorized") == "Calendar authorised"
    assert action_label("seat.removed") == "Seat removed"  # any future action reads as words
    assert target_label(f"connection:{conn}", names) == "Ann Lee's Microsoft 365 calendar"
    assert target_label(f"user:{ann}", names) == "Ann Lee"
    assert target_label(f"user:{uuid.uuid4()}", names) == "a former user"
    assert target_label("tenant:tid-1", names) == "Microsoft organisation contoso.com"
    assert detail_line("token.reauth_notice", {"user_id": str(ann), "reason": "revoked"},
                       names) == "Ann Lee · revoked"  # fmt: skip
    paused = {"user_id": str(ann), "from": "active", "to": "paused_no_seat"}
    assert action_label("connection.paused") == "Calendar sync paused"
    assert detail_line("connection.paused", paused, names) == "no seat"
    assert target_label("subscription", names) == "the Calendar Sync subscription"
    seat = {"email": "ann@contoso.com"}
    assert detail_line("seat.removed", seat, names) == "ann@contoso.com"


async def test_the_managers_conflict_shows_both_values_not_snapshots(
    client: httpx.AsyncClient, ui_firm: UiFirm, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    conn_id = uuid.uuid4()
    async with sessionmaker() as session:
        session.add(Connection(id=conn_id, firm_id=ui_firm.id, user_id=ui_firm.cm1.id,
                               provider=ProviderName.GOOGLE, status=ConnectionStatus.ACTIVE,
                               refresh_token_enc="x"))  # fmt: skip
        await session.flush()
        session.add(ConflictRecord(
            firm_id=ui_firm.id, connection_id=conn_id, entry_kind=EntryKind.APPOINTMENT,
            entry_id=uuid.uuid4(), winner="remote",
            winner_snapshot={"title": "Client call", "start": "2026-03-04T16:00:00+00:00"},
            loser_snapshot={"title": "Client call", "start": "2026-03-04T15:00:00+00:00"},
        ))  # fmt: skip
        await session.commit()
    page = await signed_in_page(client, ui_firm.cm1.email, PAGE)
    row = page.text.split('<th scope="row">Start</th>', 1)[1].split("</tr>", 1)[0]
    assert "Wed 04 Mar 2026, 11:00 EST" in row  # kept, in the viewer's zone
    assert "Wed 04 Mar 2026, 10:00 EST" in row  # the other version
    assert "2026-03-04T15:00:00+00:00" not in page.text
    assert "Title</th>" not in page.text  # the title did not differ


async def test_the_audit_log_and_consent_panel_name_people_calendars_and_domains(
    client: httpx.AsyncClient, ui_firm: UiFirm, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    conn_id = uuid.uuid4()
    async with sessionmaker() as session:
        session.add(Connection(id=conn_id, firm_id=ui_firm.id, user_id=ui_firm.cm1.id,
                               provider=ProviderName.MICROSOFT, tenant_id="9f0c-tenant",
                               status=ConnectionStatus.AWAITING_CONSENT))  # fmt: skip
        session.add(TenantConsent(firm_id=ui_firm.id, tenant_id="9f0c-tenant"))
        await session.flush()
        details = {"account_email": "carla@alpha.test"}
        audit.record(session, ui_firm.id, ui_firm.cm1.id, "connection.authorized",
                     f"connection:{conn_id}", details)  # fmt: skip
        audit.record(session, ui_firm.id, ui_firm.cm1.id, "consent.required", "tenant:9f0c-tenant")
        await session.commit()
    page = await signed_in_page(client, ui_firm.admin.email, PAGE)
    log = page.text.split('id="audit-title"', 1)[1]
    assert "Calendar authorised" in log
    assert "Carla Manager&#39;s Microsoft 365 calendar" in log
    assert "Microsoft organisation alpha.test" in log  # the waiting manager's domain
    for raw in ("connection.authorized", f"connection:{conn_id}", str(ui_firm.cm1.id),
                "consent.required"):  # fmt: skip
        assert raw not in log
    panel = page.text.split('id="consent-title"', 1)[1].split("</section>", 1)[0]
    assert "alpha.test <small>tenant <code>9f0c-tenant</code>" in panel
