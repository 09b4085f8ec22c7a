"""The evaluation engine: cells through the gateway, checks, judges, suites."""
