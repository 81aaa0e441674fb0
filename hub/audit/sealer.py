"""The background sealer: folds new audit entries into the chain every few seconds, in every replica.

Replicas take turns through the sealer lock (see ``service.seal``), so running one per process is safe and
keeps the chain current without a separate job to deploy."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session, sessionmaker

from hub.audit import service
from hub.auth.tokens import TokenKeys
from hub.config import Settings

log = logging.getLogger("hub.audit")


class AuditSealer:
    def __init__(self, session_factory: sessionmaker[Session], keys: TokenKeys, settings: Settings) -> None:
        self.session_factory = session_factory
        self.keys = keys
        self.settings = settings
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.settings.audit_seal_interval_seconds > 0:
            self._task = asyncio.create_task(self._run(), name="audit-sealer")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def seal_once(self) -> int:
        with self.session_factory.begin() as session:
            return service.seal(
                session,
                signing_key=self.keys.private_key,
                key_id=self.keys.key_id,
                issuer=self.settings.issuer,
            )

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.settings.audit_seal_interval_seconds)
            try:
                sealed = await run_in_threadpool(self.seal_once)
                if sealed:
                    log.debug("sealed audit entries", extra={"sealed": sealed})
            except Exception:  # the next round tries again; a request never depends on the sealer
                log.exception("audit sealing failed")
