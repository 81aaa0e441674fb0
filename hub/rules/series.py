# ruff: noqa: RUF002, RUF003  (the statistics are written in their own letters: σ, λ, μ, −)
"""Rules that look ahead: CEL functions over the supplier's own series, before a period is judged bad.

A condition may call these functions besides reading the period's variables. Each reads the **history** of
the rule's series (agreement · part · characteristic · KPI): the recorded periods up to and including the one
being judged, oldest first. Arguments must be number literals, so that the hub knows on save how many periods a
condition looks back (``lookback``) and loads exactly those, in the one indexed window query it makes anyway.

**Points.** Over the last ``n`` periods, a series is *disclosed* if any of them carries a value: its points are
those values (periods without one, e.g. missing, are left out). Otherwise it is *proven-only* and its points are
1.0 for a met period and 0.0 for a not-met or missing one (a missing period counts as not met), so every function
reads a met rate: ``ewma`` is a smoothed met rate, ``slope`` the change of the met rate per period, and a
projection below 0.5 means "more likely not met than met". ``disclosed(n)`` tells a rule which one it reads.

| function | type | meaning | fewer than ``n`` periods recorded |
|---|---|---|---|
| ``disclosed(n)`` | bool | the last n periods carry a value | what there is |
| ``ewma(λ)``, ``ewma(λ, n)`` | double | z₁ = x₁, zₜ = λ·xₜ + (1−λ)·zₜ₋₁ over the last n points (n = 20), 0 < λ ≤ 1 | over what there is |
| ``slope(n)`` | double | least-squares slope per period over the last n periods (x = the period's place in time, so a gap counts) | 0.0 |
| ``projected(n, k)`` | double | that least-squares line read k periods after the newest | the newest point |
| ``nelson(r)``, ``nelson(r, n)`` | bool | Nelson rule r (1–8) completed by the newest point, limits from the last n points (n = 25) | false |

Nelson's rules (L. S. Nelson, *The Shewhart control chart — tests for special causes*, J. Quality Technology
16(4), 1984), centre line μ = the mean of the window and σ estimated from it: 1 one point beyond 3σ; 2 nine in a
row on one side of μ; 3 six in a row steadily increasing or decreasing; 4 fourteen in a row alternating up and
down; 5 two of three beyond 2σ on one side; 6 four of five beyond 1σ on one side; 7 fifteen in a row within 1σ;
8 eight in a row none within 1σ, on both sides. Rules 1, 5, 6 and 2 (with eight in a row) are the Western
Electric rules. σ is the average moving range over d₂ = 1.128 on a disclosed series (an individuals chart) and
√(p̄(1−p̄)) on a proven-only one (a p chart of single periods: with p̄ > 0.9, one miss is beyond 3σ). σ = 0 makes
every σ-based rule false. A series always has at least the point of the period being judged, so no function is
ever undefined; there is no NaN (CEL cannot compare it).
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from protocol.models.rules import MAX_WINDOW

EWMA_PERIODS = 20
NELSON_PERIODS = 25
D2 = 1.128  # E[moving range of two] / σ for a normal process

History = tuple[tuple[int, float | None, bool], ...]
"""One series up to the period being judged, oldest first: (place in time, value or None, met)."""


@dataclass(frozen=True)
class Signature:
    params: tuple[str, ...]  # "int" or "double" per argument
    optional: int  # how many trailing arguments may be left out
    returns: str  # "double" or "bool"
    lookback: Callable[[list[float]], int]


SIGNATURES: dict[str, Signature] = {
    "disclosed": Signature(("int",), 0, "bool", lambda a: int(a[0])),
    "ewma": Signature(("double", "int"), 1, "double", lambda a: int(a[1]) if len(a) > 1 else EWMA_PERIODS),
    "slope": Signature(("int",), 0, "double", lambda a: int(a[0])),
    "projected": Signature(("int", "int"), 0, "double", lambda a: int(a[0])),
    "nelson": Signature(("int", "int"), 1, "bool", lambda a: int(a[1]) if len(a) > 1 else NELSON_PERIODS),
}


# --- the statistics, on plain lists (oldest first) -------------------------------------------------------


def points(history: Sequence[tuple[int, float | None, bool]]) -> tuple[list[int], list[float], bool]:
    """The places, points and disclosure of ``history`` (see the module docstring)."""
    if any(value is not None for _, value, _ in history):
        kept = [(at, value) for at, value, _ in history if value is not None]
        return [at for at, _ in kept], [float(v) for _, v in kept], True
    return [at for at, _, _ in history], [1.0 if met else 0.0 for _, _, met in history], False


def ewma(xs: Sequence[float], lam: float) -> float:
    z = xs[0]
    for x in xs[1:]:
        z = lam * x + (1 - lam) * z
    return z


def least_squares(at: Sequence[int], xs: Sequence[float]) -> tuple[float, float]:
    """Slope and the line's value at the newest place; a flat line when the places do not differ."""
    n = len(xs)
    mean_t, mean_x = sum(at) / n, sum(xs) / n
    sxx = sum((t - mean_t) ** 2 for t in at)
    if sxx == 0:
        return 0.0, xs[-1]
    b = sum((t - mean_t) * (x - mean_x) for t, x in zip(at, xs, strict=True)) / sxx
    return b, mean_x + b * (at[-1] - mean_t)


def sigma(xs: Sequence[float], disclosed: bool) -> float:
    if not disclosed:
        p = sum(xs) / len(xs)
        return math.sqrt(p * (1 - p))
    if len(xs) < 2:
        return 0.0
    return sum(abs(b - a) for a, b in itertools.pairwise(xs)) / (len(xs) - 1) / D2


def _side(x: float, mu: float) -> int:
    return (x > mu) - (x < mu)


def nelson_rule(rule: int, xs: Sequence[float], mu: float, s: float) -> bool:
    """Whether the newest point of ``xs`` completes Nelson rule ``rule`` for centre ``mu`` and sigma ``s``."""
    z = [(x - mu) / s if s > 0 else 0.0 for x in xs]

    def tail(k: int) -> Sequence[float] | None:
        return xs[-k:] if len(xs) >= k else None

    if rule == 1:
        return s > 0 and abs(z[-1]) > 3
    if rule == 2:
        last = tail(9)
        return last is not None and len({_side(x, mu) for x in last}) == 1 and _side(last[-1], mu) != 0
    if rule == 3:
        last = tail(6)
        if last is None:
            return False
        steps = [b - a for a, b in itertools.pairwise(last)]
        return all(d > 0 for d in steps) or all(d < 0 for d in steps)
    if rule == 4:
        last = tail(14)
        if last is None:
            return False
        steps = [b - a for a, b in itertools.pairwise(last)]
        return all(d != 0 for d in steps) and all((a > 0) != (b > 0) for a, b in itertools.pairwise(steps))
    if s <= 0:
        return False
    if rule in (5, 6):
        k, of, limit = (2, 3, 2) if rule == 5 else (4, 5, 1)
        if len(z) < of:
            return False
        window = z[-of:]
        side = 1 if z[-1] > 0 else -1
        return side * z[-1] > limit and sum(1 for v in window if side * v > limit) >= k
    if rule == 7:
        return len(z) >= 15 and all(abs(v) < 1 for v in z[-15:])
    if rule == 8:
        last = z[-8:]
        return len(z) >= 8 and all(abs(v) > 1 for v in last) and min(last) < 0 < max(last)
    raise ValueError(f"there is no Nelson rule {rule}")


# --- the functions a condition calls ---------------------------------------------------------------------


@dataclass(frozen=True)
class SeriesView:
    """The series functions bound to one period's history."""

    history: History

    def _last(self, n: int) -> tuple[list[int], list[float], bool]:
        return points(self.history[-n:])

    def disclosed(self, n: int) -> bool:
        return self._last(int(n))[2]

    def ewma(self, lam: float, n: int = EWMA_PERIODS) -> float:
        return ewma(self._last(int(n))[1], float(lam))

    def slope(self, n: int) -> float:
        at, xs, _ = self._last(int(n))
        return least_squares(at, xs)[0] if len(self.history) >= n and len(xs) >= 2 else 0.0

    def projected(self, n: int, k: int) -> float:
        at, xs, _ = self._last(int(n))
        if len(self.history) < n or len(xs) < 2:
            return xs[-1]
        b, newest = least_squares(at, xs)
        return newest + b * int(k)

    def nelson(self, rule: int, n: int = NELSON_PERIODS) -> bool:
        if len(self.history) < n:
            return False
        _, xs, disclosed = self._last(int(n))
        return nelson_rule(int(rule), xs, sum(xs) / len(xs), sigma(xs, disclosed))

    def functions(self) -> dict[str, Callable[..., Any]]:
        return {name: getattr(self, name) for name in SIGNATURES}


SAMPLE_HISTORIES: list[History] = [
    ((1, 1.5, True),),
    ((1, None, True),),
    tuple((t, None, t % 3 != 0) for t in range(60)),
    tuple((t, 1.6 - 0.01 * t if t % 7 else None, t % 5 != 0) for t in range(60)),
]
"""Histories every condition is tried on when saved: short, proven-only, long, disclosed with gaps."""


# --- the calls a condition makes, found and checked on save ----------------------------------------------

_TOKEN = re.compile(
    r"""(?P<string>[rRbB]{0,2}(?:'''.*?'''|\"\"\".*?\"\"\"|'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"))"""
    r"|(?P<number>(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?[uU]?|0[xX][0-9a-fA-F]+[uU]?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>&&|\|\||==|!=|<=|>=|[-+*/%<>!?:.,()\[\]{}])"
    r"|(?P<space>\s+)",
    re.DOTALL,
)
_ARITHMETIC = {"+", "-", "*", "/", "%"}
_ORDERING = {"<", "<=", ">", ">="}


class SeriesCallError(ValueError):
    """A series function called wrongly; ``offset`` is where in the condition."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    offset: int


def _tokens(expression: str) -> list[Token]:
    found: list[Token] = []
    at = 0
    while at < len(expression):
        match = _TOKEN.match(expression, at)
        if match is None:  # the CEL parser has already said what is wrong here
            return found
        kind = match.lastgroup or ""
        if kind != "space":
            found.append(Token(kind, match.group(), at))
        at = match.end()
    return found


def _literal_type(token: Token) -> str:
    if token.kind == "string":
        return "string"
    if token.kind == "name" and token.text in ("true", "false"):
        return "bool"
    if token.kind == "name" and token.text == "null":
        return "null"
    if token.kind == "number":
        if token.text[-1] in "uU":
            return "uint"
        return "double" if any(c in token.text for c in ".eE") and not token.text.startswith("0x") else "int"
    return ""


def _check_neighbour(name: str, returns: str, op: Token, literal: Token) -> None:
    kind = _literal_type(literal)
    if not kind or op.text in ("&&", "||", "?", ":", ",", "(", ")"):
        return
    if returns == "double":
        wrong = (op.text in _ARITHMETIC and kind != "double") or (
            op.text in _ORDERING | {"==", "!="} and kind not in ("double", "int", "uint")
        )
        hint = "a double such as 1.0" if op.text in _ARITHMETIC else "a number"
    else:
        wrong = op.text in _ARITHMETIC | _ORDERING or (op.text in ("==", "!=") and kind != "bool")
        hint = "a bool (use && and ||)"
    if wrong:
        raise SeriesCallError(
            f"type error: {name}(…) is a {returns}, and {op.text} needs {hint}, not the {kind} {literal.text}",
            literal.offset,
        )


def calls(expression: str) -> list[tuple[str, list[float], int]]:
    """Each series function call in ``expression``: name, literal arguments, offset; raises SeriesCallError."""
    tokens = _tokens(expression)
    found = []
    for i, token in enumerate(tokens):
        if token.kind != "name" or token.text not in SIGNATURES:
            continue
        if i + 1 >= len(tokens) or tokens[i + 1].text != "(" or (i > 0 and tokens[i - 1].text == "."):
            continue
        signature = SIGNATURES[token.text]
        args, end = _arguments(token, tokens, i + 2, signature)
        found.append((token.text, args, token.offset))
        if i >= 2:
            _check_neighbour(token.text, signature.returns, tokens[i - 1], tokens[i - 2])
        if end + 2 < len(tokens):
            _check_neighbour(token.text, signature.returns, tokens[end + 1], tokens[end + 2])
    return found


def _arguments(call: Token, tokens: list[Token], start: int, signature: Signature) -> tuple[list[float], int]:
    args: list[float] = []
    at = start
    while at < len(tokens) and tokens[at].text != ")":
        token = tokens[at]
        kind = _literal_type(token)
        position = len(args)
        if position >= len(signature.params):
            raise SeriesCallError(
                f"{call.text} takes at most {len(signature.params)} argument(s)", token.offset
            )
        wanted = signature.params[position]
        if kind not in ("int", "double") or (wanted == "int" and kind != "int"):
            raise SeriesCallError(
                f"type error: argument {position + 1} of {call.text} must be an {wanted} literal, "
                f"not {token.text!r}",
                token.offset,
            )
        args.append(float(token.text))
        at += 1
        if at < len(tokens) and tokens[at].text == ",":
            at += 1
    if len(args) < len(signature.params) - signature.optional:
        raise SeriesCallError(
            f"{call.text} needs {len(signature.params) - signature.optional} argument(s)", call.offset
        )
    _check_ranges(call, args)
    return args, at


def _check_ranges(call: Token, args: list[float]) -> None:
    name = call.text
    n = SIGNATURES[name].lookback(args)
    if not 1 <= n <= MAX_WINDOW or (name in ("slope", "projected") and n < 2):
        raise SeriesCallError(f"{name}: n must be between 2 and {MAX_WINDOW} periods, not {n}", call.offset)
    if name == "ewma" and not 0 < args[0] <= 1:
        raise SeriesCallError(f"ewma: λ must be in (0, 1], not {args[0]}", call.offset)
    if name == "projected" and not 1 <= args[1] <= MAX_WINDOW:
        raise SeriesCallError(f"projected: k must be between 1 and {MAX_WINDOW}", call.offset)
    if name == "nelson" and args[0] not in range(1, 9):
        raise SeriesCallError(f"nelson: there are rules 1 to 8, not {args[0]:g}", call.offset)


@lru_cache(maxsize=4096)
def lookback(expression: str) -> int:
    """How many periods, the judged one included, ``expression`` reads (0: it calls no series function)."""
    return max((SIGNATURES[name].lookback(args) for name, args, _ in calls(expression)), default=0)
