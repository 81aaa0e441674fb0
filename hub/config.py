"""The hub's one ``Settings`` object, read from ``HUB_*`` environment variables."""

from __future__ import annotations

import difflib
import hashlib
import hmac
import os
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Development mode runs with a well-known token-signing key so that `hub serve` works with nothing configured
# and several local workers agree on it. It is public, so production refuses it.
_DEVELOPMENT_KEY_SEED = hashlib.sha256(b"qualink development only - never use in production").digest()


def development_signing_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(_DEVELOPMENT_KEY_SEED)


# HUB_ names that are not settings of the hub: the test suite's (HUB_TEST_DATABASE_URL) and the benchmarks'
# (HUB_BENCH_*) own variables. They are namespaced so that no setting is ever spelled like them (a test keeps
# every field clear of these prefixes); any other HUB_ name the hub does not know refuses start-up.
NON_SETTING_PREFIXES = ("HUB_TEST_", "HUB_BENCH_")

DEVELOPMENT_WARNING = (
    "DEVELOPMENT MODE: tokens and audit checkpoints are signed with the public development key from the "
    "source code; anyone can forge them. Never expose this hub: set HUB_ENVIRONMENT=production."
)

_LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")


class UnknownSetting(ValueError):
    """A HUB_ variable that is no setting: a misspelled one would otherwise be silently ignored."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HUB_", extra="ignore")

    environment: Literal["development", "production"] = "development"
    database_url: str = "sqlite:///./qualink.db"
    issuer: str = "http://localhost:8000"
    token_signing_key: str | None = Field(default=None, repr=False)
    # After rotating the token key: the old keys' public halves (PEM, several concatenated), so that tokens
    # already issued and audit checkpoints signed before the rotation still verify.
    previous_token_public_keys: str | None = None
    access_token_ttl_seconds: int = Field(default=600, ge=30, le=3600)
    client_assertion_max_age_seconds: int = Field(default=300, ge=30, le=3600)
    # POST /oauth/token: failed client authentications allowed per window before a 429, counted in the database
    # (every replica shares the counts). Per (client id, source address), so an attacker elsewhere cannot lock a
    # client out, and per source address, so one address cannot try many client ids.
    token_failures_per_client_address: int = Field(default=10, ge=1)
    token_failures_per_address: int = Field(default=100, ge=1)
    token_failure_window_seconds: int = Field(default=60, ge=1, le=86400)
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    # Slow clients (`hub serve`, hub.serving): how long a request's headers may take to arrive, the longest pause
    # between two reads of a body, and the least average body rate once a body has taken body_timeout_seconds.
    header_timeout_seconds: float = Field(default=10.0, gt=0, le=600)
    body_timeout_seconds: float = Field(default=30.0, gt=0, le=3600)
    body_min_bytes_per_second: int = Field(default=256, ge=0, description="0 turns the rate check off")
    genealogy_import_max_body_bytes: int = Field(
        default=8 * 1024**3, ge=1024, description="POST /v1/genealogy:import streams; its own body limit"
    )
    report_max_skew_seconds: int = Field(default=300, ge=5)
    # KPI-ZK: the HMAC key from which every worker derives the same attestation nonce for a supplier's period
    # without storing it. Unset, it is derived from the token signing key (so production, which refuses the
    # development key, never runs on a public one); set it to keep nonces stable across token-key rotations.
    attestation_secret: str | None = Field(default=None, repr=False, min_length=32)
    log_level: str = "INFO"
    log_json: bool = False
    database_pool_size: int = Field(default=10, ge=1)
    # PostgreSQL behind a pooler (deploy/README.md, "PgBouncer"). psycopg prepares a statement on the server after
    # it ran this many times on one connection; behind PgBouncer's transaction pooling (before 1.21, or without
    # max_prepared_statements) the next transaction may run on another server connection, which never saw it.
    # "none" (or "off") turns server-side prepared statements off; 0 prepares every statement.
    database_prepare_threshold: int | None = Field(default=5, ge=0)
    # LISTEN needs one server session for as long as it listens, which transaction pooling does not give: the
    # events wake-up listener connects here (PostgreSQL itself, not the pooler) when set. Unset: the listener uses
    # HUB_DATABASE_URL. Everything else the hub does holds only for one transaction and goes through the pooler.
    database_direct_url: str | None = Field(default=None, repr=False)
    database_busy_timeout_seconds: float = Field(
        default=30.0, gt=0, description="how long a SQLite writer waits for the write lock before a 503"
    )
    audit_seal_interval_seconds: float = Field(
        default=5.0, ge=0, description="0 turns the background sealer off"
    )
    housekeeping_interval_seconds: float = Field(default=600.0, ge=0, description="0 turns housekeeping off")
    rules_sweep_interval_seconds: float = Field(
        default=60.0, ge=0, description="0 turns the due-date sweep off"
    )
    notifications_escalation_interval_seconds: float = Field(
        default=60.0,
        ge=0,
        description="0 turns off the job that escalates notifications past their target date",
    )
    webhook_dispatch_interval_seconds: float = Field(
        default=0.25, ge=0, description="0 turns the webhook dispatcher off in `hub serve` (run `hub worker`)"
    )
    webhook_dispatch_batch: int = Field(default=100, ge=1, le=10000)
    events_sequence_interval_seconds: float = Field(
        default=0.2, ge=0, description="0 turns the event sequencer off (events then never reach readers)"
    )
    retention_interval_seconds: float = Field(
        default=3600.0,
        ge=0,
        description="0 turns off the retention job (making partitions ahead, dropping expired data)",
    )
    retention_events_days: int | None = Field(
        default=None, ge=1, description="Keep events this many days (whole months); unset keeps them forever"
    )
    retention_audit_entries_days: int | None = Field(
        default=None, ge=1, description="Keep audit entries this many days (whole months); unset: forever"
    )
    retention_webhook_deliveries_days: int | None = Field(
        default=90, ge=1, description="Keep webhook deliveries this many days (whole months); unset: forever"
    )
    retention_period_outcomes_days: int | None = Field(
        default=None, ge=1, description="Keep period outcomes this many days (whole months); unset: forever"
    )
    retention_partitions_ahead: int = Field(
        default=3, ge=1, le=24, description="Months of partitions made ahead of time (PostgreSQL)"
    )
    retention_batch: int = Field(
        default=5000, ge=1, description="Rows per DELETE where retention deletes rows"
    )
    room_expiry_interval_seconds: float = Field(
        default=60.0, ge=0, description="0 turns the room expiry job off"
    )
    room_dataset_max_bytes: int = Field(
        default=4 * 1024**3,
        ge=1024,
        description="Largest dataset ciphertext a room accepts (streamed to storage)",
    )
    # People and the console: browser sessions end after this much idleness, and in any case this long after
    # sign-in; failed sign-ins are counted per e-mail and per address over the window, and refused past the limit.
    session_idle_timeout_seconds: int = Field(default=1800, ge=60)
    session_absolute_timeout_seconds: int = Field(default=12 * 3600, ge=300)
    sign_in_failure_window_seconds: int = Field(default=900, ge=10, le=86400)
    sign_in_max_failures_per_email: int = Field(default=5, ge=1)
    sign_in_max_failures_per_address: int = Field(default=20, ge=1)
    # E-mail (downgrades, alerts at a plant, escalations, invitations): queued in the outbox with the change that
    # causes it and sent by a background job; without HUB_SMTP_HOST mail stays queued until one is configured.
    smtp_host: str | None = None
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: str | None = Field(default=None, repr=False)
    smtp_from: str = "qualink@localhost"
    smtp_starttls: bool = False
    mail_send_interval_seconds: float = Field(default=5.0, ge=0, description="0 turns the mail sender off")
    # Single sign-on: the key that encrypts each OIDC provider's client secret in the database and the pending
    # sign-in cookie. Development falls back to a public key from the source; production has no default.
    sso_secret_key: str | None = Field(default=None, repr=False, min_length=32)
    sso_http_timeout_seconds: float = Field(default=10.0, gt=0, le=60)

    @field_validator("database_prepare_threshold", mode="before")
    @classmethod
    def _none_turns_preparing_off(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().lower() in ("", "none", "off"):
            return None
        return value

    @model_validator(mode="after")
    def _direct_url_is_postgresql(self) -> Settings:
        if self.database_direct_url and (
            self.is_sqlite or not self.database_direct_url.startswith("postgresql")
        ):
            raise ValueError(
                "HUB_DATABASE_DIRECT_URL is for PostgreSQL behind a pooler: a postgresql:// URL, "
                "with HUB_DATABASE_URL on PostgreSQL too"
            )
        return self

    @field_validator("issuer")
    @classmethod
    def _no_trailing_slash(cls, issuer: str) -> str:
        # A field validator, not an assignment in the model validator: that would mark the issuer as given.
        return issuer.rstrip("/")

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> Settings:
        if self.environment == "production":
            if not self.token_signing_key:
                raise ValueError("HUB_TOKEN_SIGNING_KEY is required when HUB_ENVIRONMENT=production")
            if self.signing_key().private_bytes_raw() == _DEVELOPMENT_KEY_SEED:
                raise ValueError("HUB_TOKEN_SIGNING_KEY is the public development key; generate your own")
            # The default issuer names a laptop: clients would get tokens no other replica's URL matches.
            if "issuer" not in self.model_fields_set:
                raise ValueError(
                    "HUB_ISSUER is required when HUB_ENVIRONMENT=production: the public https URL clients use"
                )
            if not self.issuer.startswith("https://"):
                raise ValueError("HUB_ISSUER must be an https URL when HUB_ENVIRONMENT=production")
        return self

    def signing_key(self) -> Ed25519PrivateKey:
        if not self.token_signing_key:
            return development_signing_key()
        key = serialization.load_pem_private_key(self.token_signing_key.encode(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("HUB_TOKEN_SIGNING_KEY must be an Ed25519 private key in PEM (PKCS#8)")
        return key

    def attestation_key(self) -> bytes:
        """The HMAC-SHA256 key for KPI-ZK nonces."""
        if self.attestation_secret:
            return self.attestation_secret.encode()
        seed = self.signing_key().private_bytes_raw()
        return hmac.new(seed, b"qualink KPI-ZK attestation nonces", hashlib.sha256).digest()

    def sso_key(self) -> bytes:
        """32 bytes from which single sign-on derives its encryption keys; refused in production when unset."""
        if self.sso_secret_key:
            return hashlib.sha256(self.sso_secret_key.encode()).digest()
        if self.environment == "development":
            return hashlib.sha256(b"qualink development sso key - never use in production").digest()
        raise ValueError("HUB_SSO_SECRET_KEY is required for single sign-on when HUB_ENVIRONMENT=production")

    def previous_public_keys(self) -> list[Ed25519PublicKey]:
        if not self.previous_token_public_keys:
            return []
        blocks = re.findall(
            r"-----BEGIN PUBLIC KEY-----.+?-----END PUBLIC KEY-----", self.previous_token_public_keys, re.S
        )
        keys = [serialization.load_pem_public_key(block.encode()) for block in blocks]
        if not blocks or not all(isinstance(key, Ed25519PublicKey) for key in keys):
            raise ValueError("HUB_PREVIOUS_TOKEN_PUBLIC_KEYS must hold Ed25519 public keys in PEM")
        return [key for key in keys if isinstance(key, Ed25519PublicKey)]

    @property
    def token_endpoint(self) -> str:
        return f"{self.issuer}/oauth/token"

    @property
    def issuer_is_set(self) -> bool:
        """True when HUB_ISSUER (or the caller) named the issuer, False when it is the built-in default."""
        return "issuer" in self.model_fields_set

    def client_assertion_audiences(self) -> list[str]:
        """What a client assertion's ``aud`` may be: the token endpoint or the issuer.

        In development a loopback issuer also accepts its other loopback spellings, so an SDK that calls
        ``http://127.0.0.1:N`` is not refused by a hub whose issuer says ``http://localhost:N`` (and back).
        Production accepts exactly the configured URL."""
        bases = [self.issuer]
        parts = urlsplit(self.issuer)
        if self.environment == "development" and parts.hostname is not None:
            host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
            if host in _LOOPBACK_HOSTS:
                port = f":{parts.port}" if parts.port else ""
                bases += [
                    urlunsplit(parts._replace(netloc=f"{alias}{port}"))
                    for alias in _LOOPBACK_HOSTS
                    if alias != host
                ]
        return [audience for base in bases for audience in (f"{base}/oauth/token", base)]

    @property
    def listener_database_url(self) -> str:
        """Where the events wake-up listener connects: PostgreSQL itself when a pooler stands in between."""
        return self.database_direct_url or self.database_url

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """Each HUB_ variable in ``environ`` that is no setting, as "NAME (did you mean KNOWN?)"."""
    known = sorted(f"HUB_{name.upper()}" for name in Settings.model_fields)
    found = []
    for name in sorted(environ):
        upper = name.upper()  # the settings are read case-insensitively, so is this check
        if not upper.startswith("HUB_") or upper in known or upper.startswith(NON_SETTING_PREFIXES):
            continue
        close = difflib.get_close_matches(upper, known, n=1, cutoff=0.5)
        found.append(f"{name} (did you mean {close[0]}?)" if close else name)
    return found


def unknown_environment_variables() -> list[str]:
    """:func:`unknown_variables` of this process's environment."""
    return unknown_variables(os.environ)


def refuse_unknown_variables(environ: Mapping[str, str]) -> None:
    unknown = unknown_variables(environ)
    if unknown:
        raise UnknownSetting(f"unknown setting {', '.join(unknown)}: the hub reads no such variable")


def issuer_for_served_address(host: str, port: int) -> str:
    """The issuer a development hub takes when it serves ``host:port`` and HUB_ISSUER is unset."""
    if host in ("0.0.0.0", "::", ""):  # noqa: S104 (recognizing the wildcard, not binding to it)
        host = "localhost"  # every interface: the loopback name is the one a local SDK is sure to reach
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


def follow_served_address(host: str, port: int) -> Settings:
    """In development without HUB_ISSUER: the issuer becomes the served address, for this process and the
    uvicorn worker processes it starts (they read the environment afresh), and the new settings are returned."""
    os.environ["HUB_ISSUER"] = issuer_for_served_address(host, port)
    get_settings.cache_clear()
    return get_settings()


@lru_cache
def get_settings() -> Settings:
    """The settings from the environment; an unknown HUB_ variable raises :class:`UnknownSetting`."""
    refuse_unknown_variables(os.environ)
    return Settings()
