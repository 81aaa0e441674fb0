"""Supplier-side KPI math: process capability, exponential MTBF, and reading measurement files.

Raw measurements stay on the supplier's machine; these functions turn them into the figures a KPI report
claims. Every input problem raises :class:`KpiInputError` (a ``ValueError``) with a one-line message.

Example:
    >>> from supplier_sdk.kpi import capability, mtbf
    >>> round(capability([1.0, 2.0, 3.0, 4.0, 5.0], lsl=0.0, usl=6.0).cp, 3)
    1.128
    >>> round(mtbf(total_hours=10_000, failures=2, confidence=0.9).lower, 1)
    1878.9
"""

from supplier_sdk.kpi.capability import CI_KPIS, CapabilityResult, capability
from supplier_sdk.kpi.constants import c4, d2, d3
from supplier_sdk.kpi.data import Measurements, read_measurements
from supplier_sdk.kpi.errors import KpiInputError
from supplier_sdk.kpi.reliability import MtbfResult, demonstration_test_hours, mtbf, mtbf_point_estimate
from supplier_sdk.kpi.subgroups import (
    SIGMA_METHODS,
    SigmaMethod,
    Subgroups,
    WithinSigma,
    split_subgroups,
    within_sigma,
)

__all__ = [
    "CI_KPIS",
    "SIGMA_METHODS",
    "CapabilityResult",
    "KpiInputError",
    "Measurements",
    "MtbfResult",
    "SigmaMethod",
    "Subgroups",
    "WithinSigma",
    "c4",
    "capability",
    "d2",
    "d3",
    "demonstration_test_hours",
    "mtbf",
    "mtbf_point_estimate",
    "read_measurements",
    "split_subgroups",
    "within_sigma",
]
