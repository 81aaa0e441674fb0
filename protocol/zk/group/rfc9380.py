"""RFC 9380 hash-to-curve for BLS12-381 G1 on plain integers, up to (not including) cofactor clearing.

Suite ``BLS12381G1_XMD:SHA-256_SSWU_RO_``: ``expand_message_xmd`` with SHA-256, two field elements, the
simplified SWU map onto the 11-isogenous curve E', the 11-isogeny onto E, and the sum of the two images.
The caller clears the cofactor (multiplication by ``h_eff``, :data:`H_EFF`) with its own arithmetic. The
isogeny constants are py-ecc's (they are data from the RFC); the code is independent of py-ecc's, so the
tests compare two implementations. Nothing here is secret, so nothing needs to run in constant time.

Example:
    >>> x, y = map_to_curve_sum(b"abc", b"QUUX-V01-CS02-with-BLS12381G1_XMD:SHA-256_SSWU_RO_")
    >>> (y * y - x**3 - 4) % FIELD_MODULUS
    0
"""

from __future__ import annotations

import hashlib

from py_ecc.optimized_bls12_381.constants import (
    ISO_11_A,
    ISO_11_B,
    ISO_11_X_DENOMINATOR,
    ISO_11_X_NUMERATOR,
    ISO_11_Y_DENOMINATOR,
    ISO_11_Y_NUMERATOR,
)

from protocol.zk.group.base import FIELD_MODULUS
from protocol.zk.group.jacobian import invert, mpz

H_EFF = 0xD201000000010001
"""``h_eff`` of the suite: multiplying by it clears the G1 cofactor (RFC 9380, section 8.8.1).

Example:
    >>> hex(H_EFF)
    '0xd201000000010001'
"""

_P = mpz(FIELD_MODULUS)  # gmpy2 when installed: the square roots and inversions dominate
_A = mpz(int(ISO_11_A.n))
_B = mpz(int(ISO_11_B.n))
_Z = 11
_X_NUM = [mpz(int(c.n)) for c in ISO_11_X_NUMERATOR]
_X_DEN = [mpz(int(c.n)) for c in ISO_11_X_DENOMINATOR]
_Y_NUM = [mpz(int(c.n)) for c in ISO_11_Y_NUMERATOR]
_Y_DEN = [mpz(int(c.n)) for c in ISO_11_Y_DENOMINATOR]
_SQRT_EXP = (FIELD_MODULUS + 1) // 4
_MINUS_B_OVER_A = -_B * invert(_A, _P) % _P
_X1_EXCEPTIONAL = _B * invert(_Z * _A % _P, _P) % _P  # B / (Z·A), when Z²u⁴ + Zu² = 0
_L = 64  # bytes per field element: ceil((381 + 128) / 8)


def expand_message_xmd(msg: bytes, dst: bytes, length: int) -> bytes:
    """``expand_message_xmd`` with SHA-256 (RFC 9380, section 5.3.1).

    Example:
        >>> expand_message_xmd(b"", b"QUUX-V01-CS02-with-expander-SHA256-128", 32).hex()[:16]
        '68a985b87eb6b469'
    """
    if len(dst) > 255:
        raise ValueError("a domain-separation tag is at most 255 bytes")
    ell = -(-length // 32)
    if ell > 255 or length > 65535:
        raise ValueError("expand_message_xmd cannot produce that many bytes")
    dst_prime = dst + bytes([len(dst)])
    b0 = hashlib.sha256(bytes(64) + msg + length.to_bytes(2, "big") + b"\x00" + dst_prime).digest()
    blocks = [hashlib.sha256(b0 + b"\x01" + dst_prime).digest()]
    for i in range(2, ell + 1):
        mixed = bytes(a ^ b for a, b in zip(b0, blocks[-1], strict=True))
        blocks.append(hashlib.sha256(mixed + bytes([i]) + dst_prime).digest())
    return b"".join(blocks)[:length]


def hash_to_field(msg: bytes, dst: bytes, count: int = 2) -> list[int]:
    """``count`` elements of Fp from ``msg`` (RFC 9380, section 5.2, L = 64).

    Example:
        >>> all(0 <= u < FIELD_MODULUS for u in hash_to_field(b"abc", b"tag"))
        True
    """
    data = expand_message_xmd(msg, dst, count * _L)
    return [int.from_bytes(data[i * _L : (i + 1) * _L], "big") % FIELD_MODULUS for i in range(count)]


def _sqrt(value: int) -> int | None:
    root = pow(value, _SQRT_EXP, _P)
    return root if root * root % _P == value else None


def _poly(coefficients: list[int], x: int) -> int:
    total = 0
    for coefficient in reversed(coefficients):
        total = (total * x + coefficient) % _P
    return total


def map_to_curve(u: int) -> tuple[int, int]:
    """Simplified SWU onto E' followed by the 11-isogeny onto E: an affine point of E(Fp), not yet in G1.

    Example:
        >>> x, y = map_to_curve(5)
        >>> (y * y - x**3 - 4) % FIELD_MODULUS
        0
    """
    p = _P
    u = mpz(u)
    tv1 = _Z * u * u % p
    tv2 = (tv1 * tv1 + tv1) % p
    x1 = _X1_EXCEPTIONAL if tv2 == 0 else _MINUS_B_OVER_A * (1 + invert(tv2, p)) % p
    y = _sqrt((x1 * x1 * x1 + _A * x1 + _B) % p)
    x = x1
    if y is None:
        x = tv1 * x1 % p
        y = _sqrt((x * x * x + _A * x + _B) % p)
        if y is None:  # pragma: no cover - impossible: one of gx1, gx2 is a square
            raise ArithmeticError("simplified SWU found no square")
    if u % 2 != y % 2:
        y = p - y if y else 0
    x_num, x_den = _poly(_X_NUM, x), _poly(_X_DEN, x)
    y_num, y_den = _poly(_Y_NUM, x), _poly(_Y_DEN, x)
    if x_den == 0 or y_den == 0:  # pragma: no cover - the exceptional case maps to the identity
        raise ArithmeticError("the isogeny maps this input to the identity")
    return int(x_num * invert(x_den, p) % p), int(y * y_num * invert(y_den, p) % p)


def _affine_add(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int] | None:
    p = _P
    if a[0] == b[0]:
        if (a[1] + b[1]) % p == 0:
            return None
        slope = 3 * a[0] * a[0] * invert(2 * a[1] % p, p) % p
    else:
        slope = (b[1] - a[1]) * invert((b[0] - a[0]) % p, p) % p
    x = (slope * slope - a[0] - b[0]) % p
    return int(x), int((slope * (a[0] - x) - a[1]) % p)


def map_to_curve_sum(msg: bytes, dst: bytes) -> tuple[int, int] | None:
    """``map_to_curve(u0) + map_to_curve(u1)``: the hash before cofactor clearing (``None`` = identity).

    Example:
        >>> map_to_curve_sum(b"", b"tag") is not None
        True
    """
    u0, u1 = hash_to_field(msg, dst, 2)
    return _affine_add(map_to_curve(u0), map_to_curve(u1))


__all__ = ["H_EFF", "expand_message_xmd", "hash_to_field", "map_to_curve", "map_to_curve_sum"]
