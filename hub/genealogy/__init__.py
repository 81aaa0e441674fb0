"""Genealogy: part types, plants, as-built assets and links, shipments, inventory; import and synthetic networks."""
