"""QX/1 wire models, one module per domain, shared by the hub and the supplier SDK."""

__all__: list[str] = []
