"""Each app README's "Deploy to Heroku" block, run literally against the local stand-in for Heroku.

The convention (one marker line right before a ```sh fence, in the README's
"## Deploy to Heroku" section):

    <!-- deploy: heroku open=/ /json /health -->

The block runs under `bash -euo pipefail`, line by line as a reader types them, in a lone copy
of the app folder (its tracked files only, committed as a repository of its own, as a reader
who copied the folder out has it), with a reader's environment (nothing the README does not
set: no PG*, DATABASE_URL, virtualenv) and the stand-in's `heroku` command first on PATH
(harness/heroku.py; the reader's side is harness/rehearsal.py, shared with `make rehearse`).
It knows only what the READMEs use; anything else fails the block and names the command.
`heroku create` adds the `heroku` remote, whose push builds, releases and starts the app as
Heroku does. Then, through the router stand-in and under the app's
`<name>-<12 hex>.herokuapp.com` host: every `open=` page answers 200 with its same-origin
stylesheets and scripts, the contract's JSON routes answer from the add-ons' database, the
app sees the router's forwarding headers, its log line for a request carries the router's
X-Request-Id, and the app's own pages work (the chat's websocket, the poll pages).

The "Deploy to Heroku" button is rehearsed too, from app.json alone: its add-ons, its `env`
(`generator: secret` generated, `value` defaults, each `required` one filled as the marker
`<!-- deploy: button NAME=VALUE ... -->` says the README tells the reader to fill it) and its
formation; the same pages must answer. And the root README's block, which sends one app
folder of the whole repository with `git subtree push`, is run on a copy of the repository.
"""

from __future__ import annotations

import json
import re
import secrets
import subprocess
import time

import httpx
import pytest
from websockets.sync.client import connect

from conftest import record
from harness import apps, reader
from harness.heroku import REDIS_DB_OFFSET, CommandFailed, HerokuApp, StandIn
from harness.rehearsal import BUTTON, deploy_section, lone_repository, parse_block, rehearse, run_in_copy


def check_pages(app: HerokuApp, paths: tuple[str, ...]) -> None:
    """Each page 200 under the app's herokuapp.com host, through the router, with its same-origin
    stylesheets and scripts."""
    origin = app.web_url.rstrip("/")
    reader.check_pages(origin, paths, reach=app.local_url, timeout=35, label=f"{origin}: ")


def check_contract(app: HerokuApp) -> None:
    """The contract's JSON routes, on the add-ons: the database answers, Redis too where attached,
    and the app reads the router's headers (the client and https)."""
    answer = httpx.get(app.local_url + "/json", timeout=35)
    assert answer.status_code == 200 and answer.json() == {"message": "Hello, World!"}, (
        f"/json -> {answer.status_code}: {answer.text[:300]}"
    )
    row = httpx.get(app.local_url + "/db", timeout=35)
    assert row.status_code == 200 and set(row.json()) == {"id", "randomNumber"}, f"/db -> {row.status_code}: {row.text[:300]}"
    health = httpx.get(app.local_url + "/health", timeout=35)
    expected = {"database": "ok", **({"redis": "ok"} if "REDIS_URL" in app.config else {})}
    checks = health.json().get("checks", {}) if health.headers.get("content-type", "").startswith("application/json") else {}
    assert health.status_code == 200 and expected.items() <= checks.items(), (
        f"/health -> {health.status_code}: {health.text[:300]}"
    )
    whoami = httpx.get(app.local_url + "/whoami", headers={"X-Forwarded-For": "6.6.6.6"}, timeout=35)
    assert whoami.status_code == 200 and whoami.json() == {"ip": "127.0.0.1", "scheme": "https"}, (
        f"/whoami behind the router (X-Forwarded-For 6.6.6.6, 127.0.0.1; X-Forwarded-Proto https) -> {whoami.text[:300]}"
    )


# Apps whose log has no line of their own carrying a request header, each for its stated reason.
NO_REQUEST_ID_LINE = {
    # Daphne's access log has a fixed format with no request header in it (daphne/access.py,
    # AccessLogGenerator; no option changes it).
    "django_channels": "Daphne's access-log format is fixed",
    # The access log is off: the router logs every request (sanic_app/README.md, "Logs"), and
    # Sanic's access line, when on, has no request header in it either.
    "sanic_app": "no access log by default; the router's line is the request's line",
}


def check_request_id_logged(spec, app: HerokuApp) -> None:
    """The app's log line for a request carries the router's X-Request-Id, so one request
    can be followed from the router's line to the app's (Dev Center, "HTTP Request IDs")."""
    if spec.name in NO_REQUEST_ID_LINE:
        record(spec, "deploy_request_id_in_app_log", f"no: {NO_REQUEST_ID_LINE[spec.name]}")
        return
    httpx.get(app.local_url + "/json?trace=1", timeout=35)
    request_id = re.search(r'path="/json\?trace=1".*?request_id=(\S+)', "\n".join(app.router.log)).group(1)
    deadline = time.monotonic() + 5
    while request_id not in (logs := "\n".join(p.output() for p in app.processes)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert request_id in logs, f"no app log line carries the router's X-Request-Id {request_id}:\n{logs[-2000:]}"


def check_chat(app: HerokuApp) -> None:
    """Two browsers in one room through the router: a message reaches both."""
    ws_url = app.local_url.replace("http://", "ws://") + "/ws/chat/deploy/"
    origin = app.web_url.rstrip("/")
    with connect(ws_url, origin=origin, open_timeout=10) as alice, connect(ws_url, origin=origin, open_timeout=10) as bob:
        for socket in (alice, bob):
            assert json.loads(socket.recv(timeout=10))["type"] == "history"
        text = f"hello {secrets.token_hex(4)}"
        alice.send(json.dumps({"text": text}))
        for socket in (alice, bob):
            while (frame := json.loads(socket.recv(timeout=10))).get("text") != text:
                pass
            assert frame["type"] == "message", frame


def check_polls(app: HerokuApp) -> None:
    """A poll created, voted on and shown through the router, by the web and worker dynos."""
    created = httpx.post(
        app.local_url + "/api/polls",
        timeout=35,
        json={
            "question": "Deployed?",
            "options": ["yes", "no"],
            "closes_in_seconds": 3600,
        },
    )
    assert created.status_code == 201, f"POST /api/polls -> {created.status_code}: {created.text[:300]}"
    poll = created.json()
    vote = httpx.post(f"{app.local_url}/api/polls/{poll['id']}/votes", json={"option_id": poll["options"][0]["id"]}, timeout=35)
    assert vote.status_code in (200, 201), f"vote -> {vote.status_code}: {vote.text[:300]}"
    check_pages(app, (f"/polls/{poll['id']}",))


APP_CHECKS = {"django_channels": check_chat, "flask_gunicorn": check_polls}


# The button's app has a Redis database of its own, apart from the README block's.
BUTTON_REDIS_DB_OFFSET = REDIS_DB_OFFSET - 4


@pytest.fixture
def stand_in(spec, tmp_path):
    heroku = StandIn(tmp_path / "heroku", redis_db=spec.redis_db + BUTTON_REDIS_DB_OFFSET)
    yield heroku
    heroku.close()


def test_readme_deploy_works_as_written(spec, tmp_path):
    started = time.monotonic()
    stand_in, paths = rehearse(spec, tmp_path, tmp_path / "deploy.log")
    try:
        record(spec, "deploy_block_seconds", time.monotonic() - started)
        app = stand_in.app
        assert app is not None and app.spec is not None, f"the block deployed nothing:\n{(tmp_path / 'deploy.log').read_text()}"
        check_pages(app, paths)
        check_contract(app)
        check_request_id_logged(spec, app)
        if spec.name in APP_CHECKS:
            APP_CHECKS[spec.name](app)
    finally:
        stand_in.close()


def button_fills(readme: str) -> dict[str, str]:
    """What the README tells a reader to type into the button's form for app.json's
    `required` variables: `<!-- deploy: button NAME=VALUE ... -->` in the deploy section."""
    found = BUTTON.findall(deploy_section(readme))
    assert len(found) <= 1, "two deploy: button markers: keep one"
    return dict(pair.partition("=")[::2] for pair in found[0].split()) if found else {}


def test_deploy_button_works_from_app_json(spec, tmp_path, stand_in):
    """The button path: nothing but app.json (add-ons, env, formation) and the tree."""
    readme = (spec.path / "README.md").read_text()
    paths, _ = parse_block(readme)
    app_json = json.loads((spec.path / "app.json").read_text())
    stand_in.app = app = HerokuApp(stand_in.workdir)
    started = time.monotonic()
    try:
        app.provision_from_app_json(app_json, button_fills(readme), stand_in.redis_db)
        app.deploy(lone_repository(spec.path, tmp_path / spec.name))
    except CommandFailed as failed:
        raise AssertionError(f"the button's deploy failed:\n{failed}") from None
    record(spec, "deploy_button_seconds", time.monotonic() - started)
    check_pages(app, paths)
    check_contract(app)


# The root README's deploy section: one app of the monorepo sent with `git subtree push`.
MONOREPO_SECTION = re.compile(r"^## Deploying one app from this monorepo\n(.*?)(?=^## |\Z)", re.M | re.S)
MONOREPO_REDIS_DB = 13  # above the app README rehearsals' (harness.heroku.REDIS_DB_OFFSET)


def test_monorepo_subtree_deploy_works_as_written(tmp_path):
    """The root README's block, from a copy of the whole repository (tracked files, one
    commit): the subtree push builds only the app folder, which then serves its pages."""
    section = MONOREPO_SECTION.search((apps.REPO / "README.md").read_text())
    assert section, "the root README has no '## Deploying one app from this monorepo' section"
    paths, body = parse_block("", section.group(1))
    stand_in = run_in_copy(apps.REPO, body, MONOREPO_REDIS_DB, tmp_path, tmp_path / "deploy.log")
    try:
        app = stand_in.app
        assert app is not None and app.spec is not None, f"the block deployed nothing:\n{(tmp_path / 'deploy.log').read_text()}"
        assert (app.spec.path / "Procfile").exists() and not (app.spec.path / "harness").exists(), (
            "the build got more than one app folder"
        )
        check_pages(app, paths)
        check_contract(app)
    finally:
        stand_in.close()


def test_the_fake_heroku_prints_what_heroku_prints_and_refuses_what_the_readmes_do_not_use(tmp_path):
    """`heroku create NAME` prints the URL with the random suffix and the git URL, and adds
    the `heroku` remote; a command no README uses fails and names itself."""
    stand_in = StandIn(tmp_path / "heroku", redis_db=MONOREPO_REDIS_DB)
    try:
        stand_in.install_cli(tmp_path / "bin")
        repository = lone_repository(apps.REPO / "sanic_app", tmp_path / "copy")
        with pytest.raises(CommandFailed, match="Name must start with a letter"):
            stand_in.command(["create", "my_app"], repository)
        created = stand_in.command(["create", "my-app"], repository)
        assert re.fullmatch(
            r"Creating ⬢ my-app\.\.\. done\nhttps://my-app-[0-9a-f]{12}\.herokuapp\.com/ \| https://git\.heroku\.com/my-app\.git",
            created,
        ), created
        remote = subprocess.run(["git", "config", "remote.heroku.url"], cwd=repository, capture_output=True, text=True)
        assert remote.stdout.strip() == "https://git.heroku.com/my-app.git"
        with pytest.raises(CommandFailed, match="`heroku pg:psql`: not a command the stand-in knows"):
            stand_in.command(["pg:psql"], repository)
    finally:
        stand_in.close()
