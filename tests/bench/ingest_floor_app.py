"""The floor the hub's report path is judged against (issue #16): the least a server can do per signed report.

A sync endpoint on the same uvicorn settings as ``hub serve``: it validates the same body with the protocol's own
models (the envelope, then the KPI payload), verifies the real Ed25519 signature with the supplier's registered
key, and INSERTs one ``kpi_reports`` row in its own transaction (the batch endpoint: all its rows in one INSERT).
No token check, rules, audit, events or idempotency: everything the hub does beyond this is what the ratio
measures.

With ``FLOOR_ASYNC=1`` the single endpoint is an ``async def`` on an async engine (psycopg's async driver) instead
of a sync one that Starlette hands to its thread pool: the same work, run on the event loop, so that the two
can be compared (issue #16 item 4).

    FLOOR_DATABASE_URL=postgresql+psycopg://... uvicorn tests.bench.ingest_floor_app:app --workers 2
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel
from sqlalchemy import create_engine, insert, select
from sqlalchemy.ext.asyncio import create_async_engine

from hub.models import KpiReport, OrgKey
from hub.models.base import uuid7
from protocol.errors import SignatureInvalid
from protocol.models.kpi import KPI_REPORT_TYPE, KpiReportPayload
from protocol.periods import parse_period
from protocol.signing import SignedEnvelope, public_key_from_raw, verify_envelope

engine = create_engine(os.environ["FLOOR_DATABASE_URL"], pool_size=16)
with engine.connect() as connection:
    KEYS = {
        key_id: public_key_from_raw(raw)
        for key_id, raw in connection.execute(select(OrgKey.key_id, OrgKey.public_key))
    }

app = FastAPI()


class Submission(BaseModel):
    envelope: SignedEnvelope


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


class Batch(BaseModel):
    items: list[Submission]


def store(body: Submission) -> dict[str, Any]:
    row = _checked_row(body)
    with engine.begin() as connection:
        connection.execute(insert(KpiReport), row)
    return {"id": str(row["id"]), "meets": row["meets"]}


async_engine = create_async_engine(os.environ["FLOOR_DATABASE_URL"], pool_size=16)


async def store_async(body: Submission) -> dict[str, Any]:
    row = _checked_row(body)
    async with async_engine.begin() as connection:
        await connection.execute(insert(KpiReport), row)
    return {"id": str(row["id"]), "meets": row["meets"]}


app.post("/v1/kpi-reports", status_code=201)(store_async if os.environ.get("FLOOR_ASYNC") == "1" else store)


@app.post("/v1/kpi-reports:batch")
def store_batch(body: Batch) -> dict[str, Any]:
    """The batch floor: each item checked as above, then every row in one INSERT and one transaction."""
    rows = [_checked_row(item) for item in body.items]
    with engine.begin() as connection:
        connection.execute(insert(KpiReport), rows)
    return {"results": [{"index": n, "status": 201, "id": str(row["id"])} for n, row in enumerate(rows)]}


def _checked_row(body: Submission) -> dict[str, Any]:
    envelope = body.envelope
    payload = KpiReportPayload.model_validate(envelope.payload)
    key = KEYS.get(envelope.key_id)
    if key is None:
        raise HTTPException(422, "unknown key")
    try:
        verify_envelope(envelope, key, expected_type=KPI_REPORT_TYPE)
    except SignatureInvalid as exc:
        raise HTTPException(422, str(exc)) from exc
    return {
        "id": uuid7(),
        "supplier_id": payload.supplier_id,
        "oem_id": payload.oem_id,
        "agreement_id": payload.agreement_id,
        "part_number": payload.part_number,
        "characteristic": payload.characteristic or "",
        "period": payload.period,
        "period_start": parse_period(payload.period).start,
        "kpi": payload.kpi.value,
        "meets": payload.claim.meets,
        "value": payload.claim.value,
        "threshold": payload.claim.threshold,
        "disclosure": "value",
        "key_id": envelope.key_id,
        "nonce": envelope.nonce,
        "signed_at": envelope.signed_at,
        "received_at": datetime.now(UTC),
        "envelope": envelope.model_dump(mode="json"),
        "has_proof": False,
    }
