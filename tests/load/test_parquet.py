"""Every Parquet file we write carries page checksums, and every read verifies them."""

from __future__ import annotations

import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
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


def test_a_streamed_part_is_one_row_group_whatever_its_length(tmp_path):
    long = pa.table({"pmid": pa.array(range(1_100_000), pa.int64())})  # over pyarrow's 1Mi
    write_parquet_stream(long.schema, [long, long.slice(0, 7)], tmp_path / "long.parquet")
    groups = pq.ParquetFile(tmp_path / "long.parquet").metadata
    assert [groups.row_group(i).num_rows for i in range(groups.num_row_groups)] == [1_100_000, 7]


def test_a_streamed_part_gives_the_same_bytes_however_its_rows_are_chunked(tmp_path):
    # Some 3 MB of text: more than one data page, so pages are cut where batches end.
    rng = random.Random(1)
    text = ["".join(rng.choice("abcdefgh") for _ in range(1500)) for _ in range(2000)]
    whole = pa.table({"abstract": pa.array(text)})
    chunked = pa.Table.from_batches(whole.to_batches(max_chunksize=777))
    write_parquet_stream(whole.schema, [whole], tmp_path / "whole.parquet")
    write_parquet_stream(whole.schema, [chunked], tmp_path / "chunked.parquet")
    assert (tmp_path / "chunked.parquet").read_bytes() == (tmp_path / "whole.parquet").read_bytes()
