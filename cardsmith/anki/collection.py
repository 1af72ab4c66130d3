"""Sync into a collection file (Anki closed) through the official `anki` package, in one transaction.

Every change of a sync happens inside one SQLite transaction (`col.db.transact`: the backend's own
operations nest in it as savepoints), so a failure or a kill leaves the collection as it was.
New notes go in through Anki's own .apkg importer (it keeps the GUIDs and note type ids, and
copies the media), told never to update anything that exists.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from pathlib import Path
from typing import Any, Callable, Sequence
from urllib.parse import quote

from ..commands.sync import SyncError, pause_for_tests, write_additions
from ..commands.syncplan import NotetypeUpdate, Plan, ShippedDeck, Snapshot, deck_key
from ..errors import BuildError, Problem
from ..release import DELETED_TAG
from .tables import read_snapshot

SCHEMA = 18  # the collection schema the pinned `anki` package opens and writes (checked by the tests)
SYNC_EXTRA = "pip install 'cardsmith[sync]'"


def open_collection(path: Path, read_only: bool = False) -> "CollectionTarget":
    """Open a collection for a sync, or raise BuildError saying why it cannot be (nothing changed).

    `read_only` (a dry run): open a copy in a temporary folder, so that nothing of the learner's is opened
    for writing (Anki writes to a collection it opens, even to read it).
    """
    if path.is_dir() and (path / "collection.anki2").is_file():
        path = path / "collection.anki2"
    shown = str(path)
    try:
        from anki.collection import Collection
        from anki.errors import BackendError
    except ImportError:
        raise BuildError([Problem(shown, 0, "syncing into a collection file needs the `anki` package: "
                                            f"{SYNC_EXTRA} (or sync into a running Anki with --anki-connect)")]) from None
    if not path.is_file():
        raise BuildError([Problem(shown, 0, "no Anki collection here (give the collection.anki2 file of a "
                                            "profile, or its folder)")])
    scratch = Path(tempfile.mkdtemp(prefix="cardsmith-dry-run-")) if read_only else None
    try:
        opened = path
        if scratch is not None:
            opened = scratch / "collection.anki2"
            for suffix in ("", "-wal"):  # the database and the changes not yet written into it
                if Path(f"{path}{suffix}").is_file():
                    shutil.copyfile(f"{path}{suffix}", f"{opened}{suffix}")
        # Anki's backend makes a new collection of any file it is given (an empty one, another program's
        # SQLite database): only a file with Anki's tables is opened.
        if _query(opened, "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'col'") == []:
            raise BuildError([Problem(shown, 0, "not an Anki collection (it has no `col` table): give the "
                                                "collection.anki2 file of a profile, or its folder")])
        version = schema_version(opened)
        if version is not None and version > SCHEMA:
            raise BuildError([Problem(shown, 0, too_new(version))])
        try:
            col = Collection(str(opened))
        except BackendError as error:
            text = str(error)
            if "already open" in text:
                message = ("the collection is open in Anki (or Anki is syncing its media): close Anki first, or "
                           "sync into the running Anki with --anki-connect")
            elif "FileTooNew" in text:
                message = too_new(version)
            else:
                message = f"not an Anki collection Anki can open ({text})"
            raise BuildError([Problem(shown, 0, message)]) from None
    except BaseException:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
        raise
    # Opening upgrades an older collection's schema; give it back in the old one, which the Anki that
    # made it can open (Anki 2.1.28 and later upgrade it again on their own).
    return CollectionTarget(col, path, downgrade=version is not None and version < SCHEMA, scratch=scratch)


def too_new(version: int | None) -> str:
    from anki.buildinfo import version as anki_version

    made = f"schema {version}" if version else "a newer schema"
    return (f"the collection was made by a newer Anki ({made}) than the installed anki package {anki_version} can "
            f"open (schema {SCHEMA}); nothing was changed. Upgrade cardsmith and its anki package, or sync into "
            "the running Anki with --anki-connect")


def schema_version(path: Path) -> int | None:
    """The collection's schema version, read without opening it for writing (None: cannot tell now)."""
    rows = _query(path, "SELECT ver FROM col")
    return rows[0][0] if rows and isinstance(rows[0][0], int) else None


def _query(path: Path, sql: str) -> list | None:
    """Rows of a query on a database opened read-only (None: it cannot be read now, e.g. locked or not SQLite)."""
    try:
        conn = sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True, timeout=0.2)
        try:
            return conn.execute(sql).fetchall()
        finally:
            conn.close()
    except sqlite3.Error:
        return None


class CollectionTarget:
    """An open collection: read a deck's notes, apply plans in one transaction, close."""

    deletes_cards = True

    def __init__(self, col: Any, path: Path, downgrade: bool, scratch: Path | None = None):
        self.col = col
        self.label = str(path)
        self.key = str(path.resolve())
        self.downgrade = downgrade
        self.scratch = scratch  # the folder of the copy a dry run opened, removed on close

    def snapshot(self, deck: ShippedDeck, guids: set[str]) -> Snapshot:
        names = {d.id: d.name for d in self.col.decks.all_names_and_ids()}
        return read_snapshot(self.col.db.all, self.col.models.get, names, guids,
                             [nt.model_id for nt in deck.notetypes.values()], self.label)

    def deck_guids(self, name: str) -> set[str]:
        """The GUIDs of the notes with a card in the deck or one of its subdecks (filtered decks: their home)."""
        key = deck_key(name)
        ids = ",".join(str(int(d.id)) for d in self.col.decks.all_names_and_ids()
                       if deck_key(d.name) == key or deck_key(d.name).startswith(key + "::"))
        if not ids:
            return set()
        return {row[0] for row in self.col.db.all(
            f"SELECT DISTINCT n.guid FROM notes n JOIN cards c ON c.nid = n.id WHERE c.did IN ({ids}) OR c.odid IN ({ids})")}

    def apply(self, plans: Sequence[Plan], progress: Callable[[int], None]) -> None:
        """Every plan in one transaction: all of it is applied, or none of it."""
        def run() -> None:
            for number, plan in enumerate(plans):
                self._apply(plan, progress, pause=number == 0)
        try:
            self.col.db.transact(run)
        except Exception as error:  # rolled back by transact: say so, without a traceback
            raise SyncError([f"{self.label}: the sync failed and was rolled back, nothing was changed: "
                             f"{type(error).__name__}: {error}"]) from error

    def close(self) -> None:
        try:
            self.col.close(downgrade=self.downgrade)
        finally:
            if self.scratch is not None:
                shutil.rmtree(self.scratch, ignore_errors=True)

    def _apply(self, plan: Plan, progress: Callable[[int], None], pause: bool) -> None:
        col = self.col
        mods = {}
        for update in plan.notetypes:
            if update.anki is not None:
                self._update_notetype(update)
                mods[update.notetype.key] = col.models.get(update.notetype.model_id)["mod"]
            progress(1)
        for key, notetype in plan.deck.notetypes.items():
            existing = col.models.get(notetype.model_id)
            if existing is not None:
                mods.setdefault(key, existing["mod"])  # not newer: the importer leaves it alone
        if plan.added:
            self._import(plan, mods)
            progress(len(plan.added))
        self._write_media(plan)
        notes = []
        for change in plan.changed:
            note = col.get_note(change.anki.note_id)
            if change.fields is not None:
                note.fields = list(change.fields)
            if change.tags is not None:
                note.tags = list(change.tags)
            notes.append(note)
        if notes:
            col.update_notes(notes)
        unsuspend = [cid for change in plan.changed for cid in change.unsuspend]
        if unsuspend:
            col.sched.unsuspend_cards(unsuspend)
        progress(len(plan.changed))
        if pause:
            pause_for_tests()
        for move in plan.moved:
            col.set_deck(list(move.card_ids), col.decks.id(move.target))
            progress(1)
        suspend = [card.card_id for r in plan.suspended for card in r.anki.cards if not card.suspended]
        if suspend:
            col.sched.suspend_cards(suspend)
        if plan.suspended:
            col.tags.bulk_add([r.anki.note_id for r in plan.suspended], DELETED_TAG)
        if plan.deleted:
            col.remove_notes([r.anki.note_id for r in plan.deleted])
        progress(len(plan.removed))
        suspend = [u.card.card_id for u in plan.unmade if not u.delete]
        if suspend:
            col.sched.suspend_cards(suspend)
        delete = [u.card.card_id for u in plan.unmade if u.delete]
        if delete:  # each note keeps a card (syncplan): no note goes with them
            col.remove_cards_and_orphaned_notes(delete)
        progress(len(plan.unmade))

    def _import(self, plan: Plan, mods: dict[str, int]) -> None:
        from anki.collection import ImportAnkiPackageOptions, ImportAnkiPackageRequest
        from anki.import_export_pb2 import IMPORT_ANKI_PACKAGE_UPDATE_CONDITION_NEVER as NEVER

        with tempfile.TemporaryDirectory(prefix="cardsmith-sync-") as tmp:
            package = Path(tmp) / "additions.apkg"
            write_additions(package, plan, mods)
            options = ImportAnkiPackageOptions(merge_notetypes=False, update_notes=NEVER, update_notetypes=NEVER,
                                               with_scheduling=False, with_deck_configs=False)
            log = self.col.import_anki_package(ImportAnkiPackageRequest(package_path=str(package), options=options)).log
        if len(log.new) != len(plan.added):
            # Raised inside the transaction: nothing of the sync stays.
            raise RuntimeError(f"Anki's importer added {len(log.new)} of {len(plan.added)} new notes "
                               f"({len(log.duplicate)} existed, {len(log.conflicting)} conflicting)")

    def _write_media(self, plan: Plan) -> None:
        """Media of updated notes that the collection's media folder lacks (content-hashed names)."""
        folder = Path(self.col.media.dir())
        for change in plan.changed:
            for name in change.note.media:
                if not (folder / name).exists():
                    written = self.col.media.write_data(name, plan.deck.media[name].read_bytes())
                    if written != name:
                        raise RuntimeError(f"Anki stored media file {name} as {written}")

    def _update_notetype(self, update: NotetypeUpdate) -> None:
        """Templates and CSS in place; fields and templates added or renamed (a schema change, allowed by then)."""
        models = self.col.models
        data = models.get(update.notetype.model_id)
        ours = update.notetype
        fields = []
        for mine, index in zip(ours.fields, update.field_map):
            item = data["flds"][index] if index is not None else models.new_field(mine.name)
            item["name"] = mine.name
            item["id"] = mine.id
            fields.append(item)
        templates = []
        for mine, index in zip(ours.templates, update.template_map):
            item = data["tmpls"][index] if index is not None else models.new_template(mine.name)
            item.update(name=mine.name, id=mine.id, qfmt=mine.front, afmt=mine.back)
            templates.append(item)
        data["flds"], data["tmpls"], data["css"] = fields, templates, ours.css
        models.update_dict(data)
