import hashlib

import pytest

from pipeline.errors import RawStoreCorruptError
from pipeline.extract.objects import ObjectStore, compress, decompress

BODY = b"<eSearchResult><Count>3</Count></eSearchResult>" * 20
SHA = hashlib.sha256(BODY).hexdigest()


def test_the_same_body_always_compresses_to_the_same_bytes():
    assert compress(BODY) == compress(BODY)
    assert decompress(compress(BODY)) == BODY
    assert len(compress(BODY)) < len(BODY)


def test_an_object_is_written_once_and_again_only_when_damaged(tmp_path):
    objects = ObjectStore(tmp_path)
    assert objects.write(SHA, BODY) is True
    assert objects.write(SHA, BODY) is False
    objects.path(SHA).write_bytes(b"not zstd")
    assert objects.write(SHA, BODY) is True
    assert objects.read(SHA, what="esearch") == BODY


def test_reading_an_absent_object_gives_none_and_a_damaged_one_names_it(tmp_path):
    objects = ObjectStore(tmp_path)
    assert objects.read(SHA, what="esearch") is None
    objects.path(SHA).write_bytes(compress(BODY + b" "))
    with pytest.raises(RawStoreCorruptError, match="not its name") as info:
        objects.read(SHA, what="esearch db=pubmed")
    assert info.value.path == str(objects.path(SHA))
    assert "esearch db=pubmed" in str(info.value)
