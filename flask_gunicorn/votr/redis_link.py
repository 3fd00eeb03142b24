"""Redis connection options shared by /health and the Celery broker."""

import ssl

import redis

# Heroku Key-Value Store serves rediss:// with a self-signed certificate, so
# verification is off for TLS URLs only; redis:// stays plain.
UNVERIFIED_TLS = {"ssl_cert_reqs": ssl.CERT_NONE}
# /health must answer within 2 s even when Redis hangs.
PING_TIMEOUT = 0.5


def tls_options(url: str) -> dict | None:
    return dict(UNVERIFIED_TLS) if url.startswith("rediss://") else None


def ping(url: str) -> None:
    client = redis.Redis.from_url(
        url,
        socket_connect_timeout=PING_TIMEOUT,
        socket_timeout=PING_TIMEOUT,
        **(tls_options(url) or {}),
    )
    try:
        client.ping()
    finally:
        client.close()
