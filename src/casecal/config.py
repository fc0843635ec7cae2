"""Settings, read from the environment (prefix ``CASECAL_``); nothing is built at import time."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from casecal.domain.client_address import trusted_networks

MICROSOFT_SCOPES = ("openid", "email", "profile", "offline_access", "User.Read",
                    "Calendars.ReadWrite")  # fmt: skip
GOOGLE_SCOPES = (
    "openid",
    "email",
    "profile",
    "https://www.googleapis.com/auth/calendar.events",
    "https://www.googleapis.com/auth/calendar.calendarlist.readonly",
)


class Settings(BaseSettings):
    """Everything CaseCal can be told. Each provider's identity and API base URLs are settings,
    so the same code talks to the real services, to the bundled emulators, or to anything else
    that speaks their protocol."""

    model_config = SettingsConfigDict(env_prefix="CASECAL_", env_file=".env", extra="ignore")

    data_dir: Path = Path("data")
    database_url: str = ""
    """SQLAlchemy async URL. Empty means a SQLite file ``casecal.db`` in ``data_dir``."""

    secret_keys: list[str] = Field(default_factory=list)
    """Signing / encryption keys, newest first; older keys still decrypt (rotation)."""

    base_url: str = "http://127.0.0.1:8000"
    log_json: bool | None = None
    """JSON logs; ``None`` means JSON when stderr is not a terminal."""
    log_level: str = "INFO"

    google_auth_base_url: str = "https://accounts.google.com"
    google_token_url: str = "https://oauth2.googleapis.com/token"  # noqa: S105 - a URL, not a secret
    google_api_base_url: str = "https://www.googleapis.com"
    google_client_id: str = ""
    google_client_secret: str = ""

    microsoft_auth_base_url: str = "https://login.microsoftonline.com"
    microsoft_graph_base_url: str = "https://graph.microsoft.com"
    microsoft_client_id: str = ""
    microsoft_client_secret: str = ""
    microsoft_scopes: list[str] = Field(default_factory=lambda: list(MICROSOFT_SCOPES))
    google_scopes: list[str] = Field(default_factory=lambda: list(GOOGLE_SCOPES))

    smtp_host: str = ""
    """Empty: emails are logged, not sent."""
    smtp_port: int = 25
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    mail_from: str = "CaseCal <no-reply@casecal.local>"

    session_cookie_name: str = "casecal_session"
    session_hours: int = 12
    login_attempts_per_15_minutes: int = 10
    trusted_proxies: list[str] = Field(default_factory=list)
    """Addresses or networks (CIDR) of reverse proxies whose ``X-Forwarded-For`` is believed;
    from anyone else the header is ignored and the peer address is the client."""

    metrics_token: str = ""
    """Bearer token ``/metrics`` requires. Empty: ``/metrics`` answers loopback clients only."""

    webhook_base_url: str = ""
    """Public URL providers POST notifications to; empty means ``base_url``."""
    poll_minutes: int = 15
    """Polling fallback for connections without a healthy push channel."""
    graph_mailbox_requests: int = 10_000
    graph_mailbox_window_seconds: float = 600.0
    """Graph's documented per-app, per-mailbox budget; requests are paced to stay inside it."""
    firm_requests_per_minute: int = 6_000
    """Requests one firm may send per minute (per process; 0 = no limit), so one firm cannot
    use up the API quota every firm shares. A batch counts each of its parts."""
    embedded_scheduler: bool = True
    """Run the in-process scheduler in ``casecal serve`` (off when workers run separately)."""
    queue_triggers: bool = False
    """Scale-out (PostgreSQL, ``casecal worker`` processes, the embedded scheduler off): hand
    each trigger (an entry saved, a webhook, a connection activated) to the workers' queue at
    once, instead of leaving it to their periodic sweep."""

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_networks(cls, value: list[str]) -> list[str]:
        trusted_networks(value)  # a malformed entry fails at start-up, named, not at sign-in
        return value

    @model_validator(mode="after")
    def _default_database(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.data_dir / 'casecal.db'}"
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def cookie_secure(self) -> bool:
        """Secure cookies whenever CaseCal is served over HTTPS."""
        return self.base_url.startswith("https://")
