"""Rubrics, grades and the grading queue."""
