"""Prompts, immutable versions, labels, notes and per-prompt guard policies."""
