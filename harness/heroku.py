"""A local stand-in for one Heroku app: build, config vars, add-ons, release, dynos, router.

`HerokuApp` is what the Heroku CLI and `git push heroku main` act on. It builds as the
Python buildpack does (heroku/heroku-buildpack-python: bin/compile, lib/pip.sh,
bin/steps/collectstatic), keeps config vars as Heroku does (a change makes a new release and
restarts the dynos), attaches Heroku Postgres (a `postgres://` URL on a role with the plan's
connection limit) and Heroku Key-Value Store (`rediss://` with a self-signed certificate),
runs `release:` and then the formation's Procfile processes (harness/platform.py), and puts
the router stand-in (harness/router.py) in front of web under the host name new apps get:
`<name>-<12 hex>.herokuapp.com`.

`StandIn` serves one app to the fake `heroku` command and to the git remote's pre-receive
hook (both written by `install_cli`) over a Unix socket: each call sends its argv and gets
back what Heroku would print and the exit status.
"""

from __future__ import annotations

import re
import secrets
import shlex
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from multiprocessing.connection import Client, Listener
from pathlib import Path

import httpx
import redis

from . import apps
from .platform import RunningProcess, free_port, platform_env, run_release
from .postgres import Database
from .proxy import TlsProxy
from .router import Router

# Heroku Postgres essential plans' connection limits (Dev Center, "Heroku Postgres Plans").
POSTGRES_PLANS = {"essential-0": 20, "essential-1": 20, "essential-2": 40}
POSTGRES_DEFAULT_PLAN = "essential-0"
REDIS_PLANS = {"mini"}
# Each app's Key-Value Store is a Redis database of its own: 8 above the suite's (apps.py),
# so a rehearsal never shares keys with the suite's instance of the same app.
REDIS_DB_OFFSET = 8
# Dev Center, "Heroku App Names, Subdomains, and URLs": lowercase letters, numbers and dashes, up to 30.
APP_NAME = re.compile(r"[a-z][a-z0-9-]{1,28}[a-z0-9]")
NAME_WORDS = (("shrouded", "quiet", "frozen", "ancient"), ("falls", "harbor", "meadow", "river"))


class CommandFailed(Exception):
    """A CLI command Heroku would refuse: the message is what the CLI prints."""


def python_for(folder: Path) -> str:
    return subprocess.run(
        [str(apps.REPO / "scripts" / "python-for"), str(folder)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


@dataclass
class Build:
    spec: apps.AppSpec
    output: list[str] = field(default_factory=list)


def build(source: Path, config: dict[str, str]) -> Build:
    """Build `source` in place as the Python buildpack does, or raise CommandFailed.

    bin/compile: the Python that `.python-version` names, then (lib/pip.sh,
    pip::install_dependencies) `pip install -r requirements.txt`, requirements.txt alone (the
    test requirements only on Heroku CI). pip's own cache makes a rebuild fast, as the
    buildpack's cached site-packages do. Then bin/steps/collectstatic.
    """
    spec = apps.load(source)
    result = Build(spec)
    python = python_for(source)
    result.output.append(f"-----> Using Python {(source / '.python-version').read_text().strip()} specified in .python-version")
    env = platform_env(spec, port=0, dyno=None, overrides={**config, "PORT": None})
    steps = [
        ([python, "-m", "venv", str(source / ".venv")], None),
        (
            [
                str(spec.venv_bin / "pip"),
                "install",
                "--disable-pip-version-check",
                "--progress-bar",
                "off",
                "-r",
                "requirements.txt",
            ],
            "-----> Installing dependencies using 'pip install -r requirements.txt'",
        ),
    ]
    for command, step in steps:
        if step:
            result.output.append(step)
        _run_build_step(command, source, env, result)
    _collectstatic(source, env, config, result)
    return result


def _run_build_step(command: list[str], source: Path, env: dict, result: Build) -> None:
    done = subprocess.run(command, cwd=source, env=env, capture_output=True, text=True, timeout=900)
    result.output.extend("       " + line for line in (done.stdout + done.stderr).splitlines()[-20:])
    if done.returncode != 0:
        result.output.append(f" !     Push rejected: `{shlex.join(command)}` exited {done.returncode}")
        raise CommandFailed("\n".join(result.output))


def _collectstatic(source: Path, env: dict, config: dict[str, str], result: Build) -> None:
    """bin/steps/collectstatic, rule by rule: skipped when DISABLE_COLLECTSTATIC is anything
    but "0", when Django is not importable, or when no manage.py is found (the shallowest
    within 3 levels); else `python manage.py collectstatic --noinput --traceback` with the
    app's config vars exported and PYTHONPATH defaulting to ".", and its failure fails the build."""
    if config.get("DISABLE_COLLECTSTATIC", "0") != "0":
        result.output.append("-----> Skipping Django collectstatic since the env var DISABLE_COLLECTSTATIC is set.")
        return
    python = str(result.spec.venv_bin / "python")
    if subprocess.run([python, "-c", "import django"], cwd=source, env=env, capture_output=True).returncode != 0:
        return
    found = sorted(
        (len(path.relative_to(source).parts), path.relative_to(source))
        for path in source.rglob("manage.py")
        if len(path.relative_to(source).parts) <= 3 and ".venv" not in path.parts
    )
    if not found:
        result.output.append("-----> Skipping Django collectstatic since no manage.py file found.")
        return
    manage = str(found[0][1])
    result.output.append(f"-----> $ python {manage} collectstatic --noinput")
    _run_build_step([python, manage, "collectstatic", "--noinput", "--traceback"], source, {"PYTHONPATH": ".", **env}, result)


class HerokuApp:
    """One app: its config vars, add-ons, current slug, formation, dynos and router."""

    def __init__(self, workdir: Path, name: str | None = None):
        self.workdir = workdir
        self.name = name or f"{secrets.choice(NAME_WORDS[0])}-{secrets.choice(NAME_WORDS[1])}-{secrets.randbelow(90000) + 10000}"
        # New apps' default domain since June 2023: the name plus a random 12-hex suffix
        # (Dev Center, "Heroku App Names, Subdomains, and URLs": APPNAME-IDENTIFIER.herokuapp.com,
        # "a 12-character random identifier", for apps created since June 14, 2023).
        self.host = f"{self.name}-{secrets.token_hex(6)}.herokuapp.com"
        self.web_url = f"https://{self.host}/"
        self.git_url = f"https://git.heroku.com/{self.name}.git"
        self.config: dict[str, str] = {}
        self.addons: list[str] = []
        self.databases: list[Database] = []
        self.tls_proxies: list[TlsProxy] = []
        self.formation: dict[str, int] = {}
        self.spec: apps.AppSpec | None = None
        self.version = 1  # v1 is the empty app Heroku creates
        self.builds = 0
        self.processes: list[RunningProcess] = []
        self.log: list[str] = []
        self.router = Router(dyno_port=free_port(), host=self.host).start()

    @property
    def local_url(self) -> str:
        return self.router.url

    # --- add-ons and config vars --------------------------------------------------------

    def add_postgres(self, plan: str) -> str:
        if plan not in POSTGRES_PLANS:
            raise CommandFailed(f"heroku-postgresql:{plan} is not a plan the stand-in has ({', '.join(POSTGRES_PLANS)})")
        database = Database(f"deploy_{len(self.databases)}", connection_limit=POSTGRES_PLANS[plan])
        self.databases.append(database)
        self.addons.append(f"heroku-postgresql:{plan}")
        self.set_config({"DATABASE_URL": database.url})
        created = f"postgresql-{secrets.token_hex(3)}"
        return f"Creating heroku-postgresql:{plan} on ⬢ {self.name}... done\nCreated {created} as DATABASE_URL"

    def add_redis(self, plan: str, redis_db: int) -> str:
        if plan not in REDIS_PLANS:
            raise CommandFailed(f"heroku-redis:{plan} is not a plan the stand-in has ({', '.join(REDIS_PLANS)})")
        redis.Redis.from_url(f"{apps.REDIS_BASE}/{redis_db}").flushdb()  # a new add-on is empty
        proxy = TlsProxy(6379)
        self.tls_proxies.append(proxy)
        self.addons.append(f"heroku-redis:{plan}")
        self.set_config({"REDIS_URL": f"rediss://127.0.0.1:{proxy.port}/{redis_db}"})
        return f"Creating heroku-redis:{plan} on ⬢ {self.name}... done\nCreated redis-{secrets.token_hex(3)} as REDIS_URL"

    def set_config(self, changes: dict[str, str]) -> str:
        """A config change is a new release: the release phase runs and the dynos restart
        (Dev Center, "Release Phase": "a config var change ... creates a new release")."""
        self.config.update(changes)
        self.version += 1
        if self.spec is not None:
            self._release_and_restart()
        return f"Setting {', '.join(changes)} and restarting ⬢ {self.name}... done, v{self.version}"

    def provision_from_app_json(self, app_json: dict, filled: dict[str, str], redis_db: int) -> list[str]:
        """What the "Deploy to Heroku" button does before the build (Dev Center, "app.json
        Schema"): its add-ons, then its `env`: a `generator: secret` value generated, a
        `value` as the default, a `required` one as the reader fills it in the form (`filled`);
        an optional one without a value stays unset."""
        buildpacks = [entry.get("url") for entry in app_json.get("buildpacks", [])]
        if buildpacks not in ([], ["heroku/python"]):
            raise CommandFailed(f"app.json buildpacks {buildpacks}: the stand-in builds with heroku/python only")
        output = []
        for addon in app_json.get("addons", []):
            service, _, plan = (addon["plan"] if isinstance(addon, dict) else addon).partition(":")
            if service == "heroku-postgresql":
                output.append(self.add_postgres(plan or POSTGRES_DEFAULT_PLAN))
            elif service == "heroku-redis":
                output.append(self.add_redis(plan or "mini", redis_db))
            else:
                raise CommandFailed(f"app.json add-on {service!r}: not one the stand-in has")
        config = {}
        for name, entry in app_json.get("env", {}).items():
            entry = {"value": entry} if isinstance(entry, str) else entry
            if entry.get("generator") == "secret":
                config[name] = secrets.token_hex(32)  # the button's generator: 64 hex digits
            elif name in filled:
                config[name] = filled[name]
            elif "value" in entry:
                config[name] = str(entry["value"])
            elif entry.get("required", True):
                raise CommandFailed(f"app.json requires {name} and nothing says what to fill in: {entry.get('description')}")
        unknown = sorted(set(filled) - set(app_json.get("env", {})))
        if unknown:
            raise CommandFailed(f"filled {', '.join(unknown)}: app.json declares no such variable")
        output.append(self.set_config(config))
        formation = app_json.get("formation", {})
        self.formation.update({kind: int(entry.get("quantity", 1)) for kind, entry in formation.items()})
        return output

    # --- deploys --------------------------------------------------------------------------

    def deploy(self, source: Path) -> list[str]:
        """A push: build the tree, release it, and start its formation (web=1 on the first)."""
        self.builds += 1
        built = build(source, self.config)
        first = self.spec is None
        self.spec = built.spec
        self.version += 1
        if first and "web" in self.spec.procfile:
            self.formation.setdefault("web", 1)  # Heroku scales web to 1 on the first deploy, others to 0
        output = [*built.output, "-----> Launching..."]
        output.extend(self._release_and_restart())
        output += [f"       Released v{self.version}", f"       {self.web_url} deployed to Heroku"]
        return output

    def env(self, dyno: str) -> dict[str, str]:
        return platform_env(self.spec, port=free_port(), dyno=dyno, config_vars=self.config)

    def _release_and_restart(self) -> list[str]:
        output = []
        if "release" in self.spec.procfile:
            output.append(f"-----> Running release command: {self.spec.procfile['release']}")
            try:
                run_release(self.spec, self.env("release.1"))
            except AssertionError as failed:
                raise CommandFailed(f"Release command failed:\n{failed}") from None
        self.restart()
        return output

    def restart(self, kinds: set[str] | None = None) -> None:
        """Replace the dynos of `kinds` (every process type when None) by the formation's."""
        self.stop_dynos(kinds)
        for process_type, quantity in sorted(self.formation.items()):
            if kinds is not None and process_type not in kinds:
                continue
            for index in range(1, quantity + 1):
                process = RunningProcess(self.spec, process_type, self.env(f"{process_type}.{index}"))
                self.processes.append(process)
                if process_type == "web":
                    process.wait_for_port()
                    self.router.dyno_port = process.port

    def scale(self, quantities: dict[str, int]) -> str:
        unknown = sorted(set(quantities) - set(self.spec.procfile if self.spec else ()))
        if unknown:
            raise CommandFailed(f"Couldn't find that process type ({', '.join(unknown)}).")
        if quantities.get("web", 1) > 1:
            raise CommandFailed("the stand-in runs at most one web dyno (its router has one dyno to send to)")
        changed = {kind for kind, quantity in quantities.items() if self.formation.get(kind, 0) != quantity}
        self.formation.update(quantities)
        self.restart(changed)  # as on Heroku, a type whose quantity stays keeps its dynos running
        return f"Scaling dynos... done, now running {', '.join(f'{t} at {n}:Basic' for t, n in quantities.items())}"

    def run(self, command: str) -> subprocess.CompletedProcess:
        """`heroku run`: a one-off dyno with the app's config, in the slug."""
        env = self.env("run.1")
        return subprocess.run(["bash", "-c", command], cwd=self.spec.path, env=env, capture_output=True, text=True, timeout=300)

    def logs(self) -> str:
        lines = list(self.log)
        for process in self.processes:
            lines += [f"app[{process.env['DYNO']}]: {line}" for line in process.output().splitlines()]
        return "\n".join(lines + self.router.log)

    def stop_dynos(self, kinds: set[str] | None = None) -> None:
        stopping = [process for process in self.processes if kinds is None or process.process_type in kinds]
        for process in stopping:
            if process.group_alive():
                try:
                    process.stop()
                except AssertionError as late:
                    self.log.append(f"heroku[{process.env['DYNO']}]: Error R12 (Exit timeout): {late}")
            self.log += [f"app[{process.env['DYNO']}]: {line}" for line in process.output().splitlines()]
            process.kill()
        self.processes = [process for process in self.processes if process not in stopping]

    def destroy(self) -> None:
        self.stop_dynos()
        self.router.stop()
        for proxy in self.tls_proxies:
            proxy.close()
        for database in self.databases:
            database.drop()


class StandIn:
    """Serves the fake `heroku` command and the git hook for one app, over a Unix socket."""

    def __init__(self, workdir: Path, redis_db: int):
        self.workdir, self.redis_db = workdir, redis_db
        self.app: HerokuApp | None = None
        self.bare = workdir / "git" / "app.git"
        workdir.mkdir(parents=True, exist_ok=True)
        # A short path of its own: a Unix socket's path is limited to 107 bytes.
        self.address = str(Path(tempfile.mkdtemp(prefix="heroku-")) / "cli.sock")
        self.authkey = secrets.token_bytes(16)
        self.calls: list[list[str]] = []
        self.listener = Listener(self.address, family="AF_UNIX", authkey=self.authkey)
        self._lock = threading.Lock()
        threading.Thread(target=self._serve, daemon=True).start()

    def install_cli(self, bin_dir: Path) -> Path:
        """The fake `heroku` command in `bin_dir`, and the bare repository a push goes to."""
        bin_dir.mkdir(parents=True, exist_ok=True)
        call = (
            f"#!{sys.executable}\nimport sys\nsys.path.insert(0, {str(apps.REPO)!r})\n"
            f"from harness.heroku import call\nsys.exit(call({self.address!r}, {self.authkey!r}, sys.argv[1:]))\n"
        )
        cli = bin_dir / "heroku"
        cli.write_text(call)
        cli.chmod(0o755)
        subprocess.run(["git", "init", "--quiet", "--bare", str(self.bare)], check=True)
        hook = self.bare / "hooks" / "pre-receive"
        hook.write_text(
            call.replace("import call", "import receive")
            .replace("call(", "receive(")
            .replace("sys.argv[1:]", repr(str(self.workdir)))
        )
        hook.chmod(0o755)
        return cli

    def _serve(self) -> None:
        while True:
            try:
                connection = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(connection,), daemon=True).start()

    def _answer(self, connection) -> None:
        with connection:
            argv, cwd = connection.recv()
            with self._lock:
                self.calls.append(argv)
                try:
                    status, text = 0, self.command(argv, Path(cwd))
                except CommandFailed as failed:
                    status, text = 1, f" ▸    {failed}"
                except Exception as error:  # noqa: BLE001 - the CLI shows it; the test reads it
                    status, text = 1, f" ▸    stand-in error: {type(error).__name__}: {error}"
            connection.send((status, text))

    def command(self, argv: list[str], cwd: Path) -> str:
        args = list(argv)
        for flag in ("-a", "--app"):  # `-a NAME` must name the app the remote points at
            if flag in args:
                index = args.index(flag)
                named = args[index + 1] if index + 1 < len(args) else ""
                del args[index : index + 2]
                if self.app is None or named != self.app.name:
                    raise CommandFailed(f"Couldn't find that app: {named}")
        if not args:
            raise CommandFailed("the stand-in's `heroku` needs a command")
        verb, rest = args[0], args[1:]
        if verb == "git:receive":
            return self._receive(rest)
        if verb == "create":
            return self._create(rest, cwd)
        app = self.app
        if app is None:
            raise CommandFailed("No app specified: run `heroku create` first")
        if verb == "addons:create":
            service, _, plan = (rest[0] if rest else "").partition(":")
            if service == "heroku-postgresql":
                return app.add_postgres(plan or POSTGRES_DEFAULT_PLAN)
            if service == "heroku-redis":
                return app.add_redis(plan or "mini", self.redis_db)
            raise CommandFailed(f"`heroku addons:create {' '.join(rest)}`: not an add-on the READMEs use")
        if verb == "config:set":
            pairs = [arg.partition("=") for arg in rest]
            if not pairs or any(not sep or not key for key, sep, _ in pairs):
                raise CommandFailed(f"`heroku config:set {shlex.join(rest)}`: give KEY=value pairs")
            return app.set_config({key: value for key, _, value in pairs})
        if verb == "config:get" and len(rest) == 1:
            return app.config.get(rest[0], "")
        if verb == "ps:scale":
            quantities = {}
            for arg in rest:
                kind, sep, count = arg.partition("=")
                if not sep or not count.isdigit():
                    raise CommandFailed(f"`heroku ps:scale {arg}`: give TYPE=N")
                quantities[kind] = int(count)
            return app.scale(quantities)
        if verb in ("apps:info", "info") and not rest:
            return f"=== {app.name}\nGit URL: {app.git_url}\nWeb URL: {app.web_url}"
        if verb == "domains" and not rest:
            return f"=== {app.name} Heroku Domain\n{app.host}"
        if verb == "open":
            return self._open(app, rest[0] if rest else "/")
        if verb == "run":
            command = rest[1:] if rest[:1] == ["--"] else rest
            done = app.run(shlex.join(command) if len(command) > 1 else "".join(command))
            if done.returncode != 0:
                raise CommandFailed(f"`heroku run {shlex.join(command)}` exited {done.returncode}:\n{done.stdout}{done.stderr}")
            return done.stdout + done.stderr
        if verb == "logs":
            return app.logs()
        raise CommandFailed(
            f"`heroku {shlex.join(argv)}`: not a command the stand-in knows (the READMEs use "
            "create, addons:create, config:set, git push, ps:scale, open, run, logs, apps:info, domains)"
        )

    def _create(self, rest: list[str], cwd: Path) -> str:
        if self.app is not None:
            raise CommandFailed("the stand-in holds one app per rehearsal")
        if len(rest) > 1 or (rest and rest[0].startswith("-")):
            raise CommandFailed(f"`heroku create {shlex.join(rest)}`: the stand-in takes only an optional name")
        if rest and not APP_NAME.fullmatch(rest[0]):
            raise CommandFailed(
                "Name must start with a letter, end with a letter or digit and can only contain"
                " lowercase letters, digits, and dashes."
            )
        self.app = HerokuApp(self.workdir, rest[0] if rest else None)
        output = [f"Creating ⬢ {self.app.name}... done", f"{self.app.web_url} | {self.app.git_url}"]
        inside = subprocess.run(["git", "rev-parse", "--is-inside-work-tree"], cwd=cwd, capture_output=True, text=True)
        if inside.stdout.strip() == "true":  # the CLI adds the `heroku` remote when run in a repository
            subprocess.run(["git", "remote", "add", "heroku", self.app.git_url], cwd=cwd, check=True)
            # The remote keeps Heroku's URL; git delivers it to the stand-in's repository.
            subprocess.run(["git", "config", f"url.{self.bare}.insteadOf", self.app.git_url], cwd=cwd, check=True)
        return "\n".join(output)

    def _receive(self, rest: list[str]) -> str:
        """The pre-receive hook's tree: build it; a failed build or release rejects the push."""
        if self.app is None:
            raise CommandFailed("no app for this repository")
        return "\n".join(self.app.deploy(Path(rest[0])))

    def _open(self, app: HerokuApp, path: str) -> str:
        """`heroku open`: the reader's browser shows the page; here it must answer 200."""
        url = app.web_url.rstrip("/") + "/" + path.lstrip("/")
        answer = httpx.get(app.local_url + "/" + path.lstrip("/"), timeout=35)
        if answer.status_code != 200:
            raise CommandFailed(f"{url} answered {answer.status_code}: {answer.text[:300]}")
        return f"Opening {url}... done ({answer.status_code})"

    def close(self) -> None:
        self.listener.close()
        if self.app is not None:
            self.app.destroy()


def call(address: str, authkey: bytes, argv: list[str]) -> int:
    """The fake `heroku` command (and the git hook): forward argv, print the answer."""
    with Client(address, family="AF_UNIX", authkey=authkey) as connection:
        connection.send((argv, str(Path.cwd())))
        status, text = connection.recv()
    print(text, file=sys.stderr if status else sys.stdout)
    return status


def receive(address: str, authkey: bytes, workdir: str) -> int:
    """The git remote's pre-receive hook: only main (or master) deploys, as on Heroku. The
    pushed tree is extracted here, where git lets the hook see the objects being received."""
    updates = [line.split() for line in sys.stdin.read().splitlines() if line.strip()]
    deployed = [new for _, new, ref in updates if ref in ("refs/heads/main", "refs/heads/master")]
    if len(deployed) != 1:
        print(" ▸    push main (or master) to deploy", file=sys.stderr)
        return 1
    source = Path(tempfile.mkdtemp(prefix="build-", dir=workdir)) / "app"
    source.mkdir()
    archive = subprocess.run(["git", "archive", deployed[0]], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(source)], input=archive, check=True)
    return call(address, authkey, ["git:receive", str(source)])
