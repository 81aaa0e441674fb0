"""The one error the KPI math raises for bad input.

Everything in :mod:`supplier_sdk.kpi` that rejects its input (NaN values, LSL ≥ USL, too few values,
zero variation, a malformed data file, a non-numeric cell) raises :class:`KpiInputError`. It derives from
:class:`ValueError`, so callers that already catch ``ValueError`` keep working, and its message is one
line that names the problem (the CLI prints it as is).
"""

from __future__ import annotations


class KpiInputError(ValueError):
    """Input that the KPI math cannot use; the message says what and where, in one line.

    Example:
        >>> from supplier_sdk.kpi import capability
        >>> try:
        ...     capability([1.0, 2.0, 3.0], lsl=5.0, usl=4.0)
        ... except KpiInputError as exc:
        ...     print(exc)
        LSL (5) must be below USL (4)
    """


__all__ = ["KpiInputError"]
