"""The Compare pane's use cases: runs started, laid out and reported."""
