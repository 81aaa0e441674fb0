"""Forward and backward traces through the lot genealogy, filtered by minimal disclosure."""
