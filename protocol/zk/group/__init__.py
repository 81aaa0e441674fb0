"""BLS12-381 G1 backends behind one interface (:class:`~protocol.zk.group.base.GroupBackend`).

Three backends, byte-identical in everything they output:

- ``"reference"``: py-ecc (``optimized_bls12_381``), the slow reference;
- ``"fast"``: plain integers (gmpy2 when installed), Jacobian coordinates and Pippenger multi-scalar
  multiplication; always available;
- ``"arkworks"``: ``py_arkworks_bls12381`` (Rust), when the ``arkworks`` extra is installed.

Selection is explicit (a parameter, never an environment variable): :func:`default_backend` returns arkworks
when it is installed and fast otherwise.

Example:
    >>> "reference" in available_backends() and "fast" in available_backends()
    True
    >>> get_backend("reference").name
    'reference'
"""

from __future__ import annotations

import importlib
from functools import cache

from protocol.zk.group.base import ORDER as ORDER
from protocol.zk.group.base import GroupBackend, check_scalar

_MODULES = {
    "arkworks": ("protocol.zk.group.arkworks", "ArkworksBackend"),
    "fast": ("protocol.zk.group.fast", "FastBackend"),
    "reference": ("protocol.zk.group.reference", "ReferenceBackend"),
}
_PREFERENCE = ("arkworks", "fast", "reference")


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
    """The fastest available backend: arkworks when installed, else fast.

    Example:
        >>> default_backend().name in {"arkworks", "fast"}
        True
    """
    return get_backend(available_backends()[0])


__all__ = ["GroupBackend", "available_backends", "check_scalar", "default_backend", "get_backend"]
