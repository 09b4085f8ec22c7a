"""Guardrails: the input and output guards, their rules and policies."""
