"""F4 Grade: queues, grading by keystroke, agreement."""
