"""Cost queries and dated prices."""
