"""Each app README's quick start, executed literally on a lone copy of the app folder.

The convention (one marker line right before a ```sh fence, two blocks per README):

    <!-- quickstart: local port=5000 open=/ /json /health -->
    <!-- quickstart: postgres port=5000 open=/ /db /fortunes -->

For each block, in a copy of the app folder alone made from its tracked files (what a fresh
clone has: no .venv, no file git does not track), every line but the last runs under
`bash -euo pipefail`, as a reader types them; the last line then starts the server in the
same shell, in a process group of its own. Once
`port` answers on 127.0.0.1, every `open=` path must answer 200, and so must the same-origin
stylesheets, scripts and icons (`<link href>`, `<script src>`) of every HTML page among them.
SIGTERM to the group ends the block. The postgres block runs after the local one in the same
folder and starts from the environment the local block's lines left (one terminal, read top
to bottom: its venv is active). The shell starts with what a new reader's shell has (who and
where they are, terminal, locale, the machine's certificates and pip settings; PATH without
any virtualenv) and nothing else: no PG* variable, no DATABASE_URL, nothing the README does
not set itself (only PIP_NO_COMPILE, see quickstart_env). The postgres block's database (from its
`createdb ... NAME` line, named `<something>_quickstart`) is dropped before and after; once
its pages have answered, the server must hold a connection to that database and the app's
tables there must hold rows: a block whose app quietly fell back to SQLite fails.
"""

from __future__ import annotations

import fcntl
import os
import re
import shlex
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from psycopg import sql

from harness.apps import REPO
from harness.postgres import admin_connect
from harness.reader import check_pages, reader_env

SETUP_LIMIT = 900.0  # a block's lines before the server: venv + pip install (from pip's cache after the first run)
PORT_LIMIT = 90.0  # from the server line to its port answering
STOP_LIMIT = 30.0  # SIGTERM to exit, Heroku's grace period
KINDS = ("local", "postgres")
MARKER = re.compile(r"^<!-- quickstart: (\w+) port=(\d+) open=([^>]*?) -->\n```sh\n(.*?)^```", re.M | re.S)
# Tables a migration tool writes for itself: rows there say a migration ran, not that the app did.
MIGRATION_TABLES = re.compile(r"^(alembic_version|django_migrations|_?yoyo_\w*)$")
MARKER_HELP = (
    "add two marked blocks, each an HTML comment on the line right before a ```sh fence:\n"
    "  <!-- quickstart: local port=5000 open=/ /json /health -->   (embedded defaults)\n"
    "  <!-- quickstart: postgres port=5000 open=/ /db -->  (createdb -h 127.0.0.1 -U postgres <app>_quickstart, ...)\n"
    "the last line of each block starts the server in the foreground"
)


@dataclass(frozen=True)
class Block:
    kind: str
    port: int
    paths: tuple[str, ...]
    lines: tuple[str, ...]

    @property
    def database(self) -> str | None:
        """The last word of the block's `createdb [options] NAME` line."""
        commands = [shlex.split(line, comments=True) for line in self.lines]
        names = [words[-1] for words in commands if len(words) > 1 and words[0] == "createdb"]
        return names[0] if names else None


def parse_blocks(readme: str) -> dict[str, Block]:
    blocks: dict[str, Block] = {}
    for kind, port, paths, body in MARKER.findall(readme):
        lines = tuple(line for line in body.splitlines() if line.strip() and not line.lstrip().startswith("#"))
        assert kind in KINDS, f"unknown quick-start block {kind!r}: use {' or '.join(KINDS)}"
        assert kind not in blocks, f"two '{kind}' quick-start blocks: keep one"
        assert paths.split(), f"the '{kind}' block's open= names no path"
        assert len(lines) >= 2, f"the '{kind}' block needs setup lines and a last line that starts the server"
        blocks[kind] = Block(kind, int(port), tuple(paths.split()), lines)
    missing = [kind for kind in KINDS if kind not in blocks]
    assert not missing, f"README has no {' or '.join(missing)} quick-start block: {MARKER_HELP}"
    database = blocks["postgres"].database
    assert database, "the postgres block creates no database: add `createdb -h 127.0.0.1 -U postgres <app>_quickstart`"
    assert database.endswith("_quickstart"), f"createdb {database}: name it <app>_quickstart (the test drops it)"
    return blocks


def lone_copy(app: Path, destination: Path, repo: Path = REPO) -> Path:
    """The app folder as a clone has it: the files git tracks (staged ones too), as they are
    in the working tree; a file git does not track is missing, as it is from the next push."""
    listed = (
        subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--", app.name],
            cwd=repo,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, listed):
        source = repo / name
        if source.is_file():  # a tracked file deleted in the working tree is gone in the next commit too
            target = destination / Path(name).relative_to(app.name)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read_bytes())
            target.chmod(source.stat().st_mode)
    return destination


def quickstart_env() -> dict[str, str]:
    """A new reader's shell (harness.reader.reader_env), plus PIP_NO_COMPILE."""
    # pip byte-compiles every file it installs, half of `pip install`'s time here (Django's
    # requirements: 66 s -> 34 s on the loaded machine); Python compiles what it imports anyway,
    # and pip only warns when compiling fails, so the blocks test the same thing without it.
    return {**reader_env(), "PIP_NO_COMPILE": "1"}


def port_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def run_block(
    block: Block,
    folder: Path,
    env: dict[str, str],
    workdir: Path,
    port_limit: float = PORT_LIMIT,
    while_serving: Callable[[], None] | None = None,
) -> dict[str, str]:
    """Run one block as a reader would; return the environment its setup lines left.
    while_serving runs once the pages have answered, before the server is stopped."""
    log, env_dump = workdir / f"{block.kind}.log", workdir / f"{block.kind}.env"
    setup_done, go = workdir / f"{block.kind}.done", workdir / f"{block.kind}.go"
    # After the setup lines the shell waits for `go`: the port is checked free again right
    # before the server line starts, since pip install gave anyone minutes to take it.
    script = "\n".join(
        [
            "trap 'echo \"quickstart: this line failed: $BASH_COMMAND\" >&2' ERR",
            *block.lines[:-1],
            f"env -0 > {shlex.quote(str(env_dump))}; : > {shlex.quote(str(setup_done))}",
            f"while [ ! -e {shlex.quote(str(go))} ]; do sleep 0.1; done",
            block.lines[-1],
        ]
    )

    def failure(what: str) -> str:
        return f"{block.kind} quick start: {what}\n--- its output (end) ---\n{log.read_text()[-4000:]}"

    assert not port_answers(block.port), f"port {block.port} is already in use: stop what listens there"
    with log.open("w") as out:
        shell = subprocess.Popen(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=folder,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + SETUP_LIMIT
        while not setup_done.exists():
            assert shell.poll() is None, failure(f"a setup line exited {shell.returncode}")
            assert time.monotonic() < deadline, failure(f"setup lines still running after {SETUP_LIMIT:.0f} s")
            time.sleep(0.5)
        assert not port_answers(block.port), f"port {block.port} was taken by another process during setup"
        go.touch()
        deadline = time.monotonic() + port_limit
        while not port_answers(block.port):
            assert shell.poll() is None, failure(f"the server line exited {shell.returncode}: {block.lines[-1]}")
            assert time.monotonic() < deadline, failure(f"nothing answers on port {block.port} after {port_limit:.0f} s")
            time.sleep(0.5)
        try:
            check_pages(f"http://127.0.0.1:{block.port}", block.paths, label=f"{block.kind} block: ")
            if while_serving:
                while_serving()
        except AssertionError as error:
            raise AssertionError(failure(str(error))) from None
    finally:
        stop(shell)
    entries = (entry.partition("=") for entry in env_dump.read_text().split("\0") if "=" in entry)
    return {key: value for key, _, value in entries if key not in ("_", "SHLVL", "PWD", "OLDPWD")}


def stop(shell: subprocess.Popen) -> None:
    try:
        os.killpg(shell.pid, signal.SIGTERM)
        shell.wait(STOP_LIMIT)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(shell.pid, signal.SIGKILL)
        shell.wait()
    # The server's children may outlive the shell by a moment: the port must be free again.
    deadline = time.monotonic() + STOP_LIMIT
    while True:
        try:
            os.killpg(shell.pid, 0)
        except ProcessLookupError:
            return
        if time.monotonic() > deadline:
            os.killpg(shell.pid, signal.SIGKILL)
            return
        time.sleep(0.2)


@contextmanager
def port_lock(port: int) -> Iterator[None]:
    """One quick start per port at a time on this machine (the README fixes the port): another
    run of this test waits here instead of finding the port, or its database, taken."""
    with open(Path(tempfile.gettempdir()) / f"quickstart-port-{port}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def drop_database(name: str) -> None:
    with admin_connect() as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def server_connections(database: str) -> int:
    with admin_connect() as conn:  # connected to the admin database, so not counted here
        return conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [database]).fetchone()[0]


def table_rows(database: str) -> dict[str, int]:
    """Rows per table of the app's own (public schema, migration bookkeeping left out)."""
    with admin_connect(database) as conn:
        names = [
            name
            for (name,) in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            if not MIGRATION_TABLES.match(name)
        ]
        count = sql.SQL("SELECT count(*) FROM {}")
        return {name: conn.execute(count.format(sql.Identifier(name))).fetchone()[0] for name in names}


def assert_served_from_postgres(database: str) -> None:
    """The server holds a connection to the block's database and the app's tables there hold
    rows: an app that fell back to SQLite (flask_gunicorn and django_channels do without
    DATABASE_URL) leaves the database the block created empty and unused."""
    assert server_connections(database) > 0, (
        f"postgres block: its pages answered but no process is connected to database {database}: "
        "did the server run on SQLite? (check the block's `export DATABASE_URL=...` line)"
    )
    rows = table_rows(database)
    assert any(rows.values()), (
        f"postgres block: database {database} has no app table with rows ({rows or 'no tables'}): "
        "the migrations and the pages used some other database"
    )


def test_readme_quick_start_works_as_written(spec, tmp_path):
    blocks = parse_blocks((spec.path / "README.md").read_text())
    folder = lone_copy(spec.path, tmp_path / spec.name)
    with port_lock(blocks["local"].port):
        after_local = run_block(blocks["local"], folder, quickstart_env(), tmp_path)
    database = blocks["postgres"].database
    with port_lock(blocks["postgres"].port):
        drop_database(database)
        try:
            run_block(
                blocks["postgres"], folder, after_local, tmp_path, while_serving=lambda: assert_served_from_postgres(database)
            )
        finally:
            drop_database(database)


# The runner itself, on a tiny README served by Python's own http.server (no app, no pip):
# it passes a block that works, and fails, saying why, on each kind of break.


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tiny_block(port: int, setup: list[str], server: str | None = None, paths: str = "/ /hello.txt") -> Block:
    server = server or f"python3 -m http.server {port} --bind 127.0.0.1"
    readme = "\n".join(
        [
            f"<!-- quickstart: local port={port} open={paths} -->",
            "```sh",
            *setup,
            server,
            "```",
            "",
            f"<!-- quickstart: postgres port={port} open=/ -->",
            "```sh",
            "createdb tiny_quickstart",
            server,
            "```",
            "",
        ]
    )
    return parse_blocks(readme)["local"]


WORKING_SETUP = [
    "echo hello > hello.txt",
    "export GREETING=hi",
    """printf '<link rel="stylesheet" href="style.css"><script src="/app.js"></script>' > index.html""",
    "echo 'body {}' > style.css",
    "echo '' > app.js",
]


def test_runner_passes_a_working_block_and_keeps_its_environment(tmp_path):
    block = tiny_block(free_port(), WORKING_SETUP)
    left = run_block(block, tmp_path, quickstart_env(), tmp_path)
    assert left["GREETING"] == "hi"


@pytest.mark.parametrize(
    ("setup", "paths", "expected"),
    [
        ([*WORKING_SETUP, "cp .env.example .env"], "/", "this line failed: cp .env.example .env"),
        (WORKING_SETUP[:-1], "/", "links /app.js -> 404"),
        (WORKING_SETUP, "/ /missing", "GET /missing -> 404"),
    ],
)
def test_runner_fails_on_a_broken_line(tmp_path, setup, paths, expected):
    block = tiny_block(free_port(), setup, paths=paths)
    with pytest.raises(AssertionError, match=re.escape(expected)):
        run_block(block, tmp_path, quickstart_env(), tmp_path)


def test_runner_fails_when_the_server_line_does_not_serve_the_port(tmp_path):
    port = free_port()
    block = tiny_block(port, WORKING_SETUP, server=f"python3 -m http.server {free_port()} --bind 127.0.0.1")
    with pytest.raises(AssertionError, match=f"nothing answers on port {port}"):
        run_block(block, tmp_path, quickstart_env(), tmp_path, port_limit=3)


def test_a_readme_without_marked_blocks_says_what_to_add():
    with pytest.raises(AssertionError, match="README has no local or postgres quick-start block: add two marked blocks"):
        parse_blocks("# An app\n\n```sh\npip install -r requirements.txt\n```\n")


# The three ways a quick start passes here and fails for a reader (issue 16), each caught.


@pytest.mark.parametrize("name", ["PGHOST", "PGUSER", "DATABASE_URL", "REDIS_URL", "VIRTUAL_ENV", "SOME_SETTING"])
def test_runner_fails_when_a_block_needs_a_variable_its_readme_does_not_set(tmp_path, monkeypatch, name):
    monkeypatch.setenv(name, "set in the developer's shell")
    block = tiny_block(free_port(), [*WORKING_SETUP, f': "${{{name}:?is not set}}"'])
    with pytest.raises(AssertionError, match=f"{name}: is not set"):
        run_block(block, tmp_path, quickstart_env(), tmp_path)


def test_runner_fails_when_a_file_the_app_needs_is_untracked(tmp_path):
    repo, copy = tmp_path / "repo", tmp_path / "copy"
    app = repo / "tiny"
    app.mkdir(parents=True)
    (app / "index.html").write_text("tracked\n")
    (app / "hello.txt").write_text("untracked\n")
    subprocess.run(["git", "init", "--quiet"], cwd=repo, check=True)
    subprocess.run(["git", "add", "tiny/index.html"], cwd=repo, check=True)
    block = tiny_block(free_port(), ["ls"])
    with pytest.raises(AssertionError, match=re.escape("GET /hello.txt -> 404")):
        run_block(block, lone_copy(app, copy, repo=repo), quickstart_env(), tmp_path)


def test_postgres_check_fails_when_the_server_used_another_database():
    database = f"tiny_quickstart_{os.getpid()}"
    drop_database(database)
    with admin_connect() as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    try:
        with pytest.raises(AssertionError, match=f"no process is connected to database {database}"):
            assert_served_from_postgres(database)
        with admin_connect(database) as held:
            held.execute("CREATE TABLE polls (id int)")
            with pytest.raises(AssertionError, match=re.escape("has no app table with rows ({'polls': 0})")):
                assert_served_from_postgres(database)
            held.execute("INSERT INTO polls VALUES (1)")
            assert_served_from_postgres(database)
    finally:
        drop_database(database)
