"""Sync into a running Anki desktop through the AnkiConnect add-on (code 2055492159).

AnkiConnect has no transaction: each step is a request whose answer is checked, and a failure
stops the sync with what was applied and what was not (running it again finishes the work: the
plan is made afresh from what the collection holds). AnkiConnect gives no note's GUID, so the
deck's notes are read from a package Anki exports of the deck (`exportPackage`, scheduling
included: the same tables as a collection file); new notes go in through `importPackage`, Anki's
own importer, which keeps GUIDs and note type ids. Both need Anki to read and write files on this
machine: the URL must be a local Anki.
"""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path
from typing import Any, Callable, Sequence

from ..commands.sync import SyncError, write_additions
from ..commands.syncplan import AnkiNotetype, NotetypeUpdate, Plan, ShippedDeck, Snapshot, deck_key
from ..errors import BuildError, Problem, counted
from ..release import DELETED_TAG
from .tables import read_snapshot

API_VERSION = 6
KEY_ENV = "CARDSMITH_ANKICONNECT_KEY"  # AnkiConnect's apiKey, when one is set in its configuration
BATCH = 100  # requests per `multi` call
TIMEOUT = 600.0  # seconds: an import or export of a large deck takes a while


class ActionFailed(Exception):
    """AnkiConnect answered with an error, or did not answer."""


class Client:
    """AnkiConnect's JSON protocol, version 6: {action, version, params} -> {result, error}."""

    def __init__(self, url: str, timeout: float = TIMEOUT):
        self.url = url
        self.timeout = timeout
        self.key = os.environ.get(KEY_ENV) or None

    def call(self, action: str, **params: Any) -> Any:
        body: dict[str, Any] = {"action": action, "version": API_VERSION, "params": params}
        if self.key:
            body["key"] = self.key
        request = urllib.request.Request(self.url, json.dumps(body).encode(), {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                reply = json.loads(response.read())
        except (urllib.error.URLError, OSError, ValueError) as error:
            raise ActionFailed(f"{action}: no answer from AnkiConnect at {self.url} ({error})") from None
        if not isinstance(reply, dict) or set(reply) != {"result", "error"}:
            raise ActionFailed(f"{action}: {self.url} did not answer as AnkiConnect does")
        if reply["error"] is not None:
            raise ActionFailed(f"{action}: {reply['error']}")
        return reply["result"]

    def multi(self, actions: Sequence[tuple[str, dict]]) -> list[Any]:
        """Several actions in one request; raise on the first that failed, saying how many went through."""
        results = []
        for at in range(0, len(actions), BATCH):
            chunk = actions[at:at + BATCH]
            replies = self.call("multi", actions=[{"action": a, "version": API_VERSION, "params": p} for a, p in chunk])
            for index, reply in enumerate(replies):
                if not isinstance(reply, dict) or reply.get("error") is not None:
                    error = reply.get("error") if isinstance(reply, dict) else reply
                    raise ActionFailed(f"{chunk[index][0]}: {error} (after {at + index} of {len(actions)} went through)")
                results.append(reply["result"])
        return results


def connect(url: str) -> "AnkiConnectTarget":
    """Check that AnkiConnect answers at `url`; raise BuildError saying what to do when not."""
    client = Client(url)
    try:
        version = client.call("version")
        media = client.call("getMediaDirPath")
    except ActionFailed as error:
        raise BuildError([Problem(url, 0, f"{error}: start Anki with the AnkiConnect add-on (code 2055492159), "
                                          "or sync into the collection file with --collection while Anki is closed")]
                         ) from None
    if not isinstance(version, int) or version < API_VERSION:
        raise BuildError([Problem(url, 0, f"AnkiConnect {version} is too old: version {API_VERSION} is needed")])
    return AnkiConnectTarget(client, str(Path(media).parent / "collection.anki2"))


class AnkiConnectTarget:
    """A running Anki: read a deck's notes from an export of it, apply plans step by step."""

    deletes_cards = False  # AnkiConnect deletes notes, never one card of a note: such a card is suspended

    def __init__(self, client: Client, collection: str):
        self.client = client
        self.label = f"Anki at {client.url} ({collection})"
        self.key = collection  # the same record as `--collection` of that file

    def close(self) -> None:
        pass

    def snapshot(self, deck: ShippedDeck, guids: set[str]) -> Snapshot:
        try:
            return self._snapshot(deck, guids)
        except (ActionFailed, OSError, zipfile.BadZipFile, KeyError, sqlite3.Error) as error:
            raise BuildError([Problem(self.client.url, 0, f"cannot read deck '{deck.config.name}' from Anki: "
                                                          f"{error}")]) from None

    def deck_guids(self, name: str) -> set[str]:
        """The GUIDs of the notes with a card in the deck or one of its subdecks, from an export of it."""
        try:
            names = {deck_key(n): n for n in self.client.call("deckNames")}
            if deck_key(name) not in names:
                return set()
            with tempfile.TemporaryDirectory(prefix="cardsmith-pull-") as tmp:
                package = Path(tmp) / "deck.apkg"
                if not self.client.call("exportPackage", deck=names[deck_key(name)], path=str(package),
                                        includeSched=False):
                    raise ActionFailed(f"exportPackage: Anki did not export deck '{name}'")
                return _package_guids(package, Path(tmp))
        except (ActionFailed, OSError, zipfile.BadZipFile, KeyError, sqlite3.Error) as error:
            raise BuildError([Problem(self.client.url, 0, f"cannot read deck '{name}' from Anki: {error}")]) from None

    def _snapshot(self, deck: ShippedDeck, guids: set[str]) -> Snapshot:
        """The deck's notes from an export of the deck, and of every other deck holding notes of its note
        types (a card the learner moved out of the deck, which only an export tells by GUID)."""
        call = self.client.call
        names = {deck_key(n): n for n in call("deckNames")}
        by_id = {v: k for k, v in call("modelNamesAndIds").items()}
        ids = [nt.model_id for nt in deck.notetypes.values()]
        snapshot, seen = Snapshot({}, {}), set()

        def read(name: str) -> None:
            found, nids = self._export(name, guids, ids)
            snapshot.notes.update(found.notes)
            snapshot.notetypes.update(found.notetypes)
            seen.update(nids)

        if deck_key(deck.config.name) in names:
            read(names[deck_key(deck.config.name)])
        present = [i for i in ids if i in by_id]
        outside = set(call("findNotes", query=" OR ".join(f"mid:{i}" for i in present))) - seen if present else set()
        if outside:
            cards = call("findCards", query="nid:" + ",".join(map(str, sorted(outside))))
            for name in sorted(call("getDecks", cards=cards)):
                read(name)
        for model_id in ids:
            if model_id not in snapshot.notetypes and model_id in by_id:  # no note uses it: asked for by name
                snapshot.notetypes[model_id] = self._notetype(model_id, by_id[model_id], deck)
        return snapshot

    def _export(self, name: str, guids: set[str], ids: list[int]) -> tuple[Snapshot, set[int]]:
        """One deck (with its subdecks) as Anki exports it: its notes among `guids`, and every note id in it."""
        with tempfile.TemporaryDirectory(prefix="cardsmith-sync-") as tmp:
            package = Path(tmp) / "deck.apkg"
            if not self.client.call("exportPackage", deck=name, path=str(package), includeSched=True):
                raise ActionFailed(f"exportPackage: Anki did not export deck '{name}'")
            return _read_package(package, Path(tmp), guids, ids, self.label)

    def _notetype(self, model_id: int, name: str, deck: ShippedDeck) -> AnkiNotetype:
        """A note type as AnkiConnect describes it: no field or template ids (matched by name), nor its kind."""
        fields = self.client.call("modelFieldNames", modelName=name)
        templates = self.client.call("modelTemplates", modelName=name)
        css = self.client.call("modelStyling", modelName=name)["css"]
        ours = next(nt for nt in deck.notetypes.values() if nt.model_id == model_id)
        return AnkiNotetype(model_id, name, ours.kind == "cloze", tuple((None, f) for f in fields),
                            tuple((None, t, sides["Front"], sides["Back"]) for t, sides in templates.items()), css)

    def apply(self, plans: Sequence[Plan], progress: Callable[[int], None]) -> None:
        done: list[str] = []
        try:
            for plan in plans:
                self._apply(plan, progress, done)
        except ActionFailed as error:
            raise SyncError([f"{self.label}: the sync stopped at a step Anki refused: {error}",
                             "Applied before it stopped:"] + [f"  {line}" for line in done or ["nothing"]]
                            + ["Not applied: everything after that. Run the sync again to finish (it plans from "
                               "what the collection holds now)."]) from None

    def _apply(self, plan: Plan, progress: Callable[[int], None], done: list[str]) -> None:
        call, name = self.client.call, plan.deck.config.name
        for update in plan.notetypes:
            if update.anki is not None:
                self._update_notetype(update)
                done.append(f"{name}: note type '{update.notetype.name}' updated")
            progress(1)
        if plan.added:
            self._import(plan)
            done.append(f"{name}: {counted(len(plan.added), 'note')} added")
            progress(len(plan.added))
        stored = set()
        for change in plan.changed:
            for media in change.note.media:
                if media not in stored:
                    data = base64.b64encode(plan.deck.media[media].read_bytes()).decode()
                    call("storeMediaFile", filename=media, data=data)
                    stored.add(media)
        steps = []
        for change in plan.changed:
            if change.fields is not None:
                names = plan.deck.notetypes[change.note.notetype].field_names
                steps.append(("updateNoteFields", {"note": {"id": change.anki.note_id,
                                                            "fields": dict(zip(names, change.fields))}}))
            if change.tags is not None:
                steps.append(("updateNoteTags", {"note": change.anki.note_id, "tags": list(change.tags)}))
        unsuspend = [cid for change in plan.changed for cid in change.unsuspend]
        if unsuspend:
            steps.append(("unsuspend", {"cards": unsuspend}))
        if steps:
            self.client.multi(steps)
            done.append(f"{name}: {counted(len(plan.changed), 'note')} updated")
        progress(len(plan.changed))
        for move in plan.moved:
            call("changeDeck", cards=list(move.card_ids), deck=move.target)
            done.append(f"{name}: {move.note.card_id} moved to {move.target}")
            progress(1)
        suspend = [card.card_id for r in plan.suspended for card in r.anki.cards if not card.suspended]
        if suspend:
            call("suspend", cards=suspend)
        if plan.suspended:
            call("addTags", notes=[r.anki.note_id for r in plan.suspended], tags=DELETED_TAG)
            done.append(f"{name}: {len(plan.suspended)} removed notes suspended and tagged {DELETED_TAG}")
        if plan.deleted:
            call("deleteNotes", notes=[r.anki.note_id for r in plan.deleted])
            done.append(f"{name}: {len(plan.deleted)} removed notes deleted")
        progress(len(plan.removed))
        if plan.unmade:
            call("suspend", cards=[u.card.card_id for u in plan.unmade])
            done.append(f"{name}: {counted(len(plan.unmade), 'card')} their notes no longer make suspended")
        progress(len(plan.unmade))

    def _import(self, plan: Plan) -> None:
        """New notes through Anki's importer, then checked: each must now be in the deck."""
        absent = {u.notetype.key for u in plan.notetypes if u.anki is None}
        # Never newer than a note type Anki has: its importer (told to merge note types) leaves them alone.
        mods = {key: 0 for key in plan.deck.notetypes if key not in absent}
        with tempfile.TemporaryDirectory(prefix="cardsmith-sync-") as tmp:
            package = Path(tmp) / "additions.apkg"
            write_additions(package, plan, mods)
            if not self.client.call("importPackage", path=str(package)):
                raise ActionFailed("importPackage: Anki did not import the new notes")
        wanted = {note.guid for note in plan.added}
        found = self._snapshot(plan.deck, wanted).notes
        if len(found) != len(wanted):
            lost = sorted(n.card_id for n in plan.added if n.guid not in found)
            raise ActionFailed(f"importPackage: {len(lost)} of {len(wanted)} new notes are not in the deck after the "
                               f"import ({', '.join(lost[:5])}{', …' if len(lost) > 5 else ''}): Anki has notes "
                               "with their GUIDs somewhere else (moved out of the deck?)")

    def _update_notetype(self, update: NotetypeUpdate) -> None:
        """Renames, additions and order through AnkiConnect's note type actions, then templates and CSS."""
        call, theirs, ours = self.client.call, update.anki, update.notetype
        model = theirs.name
        for index, (mine, match) in enumerate(zip(ours.fields, update.field_map)):
            if match is None:
                call("modelFieldAdd", modelName=model, fieldName=mine.name, index=index)
                continue
            if theirs.fields[match][1] != mine.name:
                call("modelFieldRename", modelName=model, oldFieldName=theirs.fields[match][1],
                     newFieldName=mine.name)
            call("modelFieldReposition", modelName=model, fieldName=mine.name, index=index)
        for index, (mine, match) in enumerate(zip(ours.templates, update.template_map)):
            if match is None:
                call("modelTemplateAdd", modelName=model,
                     template={"Name": mine.name, "Front": mine.front, "Back": mine.back})
                continue
            if theirs.templates[match][1] != mine.name:
                call("modelTemplateRename", modelName=model, oldTemplateName=theirs.templates[match][1],
                     newTemplateName=mine.name)
            if match != index:
                call("modelTemplateReposition", modelName=model, templateName=mine.name, index=index)
        call("updateModelTemplates", model={"name": model, "templates": {
            t.name: {"Front": t.front, "Back": t.back} for t in ours.templates}})
        call("updateModelStyling", model={"name": model, "css": ours.css})


def _collection_of(package: Path, tmp: Path) -> Path:
    """The collection file of a package Anki exported (`collection.anki21`, in the legacy layout), extracted."""
    with zipfile.ZipFile(package) as archive:
        name = "collection.anki21" if "collection.anki21" in archive.namelist() else "collection.anki2"
        archive.extract(name, tmp)
    return tmp / name


def _package_guids(package: Path, tmp: Path) -> set[str]:
    """The GUIDs of every note in a package Anki exported."""
    conn = sqlite3.connect(_collection_of(package, tmp))
    try:
        return {row[0] for row in conn.execute("SELECT guid FROM notes")}
    finally:
        conn.close()


def _read_package(package: Path, tmp: Path, guids: set[str], notetype_ids: list[int], label: str
                  ) -> tuple[Snapshot, set[int]]:
    """The notes among `guids` in a package Anki exported (its `collection.anki21`, in the legacy layout),
    and the ids of all its notes."""
    conn = sqlite3.connect(_collection_of(package, tmp))
    try:
        models_json, decks_json = conn.execute("SELECT models, decks FROM col").fetchone()
        models = {int(k): v for k, v in json.loads(models_json).items()}
        decks = {int(k): v["name"] for k, v in json.loads(decks_json).items()}
        query = lambda sql, *args: conn.execute(sql, args).fetchall()  # noqa: E731
        return (read_snapshot(query, models.get, decks, guids, notetype_ids, label),
                {row[0] for row in query("SELECT id FROM notes")})
    finally:
        conn.close()
