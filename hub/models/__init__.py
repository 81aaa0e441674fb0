"""Every database table, imported here so that Alembic sees the whole metadata."""

from hub.models.agreements import SupplyAgreement
from hub.models.audit import AuditCheckpoint, AuditEntry
from hub.models.base import Base
from hub.models.events import Event, Webhook, WebhookDelivery
from hub.models.kpis import IdempotencyRecord, KpiAttestation, KpiReport
from hub.models.orgs import ApiClient, Organization, OrgKey, UsedClientAssertion
from hub.models.rules import (
    InboxNotification,
    Investigation,
    PeriodOutcome,
    Rule,
    RuleSeriesState,
    RuleVersion,
    Standing,
    StandingChange,
)

__all__ = [
    "ApiClient",
    "AuditCheckpoint",
    "AuditEntry",
    "Base",
    "Event",
    "IdempotencyRecord",
    "InboxNotification",
    "Investigation",
    "KpiAttestation",
    "KpiReport",
    "OrgKey",
    "Organization",
    "PeriodOutcome",
    "Rule",
    "RuleSeriesState",
    "RuleVersion",
    "Standing",
    "StandingChange",
    "SupplyAgreement",
    "UsedClientAssertion",
    "Webhook",
    "WebhookDelivery",
]
