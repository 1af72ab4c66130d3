"""Issue 7: `cardsmith init DIR` writes a project that builds; `pip install .` gives the command."""

from __future__ import annotations

import filecmp
import json
import os
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from cardsmith.cli import main
from cardsmith.commands.scaffold import TEMPLATES, fresh_ids, install_spec
from conftest import REPO, import_apkg

BIN = Path(sys.executable).parent


def same_tree(a: Path, b: Path) -> list[str]:
    """Files that differ between two folders (missing on either side included)."""
    diff = filecmp.dircmp(a, b)
    out = [str(a / n) for n in diff.left_only + diff.right_only + diff.diff_files + diff.funny_files]
    for sub in diff.common_dirs:
        out += same_tree(a / sub, b / sub)
    return out


def test_packaged_templates_are_the_repos():
    # The package reaches templates/ through a symlink; an install copies the files (below).
    assert TEMPLATES.resolve() == (REPO / "templates").resolve()


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_init_then_make_build(tmp_path, collection):
    target = tmp_path / "my-new-deck"
    result = CliRunner().invoke(main, ["init", str(target)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert f"created {target}/decks/my-new-deck.yaml" in result.output
    for name in ("cards/my-new-deck/01-example.md", "Makefile", ".github/workflows/build.yml",
                 "templates/basic/notetype.yaml", "templates/base.css", ".gitignore"):
        assert (target / name).is_file(), name
    deck = yaml.safe_load((target / "decks/my-new-deck.yaml").read_text())
    assert deck["name"] == "My New Deck" and (1 << 30) <= deck["id"] < (1 << 31)
    workflow = yaml.safe_load((target / ".github/workflows/build.yml").read_text())
    steps = [s.get("run") or s.get("uses") for s in workflow["jobs"]["build"]["steps"]]
    assert "make check" in steps and "make build BUILD_FLAGS=--frozen" in steps
    upload = workflow["jobs"]["build"]["steps"][-1]
    assert upload["uses"].startswith("actions/upload-artifact") and upload["with"]["path"] == "dist/*.apkg"
    # Fresh note type ids: a new deck never shares (and restyles) another deck's note types.
    ours = yaml.safe_load((REPO / "templates/basic/notetype.yaml").read_text())
    new = yaml.safe_load((target / "templates/basic/notetype.yaml").read_text())
    assert new["id"] != ours["id"] and new["name"] == "My New Deck Basic"
    assert {f["id"] for f in new["fields"]}.isdisjoint(f["id"] for f in ours["fields"])

    env = {**os.environ, "CARDSMITH": str(BIN / "cardsmith")}
    build = subprocess.run(["make", "build"], cwd=target, env=env, capture_output=True, text=True)
    assert build.returncode == 0, build.stdout + build.stderr
    assert re.search(r"My New Deck: 4 cards, 3 notes, 0 media -> dist/my-new-deck.apkg", build.stdout)
    for goal in ("check", "test"):
        run = subprocess.run(["make", goal], cwd=target, env=env, capture_output=True, text=True)
        assert run.returncode == 0, run.stdout + run.stderr
    log = import_apkg(collection, target / "dist/my-new-deck.apkg")
    assert len(log.new) == 3 and not log.conflicting
    assert "My New Deck Cloze" in [m.name for m in collection.models.all_names_and_ids()]


def test_init_refuses_a_non_empty_folder(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x/keep.txt").write_text("mine")
    result = CliRunner().invoke(main, ["init", str(tmp_path / "x")], catch_exceptions=False)
    assert result.exit_code == 1
    assert f"{tmp_path / 'x'}:0: exists and is not empty" in result.output


def test_fresh_ids_keep_the_rest():
    text = (REPO / "templates/cloze/notetype.yaml").read_text()
    new = fresh_ids(text, "Deck", random.Random(1))
    assert re.sub(r"\d{6,}", "N", new).replace("\"Deck Cloze\"", "cardsmith Cloze") == re.sub(r"\d{6,}", "N", text)


def copy_sources(source_tree: Path) -> None:
    """What pip needs to install cardsmith from a folder: a copy (pip's build leaves build/ in its source)."""
    source_tree.mkdir()
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source_tree / name)
    shutil.copytree(REPO / "cardsmith", source_tree / "cardsmith", ignore=shutil.ignore_patterns("__pycache__"),
                    symlinks=True)
    shutil.copytree(REPO / "templates", source_tree / "templates")


def pip_install(source_tree: Path, target: Path) -> None:
    """`pip install --target` of a copy of this repository."""
    copy_sources(source_tree)
    install = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                              "--target", str(target), str(source_tree)], capture_output=True, text=True)
    assert install.returncode == 0, install.stderr


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """cardsmith installed (not editable) into a folder of its own, as from a wheel."""
    base = tmp_path_factory.mktemp("installed")
    pip_install(base / "source", base / "site")
    return base / "site"


def test_pip_install_gives_the_command(tmp_path, site):
    assert (site / "bin/cardsmith").is_file()
    installed = site / "cardsmith/data/templates"
    assert not installed.is_symlink() and same_tree(REPO / "templates", installed) == []
    env = {**os.environ, "PYTHONPATH": str(site)}
    run = subprocess.run([str(site / "bin/cardsmith"), "init", str(tmp_path / "deck")], env=env,
                         capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "deck/templates/basic-reversed/reverse-front.html").is_file()


NO_CARDSMITH_PATH = "/usr/local/bin:/usr/bin:/bin"  # cardsmith is in none of them


def next_step(output: str) -> str:
    return next(line for line in output.splitlines() if line.startswith("Next: ")).removeprefix("Next: ")


def workflow_steps(project: Path) -> list[dict]:
    return yaml.safe_load((project / ".github/workflows/build.yml").read_text())["jobs"]["build"]["steps"]


def run_step(step: dict, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    """A `run:` step as GitHub runs it on Linux (bash -e -o pipefail), with the job's env."""
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]], cwd=cwd, env=env,
                          capture_output=True, text=True)


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_the_printed_next_step_works_without_cardsmith_on_path(tmp_path):
    assert shutil.which("cardsmith", path=NO_CARDSMITH_PATH) is None
    env = {**os.environ, "PATH": NO_CARDSMITH_PATH}
    target = tmp_path / "my deck"  # a space, to be quoted
    init = subprocess.run([str(BIN / "cardsmith"), "init", str(target)], env=env, capture_output=True, text=True,
                          cwd=tmp_path)
    assert init.returncode == 0, init.stderr
    step = next_step(init.stdout)
    build = subprocess.run(["sh", "-c", step], env=env, cwd=tmp_path, capture_output=True, text=True)
    assert build.returncode == 0, step + "\n" + build.stdout + build.stderr
    assert (target / "dist/my-deck.apkg").is_file()
    # An editable install (this one) is a file:// URL CI cannot reach: init says so, the workflow stops.
    assert "which CI cannot reach" in init.stdout and "--cardsmith SPEC" in init.stdout
    install = next(s for s in workflow_steps(target) if "pip install" in s.get("run", ""))
    env_of_job = yaml.safe_load((target / ".github/workflows/build.yml").read_text())["jobs"]["build"]["env"]
    assert env_of_job == {"CARDSMITH_SPEC": ""}
    run = run_step(install, target, {**env, **env_of_job})
    assert run.returncode == 1
    assert "CARDSMITH_SPEC is empty" in run.stdout and "--cardsmith SPEC" in run.stdout


def test_workflow_installs_cardsmith_from_the_vcs_url_pip_recorded(tmp_path, site):
    site_copy = tmp_path / "site"
    shutil.copytree(site, site_copy, symlinks=True)
    record = next(site_copy.glob("cardsmith-*.dist-info")) / "direct_url.json"
    commit = "4f1c2d3e" * 5
    record.write_text(json.dumps({"url": "https://github.com/someone/cardsmith.git",
                                  "vcs_info": {"vcs": "git", "commit_id": commit, "requested_revision": "v0.1.0"}}))
    env = {**os.environ, "PYTHONPATH": str(site_copy), "PATH": NO_CARDSMITH_PATH}
    init = subprocess.run([str(site_copy / "bin/cardsmith"), "init", str(tmp_path / "deck")], env=env,
                          capture_output=True, text=True, cwd=tmp_path)
    assert init.returncode == 0, init.stderr
    workflow = yaml.safe_load((tmp_path / "deck/.github/workflows/build.yml").read_text())
    assert workflow["jobs"]["build"]["env"] == {
        "CARDSMITH_SPEC": f"cardsmith @ git+https://github.com/someone/cardsmith.git@{commit}"}
    assert "--cardsmith" not in init.stdout
    assert next_step(init.stdout) == f"cd {tmp_path}/deck && CARDSMITH={site_copy}/bin/cardsmith make build"


@pytest.mark.parametrize("record, spec", [
    ({"url": "https://github.com/a/cardsmith", "vcs_info": {"vcs": "git", "commit_id": "abc"}},
     "cardsmith @ git+https://github.com/a/cardsmith@abc"),
    ({"url": "ssh://git@example.org/a/tools.git", "subdirectory": "cardsmith",
      "vcs_info": {"vcs": "git", "commit_id": "abc"}},
     "cardsmith @ git+ssh://git@example.org/a/tools.git@abc#subdirectory=cardsmith"),
    ({"url": "https://example.org/cardsmith-0.1.0.tar.gz", "archive_info": {"hash": "sha256=00ff"}},
     "cardsmith @ https://example.org/cardsmith-0.1.0.tar.gz#sha256=00ff"),
    ({"url": "file:///home/me/cardsmith", "dir_info": {"editable": True}}, None),
    ({"url": "file:///home/me/cardsmith", "vcs_info": {"vcs": "git", "commit_id": "abc"}}, None),
    ({"url": "https://github.com/a/cardsmith", "vcs_info": {"vcs": "git"}}, None),
    ({"url": 5}, None),
    ([], None),
    (None, None),
])
def test_install_spec_from_pips_direct_url_record(record, spec):
    assert install_spec(record) == spec


@pytest.mark.parametrize("spec, message", [
    ("", "--cardsmith SPEC is empty"),
    ("file:///home/me/cardsmith", "CI cannot reach a local path"),
    ("/home/me/cardsmith", "CI cannot reach a local path"),
    ("git+https://x/y\nrm -rf /", "one line"),
])
def test_init_refuses_a_spec_ci_cannot_use(tmp_path, spec, message):
    result = CliRunner().invoke(main, ["init", str(tmp_path / "d"), "--cardsmith", spec], catch_exceptions=False)
    assert result.exit_code == 1 and message in result.output
    assert not (tmp_path / "d").exists()


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_the_workflow_steps_run(tmp_path):
    target = tmp_path / "deck"
    spec = "cardsmith @ git+https://github.com/someone/cardsmith@v0.1.0"
    result = CliRunner().invoke(main, ["init", str(target), "--cardsmith", spec], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    workflow = yaml.safe_load((target / ".github/workflows/build.yml").read_text())
    job = workflow["jobs"]["build"]
    assert job["env"] == {"CARDSMITH_SPEC": spec}
    cache = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/cache@"))
    assert cache["with"]["path"] == ".cache/cardsmith" and "hashFiles('cards/**'" in cache["with"]["key"]
    assert [s["uses"].split("@")[0] for s in job["steps"] if "uses" in s] == [
        "actions/checkout", "actions/setup-python", "actions/cache", "actions/upload-artifact"]

    # As the README says: build once and commit the lock; then CI runs the workflow's steps.
    env = {**os.environ, "CARDSMITH": str(BIN / "cardsmith")}
    assert subprocess.run(["make", "build"], cwd=target, env=env, capture_output=True).returncode == 0
    shutil.rmtree(target / "dist")
    shutil.rmtree(target / ".cache")
    # CI: no cardsmith but the one the install step installs (a local copy instead of the git URL).
    site = tmp_path / "ci-site"
    source = tmp_path / "ci-source"
    copy_sources(source)
    # `python` is this interpreter (it has the dependencies); the install step puts cardsmith first on PATH.
    ci_env = {**os.environ, **job["env"], "CARDSMITH_SPEC": str(source), "PIP_TARGET": str(site),
              "PIP_NO_DEPS": "1", "PYTHONPATH": str(site), "PATH": f"{site}/bin:{BIN}:{NO_CARDSMITH_PATH}"}
    ci_env.pop("CARDSMITH", None)
    for step in job["steps"]:
        if "run" in step:
            run = run_step(step, target, ci_env)
            assert run.returncode == 0, (step["run"], run.stdout, run.stderr)
    assert (site / "bin/cardsmith").is_file()
    assert [p.name for p in (target / "dist").glob("*.apkg")] == ["deck.apkg"]
    assert (target / cache["with"]["path"]).is_dir()  # the folder CI caches is the one the build fills


@pytest.mark.parametrize("name, reason", [
    ("::", "must not be empty or have empty `::` parts"),
    ("Biology::", "must not be empty or have empty `::` parts"),
    ("Two\nlines", "must not hold line breaks, tabs or other control characters (Anki drops them from a deck's name)"),
])
def test_init_refuses_a_name_its_own_build_would_refuse(tmp_path, name, reason):
    """The deck-name rule of deck files (config.deck_name) decides, before anything is written."""
    result = CliRunner().invoke(main, ["init", str(tmp_path / "x"), "--name", name, "--cardsmith", "cardsmith"],
                                catch_exceptions=False)
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == f"--name:0: the deck name {name!r} {reason}".replace("\n", "\\n")
    assert not (tmp_path / "x").exists()


def test_init_ignores_what_it_makes(tmp_path):
    """The build's output, the render cache and the sync records (one learner's collection) stay out of git."""
    result = CliRunner().invoke(main, ["init", str(tmp_path / "x"), "--cardsmith", "cardsmith"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    ignored = (tmp_path / "x/.gitignore").read_text().split()
    assert {"dist/", ".cache/", ".cardsmith/"} <= set(ignored)
