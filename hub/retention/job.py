"""The retention job: every ``HUB_RETENTION_INTERVAL_SECONDS`` (an hour by default), in every process that runs
jobs; each table's work takes its locks, so replicas running it at once do it once."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from hub.auth.tokens import TokenKeys
from hub.config import Settings
from hub.jobs import PeriodicJob
from hub.models.base import utcnow
from hub.retention import service


def retention_job(factory: sessionmaker[Session], keys: TokenKeys, settings: Settings) -> PeriodicJob:
    signer = service.Signer(keys.private_key, keys.key_id, settings.issuer)

    def once() -> int:
        return service.run(factory, settings=settings, now=utcnow(), signer=signer).changes

    return PeriodicJob("retention", settings.retention_interval_seconds, once)
