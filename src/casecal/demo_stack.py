"""The offline demo stack: the emulated Google and Microsoft next to CaseCal, seeded so a
newcomer can click through the whole flow (admin consent included) without any network."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from starlette.types import ASGIApp

from casecal.config import Settings
from casecal.emulators.combined import Emulators, build_emulators

GOOGLE_CLIENT = ("casecal-demo-google", "demo-google-secret")
MICROSOFT_CLIENT = ("casecal-demo-microsoft", "demo-microsoft-secret")
DEMO_DOMAIN = "rivera-okafor.example"


@dataclass
class DemoStack:
    settings: Settings
    emulators: Emulators
    emulators_url: str
    tenant_id: str


def demo_settings(data_dir: Path, port: int, emulators_url: str) -> Settings:
    """CaseCal pointed at the emulators instead of Google and Microsoft."""
    return Settings(
        data_dir=data_dir,
        base_url=f"http://127.0.0.1:{port}",
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
    )


def build_demo_stack(data_dir: Path, port: int, emulator_port: int) -> DemoStack:
    """Emulated accounts of the demo firm: a Microsoft 365 tenant that requires admin consent
    (the firm admin administers it; Maria and James use Outlook) and Google for Priya."""
    emulators_url = f"http://127.0.0.1:{emulator_port}"
    settings = demo_settings(data_dir, port, emulators_url)
    emulators = build_emulators(seed=2026)
    base = settings.base_url
    google, microsoft = emulators.google, emulators.microsoft
    google.register_client(*GOOGLE_CLIENT, [f"{base}/oauth/google/callback"])
    google.add_account(f"priya.shah@{DEMO_DOMAIN}", "Priya Shah")
    google.notifier.allow_http = True  # the demo runs on plain http://127.0.0.1
    microsoft.register_app(
        *MICROSOFT_CLIENT,
        [f"{base}/oauth/microsoft/callback", f"{base}/oauth/microsoft/adminconsent/callback"],
    )
    tenant = microsoft.add_tenant(domain=DEMO_DOMAIN, admin_consent_required=True)
    microsoft.add_user(tenant, f"admin@{DEMO_DOMAIN}", "Dana Rivera", is_admin=True)
    microsoft.add_user(tenant, f"maria.lopez@{DEMO_DOMAIN}", "Maria Lopez")
    microsoft.add_user(tenant, f"james.okafor@{DEMO_DOMAIN}", "James Okafor")
    microsoft.allow_http_notification_urls = True
    return DemoStack(settings, emulators, emulators_url, tenant)


async def serve_demo(stack: DemoStack, casecal_app: ASGIApp, port: int, emulator_port: int) -> None:
    """Serve the emulators and CaseCal side by side until interrupted."""
    emulators = uvicorn.Config(
        stack.emulators.app, host="127.0.0.1", port=emulator_port, log_level="warning"
    )
    casecal = uvicorn.Config(casecal_app, host="127.0.0.1", port=port, log_level="warning")
    servers = [uvicorn.Server(emulators), uvicorn.Server(casecal)]
    await asyncio.gather(*(server.serve() for server in servers))
