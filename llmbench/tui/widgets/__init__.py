"""Small single-purpose widgets."""
