"""`python -m bench`: each app under its Procfile server and a second server, beside its
framework's stripped reference, verified first, then driven with wrk in interleaved runs."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform as pyplatform
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench import report, stats
from bench.procs import RssSampler
from bench.targets import (
    ACCESS_LOG,
    ACCESS_LOG_ROUTE,
    BENCH,
    CONNECTION_LIMIT,
    DEFAULT_ROUTES,
    FEATURE_ROUTES,
    FEATURES,
    FULL_ROUTES,
    NGINX_ROUTES,
    SECOND_PACKAGES,
    STRIPPED_ROUTES,
    Database,
    Nginx,
    Platform,
    command_spec,
    discover,
    launch_app,
    launch_seeded,
    launch_stripped,
    nginx_binary,
    second_spec,
    servers,
    stripped_spec,
    versions,
)
from bench.verify import verify
from harness.platform import STOP_LIMIT

LUA = BENCH / "report.lua"
ROUTE_NAMES = {stats.slug(r).split("-")[0]: r for r in FULL_ROUTES}  # plaintext, json, db, queries, ...
DRAIN_TIMEOUT = 30.0  # seconds; longer than any backlog a 2-core run builds up
INSTALL_WRK = "wrk is not installed: `sudo apt-get install wrk` (Debian/Ubuntu) or `brew install wrk` (macOS)."
CHAT_APP = "django_channels"

# One level by default: 256 connections, where the contract asks for 0 non-2xx and where the
# servers differ most; --connections 16,256 adds a light-load level (and ~4 minutes).
DEFAULTS = {"duration": 2, "warmup": 1, "connections": [256], "repeats": 3, "ws_clients": [50, 200], "ws_seconds": 10}
SMOKE = {"duration": 1, "warmup": 0, "connections": [16], "repeats": 1, "ws_clients": [10], "ws_seconds": 3}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--apps", help="comma-separated app folders (default: every app with a Procfile web line)")
    p.add_argument(
        "--routes",
        help=f"comma-separated routes by name: {', '.join(ROUTE_NAMES)}, or `all` (default: plaintext,json,db,fortunes)",
    )
    p.add_argument("--duration", type=int, help=f"whole seconds per timed wrk run (default {DEFAULTS['duration']})")
    p.add_argument("--warmup", type=int, help=f"whole seconds of untimed load per route first (default {DEFAULTS['warmup']})")
    p.add_argument("--connections", help="comma-separated concurrency sweep (default 256)")
    p.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 2,
        help="WEB_CONCURRENCY for every app and server (default: the CPU count)",
    )
    p.add_argument("--repeats", type=int, help="interleaved timed runs per route and level (default 3)")
    p.add_argument("--wrk-threads", type=int, default=1, help="wrk threads (default 1: leaves the server the other core)")
    p.add_argument("--timeout", type=int, default=30, help="wrk's per-request timeout in s (default 30, Heroku's router)")
    p.add_argument("--ws-clients", help="websocket clients per chat run, comma-separated (default 50,200)")
    p.add_argument("--ws-seconds", type=int, help="seconds each websocket client sends (default 10)")
    # 0.5 frame/s: at 200 clients in rooms of 10 that is 100 saved frames and 1 000 deliveries per
    # second for two processes, a busy chat rather than a flood that only measures the backlog.
    p.add_argument("--ws-rate", type=float, default=0.5, help="frames per second per websocket client (default 0.5)")
    p.add_argument("--no-second", action="store_true", help="skip the second servers")
    p.add_argument("--no-stripped", action="store_true", help="skip the stripped references")
    p.add_argument("--no-access-log", action="store_true", help="skip the access-log on/off pair")
    p.add_argument("--no-features", action="store_true", help="skip timing each app feature alone on its reference")
    p.add_argument("--no-websocket", action="store_true", help="skip the chat's websocket figure")
    p.add_argument("--no-nginx", action="store_true", help="skip the nginx reference")
    p.add_argument(
        "--smoke", action="store_true", help="CI mode: one short level per route, 1 repeat, results in bench/results/smoke/"
    )
    p.add_argument("--out", type=Path, help="results folder (default bench/results, or bench/results/smoke)")
    p.add_argument(
        "--from-json",
        type=Path,
        metavar="PATH",
        help="run nothing: re-render the results page and charts from a results JSON, e.g. bench/results/latest.json",
    )
    args = p.parse_args(argv)
    base = SMOKE if args.smoke else DEFAULTS
    args.duration = args.duration or base["duration"]
    args.warmup = base["warmup"] if args.warmup is None else args.warmup
    args.repeats = args.repeats or base["repeats"]
    args.connections = [int(c) for c in args.connections.split(",")] if args.connections else base["connections"]
    args.ws_clients = [int(c) for c in args.ws_clients.split(",")] if args.ws_clients else base["ws_clients"]
    args.ws_seconds = args.ws_seconds or base["ws_seconds"]
    if args.routes == "all":
        args.routes = list(FULL_ROUTES)
    elif args.routes:
        unknown = [r for r in args.routes.split(",") if r not in ROUTE_NAMES]
        if unknown:
            p.error(f"unknown route(s) {unknown}; choose from {', '.join(ROUTE_NAMES)} or all")
        args.routes = [ROUTE_NAMES[r] for r in args.routes.split(",")]
    else:
        args.routes = list(DEFAULT_ROUTES)
    args.out = args.out or (BENCH / "results" / ("smoke" if args.smoke else ""))
    if args.smoke:
        args.no_access_log = True  # the same interleaving as the servers; two more boots per app
        args.no_features = True  # a measurement of the reference, nine more boots for flask_gunicorn
    return args


def machine() -> dict:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        model = pyplatform.processor()
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "os": f"{pyplatform.system()} {pyplatform.release()}",
        "bench_python": pyplatform.python_version(),
        "wrk": (wrk.stdout or wrk.stderr).splitlines()[0].split(" [")[0] if (wrk.stdout or wrk.stderr) else "",
    }


def first_and_last_line(text: str) -> str:
    """A boot failure in one line: what the harness said, and the error the process printed last."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return "no output"
    return lines[0][:160] + (f" ... {lines[-1][:200]}" if len(lines) > 1 else "")


@dataclass
class Live:
    """A booted target: what to time on it, at which levels, and its samplers."""

    name: str
    kind: str
    app: str | None
    process: object
    database: object | None
    routes: list[str]
    levels: list[int]
    good: list[str] = field(default_factory=list)
    rss: RssSampler | None = None
    conns: object | None = None


class Runner:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.runs: list[dict] = []
        self.targets: dict[str, dict] = {}
        self.websocket: list[dict] = []
        self.skipped: list[str] = []
        self.started = time.monotonic()

    def log(self, text: str) -> None:
        """Every block's first line carries the time since the start, so a slow phase shows."""
        if text.startswith("=="):
            text = f"{text} [{time.monotonic() - self.started:.0f} s]"
        print(text, flush=True)

    @property
    def top(self) -> int:
        return max(self.args.connections)

    def wrk(self, url: str, connections: int, seconds: float) -> dict:
        threads = min(self.args.wrk_threads, connections)
        command = [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{int(seconds)}s",
            "--timeout",
            f"{int(self.args.timeout)}s",
            "-s",
            str(LUA),
            url,
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + self.args.timeout + 30)
        if done.returncode != 0:
            raise RuntimeError(f"wrk exited {done.returncode}: {done.stderr.strip()}")
        self.drain(url)
        return stats.parse_wrk(done.stdout)

    def drain(self, url: str) -> None:
        """Wait for the work wrk left queued behind it before the next run starts.

        wrk stops on time, but requests it sent (and connections waiting in the listen
        backlog) are still served after it hangs up. Timed straight away, the next run
        measured that leftover work instead: some 2 s cells read 0 req/s. One fresh
        request joins the end of the queue, so its answer means the queue has cleared;
        an idle server answers it in milliseconds.
        """
        started = time.monotonic()
        try:
            httpx.get(url, timeout=DRAIN_TIMEOUT, trust_env=False)
        except httpx.HTTPError as exc:
            self.log(f"  drain: {url} did not answer within {DRAIN_TIMEOUT:g} s ({type(exc).__name__})")
        waited = time.monotonic() - started
        if waited > 0.5:
            self.log(f"  drain: {waited:.1f} s of queued work cleared before the next run")

    # --- booting -------------------------------------------------------------------------------

    def boot(self, name: str, info: dict, platform: Platform, launch):
        """Boot with `launch()`; a target that does not boot is reported and skipped, not fatal."""
        self.targets[name] = info
        self.log(f"== {name}: {info['command']}")
        try:
            process = launch()
        except Exception as exc:  # noqa: BLE001 - any boot failure: move on with the others
            info["boot_error"] = str(exc).strip()[-2000:]
            self.skipped.append(f"{name}: did not boot ({first_and_last_line(str(exc))})")
            self.log(f"  did not boot: {str(exc).strip()[:400]}")
            platform.shutdown()
            return None
        info["boot_seconds"] = process.boot_seconds
        return process

    def stop_all(self, booted: list[tuple[Live, Platform]]) -> None:
        """SIGTERM every target at once, then wait for each group: a server that drains for
        20 s does not hold up the others' stops (each is still timed from the signal)."""
        since = time.monotonic()
        for live, _ in booted:
            live.process.signal(signal.SIGTERM)
        waiting = [live for live, _ in booted]
        while waiting:
            for live in [w for w in waiting if not w.process.group_alive()]:
                self.targets[live.name]["shutdown_seconds"] = time.monotonic() - since
                waiting.remove(live)
            if waiting and time.monotonic() - since > STOP_LIMIT:
                for live in waiting:
                    live.process.signal(signal.SIGKILL)
                    self.targets[live.name]["shutdown_error"] = f"still running {STOP_LIMIT:.0f} s after SIGTERM: SIGKILL"
                    self.log(f"  {live.name}: still running {STOP_LIMIT:.0f} s after SIGTERM, killed")
                waiting = []
            time.sleep(0.02)
        for live, platform in booted:
            info = self.targets[live.name]
            if live.rss is not None:
                info["peak_rss_mb"] = max(info.get("peak_rss_mb") or 0, live.rss.peak / 2**20)
            platform.shutdown()
        booted.clear()

    def verify(self, live: Live) -> None:
        """Every route is checked before anything is timed; a wrong answer is never timed."""
        info = self.targets[live.name]
        for route in live.routes:
            reason = verify(live.process.url, route, live.database)
            if reason:
                info.setdefault("wrong_answers", {})[route] = reason
                self.log(f"  {live.name} {route}: WRONG ANSWER, not timed: {reason}")
            else:
                live.good.append(route)

    # --- timing --------------------------------------------------------------------------------

    def interleave(self, lives: list[Live]) -> None:
        """Per route and level, repeat A, B, C, A, B, C...: machine noise hits every target alike."""
        with contextlib.ExitStack() as stack:
            for live in lives:
                live.rss = stack.enter_context(RssSampler(live.process.pgid))
                if live.database is not None:
                    live.conns = stack.enter_context(live.database.sample_connections(0.05))
            routes = [r for r in self.args.routes if any(r in live.good for live in lives)]
            for route in routes:
                on = [live for live in lives if route in live.good]
                if self.args.warmup > 0:
                    for live in on:
                        self.wrk(live.process.url + route, self.top, self.args.warmup)
                for level in self.args.connections:
                    timed = [live for live in on if level in live.levels]
                    for repeat in range(self.args.repeats):
                        for live in timed:
                            self.time_one(live, route, level, repeat)
                    for live in timed:
                        self.log_cell(live.name, route, level)

    def time_one(self, live: Live, route: str, level: int, repeat: int) -> None:
        live.rss.reset_window()
        if live.conns is not None:
            live.conns.peak = 0
        result = self.wrk(live.process.url + route, level, self.args.duration)
        if live.conns is not None:
            result["peak_db_connections"] = live.conns.peak
        result["peak_rss_mb"] = live.rss.window_peak / 2**20
        result.update(target=live.name, kind=live.kind, app=live.app, route=route, connections=level, repeat=repeat)
        self.runs.append(result)

    def log_cell(self, name: str, route: str, level: int) -> None:
        last = [r for r in self.runs if r["target"] == name and r["route"] == route and r["connections"] == level]
        med = stats.spread([r["rps"] for r in last])["median"]
        bad = sum(r["non_2xx"] + r["socket_errors"] for r in last)
        self.log(
            f"  {name:<34} {route:<22} c={level:<4} {med:>9.0f} req/s  p99 {last[-1]['p99_ms']:7.1f} ms"
            + (f"  {bad} non-2xx/socket errors" if bad else "")
        )

    # --- one app -------------------------------------------------------------------------------

    def app(self, spec) -> None:
        """The app, its second server and its reference up together and timed in turns; then
        the app's access log on and off; then, for the chat, the websocket figure."""
        name, workers, redis = spec.name, self.args.workers, spec.redis_url
        databases: list[Database] = []
        booted: list[tuple[Live, Platform]] = []

        def database() -> Database:
            """A database of its own (own role, own 20-connection budget), migrated and
            seeded by the app's own release line with the app's own venv."""
            databases.append(Database(name))
            if len(databases) > 1:  # the first is the app's: its launch runs the release itself
                Platform(spec, databases[-1], redis).release()
            return databases[-1]

        try:
            db_app = database()
            platform = Platform(spec, db_app, redis)
            info = {"kind": "app", "app": name, "server": "Procfile", "versions": versions(spec), "command": spec.procfile["web"]}
            process = self.boot(name, info, platform, lambda: launch_app(platform, workers))
            if process is not None:  # if not, the other servers still run: the cause may be the Procfile's server
                booted.append((Live(name, "app", name, process, db_app, self.args.routes, self.args.connections), platform))

            second = None if self.args.no_second else second_spec(spec, workers, self.log)
            db_second = None
            if second is not None:
                sspec, server = second
                db_second = database()
                splatform = Platform(sspec, db_second, redis)
                sname = f"{name} @ {server.label}"
                sinfo = {
                    "kind": "second",
                    "app": name,
                    "server": server.label,
                    "command": sspec.procfile["web"],
                    "versions": versions(spec, sspec.venv, SECOND_PACKAGES.get(name)),
                    "env": servers.env(server, workers, CONNECTION_LIMIT),
                }
                sprocess = self.boot(
                    sname,
                    sinfo,
                    splatform,
                    lambda: launch_seeded(splatform, workers, servers.env(server, workers, CONNECTION_LIMIT)),
                )
                if sprocess is not None:
                    booted.append(
                        (Live(sname, "second", name, sprocess, db_second, self.args.routes, self.args.connections), splatform)
                    )

            rspec = None if self.args.no_stripped else stripped_spec(spec)
            routes = [r for r in self.args.routes if r in STRIPPED_ROUTES]
            if rspec is not None and routes:
                db_ref = database()
                rplatform = Platform(rspec, db_ref, redis)
                rinfo = {"kind": "stripped", "app": name, "server": "reference", "command": rspec.procfile["web"]}
                rprocess = self.boot(rspec.name, rinfo, rplatform, lambda: launch_stripped(rplatform, workers))
                if rprocess is not None:
                    # The reference is a ceiling at the level the apps are compared at.
                    booted.append((Live(rspec.name, "stripped", name, rprocess, db_ref, routes, [self.top]), rplatform))

            for live, _ in booted:
                self.verify(live)
            self.interleave([live for live, _ in booted])
            self.stop_all(booted)
            for target in (t for t in self.targets.values() if t.get("app") == name and "boot_seconds" in t):
                self.log(
                    f"  {target['command'][:60]}: boot {target['boot_seconds']:.2f} s, shutdown "
                    f"{target.get('shutdown_seconds', float('nan')):.2f} s, peak RSS {target.get('peak_rss_mb', 0):.0f} MB"
                )

            if not self.args.no_access_log and ACCESS_LOG_ROUTE in self.args.routes:
                self.access_log(spec, [db_app, db_second or database()], redis)
            if not self.args.no_stripped and not self.args.no_features:
                self.features(spec, database, redis)
            if name == CHAT_APP and not self.args.no_websocket:
                self.chat(spec, second, database, redis)
        except Exception as exc:  # noqa: BLE001 - e.g. Postgres gone: report this app, go on with the next
            self.skipped.append(f"{name}: run stopped ({first_and_last_line(str(exc))})")
            self.log(f"  run of {name} stopped: {exc}")
        finally:
            self.stop_all(booted)
            for db in databases:
                try:
                    db.drop()
                except Exception as exc:  # noqa: BLE001 - a database left behind is named, not fatal
                    self.log(f"  could not drop {db.name}: {first_and_last_line(str(exc))}")

    def access_log(self, spec, dbs: list[Database], redis: str) -> None:
        """The app's own per-request log on and off, on /json, in turns at the top level."""
        switch = ACCESS_LOG.get(spec.name)
        if switch is None:
            return
        web = spec.procfile["web"]
        if switch.off_drop is not None and switch.off_drop not in web:
            self.log(f"== {spec.name}: its Procfile writes no request log ({switch.off_drop!r} not in the web line)")
            return
        pair = []
        for state, env, line, db in (
            ("on", switch.on, web, dbs[0]),
            ("off", switch.off, web.replace(f" {switch.off_drop}", "") if switch.off_drop else web, dbs[1]),
        ):
            name = f"{spec.name} log {state}"
            platform = Platform(command_spec(spec, line), db, redis)
            info = {
                "kind": f"log-{state}",
                "app": spec.name,
                "server": "Procfile",
                "command": line,
                "env": env,
                "switch": switch.how,
            }
            process = self.boot(name, info, platform, lambda p=platform, e=env: launch_seeded(p, self.args.workers, e))
            if process is not None:
                live = Live(name, f"log-{state}", spec.name, process, None, [ACCESS_LOG_ROUTE], [self.top])
                pair.append((live, platform))
        try:
            for live, _ in pair:
                self.verify(live)
            if len(pair) == 2:
                self.interleave([live for live, _ in pair])
        finally:
            self.stop_all(pair)

    def features(self, spec, database, redis: str) -> None:
        """The bare reference, and beside it one of the app's features at a time (FEATURES),
        in turns at the top level: what each feature costs alone. The reference stays up on a
        database of its own; each feature's runs pair with a named copy of the reference's."""
        rspec, features = stripped_spec(spec), FEATURES.get(spec.name, {})
        routes = [r for r in self.args.routes if r in FEATURE_ROUTES]
        if rspec is None or not features or not routes:
            return
        base_platform, feature_db = Platform(rspec, database(), redis), database()
        base_info = {"kind": "feature-base", "app": spec.name, "server": "reference", "command": rspec.procfile["web"]}
        base_name = f"{rspec.name} bare"
        base = self.boot(base_name, base_info, base_platform, lambda: launch_stripped(base_platform, self.args.workers))
        if base is None:
            return
        try:
            for feature, what in features.items():
                platform = Platform(rspec, feature_db, redis)
                name = f"{rspec.name} + {feature}"
                info = {
                    "kind": "feature",
                    "app": spec.name,
                    "server": "reference",
                    "feature": feature,
                    "what": what,
                    "command": f"BENCH_FEATURE='{feature}' {rspec.procfile['web']}",
                    "baseline": f"{base_name} ({feature})",
                }
                process = self.boot(name, info, platform, lambda p=platform, f=feature: launch_stripped(p, self.args.workers, f))
                if process is None:
                    continue
                self.targets[info["baseline"]] = {**base_info, "feature": feature}
                pair = [
                    Live(info["baseline"], "feature-base", spec.name, base, base_platform.database, routes, [self.top]),
                    Live(name, "feature", spec.name, process, feature_db, routes, [self.top]),
                ]
                try:
                    for live in pair:
                        self.verify(live)
                    self.interleave(pair)
                finally:
                    self.stop_all([(pair[1], platform)])
        finally:
            self.stop_all([(Live(base_name, "feature-base", spec.name, base, None, [], []), base_platform)])

    def chat(self, spec, second, database, redis: str) -> None:
        """Two web processes per server on one Redis; N clients, fixed rate, bounded time."""
        from bench.websocket import chat_load

        pool = (CONNECTION_LIMIT - servers.RESERVED_CONNECTIONS) // 2
        env = {"WEB_CONCURRENCY": 1, "DATABASE_POOL_SIZE": pool}  # two dynos: (20 - 2) // 2 each
        servers_to_run = [("Daphne (Procfile)", spec, None)]
        if second is not None:
            servers_to_run.append((second[1].label, second[0], second[1]))
        for label, sspec, _ in servers_to_run:
            db = database()
            platform = Platform(sspec, db, redis)
            self.log(f"== websocket: {label}, 2 processes: {sspec.procfile['web']}")
            processes = []
            try:
                processes = [platform.launch(env=env, release=False) for _ in range(2)]
            except Exception as exc:  # noqa: BLE001 - reported as not measured
                self.skipped.append(f"websocket {label}: did not boot ({first_and_last_line(str(exc))})")
                self.log(f"  did not boot: {str(exc).strip()[:400]}")
                platform.shutdown()
                continue
            try:
                with RssSampler(processes[0].pgid) as rss0, RssSampler(processes[1].pgid) as rss1:
                    for clients in self.args.ws_clients:
                        rss0.reset_window()
                        rss1.reset_window()
                        figures = chat_load([p.url for p in processes], clients, self.args.ws_rate, self.args.ws_seconds)
                        figures.update(
                            server=label,
                            command=sspec.procfile["web"],
                            rate=self.args.ws_rate,
                            peak_rss_mb=(rss0.window_peak + rss1.window_peak) / 2**20,
                        )
                        self.websocket.append(figures)
                        self.log(
                            f"  {clients:>4} clients: {figures['connected']} connected, "
                            f"{figures['delivered_per_s']:.0f} delivered/s, p50 {report.fmt_num(figures['p50_ms'])} ms, "
                            f"p99 {report.fmt_num(figures['p99_ms'])} ms across processes, lost {figures['lost']}, "
                            f"peak RSS {figures['peak_rss_mb']:.0f} MB"
                        )
            finally:
                for process in processes:
                    process.signal(signal.SIGTERM)
                platform.shutdown()

    def nginx(self) -> None:
        routes = [r for r in self.args.routes if r in NGINX_ROUTES]
        binary = nginx_binary()
        if not routes:
            return
        if binary is None:
            self.skipped.append("nginx: not installed (apt-get install nginx / brew install nginx): no machine limit")
            self.log("== nginx: not installed, machine limit skipped")
            return
        version = subprocess.run([binary, "-v"], capture_output=True, text=True).stderr.strip().split("/")[-1]
        self.targets["nginx"] = info = {
            "kind": "nginx",
            "app": None,
            "server": "nginx",
            "versions": {"nginx": version},
            "command": 'nginx: return 200 "Hello, World!"',
        }
        self.log(f"== nginx {version}: return 200")
        try:
            server = Nginx(binary, self.args.workers)
        except RuntimeError as exc:
            self.skipped.append(f"nginx: did not start ({exc})")
            return
        try:
            info["boot_seconds"] = server.boot_seconds
            live = Live("nginx", "nginx", None, server, None, routes, [self.top], good=list(routes))
            self.interleave([live])
            info["peak_rss_mb"] = live.rss.peak / 2**20
            info["shutdown_seconds"] = server.stop()
        finally:
            server.cleanup()


def plan_seconds(args: argparse.Namespace, apps: int, chat: bool) -> float:
    """What the run should take: timed cells x (duration + ~0.4 s of wrk start and drain),
    warm-ups, and per app ~6 s per target booted (a database of its own, the release, the boot)
    plus ~15 s for the slowest graceful stop of each group (its targets stop at once)."""
    levels, repeats, step = len(args.connections), args.repeats, args.duration + 0.4
    stripped = 0 if args.no_stripped else len([r for r in args.routes if r in STRIPPED_ROUTES])
    log_pair = not args.no_access_log and ACCESS_LOG_ROUTE in args.routes
    servers_ = 1 + (not args.no_second)
    cells = len(args.routes) * levels * repeats * servers_ + stripped * repeats + 2 * repeats * log_pair
    warm = (len(args.routes) * servers_ + stripped + 2 * log_pair) * args.warmup
    boots = servers_ + bool(stripped) + 2 * log_pair
    per_app = cells * step + warm + 6 * boots + 15 * (1 + log_pair)
    # Per server: two processes booted, N clients connecting, sending, and GRACE for stragglers.
    ws = (len(args.ws_clients) * (args.ws_seconds + 12) + 25) * servers_ if chat and not args.no_websocket else 0
    nginx = 0 if args.no_nginx else repeats * step + args.warmup
    return apps * per_app + ws + nginx


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.from_json:
        results = json.loads(args.from_json.read_text())
        results["summary"] = stats.aggregate(results["runs"])
        written = report.write_all(results, args.out)
        print(report.markdown(results))
        print("wrote " + ", ".join(str(p) for p in written))
        return 0
    if not shutil.which("wrk"):
        print(INSTALL_WRK, file=sys.stderr)
        return 2
    specs = discover()
    if args.apps:
        wanted = args.apps.split(",")
        unknown = set(wanted) - {s.name for s in specs}
        if unknown:
            print(f"no app folder with a Procfile web line: {', '.join(sorted(unknown))}", file=sys.stderr)
            return 2
        specs = [s for s in specs if s.name in wanted]
    if not args.no_second:  # built (or found up to date) before the clock starts
        for spec in specs:
            server = servers.SECOND_SERVERS.get(spec.name)
            if server is not None:
                servers.ensure_venv(spec.path, server)
    started = time.monotonic()
    when = dt.datetime.now(dt.UTC)
    runner = Runner(args)
    planned = plan_seconds(args, len(specs), any(s.name == CHAT_APP for s in specs))
    print(
        f"bench: {len(specs)} app(s), routes {', '.join(args.routes)}, connections {args.connections}, "
        f"{args.duration:g} s x {args.repeats} interleaved repeat(s) after {args.warmup:g} s warm-up, "
        f"WEB_CONCURRENCY={args.workers}, wrk -t{args.wrk_threads}; planned about {planned / 60:.1f} min",
        flush=True,
    )
    try:
        for spec in specs:
            runner.app(spec)
        if not args.no_nginx:
            runner.nginx()
    except KeyboardInterrupt:
        print("interrupted: writing what was measured", file=sys.stderr)
    total = time.monotonic() - started
    results = {
        "date": when.isoformat(timespec="seconds"),
        "total_seconds": round(total, 1),
        "planned_seconds": round(planned),
        "machine": machine(),
        "settings": {
            "workers": args.workers,
            "connections": args.connections,
            "duration": args.duration,
            "warmup": args.warmup,
            "repeats": args.repeats,
            "wrk_threads": args.wrk_threads,
            "timeout": args.timeout,
            "routes": args.routes,
            "smoke": args.smoke,
            "ws_clients": args.ws_clients,
            "ws_seconds": args.ws_seconds,
            "ws_rate": args.ws_rate,
        },
        "targets": runner.targets,
        "websocket": runner.websocket,
        "skipped": runner.skipped,
        "runs": runner.runs,
        "summary": stats.aggregate(runner.runs),
    }
    written = report.write_all(results, args.out)
    print()
    print(report.markdown(results))
    print(f"wrote {', '.join(str(p.relative_to(Path.cwd())) if p.is_relative_to(Path.cwd()) else str(p) for p in written)}")
    print(f"total time {total:.0f} s ({total / 60:.1f} min; planned {planned / 60:.1f} min)")
    wrong = any(info.get("wrong_answers") for info in runner.targets.values())
    lost = any(w["lost"] or w["connected"] < w["clients"] for w in runner.websocket)
    # The contract asks for no failed request: in the smoke run a non-2xx answer or a socket
    # error (connect, read, write, timeout) is a failure, not a figure.
    failed = [r for r in runner.runs if r["non_2xx"] or r["socket_errors"]]
    for r in failed:
        print(
            f"smoke: {r['target']} {r['route']} c={r['connections']}: {r['non_2xx']} non-2xx, {r['socket_errors']} socket errors",
            file=sys.stderr,
        )
    ok = not runner.skipped and not wrong and not lost and not failed
    return 0 if ok or not args.smoke else 1
