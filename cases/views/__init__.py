"""Pages of cases, by who uses them:

- `case`: reporting (grid report, demand, dispute, visit), a case's page and its steps;
- `desk`: the township's board, the department desk, departments, level rules, the public page;
- `figures`: figures rolled up the tree, weekly summaries, exports.

Each module keeps its own `urlpatterns`; cases/urls.py joins them under /cases/.
"""
