"""The shared suite: every app present, booted as Heroku boots it, through one set of checks.

Tests take the `spec` fixture and are run once per app (folders with a Procfile `web:` line);
`--app NAME` narrows the run, and a module marked `only_app("NAME")` is for that app alone.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
import redis

from harness import apps as app_registry
from harness.platform import Platform
from harness.postgres import Database

MEASUREMENTS: dict[str, dict] = {}
RESULTS_FILE = Path(__file__).parent / ".results" / "measurements.json"


def pytest_addoption(parser):
    parser.addoption("--app", action="append", default=[], help="run the shared suite for this app only")


def pytest_configure(config):
    config.addinivalue_line("markers", "only_app(name): the module checks one app only")
    config.addinivalue_line("markers", "feature(name): checks what only apps with that feature have (AppSpec.features)")


def selected_apps(config) -> list:
    wanted = config.getoption("--app")
    specs = app_registry.discover()
    unknown = set(wanted) - {spec.name for spec in specs}
    if unknown:
        raise pytest.UsageError(f"no app folder with a Procfile web line: {', '.join(sorted(unknown))}")
    return [spec for spec in specs if not wanted or spec.name in wanted]


def pytest_generate_tests(metafunc):
    if "spec" not in metafunc.fixturenames:
        return
    # Session scope groups the tests by app, so one app's shared instance is stopped before
    # the next app boots. Under pytest-xdist (`make test-shared`: --dist loadgroup) the
    # xdist_group sends every test of one app to one worker: they share the app's one Redis
    # database, which the fixtures flush, and its session-wide `served` instance.
    specs = selected_apps(metafunc.config)
    params = [pytest.param(spec, id=spec.name, marks=pytest.mark.xdist_group(spec.name)) for spec in specs]
    metafunc.parametrize("spec", params, scope="session")


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session):
    """On a pytest-xdist worker under --dist loadgroup, every app's test must carry its group
    (xdist appends "@<group>" to the node id); pytest 9.2 silently stopped that
    (pytest-dev/pytest-xdist#1386), which would let two workers share one app's Redis database."""
    if hasattr(session.config, "workerinput") and session.config.getvalue("loadgroup"):
        ungrouped = [item.nodeid for item in session.items if item.get_closest_marker("xdist_group") and "@" not in item.nodeid]
        if ungrouped:
            raise pytest.UsageError(f"pytest-xdist did not group {ungrouped[0]} by app: see pytest-dev/pytest-xdist#1386")


def pytest_collection_modifyitems(config, items):
    """An only_app module's tests run for that app and are deselected, not skipped, for others;
    a feature test is deselected for an app without that feature (an add-on it does not
    provision, JSON write routes it does not have): not checked, rather than passing vacuously."""
    kept, dropped = [], []
    for item in items:
        marker = item.get_closest_marker("only_app")
        feature = item.get_closest_marker("feature")
        spec = getattr(item, "callspec", None) and item.callspec.params.get("spec")
        other_app = marker and spec and spec.name != marker.args[0]
        lacks_feature = feature and spec and feature.args[0] not in spec.features
        (dropped if other_app or lacks_feature else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def record(spec, name: str, value) -> None:
    """Keep a figure for the summary (boot time, peak connections, ...)."""
    figures = MEASUREMENTS.setdefault(spec.name, {})
    if isinstance(value, (int, float)) and isinstance(figures.get(name), (int, float)) and name.startswith("peak"):
        value = max(value, figures[name])
    figures[name] = round(value, 3) if isinstance(value, float) else value


@pytest.fixture
def redis_url(spec) -> str:
    redis.Redis.from_url(spec.redis_url).flushdb()
    return spec.redis_url


@pytest.fixture
def database(spec):
    db = Database(spec.name)
    yield db
    db.drop()


@pytest.fixture
def platform(spec, database, redis_url):
    plat = Platform(spec, database, redis_url)
    yield plat
    plat.shutdown()


@pytest.fixture
def launch(spec, database, redis_url):
    """launch(env=None, database=None, process_type="web", release=True, wait=True)."""
    platforms: dict[str, Platform] = {}

    def launch_(env=None, database=None, process_type="web", release=True, wait=True):
        db = database or request_db
        plat = platforms.setdefault(db.name, Platform(spec, db, redis_url))
        return plat.launch(env=env, process_type=process_type, release=release, wait=wait)

    request_db = database
    yield launch_
    for plat in platforms.values():
        plat.shutdown()


@pytest.fixture(scope="session")
def served(spec):
    """One instance per app, shared by the read-mostly contract checks."""
    redis.Redis.from_url(spec.redis_url).flushdb()
    db = Database(spec.name)
    plat = Platform(spec, db, spec.redis_url)
    try:
        process = plat.launch()
        record(spec, "boot_seconds", process.boot_seconds)
        process.database = db
        yield process
    finally:
        plat.shutdown()
        db.drop()


def pytest_sessionfinish(session):
    """A pytest-xdist worker hands its figures to the controller, which prints the summary."""
    if hasattr(session.config, "workeroutput"):
        session.config.workeroutput["measurements"] = MEASUREMENTS


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    for app, figures in getattr(node, "workeroutput", {}).get("measurements", {}).items():
        for name, value in figures.items():
            record(SimpleNamespace(name=app), name, value)


@pytest.hookimpl(specname="pytest_sessionfinish")
def pytest_sessionfinish_fails_on_a_skip(session):
    """A skip fails the run: a feature an app lacks is deselected (only_app, feature), never
    skipped, so a skip means something the suite needs was missing."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and reporter.stats.get("skipped") and session.exitstatus == pytest.ExitCode.OK:
        reporter.write_line("a skipped test fails the shared suite (reasons: pytest -rs)", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter):
    if not MEASUREMENTS:
        return
    RESULTS_FILE.parent.mkdir(exist_ok=True)
    RESULTS_FILE.write_text(json.dumps(MEASUREMENTS, indent=2, sort_keys=True) + "\n")
    terminalreporter.section("figures measured")
    for app, figures in sorted(MEASUREMENTS.items()):
        shown = ", ".join(f"{name}={value}" for name, value in sorted(figures.items()))
        terminalreporter.write_line(f"{app}: {shown}")
