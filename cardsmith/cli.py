"""The command line. Each command calls one function of the library; no logic lives here."""

from __future__ import annotations

import gc
import json
import sqlite3
import sys
from pathlib import Path
from typing import Any, Callable

import click

from . import __version__
from .boundary import refuse_sources
from .errors import BuildError, Problem, counted
from .files import project_lock, writable_problem, write_atomic
from .pipeline import Project

ROOT_OPTION = click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=".",
                           show_default=True, help="The project folder (with decks/, cards/, templates/).")


def fail(error: BuildError) -> None:
    """Print every problem as `path:line: message` and exit 1."""
    for problem in error.problems:
        click.echo(str(problem), err=True)
    count = sum(1 for p in error.problems if p.severity == "error")
    click.echo(f"{counted(count, 'error')}; nothing was written.", err=True)
    sys.exit(1)


def waiting(message: str) -> None:
    """Say why a command does not start yet (another run holds the project lock)."""
    click.echo(message, err=True)


class Commands(click.Group):
    """The command group: the machine's errors (a full disk, a read-only folder) end in one line, exit 1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except OSError as error:
            click.echo(f"{error.filename or 'cardsmith'}: {error.strerror or error}", err=True)
            sys.exit(1)
        except sqlite3.Error as error:
            click.echo(f"cardsmith: SQLite: {error}", err=True)
            sys.exit(1)


@click.group(cls=Commands, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cardsmith")
@click.pass_context
def main(ctx: click.Context) -> None:
    """cardsmith: build Anki decks from Markdown flashcards."""
    # A build keeps hundreds of thousands of objects (cards, fields, rows) to its end, and they form
    # no reference cycles: the cyclic collector's repeated passes over them took 40% of a
    # 100,000-card rebuild (bench/RESULTS.md). Collect less often; cycles are still collected.
    gc.set_threshold(100_000, 50, 100)
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())


@main.command()
@ROOT_OPTION
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output folder for the .apkg files [default: ROOT/dist].")
@click.option("--frozen", is_flag=True, help="Fail instead of updating a stale decks/<deck>.lock (for CI).")
@click.option("--report", "report_path", type=click.Path(path_type=Path),
              help="Also write what changed per deck (new, changed, deleted, moved) as JSON to this file.")
@click.option("-v", "--verbose", is_flag=True,
              help="Also list every new and changed card and note type (deleted and moved cards always are).")
@click.option("--no-cache", is_flag=True, help="Render every card afresh and write every package; neither read nor write the render cache.")
@click.option("--allow-deletions", is_flag=True,
              help="Let a build delete more than a quarter of a deck's released cards (refused without it).")
@click.argument("decks", nargs=-1)
def build(root: Path, out: Path | None, frozen: bool, report_path: Path | None, verbose: bool,
          no_cache: bool, allow_deletions: bool, decks: tuple[str, ...]) -> None:
    """Build every deck in decks/ (or the DECKS named) into .apkg files."""
    from .progress import Progress

    try:
        if report_path:
            refuse_sources(root, report_path, "--report")
        why = writable_problem(report_path) if report_path else None
        if why:  # before anything is built: never a written package and lock, then an error
            raise BuildError([Problem(str(report_path), 0, f"cannot write the report there: {why}")])
        with project_lock(root, waiting), Progress("Building") as progress:
            project = Project(root, cache=not no_cache)
            progress.set_total(sum(len(project.deck_files(d)) for d in project.selected(list(decks) or None)))
            results = project.build(out or root / "dist", frozen=frozen, only=list(decks) or None,
                                    progress=progress, allow_deletions=allow_deletions)
    except BuildError as error:
        fail(error)
        return
    for result in results:
        click.echo(result.summary(root))
        click.echo("  " + result.changes_line())
        for notice in result.notices:
            click.echo("  " + notice)
        for line in result.details():
            if verbose or line.startswith(("deleted", "moved", "card no longer made")):
                click.echo("  " + line)
    if report_path:
        write_atomic(report_path, [json.dumps([r.report() for r in results], indent=2) + "\n"])


@main.command()
@ROOT_OPTION
@click.option("--strict", is_flag=True, help="Treat warnings as errors (exit 1 on any warning); CI uses it.")
@click.option("-v", "--verbose", is_flag=True, help="Explain what was checked.")
def check(root: Path, strict: bool, verbose: bool) -> None:
    """Check every deck for mistakes without writing anything; exit 1 on errors."""
    from .commands.check import check_project
    from .progress import Progress

    with Progress("Checking") as progress:
        report = check_project(root, strict=strict, progress=progress, on_total=progress.set_total)
    if verbose:
        for line in report.log:
            click.echo(line, err=True)
    for problem in report.problems:
        click.echo(str(problem), err=True)
    errors, warnings = len(report.errors), len(report.warnings)
    if errors or warnings or verbose:
        counts = f"{counted(errors, 'error')}, {counted(warnings, 'warning')}"
        if report.promoted:
            counts += f" ({counted(report.promoted, 'warning')} counted as errors: --strict)"
        click.echo(counts + ".", err=True)
    if errors:
        sys.exit(1)


def _page(root: Path, write: Callable[[Project], Any]) -> Any:
    """Run a command that writes a page (preview, diff) under the project lock; its result, or exit 1 with the
    problems (or with why Anki's MathJax is not there)."""
    from .commands.mathjax import MathJaxUnavailable

    try:
        with project_lock(root, waiting):
            return write(Project(root))
    except BuildError as error:
        fail(error)
    except MathJaxUnavailable as error:
        click.echo(str(error), err=True)
        sys.exit(1)


@main.command()
@ROOT_OPTION
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output folder [default: ROOT/dist/preview].")
@click.option("--allow-scripts", is_flag=True,
              help="Let scripts and event handlers in card fields run in the preview (they do not by default).")
@click.argument("deck", required=False)
def preview(root: Path, out: Path | None, allow_scripts: bool, deck: str | None) -> None:
    """Write a static HTML preview of a DECK (needed if there are several) to dist/preview/index.html."""
    from .commands.preview import write_preview

    result = _page(root, lambda project: write_preview(project, deck, out or root / "dist" / "preview", allow_scripts))
    click.echo(result.summary(root))


@main.command()
@ROOT_OPTION
def ids(root: Path) -> None:
    """Write an id under every card that has none (nothing else in the files changes)."""
    from .commands.ids import add_missing_ids

    try:
        with project_lock(root, waiting):
            added = add_missing_ids(Project(root))
    except BuildError as error:
        fail(error)
        return
    for item in added:
        click.echo(str(item))
    click.echo(f"{counted(len(added), 'id')} added.")


@main.command()
@ROOT_OPTION
@click.option("--format", "fmt", type=click.Choice(["csv", "tsv", "markdown"]), required=True,
              help="csv/tsv: Anki's text-import format (same GUIDs as the .apkg); markdown: a readable handout.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output folder [default: ROOT/dist].")
@click.argument("decks", nargs=-1)
def export(root: Path, fmt: str, out: Path | None, decks: tuple[str, ...]) -> None:
    """Export every deck (or the DECKS named) as a text-import file or a Markdown handout."""
    from .commands.export import export_decks

    try:
        with project_lock(root, waiting):
            results = export_decks(Project(root), fmt, out or root / "dist", only=list(decks) or None)
    except BuildError as error:
        fail(error)
        return
    for result in results:
        click.echo(result.summary(root))


@main.command("import")
@ROOT_OPTION
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder for the card files, e.g. cards/<name>/ (its name becomes decks/<name>.yaml).")
@click.option("--force", is_flag=True, help="Replace files that exist (they are listed); without it, import "
              "writes only new files.")
@click.option("--merge", is_flag=True, help="Use a note type the project has already (same id, fields and "
              "templates) for the imported notes; without it, such a note type is refused.")
@click.option("--verify", is_flag=True, help="Then build the imported decks in a scratch folder and compare every "
              "note (GUID, note type, fields, tags, deck, modification time), note type and media file with the "
              "package; exit 1 if any differs.")
@click.argument("package", type=click.Path(dir_okay=False, path_type=Path))
def import_package(root: Path, out: Path, force: bool, merge: bool, verify: bool, package: Path) -> None:
    """Convert an Anki package (.apkg) into sources whose build changes none of its notes."""
    from .commands.importer import import_apkg
    from .commands.importverify import verify_import

    try:
        with project_lock(root, waiting):
            result = import_apkg(package, out, root, force, merge)
            for line in result.lines(root):
                click.echo(line)
            lines, differs = verify_import(package, root, result.decks, result.out) if verify else ([], False)
    except BuildError as error:
        fail(error)
        return
    for line in lines:
        click.echo(line)
    if differs:
        sys.exit(1)


@main.command()
@click.option("--name", default=None, help="The deck name shown in Anki [default: from DIR's name].")
@click.option("--cardsmith", "spec", default=None, metavar="SPEC",
              help="Where the CI workflow installs cardsmith from: a pip requirement, e.g. "
                   "'cardsmith @ git+https://github.com/<owner>/cardsmith@<tag>' [default: where this one came "
                   "from, if CI can reach it].")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def init(directory: Path, name: str | None, spec: str | None) -> None:
    """Create a new deck project in DIRECTORY: cards, deck file, templates, Makefile, CI workflow."""
    from .commands.scaffold import create_project

    try:
        result = create_project(directory, name, spec)
    except BuildError as error:
        fail(error)
        return
    for line in result.lines():
        click.echo(line)


def collection_options(action: str) -> Callable:
    """--collection and --anki-connect, for a command that works on a learner's collection (`action`: its verb)."""
    def decorate(command: Callable) -> Callable:
        command = click.option("--anki-connect", "anki_connect", is_flag=False, flag_value="http://127.0.0.1:8765",
                               default=None, metavar="[URL]",
                               help=f"{action} a running Anki through the AnkiConnect add-on "
                                    "[URL default: http://127.0.0.1:8765].")(command)
        return click.option("--collection", type=click.Path(path_type=Path), default=None,
                            help="A collection.anki2 (or its profile folder), with Anki closed [default: the "
                                 "default profile's].")(command)
    return decorate


def _on_collection(root: Path, decks: tuple[str, ...], title: str, opener: Callable, run: Callable) -> Any:
    """`run(project, decks, opener, progress)` under the project lock, on the DECKS (default: every deck)."""
    from .progress import Progress

    with project_lock(root, waiting), Progress(title) as progress:
        project = Project(root)
        selected = project.selected(list(decks) or None)
        progress.set_total(sum(len(project.deck_files(d)) for d in selected))
        return run(project, selected, opener, progress)


def _opener(collection: Path | None, url: str | None, notices: list[str], **how: Any) -> Callable:
    """Opens the collection when the command needs it (after the sources built); says which one in `notices`."""
    def opener():
        from .commands.sync import open_target

        target, notice = open_target(collection, url, **how)
        if notice:
            notices.append(notice)
        return target
    return opener


@main.command("sync")
@ROOT_OPTION
@collection_options("Sync into")
@click.option("--dry-run", is_flag=True, help="Print what would change, per deck, and change nothing.")
@click.option("--delete-reviewed", is_flag=True,
              help="Also delete removed cards that were reviewed (by default they are suspended and tagged).")
@click.option("--allow-schema-change", is_flag=True,
              help="Apply note-type changes that make Anki need a full sync with AnkiWeb (a field or template "
                   "added, renamed or reordered).")
@click.option("--restore-deleted", is_flag=True,
              help="Add back cards deleted in Anki after a sync put them there (by default they stay deleted).")
@click.option("-v", "--verbose", is_flag=True, help="List every added and updated card too.")
@click.argument("decks", nargs=-1)
def sync_command(root: Path, collection: Path | None, anki_connect: str | None, dry_run: bool,
                 delete_reviewed: bool, allow_schema_change: bool, restore_deleted: bool, verbose: bool,
                 decks: tuple[str, ...]) -> None:
    """Put every deck's (or the DECKS') current build into an Anki collection: adds, updates, moves, deletes."""
    from .commands.sync import SyncError, SyncOptions, report_lines, sync

    notices: list[str] = []
    options = SyncOptions(dry_run, delete_reviewed, allow_schema_change, restore_deleted)
    try:
        result = _on_collection(root, decks, "Syncing", _opener(collection, anki_connect, notices, read_only=dry_run),
                                lambda project, selected, opener, progress:
                                sync(project, selected, opener, options, progress))
    except BuildError as error:
        fail(error)
        return
    except SyncError as error:
        for line in error.lines:
            click.echo(line, err=True)
        sys.exit(1)
    for line in notices + report_lines(result, verbose):
        click.echo(line)


@main.command("pull")
@ROOT_OPTION
@collection_options("Pull from")
@click.option("--take", type=click.Choice(["anki", "source"]), default=None,
              help="Resolve conflicts (a field changed in Anki and in the sources): Anki's version, or the sources'.")
@click.option("--new-cards", "new_cards", type=click.Path(dir_okay=False, path_type=Path), default=None,
              metavar="FILE", help="Write notes added in Anki to this card file, as new cards (else they are listed).")
@click.option("--delete", is_flag=True, help="Remove the cards deleted in Anki from the sources (else listed).")
@click.option("--dry-run", is_flag=True, help="Print the changes as a diff of the card files, and write nothing.")
@click.argument("decks", nargs=-1)
def pull_command(root: Path, collection: Path | None, anki_connect: str | None, take: str | None,
                 new_cards: Path | None, delete: bool, dry_run: bool, decks: tuple[str, ...]) -> None:
    """Bring edits made in Anki (fields, tags, new and deleted notes) back into the card files."""
    from .commands.pull import PullOptions, pull, report_lines

    notices: list[str] = []
    options = PullOptions(take, new_cards, delete, dry_run)
    try:
        result = _on_collection(root, decks, "Pulling", _opener(collection, anki_connect, notices, verb="Pulling from"),
                                lambda project, selected, opener, progress:
                                pull(project, selected, opener, options, progress))
    except BuildError as error:
        fail(error)
        return
    out, err = report_lines(result, dry_run)
    for line in notices + out:
        click.echo(line)
    for line in err:
        click.echo(line, err=True)
    if result.failed:
        sys.exit(1)


@main.command("diff")
@ROOT_OPTION
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output folder for the page [default: ROOT/dist/diff].")
@click.argument("rev", default="HEAD")
def diff_command(root: Path, out: Path | None, rev: str) -> None:
    """Show the cards changed since git revision REV (default: the last commit), before and after, as a page."""
    from .commands.diff import card_diff

    result = _page(root, lambda project: card_diff(project, rev, out or root / "dist" / "diff"))
    for line in result.lines(root):
        click.echo(line)


@main.command("merge-driver")
@click.option("--install", is_flag=True,
              help="Set the driver up in this clone (git config) and the project's .gitattributes.")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=".", show_default=True,
              help="The project folder (with --install).")
@click.argument("files", nargs=-1)
def merge_driver(install: bool, root: Path, files: tuple[str, ...]) -> None:
    """git's merge driver for card files (card by card) and locks: BASE OURS THEIRS PATH (%O %A %B %P)."""
    from .commands import mergedriver

    try:
        if install and files:  # a driver set up without `--` and a file named `--install` (a hostile .gitattributes)
            raise click.UsageError("give --install alone, or BASE OURS THEIRS PATH; run `cardsmith merge-driver "
                                   "--install` again to set the driver up with `--` before the paths")
        if install:
            for line in mergedriver.install(root):
                click.echo(line)
            return
        if len(files) != 4:
            raise click.UsageError("give BASE OURS THEIRS PATH (git passes %O %A %B %P), or --install")
        left = mergedriver.merge_file(Path(files[0]), Path(files[1]), Path(files[2]), files[3])
    except BuildError as error:
        fail(error)
        return
    for line in left:
        click.echo(line, err=True)
    if left:
        sys.exit(1)
