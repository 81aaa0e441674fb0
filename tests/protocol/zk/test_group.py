"""Every available G1 backend against known answers (RFC 9380 and our own vectors) and decoding rules."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from protocol.zk.errors import InvalidPoint, InvalidScalar
from protocol.zk.group import available_backends, default_backend, get_backend
from protocol.zk.group.base import ORDER, GroupBackend, check_scalar, scalar_from_bytes, scalar_to_bytes
from tests.protocol.zk.group_cases import load_vectors, malformed_encodings

KAT = load_vectors("kpi_zk_v1_group.json")
RFC = load_vectors("hash_to_g1_rfc9380.json")
MALFORMED = malformed_encodings()


@pytest.fixture(params=available_backends())
def group(request: pytest.FixtureRequest) -> GroupBackend:
    return get_backend(request.param)


def test_reference_and_fast_are_always_available_and_default_is_the_fastest() -> None:
    names = available_backends()
    assert {"reference", "fast"} <= set(names)
    assert default_backend().name == names[0]
    assert names[0] == ("arkworks" if "arkworks" in names else "fast")


def test_generator_and_identity_encodings(group: GroupBackend) -> None:
    assert group.encode(group.generator()).hex() == KAT["generator"]
    assert group.encode(group.identity()).hex() == KAT["identity"]
    assert group.is_identity(group.identity())
    assert not group.is_identity(group.generator())


@pytest.mark.parametrize("case", RFC["vectors"], ids=lambda case: repr(case["msg"]))
def test_hash_to_g1_matches_rfc_9380(group: GroupBackend, case: dict[str, str]) -> None:
    point = group.hash_to_g1(case["msg"].encode(), RFC["dst"].encode())
    x, y = int(case["x"], 16), int(case["y"], 16)
    p = int(
        "1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab", 16
    )
    expected = bytearray(x.to_bytes(48, "big"))
    expected[0] |= 0x80 | (0x20 if y > (p - 1) // 2 else 0)
    assert group.encode(point) == bytes(expected)


@pytest.mark.parametrize("case", KAT["mul"], ids=lambda case: f"{case['point']}*{case['k'][:6]}")
def test_scalar_multiplication_known_answers(group: GroupBackend, case: dict[str, str]) -> None:
    from protocol.zk.generators import generators

    gens = generators(0, group)
    base = {"G": gens.g, "H": gens.h}[case["point"]]
    assert group.encode(group.mul(base, int(case["k"]))).hex() == case["result"]


def test_msm_known_answers(group: GroupBackend) -> None:
    from protocol.zk.generators import generators

    gens = generators(4, group)
    named = {"G": gens.g, "H": gens.h, "U": gens.u}
    named |= {f"G/{i}": p for i, p in enumerate(gens.g_vec)} | {f"H/{i}": p for i, p in enumerate(gens.h_vec)}
    for case in KAT["msm"]:
        points = [named[name] for name in case["points"]]
        result = group.msm(points, [int(s) for s in case["scalars"]])
        assert group.encode(result).hex() == case["result"]


def test_group_law(group: GroupBackend) -> None:
    g = group.generator()
    two, three = group.mul(g, 2), group.mul(g, 3)
    assert group.eq(group.add(two, g), three)
    assert group.eq(group.add(g, g), two)
    assert group.is_identity(group.add(three, group.neg(three)))
    assert group.is_identity(group.mul(g, 0))
    assert group.is_identity(group.mul(g, ORDER))
    assert group.eq(group.mul(g, -2), group.neg(two))
    assert group.eq(group.mul(g, ORDER + 3), three)
    assert group.is_identity(group.msm([], []))
    assert group.eq(group.add(group.identity(), two), two)
    assert not group.eq(two, three)


def test_msm_refuses_mismatched_lengths(group: GroupBackend) -> None:
    with pytest.raises(ValueError, match="as many scalars"):
        group.msm([group.generator()], [1, 2])


def test_decode_round_trips(group: GroupBackend) -> None:
    for k in (1, 2, 7, ORDER - 1, 2**200 + 12345):
        point = group.mul(group.generator(), k)
        encoded = group.encode(point)
        assert group.eq(group.decode(encoded), point)
        assert group.encode(group.decode(encoded)) == encoded


def test_identity_decodes_only_when_allowed(group: GroupBackend) -> None:
    encoded = bytes.fromhex(KAT["identity"])
    with pytest.raises(InvalidPoint, match="identity"):
        group.decode(encoded)
    assert group.is_identity(group.decode(encoded, allow_identity=True))


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_decode_rejects(group: GroupBackend, name: str) -> None:
    with pytest.raises(InvalidPoint):
        group.decode(MALFORMED[name], allow_identity=True)


def test_scalar_checks() -> None:
    assert check_scalar(0) == 0
    assert check_scalar(ORDER - 1) == ORDER - 1
    for bad in (ORDER, ORDER + 1, -1, 2**256):
        with pytest.raises(InvalidScalar):
            check_scalar(bad)
    with pytest.raises(InvalidScalar):
        check_scalar(True)
    assert scalar_from_bytes(scalar_to_bytes(ORDER - 1)) == ORDER - 1
    with pytest.raises(InvalidScalar):
        scalar_from_bytes((ORDER + 1).to_bytes(32, "big"))
    with pytest.raises(InvalidScalar, match="32 bytes"):
        scalar_from_bytes(b"\x01" * 31)


def test_fast_backend_without_gmpy2_gives_the_same_bytes() -> None:
    # The fast backend falls back to Python ints when gmpy2 is missing: same known answers.
    script = """
import json, sys
sys.modules["gmpy2"] = None  # makes "import gmpy2" raise ImportError
from protocol.zk.group.fast import FastBackend
from protocol.zk.group.jacobian import GMPY2
from protocol.zk.generators import generators
assert not GMPY2
group = FastBackend()
kat = json.loads(sys.argv[1])
gens = generators(4, group)
assert group.encode(gens.h).hex() == kat["generators"]["H"]
named = {"G": gens.g, "H": gens.h, "U": gens.u}
named |= {f"G/{i}": p for i, p in enumerate(gens.g_vec)} | {f"H/{i}": p for i, p in enumerate(gens.h_vec)}
for case in kat["mul"]:
    assert group.encode(group.mul(named[case["point"]], int(case["k"]))).hex() == case["result"]
for case in kat["msm"]:
    points = [named[name] for name in case["points"]]
    assert group.encode(group.msm(points, [int(s) for s in case["scalars"]])).hex() == case["result"]
assert group.encode(group.decode(group.encode(gens.h))) == group.encode(gens.h)
print("ok")
"""
    result = subprocess.run(
        [sys.executable, "-c", script, json.dumps(KAT)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


@pytest.mark.parametrize(
    "case", load_vectors("kpi_zk_v1_decode_rejects.json")["cases"], ids=lambda case: case["name"]
)
def test_checked_in_rejects(group: GroupBackend, case: dict[str, object]) -> None:
    data = bytes.fromhex(str(case["hex"]))
    with pytest.raises(InvalidPoint):
        group.decode(data)
    if case.get("allowed_as_identity"):
        assert group.is_identity(group.decode(data, allow_identity=True))
    else:
        with pytest.raises(InvalidPoint):
            group.decode(data, allow_identity=True)


def test_checked_in_rejects_match_the_generated_ones() -> None:
    checked_in = {
        case["name"]: case["hex"] for case in load_vectors("kpi_zk_v1_decode_rejects.json")["cases"]
    }
    assert all(checked_in[name] == data.hex() for name, data in MALFORMED.items())


def test_domain_tags_up_to_255_bytes_and_no_longer() -> None:
    encodings = {
        get_backend(name).encode(get_backend(name).hash_to_g1(b"m", b"x" * 255))
        for name in available_backends()
    }
    assert len(encodings) == 1
    for name in available_backends():
        with pytest.raises(ValueError, match="255"):
            get_backend(name).hash_to_g1(b"m", b"x" * 256)
