"""Every disk failure is a StorageError that says whose storage failed."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline import errors
from pipeline.extract.bulk_files import read_links
from pipeline.extract.download import file_md5

STORAGE = (
    errors.SnapshotError,
    errors.RawStoreError,
    errors.InputFileError,
    errors.DownloadError,
    errors.ReportError,
)
# Reading it fails with EIO at offset 0: a disk read failure without a broken disk.
UNREADABLE = Path("/proc/self/mem")


def test_every_kind_of_storage_has_its_own_error_and_subject():
    assert all(issubclass(kind, errors.StorageError) for kind in STORAGE)
    assert len({kind.subject for kind in STORAGE}) == len(STORAGE)
    assert errors.RawStoreCorruptError.subject == "raw store"


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        *((kind, 74) for kind in STORAGE),
        (errors.ForeignPathError, 74),
        (errors.RawStoreCorruptError, 74),
        (errors.NoSnapshotError, 66),
        (errors.VerifyError, 65),
    ],
)
def test_the_storage_errors_keep_their_exit_codes(kind, code):
    assert kind.exit_code == code


@pytest.mark.skipif(not UNREADABLE.exists(), reason="needs /proc")
def test_a_medgen_file_the_disk_cannot_read_is_an_input_file_error():
    with pytest.raises(errors.InputFileError, match="cannot read /proc/self/mem"):
        read_links(UNREADABLE, cuis={"C4725027"}, uids=set())


@pytest.mark.skipif(not UNREADABLE.exists(), reason="needs /proc")
def test_a_download_the_disk_cannot_read_is_a_download_error():
    with pytest.raises(errors.DownloadError, match="cannot read /proc/self/mem"):
        file_md5(UNREADABLE)
