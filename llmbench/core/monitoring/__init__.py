"""Watching production over time: drift on daily series."""
