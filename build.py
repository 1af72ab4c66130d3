"""Entry point: `python build.py build` is the same as the `cardsmith` command."""

from cardsmith.cli import main

if __name__ == "__main__":
    main()
