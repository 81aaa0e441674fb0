"""The proof of a statement's relations: square proofs, then one aggregated range proof, in one transcript.

A statement (CPK, MTBF) reduces to named commitments plus two kinds of relations over affine forms of them
(:class:`~protocol.zk.pedersen.Combination`): *squares* (``C_sq`` holds the square of a form's value) and
*ranges* (a form's value lies in ``[0, 2^w)``). This module proves and verifies such a list; the statement
modules only supply the algebra. The proof's JSON is ``{"squares": [...], "range": {...}}``.

Example:
    >>> from protocol.zk.generators import generators
    >>> from protocol.zk.group import get_backend
    >>> from protocol.zk.pedersen import Combination, Opening
    >>> from protocol.zk.transcript import Transcript
    >>> from protocol.zk.equations import all_hold
    >>> gens = generators(0, get_backend("reference"))
    >>> rel = Relations(squares=[(Combination(0, {"x": 1}), "xx")], ranges=[(Combination(10, {"x": -1}), 4)])
    >>> openings = {"x": Opening.fresh(3), "xx": Opening.fresh(9)}
    >>> points = {k: v.commit(gens) for k, v in openings.items()}
    >>> proof = prove_relations(Transcript(b"t"), gens, rel, openings, points)
    >>> all_hold(gens.backend, relation_equations(Transcript(b"t"), gens, rel, points, proof))
    True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from protocol.zk.bulletproofs.range_proof import prove_range, verify_range
from protocol.zk.equations import Equation
from protocol.zk.errors import InvalidPoint, ProofInvalid
from protocol.zk.generators import Generators
from protocol.zk.group.base import Point
from protocol.zk.pedersen import Combination, Opening, VectorOpening
from protocol.zk.sigma import prove_quadratic, prove_square, verify_quadratic, verify_square
from protocol.zk.statements.encoding import (
    quadratic_from_json,
    quadratic_to_json,
    range_from_json,
    range_to_json,
    square_from_json,
    square_to_json,
)
from protocol.zk.transcript import Transcript


@dataclass(frozen=True)
class QuadraticForm:
    """``total`` holds Σ xⱼ and ``result`` holds Σ weightsⱼ·xⱼ² for the values x of the vector commitment
    ``vector`` (the pooled-sigma subgroup sums).

    Example:
        >>> QuadraticForm(vector="P", total="S1", result="T", weights=(5, 5)).weights
        (5, 5)
    """

    vector: str
    total: str
    result: str
    weights: tuple[int, ...]


@dataclass(frozen=True)
class Relations:
    """What a statement proves about its commitments.

    Attributes:
        squares: ``(form, name)``: the commitment ``name`` holds the square of the form's value.
        ranges: ``(form, width)``: the form's value lies in ``[0, 2^width)``.
        quadratic: an optional :class:`QuadraticForm` over a vector commitment, proven first.

    Example:
        >>> Relations(squares=[], ranges=[(Combination(0, {"r": 1}), 8)]).ranges[0][1]
        8
    """

    squares: Sequence[tuple[Combination, str]]
    ranges: Sequence[tuple[Combination, int]]
    quadratic: QuadraticForm | None = None


def _form_point(form: Combination, commitments: Mapping[str, Point], gens: Generators) -> Point:
    if form.constant == 0 and len(form.coefficients) == 1:
        ((name, k),) = form.coefficients.items()
        if k == 1:
            return commitments[name]
    return form.commitment(commitments, gens)


def prove_relations(
    transcript: Transcript,
    gens: Generators,
    relations: Relations,
    openings: Mapping[str, Opening],
    commitments: Mapping[str, Point],
    vectors: Mapping[str, VectorOpening] | None = None,
) -> dict[str, Any]:
    """Prove every relation (the transcript has absorbed the statement already); returns the proof's JSON.

    Example:
        >>> from protocol.zk.generators import generators
        >>> from protocol.zk.group import get_backend
        >>> gens = generators(0, get_backend("reference"))
        >>> o = {"r": Opening.fresh(3)}
        >>> proof = prove_relations(Transcript(b"t"), gens, Relations([], [(Combination(0, {"r": 1}), 2)]), o,
        ...                         {"r": o["r"].commit(gens)})
        >>> sorted(proof)
        ['range', 'squares']
    """
    result: dict[str, Any] = {}
    quadratic = relations.quadratic
    if quadratic is not None:
        quadratic_proof = prove_quadratic(
            transcript,
            gens,
            vector=(vectors or {})[quadratic.vector],
            total=openings[quadratic.total],
            form=openings[quadratic.result],
            weights=quadratic.weights,
        )
        result["quadratic"] = quadratic_to_json(quadratic_proof)
    squares = []
    for form, name in relations.squares:
        point = _form_point(form, commitments, gens)
        proof = prove_square(
            transcript, gens, x=form.opening(openings), square=openings[name], commitment=point
        )
        squares.append(square_to_json(proof))
    values = [form.opening(openings) for form, _ in relations.ranges]
    widths = [width for _, width in relations.ranges]
    range_proof = prove_range(transcript, gens, openings=values, widths=widths)
    return {**result, "squares": squares, "range": range_to_json(range_proof)}


def relation_equations(
    transcript: Transcript,
    gens: Generators,
    relations: Relations,
    commitments: Mapping[str, Point],
    proof: Any,
) -> list[Equation]:
    """The equations the proof must satisfy; ``ProofInvalid`` for a malformed proof or a bad point.

    Example:
        >>> from protocol.zk.generators import generators
        >>> from protocol.zk.group import get_backend
        >>> gens = generators(0, get_backend("reference"))
        >>> relation_equations(Transcript(b"t"), gens, Relations([], []), {}, {"squares": []})
        Traceback (most recent call last):
        ...
        protocol.zk.errors.ProofInvalid: the proof has fields range, squares
    """
    quadratic = relations.quadratic
    keys = {"squares", "range"} | ({"quadratic"} if quadratic is not None else set())
    if not isinstance(proof, Mapping) or set(proof) != keys:
        raise ProofInvalid(f"the proof has fields {', '.join(sorted(keys))}", check="proof encoding")
    squares = proof["squares"]
    if not isinstance(squares, list) or len(squares) != len(relations.squares):
        raise ProofInvalid(f"the proof has {len(relations.squares)} square proofs", check="proof encoding")
    equations: list[Equation] = []
    try:
        if quadratic is not None:
            equations += verify_quadratic(
                transcript,
                gens,
                quadratic_from_json(proof["quadratic"], len(quadratic.weights)),
                vector=commitments[quadratic.vector],
                total=commitments[quadratic.total],
                form=commitments[quadratic.result],
                weights=quadratic.weights,
            )
        for (form, name), data in zip(relations.squares, squares, strict=True):
            point = _form_point(form, commitments, gens)
            equations += verify_square(
                transcript, gens, square_from_json(data), commitment=point, square=commitments[name]
            )
        range_proof = range_from_json(proof["range"])
        derived = [
            [(form.constant, gens.g), *form.terms(commitments)] if form.constant else form.terms(commitments)
            for form, _ in relations.ranges
        ]
        widths = [width for _, width in relations.ranges]
        equations += verify_range(transcript, gens, range_proof, commitments=derived, widths=widths)
    except InvalidPoint as exc:
        raise ProofInvalid(f"a proof point does not decode: {exc}", check="point encoding") from exc
    except ValueError as exc:  # a proof of the wrong shape (number of inner-product rounds)
        if isinstance(exc, ProofInvalid):
            raise
        raise ProofInvalid(f"malformed range proof: {exc}", check="proof encoding") from exc
    return equations


__all__ = ["QuadraticForm", "Relations", "prove_relations", "relation_equations"]
