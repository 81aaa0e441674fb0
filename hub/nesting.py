"""How deep JSON may nest before the hub refuses it, measured before (or without) parsing it.

No QX/1 body nests deeper than a dozen levels. A body nested thousands deep is either refused by the parser
with a RecursionError (a 500, where the parser is ours) or parsed and then handed to recursive code (canonical
encoding, validation, JSON columns) that fails later. ``MAX_DEPTH`` bounds every body at the door instead.

:class:`NestingGauge` reads JSON text in pieces (a request body as it arrives) and tracks the depth of ``[`` and
``{`` outside strings; it never builds a value. Its Python steps are one per string and bracket (the bytes in
between are skipped by the regular-expression engine).
"""

from __future__ import annotations

import re
from typing import Any

MAX_DEPTH = 64

_STRING_REST = re.compile(rb'(?:[^"\\]|\\[\s\S])*')  # stops at the closing quote, or a lone "\" at the end
_STRUCTURE = re.compile(rb'["\[\]{}]')
_QUOTE, _BACKSLASH = ord('"'), ord("\\")
_OPENERS = frozenset(b"[{")


class TooDeep(ValueError):
    """The JSON nests deeper than the limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"JSON nested deeper than {limit} levels")
        self.limit = limit


class NestingGauge:
    """Depth of JSON text fed in pieces; :meth:`feed` raises :class:`TooDeep` once it passes ``limit``."""

    def __init__(self, limit: int = MAX_DEPTH) -> None:
        self.limit = limit
        self.depth = 0
        self._in_string = False
        self._escaped = False  # a piece ended on the backslash of an escape inside a string

    def feed(self, data: bytes) -> None:
        i, n = 0, len(data)
        if not n:
            return
        if self._escaped:
            i, self._escaped = 1, False
        while i < n:
            if self._in_string:
                i = _STRING_REST.match(data, i).end()  # type: ignore[union-attr]  # matches the empty string
                if i >= n:
                    return
                if data[i] == _BACKSLASH:
                    self._escaped = True
                    return
                self._in_string, i = False, i + 1
                continue
            found = _STRUCTURE.search(data, i)
            if found is None:
                return
            char, i = data[found.start()], found.end()
            if char == _QUOTE:
                self._in_string = True
            elif char in _OPENERS:
                self.depth += 1
                if self.depth > self.limit:
                    raise TooDeep(self.limit)
            else:
                self.depth -= 1


def check_depth(data: bytes, limit: int = MAX_DEPTH) -> None:
    """Raise :class:`TooDeep` if the JSON text ``data`` nests deeper than ``limit``."""
    NestingGauge(limit).feed(data)


def value_depth(value: Any) -> int:
    """How deep a parsed JSON value nests (a scalar is 0, ``[]`` is 1), without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children)
    return deepest
