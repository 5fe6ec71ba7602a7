"""``articles.record_sha256``: a digest of each row's values, to tell a changed record.

The encoding is defined by the values, never by Arrow or Parquet bytes, so it
does not depend on how rows were cut into batches or chunks, on the path that
built them (E-utilities or bulk files), or on the library versions:

    sha256( UTF-8 bytes of the JSON object {column: value} of the row )

- every column of the row but ``record_sha256`` itself, keyed by its name;
  a column whose value is null is left out, so a nullable column added later
  changes the digest only of the rows that have a value in it;
- keys sorted (nested struct keys too), no whitespace, non-ASCII characters as
  themselves (not ``\\u`` escapes);
- strings, whole numbers and booleans as JSON has them; dates as
  ``"YYYY-MM-DD"``; lists as arrays; structs as objects of all their fields
  (null as ``null``).

It equals ``hashlib.sha256(json.dumps(row, sort_keys=True, separators=(",", ":"),
ensure_ascii=False).encode()).hexdigest()`` with dates as ISO strings
(tests/load/test_record_hash.py holds them equal).
"""

from __future__ import annotations

import hashlib

import orjson
import pyarrow as pa

COLUMN = "record_sha256"


def record_sha256(table: pa.Table) -> pa.Array:
    """One hex sha256 per row of ``table``, over all its columns (see the module)."""
    names = [n for n in table.column_names if n != COLUMN]
    # Column to Python values in C, one column at a time; a Python step per row only
    # to drop nulls, dump (orjson, in C) and hash.
    columns = [table.column(n).to_pylist() for n in names]
    dumps, sort, sha256 = orjson.dumps, orjson.OPT_SORT_KEYS, hashlib.sha256
    digests = [
        sha256(
            dumps({k: v for k, v in zip(names, row, strict=True) if v is not None}, option=sort)
        ).hexdigest()
        for row in zip(*columns, strict=True)
    ]
    return pa.array(digests, pa.string())
