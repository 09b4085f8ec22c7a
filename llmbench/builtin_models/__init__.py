"""The built-in offline models (llmbench/echo, llmbench/mock) as pure functions."""
