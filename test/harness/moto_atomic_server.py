"""moto's S3 server with conditional writes made atomic, for the test suites.

moto checks `If-None-Match` / `If-Match` and then writes the object, with no lock between the
two, on a threaded server: under load two concurrent conditional PUTs of one key can both
succeed (seen here: two writers both won Delta version 134 of a table). Real S3, MinIO and R2
decide a conditional write atomically, and that is the guarantee the Delta log's put-if-absent
commits rest on. Serialising conditional requests restores it; every other request stays
concurrent. Run as `python moto_atomic_server.py -H 127.0.0.1 -p PORT` (moto.server's flags).
"""
import sys
import threading

import moto.server as server

_conditional = threading.Lock()
_run_simple = server.run_simple


def _atomic_conditional_writes(app):
    def wrapped(environ, start_response):
        if environ.get("HTTP_IF_NONE_MATCH") or environ.get("HTTP_IF_MATCH"):
            with _conditional:
                # Consume the whole response inside the lock: the write happens while it is built.
                return list(app(environ, start_response))
        return app(environ, start_response)

    return wrapped


def _run_simple_atomic(host, port, app, **kwargs):
    return _run_simple(host, port, _atomic_conditional_writes(app), **kwargs)


server.run_simple = _run_simple_atomic

if __name__ == "__main__":
    server.main(sys.argv[1:])
