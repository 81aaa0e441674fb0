"""Weekly reports of the synthetic network: signed as the SDK signs them, stored by the batch endpoint's service.

For week ``w`` the hub's clock is injected as the Monday 06:00 after that week (``start`` + w weeks, rounded to
its ISO week): each supplier signs its 100 (or ``characteristics``) reports of the week just ended a minute
before, and sends them as one batch. Values, nonces and keys come from one ``random.Random(seed)`` walked in a
fixed order, so a seed gives the same reports, the same signatures' inputs and the same digest every time (the
organizations' UUIDs are the database's, so they are not part of the digest)."""

from __future__ import annotations

import hashlib
import random
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from hub.audit import service as audit
from hub.auth.tokens import TokenKeys
from hub.events.sequencer import sequence_once
from hub.kpis import attestation
from hub.kpis.batch import submit_batch
from hub.synth.network import PART, THRESHOLD, SyntheticNetwork, SyntheticSupplier, characteristic
from protocol.encoding import b64url_encode
from protocol.models.common import PeriodKind
from protocol.models.kpi import KPI_REPORT_TYPE, KpiClaim, KpiReportBatch, KpiReportPayload
from protocol.periods import Period, period_containing
from protocol.signing import sign_envelope

SDK_VERSION = "synth"
MAX_SKEW = timedelta(minutes=5)


@dataclass
class Totals:
    reports: int = 0
    refused: int = 0
    events: int = 0
    deliveries: int = 0
    sealed: int = 0
    sign_seconds: float = 0.0  # the suppliers' side: payloads built and signed
    store_seconds: float = 0.0  # the hub's side: validated, checked, stored, one transaction a batch
    store_cpu: float = 0.0  # this process's CPU while storing
    sequence_seconds: float = 0.0
    seal_seconds: float = 0.0
    digest: hashlib._Hash = field(default_factory=hashlib.sha256)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def week(start: datetime, number: int) -> tuple[Period, datetime]:
    """The ``number``-th reporting week from ``start`` and the moment the hub receives it."""
    period = period_containing(start + timedelta(weeks=number), PeriodKind.WEEK)
    return period, period.end + timedelta(hours=6)


def _value(rng: random.Random) -> str:
    return f"{max(0.2, rng.gauss(1.62, 0.18)):.4f}"


def _bodies(
    supplier: SyntheticSupplier,
    *,
    characteristics: int,
    period: Period,
    signed_at: datetime,
    rng: random.Random,
) -> list[dict[str, Any]]:
    items = []
    for n in range(characteristics):
        value = _value(rng)
        payload = KpiReportPayload(
            supplier_id=supplier.org_id,
            oem_id=supplier.oem_id,
            agreement_id=supplier.agreement_id,
            part_number=PART,
            characteristic=characteristic(n),
            period=str(period),
            kpi="cpk",
            claim=KpiClaim(meets=float(value) >= float(THRESHOLD), value=value, threshold=THRESHOLD),
            sdk_version=SDK_VERSION,
        )
        nonce = b64url_encode(rng.randbytes(16))
        envelope = sign_envelope(
            payload,
            type=KPI_REPORT_TYPE,
            private_key=supplier.key,
            key_id=supplier.key_id,
            signed_at=signed_at,
            nonce=nonce,
        )
        items.append({"envelope": envelope.model_dump(mode="json")})
    return items


def _fold(
    digest: hashlib._Hash, supplier: SyntheticSupplier, period: Period, items: list[dict[str, Any]]
) -> None:
    for item in items:
        envelope = item["envelope"]
        payload = envelope["payload"]
        digest.update(
            f"{supplier.oem}/{supplier.index}/{payload['characteristic']}/{period}/{payload['claim']['value']}/"
            f"{envelope['nonce']}/{envelope['signed_at']}\n".encode()
        )


def run_week(
    factory: sessionmaker[Session],
    *,
    network: SyntheticNetwork,
    number: int,
    start: datetime,
    rng: random.Random,
    binding: attestation.Binding,
    keys: TokenKeys,
    totals: Totals,
) -> None:
    period, now = week(start, number)
    for supplier in network.suppliers:
        started = time.perf_counter()
        items = _bodies(
            supplier,
            characteristics=network.shape.characteristics,
            period=period,
            signed_at=now - timedelta(minutes=1),
            rng=rng,
        )
        _fold(totals.digest, supplier, period, items)
        stored_at, cpu = time.perf_counter(), _cpu()
        totals.sign_seconds += stored_at - started
        with factory.begin() as session:
            # The batch endpoint's body, validated as FastAPI validates it, then the endpoint's own service.
            batch = KpiReportBatch.model_validate({"items": items})
            results = submit_batch(
                session, caller=supplier.caller, batch=batch, now=now, max_skew=MAX_SKEW, binding=binding
            )
        totals.store_seconds += time.perf_counter() - stored_at
        totals.store_cpu += _cpu() - cpu
        stored = sum(1 for result in results.results if result.status == 201)
        totals.reports += stored
        totals.refused += len(items) - stored
    _settle(factory, keys=keys, totals=totals)


def _settle(factory: sessionmaker[Session], *, keys: TokenKeys, totals: Totals) -> None:
    """What `hub serve`'s background jobs do after the week's reports: number and fan out the events (the
    sequencer's round, deliveries included), then seal the audit entries into the chain (the sealer's)."""
    started = time.perf_counter()
    while numbered := sequence_once(factory):
        totals.events += numbered
    totals.sequence_seconds += time.perf_counter() - started
    started = time.perf_counter()
    with factory.begin() as session:
        totals.sealed += audit.seal(
            session, signing_key=keys.private_key, key_id=keys.key_id, issuer=keys.issuer
        )
    totals.seal_seconds += time.perf_counter() - started


def run(
    factory: sessionmaker[Session],
    *,
    network: SyntheticNetwork,
    start: datetime,
    binding: attestation.Binding,
    keys: TokenKeys,
    progress: Callable[[str], None] = lambda _: None,
) -> Totals:
    rng = random.Random(network.seed)
    totals = Totals()
    for key_holder in network.suppliers:  # the public keys are part of what the seed decides
        totals.digest.update(key_holder.key_id.encode())
    while sequence_once(factory):  # the network's own events (agreements), so the counts are the reports'
        pass
    for number in range(network.shape.weeks):
        run_week(
            factory,
            network=network,
            number=number,
            start=start,
            rng=rng,
            binding=binding,
            keys=keys,
            totals=totals,
        )
        progress(
            f"week {number + 1}/{network.shape.weeks}: {totals.reports} reports stored,"
            f" {totals.events} events numbered, {totals.store_seconds:.1f} s storing"
        )
    return totals
