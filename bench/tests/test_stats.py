"""Fast checks of the bench's own parsing and aggregation (no server, no wrk)."""

from __future__ import annotations

import json

import pytest

from bench import cli, report, servers, stats, websocket
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
    return {
        "target": target,
        "kind": kind,
        "app": target.removeprefix("stripped-"),
        "route": route,
        "connections": level,
        "rps": rps,
        "p50_ms": 1.0,
        "p99_ms": 2.0,
        "non_2xx": non,
        "socket_errors": sock,
        "requests": 10,
        "peak_rss_mb": 50.0,
        "peak_db_connections": conns,
    }


def test_aggregate_spread():
    runs = [run("a", "/json", 16, r) for r in (90, 100, 110)]
    runs += [run("a", "/json", 256, 80, non=1, sock=2, conns=19)]
    rows = stats.aggregate(runs)
    first = next(r for r in rows if r["target"] == "a" and r["connections"] == 16)
    assert first["rps"] == {"median": 100, "min": 90, "max": 110, "n": 3}
    top = stats.at_level(rows, "a", "/json", 256)
    assert top["non_2xx"] == 1 and top["socket_errors"] == 2 and top["peak_db_connections"] == 19
    assert stats.at_level(rows, "a", "/db", 256) is None


def test_paired_ratios_pair_runs_of_the_same_repeat():
    # Interleaved: in repeat 1 the machine was busy and both targets slowed down alike.
    runs = [dict(run("a", "/json", 256, rps), repeat=k) for k, rps in enumerate((100, 50, 100))]
    runs += [dict(run("b", "/json", 256, rps), repeat=k) for k, rps in enumerate((200, 100, 210))]
    paired = stats.paired_ratios(runs, "b", "a", "/json", 256)
    assert paired == {"median": 2.0, "min": 2.0, "max": 2.1, "n": 3}
    assert stats.paired_ratios(runs, "b", "missing", "/json", 256)["median"] is None


def test_slug_and_pgrp():
    assert stats.slug("/queries?queries=20") == "queries-queries-20"
    assert parse_pgrp("123 (a b) c) S 1 456 456 0") == 456


def test_run_without_completions_has_no_latency():
    runs = [run("a", "/db", 256, 0.0), run("a", "/db", 256, 10.0)]
    runs[0]["requests"] = 0
    row = stats.aggregate(runs)[0]
    assert row["p99_ms"]["n"] == 1 and row["rps"]["n"] == 2


def test_second_server_command_and_env():
    uwsgi = servers.SECOND_SERVERS["flask_gunicorn"]
    assert "--threads 8 " in servers.command(uwsgi, 2, 20)  # gunicorn.conf.py's (20 - 4) // 2
    assert servers.env(servers.SECOND_SERVERS["django_channels"], 2, 20) == {"DATABASE_POOL_SIZE": "9"}
    for server in servers.SECOND_SERVERS.values():
        assert all("==" in pin for pin in server.pins), server.pins  # exact pins only


def test_websocket_marks_and_loss():
    assert websocket.parse_mark("bench r1 3 7 123456", "r1") == (3, 7, 123456)
    assert websocket.parse_mark("bench other 3 7 1", "r1") is None
    assert websocket.parse_mark("hello", "r1") is None
    assert websocket.find_text({"type": "message", "text": "t"}) == "t"
    assert websocket.find_text({"type": "message", "message": {"text": "u"}}) == "u"
    assert websocket.find_text([1]) is None
    room_of = lambda client: client // 2  # noqa: E731 - rooms of two: clients 0, 1 and 2, 3
    seen = {0: {(0, 1), (1, 1)}, 1: {(0, 1)}, 2: {(2, 1)}, 3: {(2, 1)}}
    figures = websocket.summarize(4, 4, {0: 1, 1: 1, 2: 1}, seen, [(True, 5.0), (False, 1.0)], room_of, 2.0, 0)
    assert figures["expected"] == 6 and figures["delivered"] == 5 and figures["lost"] == 1
    assert figures["p50_ms"] == 5.0 and figures["delivered_per_s"] == 2.5


def test_default_run_is_planned_under_15_minutes():
    args = cli.parse_args([])
    assert args.routes == ["/plaintext", "/json", "/db", "/fortunes"]
    assert cli.plan_seconds(args, apps=4, chat=True) < 15 * 60
    smoke = cli.parse_args(["--smoke"])
    assert cli.plan_seconds(smoke, apps=4, chat=True) < 5 * 60  # boots and stops dominate it


def test_boot_failure_and_shutdown_in_one_line():
    text = "sanic_app web exited 1 before binding PORT:\nTraceback (most recent call last):\n  File x\nImportError: no"
    assert cli.first_and_last_line(text) == "sanic_app web exited 1 before binding PORT: ... ImportError: no"
    assert cli.first_and_last_line("") == "no output"
    assert report.shutdown_text({"shutdown_seconds": 2.5}) == "2.50"
    assert report.shutdown_text({"shutdown_error": "killed"}) == "still running at 30 s: SIGKILL"


def results_of(runs, websocket=()):
    return {
        "date": "2026-01-01T00:00:00+00:00",
        "total_seconds": 1.0,
        "machine": {"cpus": 2, "cpu_model": "x", "os": "Linux", "wrk": "wrk 4"},
        "settings": {
            "connections": [256],
            "duration": 2,
            "warmup": 1,
            "repeats": 2,
            "wrk_threads": 1,
            "workers": 2,
            "ws_rate": 0.5,
            "ws_seconds": 10,
        },
        "targets": {
            "a": {"kind": "app", "app": "a", "boot_seconds": 1.0, "command": "uwsgi uwsgi.ini"},
            "a @ gunicorn": {"kind": "second", "app": "a", "server": "gunicorn", "boot_seconds": 1.0, "command": "gunicorn x"},
            "stripped-a": {"kind": "stripped", "app": "a", "boot_seconds": 1.0, "command": "uwsgi s.ini"},
            "a log on": {"kind": "log-on", "app": "a", "switch": "X=1 / X=0", "command": "uwsgi uwsgi.ini"},
            "a log off": {"kind": "log-off", "app": "a", "switch": "X=1 / X=0", "command": "uwsgi uwsgi.ini"},
        },
        "skipped": [],
        "runs": runs,
        "summary": stats.aggregate(runs),
        "websocket": list(websocket),
    }


def test_results_page_has_a_section_per_app_and_touches_no_readme(tmp_path, monkeypatch):
    runs = []
    for k in range(2):
        for route in ("/json", "/db"):
            runs += [
                dict(run("a", route, 256, 100, conns=19), repeat=k),
                dict(run("a @ gunicorn", route, 256, 150, kind="second"), repeat=k),
                dict(run("stripped-a", route, 256, 200, kind="stripped"), repeat=k),
            ]
        runs += [
            dict(run("a log on", "/json", 256, 60, kind="log-on"), repeat=k),
            dict(run("a log off", "/json", 256, 100, kind="log-off"), repeat=k),
        ]
    chat = {
        "server": "Daphne (Procfile)",
        "clients": 50,
        "connected": 50,
        "sent": 500,
        "expected": 5000,
        "delivered": 4990,
        "lost": 10,
        "delivered_per_s": 499.0,
        "p50_ms": 3.0,
        "p99_ms": 40.0,
        "error_frames": 0,
        "peak_rss_mb": 120.0,
    }
    results = results_of(runs, [chat])
    rows = {(c["app"], c["route"]): c for c in report.comparisons(results)}
    assert rows[("a", "/json")]["second_vs_procfile"]["median"] == 1.5
    assert rows[("a", "/json")]["procfile_vs_reference"]["median"] == 0.5
    text = report.markdown(results)
    assert (
        "| `/json` | uWSGI: 100 (100–100) | gunicorn: 150 (150–150) | gunicorn ×1.50 | 1.50 (1.50–1.50) "
        "| 0.50 (0.50–0.50) | 0.75 (0.75–0.75) |"
    ) in text
    assert "\n## a\n" in text and "![a: requests/s per route](rps-a.png)" in text  # the anchor READMEs link
    assert "| a | X=1 / X=0 | 60.0 (60.0–60.0) | 100 (100–100) | 40% (40%–40%) |" in text
    assert "| Daphne (Procfile) | 50 | 50 | 500 | 499 |" in text
    assert "19 (over 18)" in text  # the connection budget, reported
    assert "websocket Daphne (Procfile) 50 clients: 10 lost" in text
    assert "✅" not in text and "❌" not in text  # information, not verdicts
    monkeypatch.chdir(tmp_path)
    written = report.write_all(results, tmp_path / "results")
    assert {p.name for p in written} >= {"latest.json", "latest.md", "rps-a.png"}
    assert all(p.is_relative_to(tmp_path / "results") for p in written)  # no README, anywhere
    json.dumps(results)  # serialisable


def test_faster_names_the_quicker_server():
    assert report.faster({"median": 0.5}, "Daphne", "uvicorn") == "Daphne ×2.00"
    assert report.faster({"median": 1.25}, "Daphne", "uvicorn") == "uvicorn ×1.25"
    assert report.faster({"median": 1.01}, "Daphne", "uvicorn") == "tie"
    assert report.faster(None, "Daphne", "uvicorn") == "-"
