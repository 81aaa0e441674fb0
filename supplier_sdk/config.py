"""Where the ``supplier-sdk`` command line finds its hub, its credentials and its outbox.

Each setting comes from a command-line option when one is given, else from an environment variable, else from
its default. This module is the only place the SDK reads the environment.

========================  ==================  ==================================================================
environment variable      option              meaning
========================  ==================  ==================================================================
``QUALINK_HUB_URL``       ``--hub``           the hub's base URL, e.g. ``https://hub.example``
``QUALINK_CLIENT_ID``     ``--client-id``     the API client's id (``qlc_…``), registered for ``private_key_jwt``
``QUALINK_KEY_FILE``      ``--key-file``      the organization's Ed25519 private key: PKCS#8 PEM, a base64url 32-byte
                                              seed, or the raw 32 bytes
``QUALINK_OUTBOX``        ``--outbox``        the offline outbox file (default ``~/.qualink/outbox.db``)
``QUALINK_ENC_KEY_FILE``  ``--enc-key-file``  the organization's X25519 private key, to which room data keys are
                                              wrapped (rooms only): PKCS#8 PEM, base64url, or the raw 32 bytes
``QUALINK_PROFILE``       ``--profile``       the named profile of the config file to use (:mod:`supplier_sdk.profiles`)
``QUALINK_CONFIG``                            the config file with the profiles (default ``~/.qualink/config.toml``)
========================  ==================  ==================================================================

An empty variable counts as unset. A profile (named, or the file's ``default_profile``) fills in what neither an
option nor a variable gives; without a config file there are no profiles and nothing else changes.

Example:
    >>> config = load_config(hub="https://hub.example/", environ={"QUALINK_CLIENT_ID": "qlc_1"})
    >>> config.hub_url, config.client_id, config.key_file
    ('https://hub.example', 'qlc_1', None)
    >>> config.require_credentials()
    Traceback (most recent call last):
    ...
    supplier_sdk.errors.ConfigError: no key file: set QUALINK_KEY_FILE or pass --key-file
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from supplier_sdk.client import Client
from supplier_sdk.errors import ConfigError
from supplier_sdk.key_files import read_encryption_key_file, read_key_file
from supplier_sdk.outbox import Outbox
from supplier_sdk.profiles import (
    CONFIG_FILE_VAR,
    DEFAULT_CONFIG_FILE,
    PROFILE_VAR,
    Profile,
    ProfileBook,
    choose_profile,
    read_profiles,
)

HUB_URL_VAR = "QUALINK_HUB_URL"
"""Environment variable holding the hub's base URL (option ``--hub``).

Example:
    >>> HUB_URL_VAR
    'QUALINK_HUB_URL'
"""

CLIENT_ID_VAR = "QUALINK_CLIENT_ID"
"""Environment variable holding the API client id (option ``--client-id``).

Example:
    >>> CLIENT_ID_VAR
    'QUALINK_CLIENT_ID'
"""

KEY_FILE_VAR = "QUALINK_KEY_FILE"
"""Environment variable naming the Ed25519 private key file (option ``--key-file``).

Example:
    >>> KEY_FILE_VAR
    'QUALINK_KEY_FILE'
"""

OUTBOX_VAR = "QUALINK_OUTBOX"
"""Environment variable naming the outbox file (option ``--outbox``).

Example:
    >>> OUTBOX_VAR
    'QUALINK_OUTBOX'
"""

ENC_KEY_FILE_VAR = "QUALINK_ENC_KEY_FILE"
"""Environment variable naming the X25519 private key file for room datasets (option ``--enc-key-file``).

Example:
    >>> ENC_KEY_FILE_VAR
    'QUALINK_ENC_KEY_FILE'
"""

DEFAULT_OUTBOX = Path("~/.qualink/outbox.db")
"""The outbox file when neither ``--outbox`` nor ``QUALINK_OUTBOX`` names one (``~`` is the user's home).

Example:
    >>> DEFAULT_OUTBOX.name
    'outbox.db'
"""


@dataclass(frozen=True)
class SdkConfig:
    """The resolved settings: hub URL, client id and key file (each may be missing) and the outbox file.

    Attributes:
        hub_url: the hub's base URL without a trailing ``/``, or ``None``.
        client_id: the API client id, or ``None``.
        key_file: the private key file, or ``None``.
        outbox_path: the outbox file (``~`` expanded).
        enc_key_file: the X25519 private key file for room datasets, or ``None``.
        profile: the name of the profile the settings were completed from, or ``None``.

    Example:
        >>> SdkConfig(hub_url=None, client_id=None, key_file=None, outbox_path=Path("/tmp/o.db")).outbox_path.name
        'o.db'
    """

    hub_url: str | None
    client_id: str | None
    key_file: Path | None
    outbox_path: Path
    enc_key_file: Path | None = None
    profile: str | None = None

    def require_credentials(self) -> tuple[str, str, Path]:
        """Return ``(hub_url, client_id, key_file)``, or raise :class:`ConfigError` naming the first missing one.

        Example:
            >>> load_config(environ={}).require_credentials()
            Traceback (most recent call last):
            ...
            supplier_sdk.errors.ConfigError: no hub URL: set QUALINK_HUB_URL or pass --hub
        """
        if self.hub_url is None:
            raise ConfigError(f"no hub URL: set {HUB_URL_VAR} or pass --hub")
        if self.client_id is None:
            raise ConfigError(f"no client id: set {CLIENT_ID_VAR} or pass --client-id")
        if self.key_file is None:
            raise ConfigError(f"no key file: set {KEY_FILE_VAR} or pass --key-file")
        return self.hub_url, self.client_id, self.key_file

    def private_key(self) -> Ed25519PrivateKey:
        """Read the Ed25519 private key from :attr:`key_file` (PEM, base64url seed or raw 32 bytes).

        Raises:
            ConfigError: no key file, or one that cannot be read or holds no Ed25519 private key.

        Example:
            >>> import tempfile
            >>> path = Path(tempfile.mkdtemp()) / "supplier.key"
            >>> _ = path.write_text("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A\\n")
            >>> config = SdkConfig(hub_url=None, client_id=None, key_file=path, outbox_path=DEFAULT_OUTBOX)
            >>> from protocol.signing import key_id_for, public_key_raw
            >>> key_id_for(public_key_raw(config.private_key()))
            'kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k'
        """
        if self.key_file is None:
            raise ConfigError(f"no key file: set {KEY_FILE_VAR} or pass --key-file")
        return read_key_file(self.key_file)

    def encryption_key(self) -> X25519PrivateKey:
        """Read the X25519 private key from :attr:`enc_key_file` (PEM, base64url or raw 32 bytes).

        Raises:
            ConfigError: no key file, or one that cannot be read or holds no X25519 private key.

        Example:
            >>> import tempfile
            >>> path = Path(tempfile.mkdtemp()) / "org.enc.key"
            >>> _ = path.write_text("A" * 43)
            >>> config = SdkConfig(hub_url=None, client_id=None, key_file=None, outbox_path=DEFAULT_OUTBOX,
            ...                    enc_key_file=path)
            >>> isinstance(config.encryption_key(), X25519PrivateKey)
            True
        """
        if self.enc_key_file is None:
            raise ConfigError(f"no encryption key file: set {ENC_KEY_FILE_VAR} or pass --enc-key-file")
        return read_encryption_key_file(self.enc_key_file)

    def client(self, **options: Any) -> Client:
        """A :class:`~supplier_sdk.client.Client` for these settings; ``options`` go to its constructor.

        Raises:
            ConfigError: a setting is missing, or the key cannot be read.

        Example::

            with load_config().client() as hub:
                print(hub.organizations.me().name)
        """
        hub_url, client_id, _ = self.require_credentials()
        try:
            if self.enc_key_file is not None and "encryption_key" not in options:
                options["encryption_key"] = self.encryption_key()
            return Client(base_url=hub_url, client_id=client_id, private_key=self.private_key(), **options)
        except ValueError as exc:
            raise ConfigError(str(exc)) from exc

    def outbox(self) -> Outbox:
        """The :class:`~supplier_sdk.outbox.Outbox` at :attr:`outbox_path` (created if missing).

        Raises:
            ConfigError: the file or its folder cannot be created or opened.

        Example::

            print(len(load_config().outbox().pending()), "reports queued")
        """
        try:
            return Outbox(self.outbox_path)
        except (OSError, RuntimeError) as exc:
            raise ConfigError(f"cannot open the outbox {self.outbox_path}: {exc}") from exc


def _pick(option: str | Path | None, environ: Mapping[str, str], name: str) -> str | None:
    if option is not None and str(option).strip():
        return str(option).strip()
    value = environ.get(name, "").strip()
    return value or None


def profile_book(environ: Mapping[str, str] | None = None) -> ProfileBook:
    """The profiles of the config file (``QUALINK_CONFIG`` or ``~/.qualink/config.toml``); none without one.

    Raises:
        ConfigError: the file is malformed (the message says where).

    Example:
        >>> profile_book({"QUALINK_CONFIG": "/nonexistent/config.toml"}).names()
        []
    """
    env = os.environ if environ is None else environ
    return read_profiles(_pick(None, env, CONFIG_FILE_VAR) or DEFAULT_CONFIG_FILE)


def load_config(
    *,
    hub: str | None = None,
    client_id: str | None = None,
    key_file: str | Path | None = None,
    outbox: str | Path | None = None,
    enc_key_file: str | Path | None = None,
    profile: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> SdkConfig:
    """Resolve the settings: an option wins over its environment variable, which wins over the profile's
    setting, which wins over the default.

    Args:
        hub, client_id, key_file, outbox, enc_key_file: the command-line options (``None`` when not given).
        profile: the profile to use (``--profile``); ``None`` reads ``QUALINK_PROFILE``, then the config
            file's ``default_profile``.
        environ: the environment to read (default ``os.environ``).

    Raises:
        ConfigError: the hub URL is not an http(s) URL; the profile named is not in the config file.

    Example:
        >>> load_config(environ={"QUALINK_OUTBOX": "/var/lib/qualink/outbox.db"}).outbox_path.as_posix()
        '/var/lib/qualink/outbox.db'
        >>> load_config(hub="hub.example", environ={})
        Traceback (most recent call last):
        ...
        supplier_sdk.errors.ConfigError: hub URL must start with http:// or https://, not 'hub.example'
    """
    env = os.environ if environ is None else environ
    chosen = choose_profile(profile_book(env), _pick(profile, env, PROFILE_VAR)) or Profile(name="")
    hub_url = _pick(hub, env, HUB_URL_VAR) or chosen.hub_url
    if hub_url is not None:
        if not hub_url.startswith(("http://", "https://")):
            raise ConfigError(f"hub URL must start with http:// or https://, not {hub_url!r}")
        hub_url = hub_url.rstrip("/")
    key = _pick(key_file, env, KEY_FILE_VAR) or chosen.key_file
    box = _pick(outbox, env, OUTBOX_VAR) or chosen.outbox
    enc = _pick(enc_key_file, env, ENC_KEY_FILE_VAR) or chosen.enc_key_file
    return SdkConfig(
        hub_url=hub_url,
        client_id=_pick(client_id, env, CLIENT_ID_VAR) or chosen.client_id,
        key_file=None if key is None else Path(key).expanduser(),
        outbox_path=Path(box or DEFAULT_OUTBOX).expanduser(),
        enc_key_file=None if enc is None else Path(enc).expanduser(),
        profile=chosen.name or None,
    )


__all__ = [
    "CLIENT_ID_VAR",
    "DEFAULT_OUTBOX",
    "ENC_KEY_FILE_VAR",
    "HUB_URL_VAR",
    "KEY_FILE_VAR",
    "OUTBOX_VAR",
    "SdkConfig",
    "load_config",
    "profile_book",
    "read_encryption_key_file",
    "read_key_file",
]
