"""Joint investigation rooms on the SDK side: datasets are encrypted here, before they reach the hub.

- :mod:`supplier_sdk.rooms.crypto`: the chunked AES-256-GCM stream a dataset is encrypted with (wire format in
  its docstring), in bounded memory both ways;
- :mod:`supplier_sdk.rooms.keywrap`: the data key wrapped to each member organization's X25519 key;
- :mod:`supplier_sdk.rooms.manifest`: the uploader's signed manifest, checked before plaintext is released;
- :mod:`supplier_sdk.rooms.client`: :class:`~supplier_sdk.rooms.client.Rooms`, the room endpoints as
  ``client.rooms`` (open, invite, upload, download, rewrap, annotate, 8D, close, export).

Example::

    with load_config().client() as hub:
        room = hub.rooms.open(title="Compressor noise at 41 °C", expires_at=in_30_days)
        dataset = hub.rooms.upload(room.id, "bench-run-17.csv", encryption_key=enc_key)
"""
