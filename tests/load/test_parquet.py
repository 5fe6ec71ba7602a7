"""Every Parquet file we write carries page checksums, and every read verifies them."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from pipeline.errors import SnapshotError, VerifyError
from pipeline.load.parquet import read_parquet, work_writer, write_parquet, write_parquet_stream
from tests.support import flip_a_data_page_byte

TABLE = pa.table({"pmid": pa.array([1, 2, 3], pa.int64()), "who": ["Essajee NM", "Dai Y", "X"]})


def _published(path: Path) -> None:
    write_parquet(TABLE, path)


def _streamed(path: Path) -> None:
    write_parquet_stream(TABLE.schema, [TABLE], path)


def _work(path: Path) -> None:
    with work_writer(path, TABLE.schema) as writer:
        writer.write_table(TABLE)


@pytest.mark.parametrize("write", [_published, _streamed, _work])
def test_a_byte_changed_in_a_data_page_fails_its_checksum(tmp_path, write):
    path = tmp_path / "t.parquet"
    write(path)
    assert read_parquet(path, "t.parquet").equals(TABLE)
    flip_a_data_page_byte(path, 1)
    with pytest.raises(SnapshotError, match=r"t\.parquet.*CRC checksum verification failed"):
        read_parquet(path, "t.parquet")


def test_the_error_class_is_the_callers(tmp_path):
    path = tmp_path / "t.parquet"
    path.write_bytes(b"not parquet at all")
    with pytest.raises(VerifyError, match="not a readable Parquet file"):
        read_parquet(path, "t.parquet", VerifyError)
