"""Runs, their cells and checks."""
