"""Judging outputs: deterministic checks, LLM-as-judge, similarity, scoreboards."""
