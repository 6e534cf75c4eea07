"""``python -m handlers.cli``."""

from handlers.cli import main

main()
