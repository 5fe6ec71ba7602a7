"""The downloader against a loopback file server (real HTTP on 127.0.0.1, faults on demand)."""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

from pipeline.errors import (
    HttpStatusError,
    NcbiError,
    ResponseFormatError,
    RetriesExhaustedError,
    UsageError,
)
from pipeline.extract.download import (
    Downloader,
    file_name,
    parse_index,
    parse_md5,
    remote_url,
    select,
)
from pipeline.extract.ratelimit import RateLimiter
from tests.support import retry_policy

BASELINE = "pubmed/baseline"
NAME = "pubmed26n0001.xml.gz"
REMOTE = f"{BASELINE}/{NAME}"
# Not gzip: the downloader never looks inside; 300 kB so that chunks and offsets matter.
BODY = bytes(range(256)) * 1200
STALL_BYTES = 1000


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def ncbi_md5(name: str, data: bytes) -> bytes:
    """NCBI's format, as in ../shared/ncbi-samples/bulk/pubmed26n1334.xml.gz.md5."""
    return f"MD5({name})= {md5(data)}\n".encode()


@dataclass
class Seen:
    path: str
    range: str | None
    status: int = 0
    sent: int = 0  # body bytes written


@dataclass
class FakeFtp:
    """Files by path; ``faults[path]`` is consumed one per request: 503, stall, cut."""

    files: dict[str, bytes] = field(default_factory=dict)
    no_range: set[str] = field(default_factory=set)
    faults: dict[str, list[str]] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    base_url: str = ""

    def add(self, path: str, data: bytes, *, md5_text: bytes | None = None) -> None:
        self.files[path] = data
        self.files[path + ".md5"] = (
            ncbi_md5(path.rsplit("/", 1)[-1], data) if md5_text is None else md5_text
        )

    def requests(self, path: str) -> list[Seen]:
        return [s for s in self.seen if s.path == "/" + path]


def make_handler(fake: FakeFtp) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format, *args):  # quiet test output
            pass

        def do_GET(self):
            path = urlsplit(self.path).path
            seen = Seen(path, self.headers.get("Range"))
            fake.seen.append(seen)
            queue = fake.faults.get(path.lstrip("/"), [])
            fault = queue.pop(0) if queue else None
            if fault == "503":
                return self.reply(seen, 503, b"busy", {"Retry-After": "0"})
            if path.endswith("/"):
                return self.reply(seen, 200, self.index(path).encode(), {})
            data = fake.files.get(path.lstrip("/"))
            if data is None:
                return self.reply(seen, 404, b"not found", {})
            if fault in ("stall", "cut"):
                return self.broken(seen, data, fault)
            ranged = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range") or "")
            if ranged is None or path.lstrip("/") in fake.no_range:
                return self.reply(seen, 200, data, {})
            start = int(ranged.group(1))
            if start >= len(data):
                return self.reply(seen, 416, b"", {"Content-Range": f"bytes */{len(data)}"})
            content_range = f"bytes {start}-{len(data) - 1}/{len(data)}"
            return self.reply(seen, 206, data[start:], {"Content-Range": content_range})

        def reply(self, seen: Seen, status: int, body: bytes, headers: dict[str, str]) -> None:
            seen.status = status
            self.send_response(status)
            for key, value in {**headers, "Content-Length": str(len(body))}.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)
            seen.sent = len(body)

        def broken(self, seen: Seen, data: bytes, fault: str) -> None:
            """Promise the rest of the file, send a little, then hang (stall) or hang up (cut)."""
            ranged = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range") or "")
            start = int(ranged.group(1)) if ranged else 0
            seen.status = 206 if start else 200
            self.send_response(seen.status)
            if start:
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            self.send_header("Content-Length", str(len(data) - start))
            self.end_headers()
            self.wfile.write(data[start : start + STALL_BYTES])
            self.wfile.flush()
            seen.sent = STALL_BYTES
            if fault == "stall":
                fake.release.wait(5.0)
            self.close_connection = True

        def index(self, path: str) -> str:
            prefix = path.lstrip("/")
            names = sorted(p[len(prefix) :] for p in fake.files if p.startswith(prefix))
            rows = "\n".join(
                f'<a href="{n}">{n}</a>  2025-12-08 14:11  23M' for n in names if "/" not in n
            )
            return (
                f"<html><head><title>Index of {path}</title></head><body><h1>Index of {path}"
                '</h1><pre><a href="?C=N;O=D">Name</a> <a href="?C=M;O=A">Last modified</a>'
                f'\n<hr><a href="../">Parent Directory</a>\n<a href="subdir/">subdir/</a>\n'
                f'<a href="/pub/elsewhere.xml.gz">elsewhere</a>\n{rows}\n</pre></body></html>'
            )

    return Handler


@pytest.fixture
def fake() -> Iterator[FakeFtp]:
    ftp = FakeFtp()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(ftp))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    ftp.base_url = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        yield ftp
    finally:
        ftp.release.set()
        server.shutdown()
        server.server_close()


def downloader(fake: FakeFtp, **kw) -> Downloader:
    kw.setdefault("policy", retry_policy(max_attempts=3, initial_wait=0.0, jitter=0.0))
    kw.setdefault("limiter", RateLimiter(1000.0))
    kw.setdefault("idle_timeout", 2.0)
    kw.setdefault("chunk_size", 64 * 1024)
    return Downloader(fake.base_url, **kw)


# ---------------------------------------------------------------- downloading


def test_a_fresh_download_is_verified_and_lands_under_its_own_name(fake, tmp_path):
    fake.add(REMOTE, BODY)
    progress: list[tuple[str, int, int | None]] = []
    result = downloader(fake, on_progress=lambda *p: progress.append(p)).fetch(REMOTE, tmp_path)
    assert (tmp_path / NAME).read_bytes() == BODY
    assert sorted(p.name for p in tmp_path.iterdir()) == [NAME]
    assert (result.outcome, result.md5, result.bytes_transferred, result.resumed_from) == (
        "downloaded",
        md5(BODY),
        len(BODY),
        0,
    )
    assert [(s.path, s.range) for s in fake.seen] == [
        (f"/{REMOTE}.md5", None),
        (f"/{REMOTE}", None),
    ]
    assert progress[-1] == (NAME, len(BODY), len(BODY))
    assert len(progress) > 1  # streamed in chunks, not read whole


def test_an_interrupted_part_is_resumed_with_a_range_request_for_the_remaining_bytes(
    fake, tmp_path
):
    fake.add(REMOTE, BODY)
    (tmp_path / f"{NAME}.part").write_bytes(BODY[:100_000])
    result = downloader(fake).fetch(REMOTE, tmp_path)
    (get,) = fake.requests(REMOTE)
    assert (get.range, get.status, get.sent) == ("bytes=100000-", 206, len(BODY) - 100_000)
    assert (result.resumed_from, result.bytes_transferred) == (100_000, len(BODY) - 100_000)
    assert (tmp_path / NAME).read_bytes() == BODY
    assert not (tmp_path / f"{NAME}.part").exists()


def test_a_connection_cut_mid_file_is_retried_from_where_it_stopped(fake, tmp_path):
    fake.add(REMOTE, BODY)
    fake.faults[REMOTE] = ["cut"]
    retries: list[int] = []
    result = downloader(fake, on_retry=lambda n, e, w: retries.append(n)).fetch(REMOTE, tmp_path)
    assert [(s.range, s.sent) for s in fake.requests(REMOTE)] == [
        (None, STALL_BYTES),
        (f"bytes={STALL_BYTES}-", len(BODY) - STALL_BYTES),
    ]
    assert retries == [1]
    assert result.bytes_transferred == len(BODY)
    assert (tmp_path / NAME).read_bytes() == BODY


def test_a_stalled_connection_fails_after_the_idle_timeout_and_the_retry_resumes(fake, tmp_path):
    fake.add(REMOTE, BODY)
    fake.faults[REMOTE] = ["stall"]
    errors: list[str] = []
    dl = downloader(fake, idle_timeout=0.3, on_retry=lambda n, e, w: errors.append(str(e)))
    dl.fetch(REMOTE, tmp_path)
    assert errors == [f"no data for 0.3s [{fake.base_url}{REMOTE}]"]
    assert [s.range for s in fake.requests(REMOTE)] == [None, f"bytes={STALL_BYTES}-"]
    assert (tmp_path / NAME).read_bytes() == BODY


def test_a_connection_that_keeps_stalling_gives_up_keeping_the_part_for_next_time(fake, tmp_path):
    fake.add(REMOTE, BODY)
    fake.faults[REMOTE] = ["stall", "stall"]
    dl = downloader(
        fake, idle_timeout=0.2, policy=retry_policy(max_attempts=2, initial_wait=0.0, jitter=0.0)
    )
    with pytest.raises(RetriesExhaustedError) as info:
        dl.fetch(REMOTE, tmp_path)
    assert f"GET {fake.base_url}{REMOTE}" in str(info.value)
    assert info.value.exit_code == 75
    assert not (tmp_path / NAME).exists()
    assert (tmp_path / f"{NAME}.part").stat().st_size == 2 * STALL_BYTES


def test_a_present_verified_file_is_skipped_with_only_the_md5_requested(fake, tmp_path):
    fake.add(REMOTE, BODY)
    (tmp_path / NAME).write_bytes(BODY)
    result = downloader(fake).fetch(REMOTE, tmp_path)
    assert (result.outcome, result.bytes_transferred) == ("skipped", 0)
    assert [s.path for s in fake.seen] == [f"/{REMOTE}.md5"]


def test_a_present_file_with_other_content_is_replaced_by_a_verified_download(fake, tmp_path):
    fake.add(REMOTE, BODY)
    (tmp_path / NAME).write_bytes(b"last week's file")
    assert downloader(fake).fetch(REMOTE, tmp_path).outcome == "downloaded"
    assert (tmp_path / NAME).read_bytes() == BODY


def test_a_bad_md5_fails_naming_the_file_and_both_digests_and_leaves_no_file(fake, tmp_path):
    wrong = "0" * 32
    fake.add(REMOTE, BODY, md5_text=f"MD5({NAME})= {wrong}\n".encode())
    with pytest.raises(ResponseFormatError) as info:
        downloader(fake).fetch(REMOTE, tmp_path)
    message = str(info.value)
    assert message.startswith(f"{NAME}: md5 mismatch: the .md5 file says {wrong}")
    assert f"the download has {md5(BODY)}" in message
    assert list(tmp_path.iterdir()) == []
    # Retried once from zero, asking for the checksum again in case NCBI replaced the file.
    assert [(s.path, s.range) for s in fake.seen] == [
        (f"/{REMOTE}.md5", None),
        (f"/{REMOTE}", None),
        (f"/{REMOTE}.md5", None),
        (f"/{REMOTE}", None),
    ]


def test_a_server_answering_200_to_a_range_request_restarts_the_file_from_zero(fake, tmp_path):
    fake.add(REMOTE, BODY)
    fake.no_range.add(REMOTE)
    (tmp_path / f"{NAME}.part").write_bytes(b"stale bytes from another version")
    result = downloader(fake).fetch(REMOTE, tmp_path)
    (get,) = fake.requests(REMOTE)
    assert (get.range, get.status) == ("bytes=32-", 200)
    assert (tmp_path / NAME).read_bytes() == BODY
    assert result.bytes_transferred == len(BODY)


def test_a_part_already_complete_is_verified_and_renamed_after_a_416(fake, tmp_path):
    fake.add(REMOTE, BODY)
    (tmp_path / f"{NAME}.part").write_bytes(BODY)
    result = downloader(fake).fetch(REMOTE, tmp_path)
    assert [s.status for s in fake.requests(REMOTE)] == [416]
    assert (result.outcome, result.bytes_transferred) == ("downloaded", 0)
    assert (tmp_path / NAME).read_bytes() == BODY


def test_a_part_longer_than_the_file_is_discarded_and_downloaded_again(fake, tmp_path):
    fake.add(REMOTE, BODY)
    (tmp_path / f"{NAME}.part").write_bytes(BODY + b"extra")
    downloader(fake).fetch(REMOTE, tmp_path)
    assert [(s.status, s.range) for s in fake.requests(REMOTE)] == [
        (416, f"bytes={len(BODY) + 5}-"),
        (200, None),
    ]
    assert (tmp_path / NAME).read_bytes() == BODY


@pytest.mark.parametrize("path", [REMOTE, f"{REMOTE}.md5"])
def test_a_503_is_retried_after_the_servers_retry_after_then_succeeds(fake, tmp_path, path):
    fake.add(REMOTE, BODY)
    fake.faults[path] = ["503"]
    waits: list[float] = []
    downloader(fake, sleep=waits.append).fetch(REMOTE, tmp_path)
    assert [s.status for s in fake.requests(path)] == [503, 200]
    assert waits == [0.0]
    assert (tmp_path / NAME).read_bytes() == BODY


def test_a_missing_file_is_an_http_404_naming_its_url(fake, tmp_path):
    fake.files[f"{REMOTE}.md5"] = ncbi_md5(NAME, BODY)
    with pytest.raises(HttpStatusError) as info:
        downloader(fake).fetch(REMOTE, tmp_path)
    assert str(info.value) == f"HTTP 404 [{fake.base_url}{REMOTE}]"
    assert info.value.exit_code == 69


def test_a_missing_md5_fails_unless_unverified_downloads_are_allowed(fake, tmp_path):
    fake.files[REMOTE] = BODY
    with pytest.raises(NcbiError, match=f"{NAME}: NCBI publishes no checksum"):
        downloader(fake).fetch(REMOTE, tmp_path)
    assert fake.requests(REMOTE) == []
    result = downloader(fake, require_md5=False).fetch(REMOTE, tmp_path)
    assert (result.outcome, result.md5) == ("downloaded", None)
    assert (tmp_path / NAME).read_bytes() == BODY


def test_fetch_all_downloads_each_file_in_turn(fake, tmp_path):
    paths = [f"{BASELINE}/pubmed26n000{i}.xml.gz" for i in (1, 2)]
    for i, path in enumerate(paths):
        fake.add(path, BODY[i:])
    results = downloader(fake).fetch_all(paths, tmp_path / "new" / "dir")
    assert [r.path.read_bytes() for r in results] == [BODY, BODY[1:]]


# ---------------------------------------------------------------- listing


def test_listing_keeps_only_the_files_of_the_directory_whose_names_match(fake):
    for n in ("0001", "0002"):
        fake.add(f"{BASELINE}/pubmed26n{n}.xml.gz", BODY[:10])
    fake.files[f"{BASELINE}/README.txt"] = b"readme"
    found = downloader(fake).list_directory(BASELINE, r"pubmed26n\d{4}\.xml\.gz")
    assert found == (f"{BASELINE}/pubmed26n0001.xml.gz", f"{BASELINE}/pubmed26n0002.xml.gz")
    assert [s.path for s in fake.seen] == [f"/{BASELINE}/"]


def test_parse_index_ignores_parent_sort_subdirectory_and_foreign_links():
    page = (
        '<a href="?C=N;O=D">Name</a><a href="../">Parent</a><a href="sub/">sub/</a>'
        '<a href="/pub/x.gz">x</a><a href="https://elsewhere.org/y.gz">y</a>'
        '<A HREF=\'b%20c.gz\'>b c</A> <a href="a.xml.gz">a</a> <a href="a.xml.gz">again</a>'
        '<a href="q&amp;r.txt">q&amp;r</a>'
    )
    assert parse_index(page) == ("a.xml.gz", "b c.gz", "q&r.txt")


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (r"pubmed26n\d{4}\.xml\.gz", ("pubmed26n0001.xml.gz",)),
        (r"pubmed26n\d{4}\.xml\.gz(\.md5)?", ("pubmed26n0001.xml.gz", "pubmed26n0001.xml.gz.md5")),
        (r".*\.txt", ("README.txt",)),
    ],
)
def test_select_matches_the_whole_name(pattern, expected):
    names = ("README.txt", "pubmed26n0001.xml.gz", "pubmed26n0001.xml.gz.md5")
    assert select(names, pattern) == expected


def test_a_bad_pattern_is_a_usage_error_naming_it():
    with pytest.raises(UsageError, match=r"bad file pattern '\('"):
        select(["a"], "(")


# ---------------------------------------------------------------- pure helpers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"MD5({NAME})= 3CF53BA34FF73126E42D1D8391330E73\n", "3cf53ba34ff73126e42d1d8391330e73"),
        (f"3cf53ba34ff73126e42d1d8391330e73  {NAME}\n", "3cf53ba34ff73126e42d1d8391330e73"),
        (f"3cf53ba34ff73126e42d1d8391330e73 *{NAME}\n", "3cf53ba34ff73126e42d1d8391330e73"),
        ("3cf53ba34ff73126e42d1d8391330e73\n", "3cf53ba34ff73126e42d1d8391330e73"),
        (
            f"MD5(other.xml.gz)= {'a' * 32}\nMD5({NAME})= {'b' * 32}\n",
            "b" * 32,
        ),
    ],
)
def test_parse_md5_reads_ncbi_and_md5sum_formats(text, expected):
    assert parse_md5(text, NAME) == expected


@pytest.mark.parametrize(
    "text",
    [f"MD5(other.xml.gz)= {'a' * 32}\n", "<html>Not Found</html>", "", "MD5(x)= 123\n"],
)
def test_parse_md5_refuses_a_file_without_this_files_digest(text):
    with pytest.raises(ResponseFormatError, match=f"x.md5: no md5 for {NAME}"):
        parse_md5(text, NAME, source="x.md5")


@pytest.mark.samples
def test_a_real_ncbi_file_and_its_md5_file_download_and_verify(fake, tmp_path, samples):
    # Served as read from ../shared/ncbi-samples at test time (not copied into the project).
    name = "pubmed26n1334.xml.gz"
    sample = samples / "bulk" / name
    fake.files[f"pubmed/updatefiles/{name}"] = sample.read_bytes()
    fake.files[f"pubmed/updatefiles/{name}.md5"] = (sample.parent / f"{name}.md5").read_bytes()
    result = downloader(fake).fetch(f"pubmed/updatefiles/{name}", tmp_path)
    assert result.md5 == "3cf53ba34ff73126e42d1d8391330e73"
    assert (tmp_path / name).read_bytes() == sample.read_bytes()


@pytest.mark.parametrize(
    "path", ["", "pubmed/", "../etc/passwd", "a/./b", "https://x.org/a.gz", "a\\b.gz"]
)
def test_a_remote_path_that_is_not_a_plain_file_path_is_a_usage_error(path):
    with pytest.raises(UsageError, match="must be a file path under the base URL"):
        file_name(path)


def test_remote_urls_join_base_and_path_with_one_slash():
    assert remote_url("https://ftp.ncbi.nlm.nih.gov", "/pub/medgen/NAMES.RRF.gz") == (
        "https://ftp.ncbi.nlm.nih.gov/pub/medgen/NAMES.RRF.gz"
    )
    with pytest.raises(UsageError, match="must start with https://"):
        Downloader("ftp://ftp.ncbi.nlm.nih.gov/", policy=retry_policy())
