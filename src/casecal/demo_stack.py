"""The offline demo stack: CaseCal's demo settings, and the emulated Google and Microsoft (with
the mail catcher) in a process of their own, seeded so a newcomer can click through the whole
flow (admin consent included) without any network. Nothing is shared in memory between CaseCal
and the "providers": they talk over loopback HTTP and SMTP, as with the real services."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from casecal.config import Settings
from casecal.emulators.combined import Emulators, build_emulators
from casecal.mailcatcher import MailCatcher, mail_routes

GOOGLE_CLIENT = ("casecal-demo-google", "demo-google-secret")
MICROSOFT_CLIENT = ("casecal-demo-microsoft", "demo-microsoft-secret")
DEMO_DOMAIN = "rivera-okafor.example"
SSO_CLIENT = ("casecal-demo-sso", "demo-sso-secret")
"""CaseCal's single sign-on app in the SSO demo firm's Entra ID tenant."""
SSO_DOMAIN = "northwind-legal.example"
SSO_TENANT = "4b0d5c3a-2f1e-4d6b-9a8c-7e5f3d2c1b0a"
"""The SSO demo firm's Entra ID tenant: a fixed id, so CaseCal's seeding (another process)
names the tenant the emulators serve."""
SSO_PEOPLE = (
    (f"admin@{SSO_DOMAIN}", "Nadia Brooks"),
    (f"sam.reyes@{SSO_DOMAIN}", "Sam Reyes"),
    (f"lee.park@{SSO_DOMAIN}", "Lee Park"),
)
"""The tenant's people: the firm admin (a CaseCal account with the demo password) and two
case managers CaseCal does not know yet (created at their first single sign-on)."""
LOOPBACK = "127.0.0.1"
START_TIMEOUT = 30.0


@dataclass(frozen=True)
class DemoAddresses:
    """Where each part of the demo listens (all on loopback)."""

    port: int
    emulator_port: int
    smtp_port: int

    @property
    def casecal_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def emulators_url(self) -> str:
        return f"http://{LOOPBACK}:{self.emulator_port}"

    @property
    def mail_url(self) -> str:
        return f"{self.emulators_url}/mail"


def demo_settings(data_dir: Path, addresses: DemoAddresses) -> Settings:
    """CaseCal pointed at the emulators instead of Google and Microsoft, and at the mail
    catcher for SMTP. Everything else is the default install's (no ``secret_keys``: the key
    file in ``data_dir``; the embedded scheduler on)."""
    emulators_url = addresses.emulators_url
    return Settings(
        data_dir=data_dir,
        base_url=addresses.casecal_url,
        log_json=False,
        google_auth_base_url=f"{emulators_url}/google",
        google_token_url=f"{emulators_url}/google/token",
        google_api_base_url=f"{emulators_url}/google",
        google_client_id=GOOGLE_CLIENT[0],
        google_client_secret=GOOGLE_CLIENT[1],
        microsoft_auth_base_url=f"{emulators_url}/microsoft",
        microsoft_graph_base_url=f"{emulators_url}/microsoft",
        microsoft_client_id=MICROSOFT_CLIENT[0],
        microsoft_client_secret=MICROSOFT_CLIENT[1],
        smtp_host=LOOPBACK,
        smtp_port=addresses.smtp_port,
    )


def seed_demo_providers(emulators: Emulators, casecal_url: str) -> str:
    """Emulated accounts of the demo firm: a Microsoft 365 tenant that requires admin consent
    (the firm admin administers it; Maria and James use Outlook) and Google for Priya.
    Returns the tenant's id."""
    google, microsoft = emulators.google, emulators.microsoft
    google.register_client(*GOOGLE_CLIENT, [f"{casecal_url}/oauth/google/callback"])
    google.add_account(f"priya.shah@{DEMO_DOMAIN}", "Priya Shah")
    google.notifier.allow_http = True  # the demo runs on plain http://127.0.0.1
    microsoft.register_app(
        *MICROSOFT_CLIENT,
        [
            f"{casecal_url}/oauth/microsoft/callback",
            f"{casecal_url}/oauth/microsoft/adminconsent/callback",
        ],
    )
    tenant = microsoft.add_tenant(domain=DEMO_DOMAIN, admin_consent_required=True)
    microsoft.add_user(tenant, f"admin@{DEMO_DOMAIN}", "Dana Rivera", is_admin=True)
    microsoft.add_user(tenant, f"maria.lopez@{DEMO_DOMAIN}", "Maria Lopez")
    microsoft.add_user(tenant, f"james.okafor@{DEMO_DOMAIN}", "James Okafor")
    microsoft.allow_http_notification_urls = True
    seed_sso_tenant(emulators, casecal_url)
    return tenant


def seed_sso_tenant(emulators: Emulators, casecal_url: str) -> None:
    """The SSO demo firm's Entra ID tenant: its people sign in to CaseCal with it (CaseCal's
    SSO app) and connect their Outlook calendars (CaseCal's Microsoft app, which the tenant
    lets its users consent to themselves)."""
    microsoft = emulators.microsoft
    microsoft.register_app(*SSO_CLIENT, [f"{casecal_url}/sso/callback"])
    microsoft.add_tenant(tenant_id=SSO_TENANT, domain=SSO_DOMAIN)
    for index, (email, name) in enumerate(SSO_PEOPLE):
        microsoft.add_user(SSO_TENANT, email, name, is_admin=index == 0)


def build_demo_emulators(casecal_url: str, catcher: MailCatcher) -> Emulators:
    """The emulators as ``casecal emulators --demo`` serves them: seeded, with ``/mail``."""
    emulators = build_emulators(
        seed=2026, extra_routes=mail_routes(catcher), links=[("/mail", "Mail sent by CaseCal")]
    )
    seed_demo_providers(emulators, casecal_url)
    return emulators


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            sock.bind((LOOPBACK, port))
        except OSError:
            return True
    return False


def emulators_argv(addresses: DemoAddresses) -> list[str]:
    return [
        sys.executable, "-m", "casecal.cli", "emulators", "--demo",
        "--port", str(addresses.emulator_port), "--smtp-port", str(addresses.smtp_port),
        "--casecal-url", addresses.casecal_url,
    ]  # fmt: skip


def stop_when_orphaned(interval: float = 0.5) -> None:
    """In the emulators process: stop (SIGTERM, uvicorn's graceful exit) once the demo that
    started it is gone, even if it was killed before it could stop its child."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="stop-when-orphaned", daemon=True).start()


def exit_on_sigterm() -> None:
    """In the demo process: SIGTERM ends it like Ctrl+C does, through its clean-up (uvicorn
    re-raises the signal after its own graceful shutdown, and Python's default for SIGTERM
    would end the process there, leaving the emulators process behind)."""

    def leave(_signum: int, _frame: object) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, leave)


class DemoStartError(RuntimeError):
    """The emulators process did not come up."""


def _wait_until_serving(process: subprocess.Popen[bytes], url: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise DemoStartError(f"the emulators process exited with code {process.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise DemoStartError(f"the emulators did not answer at {url} within {START_TIMEOUT:.0f} s")


@contextmanager
def emulators_process(addresses: DemoAddresses) -> Iterator[subprocess.Popen[bytes]]:
    """``casecal emulators --demo`` as a child process, serving once this yields, and
    terminated (then killed, if it lingers) when the block ends."""
    argv = emulators_argv(addresses)
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL)  # noqa: S603 - our own command
    try:
        _wait_until_serving(process, f"{addresses.emulators_url}/mail.json")
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
