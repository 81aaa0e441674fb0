"""``python -m protocol.schemas [directory]``: regenerate the checked-in JSON Schemas."""

from __future__ import annotations

import sys

from protocol.schemas import DIRECTORY, write


def main(argv: list[str]) -> int:
    """Write the schemas into ``argv[0]`` (default: the ``protocol/schemas`` folder) and say how many.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     main([folder])  # doctest: +ELLIPSIS
        wrote ... schemas to ...
        0
    """
    directory = argv[0] if argv else DIRECTORY
    paths = write(directory)
    print(f"wrote {len(paths)} schemas to {directory}")
    return 0


__all__ = ["main"]

if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
