"""A Merlin-style Fiat-Shamir transcript over SHAKE256: every absorbed item is labelled and length-prefixed.

The prover and the verifier feed the same sequence of labelled messages (public inputs, commitments, proof
points) into a transcript; a challenge is squeezed from everything absorbed so far, so a proof made for one
statement, context or commitment cannot be replayed for another ("Frozen Heart", Trail of Bits 2022: a
challenge that misses a public input lets an attacker forge proofs).

Framing (one SHAKE256 sponge, never reset)::

    init:       b"QX/1 transcript v1" , then append_message(b"dom-sep", label)
    message:    b"M" || u32be(len(label)) || label || u64be(len(data)) || data
    challenge:  b"C" || u32be(len(label)) || label || u64be(64) ; squeeze 64 bytes from a copy of the sponge,
                absorb b"c" || those 64 bytes back into the sponge (so every later challenge depends on it),
                and reduce them modulo r; a zero result is refused by squeezing again (retry counter).

Merlin itself is built on STROBE/Keccak-f; this is the same discipline (labels, lengths, ratcheted challenges)
on the SHAKE256 that ``hashlib`` already provides. The 64-byte wide reduction makes the modular bias < 2⁻²⁵⁰.

Example:
    >>> t = Transcript(b"QX/1 KPI-ZK v1")
    >>> t.append_message(b"statement", b"cpk_at_least")
    >>> t.append_int(b"n", 125)
    >>> c = t.challenge_scalar(b"x")
    >>> 0 < c < ORDER
    True
    >>> u = Transcript(b"QX/1 KPI-ZK v1")
    >>> u.append_message(b"statement", b"cpk_at_least")
    >>> u.append_int(b"n", 126)
    >>> u.challenge_scalar(b"x") == c
    False
"""

from __future__ import annotations

import hashlib

from protocol.zk.group.base import ORDER, POINT_SIZE, scalar_to_bytes

_INIT = b"QX/1 transcript v1"
_CHALLENGE_BYTES = 64


class Transcript:
    """A Fiat-Shamir transcript: labelled appends, then challenges that depend on everything appended before.

    Args:
        label: the protocol's domain separator (KPI-ZK uses ``b"QX/1 KPI-ZK v1"``).

    Example:
        >>> t = Transcript(b"demo")
        >>> t.append_scalar(b"k", 7)
        >>> a = t.challenge_scalar(b"a")
        >>> b = t.challenge_scalar(b"a")
        >>> a != b  # the first challenge was absorbed, so the same label gives a new value
        True
    """

    def __init__(self, label: bytes) -> None:
        self._sponge = hashlib.shake_256(_INIT)
        self.append_message(b"dom-sep", label)

    def _frame(self, op: bytes, label: bytes, length: int) -> None:
        if not isinstance(label, bytes):
            raise TypeError("a transcript label is bytes")
        self._sponge.update(op + len(label).to_bytes(4, "big") + label + length.to_bytes(8, "big"))

    def append_message(self, label: bytes, data: bytes) -> None:
        """Absorb ``data`` under ``label`` (both length-prefixed).

        Example:
            >>> t = Transcript(b"demo")
            >>> t.append_message(b"period", b"2026-W48")
        """
        if not isinstance(data, bytes | bytearray):
            raise TypeError("transcript data is bytes")
        self._frame(b"M", label, len(data))
        self._sponge.update(bytes(data))

    def append_point(self, label: bytes, encoded: bytes) -> None:
        """Absorb a G1 point in its 48-byte compressed encoding (identical for every backend).

        Example:
            >>> from protocol.zk.group import get_backend
            >>> group = get_backend("reference")
            >>> Transcript(b"demo").append_point(b"C", group.encode(group.generator()))
        """
        if len(encoded) != POINT_SIZE:
            raise ValueError(f"a point is absorbed as its {POINT_SIZE}-byte encoding")
        self.append_message(label, encoded)

    def append_scalar(self, label: bytes, k: int) -> None:
        """Absorb a scalar as 32 big-endian bytes (reduced modulo r).

        Example:
            >>> Transcript(b"demo").append_scalar(b"t_hat", 12345)
        """
        self.append_message(label, scalar_to_bytes(k))

    def append_int(self, label: bytes, value: int) -> None:
        """Absorb an integer public input of any size or sign, as its decimal text.

        Example:
            >>> Transcript(b"demo").append_int(b"lsl", -250)
        """
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError("append_int takes an int")
        self.append_message(label, str(value).encode("ascii"))

    def challenge_scalar(self, label: bytes) -> int:
        """Squeeze a challenge in ``[1, r)`` from everything absorbed so far, and absorb it.

        Example:
            >>> t = Transcript(b"demo")
            >>> 0 < t.challenge_scalar(b"y") < ORDER
            True
        """
        counter = 0
        while True:
            self._frame(b"C", label, _CHALLENGE_BYTES)
            if counter:
                self._sponge.update(counter.to_bytes(4, "big"))
            out = self._sponge.copy().digest(_CHALLENGE_BYTES)
            self._sponge.update(b"c" + out)
            value = int.from_bytes(out, "big") % ORDER
            if value != 0:
                return value
            counter += 1  # pragma: no cover - probability 2^-255


__all__ = ["Transcript"]
