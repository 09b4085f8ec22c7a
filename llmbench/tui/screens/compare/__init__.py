"""F3 Compare: runs, a live run, the migration report, output diffs."""
