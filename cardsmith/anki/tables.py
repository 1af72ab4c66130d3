"""A deck's notes as Anki's tables hold them: a live collection (through the `anki` package) or a
package Anki exported (through AnkiConnect) have the same notes, cards and revlog tables."""

from __future__ import annotations

from typing import Callable, Iterable

from ..commands.syncplan import AnkiCard, AnkiNote, AnkiNotetype, Snapshot
from ..errors import NO_LINE, BuildError, Problem

CLOZE = 1  # Anki's note type kind for cloze (MODEL_CLOZE)


def read_snapshot(query: Callable[..., list], notetypes: Callable[[int], dict | None], deck_names: dict[int, str],
                  guids: Iterable[str], notetype_ids: Iterable[int], label: str) -> Snapshot:
    """Read a deck's notes from a collection's tables (a live collection or an exported one); raise BuildError
    (about `label`) for notes no Anki writes: fields or tags that are not text, two notes with one GUID.

    `query(sql)` returns rows; `notetypes(id)` Anki's note type as a dict (its legacy form).
    """
    wanted = set(guids)
    # Read by note type (indexed): a long list of note ids makes SQLite's query several times slower.
    mids = ",".join(sorted({str(int(row[1])) for row in query("SELECT guid, mid FROM notes") if row[0] in wanted}))
    notes = [row for row in query(f"SELECT id, guid, mid, flds, tags FROM notes WHERE mid IN ({mids})")
             if row[1] in wanted] if mids else []
    _refuse_damaged(notes, query, label)
    ids = {row[0] for row in notes}
    rows = [row for row in query("SELECT id, nid, did, odid, queue, type, reps, ord FROM cards WHERE nid IN "
                                 f"(SELECT id FROM notes WHERE mid IN ({mids})) ORDER BY ord") if row[1] in ids] \
        if mids else []
    # A new card may still have review history (reset by hand): it counts as reviewed.
    fresh = ",".join(str(int(row[0])) for row in rows if row[5] == 0 and row[6] == 0)
    logged = {r[0] for r in query(f"SELECT DISTINCT cid FROM revlog WHERE cid IN ({fresh})")} if fresh else set()
    cards: dict[int, list[AnkiCard]] = {}
    for cid, nid, did, odid, queue, kind, reps, ordinal in rows:
        home = odid or did
        cards.setdefault(nid, []).append(AnkiCard(cid, deck_names.get(home, str(home)),
                                                  bool(kind or reps or cid in logged), queue == -1, ordinal))
    found = {guid: AnkiNote(nid, guid, mid, flds, tuple(tags.split()), tuple(cards.get(nid, ())))
             for nid, guid, mid, flds, tags in notes}
    types = {}
    for mid in set(notetype_ids):
        data = notetypes(mid)
        if data:
            types[mid] = AnkiNotetype(
                mid, data["name"], data.get("type") == CLOZE,
                tuple((f.get("id"), f["name"]) for f in data["flds"]),
                tuple((t.get("id"), t["name"], t["qfmt"], t["afmt"]) for t in data["tmpls"]),
                data.get("css", ""))
    return Snapshot(found, types)


def _refuse_damaged(notes: list, query: Callable[..., list], label: str) -> None:
    """Raise BuildError for a note whose fields or tags are not text (bytes that are not UTF-8), or whose GUID
    another note has: a damaged collection, whose notes would be taken for one another."""
    seen: dict[str, int] = {}
    for nid, guid, _, flds, tags in notes:
        if not (isinstance(guid, str) and isinstance(flds, str) and isinstance(tags, str)) or \
                ("\ufffd" in flds + tags and not _utf8(query, nid)):
            raise BuildError([Problem(label, NO_LINE, f"note {nid}: its fields or tags are not text (a damaged "
                                                      "collection): fix or delete the note in Anki")])
        if guid in seen:
            raise BuildError([Problem(label, NO_LINE, f"note {seen[guid]} and note {nid} share the GUID {guid!r} "
                                                      "(a damaged collection): delete one of them in Anki")])
        seen[guid] = nid


def _utf8(query: Callable[..., list], nid: int) -> bool:
    """Whether a note's fields and tags are stored as UTF-8: SQLite stores any bytes as text, and Anki's backend
    reads bytes that are not UTF-8 as U+FFFD (which pull would write into a card file)."""
    try:
        for value in query(f"SELECT CAST(flds AS BLOB), CAST(tags AS BLOB) FROM notes WHERE id = {int(nid)}")[0]:
            bytes(value).decode("utf-8")  # the backend gives a blob as a list of ints, sqlite3 as bytes
    except UnicodeDecodeError:
        return False
    return True
