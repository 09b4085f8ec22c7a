"""Prompts as data: structured templates, fencing, few-shot, preview and diffs."""
