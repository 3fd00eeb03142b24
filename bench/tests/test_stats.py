"""Fast checks of the bench's own parsing and aggregation (no server, no wrk)."""

from __future__ import annotations

import json

import pytest

from bench import report, stats
from bench.procs import parse_pgrp

WRK_OUT = """Running 2s test @ http://127.0.0.1:1234/json
  1 threads and 16 connections
Requests/sec:  5000.00
BENCH_JSON {"duration_us": 2000000, "requests": 10000, "responses": 10000, "bytes": 1, "non_2xx": 3, \
"errors": {"connect": 1, "read": 2, "write": 0, "status": 3, "timeout": 4}, "latency_us": {"min": 100, \
"mean": 3000.0, "stdev": 10.0, "max": 90000, "p50": 2500, "p75": 3000, "p90": 4000, "p99": 12500}}
"""


def test_parse_wrk():
    result = stats.parse_wrk(WRK_OUT)
    assert result["rps"] == 5000
    assert result["non_2xx"] == 3
    assert result["socket_errors"] == 7  # connect + read + write + timeout, not statuses
    assert result["p50_ms"] == 2.5 and result["p99_ms"] == 12.5


def test_parse_wrk_without_marker():
    with pytest.raises(ValueError):
        stats.parse_wrk("Requests/sec: 1\n")


def test_spread():
    assert stats.spread([3, 1, 2]) == {"median": 2, "min": 1, "max": 3, "n": 3}
    assert stats.spread([])["median"] is None


def run(target, route, level, rps, kind="app", non=0, sock=0, conns=1):
    return {"target": target, "kind": kind, "app": target.removeprefix("stripped-"), "route": route,
            "connections": level, "rps": rps, "p50_ms": 1.0, "p99_ms": 2.0, "non_2xx": non,
            "socket_errors": sock, "requests": 10, "peak_rss_mb": 50.0, "peak_db_connections": conns}


def test_aggregate_ratio_and_failures():
    runs = [run("a", "/json", 16, r) for r in (90, 100, 110)]
    runs += [run("a", "/json", 256, 80, non=1, sock=2, conns=19)]
    runs += [run("stripped-a", "/json", 16, 200, kind="stripped"), run("stripped-a", "/json", 256, 150, kind="stripped")]
    rows = stats.aggregate(runs)
    first = next(r for r in rows if r["target"] == "a" and r["connections"] == 16)
    assert first["rps"] == {"median": 100, "min": 90, "max": 110, "n": 3}
    assert stats.best_rps(rows, "a", "/json") == 100
    assert stats.ceiling_ratios(rows, "a", "stripped-a", ["/json", "/db"]) == {"/json": 0.5, "/db": None}
    assert stats.failures_at(rows, "a", 256) == {"/json": {"non_2xx": 1, "socket_errors": 2}}
    assert stats.failures_at(rows, "a", 16) == {}


def test_verdicts_and_markdown(tmp_path):
    runs = [run("a", route, 256, 100, conns=19) for route in report.TARGET_ROUTES]
    runs += [run("stripped-a", route, 256, 105, kind="stripped") for route in report.TARGET_ROUTES]
    results = {
        "date": "2026-01-01T00:00:00+00:00", "total_seconds": 1.0,
        "machine": {"cpus": 2, "cpu_model": "x", "os": "Linux", "wrk": "wrk 4"},
        "settings": {"connections": [256], "duration": 2, "warmup": 1, "repeats": 1, "wrk_threads": 1, "workers": 2},
        "targets": {"a": {"kind": "app", "app": "a", "boot_seconds": 1.0},
                    "stripped-a": {"kind": "stripped", "app": "a", "boot_seconds": 1.0}},
        "skipped": [], "summary": stats.aggregate(runs),
    }
    v = report.verdicts(results)["a"]
    assert v["below_target"] == [] and v["over_budget"]  # 19 > 20 - 2
    text = report.markdown(results)
    assert "| `/json` | a | 100 |" in text and "95%" in text
    readme = tmp_path / "README.md"
    readme.write_text("# x\n")
    report.update_readme(results, readme)
    report.update_readme(results, readme)  # idempotent: one section between the markers
    body = readme.read_text()
    assert body.count(report.START) == 1 and body.count("## Comparison") == 1
    json.dumps(results)  # serialisable


def test_slug_and_pgrp():
    assert stats.slug("/queries?queries=20") == "queries-queries-20"
    assert parse_pgrp("123 (a b) c) S 1 456 456 0") == 456


def test_run_without_completions_has_no_latency():
    runs = [run("a", "/db", 256, 0.0), run("a", "/db", 256, 10.0)]
    runs[0]["requests"] = 0
    row = stats.aggregate(runs)[0]
    assert row["p99_ms"]["n"] == 1 and row["rps"]["n"] == 2
