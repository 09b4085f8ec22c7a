"""Grading use cases the Grade pane and the CLI share: rubrics (rubrics), queues built by
sampling strategies (queues), the key-by-key session (session), agreement between reviewers and
with judges (agreement), and grade export (export)."""
