"""`make run`: every app side by side (or those named), each from its own Procfile, the way
`heroku local` runs them.

No config vars are set, so each app runs on its embedded development defaults (SQLite where the
framework has one, in-process fallbacks for Redis). One honcho manager prefixes and colours
every process's output; Ctrl-C stops them all.
"""

from __future__ import annotations

import os
import subprocess
import sys

from honcho.manager import Manager

from harness.apps import discover

FIRST_PORT = int(os.environ.get("RUN_FIRST_PORT", "8001"))
LOCAL_ONLY = ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DYNO", "VIRTUAL_ENV", "PYENV_VERSION", "PORT")


def app_env(spec, port: int) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in LOCAL_ONLY}
    env["PATH"] = f"{spec.venv_bin}{os.pathsep}{env['PATH']}"
    env["PORT"] = str(port)
    env["PYTHONUNBUFFERED"] = "true"
    return env


def main(names: list[str]) -> int:
    manager = Manager()
    urls = []
    specs = [spec for spec in discover() if not names or spec.name in names]
    for offset, spec in enumerate(specs):
        port = FIRST_PORT + offset
        env = app_env(spec, port)
        for command in [*spec.build_commands, spec.procfile.get("release")]:
            if command and subprocess.run(["sh", "-c", command], cwd=spec.path, env=env).returncode != 0:
                print(f"{spec.name}: `{command}` failed; its database routes will answer 503", file=sys.stderr)
        for process_type, command in spec.procfile.items():
            if process_type != "release":
                manager.add_process(f"{spec.name}.{process_type}", command, env=env, cwd=str(spec.path))
        urls.append(f"  {spec.name:<16} http://127.0.0.1:{port}/")
    print("Serving:\n" + "\n".join(urls), flush=True)
    manager.loop()
    return manager.returncode or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
