"""F6 Audit: the call log and one call in full."""
