"""The Fiat-Shamir transcript: known answers, labels and lengths matter, challenges ratchet and stay in [1, r)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.zk.group import get_backend
from protocol.zk.group.base import ORDER
from protocol.zk.transcript import Transcript

VECTORS = Path(__file__).parent / "vectors" / "transcript.json"


def test_known_answers() -> None:
    vector = json.loads(VECTORS.read_text())
    t = Transcript(vector["label"].encode())
    for op in vector["ops"]:
        label = op["label"].encode()
        if op["op"] == "message":
            t.append_message(label, bytes.fromhex(op["data_hex"]))
        elif op["op"] == "int":
            t.append_int(label, op["value"])
        elif op["op"] == "scalar":
            t.append_scalar(label, op["value"])
        else:
            assert hex(t.challenge_scalar(label)) == op["expect"]


def challenge_after(*items: tuple[bytes, bytes]) -> int:
    t = Transcript(b"test")
    for label, data in items:
        t.append_message(label, data)
    return t.challenge_scalar(b"c")


def test_length_prefix_separates_label_and_data_boundaries() -> None:
    # Without length prefixes these two would absorb the same byte string.
    assert challenge_after((b"ab", b"c")) != challenge_after((b"a", b"bc"))
    assert challenge_after((b"a", b"b"), (b"c", b"")) != challenge_after((b"a", b"bc"))


def test_protocol_label_separates_domains() -> None:
    a, b = Transcript(b"QX/1 KPI-ZK v1"), Transcript(b"QX/1 KPI-ZK v2")
    assert a.challenge_scalar(b"x") != b.challenge_scalar(b"x")


def test_challenge_label_matters_and_challenges_ratchet() -> None:
    a, b = Transcript(b"t"), Transcript(b"t")
    assert a.challenge_scalar(b"x") != b.challenge_scalar(b"y")
    c = Transcript(b"t")
    assert c.challenge_scalar(b"x") != c.challenge_scalar(b"x")


def test_points_absorb_their_encoding_only() -> None:
    group = get_backend("reference")
    t = Transcript(b"t")
    with pytest.raises(ValueError, match="48-byte"):
        t.append_point(b"P", b"\x01" * 47)
    a, b = Transcript(b"t"), Transcript(b"t")
    a.append_point(b"P", group.encode(group.generator()))
    b.append_message(b"P", group.encode(group.generator()))
    assert a.challenge_scalar(b"x") == b.challenge_scalar(b"x")


def test_types_are_refused() -> None:
    t = Transcript(b"t")
    with pytest.raises(TypeError):
        t.append_int(b"n", True)
    with pytest.raises(TypeError):
        t.append_message(b"m", "text")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        t.append_message("label", b"m")  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.binary(max_size=8), st.binary(max_size=40)), max_size=5), st.binary(max_size=8))
def test_challenges_are_nonzero_scalars_and_deterministic(
    items: list[tuple[bytes, bytes]], label: bytes
) -> None:
    first, second = Transcript(b"t"), Transcript(b"t")
    for name, data in items:
        first.append_message(name, data)
        second.append_message(name, data)
    c = first.challenge_scalar(label)
    assert 0 < c < ORDER
    assert second.challenge_scalar(label) == c
