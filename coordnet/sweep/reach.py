"""A bounded check that a Ray cluster's address answers, before ``ray.init`` waits on it.

``ray.init(address="host:port")`` retries an address nobody listens on for many minutes.
:func:`probe_ray_address` first opens a TCP connection to the cluster's bootstrap port (the
GCS, or the Ray Client server for ``ray://`` addresses) and checks that a gRPC (HTTP/2)
server answers there, each step with a timeout, so that a wrong or dead address is a
one-line error within about :data:`PROBE_SECONDS`.
"""

from __future__ import annotations

import os
import socket
from typing import Optional, Tuple

PROBE_SECONDS = 10.0
RAY_CLIENT_PORT = 10001  # default port of ``ray://`` addresses


class RayUnreachableError(RuntimeError):
    """The Ray address given cannot be reached (one line: the address, the endpoint, why)."""


def split_address(address: str, default_port: Optional[int] = None) -> Tuple[str, int]:
    """``"host:port"`` (IPv6 as ``"[::1]:port"``) -> ``(host, port)``; ``ValueError`` naming the
    address when it has no valid port (and ``default_port`` is ``None``)."""
    text = address.strip()
    if text.startswith("["):  # [IPv6]:port
        host, _, rest = text[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    else:
        host, port_text = text, ""
    if not port_text:
        if default_port is None:
            raise ValueError(f"--ray {address!r}: expected HOST:PORT, 'auto' or ray://HOST[:PORT]")
        return host, default_port
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"--ray {address!r}: port {port_text!r} is not a TCP port (1-65535)")
    return host or "127.0.0.1", int(port_text)


def bootstrap_endpoint(address: str) -> Optional[Tuple[str, int]]:
    """The ``(host, port)`` that ``ray.init(address)`` would connect to first, or ``None`` when
    Ray would start or find a local instance by itself (``"local"``, or ``"auto"`` with no
    cluster recorded: Ray then fails quickly on its own)."""
    if address.startswith("ray://"):
        return split_address(address[len("ray://") :].split("/", 1)[0], RAY_CLIENT_PORT)
    if address == "local":
        return None
    if address == "auto":
        address = os.environ.get("RAY_ADDRESS", "") or _recorded_cluster()
        if not address or address in ("auto", "local"):
            return None
        return bootstrap_endpoint(address)
    return split_address(address)


def _recorded_cluster() -> str:
    """The address of the cluster last started on this node (``ray start``), as Ray records it."""
    try:
        from ray._private.services import canonicalize_bootstrap_address  # private: guarded

        return canonicalize_bootstrap_address("auto") or ""
    except Exception:  # no cluster recorded (ConnectionError), or Ray's internals moved
        return ""


HTTP2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
EMPTY_SETTINGS = (
    b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"  # length 0, type SETTINGS, no flags, stream 0
)
SETTINGS_FRAME_TYPE = 0x04


def speaks_http2(connection: socket.socket) -> bool:
    """Whether the peer of ``connection`` answers an HTTP/2 client preface with a SETTINGS frame,
    as every gRPC server (Ray's GCS, the Ray Client server) does (RFC 9113, section 3.4)."""
    connection.sendall(HTTP2_PREFACE + EMPTY_SETTINGS)
    header = b""
    while len(header) < 9:
        chunk = connection.recv(9 - len(header))
        if not chunk:
            return False
        header += chunk
    return header[3] == SETTINGS_FRAME_TYPE


def probe_ray_address(address: str, timeout: float = PROBE_SECONDS) -> None:
    """Return if ``address`` (as ``--ray`` takes it) answers a TCP connection within ``timeout``
    seconds, or needs no connection; else raise :class:`RayUnreachableError` naming it."""
    endpoint = bootstrap_endpoint(address)
    if endpoint is None:
        return
    host, port = endpoint
    try:
        with socket.create_connection((host, port), timeout=timeout) as connection:
            if speaks_http2(connection):
                return
            why = "something listens there but does not answer as a gRPC server"
    except socket.timeout:
        why = f"no answer within {timeout:g} s"
    except OSError as error:
        why = error.strerror or str(error) or type(error).__name__
    raise RayUnreachableError(
        f"--ray {address}: cannot reach a Ray cluster at {host}:{port} ({why}); "
        "is the cluster running (ray start --head) and the address right?"
    )
