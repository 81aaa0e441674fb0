"""KPI-ZK v1 statements: what is proven about committed aggregates (``cpk_at_least``, ``mtbf_at_least``).

- :mod:`~protocol.zk.statements.context`: the binding context and the statement transcript (Frozen Heart).
- :mod:`~protocol.zk.statements.cpk`: ``CPK ≥ t`` (overall sigma, i.e. Ppk, or pooled within-subgroup sigma).
- :mod:`~protocol.zk.statements.mtbf`: ``MTBF ≥ M`` (point estimate or the chi-square lower bound).
- :mod:`~protocol.zk.statements.encoding`: proof parts to and from base64url JSON.

Example:
    >>> from protocol.zk.statements.context import PROTOCOL_ID
    >>> PROTOCOL_ID
    b'QX/1 KPI-ZK v1'
"""

__all__: list[str] = []
