"""Many KPI reports in one request (an SDK outbox flushing its queue): judged one by one, proofs verified together.

The KPI-ZK proofs of all items are verified first, in one batch (random linear combination, one multi-scalar
multiplication; a failing batch falls back to verifying each, to name the culprits), before the request touches
the database. Each item then goes through the same checks, in the same order, as a single
``POST /v1/kpi-reports`` (:func:`hub.kpis.service.prepare`, the proof's verdict in its turn). The surviving
items are stored together in one savepoint; when one of them conflicts (a duplicate period, a replayed nonce)
that savepoint is undone and each is stored in a savepoint of its own, so that one item's conflict never undoes
another's. The answer lists, per item and in order, the status a single POST would have
had, with the stored report or the error.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from hub import idempotency
from hub.auth.tokens import Caller
from hub.errors import Forbidden, HubError, InvalidInput
from hub.kpis import attestation as attestations
from hub.kpis import service
from protocol.models import kpi as wire
from protocol.models.common import OrgKind

log = logging.getLogger("hub.kpis.batch")


def _refused(index: int, exc: HubError) -> wire.KpiReportBatchResult:
    return wire.KpiReportBatchResult(
        index=index,
        status=exc.status_code,
        error=exc.name,
        detail=exc.detail,
        check=getattr(exc, "check", None),
    )


def submit_batch(
    session: Session,
    *,
    caller: Caller,
    batch: wire.KpiReportBatch,
    now: datetime,
    max_skew: timedelta,
    binding: attestations.Binding,
) -> wire.KpiReportBatchResults:
    if caller.org_kind is not OrgKind.SUPPLIER:
        raise Forbidden("only a supplier submits KPI reports")
    verdicts = attestations.verify_early(batch.items)  # CPU only, before the first query
    results: dict[int, wire.KpiReportBatchResult] = {}
    ready: dict[int, service.Prepared] = {}
    lookups = service.Lookups()
    for index, item in enumerate(batch.items):
        try:
            key = idempotency.check_key(item.idempotency_key)
            prepared = service.prepare(
                session,
                caller=caller,
                submission=item,
                idempotency_key=key,
                now=now,
                max_skew=max_skew,
                binding=binding,
                lookups=lookups,
            )
            if isinstance(prepared, service.Prepared) and prepared.attestation and prepared.expected:
                attestations.settle(prepared.attestation, prepared.expected, verdicts[index])
        except HubError as exc:
            results[index] = _refused(index, exc)
            continue
        if isinstance(prepared, service.Submitted):
            report = service.as_wire(prepared.report, caller=caller)
            results[index] = wire.KpiReportBatchResult(index=index, status=201, report=report, replayed=True)
        else:
            ready[index] = prepared

    if not _store_all(session, caller=caller, ready=ready, now=now, results=results):
        _store_each(session, caller=caller, ready=ready, now=now, results=results)
    return wire.KpiReportBatchResults(results=[results[index] for index in range(len(batch.items))])


def _store_all(
    session: Session,
    *,
    caller: Caller,
    ready: dict[int, service.Prepared],
    now: datetime,
    results: dict[int, wire.KpiReportBatchResult],
) -> bool:
    """Every ready item in one savepoint, written with one INSERT per table (:func:`service.store_many`): the usual
    batch, where nothing conflicts. False (and nothing stored) when any item failed: then each is tried alone."""
    if not ready:
        return True
    stored: dict[int, wire.KpiReportBatchResult] = {}
    try:
        with session.begin_nested():
            written = service.store_many(session, caller=caller, ready=list(ready.values()), now=now)
            for index, submitted in zip(ready, written, strict=True):
                stored[index] = wire.KpiReportBatchResult(
                    index=index, status=201, report=service.as_wire(submitted.report, caller=caller)
                )
    except (HubError, DataError, IntegrityError):
        return False
    results.update(stored)
    return True


def _store_each(
    session: Session,
    *,
    caller: Caller,
    ready: dict[int, service.Prepared],
    now: datetime,
    results: dict[int, wire.KpiReportBatchResult],
) -> None:
    """Each ready item in a savepoint of its own, so that one item's conflict never undoes another's."""
    for index, prepared in ready.items():
        try:
            with session.begin_nested():
                stored = service.store(session, caller=caller, prepared=prepared, now=now)
        except HubError as exc:
            results[index] = _refused(index, exc)
            continue
        except (DataError, IntegrityError) as exc:
            # A value the wire bounds let through but the database refuses: the savepoint undid this item
            # alone, so it is refused by name instead of failing the whole batch (which jammed SDK outboxes).
            log.warning("batch item %d refused by the database: %s", index, type(exc.orig).__name__)
            refusal = InvalidInput("the database refused a value of this report (out of range or malformed)")
            results[index] = _refused(index, refusal)
            continue
        results[index] = wire.KpiReportBatchResult(
            index=index, status=201, report=service.as_wire(stored.report, caller=caller)
        )
