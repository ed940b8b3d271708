"""Real receivers for messaging's tests and benchmark: an SMTP server (aiosmtpd, in a process of its own,
storing every e-mail in a Maildir) and an HTTP server that receives webhooks (or answers 500)."""

import json
import mailbox
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


ROOT = Path(__file__).resolve().parents[1]


class RawMaildir:
    """An aiosmtpd handler that stores each e-mail as received, as a file of a Maildir's `new/` folder (aiosmtpd's
    own Mailbox handler parses and re-writes each one, which made the server the slowest part of a benchmark)."""

    def __init__(self, folder: str):
        self.new = Path(folder) / "new"
        for name in ("new", "cur", "tmp"):
            (Path(folder) / name).mkdir(parents=True, exist_ok=True)
        self.count = 0

    @classmethod
    def from_cli(cls, parser, *args):
        """How `python -m aiosmtpd -c tests.messaging_servers.RawMaildir FOLDER` makes it."""
        return cls(*args)

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        name = f"{time.time():.6f}.{self.count}.smtp"
        partial = self.new.parent / "tmp" / name
        partial.write_bytes(envelope.original_content)
        partial.rename(self.new / name)
        return "250 OK"


class SmtpServer:
    """`python -m aiosmtpd` with the RawMaildir handler: every e-mail received is a file of the Maildir."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "SmtpServer":
        self.process = subprocess.Popen(
            [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{self.port}",
             "-c", "tests.messaging_servers.RawMaildir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the SMTP server did not start")

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        self.process.wait(10)

    def messages(self) -> list:
        if not (self.folder / "new").exists():
            return []
        return list(mailbox.Maildir(self.folder, create=False))

    def count(self) -> int:
        new = self.folder / "new"
        return len(list(new.iterdir())) if new.exists() else 0


class _Server(ThreadingHTTPServer):
    # The default listen backlog of 5 overflowed when two messaging processes posted a batch of webhooks at once:
    # the kernel answered with SYN cookies and lost some of the requests ("Remote end closed connection without
    # response"), so the receiver counted fewer requests than the senders had made.
    request_queue_size = 128


class WebhookReceiver:
    """Keeps every request (headers and body); answers `status` (200 by default)."""

    def __init__(self, status: int = 200):
        self.status = status
        self.received: list[tuple[dict, bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(receiver.status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/diasporahub"

    def __enter__(self) -> "WebhookReceiver":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def payloads(self) -> list[dict]:
        return [json.loads(body) for _, body in self.received]
