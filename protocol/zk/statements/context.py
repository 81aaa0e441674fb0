"""The binding context of an attestation and the transcript every KPI-ZK v1 statement starts from.

Before the first challenge the transcript absorbs, each labelled and length-prefixed: the protocol id
``QX/1 KPI-ZK v1``; the context (hub, supplier, key id, agreement, characteristic, period, KPI, hub nonce); the
statement name; every public input by name (sorted, typed); and every commitment by name (sorted). A proof
therefore fails for any other statement, context, public input or commitment ("Frozen Heart", Trail of Bits
2022: Fiat-Shamir challenges that skip a public input let an attacker forge).

Example:
    >>> ctx = BindingContext(hub="hub-1", supplier="s-1", key_id="k-1", agreement="a-1", characteristic="bore",
    ...                      period="2026-W48", kpi="cpk", nonce="n-1")
    >>> t1 = statement_transcript("cpk_at_least", ctx, {"n": 125}, {})
    >>> t2 = statement_transcript("cpk_at_least", ctx.model_copy(update={"period": "2026-W49"}), {"n": 125}, {})
    >>> t1.challenge_scalar(b"x") == t2.challenge_scalar(b"x")
    False
"""

from __future__ import annotations

from collections.abc import Mapping

from protocol.models.common import WireModel
from protocol.zk.transcript import Transcript

PROTOCOL_ID = b"QX/1 KPI-ZK v1"
"""The transcript's domain separator (protocol id) for every KPI-ZK v1 statement.

Example:
    >>> PROTOCOL_ID.decode()
    'QX/1 KPI-ZK v1'
"""

CONTEXT_FIELDS = ("hub", "supplier", "key_id", "agreement", "characteristic", "period", "kpi", "nonce")
"""The binding-context fields, in the order the transcript absorbs them.

Example:
    >>> CONTEXT_FIELDS[0], len(CONTEXT_FIELDS)
    ('hub', 8)
"""


class BindingContext(WireModel):
    """Who proves what for whom: the fields a proof is bound to, so it cannot be replayed elsewhere.

    ``characteristic`` is empty for MTBF; ``nonce`` is the hub's per-period nonce (a fixed offline default is
    up to the caller). Every field is a string and is absorbed verbatim.

    Example:
        >>> BindingContext(hub="h", supplier="s", key_id="k", agreement="a", period="2026-11", kpi="mtbf",
        ...                nonce="x").characteristic
        ''
    """

    hub: str
    supplier: str
    key_id: str
    agreement: str
    characteristic: str = ""
    period: str
    kpi: str
    nonce: str


def statement_transcript(
    statement: str,
    context: BindingContext,
    public: Mapping[str, int | str],
    commitments: Mapping[str, bytes],
    *,
    lab: str | None = None,
) -> Transcript:
    """A transcript that has absorbed the protocol id, context, statement, public inputs and commitments.

    ``lab`` is the digest of the lab measurement attestation a tier-T2 proof is made over
    (:mod:`protocol.zk.lab`): absorbed after the context, so a proof cannot be moved to another attestation; a
    T1 proof (``None``) absorbs nothing more, so its transcript is unchanged.

    Integers and strings are absorbed with different labels (``pub-int/…``, ``pub-str/…``), so ``"5"`` and
    ``5`` differ; names are absorbed in sorted order, so dictionary order does not matter.

    Example:
        >>> ctx = BindingContext(hub="h", supplier="s", key_id="k", agreement="a", period="p", kpi="mtbf",
        ...                      nonce="x")
        >>> a = statement_transcript("mtbf_at_least", ctx, {"r_max": 15}, {}).challenge_scalar(b"c")
        >>> b = statement_transcript("mtbf_at_least", ctx, {"r_max": "15"}, {}).challenge_scalar(b"c")
        >>> a == b
        False
    """
    transcript = Transcript(PROTOCOL_ID)
    for name in CONTEXT_FIELDS:
        transcript.append_message(b"ctx/" + name.encode(), str(getattr(context, name)).encode("utf-8"))
    if lab is not None:
        transcript.append_message(b"ctx/lab_attestation", lab.encode("utf-8"))
    transcript.append_message(b"statement", statement.encode("utf-8"))
    transcript.append_int(b"public/count", len(public))
    for name in sorted(public):
        value = public[name]
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise TypeError(f"public input {name!r} is an int or a str")
        if isinstance(value, int):
            transcript.append_int(b"pub-int/" + name.encode("utf-8"), value)
        else:
            transcript.append_message(b"pub-str/" + name.encode("utf-8"), value.encode("utf-8"))
    transcript.append_int(b"commitments/count", len(commitments))
    for name in sorted(commitments):
        transcript.append_point(b"com/" + name.encode("utf-8"), commitments[name])
    return transcript


__all__ = ["CONTEXT_FIELDS", "PROTOCOL_ID", "BindingContext", "statement_transcript"]
