"""QX/1, the Qualink exchange model.

A pure library shared by the hub and the supplier SDK: wire models (``protocol.models``), canonical
bytes (``protocol.encoding``), signed envelopes (``protocol.signing``) and reporting periods
(``protocol.periods``). It performs no I/O and imports no web framework or database library.
"""

PROTOCOL_ID = "QX/1"
"""The protocol id: every signed envelope and every KPI-ZK transcript binds to it.

Example:
    >>> PROTOCOL_ID
    'QX/1'
"""

__all__ = ["PROTOCOL_ID"]
