"""The demo database: its story, its generated content and the builder that writes it."""
