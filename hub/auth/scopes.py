"""Scopes are tiers of permission. Every endpoint names the one it needs; a client holds a subset."""

from __future__ import annotations

from protocol.models.common import OrgKind

SCOPES: dict[str, str] = {
    "org:read": "read your organization, its keys and its clients",
    "org:admin": "register and rotate your organization's keys and manage its clients",
    "agreements:read": "read the supply agreements your organization is party to",
    "agreements:write": "propose (OEM), accept or decline (supplier) supply agreements",
    "kpi:write": "submit signed KPI reports (supplier)",
    "kpi:read": "read KPI reports your agreements entitle you to",
    "rules:admin": "write an OEM's rules",
    "rules:read": "read an OEM's rules and standings",
    "standings:read": "read standings and your inbox",
    "webhooks:admin": "subscribe webhooks to your organization's events, rotate their secrets, replay deliveries",
    "events:read": "stream your organization's events",
    "rooms:read": "read the joint investigation rooms your organization is a member of",
    "rooms:write": "open rooms, join them, upload encrypted datasets, annotate, write the 8D record, close",
    "genealogy:write": "import your organization's part types, plants, lots, serial parts, links, shipments, inventory",
    "genealogy:read": "read your organization's genealogy records",
    "operator:admin": "register organizations and verify the audit chain (operator only)",
    "trace:read": "trace lots forward and backward: your own and your direct partners' assets, counts for the rest",
    "alerts:read": "read the quality notifications your organization sent or received, and its containment actions",
    "alerts:write": "create, send, answer, forward and close quality notifications (investigations and alerts)",
    "containment:write": "acknowledge and close the containment actions of your organization's plants",
    "lab:write": "accept your lab's part of agreements and issue signed measurement attestations (lab only)",
    "certificates:issue": "issue certificates as signed credentials, suspend, reinstate and withdraw them (certifier only)",
    "certificates:read": "read the certificates your organization issued, holds, or that suppliers shared with it",
    "certificates:share": "share your organization's certificates with a customer, or stop sharing them (supplier)",
}

# Rules are an OEM's own: no other kind reads or writes them. Standings concern the OEM and the supplier.
_RULES = frozenset({"rules:admin", "rules:read"})

# A lab sees the agreements it is named in (agreements:read, through its own view) and issues measurements; it
# never reads KPI reports, standings, genealogy, traces or notifications, and nobody but a lab issues measurements.
_LAB_ONLY = frozenset({"lab:write"})
_LAB = frozenset(
    {
        "org:read",
        "org:admin",
        "agreements:read",
        "lab:write",
        "webhooks:admin",
        "events:read",
        "rooms:read",
        "rooms:write",
    }
)

# A certification body is a kind of its own, not a lab with a flag: it needs none of a lab's scopes (agreements,
# measurements, rooms), a lab none of its (certificates), and an organization that both tests and certifies is two
# organizations with two keys, as accreditation keeps the two roles apart anyway. A certifier issues and manages
# its own certificates and reads nothing else: no agreements, KPI values, standings or genealogy.
_CERTIFIER_ONLY = frozenset({"certificates:issue"})
_CERTIFIER = frozenset(
    {"org:read", "org:admin", "certificates:issue", "certificates:read", "webhooks:admin", "events:read"}
)

# Scopes an organization kind may ever hold: a supplier can never be given the operator's powers by mistake.
_ALLOWED_BY_KIND: dict[OrgKind, frozenset[str]] = {
    OrgKind.OPERATOR: frozenset(SCOPES),
    OrgKind.OEM: frozenset(SCOPES)
    - {"operator:admin", "kpi:write", "certificates:share"}
    - _LAB_ONLY
    - _CERTIFIER_ONLY,
    OrgKind.SUPPLIER: frozenset(SCOPES) - {"operator:admin"} - _RULES - _LAB_ONLY - _CERTIFIER_ONLY,
    OrgKind.LAB: _LAB,
    OrgKind.CERTIFIER: _CERTIFIER,
}


def default_scopes(kind: OrgKind) -> list[str]:
    return sorted(_ALLOWED_BY_KIND[kind])


def check_grantable(kind: OrgKind, scopes: list[str]) -> None:
    """Raise ValueError naming the first scope that does not exist or that this kind of organization may not hold."""
    for scope in scopes:
        if scope not in SCOPES:
            raise ValueError(f"unknown scope '{scope}'")
        if scope not in _ALLOWED_BY_KIND[kind]:
            raise ValueError(f"an organization of kind '{kind.value}' may not hold the scope '{scope}'")
