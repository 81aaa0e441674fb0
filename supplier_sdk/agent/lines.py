"""Where a key sits in a TOML text: ``tomllib`` parses without positions, so the agent finds them itself.

:func:`key_lines` scans the text for table headers (``[agent]``, ``[sources.mes]``, ``[[mappings]]``) and
``key = value`` lines, and maps each key's path to its line, so that a configuration error can name the line of
the offending key. Multi-line strings and arrays are skipped over; a key inside an inline table is located at
the line of the key that holds the table.

Example:
    >>> lines = key_lines('[agent]\\ntime_zone = "UTC"\\n\\n[[mappings]]\\nname = "a"\\n[[mappings]]\\nkpi = "cpk"\\n')
    >>> lines[("agent", "time_zone")], lines[("mappings", 1, "kpi")], lines[("mappings", 1)]
    (2, 7, 6)
"""

from __future__ import annotations

import re

KeyPath = tuple[str | int, ...]

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_-]+)\s*=""")


def _name(raw: str) -> str:
    return raw[1:-1] if raw[:1] in "\"'" else raw


def _dotted(text: str) -> list[str]:
    return [_name(part.strip()) for part in text.split(".")]


def key_lines(text: str) -> dict[KeyPath, int]:
    """Map every table and key path to its 1-based line number (array-of-tables entries get their index).

    Example:
        >>> key_lines("[sources.mes]\\nkind = 'sql'\\n")[("sources", "mes", "kind")]
        2
    """
    found: dict[KeyPath, int] = {}
    counts: dict[tuple[str, ...], int] = {}
    table: KeyPath = ()
    closing: str | None = None
    depth = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if closing is not None:  # inside a multi-line string
            if closing in line:
                closing = None
            continue
        if depth > 0:  # inside a multi-line array
            depth += line.count("[") - line.count("]")
            continue
        header = _HEADER.match(line)
        if header is not None and "=" not in line.split("]")[0]:
            names = tuple(_dotted(header[2]))
            if header[1] == "[[":
                index = counts.get(names, -1) + 1
                counts[names] = index
                table = (*names, index)
            else:
                table = names
            found.setdefault(table, number)
            continue
        key = _KEY.match(line)
        if key is None:
            continue
        found.setdefault((*table, _name(key[1])), number)
        rest = line[key.end() :]
        for quote in ('"""', "'''"):
            if rest.count(quote) == 1:
                closing = quote
        if closing is None and rest.strip().startswith("["):
            depth = rest.count("[") - rest.count("]")
    return found


def line_of(lines: dict[KeyPath, int], path: KeyPath) -> int | None:
    """The line of ``path``, else of the nearest enclosing table that has one.

    Example:
        >>> line_of({("agent",): 1}, ("agent", "missing"))
        1
    """
    for end in range(len(path), 0, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return None


__all__ = ["KeyPath", "key_lines", "line_of"]
