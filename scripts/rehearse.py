"""`make rehearse APP=name`: one app deployed as its README's "Deploy to Heroku" block says,
on the local stand-in for Heroku, exactly as tests/test_deploy.py does it (harness/rehearsal.py):
a buildpack build from the tracked files, the add-ons, the config vars the block sets, the
release phase, the Procfile's dynos and the router stand-in in front of web. It prints the
`https://<name>-<12 hex>.herokuapp.com` host the app was given and the local URL that reaches
it through the router; Ctrl-C stops the dynos, the router and the add-ons.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

from harness.apps import discover
from harness.rehearsal import rehearse


def main(argv: list[str]) -> int:
    specs = {spec.name: spec for spec in discover()}
    if len(argv) != 1 or argv[0] not in specs:
        print(f"usage: make rehearse APP=<{'|'.join(specs)}>", file=sys.stderr)
        return 2
    spec = specs[argv[0]]
    workdir = Path(tempfile.mkdtemp(prefix=f"rehearse-{spec.name}-"))
    log = workdir / "deploy.log"
    print(f"Running the deploy block of {spec.name}/README.md in a copy of its tracked files ({workdir})...")
    try:
        stand_in, paths = rehearse(spec, workdir, log)
    except AssertionError as failed:
        print(failed, file=sys.stderr)
        shutil.rmtree(workdir, ignore_errors=True)
        return 1
    app = stand_in.app
    try:
        print(log.read_text())
        print(f"{app.web_url} is served locally through the router stand-in at {app.local_url}/")
        print("The README's pages:", " ".join(app.local_url + path for path in paths))
        print(f"The heroku stand-in in another shell: cd {workdir / spec.name} && PATH={workdir / 'bin'}:$PATH heroku logs")
        print("Ctrl-C stops everything.")
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0
    finally:
        stand_in.close()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
