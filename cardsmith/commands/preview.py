"""A static, offline HTML preview of one deck: dist/preview/index.html with its media and MathJax."""

from __future__ import annotations

import html
import re
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..cardgen import reveal
from ..config import DeckConfig
from ..errors import BuildError, Problem, counted
from ..files import remove_stale, temp_prefix
from ..model import Note
from ..notetypes import NoteType, base_css
from ..pipeline import Project
from . import mathjax

MARKER = ".cardsmith-preview"  # only a folder holding this file is ever replaced
# Card fields may hold scripts and event handlers (imported decks do): only the page's own scripts,
# carrying this page's random nonce, and what they load (MathJax's components) may run. Nothing is loaded
# from the network either (an image or a style sheet of a card in a pull request would tell its author who
# reviews it, and when): the page's own files and inline styles only.
CSP = ("default-src 'none'; script-src 'nonce-{nonce}' 'strict-dynamic'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; font-src 'self' data:; media-src 'self'; object-src 'none'; frame-src 'none'; "
       "base-uri 'none'; form-action 'none'")
# What no policy stops: a card's <meta http-equiv="refresh"> would take the page elsewhere, so a card's <meta> and
# <base> tags are renamed to an element that does nothing.
INERT_RE = re.compile(r"<(?=(?:meta|base)[\s/>])", re.I)

PAGE_CSS = """
body { margin: 0; background: #f4f4f6; color: #1d1d1f; font-family: -apple-system, "Segoe UI", Roboto, Arial, sans-serif; }
body.nightMode { background: #1f1f21; color: #e6e6e6; }
.pv-bar { position: sticky; top: 0; z-index: 1; display: flex; flex-wrap: wrap; gap: 8px; align-items: center;
  padding: 8px 12px; background: inherit; border-bottom: 1px solid #c8c8c8; }
.pv-bar input, .pv-bar select, .pv-bar button { font: inherit; font-size: 16px; padding: 4px 8px; max-width: 100%; }
.pv-bar input { flex: 1 1 12em; min-width: 0; }
.pv-main { max-width: 48em; margin: 0 auto; padding: 0 12px 40px; }
.pv-index a { color: inherit; }
.pv-index li.pv-empty { opacity: .45; }
.pv-deck h2 { margin: 1.5em 0 .5em; }
.pv-entry { margin: 12px 0; border: 1px solid #c8c8c8; border-radius: 6px; overflow: hidden; }
.nightMode .pv-entry, .nightMode .pv-bar { border-color: #555; }
.pv-meta { font-size: 13px; padding: 4px 12px; opacity: .75; overflow-wrap: anywhere; }
.pv-meta .pv-tag { margin-right: .6em; }
.pv-sep { border: none; border-top: 1px dashed #c8c8c8; margin: 1em 0; }
.pv-field { font-size: 13px; opacity: .7; margin-top: .8em; }
.pv-entry[hidden], .pv-deck[hidden] { display: none; }
"""

# The preview's search and tag filter.
FILTER_JS = """
  const search = document.getElementById("pv-search"), tag = document.getElementById("pv-tag");
  const entries = [...document.querySelectorAll(".pv-entry")];
  for (const entry of entries) entry.dataset.text = entry.textContent.toLowerCase();
  function hasTag(entry, wanted) {
    return !wanted || entry.dataset.tags.split(" ").some((t) => t === wanted || t.startsWith(wanted + "::"));
  }
  function update() {
    const words = search.value.toLowerCase().split(/\\s+/).filter(Boolean), wanted = tag.value;
    let shown = 0;
    for (const entry of entries) {
      entry.hidden = !(hasTag(entry, wanted) && words.every((w) => entry.dataset.text.includes(w)));
      if (!entry.hidden) shown++;
    }
    for (const deck of document.querySelectorAll(".pv-deck")) {
      const count = deck.querySelectorAll(".pv-entry:not([hidden])").length;
      deck.hidden = count === 0;
      const item = document.querySelector(`.pv-index [data-deck="${deck.id}"]`);
      item.querySelector(".pv-shown").textContent = count;
      item.classList.toggle("pv-empty", count === 0);
    }
    document.getElementById("pv-status").textContent = `${shown} of ${entries.length} notes shown`;
  }
  search.addEventListener("input", update);
  tag.addEventListener("change", update);
  update();
"""

# Every page's: the night-mode button (Anki's two night classes), then MathJax typesets the page.
NIGHT_AND_MATH_JS = """
  function night(on) {
    document.body.classList.toggle("nightMode", on);
    document.body.classList.toggle("night_mode", on);
    document.getElementById("pv-night").textContent = on ? "Day mode" : "Night mode";
  }
  document.getElementById("pv-night").addEventListener("click",
    () => night(!document.body.classList.contains("nightMode")));
  night(window.matchMedia && matchMedia("(prefers-color-scheme: dark)").matches);
  MathJax.startup.promise.then(() => MathJax.typesetPromise())
    .then(() => { document.body.dataset.typeset = "done"; })
    .catch((error) => { document.body.dataset.typeset = "failed"; console.error(error); });
"""


@dataclass(frozen=True)
class PreviewResult:
    """What `cardsmith preview` wrote."""

    deck: str
    index: Path
    notes: int
    cards: int
    media: int

    def summary(self, root: Path) -> str:
        from ..errors import display_path

        return (f"{self.deck}: {counted(self.cards, 'card')}, {counted(self.notes, 'note')}, {self.media} media"
                f" -> {display_path(self.index, root)}")


def choose_deck(project: Project, name: str | None) -> DeckConfig:
    """The deck named (by slug or name), or the project's only deck."""
    if name:
        found = [d for d in project.decks if name in (d.slug, d.name)]
    else:
        found = project.decks if len(project.decks) == 1 else []
    if not found:
        known = ", ".join(d.slug for d in project.decks) or "none"
        what = f"no deck '{name}'" if name else "several decks: name one"
        raise BuildError([Problem("decks", 1, f"{what} (decks: {known})")])
    return found[0]


def cloze_side(text: str, reveal_all: bool) -> str:
    """A cloze field as the preview shows it: every deletion blanked, or every deletion revealed."""
    def shown(deletion) -> str:
        answer = deletion.answer if reveal_all else f"[{deletion.hint or '…'}]"
        return f'<span class="cloze" data-cloze="{",".join(map(str, deletion.numbers))}">{answer}</span>'

    return reveal(text, shown)


def write_preview(project: Project, deck_name: str | None, out: Path, allow_scripts: bool = False) -> PreviewResult:
    """Render one deck's notes (from the pipeline) into out/index.html, with media and MathJax.

    Scripts in card fields run only with `allow_scripts`; only `out` itself (a preview) is ever replaced.
    """
    deck = choose_deck(project, deck_name)
    builds, problems = project.prepare_all([deck])
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise BuildError(errors)
    build = builds[0]
    groups: dict[str, list[Note]] = {}
    for note in build.notes:
        groups.setdefault(note.subdeck.removeprefix(deck.name + "::") or deck.name, []).append(note)

    cards = sum(len(note.cards) for note in build.notes)
    nonce = "" if allow_scripts else secrets.token_urlsafe(18)
    write_site(out, _page(project, deck, groups, cards, nonce), build.media, "cardsmith preview")
    return PreviewResult(deck.name, out / "index.html", len(build.notes), cards, len(build.media))


def write_site(out: Path, page: str, media: dict[str, Path], command: str) -> None:
    """A static site in `out`: the page as index.html, its media and Anki's MathJax; made aside, then put in place
    of `out` whole (only a folder a page of cardsmith's wrote is ever replaced)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(out)  # what a killed run left (the project lock is held)
    workdir = Path(tempfile.mkdtemp(prefix=temp_prefix(out), suffix=".tmp", dir=out.parent))  # ours alone
    try:
        staging = workdir / "site"  # made with the user's umask (mkdtemp's folder is private)
        staging.mkdir()
        mathjax.copy_mathjax(staging / "_anki")
        for name, source in media.items():
            shutil.copyfile(source, staging / name)
        (staging / "index.html").write_text(page, encoding="utf-8")
        (staging / MARKER).write_text(f"Written by `{command}`; replaced on every run.\n", encoding="utf-8")
        _replace(staging, out)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _replace(staging: Path, out: Path) -> None:
    if out.is_symlink():
        raise BuildError([Problem(str(out), 1, "is a symbolic link: preview writes only into a folder of its own, "
                                  "never through a link")])
    if out.exists():
        if not (out / MARKER).exists() and any(out.iterdir()):
            raise BuildError([Problem(str(out), 1, "not a preview folder written by cardsmith: refusing to replace it")])
        shutil.rmtree(out)
    staging.replace(out)


def _css(project: Project) -> str:
    """The note types' own CSS (shared part once), then the page's layout."""
    shared = base_css(project.root)
    extras = {nt.css.removeprefix(shared) for nt in project.notetypes.values()}
    return "\n".join([shared, *sorted(extras), PAGE_CSS])


def entry(notetype: NoteType, note: Note) -> str:
    """A note as the preview shows it: its first field as the question, its other fields as the answer (named
    when the note type has more than two), a cloze field's deletions blanked, then revealed."""
    cloze = set(notetype.rule.cloze_fields) if notetype.is_cloze else set()
    names = notetype.field_names
    fields = [INERT_RE.sub("<cardsmith-inert-", value) for value in note.fields]
    question = cloze_side(fields[0], False) if names[0] in cloze else fields[0]
    answer = [cloze_side(fields[0], True)] if names[0] in cloze else []
    for name, value in zip(names[1:], fields[1:]):
        if name in cloze:
            value = cloze_side(value, True)
        if value.strip() or not cloze:
            answer.append(f'<div class="pv-field">{html.escape(name)}</div>{value}' if len(names) > 2 else value)
    separator = '<hr class="pv-sep">' if cloze else ""
    answer_html = separator.join(part for part in answer if part.strip() or not cloze)
    tags = " ".join(note.tags)
    tag_html = "".join(f'<span class="pv-tag">#{html.escape(t)}</span>' for t in note.tags)
    return (f'<article class="pv-entry" id="card-{html.escape(note.card_id)}" data-tags="{html.escape(tags)}">'
            f'<div class="card"><div class="cs-card cs-question">{question}</div><hr class="pv-sep">'
            f'<div class="cs-card cs-answer">{answer_html}</div></div>'
            f'<div class="pv-meta">{html.escape(note.card_id)} · {html.escape(note.note_type)} · '
            f'{html.escape(note.shown_path)}:{note.line} {tag_html}</div></article>')


def _page(project: Project, deck: DeckConfig, groups: dict[str, list[Note]], cards: int, nonce: str) -> str:
    """The whole site in one page; with a `nonce`, a Content-Security-Policy lets only its own scripts run."""
    tags: dict[str, int] = {}
    for note in (n for group in groups.values() for n in group):
        for tag in note.tags:
            parts = tag.split("::")
            for depth in range(1, len(parts) + 1):
                tags["::".join(parts[:depth])] = tags.get("::".join(parts[:depth]), 0) + 1
    options = "".join(f'<option value="{html.escape(t)}">{html.escape(t)} ({n})</option>' for t, n in sorted(tags.items()))
    index, sections = [], []
    for number, (name, group) in enumerate(groups.items(), 1):
        anchor = f"deck-{number}"
        count = sum(len(n.cards) for n in group)
        index.append(f'<li data-deck="{anchor}"><a href="#{anchor}">{html.escape(name)}</a>: '
                     f'<span class="pv-shown">{len(group)}</span> of {len(group)} notes, {count} cards</li>')
        sections.append(f'<section class="pv-deck" id="{anchor}"><h2>{html.escape(name)}</h2>'
                        + "\n".join(entry(project.notetypes[c.note_type], c) for c in group) + "</section>")
    notes = sum(len(g) for g in groups.values())
    title = html.escape(deck.name)
    body = f"""<div class="pv-bar"><input id="pv-search" type="search" placeholder="Search cards" aria-label="Search cards">
<select id="pv-tag" aria-label="Filter by tag"><option value="">All tags</option>{options}</select>
<button id="pv-night" type="button">Night mode</button></div>
<main class="pv-main">
<h1>{title}</h1>
<p>{html.escape(deck.description)}</p>
<p><span id="pv-status">{notes} of {notes} notes shown</span> ({cards} cards in Anki).</p>
<nav class="pv-index"><ul>{"".join(index)}</ul></nav>
{"".join(sections)}
</main>"""
    return page(project, f"{deck.name}: preview", body, FILTER_JS, nonce)


def page(project: Project, title: str, body: str, script: str, nonce: str, css: str = "") -> str:
    """A page in the preview's look: the note types' CSS and the page's (and `css`), Anki's MathJax, the night
    button's and MathJax's script after `script`; with a `nonce`, a Content-Security-Policy lets only the page's
    own scripts run (never a card's)."""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
{f'<meta http-equiv="Content-Security-Policy" content="{CSP.format(nonce=nonce)}">' if nonce else ""}
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="cardsmith">
<title>{html.escape(title)}</title>
<style>{_css(project)}{css}</style>
{mathjax.script_tags("_anki", nonce)}</head>
<body>
{body}
<script{f' nonce="{nonce}"' if nonce else ""}>(function () {{{script}{NIGHT_AND_MATH_JS}}})();</script>
</body></html>
"""
