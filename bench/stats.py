"""Pure aggregation: repeats -> median with spread, paired ratios. No I/O here."""

from __future__ import annotations

import json
import re
from statistics import median

MARKER = "BENCH_JSON "


def parse_wrk(stdout: str) -> dict:
    """The JSON line report.lua prints, with requests/s and total errors added."""
    for line in stdout.splitlines():
        if line.startswith(MARKER):
            raw = json.loads(line[len(MARKER) :])
            break
    else:
        raise ValueError("wrk printed no BENCH_JSON line (is bench/report.lua in use?)")
    seconds = raw["duration_us"] / 1e6 or 1e-9
    errors = raw["errors"]
    return {
        "rps": raw["requests"] / seconds,
        "requests": raw["requests"],
        "non_2xx": raw["non_2xx"],
        # Socket errors: connect/read/write failures and wrk's timeouts (not HTTP statuses).
        "socket_errors": errors["connect"] + errors["read"] + errors["write"] + errors["timeout"],
        "errors": errors,
        "p50_ms": raw["latency_us"]["p50"] / 1000,
        "p99_ms": raw["latency_us"]["p99"] / 1000,
        "max_ms": raw["latency_us"]["max"] / 1000,
        "seconds": seconds,
    }


def spread(values: list[float]) -> dict:
    values = [v for v in values if v is not None]
    if not values:
        return {"median": None, "min": None, "max": None, "n": 0}
    return {"median": median(values), "min": min(values), "max": max(values), "n": len(values)}


def aggregate(runs: list[dict]) -> list[dict]:
    """Group raw runs by (target, route, level): medians and min-max of repeats; totals of errors."""
    groups: dict[tuple, list[dict]] = {}
    for run in runs:
        groups.setdefault((run["target"], run["route"], run["connections"]), []).append(run)
    rows = []
    for (target, route, level), items in groups.items():
        first = items[0]
        rows.append(
            {
                "target": target,
                "kind": first.get("kind"),
                "app": first.get("app"),
                "route": route,
                "connections": level,
                "rps": spread([r["rps"] for r in items]),
                # A run that completed nothing has no latency (wrk reports 0): leave it out.
                "p50_ms": spread([r["p50_ms"] for r in items if r["requests"]]),
                "p99_ms": spread([r["p99_ms"] for r in items if r["requests"]]),
                "non_2xx": sum(r["non_2xx"] for r in items),
                "socket_errors": sum(r["socket_errors"] for r in items),
                "requests": sum(r["requests"] for r in items),
                "peak_rss_mb": max((r.get("peak_rss_mb") or 0) for r in items),
                "peak_db_connections": max((r.get("peak_db_connections") or 0) for r in items),
            }
        )
    rows.sort(key=lambda r: (r["target"], r["route"], r["connections"]))
    return rows


LABEL = re.compile(r"[^a-z0-9]+")


def slug(route: str) -> str:
    """'/queries?queries=20' -> 'queries-queries-20' (file names, chart labels)."""
    return LABEL.sub("-", route.lower()).strip("-")


def paired_ratios(runs: list[dict], numerator: str, denominator: str, route: str, connections: int) -> dict:
    """numerator / denominator run by run, pairing the runs of the same repeat.

    The targets are timed in turns (A, B, A, B...), so the runs of one repeat saw the same
    moment of the machine; the spread of these ratios is how far the comparison itself
    moves, which is smaller than the spread of either target's req/s.
    """

    def by_repeat(target: str) -> dict[int, float]:
        return {
            r["repeat"]: r["rps"]
            for r in runs
            if r["target"] == target and r["route"] == route and r["connections"] == connections
        }

    top, bottom = by_repeat(numerator), by_repeat(denominator)
    return spread([top[k] / bottom[k] for k in sorted(top) if bottom.get(k)])


def at_level(rows: list[dict], target: str, route: str, connections: int) -> dict | None:
    return next((r for r in rows if r["target"] == target and r["route"] == route and r["connections"] == connections), None)
