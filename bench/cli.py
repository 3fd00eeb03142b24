"""`python -m bench`: boot each app as the suite does, verify its routes, drive them with wrk."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform as pyplatform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx

from bench import report, stats
from bench.procs import RssSampler
from bench.targets import (
    BENCH,
    FULL_ROUTES,
    NGINX_ROUTES,
    REDIS_BASE,
    STRIPPED_ROUTES,
    Database,
    Nginx,
    Platform,
    discover,
    launch_app,
    launch_stripped,
    nginx_binary,
    stripped_spec,
    versions,
)
from bench.verify import verify

LUA = BENCH / "report.lua"
ROUTE_NAMES = {stats.slug(r).split("-")[0]: r for r in FULL_ROUTES}  # plaintext, json, db, queries, ...
DRAIN_TIMEOUT = 30.0  # seconds; longer than any backlog a 2-core run builds up
INSTALL_WRK = "wrk is not installed: `sudo apt-get install wrk` (Debian/Ubuntu) or `brew install wrk` (macOS)."

DEFAULTS = {"duration": 2, "warmup": 1, "connections": [16, 256], "repeats": 3}
SMOKE = {"duration": 1, "warmup": 0, "connections": [16], "repeats": 1}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--apps", help="comma-separated app folders (default: every app with a Procfile web line)")
    p.add_argument("--routes", help=f"comma-separated routes by name: {', '.join(ROUTE_NAMES)} (default: all)")
    p.add_argument("--duration", type=int, help=f"whole seconds per timed wrk run (default {DEFAULTS['duration']})")
    p.add_argument("--warmup", type=int, help=f"whole seconds of untimed load per route first (default {DEFAULTS['warmup']})")
    p.add_argument("--connections", help="comma-separated concurrency sweep (default 16,256)")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 2,
                   help="WEB_CONCURRENCY for every app (default: the CPU count)")
    p.add_argument("--repeats", type=int, help="timed runs per route and level; medians reported (default 3)")
    p.add_argument("--wrk-threads", type=int, default=1, help="wrk threads (default 1: leaves the server the other core)")
    p.add_argument("--timeout", type=int, default=30, help="wrk's per-request timeout in s (default 30, Heroku's router)")
    p.add_argument("--no-stripped", action="store_true", help="skip the stripped configurations")
    p.add_argument("--no-nginx", action="store_true", help="skip the nginx reference")
    p.add_argument("--smoke", action="store_true",
                   help="CI mode: one short level per route, 1 repeat, results in bench/results/smoke/, README untouched")
    p.add_argument("--out", type=Path, help="results folder (default bench/results, or bench/results/smoke)")
    p.add_argument("--no-readme", action="store_true", help="do not regenerate the README's Comparison section")
    p.add_argument("--from-json", type=Path, metavar="PATH",
                   help="run nothing: re-render tables, charts (and README) from a results JSON, e.g. bench/results/latest.json")
    args = p.parse_args(argv)
    base = SMOKE if args.smoke else DEFAULTS
    args.duration = args.duration or base["duration"]
    args.warmup = base["warmup"] if args.warmup is None else args.warmup
    args.repeats = args.repeats or base["repeats"]
    args.connections = [int(c) for c in args.connections.split(",")] if args.connections else base["connections"]
    if args.routes:
        unknown = [r for r in args.routes.split(",") if r not in ROUTE_NAMES]
        if unknown:
            p.error(f"unknown route(s) {unknown}; choose from {', '.join(ROUTE_NAMES)}")
        args.routes = [ROUTE_NAMES[r] for r in args.routes.split(",")]
    else:
        args.routes = list(FULL_ROUTES)
    args.out = args.out or (BENCH / "results" / ("smoke" if args.smoke else ""))
    if args.smoke:
        args.no_readme = True
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
        "cpus": os.cpu_count(), "cpu_model": model, "os": f"{pyplatform.system()} {pyplatform.release()}",
        "bench_python": pyplatform.python_version(),
        "wrk": (wrk.stdout or wrk.stderr).splitlines()[0].split(" [")[0] if (wrk.stdout or wrk.stderr) else "",
    }


class Runner:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.runs: list[dict] = []
        self.targets: dict[str, dict] = {}
        self.skipped: list[str] = []

    def log(self, text: str) -> None:
        print(text, flush=True)

    def wrk(self, url: str, connections: int, seconds: float) -> dict:
        threads = min(self.args.wrk_threads, connections)
        command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{int(seconds)}s", "--timeout", f"{int(self.args.timeout)}s",
                   "-s", str(LUA), url]
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

    def measure(self, name: str, kind: str, app: str, process, routes: list[str], database=None) -> None:
        """Verify every route, then warm up and time the ones that answer right."""
        info = self.targets[name]
        good = []
        for route in routes:
            reason = verify(process.url, route, database)
            if reason:
                info.setdefault("wrong_answers", {})[route] = reason
                self.log(f"  {route}: WRONG ANSWER, not timed: {reason}")
            else:
                good.append(route)
        # One sampler per target for memory and one for database connections (the suite's),
        # each with its peak reset at the start of every timed run.
        conns = database.sample_connections(0.05) if database is not None else None
        with RssSampler(process.pgid) as rss, conns or contextlib.nullcontext():
            for route in good:
                url = process.url + route
                if self.args.warmup > 0:
                    self.wrk(url, max(self.args.connections), self.args.warmup)
                for level in self.args.connections:
                    for repeat in range(self.args.repeats):
                        rss.reset_window()
                        if conns is not None:
                            conns.peak = 0
                        result = self.wrk(url, level, self.args.duration)
                        if conns is not None:
                            result["peak_db_connections"] = conns.peak
                        result["peak_rss_mb"] = rss.window_peak / 2**20
                        result.update(target=name, kind=kind, app=app, route=route, connections=level, repeat=repeat)
                        self.runs.append(result)
                    last = [r for r in self.runs if r["target"] == name and r["route"] == route and r["connections"] == level]
                    med = stats.spread([r["rps"] for r in last])["median"]
                    bad = sum(r["non_2xx"] + r["socket_errors"] for r in last)
                    self.log(f"  {route:<22} c={level:<4} {med:>9.0f} req/s  p99 {last[-1]['p99_ms']:7.1f} ms"
                             + (f"  {bad} non-2xx/socket errors" if bad else ""))
            info["peak_rss_mb"] = rss.peak / 2**20

    def app(self, spec) -> None:
        name = spec.name
        self.targets[name] = info = {"kind": "app", "app": name, "versions": versions(spec),
                                     "command": spec.procfile["web"]}
        self.log(f"== {name}: {spec.procfile['web']}")
        database = Database(name)
        try:
            platform = Platform(spec, database, f"{REDIS_BASE}/{spec.redis_db}")
            booted = self.run_target(name, "app", name, info, self.args.routes, database, platform,
                                     lambda: launch_app(platform, self.args.workers))
            if booted:
                self.log(f"  boot {info['boot_seconds']:.2f} s, shutdown {info.get('shutdown_seconds', float('nan')):.2f} s,"
                         f" peak RSS {info.get('peak_rss_mb', 0):.0f} MB")
            if booted and not self.args.no_stripped:
                self.stripped(spec, database)
        finally:
            database.drop()

    def stripped(self, spec, database) -> None:
        sspec = stripped_spec(spec)
        if sspec is None:
            self.log(f"  (no bench/stripped/{spec.name}: no ceiling for it)")
            return
        name = sspec.name
        routes = [r for r in self.args.routes if r in STRIPPED_ROUTES]
        if not routes:
            return
        self.targets[name] = info = {"kind": "stripped", "app": spec.name, "command": sspec.procfile["web"]}
        self.log(f"== {name}: {sspec.procfile['web']}")
        platform = Platform(sspec, database, f"{REDIS_BASE}/{spec.redis_db}")
        self.run_target(name, "stripped", spec.name, info, routes, database, platform,
                        lambda: launch_stripped(platform, self.args.workers))

    def run_target(self, name: str, kind: str, app: str, info: dict, routes: list[str], database,
                   platform: Platform, launch) -> bool:
        """Boot with `launch()`, measure, and stop; a target that does not boot is skipped, not fatal."""
        try:
            process = launch()
        except Exception as exc:  # noqa: BLE001 - any boot failure: move on with the others
            info["boot_error"] = str(exc).strip()[:2000]
            self.skipped.append(f"{name}: did not boot ({str(exc).strip().splitlines()[0][:200]})")
            self.log(f"  did not boot: {str(exc).strip()[:400]}")
            platform.shutdown()
            return False
        info["boot_seconds"] = process.boot_seconds
        try:
            self.measure(name, kind, app, process, routes, database)
        finally:
            try:
                info["shutdown_seconds"] = process.stop()
            except AssertionError as exc:
                info["shutdown_error"] = str(exc)[:500]
            platform.shutdown()
        return True

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
        self.targets["nginx"] = info = {"kind": "nginx", "app": None, "versions": {"nginx": version},
                                        "command": "nginx: return 200 \"Hello, World!\""}
        self.log(f"== nginx {version}: return 200")
        try:
            server = Nginx(binary, self.args.workers)
        except RuntimeError as exc:
            self.skipped.append(f"nginx: did not start ({exc})")
            return
        try:
            info["boot_seconds"] = server.boot_seconds
            self.measure("nginx", "nginx", None, server, routes)
            info["shutdown_seconds"] = server.stop()
        finally:
            server.cleanup()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.from_json:
        results = json.loads(args.from_json.read_text())
        results["summary"] = stats.aggregate(results["runs"])
        results["verdicts"] = report.verdicts(results)
        written = report.write_all(results, args.out, readme=not args.no_readme)
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
    started = time.monotonic()
    when = dt.datetime.now(dt.UTC)
    runner = Runner(args)
    print(f"bench: {len(specs)} app(s), routes {', '.join(args.routes)}, connections {args.connections}, "
          f"{args.duration:g} s x {args.repeats} repeat(s) after {args.warmup:g} s warm-up, "
          f"WEB_CONCURRENCY={args.workers}, wrk -t{args.wrk_threads}", flush=True)
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
        "machine": machine(),
        "settings": {
            "workers": args.workers, "connections": args.connections, "duration": args.duration,
            "warmup": args.warmup, "repeats": args.repeats, "wrk_threads": args.wrk_threads,
            "timeout": args.timeout, "routes": args.routes, "smoke": args.smoke,
        },
        "targets": runner.targets,
        "skipped": runner.skipped,
        "runs": runner.runs,
        "summary": stats.aggregate(runner.runs),
    }
    results["verdicts"] = report.verdicts(results)
    written = report.write_all(results, args.out, readme=not args.no_readme)
    print()
    print(report.markdown(results))
    print(f"wrote {', '.join(str(p.relative_to(Path.cwd())) if p.is_relative_to(Path.cwd()) else str(p) for p in written)}")
    print(f"total time {total:.0f} s ({total / 60:.1f} min)")
    ok = not runner.skipped and not any(info.get("wrong_answers") for info in runner.targets.values())
    return 0 if ok or not args.smoke else 1
