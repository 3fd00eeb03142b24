# gunicorn settings for Heroku, each with its reason. The buildpack also exports
# GUNICORN_CMD_ARGS='--access-logfile -' and FORWARDED_ALLOW_IPS='*' on every dyno.
# https://docs.gunicorn.org/en/stable/settings.html

import os

from votr.config import load as load_settings

# Fail in the master, before any worker forks, with one line (production without
# SECRET_KEY, a budget that cannot hold): no worker boot loop, no traceback.
settings = load_settings()

# "[::]" is IPv6 and, with the kernel's default bindv6only=0, IPv4 too: Fir dynos
# are IPv6, Cedar and local tools IPv4.
bind = [f"[::]:{os.environ.get('PORT', '5000')}"]
# Heroku sets WEB_CONCURRENCY from the dyno size (2 on the small dynos).
workers = settings.web_concurrency
# Threads: requests wait on Postgres and Redis, not the CPU. One per pooled
# connection, so none queues for one: (20 - 1 Celery - 2 release and psql) // 2
# workers = 8 (votr/config.py). A thread stays with a connection until its request
# is read, so clients that trickle bytes hold threads: gunicorn's docs ask for a
# buffering proxy in front; the shared suite prints the cost (slow_*_answered_of_9). On 2 shared cores
# at c=256, 2 workers x 8 threads beat 2 x 4 on /json in two interleaved runs (2 x 4
# gave 0.44 and 0.68 of it), 3 x 5 and 4 x 4 did no better (0.46; 0.55 and 0.87);
# on /db the runs were within their noise.
worker_class = "gthread"
threads = settings.connections_per_web_process
# Request lines up to 8190 bytes (gunicorn's maximum; default 4094) reach Flask,
# which answers JSON; longer ones, over 100 header fields or a field over 8190
# bytes get gunicorn's own HTML 414/431/400 before Flask.
limit_request_line = 8190

# gunicorn 25+ opens a control socket at one path per user; nothing on a dyno uses it.
control_socket_disable = True
# Build the app once and fork it (faster boot); creating it opens no connection.
preload_app = True
# The router keeps idle connections 90 s; closing first would race a request it
# is already sending. 95 > 90, so the router always closes first.
keepalive = 95
# A worker silent this long is killed; the router gives up on a request at 30 s.
timeout = 25
# Heroku sends SIGTERM, then SIGKILL 30 s later: requests in flight get 20 s.
graceful_timeout = 20
# Access log on stdout, where Logplex reads it (the articles' `--log-file -` set the
# error log instead), with the router's request id to match the router's own log line.
accesslog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(M)sms request_id=%({x-request-id}i)s'
