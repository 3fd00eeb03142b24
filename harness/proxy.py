"""TCP proxies the suite owns, to fail a dependency without touching the shared server.

`TcpProxy.cut()` resets every open connection and then accepts new ones without ever
forwarding a byte: the worst kind of outage, a database that hangs. `restore()` forwards
again. `TlsProxy` terminates TLS with a self-signed certificate in front of Redis, as
Heroku's Key-Value Store does for `rediss://` URLs.
"""

from __future__ import annotations

import datetime
import socket
import ssl
import struct
import tempfile
import threading

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def _reset(sock: socket.socket) -> None:
    """Close with RST rather than FIN, as a dropped network path looks to the peer.

    shutdown() first: close() alone leaves the connection open while another thread is
    blocked reading it, and a client that waits for the server to hang up would wait forever.
    """
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


class TcpProxy:
    def __init__(self, target_port: int, target_host: str = "127.0.0.1"):
        self.target = (target_host, target_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.forwarding = True
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _wrap_client(self, client: socket.socket) -> socket.socket:
        return client

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with self._lock:
                self._open.add(client)
                forwarding = self.forwarding
            if forwarding:
                threading.Thread(target=self._connect, args=(client,), daemon=True).start()
            # else: held open, never answered, until restore() or close() resets it

    def _connect(self, client: socket.socket) -> None:
        try:
            client = self._wrap_client(client)
            upstream = socket.create_connection(self.target, timeout=5)
            upstream.settimeout(None)
        except OSError:
            self._drop(client)
            return
        with self._lock:
            self._open.add(upstream)
            self._open.add(client)
        threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()
        threading.Thread(target=self._pump, args=(upstream, client), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        self._drop(source)
        self._drop(sink)

    def _drop(self, sock: socket.socket) -> None:
        with self._lock:
            self._open.discard(sock)
        _reset(sock)

    def _reset_all(self) -> None:
        with self._lock:
            doomed, self._open = self._open, set()
        for sock in doomed:
            _reset(sock)

    def cut(self) -> None:
        with self._lock:
            self.forwarding = False
        self._reset_all()

    def restore(self) -> None:
        with self._lock:
            self.forwarding = True
        self._reset_all()  # the hung ones: their owners should retry on a fresh connection

    def close(self) -> None:
        self._closed = True
        self.listener.close()
        self._reset_all()


def self_signed_context() -> ssl.SSLContext:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "redis.example")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    with tempfile.NamedTemporaryFile("wb", suffix=".pem") as pem:
        pem.write(cert.public_bytes(serialization.Encoding.PEM))
        pem.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        pem.flush()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(pem.name)
    return context


class TlsProxy(TcpProxy):
    """TLS on the outside, plain TCP to the target: a `rediss://` endpoint for a local Redis."""

    def __init__(self, target_port: int, target_host: str = "127.0.0.1"):
        self.context = self_signed_context()
        self.handshakes = 0  # TLS sessions completed: proof a client really came through
        super().__init__(target_port, target_host)

    def _wrap_client(self, client: socket.socket) -> socket.socket:
        client.settimeout(5)
        wrapped = self.context.wrap_socket(client, server_side=True)
        wrapped.settimeout(None)
        self.handshakes += 1
        return wrapped
