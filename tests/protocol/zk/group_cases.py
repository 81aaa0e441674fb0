"""Shared material for the group tests: the checked-in vectors and points that must not decode."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from protocol.zk.group.base import FIELD_MODULUS, ORDER

VECTORS = Path(__file__).parent / "vectors"
P = FIELD_MODULUS


def load_vectors(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VECTORS / name).read_text(encoding="utf-8"))
    return data


def sqrt_mod_p(value: int) -> int | None:
    root = pow(value, (P + 1) // 4, P)
    return root if root * root % P == value % P else None


def compress(x: int, y: int) -> bytes:
    flags = 0x80 | (0x20 if y > (P - 1) // 2 else 0)
    raw = bytearray(x.to_bytes(48, "big"))
    raw[0] |= flags
    return bytes(raw)


def r_times_is_identity(x: int, y: int) -> bool:
    """Whether r·(x, y) = O: affine double-and-add on integers, independent of every backend."""

    def add(a: tuple[int, int] | None, b: tuple[int, int] | None) -> tuple[int, int] | None:
        if a is None:
            return b
        if b is None:
            return a
        if a[0] == b[0]:
            if (a[1] + b[1]) % P == 0:
                return None
            slope = 3 * a[0] * a[0] * pow(2 * a[1], -1, P) % P
        else:
            slope = (b[1] - a[1]) * pow(b[0] - a[0], -1, P) % P
        x3 = (slope * slope - a[0] - b[0]) % P
        return x3, (slope * (a[0] - x3) - a[1]) % P

    result: tuple[int, int] | None = None
    base: tuple[int, int] | None = (x, y)
    k = ORDER
    while k:
        if k & 1:
            result = add(result, base)
        base = add(base, base)
        k >>= 1
    return result is None


def point_outside_subgroup(seed: int = 0) -> bytes:
    """A compressed point on E(Fp) that is not in the r-torsion (hash to x, no cofactor clearing)."""
    counter = seed
    while True:
        x = int.from_bytes(hashlib.sha256(b"outside %d" % counter).digest(), "big") % P
        y = sqrt_mod_p((x**3 + 4) % P)
        if y is not None and not r_times_is_identity(x, y):
            return compress(x, y)
        counter += 1


def x_off_curve(seed: int = 0) -> bytes:
    """A compressed encoding whose x has no y on the curve (x³ + 4 is not a square)."""
    counter = seed
    while True:
        x = int.from_bytes(hashlib.sha256(b"off %d" % counter).digest(), "big") % P
        if sqrt_mod_p((x**3 + 4) % P) is None:
            return compress(x, 0)
        counter += 1


GENERATOR_HEX = load_vectors("kpi_zk_v1_group.json")["generator"]


def malformed_encodings() -> dict[str, bytes]:
    """Every kind of bytes that decode must refuse, by name."""
    generator = bytes.fromhex(GENERATOR_HEX)
    infinity = bytes([0xC0]) + bytes(47)
    return {
        "empty": b"",
        "47 bytes": generator[:47],
        "49 bytes": generator + b"\x00",
        "uncompressed flag": bytes([generator[0] & 0x7F]) + generator[1:],
        "infinity with sign flag": bytes([0xE0]) + bytes(47),
        "infinity with nonzero x": infinity[:47] + b"\x01",
        "infinity flag on the generator": bytes([generator[0] | 0x40]) + generator[1:],
        "x equal to p": bytes([0x80 | (P >> 376)]) + (P % (1 << 376)).to_bytes(47, "big"),
        "x above p": bytes([0x9F]) + b"\xff" * 47,
        "x off the curve": x_off_curve(),
        "outside the subgroup": point_outside_subgroup(),
        "order-3 point (x = 0)": bytes([0x80]) + bytes(47),
    }
