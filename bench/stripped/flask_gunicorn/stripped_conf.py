# Same server and worker model as flask_gunicorn's gunicorn.conf.py (gthread, one thread
# per pooled connection, preload), with every log line off.
import os

workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = max(1, (int(os.environ.get("DATABASE_CONNECTION_LIMIT", "20")) - 4) // workers)
bind = [f"[::]:{os.environ['PORT']}"]
preload_app = True
keepalive = 95
control_socket_disable = True
accesslog = None
errorlog = "-"
loglevel = "warning"
