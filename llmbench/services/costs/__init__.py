"""Cost use cases: breakdowns, window sums, trends, savings, budgets, prices."""
