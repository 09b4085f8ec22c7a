"""Audit-log use cases: browsing, verifying, retention."""
