"""`hub synth reports`: a synthetic OEM-supplier network reporting weekly, stored through the hub's own services.

Organizations, keys, API clients, agreements and webhooks are made by the services the API calls; every report is
an Ed25519-signed envelope over canonical bytes (as the SDK signs it), validated into the batch endpoint's wire
model and stored by :func:`hub.kpis.batch.submit_batch`, one supplier's week per batch, each batch its own
transaction; events are numbered and fanned out by the sequencer's own round and the audit chain sealed by the
sealer's. What it prints (rates, rows and bytes per table, CPU per report) is therefore what the hub costs, not a
copy's. The shape and its scale are :mod:`hub.synth.shape`; README's "Capacity model" scales the figures up."""
