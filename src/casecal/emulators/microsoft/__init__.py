"""Microsoft Graph (calendar) and the Microsoft identity platform, emulated: stateful, strict,
with fault injection, throttling and a request log. Documented in docs/emulators/microsoft.md."""

from casecal.emulators.microsoft.app import MicrosoftEmulator
from casecal.emulators.microsoft.consent import IdentityError
from casecal.emulators.microsoft.errors import GraphError

__all__ = ["GraphError", "IdentityError", "MicrosoftEmulator"]
