"""Prompt files (ours and simonw/llm's templates) as prompts."""
