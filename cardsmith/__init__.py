"""cardsmith: Markdown flashcards -> Anki decks.

The pipeline, one module per stage:

    config.py     decks/<deck>.yaml           -> DeckConfig
    parse.py      cards/**/*.md               -> SourceCard (question/answer Markdown, id, tags)
    render.py     SourceCard                  -> RenderedCard (HTML fields, media)
    notetypes.py  templates/<type>/           -> NoteType (a genanki.Model with fixed ids)
    ledger.py     decks/<deck>.lock           -> modification time per card (what changed)
    lockfile.py   decks/<deck>.lock           -> Ledger, checked (deck, records, times, merge conflicts)
    package.py    RenderedCards + NoteTypes   -> dist/<deck>.apkg (reproducible, atomic)
    pipeline.py   runs the stages for every deck; cli.py is the command line.
"""

__version__ = "0.1.0"
