"""Exceptions raised by KPI-ZK v1 (``protocol.zk``).

Every KPI-ZK error is a :class:`~protocol.errors.ProtocolError`, so callers that already catch the QX/1 family
catch these too. Malformed group elements and scalars are also ``ValueError`` s, like the other input errors of
the library::

    ProtocolError
     └── ZkError
          ├── InvalidPoint (ValueError)    bytes that are not a G1 point: length, flags, x ≥ p, off curve,
          │                                outside the prime-order subgroup, or the identity where not allowed
          ├── InvalidScalar (ValueError)   a scalar outside [0, r) or not 32 bytes
          ├── ProofInvalid                 a proof that does not verify; ``check`` names the failed check
          └── WitnessDoesNotMeet           the prover's data does not meet the threshold, so no proof exists

Example:
    >>> from protocol.errors import ProtocolError
    >>> try:
    ...     raise ProofInvalid("range proof does not verify", check="range proof")
    ... except ProtocolError as exc:
    ...     (type(exc).__name__, exc.check)
    ('ProofInvalid', 'range proof')
"""

from __future__ import annotations

from protocol.errors import ProtocolError


class ZkError(ProtocolError):
    """Base of every error raised by ``protocol.zk``.

    Example:
        >>> issubclass(InvalidPoint, ZkError) and issubclass(ProofInvalid, ZkError)
        True
    """


class InvalidPoint(ZkError, ValueError):
    """Bytes that do not decode to an acceptable BLS12-381 G1 point.

    Raised for a wrong length, inconsistent flag bits, a coordinate ≥ p, a point off the curve, a curve point
    outside the prime-order subgroup, or the identity where the caller did not allow it.

    Example:
        >>> from protocol.zk.group import get_backend
        >>> try:
        ...     get_backend("reference").decode(b"\\x00" * 47)
        ... except InvalidPoint as exc:
        ...     str(exc)
        'a G1 point is 48 bytes, got 47'
    """


class InvalidScalar(ZkError, ValueError):
    """A scalar that is not a canonical element of the scalar field: outside ``[0, r)`` or not 32 bytes.

    Example:
        >>> from protocol.zk.group.base import ORDER, check_scalar
        >>> try:
        ...     check_scalar(ORDER)
        ... except InvalidScalar:
        ...     "refused"
        'refused'
    """


class ProofInvalid(ZkError):
    """A proof that does not verify; ``check`` names the check that failed.

    Typical checks: ``"range proof"``, ``"square relation"``, ``"public input n"``, ``"context binding"``,
    ``"point encoding"``, ``"scalar range"``.

    Example:
        >>> exc = ProofInvalid("the square relation does not hold", check="square relation")
        >>> (exc.check, str(exc))
        ('square relation', 'the square relation does not hold')
    """

    def __init__(self, message: str, *, check: str) -> None:
        super().__init__(message)
        self.check = check


class WitnessDoesNotMeet(ZkError):
    """Raised by a prover when the data does not meet the threshold, so no honest proof exists.

    Example:
        >>> raise WitnessDoesNotMeet("Cpk 1.10 is below the threshold 1.33")
        Traceback (most recent call last):
        ...
        protocol.zk.errors.WitnessDoesNotMeet: Cpk 1.10 is below the threshold 1.33
    """


__all__ = ["InvalidPoint", "InvalidScalar", "ProofInvalid", "WitnessDoesNotMeet", "ZkError"]
