"""Named profiles in one config file: several hubs or organizations, one ``supplier-sdk --profile NAME`` away.

The file is TOML, at ``QUALINK_CONFIG`` or else ``~/.qualink/config.toml``; without a file nothing changes (the
options and ``QUALINK_*`` variables work as they always did). Each ``[profiles.NAME]`` table may set ``hub_url``,
``client_id``, ``key_file``, ``enc_key_file`` and ``outbox``; relative paths are relative to the file's folder.
``default_profile`` names the profile used when neither ``--profile`` nor ``QUALINK_PROFILE`` names one. A
setting given as an option or an environment variable still wins over the profile's.

Example file::

    default_profile = "aurora"

    [profiles.aurora]                     # Aurora Motors' hub
    hub_url = "https://hub.aurora.example"
    client_id = "qlc_3f9a…"
    key_file = "aurora.key"               # ~/.qualink/aurora.key
    enc_key_file = "aurora.enc.key"

    [profiles.borealis]
    hub_url = "https://qualink.borealis.example"
    client_id = "qlc_77c1…"
    key_file = "/etc/qualink/borealis.key"
    outbox = "/var/lib/qualink/borealis-outbox.db"

Example:
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "config.toml").write_text('[profiles.a]\\nhub_url = "https://a.example"\\nkey_file = "a.key"\\n')
    >>> book = read_profiles(folder / "config.toml")
    >>> book.get("a").hub_url, book.get("a").key_file == folder / "a.key"
    ('https://a.example', True)
    >>> book.get("b")
    Traceback (most recent call last):
    ...
    supplier_sdk.errors.ConfigError: no profile 'b' in ... (profiles: a)
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from supplier_sdk.errors import ConfigError

CONFIG_FILE_VAR = "QUALINK_CONFIG"
"""Environment variable naming the config file with the profiles.

Example:
    >>> CONFIG_FILE_VAR
    'QUALINK_CONFIG'
"""

PROFILE_VAR = "QUALINK_PROFILE"
"""Environment variable naming the profile to use (option ``--profile``).

Example:
    >>> PROFILE_VAR
    'QUALINK_PROFILE'
"""

DEFAULT_CONFIG_FILE = Path("~/.qualink/config.toml")
"""The config file when ``QUALINK_CONFIG`` names none.

Example:
    >>> DEFAULT_CONFIG_FILE.name
    'config.toml'
"""

_TEXT_SETTINGS = ("hub_url", "client_id")
_PATH_SETTINGS = ("key_file", "enc_key_file", "outbox")


@dataclass(frozen=True)
class Profile:
    """One named set of settings (each may be unset: ``None``).

    Example:
        >>> Profile(name="aurora", hub_url="https://hub.aurora.example").client_id is None
        True
    """

    name: str
    hub_url: str | None = None
    client_id: str | None = None
    key_file: Path | None = None
    enc_key_file: Path | None = None
    outbox: Path | None = None


@dataclass(frozen=True)
class ProfileBook:
    """The profiles of one config file and the one it names as default.

    Example:
        >>> ProfileBook(path=Path("c.toml")).names()
        []
    """

    path: Path
    default: str | None = None
    profiles: dict[str, Profile] = field(default_factory=dict)

    def names(self) -> list[str]:
        """The profile names, sorted.

        Example:
            >>> ProfileBook(path=Path("c.toml"), profiles={"b": Profile("b"), "a": Profile("a")}).names()
            ['a', 'b']
        """
        return sorted(self.profiles)

    def get(self, name: str) -> Profile:
        """The profile ``name``.

        Raises:
            ConfigError: there is none by that name (the message lists the names there are).

        Example:
            >>> ProfileBook(path=Path("c.toml"), profiles={"a": Profile("a")}).get("a").name
            'a'
        """
        if name not in self.profiles:
            known = ", ".join(self.names()) or "none"
            raise ConfigError(f"no profile {name!r} in {self.path} (profiles: {known})")
        return self.profiles[name]


def _setting(path: Path, name: str, key: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{path}: profiles.{name}.{key} must be a non-empty string")
    return value.strip()


def _profile(path: Path, name: str, table: Any) -> Profile:
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: profiles.{name} must be a table")
    unknown = sorted(set(table) - {*_TEXT_SETTINGS, *_PATH_SETTINGS})
    if unknown:
        allowed = ", ".join((*_TEXT_SETTINGS, *_PATH_SETTINGS))
        raise ConfigError(f"{path}: profiles.{name} has unknown setting {unknown[0]!r} (allowed: {allowed})")
    values: dict[str, Any] = {}
    for key in _TEXT_SETTINGS:
        if key in table:
            values[key] = _setting(path, name, key, table[key])
    for key in _PATH_SETTINGS:
        if key in table:
            given = Path(_setting(path, name, key, table[key])).expanduser()
            values[key] = given if given.is_absolute() else path.parent / given
    return Profile(name=name, **values)


def read_profiles(path: str | Path) -> ProfileBook:
    """Read the profiles of a config file; a missing file has none.

    Raises:
        ConfigError: the file is not valid TOML, or a profile has an unknown or malformed setting (the
            message names the file, the profile and the setting; a TOML error its line and column).

    Example: ``read_profiles("~/.qualink/config.toml").names()``
    """
    source = Path(path).expanduser()
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return ProfileBook(path=source)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {source}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source} is not valid TOML: {exc}") from None
    unknown = sorted(set(data) - {"default_profile", "profiles"})
    if unknown:
        raise ConfigError(f"{source}: unknown setting {unknown[0]!r} (allowed: default_profile, profiles)")
    tables = data.get("profiles", {})
    if not isinstance(tables, dict):
        raise ConfigError(f"{source}: profiles must be a table of [profiles.NAME] tables")
    default = data.get("default_profile")
    if default is not None and (not isinstance(default, str) or default not in tables):
        raise ConfigError(f"{source}: default_profile {default!r} is not one of its profiles")
    profiles = {name: _profile(source, name, table) for name, table in tables.items()}
    return ProfileBook(path=source, default=default, profiles=profiles)


def choose_profile(book: ProfileBook, name: str | None) -> Profile | None:
    """The profile ``name`` (``--profile`` or ``QUALINK_PROFILE``), else the book's default, else none.

    Raises:
        ConfigError: a name that is not in the book.

    Example:
        >>> choose_profile(ProfileBook(path=Path("c.toml")), None) is None
        True
    """
    if name is not None:
        return book.get(name)
    return None if book.default is None else book.get(book.default)


__all__ = [
    "CONFIG_FILE_VAR",
    "DEFAULT_CONFIG_FILE",
    "PROFILE_VAR",
    "Profile",
    "ProfileBook",
    "choose_profile",
    "read_profiles",
]
