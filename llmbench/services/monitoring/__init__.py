"""Monitor use cases: health per window and production quality samples."""
