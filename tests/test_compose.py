"""docker-compose.yml, checked statically: no Docker engine runs on our machines or CI."""

from __future__ import annotations

import re
import subprocess
import sys

import yaml

from harness.apps import REPO
from harness.postgres import ADMIN_URL

COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def test_compose_file_follows_the_compose_specification():
    """Against the Compose Specification's schema as check-jsonschema ships it, kept current by its releases."""
    checked = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", str(REPO / "docker-compose.yml")],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_postgres_and_redis_services_exist():
    assert set(SERVICES) >= {"postgres", "redis"}


def test_ports_are_published_on_loopback_only():
    for name, service in SERVICES.items():
        for port in service.get("ports", []):
            text = port if isinstance(port, str) else f"{port.get('host_ip', '')}:{port.get('published')}:{port.get('target')}"
            assert text.startswith("127.0.0.1:"), f"{name} publishes {text} beyond loopback"


def test_every_service_has_a_healthcheck_and_a_named_volume():
    for name, service in SERVICES.items():
        assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
        volumes = [v.split(":")[0] if isinstance(v, str) else v.get("source") for v in service.get("volumes", [])]
        assert any(v in COMPOSE.get("volumes", {}) for v in volumes), f"{name} keeps its data in no named volume"


def test_postgres_is_a_current_major_with_the_urls_the_suite_uses():
    postgres = SERVICES["postgres"]
    major = int(re.search(r"postgres:(\d+)", postgres["image"]).group(1))
    assert major >= 17
    assert "127.0.0.1:5432:5432" in postgres["ports"]
    assert ADMIN_URL.startswith("postgresql://postgres@127.0.0.1:5432/")
    env = postgres.get("environment", {})
    assert env.get("POSTGRES_HOST_AUTH_METHOD") == "trust" or env.get("POSTGRES_PASSWORD")
    assert "127.0.0.1:6379:6379" in SERVICES["redis"]["ports"]


def test_makefile_points_at_the_same_services():
    makefile = (REPO / "Makefile").read_text()
    assert "127.0.0.1:5432" in makefile and "127.0.0.1:6379" in makefile
