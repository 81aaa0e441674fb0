"""The SMTP settings from Settings (kept apart so that the mail modules never read settings themselves)."""

from __future__ import annotations

from hub.config import Settings
from hub.mail.sender import SmtpSettings


def smtp_settings(settings: Settings) -> SmtpSettings | None:
    """None without HUB_SMTP_HOST: mail is queued and waits for a server."""
    if not settings.smtp_host:
        return None
    return SmtpSettings(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.smtp_from,
        username=settings.smtp_username,
        password=settings.smtp_password,
        starttls=settings.smtp_starttls,
    )
