"""HTTP with a total deadline per request, and failures sorted into our errors.

A socket timeout alone lets a server that trickles one byte a second hold a
request forever; here every read is bounded by what is left of one deadline.
Only complete bodies leave this module: fewer bytes than Content-Length, a
broken chunked encoding or a dropped connection are transient errors. A body
over its limit is refused while it is read (a format error, not retried), so
a server sending gigabytes costs no more memory than the limit.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from urllib.parse import urlsplit

from pipeline.errors import HttpStatusError, NcbiError, ResponseFormatError, TransientError
from pipeline.extract.retry import RETRY_STATUSES

_CHUNK = 65536


@dataclass(frozen=True, slots=True)
class BodyLimit:
    """The most bytes one answer may have, and the setting that says so."""

    bytes: int
    setting: str


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    headers: Message
    body: bytes
    url: str = field(repr=False)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds form; dates are rare at NCBI)."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def connection_failure(exc: BaseException, host: str | None, port: int | None) -> str:
    """What failed, naming the host: the first thing to check when the network is down."""
    where = f"{host}:{port}" if port is not None else f"{host}"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve host {host} ({exc.strerror or exc})"
    if isinstance(exc, ConnectionRefusedError):
        return f"connection to {where} refused (nothing listening there?)"
    if isinstance(exc, ConnectionResetError):
        return f"connection to {where} lost: {exc}"
    detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return f"connection to {where} failed: {type(exc).__name__}: {detail}"


class HttpTransport:
    """Sends one request and returns the whole body, or raises."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock

    def send(
        self,
        method: str,
        url: str,
        body: bytes | None,
        *,
        timeout: float,
        headers: dict[str, str] | None = None,
        limit: BodyLimit | None = None,
    ) -> HttpResponse:
        deadline = self._clock() + timeout
        parts = urlsplit(url)
        conn = self._connect(parts.scheme, parts.netloc, timeout)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        all_headers = {"Accept-Encoding": "identity", "Connection": "close", **(headers or {})}
        if body is not None:
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path or "/", body=body, headers=all_headers)
            self._bound(conn, deadline)
            resp = conn.getresponse()
            data = self._read_all(conn, resp, deadline, limit)
        except TimeoutError as exc:
            raise TransientError(f"no complete answer within {timeout:g}s") from exc
        except ssl.SSLCertVerificationError as exc:
            raise NcbiError(f"TLS certificate rejected: {exc.verify_message}") from exc
        except (http.client.HTTPException, ConnectionError, OSError) as exc:
            raise TransientError(connection_failure(exc, parts.hostname, parts.port)) from exc
        finally:
            conn.close()
        return self._check_status(resp, data, url)

    @staticmethod
    def _connect(scheme: str, netloc: str, timeout: float) -> http.client.HTTPConnection:
        if scheme == "https":
            return http.client.HTTPSConnection(netloc, timeout=timeout)
        if scheme == "http":
            return http.client.HTTPConnection(netloc, timeout=timeout)
        raise NcbiError(f"unsupported URL scheme {scheme!r}")

    def _bound(self, conn: http.client.HTTPConnection, deadline: float) -> None:
        left = deadline - self._clock()
        if left <= 0:
            raise TimeoutError("deadline passed")
        if conn.sock is not None:
            conn.sock.settimeout(left)

    def _read_all(
        self,
        conn: http.client.HTTPConnection,
        resp: http.client.HTTPResponse,
        deadline: float,
        limit: BodyLimit | None,
    ) -> bytes:
        header = resp.getheader("Content-Length")
        declared = int(header) if header is not None and header.strip().isdigit() else None
        if limit is not None and declared is not None and declared > limit.bytes:
            raise ResponseFormatError(
                f"the answer declares {declared:,} bytes, over the limit of "
                f"{limit.bytes:,} ({limit.setting}); not read"
            )
        chunks: list[bytes] = []
        size = 0
        while True:
            self._bound(conn, deadline)
            chunk = resp.read1(_CHUNK)
            if not chunk:
                break
            size += len(chunk)
            if limit is not None and size > limit.bytes:
                # Stop here: the rest is never read, so memory holds at most the limit.
                raise ResponseFormatError(
                    f"the answer passed the limit of {limit.bytes:,} bytes ({limit.setting}) "
                    f"at {size:,} bytes read; the rest was not read"
                )
            chunks.append(chunk)
        if declared is not None and size != declared:
            raise TransientError(f"truncated body: {size} of {declared} bytes")
        return b"".join(chunks)

    @staticmethod
    def _check_status(resp: http.client.HTTPResponse, data: bytes, url: str) -> HttpResponse:
        if resp.status in RETRY_STATUSES:
            raise TransientError(
                f"HTTP {resp.status}",
                retry_after=parse_retry_after(resp.getheader("Retry-After")),
            )
        if resp.status != 200:
            raise HttpStatusError(resp.status)
        return HttpResponse(resp.status, resp.headers, data, url)
