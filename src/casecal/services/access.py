"""The caller of a use case and the role rules every service checks.

Roles: a firm admin manages everything in the firm (users, teams, subscription, seats, cases,
entries). A case manager reads everything in the firm, manages cases and entries, and may own
only their own appointments. Staff read everything and change nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from casecal.errors import PermissionDenied
from casecal.store.tables import Role, User


@dataclass(frozen=True)
class Actor:
    user_id: uuid.UUID
    firm_id: uuid.UUID
    role: Role

    @classmethod
    def of(cls, user: User) -> Actor:
        return cls(user_id=user.id, firm_id=user.firm_id, role=user.role)

    @property
    def is_admin(self) -> bool:
        return self.role is Role.FIRM_ADMIN


def require_admin(actor: Actor, action: str) -> None:
    if not actor.is_admin:
        raise PermissionDenied(f"only a firm admin may {action}")


def require_editor(actor: Actor, action: str) -> None:
    """Firm admins and case managers change cases and entries; staff only read."""
    if actor.role not in (Role.FIRM_ADMIN, Role.CASE_MANAGER):
        raise PermissionDenied(f"only a firm admin or a case manager may {action}")


def require_admin_or_self(actor: Actor, user_id: uuid.UUID, action: str) -> None:
    if not actor.is_admin and actor.user_id != user_id:
        raise PermissionDenied(f"only a firm admin or the user themselves may {action}")
