"""Joint investigation rooms: members, encrypted datasets, annotations, the 8D record, closing and export."""
