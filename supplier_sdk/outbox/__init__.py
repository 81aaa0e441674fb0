"""An offline outbox: KPI reports wait in a local SQLite file until the hub can take them.

When the hub cannot be reached, or is not available after the client's retries (5xx, 429),
``client.kpi_reports.submit(payload, outbox=outbox)`` queues the report here instead of raising, and
:meth:`Outbox.flush` sends the queue later. What is stored, and why:

- the **unsigned payload** (its canonical JSON), not a signed envelope. The hub refuses an envelope signed more
  than five minutes before it arrives (``StaleSignature``), so each entry is signed afresh at flush time,
  with a new ``signed_at`` and nonce;
- its **Idempotency-Key**, fixed when the report was first submitted and reused on every flush. The hub
  compares an idempotency key's request by the SHA-256 of the canonical bytes of the envelope's *payload*
  (not of the whole envelope), so a re-signed envelope with the same payload is "the same request": if an
  earlier attempt did land (the answer was lost on the way back), the hub answers with that first report
  (``Idempotent-Replayed: true``) and never stores it twice. The hub remembers keys for 24 hours; an entry
  flushed later than that, whose first attempt had landed, is refused as ``DuplicateReport``;
- when it was queued, how often a flush tried it and the last error.

Flush semantics: entries go least-tried first, then oldest first (so one entry the hub keeps failing on
cannot hold back the others for ever); only entries queued before the flush began are considered. When
several entries are waiting they go up to ``batch_size`` at a time in one ``POST /v1/kpi-reports:batch`` (the hub
verifies their KPI-ZK proofs as one batch and answers per entry); a hub without that endpoint, or a batch it
cannot take whole, gets them one by one. An entry keeps the proof it was queued with: the hub nonce it is
bound to is the same for the period whenever the entry arrives.

- **2xx** (stored, or replayed): the entry is deleted;
- a **refusal** (any 4xx but the two below: ``InvalidSignature``, ``DuplicateReport``, ``NotFound``, a 409 that
  outlasted the client's retries, ...): the entry moves to the ``rejected`` table with the hub's error name,
  detail and request id, for the user to read (:meth:`Outbox.rejected`); the hub is up and judged the report,
  so resending it unchanged cannot help;
- **hub not available** (:class:`~supplier_sdk.errors.HubUnreachable`, 5xx, 429 after the client's retries):
  the entry stays, its attempt count and last error are updated, and the flush stops (the next entries would
  meet the same hub);
- **the caller's credentials refused** (401, or 403 ``InsufficientScope``): the entry stays and the flush stops:
  the report is not at fault, and an operator can fix the client and flush again;
- **an internal error answering this one report** (500 for it alone, while the hub is up): the entry stays
  with the error and the flush goes on with the others. A whole batch answered with 500 is sent again one by one,
  so that one report the hub cannot handle never holds back the rest.

A refused entry is parked, not lost: :meth:`Outbox.rejected` (``supplier-sdk outbox list``) shows it with the
hub's reason; once what the hub refused it for is fixed (an agreement, a key), :meth:`Outbox.retry` queues it
again under its Idempotency-Key (``supplier-sdk outbox retry ID``), and :meth:`Outbox.drop` removes it for good
(``supplier-sdk outbox drop ID``).

Two flushes may run at once (two processes, or threads): each entry is *claimed* in an ``IMMEDIATE``
transaction before it is sent, so no entry is sent by both, and a claim left by a crashed flush expires after
``lease_seconds`` (:mod:`supplier_sdk.outbox.claims`). The file runs in WAL mode with a busy timeout. The same
file keeps the last fetched copy of each agreement (:meth:`Outbox.remember_agreement`), so that reports can be
built while the hub is down. The entries and results the outbox hands back are defined in
:mod:`supplier_sdk.outbox.entries`; the file itself is
:mod:`supplier_sdk.outbox.store`, the flush :mod:`supplier_sdk.outbox.flush`, and what a flush sends through
(a *sender*, not a client) :mod:`supplier_sdk.outbox.sender`.

Example:
    >>> import tempfile, pathlib
    >>> from uuid import UUID
    >>> from protocol.models.kpi import KpiClaim, KpiReportPayload
    >>> payload = KpiReportPayload(supplier_id=UUID(int=1), oem_id=UUID(int=2), agreement_id=UUID(int=3),
    ...     part_number="A-1", period="2026-11", kpi="mtbf", claim=KpiClaim(meets=True, threshold="5000"),
    ...     sdk_version="0.1.0")
    >>> outbox = Outbox(pathlib.Path(tempfile.mkdtemp()) / "outbox.db")
    >>> queued = outbox.enqueue(payload, idempotency_key="k-1", hub_url="http://hub", reason="unreachable")
    >>> [entry.idempotency_key for entry in outbox.pending()], outbox.pending()[0].payload == payload
    (['k-1'], True)
"""

from supplier_sdk.outbox.entries import FlushResult, OutboxEntry, QueuedReport, RejectedEntry
from supplier_sdk.outbox.sender import BatchSender, Sender
from supplier_sdk.outbox.store import SCHEMA_VERSION, Outbox

__all__ = [
    "SCHEMA_VERSION",
    "BatchSender",
    "FlushResult",
    "Outbox",
    "OutboxEntry",
    "QueuedReport",
    "RejectedEntry",
    "Sender",
]
