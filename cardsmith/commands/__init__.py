"""The commands beside `build`: each module is one command (its helpers beside it); cli.py calls them."""
