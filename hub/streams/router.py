"""``/v1/streams/nats`` and ``/v1/streams/kafka``: an organization opts in to a stream platform, names where its
events go (subjects, a topic), and opts out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from hub.auth.deps import require
from hub.auth.tokens import Caller
from hub.db import SessionDep
from hub.errors import ERROR_RESPONSES
from hub.streams import service, topics
from protocol.models import streams as schemas

router = APIRouter(prefix="/v1/streams", tags=["streams"], responses=ERROR_RESPONSES)

# The same permission as webhooks: both decide where the organization's events go.
Admin = Annotated[Caller, Depends(require("webhooks:admin"))]


@router.put(
    "/nats",
    summary="Publish your organization's events to NATS JetStream under this subject prefix",
    responses={201: {"description": "Opted in"}, 200: {"description": "Already opted in; prefix set"}},
)
def put_nats_stream(
    body: schemas.NatsStreamPut, response: Response, session: SessionDep, caller: Admin
) -> schemas.NatsStream:
    stream, created = service.put_stream(
        session,
        org_id=caller.org_id,
        prefix=body.subject_prefix,
        actor=caller.client_id,
        actor_org_id=caller.org_id,
    )
    if created:
        response.status_code = 201
    return service.as_wire(stream)


@router.get("/nats", summary="Your organization's NATS JetStream publication and the bridge's cursor")
def get_nats_stream(session: SessionDep, caller: Admin) -> schemas.NatsStream:
    return service.as_wire(service.get_stream(session, org_id=caller.org_id))


@router.delete("/nats", status_code=204, summary="Stop publishing your organization's events to NATS")
def delete_nats_stream(session: SessionDep, caller: Admin) -> Response:
    service.remove_stream(session, org_id=caller.org_id, actor=caller.client_id, actor_org_id=caller.org_id)
    return Response(status_code=204)


@router.put(
    "/kafka",
    summary="Publish your organization's events to this Kafka topic",
    responses={201: {"description": "Opted in"}, 200: {"description": "Already opted in; topic set"}},
)
def put_kafka_stream(
    body: schemas.KafkaStreamPut, response: Response, session: SessionDep, caller: Admin
) -> schemas.KafkaStream:
    stream, created = topics.put_topic(
        session, org_id=caller.org_id, topic=body.topic, actor=caller.client_id, actor_org_id=caller.org_id
    )
    if created:
        response.status_code = 201
    return topics.as_wire(stream)


@router.get("/kafka", summary="Your organization's Kafka publication and the bridge's cursor")
def get_kafka_stream(session: SessionDep, caller: Admin) -> schemas.KafkaStream:
    return topics.as_wire(topics.get_topic(session, org_id=caller.org_id))


@router.delete("/kafka", status_code=204, summary="Stop publishing your organization's events to Kafka")
def delete_kafka_stream(session: SessionDep, caller: Admin) -> Response:
    topics.remove_topic(session, org_id=caller.org_id, actor=caller.client_id, actor_org_id=caller.org_id)
    return Response(status_code=204)
