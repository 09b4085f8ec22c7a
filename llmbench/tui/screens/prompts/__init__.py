"""F2 Prompts: library, editor, version diffs."""
