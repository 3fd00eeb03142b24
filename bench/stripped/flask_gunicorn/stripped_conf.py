# flask_gunicorn's own gunicorn.conf.py (workers, gthread threads, keepalive, preload...),
# without its access log, as TechEmpower runs Flask; BENCH_FEATURE="access log" keeps it.
import os
import sys
from pathlib import Path
from runpy import run_path

APP = Path(__file__).resolve().parents[3] / "flask_gunicorn"
sys.path.insert(0, str(APP))  # votr, for the settings and the features app.py turns on
globals().update({k: v for k, v in run_path(str(APP / "gunicorn.conf.py")).items() if not k.startswith("__")})
if os.environ.get("BENCH_FEATURE") != "access log":
    accesslog = None
