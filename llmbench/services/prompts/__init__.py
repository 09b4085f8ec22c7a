"""The Prompts pane's use cases: library, versions, files and drafts."""
