"""`python -m bot.evaluation`: see `bot.evaluation.cli`."""

from bot.evaluation.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
