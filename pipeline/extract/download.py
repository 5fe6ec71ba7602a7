"""Download NCBI bulk files (PubMed baseline and updates, MedGen) resumably, verified by md5.

These are plain files on https://ftp.ncbi.nlm.nih.gov/, not E-utilities, so no Bio.Entrez:
``http.client`` directly, one connection at a time, each request behind the rate limiter and
retried by the project's one policy (429, 5xx, resets, stalls and cut bodies are transient).

Per file::

    GET <path>.md5  ->  local file already matches?  skip (no other request)
    GET <path> into <name>.part, resuming what it holds with "Range: bytes=N-"
    md5 of <name>.part == published?  fsync, os.replace -> <name>    (atomic: never half a file)
    mismatch: delete the .part, fetch the .md5 again (NCBI may have replaced the file between
              our two requests) and download once more from zero; a second mismatch fails.

Checksum files: NCBI writes ``MD5(pubmed26n0001.xml.gz)= <hex>`` (as in the PubMed samples
under ../shared/ncbi-samples/bulk); ``<hex>  <name>`` (md5sum) and a bare ``<hex>`` are
accepted too. ``pub/medgen/`` may publish no ``.md5`` at all: ``require_md5=False`` then
downloads unverified (and, unable to tell last week's file from this week's, fetches again).

Timeouts: a read that waits ``idle_timeout`` seconds for a byte fails (a stalled connection);
there is no total deadline, because a file may be hundreds of megabytes.

Resuming: a ``206`` must start where the ``.part`` ends; a ``200`` answer to a Range request is
the whole file and restarts it from zero; a ``416`` with the ``.part`` already at full size
means only the rename was missing.

No printing: progress goes to an optional ``on_progress(name, done, total)`` callback.
"""

from __future__ import annotations

import hashlib
import html
import http.client
import os
import re
import ssl
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal
from urllib.parse import quote, unquote, urlsplit

from pipeline import __version__
from pipeline.errors import (
    DownloadError,
    HttpStatusError,
    NcbiError,
    ResponseFormatError,
    TransientError,
    UsageError,
)
from pipeline.extract.ratelimit import Limiter, RateLimiter
from pipeline.extract.retry import RETRY_STATUSES, RetryPolicy, run_with_retry
from pipeline.extract.transport import HttpTransport, connection_failure, parse_retry_after

DEFAULT_BASE_URL = "https://ftp.ncbi.nlm.nih.gov/"
DEFAULT_IDLE_TIMEOUT = 60.0
# NCBI asks for no more than 3 requests a second; whole files make that moot, but index pages
# and .md5 files are small.
DEFAULT_RATE = 3.0
CHUNK = 1 << 20

ProgressCallback = Callable[[str, int, int | None], None]  # file name, bytes done, total
RetryCallback = Callable[[int, BaseException, float], None]  # attempt, error, wait

_MD5_NCBI = re.compile(r"MD5\s*\((?P<name>[^)]*)\)\s*=\s*(?P<hex>[0-9a-fA-F]{32})\s*")
_MD5_SUM = re.compile(r"(?P<hex>[0-9a-fA-F]{32})(?:\s+\*?(?P<name>.+?))?\s*")
_HREF = re.compile(r"""\bhref\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")
_UNSATISFIED_RANGE = re.compile(r"bytes\s+\*/(\d+)")


@dataclass(frozen=True, slots=True)
class DownloadResult:
    remote_path: str
    path: Path
    outcome: Literal["downloaded", "skipped"]
    md5: str | None  # the verified digest; None when no .md5 was published (require_md5=False)
    bytes_transferred: int  # body bytes received by this call, retries included
    resumed_from: int  # bytes a .part held when this call began (0: a fresh start)


# ---------------------------------------------------------------- pure helpers


def parse_md5(text: str, name: str, *, source: str = "md5 file") -> str:
    """The lower-case hex digest for ``name`` in an NCBI or md5sum checksum file."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in lines:
        match = _MD5_NCBI.fullmatch(line) or _MD5_SUM.fullmatch(line)
        if match is None:
            continue
        named = match.group("name")
        if named is None or Path(named.strip()).name == name:
            return match.group("hex").lower()
    shown = lines[0][:120] if lines else ""
    raise ResponseFormatError(f"{source}: no md5 for {name} in {shown!r}")


def parse_index(page: str) -> tuple[str, ...]:
    """File names linked from an Apache/nginx directory listing, sorted and distinct.

    Parent and sort links (``../``, ``?C=N;O=D``), subdirectories, absolute links and links
    into other directories are not files of this directory and are left out.
    """
    names = set()
    for double, single in _HREF.findall(page):
        href = html.unescape(double or single)
        if not href or href[0] in "?#/" or "://" in href or href.endswith("/"):
            continue
        name = unquote(href.split("?", 1)[0].split("#", 1)[0])
        if name and "/" not in name and name not in (".", ".."):
            names.add(name)
    return tuple(sorted(names))


def select(names: Iterable[str], pattern: str) -> tuple[str, ...]:
    """The names the whole of ``pattern`` matches (so ``.xml.gz`` leaves out ``.xml.gz.md5``)."""
    try:
        regex = re.compile(pattern)
    except re.error as exc:
        raise UsageError(f"bad file pattern {pattern!r}: {exc}") from exc
    return tuple(n for n in names if regex.fullmatch(n))


def file_name(remote_path: str) -> str:
    """The local name of a remote file path, refusing paths that are not plain relative ones."""
    parts = remote_path.split("/")
    if (
        not remote_path.strip()
        or "://" in remote_path
        or "\\" in remote_path
        or any(p in (".", "..") for p in parts)
        or not parts[-1]
    ):
        raise UsageError(
            f"remote path {remote_path!r} must be a file path under the base URL, "
            "e.g. pubmed/baseline/pubmed26n0001.xml.gz"
        )
    return parts[-1]


def remote_url(base_url: str, remote_path: str) -> str:
    scheme = urlsplit(base_url).scheme
    if scheme not in ("http", "https"):
        raise UsageError(f"base URL {base_url!r} must start with https:// (or http://)")
    return base_url.rstrip("/") + "/" + quote(remote_path.lstrip("/"))


def file_md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    try:
        with path.open("rb") as f:
            while chunk := f.read(CHUNK):
                digest.update(chunk)
    except OSError as exc:
        raise DownloadError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return digest.hexdigest()


# ---------------------------------------------------------------- the downloader


@dataclass(slots=True)
class _Counter:  # mutable on purpose: bytes received across the attempts of one file
    received: int = 0


class Downloader:
    """Fetches files under ``base_url`` into a directory, one connection at a time."""

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        *,
        policy: RetryPolicy,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
        limiter: Limiter | None = None,
        require_md5: bool = True,
        on_progress: ProgressCallback | None = None,
        on_retry: RetryCallback | None = None,
        sleep: Callable[[float], None] | None = None,
        chunk_size: int = CHUNK,
    ) -> None:
        remote_url(base_url, "")  # refuse a bad base URL before any request
        self._base = base_url
        self._idle = idle_timeout
        self._policy = policy
        self._limiter = limiter or RateLimiter(DEFAULT_RATE)
        self._require_md5 = require_md5
        self._on_progress = on_progress
        self._on_retry = on_retry
        self._sleep = sleep
        self._chunk = chunk_size
        self._small = HttpTransport()

    # -- listing

    def list_directory(self, remote_dir: str, pattern: str) -> tuple[str, ...]:
        """Remote paths of the files in ``remote_dir`` whose names fully match ``pattern``."""
        directory = remote_dir.strip("/") + "/"
        file_name(directory + "x")  # the same path rules as for files
        page = self._get_small(remote_url(self._base, directory))
        names = select(parse_index(page.decode("utf-8", "replace")), pattern)
        return tuple(directory + n for n in names)

    # -- downloading

    def fetch_all(self, remote_paths: Iterable[str], dest_dir: Path) -> tuple[DownloadResult, ...]:
        """Each file in turn; the first failure stops (a rerun skips what already landed)."""
        return tuple(self.fetch(p, dest_dir) for p in remote_paths)

    def fetch(self, remote_path: str, dest_dir: Path) -> DownloadResult:
        name = file_name(remote_path)
        url = remote_url(self._base, remote_path)
        final, part = dest_dir / name, dest_dir / f"{name}.part"
        _make_dir(dest_dir)
        expected = self._expected_md5(url, name)
        if expected is not None and final.is_file() and file_md5(final) == expected:
            _remove(part)  # a leftover of an older version would only be resumed wrongly
            return DownloadResult(remote_path, final, "skipped", expected, 0, 0)
        resumed_from, counter = _size(part), _Counter()
        actual = self._download_verified(url, name, part, expected, counter)
        _publish(part, final)
        return DownloadResult(
            remote_path, final, "downloaded", actual, counter.received, resumed_from
        )

    def _download_verified(
        self, url: str, name: str, part: Path, expected: str | None, counter: _Counter
    ) -> str | None:
        """Download into ``part`` until its md5 is the published one (at most twice)."""
        actual = None
        for attempt in (1, 2):
            self._download(url, name, part, counter)
            if expected is None:
                return None
            actual = file_md5(part)
            if actual == expected:
                return actual
            _remove(part)
            if attempt == 1:
                # NCBI may have replaced the file between our two requests: ask again.
                expected = self._expected_md5(url, name)
        raise ResponseFormatError(
            f"{name}: md5 mismatch: the .md5 file says {expected}, the download has {actual} "
            "(downloaded twice from zero; the .part was deleted)",
            request=url,
        )

    def _download(self, url: str, name: str, part: Path, counter: _Counter) -> None:
        run_with_retry(
            lambda: self._attempt(url, name, part, counter),
            self._policy,
            describe=f"GET {url}",
            sleep=self._sleep,
            on_retry=self._on_retry,
        )

    def _attempt(self, url: str, name: str, part: Path, counter: _Counter) -> None:
        """One GET into ``part``, resuming what it holds; raises TransientError to retry."""
        offset = _size(part)
        headers = {"Range": f"bytes={offset}-"} if offset else {}
        self._limiter.acquire()
        conn = _connection(url, self._idle)
        try:
            resp = _request(conn, url, headers)
            plan = _plan(resp, offset, part, url)
            if plan is not None:
                mode, start, total = plan
                self._copy(resp, part, mode, start, total, name, counter)
        except TimeoutError as exc:
            raise TransientError(f"no data for {self._idle:g}s", request=url) from exc
        except ssl.SSLCertVerificationError as exc:
            raise NcbiError(f"TLS certificate rejected: {exc.verify_message}", request=url) from exc
        except (http.client.HTTPException, OSError) as exc:
            parts = urlsplit(url)
            reason = connection_failure(exc, parts.hostname, parts.port)
            raise TransientError(reason, request=url) from exc
        finally:
            conn.close()

    def _copy(
        self,
        resp: http.client.HTTPResponse,
        part: Path,
        mode: Literal["ab", "wb"],
        start: int,
        total: int | None,
        name: str,
        counter: _Counter,
    ) -> None:
        """Stream the body into ``part`` chunk by chunk; a short body is transient."""
        declared = _int_header(resp, "Content-Length")
        received = 0
        with _open_part(part, mode) as f:
            while chunk := resp.read1(self._chunk):
                _write(f, chunk, part)
                received += len(chunk)
                counter.received += len(chunk)
                if self._on_progress is not None:
                    self._on_progress(name, start + received, total)
        if declared is not None and received < declared:
            raise TransientError(f"connection closed after {received} of {declared} bytes")

    # -- small files: .md5 and index pages

    def _expected_md5(self, url: str, name: str) -> str | None:
        try:
            body = self._get_small(url + ".md5")
        except HttpStatusError as exc:
            if exc.status != 404:
                raise
            if not self._require_md5:
                return None
            raise NcbiError(
                f"{name}: NCBI publishes no checksum ({url}.md5: HTTP 404); "
                "allow unverified downloads to fetch it anyway"
            ) from exc
        return parse_md5(body.decode("ascii", "replace"), name, source=f"{url}.md5")

    def _get_small(self, url: str) -> bytes:
        def attempt() -> bytes:
            self._limiter.acquire()
            return self._small.send("GET", url, None, timeout=self._idle, headers=_HEADERS).body

        try:
            return run_with_retry(
                attempt,
                self._policy,
                describe=f"GET {url}",
                sleep=self._sleep,
                on_retry=self._on_retry,
            )
        except NcbiError as exc:
            exc.request = exc.request or url
            raise


# ---------------------------------------------------------------- HTTP details

_HEADERS = {"User-Agent": f"medgen-etl/{__version__}"}


def _connection(url: str, idle_timeout: float) -> http.client.HTTPConnection:
    # The socket timeout bounds each connect and each read: an idle timeout, not a deadline.
    parts = urlsplit(url)
    if parts.scheme == "https":
        return http.client.HTTPSConnection(parts.netloc, timeout=idle_timeout)
    return http.client.HTTPConnection(parts.netloc, timeout=idle_timeout)


def _request(
    conn: http.client.HTTPConnection, url: str, headers: dict[str, str]
) -> http.client.HTTPResponse:
    parts = urlsplit(url)
    all_headers = {**_HEADERS, "Accept-Encoding": "identity", "Connection": "close", **headers}
    conn.request("GET", parts.path or "/", headers=all_headers)
    return conn.getresponse()


def _plan(
    resp: http.client.HTTPResponse, offset: int, part: Path, url: str
) -> tuple[Literal["ab", "wb"], int, int | None] | None:
    """How to write this answer: (file mode, first byte, total size), or None if complete."""
    status = resp.status
    if status == 200:  # the whole file, even when we asked for a range: start over
        return "wb", 0, _int_header(resp, "Content-Length")
    if status == 206:
        match = _CONTENT_RANGE.fullmatch((resp.getheader("Content-Range") or "").strip())
        if match is None or int(match.group(1)) != offset:
            _remove(part)
            raise TransientError(
                f"asked for bytes from {offset}, got Content-Range "
                f"{resp.getheader('Content-Range')!r}; restarting from zero",
                request=url,
            )
        total = match.group(3)
        return "ab", offset, None if total == "*" else int(total)
    if status == 416:
        match = _UNSATISFIED_RANGE.fullmatch((resp.getheader("Content-Range") or "").strip())
        if match is not None and offset > 0 and int(match.group(1)) == offset:
            return None  # the .part already holds the whole file
        _remove(part)
        raise TransientError(f"range from {offset} not satisfiable; restarting", request=url)
    if status in RETRY_STATUSES:
        retry_after = parse_retry_after(resp.getheader("Retry-After"))
        raise TransientError(f"HTTP {status}", request=url, retry_after=retry_after)
    raise HttpStatusError(status, request=url)


def _int_header(resp: http.client.HTTPResponse, name: str) -> int | None:
    value = (resp.getheader(name) or "").strip()
    return int(value) if value.isascii() and value.isdigit() else None


# ---------------------------------------------------------------- local files


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0
    except OSError as exc:
        raise DownloadError(f"cannot read {path}: {exc.strerror or exc}") from exc


def _make_dir(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DownloadError(f"cannot create {path}: {exc.strerror or exc}") from exc


def _open_part(path: Path, mode: Literal["ab", "wb"]) -> BinaryIO:
    try:
        return path.open(mode)
    except OSError as exc:
        raise DownloadError(f"cannot write {path}: {exc.strerror or exc}") from exc


def _write(f: BinaryIO, chunk: bytes, path: Path) -> None:
    # Disk errors must not look like network errors: they are not worth a retry.
    try:
        f.write(chunk)
    except OSError as exc:
        raise DownloadError(f"cannot write {path}: {exc.strerror or exc}") from exc


def _remove(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        raise DownloadError(f"cannot delete {path}: {exc.strerror or exc}") from exc


def _publish(part: Path, final: Path) -> None:
    """Make the verified ``.part`` durable, then give it its name in one atomic step."""
    try:
        with part.open("rb+") as f:
            os.fsync(f.fileno())
        os.replace(part, final)
    except OSError as exc:
        raise DownloadError(f"cannot move {part} to {final}: {exc.strerror or exc}") from exc
