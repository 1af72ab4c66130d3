"""`python -m cardsmith` is the `cardsmith` command."""

from cardsmith.cli import main

main()
