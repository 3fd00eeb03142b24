"""A WSGI app whose /held request takes 2 s: a request still in a worker when the dyno is
stopped. Used instead of the real app so these tests need no database."""

import time


def application(environ, start_response):
    if environ["PATH_INFO"] == "/held":
        print("held request started", flush=True)
        time.sleep(2)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"answered"]
