from tests.hub.kpis.conftest import reporting

__all__ = ["reporting"]
