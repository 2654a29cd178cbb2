"""``python -m budgets.tally``: see :mod:`budgets.tally.cli`."""

from budgets.tally.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
