"""The background sealer: folds new audit entries into the chain every few seconds, in every replica."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from hub.audit import service
from hub.auth.tokens import TokenKeys
from hub.config import Settings
from hub.jobs import PeriodicJob


def audit_sealer(session_factory: sessionmaker[Session], keys: TokenKeys, settings: Settings) -> PeriodicJob:
    def seal_once() -> int:
        with session_factory.begin() as session:
            return service.seal(
                session, signing_key=keys.private_key, key_id=keys.key_id, issuer=settings.issuer
            )

    return PeriodicJob("audit-sealer", settings.audit_seal_interval_seconds, seal_once)
