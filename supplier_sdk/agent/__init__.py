"""The supplier's agent: reads the supplier's own data at each period's close, computes, proves, signs, submits.

``supplier-sdk agent run --config agent.toml`` keeps running; it is an orchestrator over what the SDK already
has: the KPI math and report builders (:mod:`supplier_sdk.reports`), KPI-ZK proofs (:mod:`supplier_sdk.attest`),
the client's signing and submission, and the outbox for when the hub is away. Raw measurements never leave the
machine: only the claim (and a proof) is sent.

Modules: :mod:`.config` (the TOML file, validated with line numbers), :mod:`.sources` (folders of CSV/XLSX
files, SQL queries, commands), :mod:`.schedule` (which periods have closed in the supplier's time zone),
:mod:`.runner` (one pass over the mappings), :mod:`.status` (the state and status files, JSON log lines).
"""
