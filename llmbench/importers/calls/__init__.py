"""Other tools' call logs (llm's logs.db, JSON lines, usage CSV) as calls."""
