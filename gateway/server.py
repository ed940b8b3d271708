"""The gateway's HTTP server: nameko's, with a read deadline and a bounded number of connections.

Slow clients cannot stall the API: every read must progress within `read_timeout_seconds`, a body must arrive
within `body_deadline_seconds` (gateway.http.read_body), and a connection beyond `max_connections` is answered
503 at once. Production still puts a buffering reverse proxy in front (deploy/README.md).
"""

import json
import logging
from functools import partial

import eventlet
from nameko.web.server import WebServer

from gateway.settings import GatewaySettings

log = logging.getLogger(__name__)
REFUSAL_WRITE_SECONDS = 1.0
BUSY_BODY = json.dumps(
    {"error": "unavailable", "message": "The server is too busy to take this request; try again in a moment."}
).encode()
BUSY_RESPONSE = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
    b"Connection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(BUSY_BODY), BUSY_BODY)
)


class GuardedWebServer(WebServer):
    def setup(self) -> None:
        super().setup()
        self.limits = GatewaySettings()
        self.open_connections = 0

    def get_wsgi_server(self, sock, wsgi_app, **kwargs):
        server = super().get_wsgi_server(sock, wsgi_app, **kwargs)
        server.socket_timeout = self.limits.read_timeout_seconds
        server.keepalive = self.limits.keepalive_seconds
        return server

    def run(self) -> None:
        while self._is_accepting:
            sock, address = self._sock.accept()
            sock.settimeout(self._serv.socket_timeout)
            if self.open_connections >= self.limits.max_connections:
                log.warning("refused a connection: %d are open, the limit", self.open_connections)
                self.container.spawn_managed_thread(partial(refuse_busy, sock))
                continue
            self.open_connections += 1
            self.container.spawn_managed_thread(partial(self.serve_connection, sock, address))

    def serve_connection(self, sock, address) -> None:
        try:
            self.process_request(sock, address)
        finally:
            self.open_connections -= 1


def refuse_busy(sock) -> None:
    try:
        with eventlet.Timeout(REFUSAL_WRITE_SECONDS):
            sock.sendall(BUSY_RESPONSE)
    except (OSError, eventlet.Timeout):
        pass
    finally:
        sock.close()
