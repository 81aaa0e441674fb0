"""The KPI reporting fixture (an OEM, a supplier and an active agreement), for tests that cause a downgrade."""

from __future__ import annotations

from tests.hub.kpis.conftest import reporting

__all__ = ["reporting"]
