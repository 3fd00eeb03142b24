# gunicorn settings for Heroku. Each line says why, and the number behind it.
# Heroku's Python buildpack also exports GUNICORN_CMD_ARGS='--access-logfile -'
# and FORWARDED_ALLOW_IPS='*' on every dyno; the command line wins over this file.
# https://docs.gunicorn.org/en/stable/settings.html

import os

from votr.config import load as load_settings

# Fail in the master, before any worker forks, with one line (production without
# SECRET_KEY, a budget that cannot hold): no worker boot loop, no traceback.
settings = load_settings()

# Heroku routes to $PORT. "[::]" listens on IPv6 and, with the kernel's default
# bindv6only=0, IPv4 too: Fir dynos are IPv6, Cedar and local tools use IPv4.
bind = [f"[::]:{os.environ.get('PORT', '5000')}"]

# Heroku sets WEB_CONCURRENCY from the dyno's memory (2 on the small dynos).
workers = settings.web_concurrency

# Threads: the app waits on Postgres and Redis, not on the CPU, and gthread lets
# one process serve several such requests at once.
worker_class = "gthread"
# One thread per pooled database connection: the pool is the process's share
# of the plan's limit, (20 - 1 Celery worker - 2 release and psql) // 2 workers
# = 8, so a thread never queues for a connection (see votr/config.py). At
# WEB_CONCURRENCY=17 that is 1 each; beyond it the app refuses to start.
threads = settings.connections_per_web_process

# A gthread thread reads a whole request before it serves another, so clients
# that trickle bytes hold threads: gunicorn's docs ask for a buffering proxy in
# front of it. Heroku's router does not buffer request bodies; the README gives
# the measured cost. gunicorn's default limit_request_line (4094 bytes),
# limit_request_fields (100) and limit_request_field_size (8190 bytes) answer
# with its own HTML 414/431/400 pages before Flask sees the request.

# gunicorn 25+ opens a control socket at one fixed path per user: two servers on
# one machine would fight over it, and nothing on a dyno talks to it.
control_socket_disable = True

# Build the app once in the master and fork it: faster boot, shared memory.
# Safe because creating the app opens no connection and starts no thread.
preload_app = True

# Heroku's router keeps idle client connections for 90 s; a server that closes
# first races a request the router is already sending on that connection.
# 95 > 90, so the router always closes first.
keepalive = 95

# gthread: a worker silent this long is killed. Heroku's router gives up on a
# request after 30 s anyway, so a worker stuck for 25 s is lost.
timeout = 25

# Heroku sends SIGTERM to every process of the dyno and SIGKILL 30 s later.
# Workers finish their in-flight requests for up to 20 s, well inside 30.
graceful_timeout = 20

# Access log on stdout: Heroku's Logplex collects stdout and stderr only.
# (The articles' `--log-file -` set the error log, which goes to stderr anyway.)
accesslog = "-"
access_log_format = (
    'method=%(m)s path="%(U)s" status=%(s)s duration=%(M)sms '
    'request_id=%({x-request-id}i)s fwd="%({x-forwarded-for}i)s"'
)
