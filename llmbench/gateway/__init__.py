"""The one door to models: litellm is imported lazily, never on the TUI start path."""
