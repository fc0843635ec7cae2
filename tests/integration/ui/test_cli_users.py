"""``casecal user set-password``: the new password signs in, the old one and the user's open
sessions stop working, and unknown users or short passwords are refused."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tests.integration.ui.conftest import PASSWORD, UiFirm, sign_in
from typer.testing import CliRunner, Result

from casecal.cli_users import app
from casecal.store.tables import WebSession


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_set_password_resets_sign_in_and_ends_sessions(
    client: httpx.AsyncClient,
    ui_firm: UiFirm,
    database_url: str,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    assert (await sign_in(client, ui_firm.cm1.email)).status_code == 303
    env = {"CASECAL_DATABASE_URL": database_url}
    runner = CliRunner()
    done = await _invoke(runner, ["set-password", "--email", "CM1@alpha.test",
                                  "--password", "a brand new secret"], env)  # fmt: skip
    assert done.exit_code == 0, done.output
    async with sessionmaker() as session:
        assert list(await session.scalars(select(WebSession))) == []
    client.cookies.clear()
    assert (await sign_in(client, ui_firm.cm1.email, PASSWORD)).status_code == 401
    assert (await sign_in(client, ui_firm.cm1.email, "a brand new secret")).status_code == 303

    unknown = await _invoke(runner, ["set-password", "--email", "x@alpha.test",
                                     "--password", "long enough"], env)  # fmt: skip
    assert unknown.exit_code == 1
    short = await _invoke(runner, ["set-password", "--email", ui_firm.cm1.email,
                                   "--password", "short"], env)  # fmt: skip
    assert short.exit_code == 2
    prompted = await _invoke(
        runner, ["set-password", "--email", ui_firm.cm2.email], env, "prompted pw\nprompted pw\n"
    )
    assert prompted.exit_code == 0, prompted.output
    client.cookies.clear()
    assert (await sign_in(client, ui_firm.cm2.email, "prompted pw")).status_code == 303


async def _invoke(
    runner: CliRunner, args: list[str], env: dict[str, str], stdin: str | None = None
) -> Result:
    return await asyncio.to_thread(runner.invoke, app, args, env=env, input=stdin)
