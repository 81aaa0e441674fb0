"""Rule conditions in CEL (Common Expression Language), compiled once and checked on save.

A condition is checked three ways before it is stored: it must parse (the error names line and column), it
may use only the variables in ``protocol.models.rules.CEL_VARIABLES``, and it must give a bool for every kind
of period result (met, not met, missing, with and without a disclosed value), so that it can never fail later
while a report is being accepted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import cel

from hub.rules import certificate_functions, series
from protocol.models.rules import CEL_VARIABLES


class ConditionError(ValueError):
    """A condition that cannot be used; ``position`` is "line:column" when the parser knows it."""

    def __init__(self, message: str, *, position: str | None = None) -> None:
        super().__init__(message)
        self.position = position


_POSITION = re.compile(r"<input>:(\d+):(\d+): (.*?)(?:\n|$)")
_SAMPLES: list[dict[str, Any]] = [
    {"met": met, "missing": missing, "has_value": has_value, "value": value}
    for met, missing, has_value, value in (
        (True, False, True, 1.5),
        (False, False, True, 1.1),
        (False, False, False, 0.0),
        (True, False, False, 0.0),
        (False, True, False, 0.0),
    )
]


def _sample_context(sample: Mapping[str, Any]) -> dict[str, Any]:
    base = {"kpi": "cpk", "threshold": 1.33, "part": "P-1", "characteristic": "C-1", "period": "2026-W48"}
    return {**base, **sample}


@lru_cache(maxsize=4096)
def compile_condition(expression: str) -> Any:
    """The compiled program for ``expression``; raises ConditionError. Cached: rules share few conditions."""
    try:
        program = cel.compile(expression)
    except ValueError as exc:
        match = _POSITION.search(str(exc))
        if match:
            line, column, reason = match.groups()
            raise ConditionError(
                f"condition does not parse at line {line}, column {column}: {reason}",
                position=f"{line}:{column}",
            ) from exc
        raise ConditionError(f"condition does not parse: {exc}") from exc
    try:
        series.calls(expression)
    except series.SeriesCallError as exc:
        line = expression.count("\n", 0, exc.offset) + 1
        column = exc.offset - (expression.rfind("\n", 0, exc.offset) + 1) + 1
        raise ConditionError(f"{exc} (line {line}, column {column})", position=f"{line}:{column}") from exc
    try:
        certificate_functions.calls(expression)
    except certificate_functions.CertificateCallError as exc:
        line = expression.count("\n", 0, exc.offset) + 1
        column = exc.offset - (expression.rfind("\n", 0, exc.offset) + 1) + 1
        raise ConditionError(f"{exc} (line {line}, column {column})", position=f"{line}:{column}") from exc
    reads_certificates = certificate_functions.reads_certificates(expression)
    if reads_certificates and series.lookback(expression):
        raise ConditionError("a condition reads either certificates or the series, not both")
    unknown = sorted(set(program.variables()) - set(CEL_VARIABLES))
    if unknown:
        names = ", ".join(unknown)
        raise ConditionError(
            f"condition uses unknown variable(s) {names}; known: {', '.join(sorted(CEL_VARIABLES))}"
        )
    histories = series.SAMPLE_HISTORIES if series.lookback(expression) else [()]
    if reads_certificates:
        _check_certificate_rule(program)
        return program
    for sample, history in ((s, h) for s in _SAMPLES for h in histories):
        try:
            result = program.execute(with_series(_sample_context(sample), history))
        except (TypeError, RuntimeError, ValueError) as exc:
            raise ConditionError(
                f"condition fails for a period with {sample}: {str(exc).splitlines()[0]}"
            ) from exc
        if not isinstance(result, bool):
            raise ConditionError(f"condition must be true or false, not {type(result).__name__} ({result!r})")
    return program


def _check_certificate_rule(program: Any) -> None:
    for facts in certificate_functions.SAMPLE_FACTS:
        try:
            result = program.execute(with_certificates(facts))
        except (TypeError, RuntimeError, ValueError) as exc:
            raise ConditionError(
                f"condition fails for certificates {sorted(facts)}: {str(exc).splitlines()[0]}"
            ) from exc
        if not isinstance(result, bool):
            raise ConditionError(f"condition must be true or false, not {type(result).__name__} ({result!r})")


def with_certificates(facts: Mapping[str, Any]) -> Any:
    """The neutral period's variables with the certificate functions bound to one supplier's ``facts``."""
    return cel.Context(
        variables=dict(certificate_functions.NEUTRAL_PERIOD), functions=certificate_functions.bound(facts)
    )


def with_series(context: Mapping[str, Any], history: series.History) -> Any:
    """``context`` with the series functions bound to ``history`` (a plain dict when there is none)."""
    if not history:
        return dict(context)
    return cel.Context(variables=dict(context), functions=series.SeriesView(history).functions())


def is_bad(expression: str, context: Mapping[str, Any]) -> bool:
    """Whether one period's result is bad under ``expression`` (validated when the rule was saved)."""
    return bool(compile_condition(expression).execute(dict(context)))
