"""``/v1/streams/nats`` and ``/v1/streams/kafka``: an organization opts in to a stream platform, names where its
events go (subjects, a topic), and opts out.

Both platforms' three routes are one set of routes (:func:`_opt_in_routes`) over :mod:`hub.streams.opt_ins`; a
:class:`_Routes` names what differs: the path, the wire models, the words. This module does not use postponed
annotations: FastAPI reads the routes' parameter types from the closures, where the models are real classes."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response

from hub.auth.deps import require
from hub.auth.tokens import Caller
from hub.db import SessionDep
from hub.errors import ERROR_RESPONSES
from hub.streams import opt_ins, service, topics
from protocol.models import streams as schemas
from protocol.models.common import WireModel

router = APIRouter(prefix="/v1/streams", tags=["streams"], responses=ERROR_RESPONSES)

# The same permission as webhooks: both decide where the organization's events go.
Admin = Annotated[Caller, Depends(require("webhooks:admin"))]


@dataclass(frozen=True)
class _Routes:
    platform: opt_ins.Platform
    path: str  # "nats": the routes are PUT/GET/DELETE /v1/streams/<path>
    put_model: type[WireModel]  # the PUT body; its field named like the platform's column holds the name
    wire_model: type[WireModel]
    as_wire: Callable[[Any], Any]
    name: str  # the routes' names (and so OpenAPI operation ids): put_<name>, get_<name>, delete_<name>
    put_summary: str
    get_summary: str
    delete_summary: str
    name_word: str  # what the 200 says was set: "prefix", "topic"


def _opt_in_routes(routes: _Routes) -> None:
    platform, Put, Wire = routes.platform, routes.put_model, routes.wire_model

    @router.put(
        f"/{routes.path}",
        name=f"put_{routes.name}",
        summary=routes.put_summary,
        responses={
            201: {"description": "Opted in"},
            200: {"description": f"Already opted in; {routes.name_word} set"},
        },
        response_model=Wire,
    )
    def put(body: Put, response: Response, session: SessionDep, caller: Admin) -> Any:  # type: ignore[valid-type]
        row, created = opt_ins.put(
            session,
            platform,
            org_id=caller.org_id,
            name=getattr(body, platform.column),
            actor=caller.client_id,
            actor_org_id=caller.org_id,
        )
        if created:
            response.status_code = 201
        return routes.as_wire(row)

    @router.get(f"/{routes.path}", name=f"get_{routes.name}", summary=routes.get_summary, response_model=Wire)
    def get(session: SessionDep, caller: Admin) -> Any:
        return routes.as_wire(opt_ins.get(session, platform, org_id=caller.org_id))

    @router.delete(
        f"/{routes.path}", name=f"delete_{routes.name}", status_code=204, summary=routes.delete_summary
    )
    def delete(session: SessionDep, caller: Admin) -> Response:
        opt_ins.remove(
            session, platform, org_id=caller.org_id, actor=caller.client_id, actor_org_id=caller.org_id
        )
        return Response(status_code=204)


_opt_in_routes(
    _Routes(
        platform=service.NATS,
        path="nats",
        put_model=schemas.NatsStreamPut,
        wire_model=schemas.NatsStream,
        as_wire=service.as_wire,
        name="nats_stream",
        put_summary="Publish your organization's events to NATS JetStream under this subject prefix",
        get_summary="Your organization's NATS JetStream publication and the bridge's cursor",
        delete_summary="Stop publishing your organization's events to NATS",
        name_word="prefix",
    )
)
_opt_in_routes(
    _Routes(
        platform=topics.KAFKA,
        path="kafka",
        put_model=schemas.KafkaStreamPut,
        wire_model=schemas.KafkaStream,
        as_wire=topics.as_wire,
        name="kafka_stream",
        put_summary="Publish your organization's events to this Kafka topic",
        get_summary="Your organization's Kafka publication and the bridge's cursor",
        delete_summary="Stop publishing your organization's events to Kafka",
        name_word="topic",
    )
)
