"""The shipped demo raw store is exactly what the recorder makes from the demo dataset."""

from pathlib import Path

from tests.fakes.record_demo import record, request_table

SHIPPED = Path(__file__).resolve().parents[1] / "pipeline" / "demo" / "raw"


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_shipped_demo_store_matches_a_fresh_recording(tmp_path):
    record(tmp_path / "raw")
    fresh, shipped = _files(tmp_path / "raw"), _files(SHIPPED)
    assert sorted(fresh) == sorted(shipped)
    changed = [name for name in fresh if fresh[name] != shipped[name]]
    assert changed == [], "re-record with: python -m tests.fakes.record_demo pipeline/demo/raw"


def test_the_demo_readme_lists_every_recorded_request():
    readme = (SHIPPED.parent / "README.md").read_text("utf-8")
    assert request_table(SHIPPED) in readme
