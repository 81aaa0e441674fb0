"""``create_app(settings)``: the hub as an ASGI application."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi_offline import FastAPIOffline

from hub import migrate
from hub.agreements.router import router as agreements_router
from hub.audit.router import router as audit_router
from hub.audit.sealer import audit_sealer
from hub.auth.router import router as auth_router
from hub.auth.tokens import TokenKeys
from hub.certificates.router import router as certificates_router
from hub.config import DEVELOPMENT_WARNING, Settings, get_settings
from hub.console.mount import install as install_console
from hub.containment.router import router as containment_router
from hub.db import make_engine, make_session_factory
from hub.errors import install_error_handlers, refuse_nul_parameters
from hub.events.router import router as events_router
from hub.events.sequencer import sequence_once, wake_on_publish
from hub.events.wakeups import DELIVERIES_DUE, EVENTS_PUBLISHED, listen
from hub.genealogy.router import IMPORT_PATH
from hub.genealogy.router import router as genealogy_router
from hub.health import router as health_router
from hub.housekeeping import housekeeping_once
from hub.jobs import PeriodicJob
from hub.kpis.router import context_router as attestation_context_router
from hub.kpis.router import router as kpis_router
from hub.labs.router import router as labs_router
from hub.mail.job import mail_sender
from hub.notifications.escalation import escalate_once
from hub.notifications.router import router as notifications_router
from hub.observability import Metrics, RequestContext, configure_logging
from hub.openapi import declare_error_statuses, operation_id
from hub.orgs.router import router as orgs_router
from hub.retention.job import retention_job
from hub.rooms.datasets_router import CONTENT_PATH
from hub.rooms.datasets_router import router as room_datasets_router
from hub.rooms.expiry import expire_once
from hub.rooms.record_router import router as room_record_router
from hub.rooms.router import router as rooms_router
from hub.rules.approvals_router import router as rule_approvals_router
from hub.rules.router import router as rules_router
from hub.rules.standings_router import router as standings_router
from hub.rules.sweep import sweep_once
from hub.streams.router import router as streams_router
from hub.trace.router import router as trace_router
from hub.webhooks.dispatcher import Dispatcher
from hub.webhooks.router import router as webhooks_router

log = logging.getLogger("hub.app")

DESCRIPTION = """
Qualink hub: suppliers prove quality KPIs without revealing raw data, OEMs apply rules, trace lots and run
joint investigations. Authenticate with OAuth 2.0 client credentials at `/oauth/token`; every endpoint names
the scope it needs. Errors are `{"error", "detail", "request_id"}`.
"""


def serve_app(settings: Settings | None = None) -> FastAPI:
    """The app as ``hub serve`` runs it in each uvicorn worker: a process of its own, for as long as it runs."""
    app = create_app(settings)
    app.state.served = True
    return app


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(level=settings.log_level, as_json=settings.log_json)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.environment == "development":
            # Every start, in every process: a hub that was meant to run in production must not look fine.
            log.warning(DEVELOPMENT_WARNING)
        engine = make_engine(settings)
        app.state.engine = engine
        app.state.session_factory = make_session_factory(engine)
        factory = app.state.session_factory
        dispatcher = Dispatcher(
            factory,
            interval_seconds=settings.webhook_dispatch_interval_seconds,
            batch=settings.webhook_dispatch_batch,
            allow_internal=settings.environment == "development",
        )
        sequencer = PeriodicJob(
            "events-sequencer",
            settings.events_sequence_interval_seconds,
            lambda: sequence_once(factory, dispatcher=dispatcher),
            then=lambda _numbered: dispatcher.wake(),
        )
        # A request that published events wakes the sequencer as it commits, and the sequencer the dispatcher:
        # an event reaches its webhooks in tens of milliseconds instead of after two polling intervals.
        wake_on_publish(factory, sequencer.wake)
        jobs = [
            audit_sealer(factory, app.state.token_keys, settings),
            PeriodicJob("rules-sweep", settings.rules_sweep_interval_seconds, lambda: sweep_once(factory)),
            PeriodicJob(
                "housekeeping", settings.housekeeping_interval_seconds, lambda: housekeeping_once(factory)
            ),
            PeriodicJob(
                "notifications-escalation",
                settings.notifications_escalation_interval_seconds,
                lambda: escalate_once(factory),
            ),
            sequencer,
            PeriodicJob(
                "rooms-expiry",
                settings.room_expiry_interval_seconds,
                lambda: expire_once(
                    factory, signing_key=app.state.token_keys.private_key, key_id=app.state.token_keys.key_id
                ),
            ),
        ]
        jobs += mail_sender(factory, settings)
        jobs.append(retention_job(factory, app.state.token_keys, settings))
        for job in jobs:
            job.start()
        dispatcher.start()
        # Other processes' commits (a `hub worker`, other replicas or uvicorn workers) wake these two as well.
        wakes = {EVENTS_PUBLISHED: sequencer.wake, DELIVERIES_DUE: dispatcher.wake}
        intervals = {
            EVENTS_PUBLISHED: settings.events_sequence_interval_seconds,
            DELIVERIES_DUE: settings.webhook_dispatch_interval_seconds,
        }
        listener = listen(
            settings.listener_database_url, {c: w for c, w in wakes.items() if intervals[c] > 0}
        )
        if app.state.served:
            # What start-up made (modules, routes, mappers, schemas: most of the process's objects) lives as long
            # as the process. Left to the collector, every full collection walks it all again: a pause of the
            # whole process, requests and webhook deliveries alike, of up to 750 ms on a busy 2-core machine
            # (issue #18). Frozen, a full collection walks only what came later.
            gc.collect()
            gc.freeze()
        try:
            yield
        finally:
            if listener is not None:
                listener.stop()
            await dispatcher.stop()
            for job in jobs:
                await job.stop()
            engine.dispose()

    # FastAPIOffline: a FastAPI whose /docs and /redoc load Swagger UI and ReDoc from files it ships.
    app = FastAPIOffline(
        title="Qualink hub",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        dependencies=[Depends(refuse_nul_parameters)],
        generate_unique_id_function=operation_id,
    )
    app.state.settings = settings
    app.state.served = False
    app.state.token_keys = TokenKeys(
        settings.signing_key(), issuer=settings.issuer, previous=settings.previous_public_keys()
    )
    app.state.metrics = Metrics()
    app.state.migration_head = migrate.head_revision()
    install_error_handlers(app)
    for router in (health_router, auth_router, orgs_router, agreements_router, kpis_router, audit_router):
        app.include_router(declare_error_statuses(router))
    # Before the rules router, whose /v1/rules/{rule_id} would take "approvals" for a rule id.
    app.include_router(declare_error_statuses(rule_approvals_router))
    app.include_router(declare_error_statuses(rules_router))
    app.include_router(declare_error_statuses(standings_router))
    app.include_router(declare_error_statuses(webhooks_router))
    app.include_router(declare_error_statuses(events_router))
    app.include_router(declare_error_statuses(streams_router))
    app.include_router(declare_error_statuses(rooms_router))
    app.include_router(declare_error_statuses(room_datasets_router))
    app.include_router(declare_error_statuses(room_record_router))
    app.include_router(declare_error_statuses(genealogy_router))
    app.include_router(declare_error_statuses(trace_router))
    app.include_router(declare_error_statuses(notifications_router))
    app.include_router(declare_error_statuses(containment_router))
    app.include_router(declare_error_statuses(attestation_context_router))
    app.include_router(declare_error_statuses(labs_router))
    app.include_router(declare_error_statuses(certificates_router))
    install_console(app)
    app.add_middleware(
        RequestContext,
        metrics=app.state.metrics,
        max_body_bytes=settings.max_body_bytes,
        own_limit_paths=CONTENT_PATH,
        body_limits={IMPORT_PATH: settings.genealogy_import_max_body_bytes},
    )
    return app
