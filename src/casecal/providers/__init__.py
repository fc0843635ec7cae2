"""Provider adapters behind one protocol: Google Calendar and Microsoft Graph over async httpx,
the shared HTTP layer under them, and the error taxonomy they raise."""

from casecal.providers._http import HttpLayer, RetryPolicy, parse_retry_after
from casecal.providers.base import (
    AccountIdentity,
    CalendarInfo,
    Capabilities,
    ChangePage,
    CreateOp,
    DeleteOp,
    Provider,
    PushChannel,
    RemoteEvent,
    SyncWindow,
    UpdateOp,
    WriteOp,
    WriteResult,
)
from casecal.providers.errors import (
    AuthExpired,
    ConsentRequired,
    CursorExpired,
    Gone,
    NotFound,
    PermanentError,
    PreconditionFailed,
    ProviderError,
    RateLimited,
    Transient,
)
from casecal.providers.google import GoogleCalendarProvider
from casecal.providers.msgraph import MicrosoftGraphProvider
from casecal.providers.tokens import RefreshingTokenSource, TokenSet, TokenSource

__all__ = [
    "AccountIdentity",
    "AuthExpired",
    "CalendarInfo",
    "Capabilities",
    "ChangePage",
    "ConsentRequired",
    "CreateOp",
    "CursorExpired",
    "DeleteOp",
    "Gone",
    "GoogleCalendarProvider",
    "HttpLayer",
    "MicrosoftGraphProvider",
    "NotFound",
    "PermanentError",
    "PreconditionFailed",
    "Provider",
    "ProviderError",
    "PushChannel",
    "RateLimited",
    "RefreshingTokenSource",
    "RemoteEvent",
    "RetryPolicy",
    "SyncWindow",
    "TokenSet",
    "TokenSource",
    "Transient",
    "UpdateOp",
    "WriteOp",
    "WriteResult",
    "parse_retry_after",
]
