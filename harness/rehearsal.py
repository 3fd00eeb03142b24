"""A README's "Deploy to Heroku" block, run as a reader runs it, against the Heroku stand-in.

Shared by tests/test_deploy.py and `make rehearse` (scripts/rehearse.py), so that both do the
same thing: the block found by its marker, a lone copy of the app folder (its tracked files,
committed as a repository of its own), a reader's environment (harness/reader.py, the quick
starts' too) with the stand-in's `heroku` command first on PATH, and the block run line by line
under `bash -euo pipefail`.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from . import apps
from .heroku import REDIS_DB_OFFSET, StandIn
from .reader import reader_env

BLOCK_LIMIT = 600.0  # the whole block: first builds compile wheels into pip's cache
MARKER = re.compile(r"^<!-- deploy: heroku open=([^>]*?) -->\n```sh\n(.*?)^```", re.M | re.S)
BUTTON = re.compile(r"^<!-- deploy: button((?: [A-Z0-9_]+=\S+)*) -->$", re.M)
SECTION = re.compile(r"^## Deploy to Heroku\n(.*?)(?=^## |\Z)", re.M | re.S)
MARKER_HELP = (
    "put the deploy block under '## Deploy to Heroku', with a marker line right before its ```sh fence:\n"
    "  <!-- deploy: heroku open=/ /json /health -->   (the pages the README names)"
)


def deploy_section(readme: str) -> str:
    section = SECTION.search(readme)
    assert section, "README has no '## Deploy to Heroku' section"
    return section.group(1)


def parse_block(readme: str, section: str | None = None) -> tuple[tuple[str, ...], str]:
    """The marked block in the app README's deploy section (or in the whole of `section`)."""
    found = MARKER.findall(deploy_section(readme) if section is None else section)
    assert len(found) == 1, f"README has {len(found)} marked deploy blocks: {MARKER_HELP}"
    paths, body = found[0]
    assert paths.split(), "the deploy block's open= names no page"
    return tuple(paths.split()), body


def lone_repository(folder: Path, destination: Path) -> Path:
    """`folder` (an app folder, or the repository itself) as a repository of its own: its
    tracked files only, as they are in the working tree, in one commit on main."""
    prefix = folder.relative_to(apps.REPO)
    listed = (
        subprocess.run(["git", "ls-files", "-z", "--cached", "--", str(prefix)], cwd=apps.REPO, capture_output=True, check=True)
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, listed):
        source = apps.REPO / name
        if source.is_file():  # a tracked file deleted in the working tree is gone in the next commit too
            target = destination / Path(name).relative_to(prefix)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read_bytes())
            target.chmod(source.stat().st_mode)
    git = ["git", "-c", "user.name=Reader", "-c", "user.email=reader@example.com", "-c", "commit.gpgsign=false"]
    for command in (["init", "--quiet", "-b", "main"], ["add", "--all"], ["commit", "--quiet", "-m", "Start from the starter"]):
        subprocess.run([*git, *command], cwd=destination, check=True, capture_output=True)
    return destination


def run_block(body: str, folder: Path, env: dict[str, str], log: Path) -> None:
    script = "trap 'echo \"deploy: this line failed: $BASH_COMMAND\" >&2' ERR\n" + body
    with log.open("w") as out:
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=folder,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=BLOCK_LIMIT,
        )
    assert done.returncode == 0, f"the deploy block exited {done.returncode}:\n{log.read_text()[-6000:]}"


def rehearse(spec: apps.AppSpec, workdir: Path, log: Path) -> tuple[StandIn, tuple[str, ...]]:
    """Run `spec`'s README deploy block; return the stand-in holding the deployed app and
    the pages the README names. The caller closes the stand-in."""
    paths, body = parse_block((spec.path / "README.md").read_text())
    return run_in_copy(spec.path, body, spec.redis_db + REDIS_DB_OFFSET, workdir, log), paths


def run_in_copy(folder: Path, body: str, redis_db: int, workdir: Path, log: Path) -> StandIn:
    """`body` run in a lone repository of `folder` against a fresh stand-in, which is returned."""
    folder = lone_repository(folder, workdir / (folder.name or "repository"))
    stand_in = StandIn(workdir / "heroku", redis_db=redis_db)
    try:
        stand_in.install_cli(workdir / "bin")
        run_block(body, folder, reader_env(workdir / "bin"), log)
    except BaseException:
        stand_in.close()
        raise
    return stand_in
