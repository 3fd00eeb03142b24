"""uwsgi.ini itself, run the way the Procfile runs it: `uwsgi uwsgi.ini` under sh, in its
own process group, stopped by SIGTERM to every process of the group as Heroku does."""

import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

APP_DIR = Path(__file__).resolve().parents[1]
BIN_DIR = Path(sys.executable).parent
UWSGI = shutil.which("uwsgi", path=f"{BIN_DIR}{os.pathsep}{os.environ.get('PATH', '')}")

pytestmark = pytest.mark.skipif(UWSGI is None, reason="uWSGI is not installed")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def platform_env(**overrides):
    env = {
        "PATH": f"{BIN_DIR}{os.pathsep}{os.environ.get('PATH', '')}",
        "PORT": str(free_port()),
        "WEB_CONCURRENCY": "2",
        "SECRET_KEY": "test-secret",
        "DYNO": "web.1",
        "PYTHONUNBUFFERED": "true",
    }
    env.update(overrides)
    return {name: value for name, value in env.items() if value is not None}


def start(env, log_path, ini="uwsgi.ini"):
    log = open(log_path, "wb")
    return subprocess.Popen(
        ["sh", "-c", f"uwsgi {ini}"], cwd=APP_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def get(host, port, path, timeout=5):
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    connection.request("GET", path, headers={"Host": f"127.0.0.1:{port}"})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response, body


def wait_for(port, deadline=30):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            return get("127.0.0.1", port, "/json")
        except OSError:
            time.sleep(0.1)
    raise AssertionError("uWSGI did not answer on PORT")


def group_alive(pgid) -> bool:
    try:
        os.waitpid(pgid, os.WNOHANG)  # reap the sh leader, or its zombie keeps the group
    except ChildProcessError:
        pass
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


@pytest.fixture
def server(tmp_path):
    env = platform_env(DATABASE_URL=None)
    log_path = tmp_path / "uwsgi.log"
    process = start(env, log_path)
    try:
        wait_for(int(env["PORT"]))
        yield int(env["PORT"]), process, log_path
    finally:
        if group_alive(process.pid):
            os.killpg(process.pid, signal.SIGKILL)
        process.poll()


def test_serves_ipv4_and_ipv6_with_the_ini_headers(server):
    port, _, _ = server
    for host in ["127.0.0.1", "::1"]:
        response, body = get(host, port, "/json")
        assert response.status == 200, host
        assert body == b'{"message":"Hello, World!"}'
        assert response.getheader("Server") == "uWSGI"
        assert response.getheader("X-Content-Type-Options") == "nosniff"


def test_keeps_the_connection_alive(server):
    port, _, _ = server
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    for _ in range(3):
        connection.request("GET", "/plaintext", headers={"Host": f"127.0.0.1:{port}"})
        response = connection.getresponse()
        assert response.read() == b"Hello, World!"
        assert not response.will_close
    connection.close()


def test_the_status_line_is_never_the_clients_protocol_token(server):
    port, _, _ = server
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(f"GET /js on HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
        answer = conn.recv(65536)
    # uwsgi.ini's http-var = SERVER_PROTOCOL=HTTP/1.1 (unbit/uwsgi#1845).
    assert answer.startswith(b"HTTP/1.1 404 ")


@pytest.mark.parametrize("request_line", [b"GET", b"GARBAGE", b"GET /json"])
def test_a_malformed_request_line_gets_no_500(server, request_line):
    port, _, log_path = server
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(request_line + b"\r\n\r\n")
        answer = conn.recv(65536)
    # uWSGI's router closes the connection without an answer; the app is never called.
    assert not answer.startswith(b"HTTP/1.1 5")
    time.sleep(0.3)
    assert "Traceback" not in log_path.read_text(errors="replace")


def test_reports_memory_per_request_on_stdout(server):
    port, _, log_path = server
    for _ in range(3):
        get("127.0.0.1", port, "/plaintext")
    time.sleep(0.5)
    assert "{rss usage:" in log_path.read_text(errors="replace")


def test_sigterm_to_the_whole_group_exits_quickly(server):
    _, process, log_path = server
    started = time.monotonic()
    os.killpg(process.pid, signal.SIGTERM)
    while group_alive(process.pid) and time.monotonic() - started < 20:
        time.sleep(0.05)
    assert not group_alive(process.pid)
    assert time.monotonic() - started < 10
    # The shutdown is the graceful one, not a reload.
    assert "goodbye to uWSGI" in log_path.read_text(errors="replace")


def test_production_without_secret_key_stops_the_master(tmp_path):
    env = platform_env(SECRET_KEY=None, DATABASE_URL=None)
    log_path = tmp_path / "uwsgi.log"
    started = time.monotonic()
    process = start(env, log_path)
    assert process.wait(timeout=20) != 0
    assert time.monotonic() - started < 10
    output = log_path.read_text(errors="replace")
    reasons = [line for line in output.splitlines() if "SECRET_KEY" in line]
    assert len(reasons) == 1, output
    assert "Traceback" not in output
    assert "spawned uWSGI worker" not in output


ROUTER_HOOK = "hook-as-gateway = unix_signal:15 worker_wakeup\n"


def held_app_ini(tmp_path, keep_router_hook):
    """uwsgi.ini's own text serving tests/held_app.py, with or without the router hook."""
    text = (APP_DIR / "uwsgi.ini").read_text()
    app_lines = "pythonpath = %d\nmodule = webapp.wsgi:application\n"
    assert text.count(ROUTER_HOOK) == 1 and text.count(app_lines) == 1
    text = text.replace(app_lines, f"pythonpath = {APP_DIR}\nmodule = tests.held_app:application\n")
    if not keep_router_hook:
        text = text.replace(ROUTER_HOOK, "")
    ini = tmp_path / "held.ini"
    ini.write_text(text)
    return ini


def answer_to_a_request_in_flight_at_sigterm(tmp_path, keep_router_hook) -> bytes:
    """Hold /held in a worker, SIGTERM every process of the group, read what comes back."""
    env = platform_env(DATABASE_URL=None)
    port, log_path = int(env["PORT"]), tmp_path / "uwsgi.log"
    process = start(env, log_path, held_app_ini(tmp_path, keep_router_hook))
    try:
        wait_for(port)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
            conn.sendall(f"GET /held HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
            end = time.monotonic() + 5
            while "held request started" not in log_path.read_text(errors="replace"):
                assert time.monotonic() < end, "the held request never reached a worker"
                time.sleep(0.05)
            os.killpg(process.pid, signal.SIGTERM)
            answer = b""
            try:
                while chunk := conn.recv(65536):
                    answer += chunk
            except ConnectionResetError:
                pass
        started = time.monotonic()
        while group_alive(process.pid) and time.monotonic() - started < 10:
            time.sleep(0.05)
        assert not group_alive(process.pid)
        return answer
    finally:
        if group_alive(process.pid):
            os.killpg(process.pid, signal.SIGKILL)
        process.poll()


def test_upstream_router_still_cuts_requests_in_flight_on_sigterm(tmp_path):
    """uWSGI 2.0's HTTP router exits on SIGTERM at once (unbit/uwsgi#1795, #849). When this
    fails, uWSGI fixed the router: delete the hook-as-gateway line from uwsgi.ini."""
    assert answer_to_a_request_in_flight_at_sigterm(tmp_path, keep_router_hook=False) == b""


def test_a_request_in_flight_at_sigterm_gets_its_answer(tmp_path):
    answer = answer_to_a_request_in_flight_at_sigterm(tmp_path, keep_router_hook=True)
    assert answer.startswith(b"HTTP/1.1 200 ")
    assert answer.endswith(b"answered")
