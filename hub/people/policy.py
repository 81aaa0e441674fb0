"""The session policy from Settings (kept apart so that the services never read settings themselves)."""

from __future__ import annotations

from datetime import timedelta

from hub.config import Settings
from hub.people.sessions import SessionPolicy


def session_policy(settings: Settings) -> SessionPolicy:
    return SessionPolicy(
        idle=timedelta(seconds=settings.session_idle_timeout_seconds),
        absolute=timedelta(seconds=settings.session_absolute_timeout_seconds),
        failure_window=timedelta(seconds=settings.sign_in_failure_window_seconds),
        max_failures_per_email=settings.sign_in_max_failures_per_email,
        max_failures_per_address=settings.sign_in_max_failures_per_address,
    )
