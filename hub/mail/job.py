"""The background job that sends the mail outbox, in `hub serve` and in `hub worker`."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from hub.config import Settings
from hub.jobs import PeriodicJob
from hub.mail.sender import send_due
from hub.mail.settings import smtp_settings


def mail_sender(factory: sessionmaker[Session], settings: Settings) -> list[PeriodicJob]:
    """The mail job, or none when no SMTP server is configured or the interval is 0."""
    smtp = smtp_settings(settings)
    if smtp is None or settings.mail_send_interval_seconds <= 0:
        return []
    return [PeriodicJob("mail-sender", settings.mail_send_interval_seconds, lambda: send_due(factory, smtp))]
