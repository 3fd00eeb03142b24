"""Fast checks of the bench's own parsing and aggregation (no server, no wrk)."""

from __future__ import annotations

import pytest

from bench import cli, servers, stats, websocket
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
