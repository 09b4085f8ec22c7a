"""Grading use cases: queues, rubric files, sessions key by key."""
