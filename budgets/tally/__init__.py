"""Fast, exact participatory-budgeting rules (greedy, Method of Equal Shares) in pure Python."""
