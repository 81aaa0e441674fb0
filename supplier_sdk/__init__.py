"""Qualink supplier SDK: compute quality KPIs from your own data, sign them, and send only the claims to the hub.

The pieces, each in its own module:

- :class:`Client` (:mod:`supplier_sdk.client`): resource objects (``client.kpi_reports``, ``client.agreements``,
  ``client.rooms``, ``client.keys``, ``client.events``, …) on one requester (:mod:`supplier_sdk.requester`: the
  ``httpx`` connection, OAuth ``private_key_jwt`` tokens (:mod:`supplier_sdk.tokens`), retries with jittered
  backoff (:class:`RetryPolicy`, :mod:`supplier_sdk.retry`), an ``Idempotency-Key`` on every POST, error mapping)
  and one signer (:mod:`supplier_sdk.signer`); :class:`supplier_sdk.oem.OemClient` is the OEM's, on the same
  requester;
- ``build_*_report`` (:mod:`supplier_sdk.reports`): KPI report payloads computed with :mod:`supplier_sdk.kpi`
  and checked against the supply agreement;
- :mod:`supplier_sdk.attest`: KPI-ZK proofs that CPK ≥ t or MTBF ≥ M from the same data, without sending it
  (``attest_report`` attaches one to a payload; ``client.kpi_reports.attestation_context`` gives the hub's
  binding);
- :class:`Outbox` (:mod:`supplier_sdk.outbox`): a local SQLite queue for reports while the hub is unreachable,
  flushed through a *sender* (``client.kpi_reports``); its entries and results are in
  :mod:`supplier_sdk.outbox.entries`, how concurrent flushes share it in :mod:`supplier_sdk.outbox.claims`;
- :func:`supplier_sdk.webhooks.verify`: checks a webhook delivery's Standard Webhooks signature on the receiving
  side and returns the event;
- ``client.events.follow()`` (:mod:`supplier_sdk.events`): the organization's events as they happen, as
  :class:`StreamEvent`, resumed after a dropped connection;
- ``client.genealogy`` (:mod:`supplier_sdk.genealogy`): lots, parts, links, shipments and inventory streamed to
  the hub; ``client.trace`` (:mod:`supplier_sdk.trace`): forward and backward traces with minimal disclosure;
  ``client.notifications`` and ``client.containment`` (:mod:`supplier_sdk.notifications`): investigations,
  alerts and the plants' containment actions;
- :func:`load_config` (:mod:`supplier_sdk.config`): where the ``supplier-sdk`` command line finds its settings;
- the error tree (:mod:`supplier_sdk.errors`), rooted at :class:`QualinkError`; the names deprecated for one
  release raise :class:`SdkDeprecationWarning` (:mod:`supplier_sdk.deprecation`), a ``DeprecationWarning``.

Example::

    from supplier_sdk import Client, Outbox, build_capability_report

    with Client(base_url="https://hub.example", client_id="qlc_…", private_key=key) as hub:
        agreement = hub.agreements.get(agreement_id)
        payload = build_capability_report(agreement=agreement, characteristic="DIA-01", period="2026-W48",
                                          kpi="cpk", values=diameters, subgroup_size=5)
        result = hub.kpi_reports.submit(payload, outbox=Outbox("~/.qualink/outbox.db"))
"""

from supplier_sdk.client import Client
from supplier_sdk.config import SdkConfig, load_config
from supplier_sdk.deprecation import SdkDeprecationWarning
from supplier_sdk.errors import (
    PERMANENT_CONFLICTS,
    AgreementMismatch,
    AuthenticationError,
    ConfigError,
    ConflictError,
    HubError,
    HubUnreachable,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    QualinkError,
    RateLimited,
    ServerError,
    WebhookVerificationError,
    error_from_response,
)
from supplier_sdk.events import StreamEvent
from supplier_sdk.outbox import FlushResult, Outbox, OutboxEntry, QueuedReport, RejectedEntry
from supplier_sdk.reports import (
    ZERO_FAILURE_CONFIDENCE,
    build_capability_report,
    build_mtbf_report,
    build_ppm_report,
)
from supplier_sdk.requester import SDK_VERSION
from supplier_sdk.retry import RetryPolicy

__version__ = SDK_VERSION
"""The installed SDK's version (the ``qualink`` distribution's).

Example:
    >>> __version__ == SDK_VERSION
    True
"""

__all__ = [
    "PERMANENT_CONFLICTS",
    "ZERO_FAILURE_CONFIDENCE",
    "AgreementMismatch",
    "AuthenticationError",
    "Client",
    "ConfigError",
    "ConflictError",
    "FlushResult",
    "HubError",
    "HubUnreachable",
    "InvalidRequest",
    "NotFound",
    "Outbox",
    "OutboxEntry",
    "PermissionDenied",
    "QualinkError",
    "QueuedReport",
    "RateLimited",
    "RejectedEntry",
    "RetryPolicy",
    "SdkConfig",
    "SdkDeprecationWarning",
    "ServerError",
    "StreamEvent",
    "WebhookVerificationError",
    "__version__",
    "build_capability_report",
    "build_mtbf_report",
    "build_ppm_report",
    "error_from_response",
    "load_config",
]
