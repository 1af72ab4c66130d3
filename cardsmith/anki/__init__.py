"""Anki's side: reading .apkg packages, a collection through the `anki` package, a running Anki through
AnkiConnect, and where Anki keeps its profiles."""
