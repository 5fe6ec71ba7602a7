"""The shipped demo raw store is exactly what the recorder makes from the demo dataset."""

import hashlib
import json
from pathlib import Path

from pipeline.extract.objects import decompress
from pipeline.extract.rawstore import OBJECTS
from tests.fakes.record_demo import record, request_table

SHIPPED = Path(__file__).resolve().parents[1] / "pipeline" / "demo" / "raw"
RERECORD = "re-record with: python -m tests.fakes.record_demo pipeline/demo/raw"


def _contents(root: Path) -> dict[str, object]:
    """Every file by its path: an object as the body it decompresses to, a JSON file
    as its value. Compressed bytes may differ between zstandard releases; these may not."""
    out: dict[str, object] = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        if rel.startswith(f"{OBJECTS}/"):
            out[rel] = decompress(path.read_bytes())
        else:
            out[rel] = json.loads(path.read_text("utf-8"))
    return out


def test_shipped_demo_store_matches_a_fresh_recording(tmp_path):
    record(tmp_path / "raw")
    fresh, shipped = _contents(tmp_path / "raw"), _contents(SHIPPED)
    assert sorted(fresh) == sorted(shipped), RERECORD
    changed = [name for name in fresh if fresh[name] != shipped[name]]
    assert changed == [], RERECORD


def test_every_shipped_object_is_named_by_the_sha256_of_its_body():
    objects = sorted((SHIPPED / OBJECTS).iterdir())
    assert objects
    for path in objects:
        assert hashlib.sha256(decompress(path.read_bytes())).hexdigest() == path.name


def test_the_demo_store_keeps_its_provenance_marker():
    marker = json.loads((SHIPPED / "provenance.json").read_text("utf-8"))
    assert marker["source"] == "demo"


def test_the_demo_readme_lists_every_recorded_request():
    readme = (SHIPPED.parent / "README.md").read_text("utf-8")
    assert request_table(SHIPPED) in readme
