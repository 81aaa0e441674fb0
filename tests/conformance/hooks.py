"""Schemathesis hooks for the conformance run: the genealogy import's NDJSON body is text, sent as it is."""

import schemathesis

schemathesis.serializer.alias("application/x-ndjson", "text/plain")
