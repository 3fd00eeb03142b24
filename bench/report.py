"""Results -> bench/results/: JSON, a Markdown page with one section per app, one PNG chart per app.

Every figure is information: ratios to the framework's stripped reference and between the
two servers, with their spread; no target, no verdict, no tuning advice. Nothing here writes a
README: READMEs link the page's sections (their anchors are the headings below).
"""

from __future__ import annotations

import json
from pathlib import Path

from bench import stats

BUDGET = 20 - 2  # CONTRACT.md's budget: the role's 20 connections, minus release + one psql session
ROUTE_ORDER = ["/plaintext", "/json", "/db", "/queries?queries=20", "/fortunes", "/updates?queries=20"]
KIND_ORDER = {"app": 0, "second": 1, "stripped": 2, "log-on": 3, "log-off": 4, "nginx": 5, "feature-base": 6, "feature": 7}
HOW_TO_READ = (
    "Each row is one app on one route under its Procfile's server and a second server, same code and "
    "WEB_CONCURRENCY, timed in turns (A, B, A, B) so that machine noise hits both alike; **faster** names "
    "the quicker server and by how much (the median of the paired ratios, min–max across repeats). "
    "**÷ reference** compares each with its framework's barest setup on the Procfile's server "
    "(TechEmpower-style, see [bench/README.md](../README.md)): below 1.00 is what the app's own features "
    "cost, information rather than a target."
)


def fmt_num(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 100:
        return f"{value:,.0f}".replace(",", " ")
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def fmt_spread(s: dict | None) -> str:
    if not s or s["median"] is None:
        return "-"
    if s["n"] < 2:
        return fmt_num(s["median"])
    return f"{fmt_num(s['median'])} ({fmt_num(s['min'])}–{fmt_num(s['max'])})"


def fmt_ratio(s: dict | None) -> str:
    if not s or s["median"] is None:
        return "-"
    if s["n"] < 2:
        return f"{s['median']:.2f}"
    return f"{s['median']:.2f} ({s['min']:.2f}–{s['max']:.2f})"


def top_level(results: dict) -> int:
    return max(results["settings"]["connections"])


def targets_of(results: dict, app: str, kind: str) -> list[str]:
    return [n for n, t in results["targets"].items() if t.get("app") == app and t["kind"] == kind]


def apps(results: dict) -> list[str]:
    return sorted({t["app"] for t in results["targets"].values() if t["kind"] == "app"})


def _order(results: dict) -> list[str]:
    targets = results["targets"]
    return sorted(targets, key=lambda n: (targets[n].get("app") or "~", KIND_ORDER.get(targets[n]["kind"], 9), n))


def _routes(results: dict) -> list[str]:
    rows = results["summary"]
    return [r for r in ROUTE_ORDER if any(x["route"] == r for x in rows)]


def comparisons(results: dict) -> list[dict]:
    """Per app and route at the top level: Procfile server, second server, reference."""
    rows, runs, top = results["summary"], results["runs"], top_level(results)
    out = []
    for app in apps(results):
        first = app
        second = next(iter(targets_of(results, app, "second")), None)
        reference = next(iter(targets_of(results, app, "stripped")), None)
        for route in _routes(results):
            a = stats.at_level(rows, first, route, top)
            b = stats.at_level(rows, second, route, top) if second else None
            if a is None and b is None:
                continue
            item = {
                "app": app,
                "route": route,
                "procfile": first,
                "second": second,
                "procfile_rps": a["rps"] if a else None,
                "second_rps": b["rps"] if b else None,
                "second_vs_procfile": stats.paired_ratios(runs, second, first, route, top) if a and b else None,
            }
            for key, name in (("procfile", first), ("second", second)):
                item[f"{key}_vs_reference"] = (
                    stats.paired_ratios(runs, name, reference, route, top)
                    if name and reference and stats.at_level(rows, reference, route, top)
                    else None
                )
            out.append(item)
    return out


def server_table(results: dict, app: str) -> str:
    """One app's rows: its Procfile server beside its second server, and both against the reference."""
    top = top_level(results)
    head = [
        "route",
        f"Procfile server req/s c={top}",
        f"second server req/s c={top}",
        "faster",
        "second ÷ Procfile",
        "Procfile ÷ reference",
        "second ÷ reference",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    targets = results["targets"]
    for c in comparisons(results):
        if c["app"] != app:
            continue
        second = targets.get(c["second"], {}) if c["second"] else {}
        first_name = f"{_server_name(targets[c['procfile']])}: {fmt_spread(c['procfile_rps'])}"
        second_name = second.get("server", "-")
        if second.get("boot_error"):
            second_cell = f"{second_name}: did not boot"
        elif c["second"] and c["route"] in second.get("wrong_answers", {}):
            second_cell = f"{second_name}: wrong answer, not timed"
        else:
            second_cell = f"{second_name}: {fmt_spread(c['second_rps'])}" if c["second"] else "-"
        lines.append(
            "| "
            + " | ".join(
                [
                    f"`{c['route']}`",
                    first_name,
                    second_cell,
                    faster(c["second_vs_procfile"], _server_name(targets[c["procfile"]]), second_name),
                    fmt_ratio(c["second_vs_procfile"]),
                    fmt_ratio(c["procfile_vs_reference"]),
                    fmt_ratio(c["second_vs_reference"]),
                ]
            )
            + " |"
        )
    return "\n".join(lines)


def faster(ratio: dict | None, first: str, second: str) -> str:
    """'uWSGI ×1.32': the quicker server by the paired median; 'tie' inside 3 %."""
    if not ratio or ratio["median"] is None:
        return "-"
    value = ratio["median"]
    if abs(value - 1) < 0.03:
        return "tie"
    return f"{second} ×{value:.2f}" if value > 1 else f"{first} ×{1 / value:.2f}"


def _server_name(info: dict) -> str:
    command = info.get("command", "")
    for name in ("daphne", "uvicorn", "gunicorn", "uwsgi", "sanic", "python web.py"):
        if name in command:
            return {"python web.py": "Sanic"}.get(name, name.capitalize() if name != "uwsgi" else "uWSGI")
    return command.split()[0] if command else "?"


def detail_table(results: dict) -> str:
    rows = results["summary"]
    levels = results["settings"]["connections"]
    top = top_level(results)
    head = (
        ["route", "target"]
        + [f"req/s c={c}" for c in levels]
        + [f"p50 ms c={top}", f"p99 ms c={top}", "non-2xx / socket err", "peak DB conns"]
    )
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    index = {(r["target"], r["route"], r["connections"]): r for r in rows}
    for route in _routes(results):
        for name in _order(results):
            if results["targets"][name]["kind"] in ("log-on", "log-off"):
                continue
            mine = [index[(name, route, c)] for c in levels if (name, route, c) in index]
            if not mine:
                continue
            cells = [f"`{route}`", name]
            cells += [fmt_spread(index[(name, route, c)]["rps"]) if (name, route, c) in index else "-" for c in levels]
            t = index.get((name, route, top))
            cells.append(fmt_spread(t["p50_ms"]) if t else "-")
            cells.append(fmt_spread(t["p99_ms"]) if t else "-")
            cells.append(f"{sum(r['non_2xx'] for r in mine)} / {sum(r['socket_errors'] for r in mine)}")
            peak = max(r["peak_db_connections"] for r in mine)
            cells.append(
                "-" if results["targets"][name]["kind"] == "nginx" else f"{peak}" + (f" (over {BUDGET})" if peak > BUDGET else "")
            )
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def access_log_table(results: dict) -> str:
    runs, rows, top = results["runs"], results["summary"], top_level(results)
    lines = []
    for app in apps(results):
        on, off = targets_of(results, app, "log-on"), targets_of(results, app, "log-off")
        if not on or not off:
            continue
        route = "/json"
        a, b = stats.at_level(rows, on[0], route, top), stats.at_level(rows, off[0], route, top)
        if not a or not b:
            continue
        paired = stats.paired_ratios(runs, on[0], off[0], route, top)
        cost = {k: (1 - v if isinstance(v, float) else v) for k, v in paired.items()}
        cost["min"], cost["max"] = (1 - paired["max"], 1 - paired["min"]) if paired["n"] else (None, None)
        cost_text = (
            "-"
            if cost["median"] is None
            else (f"{cost['median']:.0%}" + (f" ({cost['min']:.0%}–{cost['max']:.0%})" if paired["n"] > 1 else ""))
        )
        lines.append(
            "| "
            + " | ".join(
                [app, results["targets"][on[0]].get("switch", ""), fmt_spread(a["rps"]), fmt_spread(b["rps"]), cost_text]
            )
            + " |"
        )
    if not lines:
        return ""
    head = ["app", "switch (on / off)", f"/json req/s c={top}, log on", "log off", "throughput the log costs"]
    return "\n".join(["| " + " | ".join(head) + " |", "|" + "---|" * len(head)] + lines)


def feature_table(results: dict, app: str) -> str:
    """What each of the app's features costs alone: the reference with it ÷ the bare
    reference, timed in turns (bench/targets.py FEATURES)."""
    runs, rows, top, targets = results["runs"], results["summary"], top_level(results), results["targets"]
    featured = targets_of(results, app, "feature")
    routes = [r for r in _routes(results) if any(x["target"] in featured and x["route"] == r for x in rows)]
    lines = []
    for name in sorted(featured):
        info = targets[name]
        cells = [info["feature"], info["what"]]
        for route in routes:
            with_it, bare = stats.at_level(rows, name, route, top), stats.at_level(rows, info["baseline"], route, top)
            ratio = stats.paired_ratios(runs, name, info["baseline"], route, top) if with_it and bare else None
            cells.append(f"{fmt_spread(bare['rps']) if bare else '-'} → {fmt_spread(with_it['rps']) if with_it else '-'}")
            cells.append(fmt_ratio(ratio))
        lines.append("| " + " | ".join(cells) + " |")
    if not lines:
        return ""
    head = ["feature", "what it turns on"]
    for route in routes:
        head += [f"`{route}` req/s c={top}, bare → with it", f"`{route}` with ÷ bare"]
    return "\n".join(["| " + " | ".join(head) + " |", "|" + "---|" * len(head)] + lines)


def websocket_table(results: dict) -> str:
    rows = results.get("websocket") or []
    if not rows:
        return ""
    s = results["settings"]
    head = [
        "server (2 processes, 1 Redis)",
        "clients",
        "connected",
        "frames sent",
        "delivered/s",
        "p50 ms across processes",
        "p99 ms across processes",
        "lost",
        "error frames",
        "peak RSS MB (both)",
    ]
    lines = [
        f"Chat websockets: each client sends {s.get('ws_rate', 1):g} frame/s for {s.get('ws_seconds')} s "
        "in rooms of 10 spread over both processes (every frame is delivered to 10 members, 5 of them "
        "through Redis on the other process).",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for w in rows:
        lines.append(
            "| "
            + " | ".join(
                [
                    w["server"],
                    str(w["clients"]),
                    str(w["connected"]),
                    str(w["sent"]),
                    fmt_num(w["delivered_per_s"]),
                    fmt_num(w["p50_ms"]),
                    fmt_num(w["p99_ms"]),
                    str(w["lost"]),
                    str(w["error_frames"]),
                    f"{w['peak_rss_mb']:.0f}",
                ]
            )
            + " |"
        )
    return "\n".join(lines)


def shutdown_text(info: dict) -> str:
    if info.get("shutdown_seconds") is not None:
        return f"{info['shutdown_seconds']:.2f}"
    return "still running at 30 s: SIGKILL" if info.get("shutdown_error") else "-"


def process_table(results: dict) -> str:
    head = ["target", "command", "boot s", "shutdown s", "peak RSS MB (process group)", "versions"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name in _order(results):
        info = results["targets"][name]
        if info["kind"] in ("log-on", "log-off"):
            continue
        vers = ", ".join(f"{k} {v}" for k, v in info.get("versions", {}).items())
        if info["kind"] == "stripped":
            vers = "the app's venv"
        command = info.get("command", "").replace("|", "\\|")
        lines.append(
            "| "
            + " | ".join(
                [
                    name,
                    f"`{command}`",
                    f"{info['boot_seconds']:.2f}" if info.get("boot_seconds") is not None else "did not boot",
                    shutdown_text(info),
                    f"{info['peak_rss_mb']:.0f}" if info.get("peak_rss_mb") else "-",
                    vers,
                ]
            )
            + " |"
        )
    return "\n".join(lines)


def problems(results: dict) -> list[str]:
    out = []
    for name, info in results["targets"].items():
        if info.get("shutdown_error"):
            out.append(f"{name}: still running 30 s after SIGTERM (killed)")
        for route, reason in (info.get("wrong_answers") or {}).items():
            out.append(f"{name} {route}: wrong answer, not timed ({reason[:160]})")
    top = top_level(results)
    for r in results["summary"]:
        if r["connections"] == top and (r["non_2xx"] or r["socket_errors"]):
            out.append(f"{r['target']} {r['route']} at c={top}: {r['non_2xx']} non-2xx, {r['socket_errors']} socket errors")
    for w in results.get("websocket") or []:
        if w["lost"] or w["connected"] < w["clients"]:
            out.append(
                f"websocket {w['server']} {w['clients']} clients: {w['lost']} lost, {w['clients'] - w['connected']} not connected"
            )
    return out + list(results.get("skipped") or [])


def header(results: dict) -> str:
    m, s = results["machine"], results["settings"]
    return (
        f"Run of {results['date']} on {m['cpus']} CPU(s), {m['cpu_model']} ({m['os']}); {m['wrk']} with "
        f"{s['wrk_threads']} thread(s) on loopback; WEB_CONCURRENCY={s['workers']} for every server; connections "
        f"{', '.join(map(str, s['connections']))}; {s['duration']:g} s per run after {s['warmup']:g} s warm-up, "
        f"{s['repeats']} interleaved repeat(s), median (min–max); total {results['total_seconds']:.0f} s."
    )


def chart_name(app: str) -> str:
    return f"rps-{stats.slug(app)}.png"


def markdown(results: dict) -> str:
    """The results page: one section per app (its heading is the anchor READMEs link), then the rest."""
    parts = ["# Benchmark results", "", "## The run", "", header(results), "", HOW_TO_READ]
    for app in apps(results):
        parts += ["", f"## {app}", "", f"![{app}: requests/s per route]({chart_name(app)})", "", server_table(results, app)]
        features = feature_table(results, app)
        if features:
            parts += [
                "",
                "Each production feature alone on the reference, timed in turns with the bare reference "
                "(below 1.00 is what it costs):",
                "",
                features,
            ]
    for title, table in (("Websockets", websocket_table(results)), ("Access log", access_log_table(results))):
        if table:
            parts += ["", f"## {title}", "", table]
    parts += ["", "## Every target, every level", "", detail_table(results), "", process_table(results)]
    found = problems(results)
    if found:
        parts += ["", "## Problems", ""] + [f"- {line}" for line in found]
    return "\n".join(parts) + "\n"


def charts(results: dict, out: Path) -> list[Path]:
    """One chart per app, on its own scale (Daphne's 100 req/s would vanish beside Sanic's
    7,500 on a shared axis): per route, the Procfile server, the second server and the reference."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows, top, targets = results["summary"], top_level(results), results["targets"]
    routes = _routes(results)
    written = []
    for app in apps(results):
        second = next(iter(targets_of(results, app, "second")), None)
        reference = next(iter(targets_of(results, app, "stripped")), None)
        bars = (
            (f"{_server_name(targets[app])} (Procfile)", app, "tab:blue", None),
            (targets[second].get("server", "second") if second else None, second, "tab:orange", None),
            ("reference (stripped)", reference, "0.6", "//"),
        )
        fig, ax = plt.subplots(figsize=(7, 3.2), dpi=96)
        for k, (label, target, color, hatch) in enumerate(bars):
            xs, ys, lo, hi = [], [], [], []
            for i, route in enumerate(routes):
                r = stats.at_level(rows, target, route, top) if target else None
                if r and r["rps"]["median"]:
                    xs.append(i + (k - 1) * 0.27)
                    ys.append(r["rps"]["median"])
                    lo.append(r["rps"]["median"] - r["rps"]["min"])
                    hi.append(r["rps"]["max"] - r["rps"]["median"])
            if xs:
                ax.bar(xs, ys, 0.27, yerr=[lo, hi], color=color, label=label, capsize=2, hatch=hatch, edgecolor="white")
        ax.set_xticks(range(len(routes)), routes, fontsize=8)
        ax.set_ylabel(f"req/s at {top} connections")
        ax.set_title(f"{app}: median of the repeats, whiskers min–max", fontsize=10)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7, frameon=False)
        ax.grid(axis="y", alpha=0.3)
        fig.tight_layout()
        path = out / chart_name(app)
        fig.savefig(path, dpi=96)
        plt.close(fig)
        written.append(path)
    return written


def write_all(results: dict, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    stamp = results["date"].replace(":", "").replace("-", "")[:15]
    latest = out / "latest.json"
    latest.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    history = out / "history"
    history.mkdir(exist_ok=True)
    (history / f"{stamp}.json").write_text(json.dumps(results, separators=(",", ":"), sort_keys=True) + "\n")
    for old in out.glob("*.png"):  # charts of apps this run did not measure would be stale
        old.unlink()
    md = out / "latest.md"
    md.write_text(markdown(results))
    return [latest, history / f"{stamp}.json", md] + charts(results, out)
