"""amqps:// as servicekit connects: the broker's certificate must come from the configured CA and name the host.

A TLS server of the test's own stands for the broker (the local RabbitMQ has no TLS listener): the handshake is what
is checked; the AMQP conversation after it is not.
"""

import socket
import ssl
import subprocess
import threading

import pytest
from kombu import Connection

from servicekit.settings import BusSettings


def make_certificates(directory) -> dict[str, str]:
    """A CA, a server certificate for this machine's loopback signed by it, and another CA that signed nothing."""
    paths = {name: str(directory / name) for name in ("ca.key", "ca.pem", "other.key", "other.pem", "server.key")}
    paths |= {"server.csr": str(directory / "server.csr"), "server.pem": str(directory / "server.pem")}
    ext = directory / "ext.cnf"
    ext.write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")  # kombu connects to localhost as 127.0.0.1

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    for ca in ("ca", "other"):
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", f"/CN=test {ca}",
                "-keyout", paths[f"{ca}.key"], "-out", paths[f"{ca}.pem"])  # fmt: skip
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
            "-keyout", paths["server.key"], "-out", paths["server.csr"])  # fmt: skip
    openssl("x509", "-req", "-in", paths["server.csr"], "-CA", paths["ca.pem"], "-CAkey", paths["ca.key"],
            "-CAcreateserial", "-days", "1", "-extfile", str(ext), "-out", paths["server.pem"])  # fmt: skip
    return paths


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    """Completes TLS handshakes on a local port, then closes; yields (port, certificate paths)."""
    paths = make_certificates(tmp_path_factory.mktemp("tls"))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(paths["server.pem"], paths["server.key"])
    listener = socket.create_server(("0.0.0.0", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                with context.wrap_socket(client, server_side=True):
                    pass
            except (OSError, ssl.SSLError):
                pass

    threading.Thread(target=serve, daemon=True).start()
    yield port, paths
    listener.close()


def connect(uri: str, ca_certs: str) -> None:
    bus = BusSettings(amqp_uri=uri, amqp_ca_certs=ca_certs)
    with Connection(bus.amqp_uri, ssl=bus.ssl_options(), connect_timeout=5) as connection:
        connection.connect()


def test_the_broker_s_certificate_from_the_configured_ca_and_for_its_host_passes_the_handshake(tls_server):
    port, paths = tls_server
    with pytest.raises(Exception) as raised:
        connect(f"amqps://registry:secret@localhost:{port}/", paths["ca.pem"])
    # Past TLS: the stand-in broker then closes instead of speaking AMQP.
    assert not isinstance(raised.value, ssl.SSLError), raised.value


def test_a_certificate_from_another_ca_is_refused(tls_server):
    port, paths = tls_server
    with pytest.raises(ssl.SSLCertVerificationError, match="certificate verify failed"):
        connect(f"amqps://registry:secret@localhost:{port}/", paths["other.pem"])


def test_a_certificate_for_another_host_name_is_refused(tls_server):
    """This machine's name reaches the same server, whose certificate names only its loopback."""
    port, paths = tls_server
    with pytest.raises(ssl.SSLCertVerificationError, match="mismatch"):
        connect(f"amqps://registry:secret@{socket.gethostname()}:{port}/", paths["ca.pem"])
