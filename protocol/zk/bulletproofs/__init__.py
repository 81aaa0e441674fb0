"""Bulletproofs (Bünz et al., IEEE S&P 2018; eprint 2017/1066): aggregated range proofs over BLS12-381 G1.

- :mod:`~protocol.zk.bulletproofs.inner_product`: the logarithmic inner-product argument (§3).
- :mod:`~protocol.zk.bulletproofs.range_proof`: one aggregated proof that m committed values lie in ranges
  ``[0, 2^wⱼ)`` of individual widths (§4.1-4.3), verified as one multi-scalar multiplication (§6.2).

Batching across proofs is :mod:`protocol.zk.equations` (random weights, one multi-scalar multiplication).

Example:
    >>> from protocol.zk.bulletproofs.range_proof import padded_length
    >>> padded_length([21, 21, 61, 62, 62])
    256
"""

__all__: list[str] = []
