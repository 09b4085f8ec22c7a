"""promptfoo configs as llmbench eval suites."""
