"""KPI-ZK v1: zero-knowledge attestations that a KPI meets a threshold (``CPK ≥ t``, ``MTBF ≥ M``).

The package is pure: it performs no I/O and imports neither the hub nor the SDK. Its pieces are one module
each: ``group`` (BLS12-381 G1 backends behind one interface), ``generators`` (G, H and the Bulletproofs
vectors from hash-to-curve), ``errors``, and the proof layers built on them.

Example:
    >>> from protocol.zk.group import default_backend
    >>> len(default_backend().encode(default_backend().generator()))
    48
"""

__all__: list[str] = []
