"""Human grading: rubrics and inter-rater agreement."""
