"""The HTTP endpoint of `ck worker` and `ck relay`: /metrics, /healthz and /readyz on
`CK_METRICS_HOST:CK_METRICS_PORT` (off unless the port is set).

A standard-library threading server in daemon threads, not faust's web server (disabled in
stream/app.py): probes and scrapes then never wait on the event loop they are meant to watch, and
the checks' blocking calls (database, Kafka admin) never run on it.
"""

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import REGISTRY

from pipeline.observability.health import Health
from pipeline.observability.metrics import exposition

log = logging.getLogger(__name__)


def _handler(health: Health) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server name
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                body, content_type = exposition(self.headers.get("Accept"), REGISTRY)
                return self._send(200, body, content_type)
            if path in ("/healthz", "/readyz"):
                ok, answer = health.live() if path == "/healthz" else health.ready()
                return self._send(200 if ok else 503, json.dumps(answer).encode(), "application/json")
            self._send(404, b'{"detail": "not found: try /metrics, /healthz or /readyz"}', "application/json")

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args) -> None:  # probes every few seconds: keep them quiet
            log.debug("%s %s", self.address_string(), format % args)

    return Handler


class HealthServer:
    def __init__(self, host: str, port: int, health: Health):
        self.httpd = ThreadingHTTPServer((host, port), _handler(health))
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="ck-health", daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "HealthServer":
        self.thread.start()
        log.info("metrics and health at %s (/metrics /healthz /readyz)", self.url)
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
