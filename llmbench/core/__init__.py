"""Pure domain logic: stdlib, jinja2 and tiktoken only (enforced by import-linter)."""
