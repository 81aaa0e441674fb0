"""Every database table, imported here so that Alembic sees the whole metadata."""

from hub.models.agreements import SupplyAgreement
from hub.models.audit import AuditCheckpoint, AuditEntry, AuditRetentionCheckpoint
from hub.models.base import Base
from hub.models.certificates import Certificate, CertificateRuleState, CertificateShare
from hub.models.events import Event, EventRetentionMark, Webhook, WebhookDelivery
from hub.models.genealogy import (
    Asset,
    AssetLink,
    Hold,
    InventoryPosition,
    PartType,
    Plant,
    Shipment,
)
from hub.models.kpis import IdempotencyRecord, KpiAttestation, KpiReport
from hub.models.labs import AgreementLab, LabAccreditation, LabMeasurement
from hub.models.mail import Invitation, MailOptOut, OutboxMail
from hub.models.notifications import (
    ContainmentAction,
    NotificationAsset,
    NotificationMessage,
    QualityNotification,
)
from hub.models.orgs import (
    ApiClient,
    Organization,
    OrganizationSettings,
    OrgKey,
    TokenAuthFailure,
    UsedClientAssertion,
)
from hub.models.people import BrowserSession, Person, SignInFailure
from hub.models.rooms import (
    Room,
    RoomAnnotation,
    RoomAnnotationRevision,
    RoomDataset,
    RoomDatasetChunk,
    RoomMember,
    RoomStep,
    RoomSummary,
    RoomWrappedKey,
)
from hub.models.rules import (
    InboxNotification,
    Investigation,
    PeriodOutcome,
    Rule,
    RuleApproval,
    RuleSeriesState,
    RuleVersion,
    Standing,
    StandingChange,
)
from hub.models.sso import SsoIdentity, SsoProvider
from hub.models.streams import KafkaStream, NatsStream

__all__ = [
    "AgreementLab",
    "ApiClient",
    "Asset",
    "AssetLink",
    "AuditCheckpoint",
    "AuditEntry",
    "AuditRetentionCheckpoint",
    "Base",
    "BrowserSession",
    "Certificate",
    "CertificateRuleState",
    "CertificateShare",
    "ContainmentAction",
    "Event",
    "EventRetentionMark",
    "Hold",
    "IdempotencyRecord",
    "InboxNotification",
    "InventoryPosition",
    "Investigation",
    "Invitation",
    "KafkaStream",
    "KpiAttestation",
    "KpiReport",
    "LabAccreditation",
    "LabMeasurement",
    "MailOptOut",
    "NatsStream",
    "NotificationAsset",
    "NotificationMessage",
    "OrgKey",
    "Organization",
    "OrganizationSettings",
    "OutboxMail",
    "PartType",
    "PeriodOutcome",
    "Person",
    "Plant",
    "QualityNotification",
    "Room",
    "RoomAnnotation",
    "RoomAnnotationRevision",
    "RoomDataset",
    "RoomDatasetChunk",
    "RoomMember",
    "RoomStep",
    "RoomSummary",
    "RoomWrappedKey",
    "Rule",
    "RuleApproval",
    "RuleSeriesState",
    "RuleVersion",
    "Shipment",
    "SignInFailure",
    "SsoIdentity",
    "SsoProvider",
    "Standing",
    "StandingChange",
    "SupplyAgreement",
    "TokenAuthFailure",
    "UsedClientAssertion",
    "Webhook",
    "WebhookDelivery",
]
