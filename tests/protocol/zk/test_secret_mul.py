"""Secret-scalar multiplication: the fixed-length ladder gives the variable-time method's points on every backend,
runs the same sequence of group operations for every scalar, and the prover sends every secret through it."""

from __future__ import annotations

import secrets
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import py_ecc  # noqa: F401  # importing py-ecc raises the recursion limit; do it before hypothesis runs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocol.zk.attestation import prove_from_openings, verify_attestation
from protocol.zk.group import available_backends, get_backend
from protocol.zk.group.base import ORDER, GroupBackend
from protocol.zk.group.ladder import LADDER_BITS, ladder, ladder_scalar
from protocol.zk.pedersen import Opening
from protocol.zk.statements.cpk import CpkStatement, scaled
from protocol.zk.statements.mtbf import MtbfStatement
from tests.protocol.zk.proof_cases import CONTEXT, LSL, MTBF_CONTEXT, RESOLUTION, USL, capable_values

EDGES = [0, 1, 2, 3, ORDER - 1, ORDER - 2, ORDER, ORDER + 1, -1, -5, 2**255 - 1, 2**256 - 2 * ORDER]
FAST_BACKENDS = [name for name in available_backends() if name != "reference"]
scalars = st.one_of(st.sampled_from(EDGES), st.integers(min_value=-(2**260), max_value=2**260))


def same(group: GroupBackend, a: Any, b: Any) -> bool:
    return group.encode(a) == group.encode(b)


@pytest.mark.parametrize("name", FAST_BACKENDS)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(k=scalars, base=st.integers(min_value=1, max_value=2**64))
def test_the_ladder_gives_the_points_of_mul(name: str, k: int, base: int) -> None:
    group = get_backend(name)
    point = group.mul(group.generator(), base)
    assert same(group, group.mul_secret(point, k), group.mul(point, k))


@pytest.mark.parametrize("name", FAST_BACKENDS)
@settings(max_examples=15, deadline=None)
@given(ks=st.lists(scalars, min_size=0, max_size=6))
def test_the_secret_msm_gives_the_points_of_msm(name: str, ks: list[int]) -> None:
    group = get_backend(name)
    points = [group.hash_to_g1(b"term %d" % i, b"QX/1 test") for i in range(len(ks))]
    assert same(group, group.msm_secret(points, ks), group.msm(points, ks))


@pytest.mark.parametrize("k", [0, 1, ORDER - 1, 0xDEADBEEF])
def test_the_reference_ladder_matches_py_ecc(k: int) -> None:
    group = get_backend("reference")
    g = group.generator()
    assert same(group, group.mul_secret(g, k), group.mul(g, k))
    assert same(group, group.msm_secret([g, g], [k, 0]), group.mul(g, k))


@pytest.mark.parametrize("name", available_backends())
def test_the_identity_times_a_secret_is_the_identity(name: str) -> None:
    group = get_backend(name)
    assert group.is_identity(group.mul_secret(group.identity(), 12345))
    assert group.is_identity(group.msm_secret([], []))
    with pytest.raises(ValueError, match="as many scalars"):
        group.msm_secret([group.generator()], [])


@settings(max_examples=200, deadline=None)
@given(k=scalars)
def test_the_rewritten_scalar_has_a_fixed_top_bit_and_no_prefix_is_a_multiple_of_r(k: int) -> None:
    rewritten = ladder_scalar(k)
    assert rewritten >> LADDER_BITS == 1 and rewritten % ORDER == k % ORDER
    # the ladder holds (m·P, (m+1)·P) for each prefix m of k': neither may be the identity on the way
    for shift in range(1, LADDER_BITS + 1):
        prefix = rewritten >> shift
        assert prefix % ORDER and (prefix + 1) % ORDER


@pytest.mark.parametrize(
    "k", [*EDGES[:6], 0x1234567890ABCDEF, 0x5F19672FDF76CE51BA69C6076A0F77EADDB3A93BE6F89688DE17D813620A0002]
)
def test_the_ladder_runs_the_same_operations_for_every_scalar(k: int) -> None:
    """The sequence of group operations (and which operands are the identity) does not depend on the scalar."""
    group = get_backend("reference")
    trace: list[tuple[str, bool]] = []

    def add(a: Any, b: Any) -> Any:
        trace.append(("add", group.is_identity(a) or group.is_identity(b) or group.eq(a, b)))
        return group.add(a, b)

    def double(a: Any) -> Any:
        trace.append(("double", group.is_identity(a)))
        return group.add(a, a)

    assert same(group, ladder(group.generator(), k, add, double), group.mul(group.generator(), k))
    assert trace == [("double", False)] + [("add", False), ("double", False)] * LADDER_BITS


class RecordingBackend:
    """A real backend that records the scalars each multiplication method got from the prover."""

    def __init__(self, inner: GroupBackend) -> None:
        self.inner = inner
        self.name = f"recording-{inner.name}"
        self.public: list[int] = []
        self.secret: list[int] = []

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self.inner, attribute)

    def mul(self, p: Any, k: int) -> Any:
        self.public.append(k % ORDER)
        return self.inner.mul(p, k)

    def msm(self, points: Sequence[Any], scalars: Sequence[int]) -> Any:
        self.public += [k % ORDER for k in scalars]
        return self.inner.msm(points, scalars)

    def mul_secret(self, p: Any, k: int) -> Any:
        self.secret.append(k % ORDER)
        return self.inner.mul_secret(p, k)

    def msm_secret(self, points: Sequence[Any], scalars: Sequence[int]) -> Any:
        self.secret += [k % ORDER for k in scalars]
        return self.inner.msm_secret(points, scalars)


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every random number the prover draws (blindings, nonces, s_L, s_R) through ``secrets.randbelow``."""
    values: list[int] = []
    real = secrets.randbelow

    def recording(bound: int) -> int:
        value = real(bound)
        values.append(value)
        return value

    monkeypatch.setattr(secrets, "randbelow", recording)
    return values


def _cpk_case(pooled: bool) -> tuple[Any, dict[str, Any], dict[str, Any], list[int]]:
    ys = [scaled(x - LSL, RESOLUTION, "y") for x in capable_values()]
    statement = CpkStatement(
        n=len(ys),
        lsl=LSL,
        usl=USL,
        resolution=RESOLUTION,
        threshold=Decimal("1.33"),
        subgroups=(5,) * 12 if pooled else None,
    )
    openings = statement.openings(ys)
    vectors = statement.vector_openings(ys)
    witness = [v for o in vectors.values() for v in o.values]
    return statement, openings, vectors, witness


@pytest.mark.parametrize("case", ["cpk overall", "cpk pooled", "mtbf point"])
def test_the_prover_multiplies_every_secret_with_the_secret_operation(case: str, drawn: list[int]) -> None:
    group = RecordingBackend(get_backend("fast"))
    if case == "mtbf point":
        statement: Any = MtbfStatement(
            threshold=Decimal(50000), resolution=Decimal(1), form="point", confidence=None, r_max=None
        )
        openings: dict[str, Any] = {"T": Opening.fresh(400000), "r": Opening.fresh(2)}
        vectors: dict[str, Any] = {}
        witness: list[int] = []
        context = MTBF_CONTEXT
    else:
        statement, openings, vectors, witness = _cpk_case(pooled=case == "cpk pooled")
        context = CONTEXT
    drawn.clear()
    att = prove_from_openings(statement, openings, context=context, vectors=vectors, backend=group)  # type: ignore[arg-type]
    drawn = list(drawn)
    verify_attestation(att, backend=get_backend("fast"))

    blindings = [o.blinding for o in [*openings.values(), *vectors.values()]]
    values = [o.value % ORDER for o in openings.values()] + [v % ORDER for v in witness]
    public = set(group.public)
    secret = set(group.secret)
    assert drawn, "the prover drew no randomness"
    # every nonce, blinding and blinding vector the prover drew went only to the secret operations
    leaked = [value for value in drawn if value in public or (value + 1) in public]
    assert not leaked, f"{len(leaked)} random secrets reached the variable-time mul/msm"
    assert not public & set(blindings)
    assert set(blindings) <= secret
    # the witness values (aggregates, subgroup sums, hours) too; small ones could collide with public
    # constants such as the 1s of Σ Hᵢ, so only those beyond 2^20 are checked against the public side
    assert set(values) <= secret
    assert not public & {v for v in values if v > 2**20}


def test_the_fallback_warns_once_per_process_when_arkworks_is_missing() -> None:
    script = textwrap.dedent(
        """
        import sys, warnings
        sys.modules["py_arkworks_bls12381"] = None  # an install without the wheel: the import fails
        from protocol.zk.group import FallbackBackendWarning, default_backend
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            names = [default_backend().name for _ in range(3)]
        fallback = [w for w in caught if issubclass(w.category, FallbackBackendWarning)]
        print(names, len(fallback))
        print(fallback[0].message)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    first, message = done.stdout.splitlines()[:2]
    assert first == "['fast', 'fast', 'fast'] 1"
    assert "pip install 'py_arkworks_bls12381>=0.5'" in message


@pytest.mark.skipif("arkworks" not in available_backends(), reason="arkworks is not installed here")
def test_no_warning_when_arkworks_is_the_default() -> None:
    script = textwrap.dedent(
        """
        import warnings
        from protocol.zk.group import default_backend
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            name = default_backend().name
        print(name, len(caught))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.split() == ["arkworks", "0"]
