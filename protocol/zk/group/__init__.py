"""BLS12-381 G1 backends behind one interface (:class:`~protocol.zk.group.base.GroupBackend`).

Three backends, byte-identical in everything they output:

- ``"arkworks"``: ``py_arkworks_bls12381`` (Rust), the default: a dependency of the package on every platform
  and Python version it ships a wheel for (CPython 3.11-3.14 on Linux x86_64/aarch64/armv7l/ppc64le/s390x/
  i686, macOS, Windows);
- ``"fast"``: plain integers (gmpy2 when installed), Jacobian coordinates and Pippenger multi-scalar
  multiplication; always available, the fallback (about 4 times slower);
- ``"reference"``: py-ecc (``optimized_bls12_381``), the slow reference.

Selection is explicit (a parameter, never an environment variable): :func:`default_backend` returns arkworks
when it is installed and falls back to fast otherwise, with a :class:`FallbackBackendWarning` (once per
process) that says how to get arkworks. Every backend has the variable-time ``mul``/``msm`` for public
scalars and the fixed-sequence ``mul_secret``/``msm_secret`` for the prover's secrets
(:mod:`protocol.zk.group.ladder`).

Example:
    >>> "reference" in available_backends() and "fast" in available_backends()
    True
    >>> get_backend("reference").name
    'reference'
"""

from __future__ import annotations

import importlib
import threading
import warnings
from functools import cache

from protocol.zk.group.base import ORDER as ORDER
from protocol.zk.group.base import GroupBackend, check_scalar

_MODULES = {
    "arkworks": ("protocol.zk.group.arkworks", "ArkworksBackend"),
    "fast": ("protocol.zk.group.fast", "FastBackend"),
    "reference": ("protocol.zk.group.reference", "ReferenceBackend"),
}
_PREFERENCE = ("arkworks", "fast", "reference")
_warned = threading.Event()

FALLBACK_MESSAGE = (
    "KPI-ZK: py_arkworks_bls12381 is not installed here, so proofs use the pure-Python 'fast' G1 backend "
    "(about 4 times slower; its secret-scalar ladder is constant-time only algorithmically, CPython integers "
    "are not). Install arkworks with: pip install 'py_arkworks_bls12381>=0.5' (qualink depends on it "
    "wherever a wheel exists)"
)
"""What :class:`FallbackBackendWarning` says.

Example:
    >>> "pip install 'py_arkworks_bls12381" in FALLBACK_MESSAGE
    True
"""


class FallbackBackendWarning(RuntimeWarning):
    """:func:`default_backend` fell back to the pure-Python backend because arkworks is not installed.

    Example:
        >>> issubclass(FallbackBackendWarning, RuntimeWarning)
        True
    """


@cache
def _load(name: str) -> GroupBackend | None:
    module_name, class_name = _MODULES[name]
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return None
    if not getattr(module, "AVAILABLE", True):
        return None
    backend: GroupBackend = getattr(module, class_name)()
    return backend


def available_backends() -> list[str]:
    """Names of the backends that can run here, fastest first.

    Example:
        >>> available_backends()[-1]
        'reference'
    """
    return [name for name in _PREFERENCE if _load(name) is not None]


def get_backend(name: str) -> GroupBackend:
    """The backend called ``name`` (one instance per process); ``ValueError`` if unknown or not installed.

    Example:
        >>> get_backend("reference") is get_backend("reference")
        True
        >>> get_backend("nope")
        Traceback (most recent call last):
        ...
        ValueError: unknown group backend 'nope'; choose one of arkworks, fast, reference
    """
    if name not in _MODULES:
        raise ValueError(f"unknown group backend {name!r}; choose one of {', '.join(sorted(_MODULES))}")
    backend = _load(name)
    if backend is None:
        raise ValueError(f"group backend {name!r} is not installed here")
    return backend


def default_backend() -> GroupBackend:
    """The fastest available backend: arkworks when installed, else fast with a warning (once per process).

    Example:
        >>> default_backend().name in {"arkworks", "fast"}
        True
    """
    name = available_backends()[0]
    if name != "arkworks" and not _warned.is_set():
        _warned.set()
        warnings.warn(FALLBACK_MESSAGE, FallbackBackendWarning, stacklevel=2)
    return get_backend(name)


__all__ = [
    "FALLBACK_MESSAGE",
    "FallbackBackendWarning",
    "GroupBackend",
    "available_backends",
    "check_scalar",
    "default_backend",
    "get_backend",
]
