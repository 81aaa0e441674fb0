"""Roles are the permission tiers of a person: each a fixed set of the existing scopes, never more than the
person's organization (its kind) may hold."""

from __future__ import annotations

from enum import StrEnum

from hub.auth.scopes import SCOPES, default_scopes
from protocol.models.common import OrgKind


class Role(StrEnum):
    VIEWER = "viewer"
    SQE = "sqe"
    PURCHASING = "purchasing"
    PLANT = "plant"
    ADMIN = "admin"


_READ = frozenset(
    {
        "org:read",
        "agreements:read",
        "kpi:read",
        "rules:read",
        "standings:read",
        "events:read",
        "rooms:read",
        "genealogy:read",
        "trace:read",
        "alerts:read",
        "certificates:read",
    }
)

# The one table: what each role may do, before the organization's kind narrows it.
ROLE_SCOPES: dict[Role, frozenset[str]] = {
    Role.VIEWER: _READ,
    # The supplier-quality engineer sets agreements and rules, reports KPIs (a supplier's), raises and answers
    # quality notifications and runs investigation rooms.
    Role.SQE: _READ
    | {"agreements:write", "rules:admin", "kpi:write", "alerts:write", "rooms:write", "genealogy:write"},
    # Purchasing decides on agreements and watches standings and alerts.
    Role.PURCHASING: _READ | {"agreements:write"},
    # A plant contains: acknowledges and closes containment actions, keeps its lots and inventory current.
    Role.PLANT: _READ | {"containment:write", "genealogy:write"},
    Role.ADMIN: frozenset(SCOPES),
}


def scopes_for(role: Role, kind: OrgKind) -> frozenset[str]:
    """What a person of ``role`` in an organization of ``kind`` may do."""
    return ROLE_SCOPES[role] & frozenset(default_scopes(kind))


def parse_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        names = ", ".join(role.value for role in Role)
        raise ValueError(f"unknown role '{value}' (one of {names})") from None
