"""The digest cache of input files: a digest is reused only while the file system says
the file is the very one that was hashed, and a file changed since is read again."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from pipeline.extract.bulk_files import file_digest
from pipeline.extract.input_digests import InputDigests


def _file(path: Path, body: bytes) -> Path:
    path.write_bytes(body)
    return path


def test_a_digest_is_read_once_and_then_reused_from_the_cache(tmp_path):
    data = _file(tmp_path / "pubmed26n0001.xml.gz", b"x" * 1000)
    cache = tmp_path / "cache.json"
    first = InputDigests.load(cache, racy_seconds=0)
    assert first.digest(data) == file_digest(data)
    assert first.hashed == 1
    first.save()
    again = InputDigests.load(cache, racy_seconds=0)
    assert again.digest(data) == file_digest(data)
    assert again.hashed == 0  # from the cache


def _cached(tmp_path: Path) -> tuple[Path, Path, str]:
    """A file hashed and cached: the file, the cache and the sha256 cached."""
    data = _file(tmp_path / "f.xml.gz", b"a" * 100)
    cache = tmp_path / "cache.json"
    digests = InputDigests.load(cache, racy_seconds=0)
    _, sha256 = digests.digest(data)
    digests.save()
    return data, cache, sha256


def test_a_file_changed_with_its_size_and_mtime_kept_is_hashed_again(tmp_path):
    data, cache, before = _cached(tmp_path)
    stat = data.stat()
    time.sleep(0.05)  # past the coarse tick of its change time (the racy window's job, off here)
    data.write_bytes(b"b" * 100)  # same size ...
    os.utime(data, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # ... and mtime set back
    later = InputDigests.load(cache, racy_seconds=0)
    assert later.digest(data) == file_digest(data)
    assert file_digest(data)[1] != before
    assert later.hashed == 1


def test_a_file_changed_just_before_it_was_hashed_is_not_cached(tmp_path):
    # The change time ticks coarsely: a file written within the racy window could be
    # written again within the same tick, so its digest is not trusted next time.
    data = _file(tmp_path / "f.xml.gz", b"a" * 100)
    digests = InputDigests.load(tmp_path / "cache.json")  # the default window, 2 s
    digests.digest(data)
    assert digests.known == {}
    assert not digests.changed


def test_verify_hashes_every_file_whatever_the_cache_says(tmp_path):
    data, cache, _ = _cached(tmp_path)
    strict = InputDigests.load(cache, verify=True, racy_seconds=0)
    strict.digest(data)
    assert strict.hashed == 1


def test_an_unreadable_cache_is_started_afresh_and_says_so(tmp_path, caplog):
    data = _file(tmp_path / "f.xml.gz", b"a" * 100)
    cache = tmp_path / "cache.json"
    cache.write_text("{not json")
    with caplog.at_level(logging.WARNING):
        digests = InputDigests.load(cache, racy_seconds=0)
    assert "every input file is hashed again" in caplog.text
    assert digests.digest(data) == file_digest(data)
    digests.save()
    assert InputDigests.load(cache).known  # rewritten whole
