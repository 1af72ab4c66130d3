"""cardsmith: Markdown flashcards -> Anki decks.

The pipeline, one module per stage, in order (model.py holds what each stage hands the next):

    config.py     decks/<deck>.yaml            -> DeckConfig             (schema.py: the YAML checks)
    notetypes.py  templates/<type>/            -> NoteType               (cardgen.py: which cards Anki makes)
    parse.py      cards/**/*.md                -> SourceNote (id, tags, type, the card's text in sections)
    resolve.py    SourceNote + its NoteType    -> ResolvedNote (fields by name, GUID, deck)
    render.py     ResolvedNote                 -> Rendered (HTML fields, media)  (mathtex.py, codelines.py)
    resolve.py    + Rendered                   -> Note (with the cards Anki makes: cardgen.py)
    release.py    a deck's Notes + its lock    -> Release (ledger.py, lockfile.py: what changed, tombstones)
    package.py    Release                      -> dist/<deck>.apkg (reproducible, atomic)
    pipeline.py   runs the stages (Project.prepare -> DeckBuild, one per deck); cache.py memoises them.

cli.py is the command line; commands/ holds the commands beside `build` (check, preview, export, import,
ids, sync, pull, diff, init, merge-driver), each consuming DeckBuilds; anki/ reads packages and talks to
Anki's collections.
"""

__version__ = "0.1.0"
