"""Proof parts to and from JSON-ready dictionaries: points and scalars as base64url (48 and 32 bytes).

Decoding checks shapes and scalar ranges and reports failures as :class:`~protocol.zk.errors.ProofInvalid`
with ``check="proof encoding"`` or ``"scalar range"``; points stay bytes here and are decoded (curve and
subgroup checks) by the verifier, which reports ``check="point encoding"``.

Example:
    >>> from protocol.zk.bulletproofs.inner_product import InnerProductProof
    >>> from protocol.zk.bulletproofs.range_proof import RangeProof
    >>> proof = RangeProof(b"A" * 48, b"S" * 48, b"1" * 48, b"2" * 48, 1, 2, 3, InnerProductProof((), (), 4, 5))
    >>> range_from_json(range_to_json(proof)) == proof
    True
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from protocol.encoding import b64url_decode, b64url_encode
from protocol.errors import EncodingError
from protocol.zk.bulletproofs.inner_product import InnerProductProof
from protocol.zk.bulletproofs.range_proof import RangeProof
from protocol.zk.errors import InvalidScalar, ProofInvalid
from protocol.zk.group.base import POINT_SIZE, scalar_from_bytes, scalar_to_bytes
from protocol.zk.sigma import QuadraticProof, SquareProof


def point_to_text(data: bytes) -> str:
    """An encoded point as base64url text.

    Example:
        >>> len(point_to_text(bytes(48)))
        64
    """
    return b64url_encode(data)


def point_from_text(text: Any) -> bytes:
    """The 48 bytes of a point from base64url text (the curve checks come later).

    Example:
        >>> point_from_text("AA")
        Traceback (most recent call last):
        ...
        protocol.zk.errors.ProofInvalid: a point is 48 bytes
    """
    try:
        data = b64url_decode(text)
    except EncodingError as exc:
        raise ProofInvalid(f"bad base64url point: {exc}", check="proof encoding") from exc
    if len(data) != POINT_SIZE:
        raise ProofInvalid("a point is 48 bytes", check="point encoding")
    return data


def scalar_to_text(k: int) -> str:
    """A scalar as base64url text of its 32 big-endian bytes.

    Example:
        >>> scalar_from_text(scalar_to_text(42))
        42
    """
    return b64url_encode(scalar_to_bytes(k))


def scalar_from_text(text: Any) -> int:
    """A scalar from base64url text, refusing a wrong length or a value ≥ r (``check="scalar range"``).

    Example:
        >>> from protocol.zk.group.base import ORDER
        >>> scalar_from_text(b64url_encode(ORDER.to_bytes(32, "big")))
        Traceback (most recent call last):
        ...
        protocol.zk.errors.ProofInvalid: a scalar must lie in [0, r)
    """
    try:
        return scalar_from_bytes(b64url_decode(text))
    except EncodingError as exc:
        raise ProofInvalid(f"bad base64url scalar: {exc}", check="proof encoding") from exc
    except InvalidScalar as exc:
        raise ProofInvalid(str(exc), check="scalar range") from exc


def _field(data: Any, name: str) -> Any:
    if not isinstance(data, Mapping) or name not in data:
        raise ProofInvalid(f"proof part {name!r} is missing", check="proof encoding")
    return data[name]


def _points(data: Any, name: str) -> tuple[bytes, ...]:
    items = _field(data, name)
    if not isinstance(items, list):
        raise ProofInvalid(f"proof part {name!r} is a list", check="proof encoding")
    return tuple(point_from_text(x) for x in items)


def _exact_keys(data: Any, keys: set[str], what: str) -> None:
    if not isinstance(data, Mapping) or set(data) != keys:
        raise ProofInvalid(f"{what} has missing or unexpected fields", check="proof encoding")


_RANGE_KEYS = {"A", "S", "T1", "T2", "t_hat", "tau_x", "mu", "L", "R", "a", "b"}
_SQUARE_KEYS = {"A1", "A2", "s_x", "s_r", "s_rel"}
_QUADRATIC_KEYS = {"A", "A_sum", "T0", "T1", "s", "s_r", "s_sum", "tau"}


def range_to_json(proof: RangeProof) -> dict[str, Any]:
    """A range proof as a JSON-ready dict.

    Example:
        >>> from protocol.zk.bulletproofs.inner_product import InnerProductProof
        >>> p = RangeProof(bytes(48), bytes(48), bytes(48), bytes(48), 0, 0, 0, InnerProductProof((), (), 0, 0))
        >>> sorted(range_to_json(p))[:3]
        ['A', 'L', 'R']
    """
    return {
        "A": point_to_text(proof.a),
        "S": point_to_text(proof.s),
        "T1": point_to_text(proof.t1),
        "T2": point_to_text(proof.t2),
        "t_hat": scalar_to_text(proof.t_hat),
        "tau_x": scalar_to_text(proof.tau_x),
        "mu": scalar_to_text(proof.mu),
        "L": [point_to_text(p) for p in proof.ipa.l_points],
        "R": [point_to_text(p) for p in proof.ipa.r_points],
        "a": scalar_to_text(proof.ipa.a),
        "b": scalar_to_text(proof.ipa.b),
    }


def range_from_json(data: Any) -> RangeProof:
    """The inverse of :func:`range_to_json`; ``ProofInvalid`` for any malformed part.

    Example:
        >>> range_from_json({})
        Traceback (most recent call last):
        ...
        protocol.zk.errors.ProofInvalid: range proof has missing or unexpected fields
    """
    _exact_keys(data, _RANGE_KEYS, "range proof")
    ipa = InnerProductProof(
        _points(data, "L"), _points(data, "R"), scalar_from_text(data["a"]), scalar_from_text(data["b"])
    )
    return RangeProof(
        a=point_from_text(data["A"]),
        s=point_from_text(data["S"]),
        t1=point_from_text(data["T1"]),
        t2=point_from_text(data["T2"]),
        t_hat=scalar_from_text(data["t_hat"]),
        tau_x=scalar_from_text(data["tau_x"]),
        mu=scalar_from_text(data["mu"]),
        ipa=ipa,
    )


def square_to_json(proof: SquareProof) -> dict[str, str]:
    """A square proof as a JSON-ready dict.

    Example:
        >>> sorted(square_to_json(SquareProof(bytes(48), bytes(48), 1, 2, 3)))
        ['A1', 'A2', 's_r', 's_rel', 's_x']
    """
    return {
        "A1": point_to_text(proof.a1),
        "A2": point_to_text(proof.a2),
        "s_x": scalar_to_text(proof.s_x),
        "s_r": scalar_to_text(proof.s_r),
        "s_rel": scalar_to_text(proof.s_rel),
    }


def square_from_json(data: Any) -> SquareProof:
    """The inverse of :func:`square_to_json`; ``ProofInvalid`` for any malformed part.

    Example:
        >>> square_from_json(square_to_json(SquareProof(bytes(48), bytes(48), 1, 2, 3))).s_rel
        3
    """
    _exact_keys(data, _SQUARE_KEYS, "square proof")
    return SquareProof(
        a1=point_from_text(data["A1"]),
        a2=point_from_text(data["A2"]),
        s_x=scalar_from_text(data["s_x"]),
        s_r=scalar_from_text(data["s_r"]),
        s_rel=scalar_from_text(data["s_rel"]),
    )


def quadratic_to_json(proof: QuadraticProof) -> dict[str, Any]:
    """A quadratic-form proof as a JSON-ready dict.

    Example:
        >>> p = QuadraticProof(bytes(48), bytes(48), bytes(48), bytes(48), (1, 2), 3, 4, 5)
        >>> len(quadratic_to_json(p)["s"])
        2
    """
    return {
        "A": point_to_text(proof.a),
        "A_sum": point_to_text(proof.a_sum),
        "T0": point_to_text(proof.t0),
        "T1": point_to_text(proof.t1),
        "s": [scalar_to_text(k) for k in proof.s],
        "s_r": scalar_to_text(proof.s_r),
        "s_sum": scalar_to_text(proof.s_sum),
        "tau": scalar_to_text(proof.tau),
    }


def quadratic_from_json(data: Any, count: int) -> QuadraticProof:
    """The inverse of :func:`quadratic_to_json`, expecting ``count`` answers; ``ProofInvalid`` when malformed.

    Example:
        >>> p = QuadraticProof(bytes(48), bytes(48), bytes(48), bytes(48), (1, 2), 3, 4, 5)
        >>> quadratic_from_json(quadratic_to_json(p), 2) == p
        True
    """
    _exact_keys(data, _QUADRATIC_KEYS, "quadratic-form proof")
    answers = data["s"]
    if not isinstance(answers, list) or len(answers) != count:
        raise ProofInvalid(f"the quadratic-form proof has {count} answers", check="proof encoding")
    return QuadraticProof(
        a=point_from_text(data["A"]),
        a_sum=point_from_text(data["A_sum"]),
        t0=point_from_text(data["T0"]),
        t1=point_from_text(data["T1"]),
        s=tuple(scalar_from_text(k) for k in answers),
        s_r=scalar_from_text(data["s_r"]),
        s_sum=scalar_from_text(data["s_sum"]),
        tau=scalar_from_text(data["tau"]),
    )


__all__ = [
    "point_from_text",
    "point_to_text",
    "quadratic_from_json",
    "quadratic_to_json",
    "range_from_json",
    "range_to_json",
    "scalar_from_text",
    "scalar_to_text",
    "square_from_json",
    "square_to_json",
]
