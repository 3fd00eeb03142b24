"""Results -> JSON, Markdown, PNG charts and the README's Comparison section."""

from __future__ import annotations

import json
import re
from pathlib import Path

from bench import stats

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"
TARGET_ROUTES = ["/plaintext", "/json", "/db"]
TARGET = 0.85
BUDGET_RESERVED = 2  # release + one psql session (CONTRACT.md, "The connection budget")
ROUTE_ORDER = ["/plaintext", "/json", "/db", "/queries?queries=20", "/fortunes", "/updates?queries=20"]

# What to try first when an app falls short of its stripped configuration (never applied here:
# the app folders belong to their owners).
TUNING = {
    "flask_gunicorn": "gunicorn writes an access-log line per request (gunicorn.conf.py `accesslog` and the "
                      "buildpack's GUNICORN_CMD_ARGS): drop it or set `--access-logfile` to nothing on high-traffic "
                      "dynos, and keep gthread threads = pool size; the app factory's per-request hooks "
                      "(security headers, request id, error handlers) are the rest.",
    "sanic_app": "turn Sanic's access log off (`access_log=False`, Heroku's router logs every request anyway) and "
                 "check per-request middleware (headers, request id).",
    "django_channels": "Daphne is one process: Django's middleware stack (Security, WhiteNoise, Common, Csrf, "
                       "XFrame) runs on every request; drop the access log (`--access-log -`) or run one Daphne per "
                       "core behind the same dyno (or Uvicorn/Gunicorn workers for HTTP); sync DB calls go through "
                       "a thread pool sized to the connection pool.",
    "uwsgi_werkzeug": "`memory-report` and the request log cost a line per request: set `disable-logging = true` "
                      "(the router logs requests); `Connection: close` forces a new TCP connection per request - "
                      "uWSGI's `http11-socket` keeps connections alive; more threads per worker if the DB pool allows.",
}


def fmt_num(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 100:
        return f"{value:,.0f}".replace(",", " ")
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def fmt_spread(s: dict) -> str:
    if s["median"] is None:
        return "-"
    if s["n"] < 2:
        return fmt_num(s["median"])
    return f"{fmt_num(s['median'])} ({fmt_num(s['min'])}–{fmt_num(s['max'])})"


def top_level(results: dict) -> int:
    return max(results["settings"]["connections"])


def verdicts(results: dict) -> dict:
    rows = results["summary"]
    level = top_level(results)
    budget = 20 - BUDGET_RESERVED
    out = {}
    for name, info in results["targets"].items():
        if info["kind"] != "app":
            continue
        ratios = stats.ceiling_ratios(rows, name, f"stripped-{name}", TARGET_ROUTES)
        peak_db = max((r["peak_db_connections"] for r in rows if r["target"] == name), default=0)
        short = [route for route, value in ratios.items() if value is not None and value < TARGET]
        out[name] = {
            "ratios": ratios,
            "below_target": short,
            "tuning": TUNING.get(name) if short else None,
            "failures_at_top_level": stats.failures_at(rows, name, level),
            "top_level": level,
            "peak_db_connections": peak_db,
            "db_budget": budget,
            "over_budget": peak_db > budget,
            "wrong_answers": info.get("wrong_answers", {}),
            "boot_error": info.get("boot_error"),
        }
    return out


def _order(results: dict) -> list[str]:
    names = list(results["targets"])
    kinds = {"app": 0, "stripped": 1, "nginx": 2}
    return sorted(names, key=lambda n: (results["targets"][n].get("app") or "~", kinds[results["targets"][n]["kind"]]))


def main_table(results: dict) -> str:
    rows = results["summary"]
    levels = results["settings"]["connections"]
    top = top_level(results)
    head = (["route", "target"] + [f"req/s c={c}" for c in levels]
            + [f"p50 ms c={top}", f"p99 ms c={top}", "non-2xx / socket err", "peak DB conns", "vs stripped"])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    index = {(r["target"], r["route"], r["connections"]): r for r in rows}
    order = _order(results)
    routes = [r for r in ROUTE_ORDER if any(x["route"] == r for x in rows)]
    for route in routes:
        for name in order:
            if not any((name, route, c) in index for c in levels):
                continue
            cells = [f"`{route}`", name]
            for c in levels:
                r = index.get((name, route, c))
                cells.append(fmt_spread(r["rps"]) if r else "-")
            t = index.get((name, route, top))
            cells.append(fmt_spread(t["p50_ms"]) if t else "-")
            cells.append(fmt_spread(t["p99_ms"]) if t else "-")
            mine = [index[(name, route, c)] for c in levels if (name, route, c) in index]
            cells.append(f"{sum(r['non_2xx'] for r in mine)} / {sum(r['socket_errors'] for r in mine)}")
            kind = results["targets"][name]["kind"]
            cells.append(str(max(r["peak_db_connections"] for r in mine)) if kind != "nginx" else "-")
            ratio = None
            if kind == "app":
                ratio = stats.ratio(stats.best_rps(rows, name, route), stats.best_rps(rows, f"stripped-{name}", route))
            cells.append(f"{ratio:.0%}" if ratio is not None else "")
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def process_table(results: dict) -> str:
    head = ["target", "boot s", "shutdown s", "peak RSS MB (process group)", "versions"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name in _order(results):
        info = results["targets"][name]
        vers = ", ".join(f"{k} {v}" for k, v in info.get("versions", {}).items())
        if info["kind"] == "stripped":
            vers = "same venv as the app"
        lines.append("| " + " | ".join([
            name,
            f"{info['boot_seconds']:.2f}" if info.get("boot_seconds") is not None else "did not boot",
            f"{info['shutdown_seconds']:.2f}" if info.get("shutdown_seconds") is not None else "-",
            f"{info['peak_rss_mb']:.0f}" if info.get("peak_rss_mb") else "-",
            vers,
        ]) + " |")
    return "\n".join(lines)


def verdict_table(results: dict) -> str:
    v = results.get("verdicts") or verdicts(results)
    if not v:
        return ""
    top = top_level(results)
    head = ["app"] + [f"{r} vs stripped" for r in TARGET_ROUTES] + [f"clean at c={top}", "peak DB conns / budget"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for app, item in v.items():
        cells = [app]
        for route in TARGET_ROUTES:
            value = item["ratios"].get(route)
            cells.append("-" if value is None else f"{value:.0%} {'✅' if value >= TARGET else '❌'}")
        failures = item["failures_at_top_level"]
        if item.get("boot_error"):
            clean = "did not boot"
        elif failures:
            clean = "❌ " + "; ".join(f"{r}: {f['non_2xx']} non-2xx, {f['socket_errors']} socket"
                                      for r, f in failures.items())
        else:
            clean = "✅"
        if item["wrong_answers"]:
            clean += " (wrong answers: " + ", ".join(item["wrong_answers"]) + ")"
        cells.append(clean)
        cells.append(f"{item['peak_db_connections']} / {item['db_budget']} {'❌' if item['over_budget'] else '✅'}")
        lines.append("| " + " | ".join(cells) + " |")
    notes = [f"- **{app}** below {TARGET:.0%} on {', '.join(item['below_target'])}: {item['tuning']}"
             for app, item in v.items() if item["below_target"]]
    return "\n".join(lines + ([""] + notes if notes else []))


def header(results: dict) -> str:
    m, s = results["machine"], results["settings"]
    return (f"Run of {results['date']} on {m['cpus']} CPU(s), {m['cpu_model']} ({m['os']}); {m['wrk']} with "
            f"{s['wrk_threads']} thread(s) on loopback; WEB_CONCURRENCY={s['workers']} for every app; connections "
            f"{', '.join(map(str, s['connections']))}; {s['duration']:g} s per run after {s['warmup']:g} s warm-up, "
            f"median of {s['repeats']} (min–max); total {results['total_seconds']:.0f} s.")


def markdown(results: dict, images: bool = False, image_prefix: str = "") -> str:
    parts = [header(results), "", main_table(results), "", verdict_table(results), "", process_table(results)]
    if results.get("skipped"):
        parts += ["", "Skipped: " + "; ".join(results["skipped"])]
    if images:
        parts += ["", f"![requests per second]({image_prefix}rps.png)", "",
                  f"![p99 latency]({image_prefix}p99.png)"]
    return "\n".join(parts) + "\n"


def charts(results: dict, out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = results["summary"]
    top = top_level(results)
    order = _order(results)
    routes = [r for r in ROUTE_ORDER if any(x["route"] == r for x in rows)]
    index = {(r["target"], r["route"]): r for r in rows if r["connections"] == top}
    written = []
    for metric, label, fname in (("rps", f"requests/s at {top} connections (log scale)", "rps.png"),
                                 ("p99_ms", f"p99 latency, ms, at {top} connections (log scale)", "p99.png")):
        fig, ax = plt.subplots(figsize=(11, 4.2), dpi=72)
        width = 0.8 / max(1, len(order))
        cmap = plt.get_cmap("tab10")
        apps = [n for n in order if results["targets"][n]["kind"] == "app"]
        for i, name in enumerate(order):
            kind = results["targets"][name]["kind"]
            app = results["targets"][name].get("app")
            color = cmap(apps.index(app) % 10) if app in apps else "0.3"
            xs, ys, lo, hi = [], [], [], []
            for j, route in enumerate(routes):
                r = index.get((name, route))
                if r and r[metric]["median"]:
                    xs.append(j + (i - (len(order) - 1) / 2) * width)
                    ys.append(r[metric]["median"])
                    lo.append(r[metric]["median"] - r[metric]["min"])
                    hi.append(r[metric]["max"] - r[metric]["median"])
            if xs:
                ax.bar(xs, ys, width, yerr=[lo, hi], color=color, label=name, capsize=2,
                       alpha=0.45 if kind == "stripped" else 1.0, hatch="//" if kind == "stripped" else None,
                       edgecolor="white" if kind != "stripped" else color)
        ax.set_xticks(range(len(routes)), [r.replace("?queries=", "?q=") for r in routes])
        ax.set_yscale("log")
        ax.set_ylabel(label)
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
        ax.grid(axis="y", alpha=0.3)
        fig.tight_layout()
        path = out / fname
        fig.savefig(path, dpi=72)
        plt.close(fig)
        written.append(path)
    return written


def update_readme(results: dict, readme: Path = README) -> None:
    body = "\n".join([
        START,
        "## Comparison",
        "",
        "Generated by `make bench` ([bench/README.md](bench/README.md) says what each figure means); each app "
        "against its framework's stripped configuration (same server, logging off, no middleware) and nginx "
        "`return 200` as the machine's limit, all in the same run. Full results: "
        "[bench/results/latest.md](bench/results/latest.md), raw: [latest.json](bench/results/latest.json).",
        "",
        markdown(results, images=True, image_prefix="bench/results/").rstrip(),
        END,
    ])
    text = readme.read_text()
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: body, text)
    else:
        text = text.rstrip("\n") + "\n\n" + body + "\n"
    readme.write_text(text)


def write_all(results: dict, out: Path, readme: bool = True) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    stamp = results["date"].replace(":", "").replace("-", "")[:15]
    written = []
    latest = out / "latest.json"
    latest.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    history = out / "history"
    history.mkdir(exist_ok=True)
    (history / f"{stamp}.json").write_text(json.dumps(results, separators=(",", ":"), sort_keys=True) + "\n")
    md = out / "latest.md"
    md.write_text("# Benchmark results\n\n" + markdown(results, images=True))
    written += [latest, history / f"{stamp}.json", md]
    written += charts(results, out)
    if readme:
        update_readme(results)
        written.append(README)
    return written
