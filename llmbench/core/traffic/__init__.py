"""Which model serves a request and how fast: routes and rate limits."""
