"""Sending the mail outbox over SMTP (smtplib), after commit, in the background.

Each mail is taken in a transaction of its own (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so replicas never
take the same one), sent, and marked sent in that transaction. A mail server that refuses or is down leaves
the mail queued, tried again after a back-off that doubles per attempt (:func:`retry_delay`). A mail is sent
once; only a crash between the server's "250 OK" and the commit could send it again, and then with the same
``Message-ID``, by which mail systems recognise a repeat."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from hub.models import OutboxMail
from hub.models.base import utcnow

FIRST_RETRY = timedelta(seconds=30)
LAST_RETRY = timedelta(hours=1)
BATCH = 50
# How long a taken mail is left to its sender before another round may take it again (a crashed sender).
LEASE = timedelta(minutes=5)


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout_seconds: float = 10.0


def retry_delay(attempts: int) -> timedelta:
    """After the ``attempts``-th failure: 30 s, 1 min, 2 min… at most an hour."""
    return min(LAST_RETRY, FIRST_RETRY * 2 ** max(0, attempts - 1))


def as_message(mail: OutboxMail, smtp: SmtpSettings) -> EmailMessage:
    message = EmailMessage()
    message["From"] = smtp.sender
    message["To"] = mail.to_address
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(mail.created_at)
    domain = smtp.sender.rpartition("@")[2] or "qualink.invalid"
    message["Message-ID"] = f"<{mail.id}@{domain.strip('> ')}>"  # the same id at every attempt
    message.set_content(mail.body)
    return message


def _connect(smtp: SmtpSettings) -> smtplib.SMTP:
    client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_seconds)
    try:
        if smtp.starttls:
            client.starttls(context=ssl.create_default_context())
        if smtp.username:
            client.login(smtp.username, smtp.password or "")
    except BaseException:
        client.close()
        raise
    return client


def _claim(factory: sessionmaker[Session], now: datetime) -> OutboxMail | None:
    """Take the next due mail for the length of a lease (its next attempt moved past the lease), in a short
    transaction of its own: no lock is held while the mail server is talked to, and no other process or
    replica takes the mail meanwhile (the update only counts where the row is still as it was read)."""
    with factory.begin() as session:
        query = (
            select(OutboxMail)
            .where(OutboxMail.sent_at.is_(None), OutboxMail.next_attempt_at <= now)
            .order_by(OutboxMail.next_attempt_at, OutboxMail.id)
            .limit(1)
        )
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        mail = session.scalars(query).first()
        if mail is None:
            return None
        taken = session.execute(
            update(OutboxMail)
            .where(
                OutboxMail.id == mail.id, OutboxMail.sent_at.is_(None), OutboxMail.attempts == mail.attempts
            )
            .values(next_attempt_at=now + LEASE, attempts=mail.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        if not getattr(taken, "rowcount", 0):
            return None
        session.expunge(mail)
        return mail


def _settle(
    factory: sessionmaker[Session], mail: OutboxMail, now: datetime, exc: BaseException | None
) -> None:
    with factory.begin() as session:
        row = session.get(OutboxMail, mail.id)
        if row is None:
            return
        if exc is None:
            row.sent_at, row.last_error = now, None
        else:
            row.next_attempt_at = now + retry_delay(row.attempts)
            row.last_error = f"{type(exc).__name__}: {exc}"[:500]


def send_due(
    factory: sessionmaker[Session], smtp: SmtpSettings, *, now: datetime | None = None, batch: int = BATCH
) -> int:
    """Send up to ``batch`` due mails over one SMTP connection; returns how many were sent.

    A failure to reach the server puts the mail it was for back with a back-off and ends the round (the others
    wait for the next one); a refusal of one message defers that mail alone."""
    now = now or utcnow()
    sent = 0
    client: smtplib.SMTP | None = None
    try:
        for _ in range(batch):
            mail = _claim(factory, now)
            if mail is None:
                break
            try:
                if client is None:
                    client = _connect(smtp)
                client.send_message(as_message(mail, smtp))
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
                _settle(factory, mail, now, exc)
                continue
            except (OSError, smtplib.SMTPException) as exc:
                _settle(factory, mail, now, exc)
                client = None
                break
            _settle(factory, mail, now, None)
            sent += 1
    finally:
        if client is not None:
            try:
                client.quit()
            except (OSError, smtplib.SMTPException):
                client.close()
    return sent
